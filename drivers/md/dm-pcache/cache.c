// SPDX-License-Identifier: GPL-2.0
/*
 * The cache engine: write path, read hits, kset sealing and replay.
 * See cache.h.
 *
 * Ordering rules that make a power cut safe:
 * - a writer persists its data (its own pmem barrier) before its key is
 *   added to an open kset, so no sealed key ever points at data that is
 *   not durable;
 * - a key's sequence number is taken under its subtree's lock, so for two
 *   overlapping keys sequence order is index order, whatever order their
 *   ksets reach the journal in; replay lets the higher sequence win.
 */
#include <linux/bio.h>
#include <linux/crc32.h>
#include <linux/delay.h>
#include <linux/highmem.h>
#include <linux/ktime.h>
#include <linux/slab.h>

#include "pcache.h"
#include "pmem.h"
#include "cache.h"

/**
 * pcache_data_addr() - byte address of data in a segment
 * @c: cache
 * @seg: segment
 * @off: byte offset in it
 *
 * Return: the offset on the cache device.
 */
u64 pcache_data_addr(const struct pcache_cache *c, u32 seg, u32 off)
{
	return c->super->geo.data_off + (u64)seg * PCACHE_SEG_SIZE + off;
}

/**
 * pcache_gc_wanted() - should segments be reclaimed now
 * @c: cache
 *
 * Return: true when usage reached gc_percent or a writer waits for space.
 */
bool pcache_gc_wanted(struct pcache_cache *c)
{
	u64 used = pcache_segalloc_used(&c->sa);

	return used * 100 >= (u64)READ_ONCE(c->super->set.gc_percent) *
			     c->sa.count ||
	       wq_has_sleeper(&c->space_wait);
}

static void kick_gc(struct pcache_cache *c)
{
	struct work_struct *w = READ_ONCE(c->gc_kick);

	if (w)
		queue_work(c->wq, w);
}

static void atomic64_max(atomic64_t *v, u64 val)
{
	s64 old = atomic64_read(v);

	while ((u64)old < val && !atomic64_try_cmpxchg(v, &old, val))
		;
}

static void kset_reset(struct pcache_kset_onmedia *ks)
{
	memset(ks, 0, sizeof(*ks));
}

typedef void (*data_key_fn)(struct pcache_cache *c,
			    const struct pcache_key_info *k, u64 kset_seq,
			    void *ctx);

/* Call @fn for every key of @ks that stays in the index (not a tombstone). */
static void each_live_key(struct pcache_cache *c,
			  const struct pcache_kset_onmedia *ks, data_key_fn fn,
			  void *ctx)
{
	u32 i, count = le16_to_cpu(ks->count);
	struct pcache_key_info k;

	for (i = 0; i < count; i++) {
		pcache_key_decode(&ks->keys[i], &k);
		if (!(k.flags & PCACHE_KEY_TOMBSTONE))
			fn(c, &k, le64_to_cpu(ks->seq), ctx);
	}
}

static void key_dirty_bytes(struct pcache_cache *c,
			    const struct pcache_key_info *k, u64 kset_seq,
			    void *ctx)
{
	u64 *dirty = ctx;

	if (k->flags & PCACHE_KEY_DIRTY)
		*dirty += (u64)k->sectors << SECTOR_SHIFT;
}

static void key_journaled(struct pcache_cache *c,
			  const struct pcache_key_info *k, u64 kset_seq,
			  void *ctx)
{
	struct pcache_subtree *t = pcache_index_tree(&c->idx, k->lba);

	if (pcache_key_has_data(k))
		atomic64_max(&c->segrt[k->seg].wb_seq, kset_seq + 1);
	if (!(k->flags & PCACHE_KEY_DIRTY))
		return;
	spin_lock(&t->lock);
	pcache_subtree_mark_journaled(t, k->lba, k->lba + k->sectors, k->seq);
	spin_unlock(&t->lock);
}

/*
 * Append @ks to the journal; its segments are then needed until written
 * back.  Its dirty bytes are counted before the append: writeback may take
 * the kset as soon as the journal head passes it, and bytes it took off
 * before they were added would stay counted for good.
 */
static int journal_append(struct pcache_cache *c,
			  struct pcache_kset_onmedia *ks)
{
	u64 dirty = 0;
	int ret;

	each_live_key(c, ks, key_dirty_bytes, &dirty);
	atomic64_add(dirty, &c->dirty_bytes);
	ret = pcache_log_append(&c->log, ks);
	if (ret) {
		atomic64_sub(dirty, &c->dirty_bytes);
		return ret;
	}
	pcache_debug_stall(PCACHE_STALL_APPEND);
	atomic64_add(dirty, &c->dirtied);
	each_live_key(c, ks, key_journaled, NULL);
	return 0;
}

static void key_unpin(struct pcache_cache *c, const struct pcache_key_info *k,
		      u64 kset_seq, void *ctx)
{
	if (!pcache_key_has_data(k))
		return;
	/* GC reads pending, then wb_seq */
	smp_mb__before_atomic();
	atomic_dec(&c->segrt[k->seg].pending);
}

/* An open kset was sealed: its keys no longer pin their segments. */
static void kset_unpin(struct pcache_cache *c,
		       const struct pcache_kset_onmedia *ks)
{
	each_live_key(c, ks, key_unpin, NULL);
}

static int seal_add(struct pcache_cache *c, const struct pcache_key_info *k)
{
	struct pcache_kset_onmedia *ks = c->seal_ks;
	u16 count = le16_to_cpu(ks->count);
	int ret;

	if (count == PCACHE_KSET_MAX_KEYS) {
		ret = journal_append(c, ks);
		if (ret)
			return ret;
		kset_reset(ks);
		count = 0;
	}
	pcache_key_encode(&ks->keys[count], k);
	ks->count = cpu_to_le16(count + 1);
	return 0;
}

/* Journal the pieces of @k that the index still holds. */
static int seal_key(struct pcache_cache *c, const struct pcache_key_info *k)
{
	struct pcache_subtree *t = pcache_index_tree(&c->idx, k->lba);
	u64 from = k->lba, end = k->lba + k->sectors;
	struct pcache_key_info p;
	bool found;
	int ret;

	if (k->flags & PCACHE_KEY_TOMBSTONE)
		return seal_add(c, k);
	while (from < end) {
		spin_lock(&t->lock);
		found = pcache_subtree_next_of(t, from, end, k->seq, &p);
		spin_unlock(&t->lock);
		if (!found)
			return 0;
		ret = seal_add(c, &p);
		if (ret)
			return ret;
		from = max(from + 1, p.lba + p.sectors);
	}
	return 0;
}

/*
 * Sealing one open kset (caller holds its lock).
 *
 * Only what the index still holds of each key is journaled.  A part that
 * a newer write replaced while the key was still open belongs to the same
 * flush epoch as that write (a flush seals every open kset), so nothing
 * needs it; journaled, it could come back in a replay that starts after
 * the newer key's kset, once GC has moved the key tail past it.
 */
static int seal_pieces(struct pcache_cache *c,
		       const struct pcache_kset_onmedia *in)
{
	struct pcache_key_info k;
	u32 i, count = le16_to_cpu(in->count);
	int ret = 0;

	kset_reset(c->seal_ks);
	for (i = 0; i < count && !ret; i++) {
		pcache_key_decode(&in->keys[i], &k);
		ret = seal_key(c, &k);
	}
	if (!ret && c->seal_ks->count)
		ret = journal_append(c, c->seal_ks);
	return ret;
}

#define PCACHE_SEAL_TRIES	300	/* 30 s of waiting for GC */

/* The open kset's keys are in the journal (or given up): empty it. */
static void seal_done(struct pcache_cache *c, struct pcache_open_kset *o)
{
	kset_unpin(c, o->ks);
	kset_reset(o->ks);
	/* pairs with pcache_all_clean(): dirty_bytes before the count drops */
	smp_wmb();
	WRITE_ONCE(o->dirty, 0);
}

#define PCACHE_LOCK_POLL_US	50
#define PCACHE_LOCK_POLL_MAX_US	1000
#define PCACHE_LOCK_POLL_MAX	(2 * HZ)

/*
 * Take @m for a write around the cache, which writeback waits for: never
 * while a seal waits for journal space or a writer for index memory (see
 * space_waiters), which writeback and GC may have to free first (see
 * pcache_write_invalidate()).  Other holders are short, and waited out,
 * so that a stream goes around the cache though a seal or a flush was
 * passing; until @until at most (one deadline for the whole commit), as
 * a trylock gets no turn among waiters that sleep on a busy mutex.  The
 * poll's sleeps grow from 50-100 us to 1-2 ms: a short hold costs little
 * latency, a long one little CPU.
 */
