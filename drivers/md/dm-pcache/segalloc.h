/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Segment allocator: which 16 MiB segments of the cache device are in use.
 * An in-memory bitmap under a spinlock, rebuilt from the journal at load;
 * callers persist a segment's info record themselves when they take it.
 */
#ifndef _PCACHE_SEGALLOC_H
#define _PCACHE_SEGALLOC_H

#include <linux/spinlock.h>
#include <linux/types.h>

/**
 * struct pcache_segalloc - segment usage
 * @lock: protects @map, @used and @hint
 * @map: bit set for a segment in use
 * @count: number of segments
 * @used: bits set in @map
 * @hint: where the next search starts
 */
struct pcache_segalloc {
	spinlock_t lock;
	unsigned long *map;
	u32 count;
	u32 used;
	u32 hint;
};

int pcache_segalloc_init(struct pcache_segalloc *sa, u32 count);
void pcache_segalloc_exit(struct pcache_segalloc *sa);
int pcache_segalloc_get(struct pcache_segalloc *sa, u32 reserve, u32 *seg);
void pcache_segalloc_mark(struct pcache_segalloc *sa, u32 seg);
void pcache_segalloc_put(struct pcache_segalloc *sa, u32 seg);
u32 pcache_segalloc_used(struct pcache_segalloc *sa);

#endif /* _PCACHE_SEGALLOC_H */
