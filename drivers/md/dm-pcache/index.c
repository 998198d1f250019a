// SPDX-License-Identifier: GPL-2.0
/*
 * The striped key index.  See index.h.
 */
#include <linux/atomic.h>
#include <linux/blk_types.h>
#include <linux/bug.h>
#include <linux/slab.h>

#include "index.h"

/**
 * pcache_overlap_classify() - relation of a present range to a new one
 * @old_start: first sector of the present range
 * @old_end: sector after it
 * @new_start: first sector of the new range
 * @new_end: sector after it
 *
 * Return: the relation, PCACHE_OV_*.
 */
enum pcache_overlap pcache_overlap_classify(u64 old_start, u64 old_end,
					    u64 new_start, u64 new_end)
{
	if (old_end <= new_start || old_start >= new_end)
		return PCACHE_OV_NONE;
	if (old_start >= new_start)
		return old_end <= new_end ? PCACHE_OV_INSIDE : PCACHE_OV_TAIL;
	return old_end <= new_end ? PCACHE_OV_HEAD : PCACHE_OV_AROUND;
}

/**
 * pcache_key_trim_front() - drop a key's sectors before @start
 * @k: key
 * @start: new first sector, inside the key
 *
 * A trimmed key no longer matches its stored data CRC, so it loses it.
 */
void pcache_key_trim_front(struct pcache_key_info *k, u64 start)
{
	u32 cut = start - k->lba;

	k->lba = start;
	k->sectors -= cut;
	if (pcache_key_has_data(k))
		k->seg_off += cut << SECTOR_SHIFT;
	k->flags &= ~PCACHE_KEY_CRC;
}

/**
 * pcache_key_trim_back() - drop a key's sectors from @end on
 * @k: key
 * @end: new end sector, inside the key
 */
void pcache_key_trim_back(struct pcache_key_info *k, u64 end)
{
	k->sectors = end - k->lba;
	k->flags &= ~PCACHE_KEY_CRC;
}

static u64 max_seq(u64 a, u64 b)
{
	return pcache_seq_after(a, b) ? a : b;
}

static u64 key_end(const struct pcache_key_info *k)
{
	return k->lba + k->sectors;
}

/*
 * Every key with data that enters the tree takes a reference on its
 * segment and every one that leaves drops it, all under the subtree's lock;
 * a key whose data moves trades one for the other.  A segment nothing
 * references can be reclaimed once nothing else pins it (see writeback.c).
 */
static void ref_get(struct pcache_subtree *t, const struct pcache_key_info *k)
{
	if (t->refs && pcache_key_has_data(k))
		atomic_inc(&t->refs[k->seg]);
}

static void ref_put(struct pcache_subtree *t, const struct pcache_key_info *k)
{
	if (t->refs && pcache_key_has_data(k))
		WARN_ON_ONCE(atomic_dec_return(&t->refs[k->seg]) < 0);
}

static void tree_link(struct pcache_subtree *t, struct pcache_key *n)
{
	struct rb_node **p = &t->root.rb_node, *parent = NULL;

	while (*p) {
		parent = *p;
		if (n->k.lba < rb_entry(parent, struct pcache_key, node)->k.lba)
			p = &parent->rb_left;
		else
			p = &parent->rb_right;
	}
	rb_link_node(&n->node, parent, p);
	rb_insert_color(&n->node, &t->root);
	ref_get(t, &n->k);
}

/* Where a key starting at the sector looked up would be linked. */
struct pcache_link {
	struct rb_node *parent;
	struct rb_node **p;
};

/*
 * The first key that ends after @lba, or NULL.  One descent finds it: the
 * last key starting at or before @lba, else the last node the descent
 * passed on its left, which is the first key starting after @lba.  The
 * descent compares as tree_link() does, so it also ends where a key
 * starting at @lba belongs; @at, if not NULL, is set to that place.
 */