static bool lock_unless_space(struct pcache_cache *c, struct mutex *m,
			      unsigned long until)
{
	unsigned long us = PCACHE_LOCK_POLL_US;

	if (mutex_trylock(m))
		return true;
	do {
		if (atomic_read(&c->space_waiters) || time_after(jiffies, until))
			return false;
		usleep_range(us, 2 * us);
		us = min_t(unsigned long, 2 * us, PCACHE_LOCK_POLL_MAX_US);
	} while (!mutex_trylock(m));
	pcache_debug_lock_waited();
	return true;
}

/*
 * Seal without waiting for journal space: for GC, which must never wait
 * for the journal, since the journal may be waiting for GC (@until NULL:
 * not for the lock either), and for a write around the cache (the lock
 * polled until *@until: see lock_unless_space()).  On failure the kset
 * stays open, for a later seal that may wait; pieces appended before the
 * failure stay journaled, and the same keys twice are harmless.
 */
static int seal_try(struct pcache_cache *c, struct pcache_open_kset *o,
		    const unsigned long *until)
{
	int ret;

	if (until ? !lock_unless_space(c, &c->seal_lock, *until) :
		    !mutex_trylock(&c->seal_lock))
		return -EBUSY;
	ret = seal_pieces(c, o->ks);
	mutex_unlock(&c->seal_lock);
	if (ret)
		return -EBUSY;
	seal_done(c, o);
	return 0;
}

/* Does @ks hold a key whose loss a flush must report? */
static bool kset_owed(const struct pcache_kset_onmedia *ks)
{
	u32 i, count = le16_to_cpu(ks->count);
	struct pcache_key_info k;

	for (i = 0; i < count; i++) {
		pcache_key_decode(&ks->keys[i], &k);
		/* a lost tombstone lets an older cached copy come back */
		if (k.flags & (PCACHE_KEY_DIRTY | PCACHE_KEY_TOMBSTONE))
			return true;
	}
	return false;
}

/*
 * The kset's keys are dropped: keeping them open would pin their segments
 * and stop every later seal.  Some may belong to writes already completed
 * without FUA, whose owners learn of it only from their next flush; clean
 * keys of read fills and GC moves cost nothing but a later miss.
 */
static void seal_failed(struct pcache_cache *c, struct pcache_open_kset *o)
{
	if (kset_owed(o->ks))
		atomic_set(&c->seal_lost, PCACHE_SYNC_ALL);
	pcache_err_limit(c->name, "journal full: keys not persisted");
}

/* Up to 100 ms of waiting for GC to free a segment, counted */
static void space_wait(struct pcache_cache *c)
{
	atomic_inc(&c->space_waiters);
	kick_gc(c);
	/* the knob stands for a journal that stays full that long */
	pcache_debug_stall(PCACHE_STALL_SPACE);
	wait_event_timeout(c->space_wait,
			   pcache_segalloc_used(&c->sa) < c->sa.count,
			   HZ / 10);
	atomic_dec(&c->space_waiters);
}

/*
 * A journal without a free segment waits for GC: keys that are not
 * journaled would never be written back.  Pieces appended before the
 * failure are appended again: the same keys twice are harmless.
 */
static int seal_wait(struct pcache_cache *c, struct pcache_open_kset *o)
{
	int tries, ret;

	for (tries = 0; ; tries++) {
		ret = pcache_debug_stall_armed(PCACHE_STALL_SPACE) ? -ENOSPC :
		      seal_pieces(c, o->ks);
		if (ret != -ENOSPC || tries == PCACHE_SEAL_TRIES)
			return ret;
		space_wait(c);
	}
}

static int seal_locked(struct pcache_cache *c, struct pcache_open_kset *o)
{
	int ret;

	if (!o->ks->count)
		return 0;
	mutex_lock(&c->seal_lock);
	/* the knob stands for a journal that stayed full for 30 s */
	ret = pcache_debug_seal_fail() ? -ENOSPC : seal_wait(c, o);
	mutex_unlock(&c->seal_lock);
	if (ret)
		seal_failed(c, o);
	seal_done(c, o);
	return ret;
}

/* Seal every open kset in turn, for the timer: no promise of durability. */
static void seal_each(struct pcache_cache *c)
{
	struct pcache_open_kset *o;
	int cpu;

	for_each_possible_cpu(cpu) {
		o = per_cpu_ptr(c->open, cpu);
		mutex_lock(&o->lock);
		seal_locked(c, o);
		mutex_unlock(&o->lock);
	}
}

/*
 * A lost seal is reported to every flush of class @who that was waiting
 * when the first of them took the mark, not just to that one: each of them
 * covers the lost writes.  Called with every open kset's lock held, so no
 * seal can set the mark meanwhile for keys this flush does not cover.
 */
static bool loss_reported(struct pcache_cache *c, int who, u64 ticket)
{
	if (atomic_fetch_andnot(BIT(who), &c->seal_lost) & BIT(who))
		c->lost_upto[who] = atomic64_read(&c->flush_tickets);
	return ticket <= c->lost_upto[who];
}

/**
 * pcache_cache_sync() - seal every open kset into the journal
 * @c: cache
 * @who: the class of flush to report a lost seal to: PCACHE_SYNC_BIO for a
 *	 REQ_PREFLUSH, PCACHE_SYNC_ADMIN for the flush message or a mode
 *	 change; PCACHE_SYNC_NONE for an internal flush, which reports none
 *
 * Afterwards every key added before the call is durable.  A seal leaves
 * out the parts of a key that a newer write replaced, so that newer write
 * must be journaled by the same flush: every open kset is locked before
 * any is sealed, which waits out writes between their index insert and
 * their journal entry.  Sealing one kset at a time could journal the older
 * key's kset after the newer write was indexed but before its key reached
 * a kset already sealed, and lose both.
 *
 * A flush promises that every write completed before it is durable.  A
 * seal that failed (the timer's, one for a full kset, or one at suspend)
 * dropped keys of such writes, so the flushes of @who waiting when the
 * loss is first seen fail even when their own seals succeed; later ones do
 * not, as a filesystem that saw the error no longer counts on those
 * writes.  Each class hears of a loss on its own, so that an
 * administrator's flush never hides it from the filesystem.
 *
 * The flush of a class also ends a flush epoch (see epoch.h), so that
 * writeback never leaves out a write completed before it for a newer one
 * that no flush made durable: the backing device must hold it once the
 * flush message has waited for writeback.
 *
 * Return: 0; the error of a seal of this flush that failed (its keys are
 * lost); or -EIO if an earlier seal lost keys and @who is a class.
 */
int pcache_cache_sync(struct pcache_cache *c, int who)
{
	/* only a class's flushes compare tickets */
	bool report = who != PCACHE_SYNC_NONE;
	u64 ticket = report ? atomic64_inc_return(&c->flush_tickets) : 0;
	int cpu, ret = 0;

	if (report)
		pcache_epochs_barrier(&c->epochs, &c->key_seq);
	mutex_lock(&c->flush_lock);
	/* lockdep counts these as one lock held many times (up to 2047) */
	for_each_possible_cpu(cpu)
		mutex_lock_nest_lock(&per_cpu_ptr(c->open, cpu)->lock,
				     &c->flush_lock);
	for_each_possible_cpu(cpu)
		ret = seal_locked(c, per_cpu_ptr(c->open, cpu)) ?: ret;
	if (report && loss_reported(c, who, ticket))
		ret = -EIO;
	for_each_possible_cpu(cpu)
		mutex_unlock(&per_cpu_ptr(c->open, cpu)->lock);
	mutex_unlock(&c->flush_lock);
	return ret;
}

/**
 * pcache_cache_flush() - an internal flush: seal, report no earlier loss
 * @c: cache
 *
 * For suspend, teardown and a FUA write's full flush, whose callers make
 * no promise about writes that completed before them.
 *
 * Return: as pcache_cache_sync().
 */
int pcache_cache_flush(struct pcache_cache *c)
{
	return pcache_cache_sync(c, PCACHE_SYNC_NONE);
}

/**
 * pcache_cache_preflush() - a REQ_PREFLUSH: end a flush epoch, seal
 * @c: cache
 *
 * Return: as pcache_cache_sync().
 */
int pcache_cache_preflush(struct pcache_cache *c)
{
	return pcache_cache_sync(c, PCACHE_SYNC_BIO);
}

