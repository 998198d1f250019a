/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sequential stream detection for the sequential cutoff.
 *
 * Each CPU remembers the last few streams it saw: where the next bio of a
 * stream would start and how many bytes the stream has had so far.  A bio
 * that starts where a stream ended continues it; any other bio starts a
 * new one in place of the stream seen longest ago.  The target lets a
 * stream that has grown past the cutoff bypass the cache.
 *
 * State is per CPU, so the hot path takes no shared lock; a submitter that
 * moves to another CPU starts counting again there, which only delays the
 * bypass by one cutoff's worth of I/O.
 */
#ifndef _PCACHE_SEQCUT_H
#define _PCACHE_SEQCUT_H

#include <linux/jiffies.h>
#include <linux/types.h>

#define PCACHE_SEQ_STREAMS	8
#define PCACHE_SEQ_IDLE		(HZ * 2)	/* a stream this idle ends */

/**
 * struct pcache_seq_stream - one sequential stream
 * @start: first sector of its last bio
 * @next: sector where its next bio would start
 * @bytes: bytes it has had
 * @last: jiffies of its last bio
 */
struct pcache_seq_stream {
	u64 start;
	u64 next;
	u64 bytes;
	unsigned long last;
};

/**
 * struct pcache_seq_cpu - the streams one CPU has seen
 * @s: streams, most recently used first
 */
struct pcache_seq_cpu {
	struct pcache_seq_stream s[PCACHE_SEQ_STREAMS];
};

u64 pcache_seq_note(struct pcache_seq_cpu *sc, u64 sector, u32 bytes,
		    unsigned long now);

#endif /* _PCACHE_SEQCUT_H */