static struct rb_node *first_ending_after(struct pcache_subtree *t, u64 lba,
					  struct pcache_link *at)
{
	struct rb_node **p = &t->root.rb_node, *parent = NULL;
	struct rb_node *best = NULL, *after = NULL;

	while (*p) {
		parent = *p;
		if (rb_entry(parent, struct pcache_key, node)->k.lba <= lba) {
			best = parent;
			p = &parent->rb_right;
		} else {
			after = parent;
			p = &parent->rb_left;
		}
	}
	if (at) {
		at->parent = parent;
		at->p = p;
	}
	if (best && key_end(&rb_entry(best, struct pcache_key, node)->k) > lba)
		return best;
	return after;
}

/* A newer present key @e keeps its range: @n gives way around it. */
static int give_way(struct pcache_subtree *t, struct pcache_key *n,
		    struct pcache_key *e, pcache_key_alloc_t alloc, void *ctx,
		    bool *done)
{
	struct pcache_key *piece;

	if (e->k.lba > n->k.lba && !(n->k.flags & PCACHE_KEY_TOMBSTONE)) {
		piece = alloc(ctx);
		if (!piece)
			return -ENOMEM;
		piece->k = n->k;
		pcache_key_trim_back(&piece->k, e->k.lba);
		tree_link(t, piece);
	}
	*done = key_end(&e->k) >= key_end(&n->k);
	if (!*done)
		pcache_key_trim_front(&n->k, key_end(&e->k));
	return 0;
}

/* @n is newer than the present key @e: cut @e back. */
static int make_room(struct pcache_subtree *t, struct pcache_key *n,
		     struct pcache_key *e, pcache_key_alloc_t alloc, void *ctx,
		     mempool_t *pool)
{
	struct pcache_key *tail;

	switch (pcache_overlap_classify(e->k.lba, key_end(&e->k), n->k.lba,
					key_end(&n->k))) {
	case PCACHE_OV_INSIDE:
		rb_erase(&e->node, &t->root);
		ref_put(t, &e->k);
		mempool_free(e, pool);
		break;
	case PCACHE_OV_HEAD:
		pcache_key_trim_back(&e->k, n->k.lba);
		break;
	case PCACHE_OV_TAIL:
		pcache_key_trim_front(&e->k, key_end(&n->k));
		break;
	case PCACHE_OV_AROUND:
		tail = alloc(ctx);
		if (!tail)
			return -ENOMEM;
		tail->k = e->k;
		pcache_key_trim_front(&tail->k, key_end(&n->k));
		pcache_key_trim_back(&e->k, n->k.lba);
		tree_link(t, tail);
		break;
	case PCACHE_OV_NONE:
		break;
	}
	return 0;
}

/*
 * An overwrite of exactly the sectors of an older key, the common case of
 * random writes: the older key takes the new one's range and data in
 * place, with no allocation, no free and no rebalancing.  Keys never
 * overlap, so nothing else is affected.
 */
static bool overwrite_same(struct pcache_subtree *t, struct pcache_key *e,
			   const struct pcache_key *n)
{
	if (e->k.lba != n->k.lba || e->k.sectors != n->k.sectors ||
	    pcache_seq_after(e->k.seq, n->k.seq) ||
	    (n->k.flags & PCACHE_KEY_TOMBSTONE))
		return false;
	/* get before put: a count never dips to zero while a key holds it */
	ref_get(t, &n->k);
	ref_put(t, &e->k);
	e->k = n->k;
	return true;
}

/**
 * pcache_subtree_insert() - insert a key, resolving overlaps by sequence
 * @t: subtree covering all of @n, locked by the caller (or not yet live)
 * @n: the key; owned by the tree (or freed) afterwards
 * @alloc: source of extra keys for splits
 * @ctx: passed to @alloc
 * @pool: where removed keys go
 * @overlapped: if not NULL, set to whether any present key overlapped @n
 *
 * Present keys older than @n are trimmed, split or removed; present keys
 * newer than @n (found only while replaying) keep their ranges and @n fills
 * the gaps around them.  A tombstone removes what it covers and is not kept.
 * An older key of exactly @n's sectors takes @n's contents instead, and
 * @n itself is not used.
 *
 * Return: 0; 1 if @n was not used and is still the caller's; or -ENOMEM if
 * @alloc ran dry (the tree is still consistent but @n was not inserted).
 */