/**
 * pcache_epoch_limit() - the newest key in the flush epoch of another
 * @c: cache
 * @seq: a key's sequence number
 *
 * Call with the lock of the subtree whose newer keys are looked at held.
 *
 * Return: see pcache_epochs_limit().
 */
u64 pcache_epoch_limit(struct pcache_cache *c, u64 seq)
{
	return pcache_epochs_limit(&c->epochs, seq, &c->key_seq);
}

static void seal_work_fn(struct work_struct *w)
{
	struct pcache_cache *c = container_of(to_delayed_work(w),
					      struct pcache_cache, seal_work);

	if (!pcache_debug_no_timer())
		seal_each(c);
}

/* Add a key to an open kset with room (caller holds its lock). */
static void open_add(struct pcache_cache *c, struct pcache_open_kset *o,
		     const struct pcache_key_info *k)
{
	u16 count = le16_to_cpu(o->ks->count);

	pcache_key_encode(&o->ks->keys[count], k);
	o->ks->count = cpu_to_le16(count + 1);
	if (pcache_key_has_data(k))
		atomic_inc(&c->segrt[k->seg].pending);
	if (k->flags & PCACHE_KEY_DIRTY)
		WRITE_ONCE(o->dirty, o->dirty + 1);
}

/*
 * Have the timer seal what is open; a plain read first, as the atomic
 * test of a queued work bounces between CPUs.
 */
static void seal_later(struct pcache_cache *c)
{
	if (!delayed_work_pending(&c->seal_work))
		queue_delayed_work(c->wq, &c->seal_work, PCACHE_SEAL_INTERVAL);
}

/* Add the clean key of a read fill to this CPU's open kset. */
static void journal_fill(struct pcache_cache *c, const struct pcache_key_info *k)
{
	struct pcache_open_kset *o = per_cpu_ptr(c->open, raw_smp_processor_id());

	mutex_lock(&o->lock);
	if (le16_to_cpu(o->ks->count) == PCACHE_KSET_MAX_KEYS)
		seal_locked(c, o);
	open_add(c, o, k);
	mutex_unlock(&o->lock);
	seal_later(c);
}

static struct pcache_key *take_spare(void *ctx)
{
	struct pcache_key **spare = ctx;
	struct pcache_key *k = *spare;

	*spare = NULL;
	return k;
}

/*
 * A write needs a node for its key and a spare in case it splits an older
 * key; an overwrite of the same sectors needs neither, and a split is rare.
 * Unused nodes stay with this CPU for its next write instead of going back
 * to the slab: no allocation and no free for most writes.  At most
 * PCACHE_CPU_KEYS per CPU, half of the pool's reserve.  With @if_clean
 * it never waits, and may return NULL.
 */
static struct pcache_key *get_key(struct pcache_cache *c, bool if_clean)
{
	struct pcache_key *k = this_cpu_xchg(c->spare->k[0], NULL);

	if (!k)
		k = this_cpu_xchg(c->spare->k[1], NULL);
	if (!k)
		k = mempool_alloc(&c->idx.pool, GFP_NOWAIT | __GFP_NOWARN);
	if (k || if_clean)
		return k;
	/* the pool may refill only as GC evicts: see lock_unless_space() */
	atomic_inc(&c->space_waiters);
	k = mempool_alloc(&c->idx.pool, GFP_NOIO);
	atomic_dec(&c->space_waiters);
	return k;
}

static void put_key(struct pcache_cache *c, struct pcache_key *k)
{
	if (!k || !this_cpu_cmpxchg(c->spare->k[0], NULL, k) ||
	    !this_cpu_cmpxchg(c->spare->k[1], NULL, k))
		return;
	mempool_free(k, &c->idx.pool);
}

/*
 * Insert the part of @k inside one stripe; @out gets its journal copy.
 * With @if_clean, not where the index holds dirty data, and without
 * waiting for memory, which may come back only as GC evicts keys.
 */
static bool index_piece(struct pcache_cache *c, struct pcache_key_info *k,
			struct pcache_key_info *out, bool if_clean)
{
	struct pcache_subtree *t = pcache_index_tree(&c->idx, k->lba);
	struct pcache_key *n, *spare;
	bool hit;
	int ret;

	n = get_key(c, if_clean);
	spare = get_key(c, if_clean);
	if (!n || !spare)
		goto refuse;
	spin_lock(&t->lock);
	if (if_clean && pcache_subtree_dirty(t, k->lba, k->lba + k->sectors)) {
		spin_unlock(&t->lock);
		goto refuse;
	}
	k->seq = atomic64_inc_return(&c->key_seq);
	n->k = *k;
	if (k->flags & PCACHE_KEY_DIRTY)
		n->k.flags |= PCACHE_KEY_OPEN;
	/* the newest key needs at most one split, so one spare suffices */
	ret = pcache_subtree_insert(t, n, take_spare, &spare, &c->idx.pool,
				    &hit);
	spin_unlock(&t->lock);
	WARN_ON_ONCE(ret < 0);
	if (ret == 1)
		put_key(c, n);
	put_key(c, spare);
	if (hit && pcache_key_has_data(k))
		this_cpu_inc(c->stats->write_hits);
	*out = *k;
	return true;
refuse:
	put_key(c, n);
	put_key(c, spare);
	return false;
}

typedef int (*piece_fn)(struct pcache_cache *c, struct pcache_key_info *p,
			void *ctx);

/* Call @fn for each part of @k that lies in one index stripe. */
static int split_at_stripes(struct pcache_cache *c, struct pcache_key_info k,
			  piece_fn fn, void *ctx)
{
	u64 end = k.lba + k.sectors, cut;
	struct pcache_key_info p;
	int ret;

	for (;;) {
		cut = min(end, pcache_stripe_end(k.lba));
		p = k;
		if (cut < end)
			pcache_key_trim_back(&p, cut);
		ret = fn(c, &p, ctx);
		if (ret || cut >= end)
			return ret;
		pcache_key_trim_front(&k, cut);
	}
}

#define FUA_PIECES	4

struct commit_ctx {
	struct pcache_open_kset *o;
	bool fua;
	bool if_clean;
	unsigned long until;
	struct pcache_key_info pieces[FUA_PIECES];
	int n;
	int ret;
};

/*
 * Index one piece and add its journal copy to the open kset, both under
 * the kset's lock: see pcache_cache_sync().
 */
static int commit_piece(struct pcache_cache *c, struct pcache_key_info *p,
			void *ctx)
{
	struct commit_ctx *cc = ctx;
	struct pcache_key_info j;
	int ret;

	/* sealed first, so that the kset journals the piece it was cut for */
	if (le16_to_cpu(cc->o->ks->count) == PCACHE_KSET_MAX_KEYS) {
		ret = cc->if_clean ? seal_try(c, cc->o, &cc->until) :
				     seal_locked(c, cc->o);
		cc->ret = ret ?: cc->ret;
		/* nothing indexed: see commit_key() */
		if (cc->if_clean && ret)
			return ret;
	}
	if (!index_piece(c, p, &j, cc->if_clean)) {
		cc->ret = -EBUSY;
		return -EBUSY;
	}
	pcache_debug_stall(PCACHE_STALL_COMMIT);
	open_add(c, cc->o, &j);
	/* kept for fua_whole() only */
	if (cc->fua && cc->n < FUA_PIECES)
		cc->pieces[cc->n] = j;
	cc->n++;
	return 0;
}

/* Does the index still hold all of @p as it was committed? */
static bool piece_held(struct pcache_cache *c, const struct pcache_key_info *p)
{
	struct pcache_subtree *t = pcache_index_tree(&c->idx, p->lba);
	u64 from = p->lba, end = p->lba + p->sectors;
	struct pcache_key_info k;
	bool held = true;

	spin_lock(&t->lock);
	while (from < end) {
		if (!pcache_subtree_next_of(t, from, end, p->seq, &k) ||
		    k.lba > from) {
			held = false;
			break;
		}
		from = k.lba + k.sectors;
	}
	spin_unlock(&t->lock);
	return held;
}

/*
 * A seal journals only what the index still holds of a key.  A newer
 * write that replaced part of a FUA write before the FUA write's seal left
 * that part out of the journal, and is itself in some other open kset:
 * only a flush of every kset makes the FUA write's sectors durable then.
 */
static bool fua_whole(struct pcache_cache *c, const struct commit_ctx *cc)
{
	int i;

	if (cc->n > FUA_PIECES)
		return false;
	for (i = 0; i < cc->n; i++)
		if (!piece_held(c, &cc->pieces[i]))
			return false;
	return true;
}

