/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Writeback and garbage collection: how the cache empties.
 *
 * Writeback walks the journal from the dirty tail, one kset at a time, in
 * journal order.  The data of a kset's dirty keys is written to the backing
 * device (in parallel, in key order where ranges overlap), then the backing
 * device is flushed, and only then does the persisted dirty tail move past
 * the kset.  The backing device therefore always holds what the cache held
 * at some kset boundary, and ksets never straddle a flush.
 * Writeback waits while dirty data stays below writeback_percent of the
 * cache and writes keep coming; it starts once they pause
 * (pcache_wb_look()), the threshold is passed, GC or a flush needs it,
 * or dirty data has been held for WB_MAX_HOLD since the cache was last
 * clean.
 *
 * GC walks the journal from the key tail up to the dirty tail while segment
 * usage is at or above gc_percent (or a writer waits for space): the clean
 * keys of each kset are evicted oldest first, the key tail moves on and key
 * segments left behind are freed; data segments that nothing refers to any
 * more go back to the allocator.
 */
#ifndef _PCACHE_WRITEBACK_H
#define _PCACHE_WRITEBACK_H

#include <linux/blk_types.h>
#include <linux/completion.h>
#include <linux/jiffies.h>

#include "cache.h"

#define PCACHE_WB_PAGES		256	/* data buffer: 1 MiB in flight */
#define PCACHE_WB_RUNS		64	/* ranges in flight at once */
#define PCACHE_WB_PERCENT_DEF	50	/* writeback_percent */
#define PCACHE_WB_PERCENT_MAX	90

/**
 * pcache_wb_hold() - may writeback wait for now
 * @dirty: bytes of dirty keys in the journal
 * @capacity: bytes of the cache's segments
 * @percent: writeback_percent; 0 writes back whatever is dirty at once
 * @idle: no dirty data arrived for a while
 * @urgent: someone needs writeback now (a flush, writers short of space,
 *	    GC, dirty data held too long)
 *
 * Writeback competes with the writes it follows for CPU and memory
 * bandwidth.  While writes keep coming and the cache has room, holding
 * it lets bursts run at pmem speed, and data overwritten within a flush
 * epoch is then never written back at all.
 *
 * Return: true if writeback should wait.
 */
static inline bool pcache_wb_hold(u64 dirty, u64 capacity, u32 percent,
				  bool idle, bool urgent)
{
	return percent && !idle && !urgent &&
	       dirty * 100 < (u64)percent * capacity;
}

/* writes have paused: longer than the seal interval that shows them */
#define PCACHE_WB_QUIET		(2 * PCACHE_SEAL_INTERVAL)
/* the most quiet time one look vouches for: above WB_IDLE, its interval */
#define PCACHE_WB_LOOK_MAX	(HZ * 3 / 5)

/**
 * struct pcache_wb_quiet - whether the dirty data coming in has paused
 * @dirtied: c->dirtied at the last look
 * @looked_at: when the last look was taken
 * @quiet: quiet time vouched for by the looks since growth was last seen
 */
struct pcache_wb_quiet {
	u64 dirtied;
	unsigned long looked_at;
	unsigned long quiet;
};

/**
 * pcache_wb_watch() - start watching for a pause afresh
 * @q: the watch
 * @dirtied: c->dirtied now
 * @now: jiffies
 */
static inline void pcache_wb_watch(struct pcache_wb_quiet *q, u64 dirtied,
				   unsigned long now)
{
	q->dirtied = dirtied;
	q->looked_at = now;
	q->quiet = 0;
}

/**
 * pcache_wb_look() - take a look: have writes paused?
 * @q: what earlier looks saw
 * @dirtied: c->dirtied now
 * @now: jiffies
 *
 * Time alone is not enough: when a virtual machine's vCPUs are not run for
 * a while (a loaded host, a TCG guest), the writer and the seal timer that
 * would show its keys stop too, and the first look after the gap would
 * find the last growth long past.  So each look vouches for the time since
 * the one before it up to PCACHE_WB_LOOK_MAX only: after a gap, looks
 * that span more than a seal interval must still see no growth.
 *
 * Return: true once the looks since the last growth vouch for
 * PCACHE_WB_QUIET.
 */