int pcache_subtree_insert(struct pcache_subtree *t, struct pcache_key *n,
			  pcache_key_alloc_t alloc, void *ctx,
			  mempool_t *pool, bool *overlapped)
{
	struct pcache_link at;
	struct rb_node *node = first_ending_after(t, n->k.lba, &at), *next;
	struct pcache_key *e;
	bool done = false, changed = false;
	int ret = 0;

	e = node ? rb_entry(node, struct pcache_key, node) : NULL;
	if (overlapped)
		*overlapped = e && e->k.lba < key_end(&n->k);
	if (e && overwrite_same(t, e, n))
		return 1;
	for (; node && !done; node = next) {
		e = rb_entry(node, struct pcache_key, node);
		if (e->k.lba >= key_end(&n->k))
			break;
		next = rb_next(node);
		changed = true;
		if (pcache_seq_after(e->k.seq, n->k.seq))
			ret = give_way(t, n, e, alloc, ctx, &done);
		else
			ret = make_room(t, n, e, alloc, ctx, pool);
		if (ret)
			break;
	}
	if (ret || done || n->k.flags & PCACHE_KEY_TOMBSTONE) {
		mempool_free(n, pool);
	} else if (changed) {
		tree_link(t, n);
	} else {
		/* nothing overlapped: the descent above found n's place */
		rb_link_node(&n->node, at.parent, at.p);
		rb_insert_color(&n->node, &t->root);
		ref_get(t, &n->k);
	}
	return ret;
}

/**
 * pcache_subtree_lookup() - what covers @lba
 * @t: subtree covering @lba, locked by the caller
 * @lba: sector looked up
 * @end: end of the range of interest (within the subtree's stripe)
 * @hit: on a hit, the whole key that covers @lba
 * @run_end: end of the hit, or of the miss up to the next key
 * @touch: a read: mark the key as read (PCACHE_KEY_HIT)
 *
 * Return: true on a hit.
 */
bool pcache_subtree_lookup(struct pcache_subtree *t, u64 lba, u64 end,
			   struct pcache_key_info *hit, u64 *run_end, bool touch)
{
	struct rb_node *node = first_ending_after(t, lba, NULL);
	struct pcache_key *e;

	*run_end = end;
	if (!node)
		return false;
	e = rb_entry(node, struct pcache_key, node);
	if (e->k.lba > lba) {
		*run_end = min(end, e->k.lba);
		return false;
	}
	/* second chance for GC; the bit is never journaled */
	if (touch)
		e->k.flags |= PCACHE_KEY_HIT;
	*hit = e->k;
	*run_end = min(end, key_end(&e->k));
	return true;
}

/* The key that starts at @k's sector with its sequence and length, or NULL */
static struct pcache_key *find_exact(struct pcache_subtree *t,
				     const struct pcache_key_info *k)
{
	struct rb_node *node = first_ending_after(t, k->lba, NULL);
	struct pcache_key *e;

	if (!node)
		return NULL;
	e = rb_entry(node, struct pcache_key, node);
	if (e->k.lba != k->lba || e->k.seq != k->seq ||
	    e->k.sectors != k->sectors)
		return NULL;
	return e;
}

/**
 * pcache_subtree_drop() - remove one key, if it is still in the tree as is
 * @t: subtree, locked by the caller
 * @k: the key as it was looked up
 * @pool: where the key goes
 *
 * Return: true if it was found and removed.
 */
bool pcache_subtree_drop(struct pcache_subtree *t,
			 const struct pcache_key_info *k, mempool_t *pool)
{
	struct pcache_key *e = find_exact(t, k);

	if (!e)
		return false;
	rb_erase(&e->node, &t->root);
	ref_put(t, &e->k);
	mempool_free(e, pool);
	return true;
}

