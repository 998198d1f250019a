/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Flush epochs: which cached writes a flush (REQ_PREFLUSH or the flush
 * message) or a FUA write keeps apart.
 *
 * Writeback may leave out the data of a dirty write when a newer dirty
 * write to the same sectors, already journaled (see PCACHE_KEY_OPEN),
 * followed it with no flush in between.  The backing device then never
 * holds the older data, which a power cut of a plain disk could have lost
 * as well: without a flush the device owed the older write nothing once
 * the newer one replaced it.  Across a completed flush that is not so, and
 * the older data must reach the disk first; nor is it for a completed FUA
 * write, which is owed by itself.
 *
 * Each flush records the highest key sequence number handed out when it
 * arrived (a barrier): a write finished before the flush was sent has a
 * key at or below it.  A FUA write records one once its key is sealed.
 * Writes in flight during the flush may land on either side, which the
 * block layer allows.  The barriers live in a small ring; a key older than
 * the oldest barrier still known, or than the load of the cache (whose
 * earlier flushes were not recorded), is never left out.
 */
#ifndef _PCACHE_EPOCH_H
#define _PCACHE_EPOCH_H

#include <linux/atomic.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#define PCACHE_EPOCH_BARRIERS	128

/**
 * struct pcache_epochs - the barriers of recent flushes and FUA writes
 * @lock: protects the other fields; taken per barrier and by writeback
 * @unknown: keys up to this sequence number are never left out
 * @first: index of the oldest barrier in @bar
 * @nr: barriers in @bar
 * @bar: barrier sequence numbers, oldest first
 */
struct pcache_epochs {
	spinlock_t lock;
	u64 unknown;
	u32 first;
	u32 nr;
	u64 bar[PCACHE_EPOCH_BARRIERS];
};

void pcache_epochs_init(struct pcache_epochs *e, u64 seq);
void pcache_epochs_barrier(struct pcache_epochs *e, const atomic64_t *seq);
u64 pcache_epochs_limit(struct pcache_epochs *e, u64 seq,
			const atomic64_t *now);

#endif /* _PCACHE_EPOCH_H */