/*
 * Index a key (cut at stripe boundaries) and journal it; with @if_clean,
 * a key of one stripe only, none where the index holds dirty data, and
 * -EBUSY rather than a wait for journal space or memory, direct or behind
 * a lock: the caller is counted in flight, and writeback waits for it.
 */
static int commit_key(struct pcache_cache *c, struct pcache_key_info k,
		      bool fua, bool if_clean)
{
	struct commit_ctx cc = {
		.o = per_cpu_ptr(c->open, raw_smp_processor_id()),
		.fua = fua,
		.if_clean = if_clean,
		.until = jiffies + pcache_debug_lock_poll(PCACHE_LOCK_POLL_MAX),
		.n = 0,
		.ret = 0,
	};

	if (!if_clean)
		mutex_lock(&cc.o->lock);
	else if (!lock_unless_space(c, &cc.o->lock, cc.until))
		return -EBUSY;
	split_at_stripes(c, k, commit_piece, &cc);
	if (fua && !cc.ret)
		cc.ret = if_clean ? seal_try(c, cc.o, &cc.until) :
				    seal_locked(c, cc.o);
	mutex_unlock(&cc.o->lock);
	/*
	 * A completed FUA write is owed, as if a flush had followed it: a
	 * newer write that replaces it later is not durable until some
	 * flush, so writeback must not leave this one out for it.  A write
	 * indexed before the barrier is seen by fua_whole() below.
	 */
	if (fua)
		pcache_epochs_barrier(&c->epochs, &c->key_seq);
	/* a tombstone is journaled whole: it never stays in the index */
	if (fua && !cc.ret && !(k.flags & PCACHE_KEY_TOMBSTONE) &&
	    !fua_whole(c, &cc))
		cc.ret = pcache_cache_flush(c);
	/*
	 * A FUA key whose seal was refused (a write around the cache) stays
	 * open: see it sealed.  After other failures the timer finds the
	 * kset empty, at no cost.
	 */
	if (!fua || cc.ret)
		seal_later(c);
	return cc.ret;
}

static int new_head(struct pcache_cache *c, struct pcache_head *h)
{
	struct pcache_seg_info si;
	u32 seg;
	int ret;

	ret = pcache_segalloc_get(&c->sa, PCACHE_JOURNAL_RESERVE, &seg);
	if (ret)
		return ret;
	/* a new generation: keys left in the journal for its old data go */
	si = c->super->segs[seg].info;
	si.type = PCACHE_SEG_DATA;
	si.gen++;
	si.next = PCACHE_SEG_NONE;
	pcache_super_set_seg(c->super, seg, &si);
	atomic64_set(&c->segrt[seg].wb_seq, 0);
	WRITE_ONCE(c->segrt[seg].state, PCACHE_RT_OPEN);
	h->seg = seg;
	h->off = 0;
	if (pcache_gc_wanted(c))
		kick_gc(c);
	return 0;
}

/*
 * Space at data head @h; -ENOSPC when it has none and either @open is
 * false or no segment is free for a new one.
 */
static int reserve_at(struct pcache_cache *c, struct pcache_head *h,
		      u32 sectors, struct pcache_wres *r, bool open)
{
	int ret = 0;

	spin_lock(&h->lock);
	/*
	 * A full head is closed first, so GC can reclaim it even when no
	 * segment is free for the next one.
	 */
	if (h->seg != PCACHE_SEG_NONE && h->off >= PCACHE_SEG_SIZE) {
		/* pairs with GC: its reservations show in pending once closed */
		smp_store_release(&c->segrt[h->seg].state, PCACHE_RT_CLOSED);
		h->seg = PCACHE_SEG_NONE;
	}
	if (h->seg == PCACHE_SEG_NONE)
		ret = open ? new_head(c, h) : -ENOSPC;
	if (!ret) {
		r->seg = h->seg;
		r->off = h->off;
		r->sectors = min_t(u32, sectors,
				   (PCACHE_SEG_SIZE - h->off) >> SECTOR_SHIFT);
		h->off += r->sectors << SECTOR_SHIFT;
		atomic_inc(&c->segrt[r->seg].pending);
	}
	spin_unlock(&h->lock);
	return ret;
}

/* Space at this CPU's data head; -ENOSPC when no segment is free. */
static int reserve(struct pcache_cache *c, u32 sectors, struct pcache_wres *r)
{
	return reserve_at(c, per_cpu_ptr(c->heads, raw_smp_processor_id()),
			  sectors, r, true);
}

/*
 * Space at any CPU's open data head, for a writer whose own CPU cannot open
 * one.  An open head is closed only once it is full, and GC reclaims only
 * closed segments: with as many open heads as the cache has segments to
 * spare (a small cache, or a host with many CPUs), a writer on another CPU
 * would wait until an idle CPU wrote again, maybe forever.  Filling the
 * open heads instead closes them, so GC can free them.
 */
static int reserve_shared(struct pcache_cache *c, u32 sectors,
			  struct pcache_wres *r)
{
	int cpu;

	for_each_possible_cpu(cpu)
		if (!reserve_at(c, per_cpu_ptr(c->heads, cpu), sectors, r,
				false))
			return 0;
	return -ENOSPC;
}

static bool space_free(struct pcache_cache *c)
{
	return c->sa.count - pcache_segalloc_used(&c->sa) >
	       PCACHE_JOURNAL_RESERVE;
}

#define PCACHE_SPACE_WARN	(30 * HZ)

/**
 * pcache_write_reserve() - reserve pmem space for a write
 * @c: cache
 * @sectors: sectors wanted
 * @r: the space; r->sectors may be fewer than asked when the data head's
 *     segment ends, and the caller then writes only that much
 *
 * When no segment is free for this CPU's data head the write takes room
 * at another CPU's open head; when there is none either, the caller
 * sleeps until writeback and GC free a segment: a write is never failed
 * or sent around the cache because the cache is full.  A wait longer than
 * PCACHE_SPACE_WARN is logged.
 *
 * Return: 0.
 */
int pcache_write_reserve(struct pcache_cache *c, u32 sectors,
			 struct pcache_wres *r)
{
	unsigned long start = jiffies;
	bool warned = false;

	if (!reserve(c, sectors, r) || !reserve_shared(c, sectors, r))
		return 0;
	this_cpu_inc(c->stats->space_waits);
	while (reserve(c, sectors, r) && reserve_shared(c, sectors, r)) {
		kick_gc(c);
		wait_event_timeout(c->space_wait, space_free(c), HZ / 10);
		if (!warned && time_after(jiffies, start + PCACHE_SPACE_WARN)) {
			pcache_warn(c->name, "writes wait for free cache space (writeback stalled?)");
			warned = true;
		}
	}
	return 0;
}

static void reserve_done(struct pcache_cache *c, const struct pcache_wres *r)
{
	/* the key is indexed and journaled before pending may reach zero */
	smp_mb__before_atomic();
	atomic_dec(&c->segrt[r->seg].pending);
}

/* Copy @iter's part of @bio to pmem; returns the data's crc32c if wanted. */
static u32 copy_from_bio(struct pcache_cache *c, struct bio *bio,
			 struct bvec_iter iter, u64 addr)
{
	struct bio_vec bv;
	u32 crc = ~0U;
	void *p;

	__bio_for_each_segment(bv, bio, iter, iter) {
		p = bvec_kmap_local(&bv);
		pcache_pmem_write(c->pm, addr, p, bv.bv_len);
		if (c->data_crc)
			crc = crc32c(crc, p, bv.bv_len);
		kunmap_local(p);
		addr += bv.bv_len;
	}
	return crc;
}

/**
 * pcache_write_commit() - store a write in the cache
 * @c: cache
 * @bio: the write, exactly r->sectors long
 * @lba: its first sector on the backing device
 * @r: space from pcache_write_reserve()
 * @fua: the key must be durable when this returns
 *
 * Return: 0 or -ENOSPC if the journal had no room for the key (a FUA
 * write's, or one that had to seal a full key set first).
 */
int pcache_write_commit(struct pcache_cache *c, struct bio *bio, u64 lba,
			const struct pcache_wres *r, bool fua)
{
	struct pcache_key_info k = {
		.lba = lba,
		.sectors = r->sectors,
		.seg = r->seg,
		.seg_off = r->off,
		.gen = (u32)c->super->segs[r->seg].info.gen,
		.flags = PCACHE_KEY_DIRTY,
	};

	int ret;

	k.crc = copy_from_bio(c, bio, bio->bi_iter, pcache_data_addr(c, r->seg, r->off));
	if (c->data_crc)
		k.flags |= PCACHE_KEY_CRC;
	pcache_pmem_persist();
	ret = commit_key(c, k, fua, false);
	reserve_done(c, r);
	return ret;
}