/**
 * pcache_subtree_wb_run() - next part of a journaled key to write back
 * @t: subtree holding @k, locked by the caller
 * @k: a dirty key as it was journaled
 * @from: first sector of interest, inside @k
 * @limit: newer keys up to this sequence number are in @k's flush epoch
 * @start: first sector of the run found
 * @end: sector after it
 *
 * A journaled key's data goes to the backing device where the index still
 * holds it, or dirty data of a newer write that a flush separates from it:
 * writing the older data first keeps the backing device in flush order.
 * Where a newer dirty write of the same flush epoch holds the sectors, the
 * older data is left out (see epoch.h), but only once that write's key is
 * in the journal: a power cut before then loses it, and replay, counting
 * the older key's kset behind the dirty tail as written back, would bring
 * the older data back as clean while the backing device holds what went
 * before it.  Where the index holds clean data or nothing, newer data
 * already reached the backing device and the old copy must not overwrite
 * it.
 *
 * Return: true if a run was found.
 */
bool pcache_subtree_wb_run(struct pcache_subtree *t,
			   const struct pcache_key_info *k, u64 from,
			   u64 limit, u64 *start, u64 *end)
{
	struct rb_node *node = first_ending_after(t, from, NULL);
	u64 kend = key_end(k);
	struct pcache_key *e;
	bool in = false, wanted;

	for (; node; node = rb_next(node)) {
		e = rb_entry(node, struct pcache_key, node);
		if (e->k.lba >= kend)
			break;
		wanted = (e->k.flags & PCACHE_KEY_DIRTY) &&
			 (e->k.seq == k->seq ||
			  (e->k.flags & PCACHE_KEY_OPEN) ||
			  pcache_seq_after(e->k.seq, max_seq(k->seq, limit)));
		if (in && (!wanted || e->k.lba != *end))
			break;
		if (!wanted)
			continue;
		if (!in)
			*start = max(e->k.lba, from);
		*end = min(key_end(&e->k), kend);
		in = true;
	}
	return in;
}

/* The key at @node if it starts before @end, or NULL. */
static struct pcache_key *overlap_next(struct rb_node *node, u64 end)
{
	struct pcache_key *e;

	if (!node)
		return NULL;
	e = rb_entry(node, struct pcache_key, node);
	return e->k.lba < end ? e : NULL;
}

/* Each key overlapping [@lba, @end), in order; the tree is not changed. */
#define for_each_overlap(t, e, lba, end)				\
	for (e = overlap_next(first_ending_after(t, lba, NULL), end); e;	\
	     e = overlap_next(rb_next(&e->node), end))

/**
 * pcache_subtree_dirty() - does the index hold dirty data in a range
 * @t: subtree, locked by the caller
 * @lba: first sector
 * @end: sector after the range
 *
 * Return: true if a dirty key overlaps [@lba, @end).
 */
bool pcache_subtree_dirty(struct pcache_subtree *t, u64 lba, u64 end)
{
	struct pcache_key *e;

	for_each_overlap(t, e, lba, end)
		if (e->k.flags & PCACHE_KEY_DIRTY)
			return true;
	return false;
}

/**
 * pcache_subtree_next_of() - the next indexed piece of one write
 * @t: subtree, locked by the caller
 * @from: first sector of interest
 * @end: end of the range of interest
 * @seq: the write's sequence number
 * @out: the piece found
 *
 * Return: true if a key of sequence @seq overlaps [@from, @end).
 */
bool pcache_subtree_next_of(struct pcache_subtree *t, u64 from, u64 end,
			    u64 seq, struct pcache_key_info *out)
{
	struct pcache_key *e;

	for_each_overlap(t, e, from, end) {
		if (e->k.seq == seq) {
			*out = e->k;
			return true;
		}
	}
	return false;
}

