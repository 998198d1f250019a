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

#include "cache.h"

#define PCACHE_WB_PAGES		256	/* data buffer: 1 MiB in flight */
#define PCACHE_WB_RUNS		64	/* ranges in flight at once */

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
 * @written: bytes written back (and flushed)
 * @errors: failed writeback attempts
 * @reclaimed: segments GC gave back
 * @backoff: delay before the next attempt after a failure
 * @failing: in an episode of backing-device errors
 * @running: workers may run (false while suspended)
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
	u64 written;
	u64 errors;
	u64 reclaimed;
	unsigned long backoff;
	bool failing;
	bool running;
};

int pcache_wb_init(struct pcache_wb *wb, struct pcache_cache *c,
		   struct block_device *bdev);
void pcache_wb_exit(struct pcache_wb *wb);
void pcache_wb_start(struct pcache_wb *wb);
void pcache_wb_stop(struct pcache_wb *wb);
int pcache_wb_flush(struct pcache_wb *wb);

#endif /* _PCACHE_WRITEBACK_H */