/**
 * pcache_write_invalidate() - forget a range that is about to be written to
 *			       the backing device directly
 * @c: cache
 * @lba: first sector
 * @sectors: length
 * @fua: the forgetting must be durable before this returns
 * @if_clean: only if the index holds no dirty data there (a range of one
 *	      index stripe)
 *
 * A journaled tombstone removes the range from the index, so neither a
 * read now nor a replay later finds the older cached copy.  Dirty data
 * removed so would leave a hole where writeback looks for what replaced
 * it: a write around the cache in the modes that keep dirty data asks for
 * @if_clean, and is cached instead where there is some.  Such a write is
 * counted in flight and writeback waits for it, so with @if_clean it never
 * waits for journal space or index memory, which writeback and GC may have
 * to free first, nor for a lock while anyone waits so.
 *
 * Return: 0; -EBUSY if @if_clean and the range holds dirty data or spans
 * two stripes (no tombstone indexed or journaled), or the commit would
 * have had to wait so (a FUA tombstone may then be indexed, in an open
 * kset but not yet durable: the caller caches the write over it); without
 * @if_clean, -ENOSPC if the journal had no room for the key.
 */
int pcache_write_invalidate(struct pcache_cache *c, u64 lba, u32 sectors,
			    bool fua, bool if_clean)
{
	struct pcache_key_info k = {
		.lba = lba,
		.sectors = sectors,
		.flags = PCACHE_KEY_TOMBSTONE,
	};

	if (if_clean && pcache_stripe_end(lba) < lba + sectors)
		return -EBUSY;
	return commit_key(c, k, fua, if_clean);
}

/**
 * pcache_write_zeroes() - cache a discard or write-zeroes of a range
 * @c: cache
 * @lba: first sector
 * @sectors: length
 * @discard: a discard: written back as one, not as zeroes
 * @fua: the key must be durable when this returns
 *
 * The range becomes a dirty zero key: reads of it return zeroes, and
 * writeback applies it to the backing device in journal order, after every
 * older write of the range, so a discard never overtakes such a write.
 *
 * Return: 0 or -ENOSPC if the journal had no room for the key (a FUA
 * key's, or one that had to seal a full key set first).
 */
int pcache_write_zeroes(struct pcache_cache *c, u64 lba, u32 sectors,
			bool discard, bool fua)
{
	struct pcache_key_info k = {
		.lba = lba,
		.sectors = sectors,
		.flags = PCACHE_KEY_ZERO | PCACHE_KEY_DIRTY,
	};

	if (discard)
		k.flags |= PCACHE_KEY_DISCARD;
	return commit_key(c, k, fua, false);
}

/**
 * pcache_all_clean() - does the cache hold nothing dirty
 * @c: cache
 *
 * Dirty keys are counted in dirty_bytes once sealed; until then in their
 * open kset's dirty count.  A seal adds to dirty_bytes before it clears
 * that count, so no dirty key completed before the call can be missed.
 *
 * Return: true if no dirty data is sealed, open or being written back.
 */
bool pcache_all_clean(struct pcache_cache *c)
{
	int cpu;

	for_each_possible_cpu(cpu)
		if (READ_ONCE(per_cpu_ptr(c->open, cpu)->dirty))
			return false;
	/* pairs with seal_done(): a count seen dropped was added here */
	smp_rmb();
	return !atomic64_read(&c->dirty_bytes);
}

/**
 * pcache_bypass_start() - a write goes around the cache
 * @c: cache
 *
 * Read fills racing with it may have read the older data from the backing
 * device; the pair start/end lets them find out and not cache it.
 * Writeback waits for it (pcache_bypass_busy()).  The start is fully
 * ordered (atomic64_inc_return()).
 *
 * Return: the bypass generation before this write.
 */
u64 pcache_bypass_start(struct pcache_cache *c)
{
	atomic_inc(&c->bypass_inflight);
	return atomic64_inc_return(&c->bypass_gen) - 1;
}

/**
 * pcache_bypass_end() - the write reached the backing device (or failed,
 *			 or is cached instead)
 * @c: cache
 */
void pcache_bypass_end(struct pcache_cache *c)
{
	atomic64_inc(&c->bypass_gen);
	atomic_dec(&c->bypass_inflight);
}

/**
 * pcache_bypass_busy() - is a write around the cache in flight
 * @c: cache
 *
 * In the modes that keep dirty data a write goes around the cache only
 * while it is clean.  It counts itself in flight (pcache_bypass_start(),
 * fully ordered) from before its tombstone until it is on the backing
 * device, or until it turns to being cached instead.  Writeback asks
 * before it writes a kset with dirty data, and waits while one is in
 * flight: a newer write of its sectors, indexed after its tombstone,
 * must not reach the backing device first, where the older one would
 * overwrite it under a key marked clean.  A write turning to the cache
 * stops counting before it reserves data space, and its tombstone's
 * commit never waits for anything that needs writeback (see
 * pcache_write_invalidate()).
 *
 * Return: true while such a write is in flight.
 */
bool pcache_bypass_busy(struct pcache_cache *c)
{
	/* pairs with the full ordering of pcache_bypass_start() */
	smp_mb();
	return atomic_read(&c->bypass_inflight);
}

/**
 * pcache_bypass_idle() - may a read that starts now fill the cache
 * @c: cache
 * @gen: where to note the bypass generation
 *
 * Return: false while a write around the cache is in flight.
 */
bool pcache_bypass_idle(struct pcache_cache *c, u64 *gen)
{
	if (atomic_read(&c->bypass_inflight))
		return false;
	*gen = atomic64_read(&c->bypass_gen);
	return true;
}

/**
 * pcache_bypass_since() - did writes go around the cache meanwhile
 * @c: cache
 * @gen: from pcache_bypass_idle()
 * @own: bumps that belong to the caller's own write (0 or 2)
 *
 * Return: true if other such writes started or ended since @gen.
 */
bool pcache_bypass_since(struct pcache_cache *c, u64 gen, u64 own)
{
	return atomic64_read(&c->bypass_gen) != gen + own ||
	       atomic_read(&c->bypass_inflight);
}

/**
 * pcache_fill_begin() - note when a read miss starts
 * @c: cache
 *
 * Taken before the lookup: every key inserted after it has a higher
 * sequence number, so the fill (which carries this one) gives way to all
 * writes that raced with the miss.
 *
 * Return: the sequence number the fill's keys will carry.
 */
u64 pcache_fill_begin(struct pcache_cache *c)
{
	return atomic64_read(&c->key_seq);
}

static struct pcache_key *alloc_nowait(void *ctx)
{
	struct pcache_cache *c = ctx;

	return mempool_alloc(&c->idx.pool, GFP_NOWAIT);
}

static void fill_piece(struct pcache_cache *c, struct bio *bio,
		       struct bvec_iter it, const struct pcache_wres *r,
		       struct pcache_key_info *k)
{
	struct pcache_subtree *t = pcache_index_tree(&c->idx, k->lba);
	struct pcache_key *n;
	int ret;

	it.bi_size = r->sectors << SECTOR_SHIFT;
	k->crc = copy_from_bio(c, bio, it, pcache_data_addr(c, r->seg, r->off));
	k->flags = c->data_crc ? PCACHE_KEY_CRC : 0;
	pcache_pmem_persist();
	n = mempool_alloc(&c->idx.pool, GFP_NOIO);
	n->k = *k;
	spin_lock(&t->lock);
	/* a fill is only a copy: if it cannot be indexed whole, drop it */
	ret = pcache_subtree_insert(t, n, alloc_nowait, c, &c->idx.pool, NULL);
	spin_unlock(&t->lock);
	if (ret == 1)
		mempool_free(n, &c->idx.pool);
	/*
	 * Journaled as a clean key: GC then evicts it in journal order like
	 * any other clean data, and a restart finds the cache warm.
	 */
	journal_fill(c, k);
	reserve_done(c, r);
	this_cpu_add(c->stats->fill_bytes, (u64)r->sectors << SECTOR_SHIFT);
}