/* Clear @flags on the pieces of the key of sequence @seq in [@lba, @end). */
static void clear_flags(struct pcache_subtree *t, u64 lba, u64 end, u64 seq,
			u32 flags)
{
	struct pcache_key *e;

	for_each_overlap(t, e, lba, end)
		if (e->k.seq == seq)
			e->k.flags &= ~flags;
}

/**
 * pcache_subtree_mark_journaled() - a key's pieces reached the journal
 * @t: subtree, locked by the caller
 * @lba: first sector of the journaled piece
 * @end: sector after it
 * @seq: the key's sequence number
 *
 * Called only once the kset holding the piece is appended: until then a
 * power cut would lose the key, and older data left out for it with it.
 */
void pcache_subtree_mark_journaled(struct pcache_subtree *t, u64 lba,
				   u64 end, u64 seq)
{
	clear_flags(t, lba, end, seq, PCACHE_KEY_OPEN);
}

/**
 * pcache_subtree_mark_clean() - the data of one write reached the backing
 *				 device
 * @t: subtree, locked by the caller
 * @lba: first sector of the written key
 * @end: sector after it
 * @seq: the key's sequence number
 */
void pcache_subtree_mark_clean(struct pcache_subtree *t, u64 lba, u64 end,
			       u64 seq)
{
	clear_flags(t, lba, end, seq, PCACHE_KEY_DIRTY);
}

/**
 * pcache_subtree_evict() - forget clean keys of one journaled key
 * @t: subtree, locked by the caller
 * @lba: first sector of the journaled key
 * @end: sector after it
 * @seq: its sequence number
 * @seg: its data segment (0 for a key without data)
 * @pool: where removed keys go
 *
 * Every clean key of sequence @seq that overlaps the range goes whole:
 * dropping clean data is always safe, and needs no split.  Dirty keys stay,
 * and so do pieces that were moved to another segment since.
 *
 * Return: number of keys removed.
 */
u32 pcache_subtree_evict(struct pcache_subtree *t, u64 lba, u64 end, u64 seq,
			 u32 seg, mempool_t *pool)
{
	struct rb_node *node = first_ending_after(t, lba, NULL), *next;
	struct pcache_key *e;
	u32 n = 0;

	for (; node; node = next) {
		e = rb_entry(node, struct pcache_key, node);
		if (e->k.lba >= end)
			break;
		next = rb_next(node);
		if (e->k.seq != seq || (e->k.flags & PCACHE_KEY_DIRTY) ||
		    (pcache_key_has_data(&e->k) && e->k.seg != seg))
			continue;
		rb_erase(&e->node, &t->root);
		ref_put(t, &e->k);
		mempool_free(e, pool);
		n++;
	}
	return n;
}

/**
 * pcache_subtree_move() - point a key at a copy of its data
 * @t: subtree, locked by the caller
 * @k: the key as it was found, clean
 * @seg: segment of the copy
 * @off: byte offset of the copy in @seg
 * @gen: generation of @seg
 *
 * Only a key still in the tree exactly as found moves: one that was
 * written, trimmed or dropped since keeps what it has, and the copy is
 * simply not used.  The moved key starts without PCACHE_KEY_HIT.
 *
 * Return: true if it moved.
 */
bool pcache_subtree_move(struct pcache_subtree *t,
			 const struct pcache_key_info *k, u32 seg, u32 off,
			 u32 gen)
{
	struct pcache_key *e = find_exact(t, k);

	if (!e || e->k.seg != k->seg || e->k.seg_off != k->seg_off ||
	    (e->k.flags & PCACHE_KEY_DIRTY))
		return false;
	ref_put(t, &e->k);
	e->k.seg = seg;
	e->k.seg_off = off;
	e->k.gen = gen;
	e->k.flags &= ~PCACHE_KEY_HIT;
	ref_get(t, &e->k);
	return true;
}

/**
 * pcache_subtree_clear() - remove every key
 * @t: subtree, no longer in use
 * @pool: where the keys go
 */
