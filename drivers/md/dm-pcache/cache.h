/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The cache engine: owns the segment allocator, the index and the journal
 * of one cache device, and carries out reads and writes on them.
 *
 * Writes are copied to pmem at a per-CPU data head, indexed, and their keys
 * gathered in a per-CPU open kset that is sealed into the journal when it
 * is full, on FUA, on a flush, and at the latest PCACHE_SEAL_INTERVAL after
 * its first key.  The bio-level decisions (splitting, remapping) belong to
 * the target; this layer works on ranges handed to it.
 */
#ifndef _PCACHE_CACHE_H
#define _PCACHE_CACHE_H

#include <linux/srcu.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "epoch.h"
#include "index.h"
#include "kset_log.h"
#include "segalloc.h"

struct bio;
struct pcache_pmem;

#define PCACHE_SEAL_INTERVAL	HZ	/* open ksets are sealed within 1 s */
#define PCACHE_JOURNAL_RESERVE	2	/* segments kept free for the journal */
#define PCACHE_MOVE_MAX		(256 << 10)	/* largest key GC keeps by copying */
#define PCACHE_MOVE_BUF		4096

/* What GC evicts at the key tail (pcache_cache.replacement) */
enum {
	PCACHE_REPL_FIFO,	/* everything, oldest first */
	PCACHE_REPL_CLOCK,	/* keeps clean data read since it was cached */
	PCACHE_REPL_MAX = PCACHE_REPL_CLOCK,
};

/* Who waits on a flush that reports lost seals (pcache_cache_sync()) */
enum {
	PCACHE_SYNC_NONE = -1,	/* an internal flush: reports no loss */
	PCACHE_SYNC_BIO,	/* REQ_PREFLUSH: the filesystem or application */
	PCACHE_SYNC_ADMIN,	/* the flush message, a mode change */
	PCACHE_SYNC_CLASSES,
};
#define PCACHE_SYNC_ALL		(BIT(PCACHE_SYNC_CLASSES) - 1)

/**
 * struct pcache_head - a per-CPU place where written data goes
 * @lock: protects @seg and @off
 * @seg: current data segment, or PCACHE_SEG_NONE
 * @off: next free byte in @seg
 */
struct pcache_head {
	spinlock_t lock;
	u32 seg;
	u32 off;
};

/**
 * struct pcache_open_kset - keys not yet in the journal, per CPU
 * @lock: protects @ks; a write holds it from its index insert until its
 *	  key is in @ks, so that a flush holding every one of them sees no
 *	  write half committed
 * @ks: the kset being filled (PCACHE_KSET_MAX_SIZE bytes)
 * @dirty: dirty keys in @ks (read without the lock by pcache_all_clean())
 */
struct pcache_open_kset {
	struct mutex lock;
	struct pcache_kset_onmedia *ks;
	u32 dirty;
};

/**
 * struct pcache_wres - space reserved for a write
 * @seg: data segment
 * @off: byte offset in @seg
 * @sectors: sectors reserved (may be fewer than asked)
 */
struct pcache_wres {
	u32 seg;
	u32 off;
	u32 sectors;
};

#define PCACHE_CPU_KEYS		2

/**
 * struct pcache_cpu_keys - index nodes one CPU keeps for its next writes
 * @k: free nodes, or NULL
 */
struct pcache_cpu_keys {
	struct pcache_key *k[PCACHE_CPU_KEYS];
};

/* Life of a data segment in memory (pcache_seg_rt.state) */
enum {
	PCACHE_RT_FREE,		/* not a data segment, or being allocated */
	PCACHE_RT_OPEN,		/* a data head writes into it */
	PCACHE_RT_CLOSED,	/* full: GC may reclaim it */
};

/**
 * struct pcache_seg_rt - what keeps a data segment from being reclaimed
 * @pending: keys pointing into it that are not yet in a sealed kset, plus
 *	     reservations not yet committed
 * @wb_seq: one past the last kset holding a key into it: the segment's
 *	    data may be needed by writeback until the dirty tail reaches this
 * @state: PCACHE_RT_*
 */