/**
 * pcache_read_fill() - put what a read miss brought into the cache
 * @c: cache
 * @bio: the completed read
 * @iter: the read's range as it was mapped
 * @lba: its first sector
 * @fill_seq: from pcache_fill_begin() before the lookup
 *
 * The copies become clean keys.  Nothing is filled while every segment is
 * in use: a fill never waits for space.
 */
void pcache_read_fill(struct pcache_cache *c, struct bio *bio,
		      struct bvec_iter iter, u64 lba, u64 fill_seq)
{
	u32 sectors = iter.bi_size >> SECTOR_SHIFT, done = 0;
	struct pcache_key_info k = { .seq = fill_seq };
	struct pcache_wres r;

	while (done < sectors) {
		if (!space_free(c) || reserve(c, sectors - done, &r))
			return;
		k.lba = lba + done;
		k.sectors = r.sectors;
		k.seg = r.seg;
		k.seg_off = r.off;
		k.gen = (u32)c->super->segs[r.seg].info.gen;
		fill_piece(c, bio, iter, &r, &k);
		bio_advance_iter(bio, &iter, r.sectors << SECTOR_SHIFT);
		done += r.sectors;
	}
}

/* Copy @bytes of cached data from @src to @dst through @buf. */
static int copy_pmem(struct pcache_cache *c, u64 dst, u64 src, u32 bytes,
		     void *buf)
{
	u32 n;
	int ret;

	while (bytes) {
		n = min_t(u32, bytes, PCACHE_MOVE_BUF);
		ret = pcache_pmem_read(c->pm, src, buf, n);
		if (ret)
			return ret;
		pcache_pmem_write(c->pm, dst, buf, n);
		src += n;
		dst += n;
		bytes -= n;
	}
	return 0;
}

/*
 * Point the index at the copy and journal it.  GC must not wait for the
 * journal (a full journal waits for GC): an open kset that is busy, or
 * full and cannot be sealed at once, leaves the key where it was.
 */
static int move_commit(struct pcache_cache *c, const struct pcache_key_info *k,
		       const struct pcache_key_info *n)
{
	struct pcache_open_kset *o = per_cpu_ptr(c->open, raw_smp_processor_id());
	struct pcache_subtree *t = pcache_index_tree(&c->idx, k->lba);
	int ret = -EBUSY;
	bool moved;

	if (!mutex_trylock(&o->lock))
		return ret;
	if (le16_to_cpu(o->ks->count) < PCACHE_KSET_MAX_KEYS ||
	    !seal_try(c, o, NULL)) {
		spin_lock(&t->lock);
		moved = pcache_subtree_move(t, k, n->seg, n->seg_off, n->gen);
		spin_unlock(&t->lock);
		ret = -ESTALE;
		if (moved) {
			open_add(c, o, n);
			ret = 0;
		}
	}
	mutex_unlock(&o->lock);
	if (!ret)
		queue_delayed_work(c->wq, &c->seal_work, PCACHE_SEAL_INTERVAL);
	return ret;
}

/**
 * pcache_key_move() - keep recently read clean data: copy it to a data head
 * @c: cache
 * @k: a clean key as found in the index, at most PCACHE_MOVE_MAX bytes
 * @buf: PCACHE_MOVE_BUF bytes of bounce buffer
 *
 * The copy keeps the key's sequence number and is journaled as a clean
 * key, so the old segment can be reclaimed and a replay rebuilds the same
 * index whichever of the two copies it meets.
 *
 * Return: 0 if the key moved; -ENOSPC when no space is free; -EAGAIN when
 * the copy would land in the key's own segment; -EBUSY when the journal
 * could not take it without waiting; -ESTALE when the key changed
 * meanwhile; -EIO on a media error.
 */
int pcache_key_move(struct pcache_cache *c, const struct pcache_key_info *k,
		    void *buf)
{
	struct pcache_key_info n = *k;
	struct pcache_wres r;
	int ret;

	/* reserve() leaves the journal's segments alone */
	if (reserve(c, k->sectors, &r))
		return -ENOSPC;
	/* a head segment that ends too soon leaves a little unused */
	if (r.sectors < k->sectors)
		ret = -ENOSPC;
	else if (r.seg == k->seg)
		ret = -EAGAIN;	/* it would be evicted with its segment */
	else
		ret = copy_pmem(c, pcache_data_addr(c, r.seg, r.off),
				pcache_data_addr(c, k->seg, k->seg_off),
				k->sectors << SECTOR_SHIFT, buf);
	if (ret)
		goto out;
	pcache_pmem_persist();
	n.seg = r.seg;
	n.seg_off = r.off;
	n.gen = (u32)c->super->segs[r.seg].info.gen;
	n.flags &= ~PCACHE_KEY_HIT;
	ret = move_commit(c, k, &n);
	if (!ret)
		this_cpu_add(c->stats->kept_bytes,
			     (u64)k->sectors << SECTOR_SHIFT);
out:
	reserve_done(c, &r);
	return ret;
}

/**
 * pcache_stats_sum() - add up the per-CPU counters
 * @c: cache
 * @sum: output
 */
void pcache_stats_sum(struct pcache_cache *c, struct pcache_stats *sum)
{
	const struct pcache_stats *s;
	int cpu;

	memset(sum, 0, sizeof(*sum));
	for_each_possible_cpu(cpu) {
		s = per_cpu_ptr(c->stats, cpu);
		sum->read_hits += s->read_hits;
		sum->read_misses += s->read_misses;
		sum->read_partial += s->read_partial;
		sum->write_hits += s->write_hits;
		sum->cache_bytes += s->cache_bytes;
		sum->fill_bytes += s->fill_bytes;
		sum->space_waits += s->space_waits;
		sum->media_errors += s->media_errors;
		sum->crc_errors += s->crc_errors;
		sum->bypass_bytes += s->bypass_bytes;
		sum->kept_bytes += s->kept_bytes;
	}
}

/**
 * pcache_read_lookup() - is the start of a read cached?
 * @c: cache
 * @lba: first sector of the read
 * @sectors: its length
 * @hit: on a hit, the key cut to start at @lba
 * @run: sectors from @lba that are all hit or all miss (within the stripe)
 *
 * Return: true on a hit.
 */
bool pcache_read_lookup(struct pcache_cache *c, u64 lba, u32 sectors,
			struct pcache_key_info *hit, u32 *run)
{
	struct pcache_subtree *t = pcache_index_tree(&c->idx, lba);
	u64 end = min(lba + sectors, pcache_stripe_end(lba)), run_end;
	bool ret;

	spin_lock(&t->lock);
	ret = pcache_subtree_lookup(t, lba, end, hit, &run_end, true);
	spin_unlock(&t->lock);
	*run = run_end - lba;
	if (*run < sectors)
		this_cpu_inc(c->stats->read_partial);
	else if (ret)
		this_cpu_inc(c->stats->read_hits);
	else
		this_cpu_inc(c->stats->read_misses);
	return ret;
}

/* crc32c of a key's data, read with machine-check-safe copies */
static int key_crc(struct pcache_cache *c, const struct pcache_key_info *k,
		   u32 *crc)
{
	u64 addr = pcache_data_addr(c, k->seg, k->seg_off);
	u32 left = k->sectors << SECTOR_SHIFT, n;
	u8 buf[256];
	int ret;

	*crc = ~0U;
	while (left) {
		n = min_t(u32, left, sizeof(buf));
		ret = pcache_pmem_read(c->pm, addr, buf, n);
		if (ret)
			return ret;
		*crc = crc32c(*crc, buf, n);
		addr += n;
		left -= n;
	}
	return 0;
}

/**
 * pcache_key_verify() - check a key's data against its CRC
 * @c: cache
 * @k: key; without PCACHE_KEY_CRC there is nothing to check
 *
 * Return: 0, -EIO on a media error, -EILSEQ on a mismatch (both counted).
 */
int pcache_key_verify(struct pcache_cache *c, const struct pcache_key_info *k)
{
	u32 crc;

	if (!(k->flags & PCACHE_KEY_CRC))
		return 0;
	if (key_crc(c, k, &crc)) {
		this_cpu_inc(c->stats->media_errors);
		return -EIO;
	}
	if (crc != k->crc) {
		this_cpu_inc(c->stats->crc_errors);
		return -EILSEQ;
	}
	return 0;
}

static int copy_to_bio(struct pcache_cache *c, struct bio *bio, u64 addr)
{
	struct bvec_iter iter;
	struct bio_vec bv;
	int ret = 0;
	void *p;

	bio_for_each_segment(bv, bio, iter) {
		p = bvec_kmap_local(&bv);
		ret = pcache_pmem_read(c->pm, addr, p, bv.bv_len);
		kunmap_local(p);
		if (ret)
			return ret;
		addr += bv.bv_len;
	}
	return 0;
}

