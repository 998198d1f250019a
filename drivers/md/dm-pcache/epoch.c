// SPDX-License-Identifier: GPL-2.0
/*
 * Flush epochs.  See epoch.h.
 */
#include "format/pcache_verify.h"
#include "epoch.h"

/**
 * pcache_epochs_init() - no flush known yet
 * @e: epochs
 * @seq: the highest key sequence number present (after replay): the
 *	 journal does not say which of those keys a flush separated
 */
void pcache_epochs_init(struct pcache_epochs *e, u64 seq)
{
	spin_lock_init(&e->lock);
	e->unknown = seq;
	e->first = 0;
	e->nr = 0;
}

/**
 * pcache_epochs_barrier() - a flush arrived, or a FUA write was sealed
 * @e: epochs
 * @seq: the key sequence counter; read under the lock, so that barriers
 *	 of concurrent flushes are recorded in order
 */
void pcache_epochs_barrier(struct pcache_epochs *e, const atomic64_t *seq)
{
	u32 last;
	u64 s;

	spin_lock(&e->lock);
	s = atomic64_read(seq);
	last = (e->first + e->nr - 1) % PCACHE_EPOCH_BARRIERS;
	if (e->nr && e->bar[last] == s)
		goto out;
	if (!pcache_seq_after(s, e->unknown))
		goto out;
	if (e->nr == PCACHE_EPOCH_BARRIERS) {
		/* the oldest barrier is forgotten: its keys stay apart */
		e->unknown = e->bar[e->first];
		e->first = (e->first + 1) % PCACHE_EPOCH_BARRIERS;
		e->nr--;
	}
	e->bar[(e->first + e->nr) % PCACHE_EPOCH_BARRIERS] = s;
	e->nr++;
out:
	spin_unlock(&e->lock);
}

/**
 * pcache_epochs_limit() - how far the epoch of one key reaches
 * @e: epochs
 * @seq: the key's sequence number
 * @now: the key sequence counter
 *
 * A newer key of sequence number at most the result is in the same flush
 * epoch as key @seq.  The caller holds the lock of the subtree in which it
 * looks at newer keys: a flush (or FUA write) that a newer key's write
 * came after was recorded before that key was inserted, so it is seen
 * here.
 *
 * Return: the last sequence number of the epoch so far, or @seq itself
 * when the key's epoch is not known.
 */
u64 pcache_epochs_limit(struct pcache_epochs *e, u64 seq,
			const atomic64_t *now)
{
	u64 limit;
	u32 i;

	spin_lock(&e->lock);
	limit = atomic64_read(now);
	if (!pcache_seq_after(seq, e->unknown)) {
		limit = seq;
		goto out;
	}
	for (i = 0; i < e->nr; i++) {
		u64 b = e->bar[(e->first + i) % PCACHE_EPOCH_BARRIERS];

		if (!pcache_seq_after(seq, b)) {
			limit = b;
			break;
		}
	}
out:
	spin_unlock(&e->lock);
	return limit;
}
