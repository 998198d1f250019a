/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The key index: which ranges of the backing device are cached where.
 *
 * The logical address space is cut into stripes of PCACHE_STRIPE_SECTORS,
 * each with its own rbtree and spinlock, so I/O to unrelated places never
 * shares a lock.  Keys in one tree never overlap: inserting a key trims,
 * splits or removes what it covers, and a key crossing a stripe boundary is
 * cut into one key per stripe.  Where two keys overlap, the one with the
 * higher sequence number wins, so replaying the journal in any order of
 * ksets rebuilds the same index.
 */
#ifndef _PCACHE_INDEX_H
#define _PCACHE_INDEX_H

#include <linux/mempool.h>
#include <linux/rbtree.h>
#include <linux/spinlock.h>

#include "format/pcache_verify.h"

#define PCACHE_STRIPE_SHIFT	15	/* 16 MiB of sectors per subtree */
#define PCACHE_STRIPE_SECTORS	(1U << PCACHE_STRIPE_SHIFT)

/* In memory only: the key was read since it was made or moved */
#define PCACHE_KEY_HIT		(1U << 31)
/*
 * In memory only: the key of a write is not yet in the journal, so a power
 * cut loses it; writeback never leaves older data out for such a key.
 */
#define PCACHE_KEY_OPEN		(1U << 30)
static_assert(!((PCACHE_KEY_HIT | PCACHE_KEY_OPEN) & PCACHE_KEY_FLAGS_ALL));

/**
 * struct pcache_key - a key in the index
 * @node: in its subtree, ordered by lba
 * @k: the key
 */
struct pcache_key {
	struct rb_node node;
	struct pcache_key_info k;
};

/**
 * struct pcache_subtree - one stripe of the index
 * @lock: protects @root and the keys in it
 * @root: keys, by lba, never overlapping
 * @refs: the index's keys with data, per data segment (shared by every
 *	  subtree of the index; NULL: not counted)
 */
struct pcache_subtree {
	spinlock_t lock;
	struct rb_root root;
	atomic_t *refs;
};

/**
 * struct pcache_index - the striped index
 * @trees: one subtree per stripe
 * @nr: number of subtrees
 * @refs: keys with data in each data segment, so that GC finds the
 *	  segments nothing points to without walking every key
 * @nr_segs: entries of @refs
 * @pool: key allocations, with a reserve so that I/O always progresses
 */
struct pcache_index {
	struct pcache_subtree *trees;
	u32 nr;
	atomic_t *refs;
	u32 nr_segs;
	mempool_t pool;
};

/* How a present key (old) relates to an inserted one (new) */
enum pcache_overlap {
	PCACHE_OV_NONE,		/* disjoint */
	PCACHE_OV_INSIDE,	/* old lies within new */
	PCACHE_OV_HEAD,		/* old starts before new, ends inside it */
	PCACHE_OV_TAIL,		/* old starts inside new, ends after it */
	PCACHE_OV_AROUND,	/* old starts before and ends after new */
};

/* Supplies a key when an insert must split; NULL when none is left. */
typedef struct pcache_key *(*pcache_key_alloc_t)(void *ctx);

enum pcache_overlap pcache_overlap_classify(u64 old_start, u64 old_end,
					    u64 new_start, u64 new_end);
void pcache_key_trim_front(struct pcache_key_info *k, u64 start);
void pcache_key_trim_back(struct pcache_key_info *k, u64 end);
int pcache_subtree_insert(struct pcache_subtree *t, struct pcache_key *n,
			  pcache_key_alloc_t alloc, void *ctx,
			  mempool_t *pool, bool *overlapped);
bool pcache_subtree_lookup(struct pcache_subtree *t, u64 lba, u64 end,
			   struct pcache_key_info *hit, u64 *run_end, bool touch);
bool pcache_subtree_drop(struct pcache_subtree *t,
			 const struct pcache_key_info *k, mempool_t *pool);
bool pcache_subtree_wb_run(struct pcache_subtree *t,
			   const struct pcache_key_info *k, u64 from,
			   u64 limit, u64 *start, u64 *end);
bool pcache_subtree_dirty(struct pcache_subtree *t, u64 lba, u64 end);
bool pcache_subtree_next_of(struct pcache_subtree *t, u64 from, u64 end,
			    u64 seq, struct pcache_key_info *out);
void pcache_subtree_mark_journaled(struct pcache_subtree *t, u64 lba,
				   u64 end, u64 seq);
void pcache_subtree_mark_clean(struct pcache_subtree *t, u64 lba, u64 end,
			       u64 seq);
bool pcache_subtree_move(struct pcache_subtree *t,
			 const struct pcache_key_info *k, u32 seg, u32 off,
			 u32 gen);
u32 pcache_subtree_evict(struct pcache_subtree *t, u64 lba, u64 end, u64 seq,
			 u32 seg, mempool_t *pool);
void pcache_subtree_clear(struct pcache_subtree *t, mempool_t *pool);

int pcache_index_init(struct pcache_index *idx, u64 sectors, u32 nr_segs,
		      struct kmem_cache *kc);
bool pcache_index_seg_unused(struct pcache_index *idx, u32 seg);
void pcache_index_exit(struct pcache_index *idx);
struct pcache_subtree *pcache_index_tree(struct pcache_index *idx, u64 lba);
u64 pcache_stripe_end(u64 lba);

#endif /* _PCACHE_INDEX_H */