/* Bad cached data: a clean copy is forgotten, a dirty one is an error. */
static int bad_data(struct pcache_cache *c, const struct pcache_key_info *k,
		    const char *what)
{
	struct pcache_subtree *t = pcache_index_tree(&c->idx, k->lba);

	if (k->flags & PCACHE_KEY_DIRTY) {
		pcache_err_limit(c->name, "%s in dirty cached sectors %llu+%u: data lost, failing the read",
				 what, k->lba, k->sectors);
		return -EIO;
	}
	pcache_err_limit(c->name, "%s in clean cached sectors %llu+%u: dropped, reading the backing device",
			 what, k->lba, k->sectors);
	spin_lock(&t->lock);
	pcache_subtree_drop(t, k, &c->idx.pool);
	spin_unlock(&t->lock);
	return -EAGAIN;
}

/**
 * pcache_read_copy() - serve a read from pmem
 * @c: cache
 * @bio: the read, inside the hit
 * @lba: its first sector
 * @hit: key from pcache_read_lookup()
 *
 * With data_crc the key's CRC is checked first.  A media error or a CRC
 * mismatch in clean data drops the key: the caller then reads the backing
 * device, which refills the cache.  In dirty data it fails the read.
 *
 * Return: 0; -EAGAIN to read the backing device instead; -EIO.
 */
int pcache_read_copy(struct pcache_cache *c, struct bio *bio, u64 lba,
		     const struct pcache_key_info *hit)
{
	u64 off = (lba - hit->lba) << SECTOR_SHIFT;
	u32 crc;

	if (hit->flags & PCACHE_KEY_ZERO) {
		zero_fill_bio(bio);
		this_cpu_add(c->stats->cache_bytes, bio->bi_iter.bi_size);
		return 0;
	}
	if (hit->flags & PCACHE_KEY_CRC) {
		if (key_crc(c, hit, &crc)) {
			this_cpu_inc(c->stats->media_errors);
			return bad_data(c, hit, "media error");
		}
		if (crc != hit->crc) {
			this_cpu_inc(c->stats->crc_errors);
			return bad_data(c, hit, "CRC mismatch");
		}
	}
	if (copy_to_bio(c, bio, pcache_data_addr(c, hit->seg, hit->seg_off) + off)) {
		this_cpu_inc(c->stats->media_errors);
		return bad_data(c, hit, "media error");
	}
	this_cpu_add(c->stats->cache_bytes, bio->bi_iter.bi_size);
	return 0;
}

/* Replay */

/*
 * One walker of a replay.  Each walker reads the whole journal and inserts
 * the pieces that fall in its share of the subtrees (subtree i with
 * i % parts == part), so no two walkers touch one subtree.  A key is
 * counted (sequence, staleness, dirty bytes, its segment's writeback
 * sequence) by the walker of the subtree where it starts, and the counts
 * are added up at the end.  The checksums of the ksets are shared out
 * among the walkers the same way (@sh).
 */
struct replay_ctx {
	struct pcache_cache *c;
	struct pcache_log_share *sh;
	u64 skipped;		/* stale keys counted */
	u64 dirty_seq;		/* the dirty tail's kset sequence */
	u64 max_seq;		/* newest key sequence counted */
	u64 dirty;		/* bytes writeback must still walk past */
	u32 part;
	u32 parts;
};

struct replay_helper {
	struct work_struct work;
	struct replay_ctx rc;
	struct pcache_log_cursor cur;
	struct pcache_replay_stats st;
	int ret;
};

static struct pcache_key *alloc_key(void *ctx)
{
	struct pcache_cache *c = ctx;

	return mempool_alloc(&c->idx.pool, GFP_KERNEL);
}

/*
 * A segment that a replayed key points to is in use.  One that only keys
 * overwritten later in the journal pointed to stays closed but unreferenced
 * until GC frees it, with nothing to copy: cheaper than walking the whole
 * index again after the replay to find the referenced ones.  Two walkers
 * may both mark one segment; marking is idempotent.
 */
static void mark_used(struct pcache_cache *c, const struct pcache_key_info *k)
{
	struct pcache_seg_rt *rt = &c->segrt[k->seg];

	if (!pcache_key_has_data(k) ||
	    READ_ONCE(rt->state) == PCACHE_RT_CLOSED)
		return;
	pcache_segalloc_mark(&c->sa, k->seg);
	WRITE_ONCE(rt->state, PCACHE_RT_CLOSED);
}

static int replay_piece(struct pcache_cache *c, struct pcache_key_info *k,
			void *ctx)
{
	struct pcache_subtree *t = pcache_index_tree(&c->idx, k->lba);
	struct replay_ctx *rc = ctx;
	struct pcache_key *n;
	int ret;

	if ((t - c->idx.trees) % rc->parts != rc->part)
		return 0;
	n = mempool_alloc(&c->idx.pool, GFP_KERNEL);
	n->k = *k;
	/* no I/O runs yet and no other walker has this subtree: may sleep */
	ret = pcache_subtree_insert(t, n, alloc_key, c, &c->idx.pool, NULL);
	if (ret < 0)
		return ret;
	if (ret == 1)
		mempool_free(n, &c->idx.pool);
	mark_used(c, k);
	return 0;
}

static int replay_key(void *ctx, const struct pcache_key_info *key,
		      u64 kset_seq)
{
	struct replay_ctx *rc = ctx;
	struct pcache_cache *c = rc->c;
	struct pcache_key_info k = *key;
	u64 end = k.lba + k.sectors;
	u64 limit = (u64)c->idx.nr << PCACHE_STRIPE_SHIFT;
	u32 stripe = pcache_index_tree(&c->idx, k.lba) - c->idx.trees;
	bool own = stripe % rc->parts == rc->part;

	/* a key wholly inside another walker's stripe is that walker's */
	if (!own && end <= min(pcache_stripe_end(k.lba), limit))
		return 0;
	if (own && pcache_seq_after(k.seq, rc->max_seq))
		rc->max_seq = k.seq;
	if (pcache_key_has_data(&k) &&
	    k.gen != (u32)c->super->segs[k.seg].info.gen) {
		rc->skipped += own;
		return 0;
	}
	if (end > limit)
		return -EUCLEAN;
	if (k.flags & PCACHE_KEY_TOMBSTONE)
		return split_at_stripes(c, k, replay_piece, rc);
	/* ksets before the dirty tail were written back */
	if (pcache_seq_after(rc->dirty_seq, kset_seq))
		k.flags &= ~PCACHE_KEY_DIRTY;
	else if (own && (k.flags & PCACHE_KEY_DIRTY))
		rc->dirty += (u64)k.sectors << SECTOR_SHIFT;
	if (own && pcache_key_has_data(&k))
		atomic64_max(&c->segrt[k.seg].wb_seq, kset_seq + 1);
	return split_at_stripes(c, k, replay_piece, rc);
}

/* Add a helper's counts to the caller's. */
static void replay_merge(struct replay_ctx *rc, const struct replay_ctx *h)
{
	rc->skipped += h->skipped;
	rc->dirty += h->dirty;
	if (pcache_seq_after(h->max_seq, rc->max_seq))
		rc->max_seq = h->max_seq;
}

static void replay_helper_fn(struct work_struct *w)
{
	struct replay_helper *h = container_of(w, struct replay_helper, work);
	struct pcache_log *log = &h->rc.c->log;

	pcache_log_precheck(log, &h->cur, h->rc.sh, h->rc.part);
	h->ret = pcache_log_walk(log, &h->cur, replay_key, &h->rc, h->rc.sh,
				 &h->st);
}

/*
 * Helpers for the caller's walk, one per further online CPU; none if
 * there is one CPU or no memory for them (the caller then does it all).
 */
static struct replay_helper *start_helpers(struct replay_ctx *rc)
{
	struct pcache_cache *c = rc->c;
	struct pcache_log_cursor start;
	struct replay_helper *h;
	u32 i, parts;