static inline bool pcache_wb_look(struct pcache_wb_quiet *q, u64 dirtied,
				  unsigned long now)
{
	if (dirtied != q->dirtied) {
		pcache_wb_watch(q, dirtied, now);
		return false;
	}
	if (q->quiet < PCACHE_WB_QUIET)
		q->quiet += min_t(unsigned long, now - q->looked_at,
				  PCACHE_WB_LOOK_MAX);
	q->looked_at = now;
	return q->quiet >= PCACHE_WB_QUIET;
}

/**
 * pcache_wb_err() - an error of the backing device as writeback reports it
 * @err: 0 or the errno of a writeback write or of the flush after it
 *
 * The writeback worker gives two errnos a meaning of its own: -ENODATA,
 * nothing to write back, and -EINPROGRESS, a write around the cache still
 * in flight.  blk_status_to_errno() makes a medium error -ENODATA, which
 * would then pass for an empty journal: no error counted, no retry back
 * off, and a flush waiting for writeback forever.
 *
 * Return: @err, or -EIO in place of those two.
 */
static inline int pcache_wb_err(int err)
{
	return err == -ENODATA || err == -EINPROGRESS ? -EIO : err;
}

/**
 * struct pcache_wb - writeback and GC of one cache
 * @c: the cache
 * @bdev: backing device
 * @ks: kset buffer of the writeback worker
 * @gc_ks: kset buffer of the GC worker
 * @keys: decoded keys of the kset being written back
 * @pages: data buffer
 * @cand: GC's candidate data segments
 * @move_buf: GC's bounce buffer for keeping read data
 * @passed: bytes of data keys the key tail passed in this GC run
 * @kept: bytes of them GC kept by moving them
 * @wb_work: writeback worker
 * @gc_work: GC worker
 * @flush_wait: callers of pcache_wb_flush()
 * @pos: dirty tail (first kset not written back)
 * @seq: its sequence number; read by GC without a lock
 * @ktail: key tail, owned by GC
 * @ktail_seq: its sequence number
 * @inflight: bios in flight, plus one while they are being issued
 * @done: all bios of a batch completed
 * @status: first error of the batch
 * @issued: the kset being written back sent data to the backing device
 * @used: pages of @pages holding data in flight
 * @nr: ranges in flight
 * @lba: first sectors of the ranges in flight
 * @end: their ends
 * @kset_bytes: bytes of the kset being written back
 * @lost_bytes: bytes of its dirty keys that could not be read back intact
 * @written: bytes written back (and flushed)
 * @errors: failed writeback attempts
 * @reclaimed: segments GC gave back
 * @backoff: delay before the next attempt after a failure
 * @failing: in an episode of backing-device errors
 * @running: workers may run (false while suspended)
 * @percent: writeback_percent of the table in force, 0 in the modes that
 *	     keep no dirty data
 * @flushers: callers of pcache_wb_flush() waiting
 * @quiet: whether writes have paused, as the worker's looks saw
 * @clean_at: when writeback last found nothing to do
 */
struct pcache_wb {
	struct pcache_cache *c;
	struct block_device *bdev;
	struct pcache_kset_onmedia *ks;
	struct pcache_kset_onmedia *gc_ks;
	struct pcache_key_info *keys;
	struct page *pages[PCACHE_WB_PAGES];
	unsigned long *cand;
	void *move_buf;
	u64 passed;
	u64 kept;
	struct delayed_work wb_work;
	struct work_struct gc_work;
	wait_queue_head_t flush_wait;
	struct pcache_pos pos;
	u64 seq;
	struct pcache_pos ktail;
	u64 ktail_seq;
	atomic_t inflight;
	struct completion done;
	blk_status_t status;
	bool issued;
	u32 used;
	u32 nr;
	u64 lba[PCACHE_WB_RUNS];
	u64 end[PCACHE_WB_RUNS];
	u64 kset_bytes;
	u64 lost_bytes;
	u64 written;
	u64 errors;
	u64 reclaimed;
	unsigned long backoff;
	bool failing;
	bool running;
	u32 percent;
	atomic_t flushers;
	struct pcache_wb_quiet quiet;
	unsigned long clean_at;
};

int pcache_wb_init(struct pcache_wb *wb, struct pcache_cache *c,
		   struct block_device *bdev);
void pcache_wb_exit(struct pcache_wb *wb);
void pcache_wb_start(struct pcache_wb *wb);
void pcache_wb_stop(struct pcache_wb *wb);
int pcache_wb_flush(struct pcache_wb *wb);
void pcache_wb_set_percent(struct pcache_wb *wb, u32 percent);

#endif /* _PCACHE_WRITEBACK_H */