void pcache_subtree_clear(struct pcache_subtree *t, mempool_t *pool)
{
	struct pcache_key *e, *tmp;

	rbtree_postorder_for_each_entry_safe(e, tmp, &t->root, node) {
		ref_put(t, &e->k);
		mempool_free(e, pool);
	}
	t->root = RB_ROOT;
}

/**
 * pcache_stripe_end() - first sector of the stripe after @lba's
 * @lba: a sector
 *
 * Return: the stripe boundary.
 */
u64 pcache_stripe_end(u64 lba)
{
	return (lba | (PCACHE_STRIPE_SECTORS - 1)) + 1;
}

/**
 * pcache_index_tree() - the subtree holding @lba
 * @idx: index
 * @lba: a sector below the device's size
 *
 * Return: the subtree.
 */
struct pcache_subtree *pcache_index_tree(struct pcache_index *idx, u64 lba)
{
	return &idx->trees[min_t(u64, lba >> PCACHE_STRIPE_SHIFT, idx->nr - 1)];
}

/**
 * pcache_index_seg_unused() - does no key of the index point into @seg
 * @idx: index
 * @seg: a data segment
 *
 * Keys are added under their subtree's lock only, so a caller that knows
 * no key for @seg is on its way in (the segment is closed and nothing pins
 * it) can trust a zero count after an smp_rmb() that pairs with the full
 * barrier before the pin was dropped.
 *
 * Return: true if no key of the index has data in @seg.
 */
bool pcache_index_seg_unused(struct pcache_index *idx, u32 seg)
{
	return !atomic_read(&idx->refs[seg]);
}

/**
 * pcache_index_init() - an empty index for a device of @sectors
 * @idx: index
 * @sectors: size of the cached device
 * @nr_segs: segments of the cache device, for the reference counts
 * @kc: slab cache of struct pcache_key
 *
 * Return: 0 or -ENOMEM.
 */
int pcache_index_init(struct pcache_index *idx, u64 sectors, u32 nr_segs,
		      struct kmem_cache *kc)
{
	u32 i;
	int ret = -ENOMEM;

	idx->nr = max_t(u64, 1, DIV_ROUND_UP_ULL(sectors, PCACHE_STRIPE_SECTORS));
	idx->nr_segs = nr_segs;
	/* a failure refuses the table with its own message: no allocator trace */
	idx->trees = kvcalloc(idx->nr, sizeof(*idx->trees),
			      GFP_KERNEL | __GFP_NOWARN);
	if (!idx->trees)
		return ret;
	idx->refs = kvcalloc(nr_segs, sizeof(*idx->refs),
			     GFP_KERNEL | __GFP_NOWARN);
	if (!idx->refs)
		goto out_trees;
	for (i = 0; i < idx->nr; i++) {
		spin_lock_init(&idx->trees[i].lock);
		idx->trees[i].root = RB_ROOT;
		idx->trees[i].refs = idx->refs;
	}
	ret = mempool_init_slab_pool(&idx->pool, 4 * num_possible_cpus(), kc);
	if (!ret)
		return 0;
	kvfree(idx->refs);
out_trees:
	kvfree(idx->trees);
	return ret;
}

/**
 * pcache_index_exit() - free every key and the index
 * @idx: index, no longer in use
 */
void pcache_index_exit(struct pcache_index *idx)
{
	u32 i;

	for (i = 0; i < idx->nr; i++)
		pcache_subtree_clear(&idx->trees[i], &idx->pool);
	/* with every key gone, a count left over is a lost or extra update */
	for (i = 0; i < idx->nr_segs; i++)
		if (WARN_ONCE(atomic_read(&idx->refs[i]),
			      "dm-pcache: segment %u: %d index references left\n",
			      i, atomic_read(&idx->refs[i])))
			break;
	mempool_exit(&idx->pool);
	kvfree(idx->refs);
	kvfree(idx->trees);
}