struct pcache_seg_rt {
	atomic_t pending;
	atomic64_t wb_seq;
	int state;
};

/**
 * struct pcache_stats - counters, per CPU
 * @read_hits: reads served wholly from pmem
 * @read_misses: reads sent wholly to the backing device
 * @read_partial: reads cut into a hit part and a miss part
 * @write_hits: writes that replaced cached data of some or all of their range
 * @cache_bytes: bytes served from pmem
 * @fill_bytes: bytes put into the cache by read misses
 * @space_waits: writes that had to wait for a free segment
 * @media_errors: pmem media errors met by reads
 * @crc_errors: cached data whose CRC did not match
 * @bypass_bytes: bytes of sequential streams past the cutoff that were not
 *		  cached
 * @kept_bytes: clean bytes GC kept, because they were read, by moving them
 */
struct pcache_stats {
	u64 read_hits;
	u64 read_misses;
	u64 read_partial;
	u64 write_hits;
	u64 cache_bytes;
	u64 fill_bytes;
	u64 space_waits;
	u64 media_errors;
	u64 crc_errors;
	u64 bypass_bytes;
	u64 kept_bytes;
};

/**
 * struct pcache_cache - the engine of one cache device
 * @name: device name for messages
 * @pm: mapped cache device
 * @super: loaded metadata
 * @sa: segment allocator
 * @idx: key index
 * @log: key journal
 * @heads: per-CPU data heads
 * @open: per-CPU open ksets
 * @key_seq: last key sequence number handed out
 * @bypass_inflight: writes sent around the cache, in flight; in the modes
 *		     that keep dirty data counted from before their tombstone
 * @bypass_gen: bumped when such a write starts and when it ends; a fill
 *		that saw it change may hold data that write replaced
 * @stats: per-CPU counters
 * @spare: per-CPU index nodes kept for the next writes
 * @segrt: per-segment reclaim state
 * @dirty_bytes: bytes of dirty keys sealed in the journal and not yet
 *		 written back
 * @dirtied: bytes of dirty keys ever sealed; writeback watches it to see
 *	     whether writes keep coming
 * @space_wait: writers waiting for a free segment
 * @space_waiters: seals waiting for GC to free a segment for the journal,
 *		   and writers waiting for index memory, each holding locks
 *		   that a write around the cache must not wait for
 * @gc_kick: work that reclaims segments, set by the writeback layer
 * @srcu: read hits copy from pmem inside it; a segment is reused only
 *	  after a grace period
 * @seal_lock: serialises sealing, so that what a seal finds in the index
 *	       and the order of ksets in the journal agree
 * @flush_lock: serialises flushes, each of which holds every open kset's
 *		lock at once
 * @seal_lost: BIT(PCACHE_SYNC_*) of each class of flush that has yet to
 *	       hear that a seal failed and dropped keys of completed writes
 * @flush_tickets: flushes of a class (PCACHE_SYNC_*) ever started
 * @lost_upto: per class, the flushes started up to this ticket fail: they
 *	       were waiting when that class heard of the loss
 * @seal_ks: the kset being sealed
 * @wq: workqueue of the seal timer
 * @seal_work: seals open ksets PCACHE_SEAL_INTERVAL after a key arrives
 * @data_crc: keys carry a CRC of their data
 * @replacement: PCACHE_REPL_*
 * @epochs: where flushes and FUA writes fell among the keys (see epoch.h)
 */