	parts = min3(num_online_cpus(), c->idx.nr, PCACHE_LOG_WALKERS);
	rc->parts = 1;
	rc->sh = NULL;
	if (parts < 2)
		return NULL;
	h = kcalloc(parts - 1, sizeof(*h), GFP_KERNEL | __GFP_NOWARN);
	rc->sh = kmalloc_obj(*rc->sh, GFP_KERNEL | __GFP_NOWARN);
	if (!h || !rc->sh) {
		kfree(h);
		kfree(rc->sh);
		rc->sh = NULL;
		return NULL;
	}
	rc->parts = parts;
	pcache_log_share_init(rc->sh, parts);
	pcache_log_cursor_init(&c->log, &start);
	for (i = 0; i < parts - 1; i++) {
		h[i].rc = *rc;
		h[i].rc.part = i + 1;
		h[i].cur = start;
		INIT_WORK(&h[i].work, replay_helper_fn);
		queue_work(c->wq, &h[i].work);
	}
	return h;
}

/*
 * Wait for the helpers.  Each must have read the journal to the kset the
 * caller's walk ended at: one that stopped elsewhere (a media error that
 * came and went) left keys out of its subtrees.
 */
static int stop_helpers(struct replay_ctx *rc, struct replay_helper *h,
			int ret)
{
	struct pcache_cache *c = rc->c;
	u32 i;

	if (!h)
		return ret;
	for (i = 0; i < rc->parts - 1; i++) {
		flush_work(&h[i].work);
		if (!ret && !h[i].ret && h[i].cur.seq != c->log.next_seq) {
			pcache_err(c->name, "replay helpers read the journal to different ends (%llu, %llu)",
				   h[i].cur.seq, c->log.next_seq);
			ret = -EIO;
		}
		ret = ret ?: h[i].ret;
		replay_merge(rc, &h[i].rc);
	}
	kfree(h);
	kfree(rc->sh);
	return ret;
}

/* Data that writeback still has to copy stays, even if overwritten since. */
static void keep_unwritten(struct pcache_cache *c, u64 dirty_seq)
{
	u32 i;

	for (i = 0; i < c->sa.count; i++) {
		if (!pcache_seq_after(atomic64_read(&c->segrt[i].wb_seq),
				      dirty_seq))
			continue;
		pcache_segalloc_mark(&c->sa, i);
		c->segrt[i].state = PCACHE_RT_CLOSED;
	}
}

static int replay_journal(struct pcache_cache *c)
{
	struct replay_ctx rc = { .c = c,
				 .dirty_seq = c->super->pos.dirty_tail_seq };
	struct pcache_replay_stats st;
	struct pcache_log_cursor start;
	struct replay_helper *h;
	ktime_t t0 = ktime_get();
	int ret;

	h = start_helpers(&rc);
	if (rc.sh) {
		pcache_log_cursor_init(&c->log, &start);
		pcache_log_precheck(&c->log, &start, rc.sh, 0);
	}
	ret = pcache_log_replay(&c->log, replay_key, &rc, rc.sh, &st);
	ret = stop_helpers(&rc, h, ret);
	if (ret) {
		pcache_err(c->name, "journal replay failed after %llu ksets: %d",
			   st.ksets, ret);
		return ret;
	}
	atomic64_set(&c->key_seq, rc.max_seq);
	atomic64_add(rc.dirty, &c->dirty_bytes);
	keep_unwritten(c, rc.dirty_seq);
	pcache_info(c->name, "replayed %llu ksets, %llu keys (%llu stale), %llu KiB dirty in %lld ms (%u walkers); journal ends: %s",
		    st.ksets, st.keys, rc.skipped, rc.dirty >> 10,
		    ktime_ms_delta(ktime_get(), t0), rc.parts, st.stop);
	return 0;
}

static int alloc_percpu_state(struct pcache_cache *c)
{
	struct pcache_open_kset *o;
	struct pcache_head *h;
	int cpu;

	/* a failure refuses the table with its own message: no allocator trace */
	c->segrt = kvcalloc(c->super->geo.seg_count, sizeof(*c->segrt),
			    GFP_KERNEL | __GFP_NOWARN);
	c->seal_ks = kzalloc(PCACHE_KSET_MAX_SIZE, GFP_KERNEL);
	if (!c->segrt || !c->seal_ks)
		return -ENOMEM;
	c->heads = alloc_percpu(struct pcache_head);
	c->open = alloc_percpu(struct pcache_open_kset);
	c->stats = alloc_percpu(struct pcache_stats);
	c->spare = alloc_percpu(struct pcache_cpu_keys);
	if (!c->heads || !c->open || !c->stats || !c->spare)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		h = per_cpu_ptr(c->heads, cpu);
		spin_lock_init(&h->lock);
		h->seg = PCACHE_SEG_NONE;
		o = per_cpu_ptr(c->open, cpu);
		mutex_init(&o->lock);
		o->ks = kzalloc(PCACHE_KSET_MAX_SIZE, GFP_KERNEL);
		if (!o->ks)
			return -ENOMEM;
	}
	return 0;
}

static void free_percpu_state(struct pcache_cache *c)
{
	int cpu, i;

	if (c->open) {
		for_each_possible_cpu(cpu)
			kfree(per_cpu_ptr(c->open, cpu)->ks);
	}
	if (c->spare) {
		for_each_possible_cpu(cpu)
			for (i = 0; i < PCACHE_CPU_KEYS; i++)
				if (per_cpu_ptr(c->spare, cpu)->k[i])
					mempool_free(per_cpu_ptr(c->spare, cpu)->k[i],
						     &c->idx.pool);
	}
	free_percpu(c->spare);
	free_percpu(c->open);
	free_percpu(c->heads);
	free_percpu(c->stats);
	kvfree(c->segrt);
	kfree(c->seal_ks);
}

/**
 * pcache_cache_start() - bring up the engine and replay the journal
 * @c: cache, zeroed
 * @name: device name for messages
 * @pm: mapped cache device
 * @super: loaded metadata
 * @sectors: size of the cached device
 * @kc: slab cache of struct pcache_key
 *
 * Return: 0, -ENOMEM, or an error of the replay (-EIO, -EUCLEAN).
 */
int pcache_cache_start(struct pcache_cache *c, const char *name,
		       struct pcache_pmem *pm, struct pcache_super *super,
		       u64 sectors, struct kmem_cache *kc)
{
	int ret;

	c->name = name;
	c->pm = pm;
	c->super = super;
	c->data_crc = super->set.data_crc;
	c->replacement = PCACHE_REPL_CLOCK;
	atomic64_set(&c->key_seq, 0);
	atomic_set(&c->bypass_inflight, 0);
	atomic64_set(&c->bypass_gen, 0);
	atomic64_set(&c->dirty_bytes, 0);
	init_waitqueue_head(&c->space_wait);
	mutex_init(&c->seal_lock);
	mutex_init(&c->flush_lock);
	atomic_set(&c->seal_lost, 0);
	atomic_set(&c->space_waiters, 0);
	atomic64_set(&c->flush_tickets, 0);
	memset(c->lost_upto, 0, sizeof(c->lost_upto));
	c->gc_kick = NULL;
	INIT_DELAYED_WORK(&c->seal_work, seal_work_fn);
	ret = pcache_segalloc_init(&c->sa, super->geo.seg_count);
	if (ret)
		return ret;
	ret = pcache_index_init(&c->idx, sectors, super->geo.seg_count, kc);
	if (ret)
		goto out_sa;
	ret = init_srcu_struct(&c->srcu);
	if (ret)
		goto out_idx;
	ret = alloc_percpu_state(c);
	if (ret)
		goto out_percpu;
	c->wq = alloc_workqueue("pcache-%s", WQ_MEM_RECLAIM | WQ_UNBOUND, 0,
				name);
	if (!c->wq) {
		ret = -ENOMEM;
		goto out_percpu;
	}
	pcache_log_init(&c->log, pm, super, &c->sa);
	ret = replay_journal(c);
	if (ret)
		goto out_wq;
	pcache_epochs_init(&c->epochs, atomic64_read(&c->key_seq));
	return 0;

out_wq:
	destroy_workqueue(c->wq);
out_percpu:
	free_percpu_state(c);
	cleanup_srcu_struct(&c->srcu);
out_idx:
	pcache_index_exit(&c->idx);
out_sa:
	pcache_segalloc_exit(&c->sa);
	return ret;
}

/**
 * pcache_cache_stop() - seal what is open and free the engine
 * @c: cache, no longer receiving I/O
 */
void pcache_cache_stop(struct pcache_cache *c)
{
	cancel_delayed_work_sync(&c->seal_work);
	pcache_cache_flush(c);
	destroy_workqueue(c->wq);
	free_percpu_state(c);
	cleanup_srcu_struct(&c->srcu);
	pcache_index_exit(&c->idx);
	pcache_segalloc_exit(&c->sa);
}