struct pcache_cache {
	const char *name;
	struct pcache_pmem *pm;
	struct pcache_super *super;
	struct pcache_segalloc sa;
	struct pcache_index idx;
	struct pcache_log log;
	struct pcache_head __percpu *heads;
	struct pcache_open_kset __percpu *open;
	atomic64_t key_seq;
	atomic_t bypass_inflight;
	atomic64_t bypass_gen;
	struct pcache_stats __percpu *stats;
	struct pcache_cpu_keys __percpu *spare;
	struct pcache_seg_rt *segrt;
	atomic64_t dirty_bytes;
	atomic64_t dirtied;
	wait_queue_head_t space_wait;
	atomic_t space_waiters;
	struct work_struct *gc_kick;
	struct srcu_struct srcu;
	struct mutex seal_lock;
	struct mutex flush_lock;
	atomic_t seal_lost;
	atomic64_t flush_tickets;
	u64 lost_upto[PCACHE_SYNC_CLASSES];
	struct pcache_kset_onmedia *seal_ks;
	struct workqueue_struct *wq;
	struct delayed_work seal_work;
	bool data_crc;
	int replacement;
	struct pcache_epochs epochs;
};

int pcache_cache_start(struct pcache_cache *c, const char *name,
		       struct pcache_pmem *pm, struct pcache_super *super,
		       u64 sectors, struct kmem_cache *kc);
void pcache_cache_stop(struct pcache_cache *c);
int pcache_cache_flush(struct pcache_cache *c);
int pcache_cache_sync(struct pcache_cache *c, int who);
int pcache_cache_preflush(struct pcache_cache *c);
u64 pcache_epoch_limit(struct pcache_cache *c, u64 seq);
int pcache_write_reserve(struct pcache_cache *c, u32 sectors,
			 struct pcache_wres *r);
int pcache_write_commit(struct pcache_cache *c, struct bio *bio, u64 lba,
			const struct pcache_wres *r, bool fua);
int pcache_write_invalidate(struct pcache_cache *c, u64 lba, u32 sectors,
			    bool fua, bool if_clean);
int pcache_write_zeroes(struct pcache_cache *c, u64 lba, u32 sectors,
			bool discard, bool fua);
bool pcache_all_clean(struct pcache_cache *c);
u64 pcache_bypass_start(struct pcache_cache *c);
void pcache_bypass_end(struct pcache_cache *c);
bool pcache_bypass_busy(struct pcache_cache *c);
bool pcache_bypass_idle(struct pcache_cache *c, u64 *gen);
bool pcache_bypass_since(struct pcache_cache *c, u64 gen, u64 own);
u64 pcache_fill_begin(struct pcache_cache *c);
bool pcache_read_lookup(struct pcache_cache *c, u64 lba, u32 sectors,
			struct pcache_key_info *hit, u32 *run);
void pcache_read_fill(struct pcache_cache *c, struct bio *bio,
		      struct bvec_iter iter, u64 lba, u64 fill_seq);
void pcache_stats_sum(struct pcache_cache *c, struct pcache_stats *sum);
int pcache_key_move(struct pcache_cache *c, const struct pcache_key_info *k,
		    void *buf);
int pcache_read_copy(struct pcache_cache *c, struct bio *bio, u64 lba,
		     const struct pcache_key_info *hit);

/**
 * pcache_read_lock() - enter a section that copies cached data from pmem
 * @c: cache
 *
 * Return: a cookie for pcache_read_unlock().
 */
static inline int pcache_read_lock(struct pcache_cache *c)
{
	return srcu_read_lock(&c->srcu);
}

/**
 * pcache_read_unlock() - leave it
 * @c: cache
 * @idx: from pcache_read_lock()
 */
static inline void pcache_read_unlock(struct pcache_cache *c, int idx)
{
	srcu_read_unlock(&c->srcu, idx);
}

/**
 * pcache_count_bypass() - count bytes the sequential cutoff kept out
 * @c: cache
 * @bytes: how many
 */
static inline void pcache_count_bypass(struct pcache_cache *c, u32 bytes)
{
	this_cpu_add(c->stats->bypass_bytes, bytes);
}

int pcache_key_verify(struct pcache_cache *c, const struct pcache_key_info *k);
u64 pcache_data_addr(const struct pcache_cache *c, u32 seg, u32 off);
bool pcache_gc_wanted(struct pcache_cache *c);

#endif /* _PCACHE_CACHE_H */
