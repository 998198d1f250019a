// SPDX-License-Identifier: GPL-2.0
/*
 * Segment allocator.  See segalloc.h.
 */
#include <linux/bitmap.h>
#include <linux/slab.h>

#include "segalloc.h"

/**
 * pcache_segalloc_init() - an allocator with every segment free
 * @sa: allocator
 * @count: number of segments
 *
 * Return: 0 or -ENOMEM.
 */
int pcache_segalloc_init(struct pcache_segalloc *sa, u32 count)
{
	spin_lock_init(&sa->lock);
	sa->map = bitmap_zalloc(count, GFP_KERNEL);
	if (!sa->map)
		return -ENOMEM;
	sa->count = count;
	sa->used = 0;
	sa->hint = 0;
	return 0;
}

/**
 * pcache_segalloc_exit() - free the allocator
 * @sa: allocator
 */
void pcache_segalloc_exit(struct pcache_segalloc *sa)
{
	bitmap_free(sa->map);
	sa->map = NULL;
}

/**
 * pcache_segalloc_get() - take a free segment
 * @sa: allocator
 * @reserve: fail unless more than this many segments are free, so that
 *	     the journal always finds room for its own segments
 * @seg: the segment taken
 *
 * Return: 0 or -ENOSPC.
 */
int pcache_segalloc_get(struct pcache_segalloc *sa, u32 reserve, u32 *seg)
{
	unsigned long bit;
	int ret = -ENOSPC;

	spin_lock(&sa->lock);
	if (sa->count - sa->used <= reserve)
		goto out;
	bit = find_next_zero_bit(sa->map, sa->count, sa->hint);
	if (bit >= sa->count)
		bit = find_first_zero_bit(sa->map, sa->count);
	if (WARN_ON_ONCE(bit >= sa->count))
		goto out;
	__set_bit(bit, sa->map);
	sa->used++;
	sa->hint = bit + 1;
	*seg = bit;
	ret = 0;
out:
	spin_unlock(&sa->lock);
	return ret;
}

/**
 * pcache_segalloc_mark() - record a segment found in use while loading
 * @sa: allocator
 * @seg: segment, below the allocator's count
 */
void pcache_segalloc_mark(struct pcache_segalloc *sa, u32 seg)
{
	spin_lock(&sa->lock);
	if (seg < sa->count && !__test_and_set_bit(seg, sa->map))
		sa->used++;
	spin_unlock(&sa->lock);
}

/**
 * pcache_segalloc_put() - give a segment back
 * @sa: allocator
 * @seg: a segment in use
 *
 * The caller makes sure nothing refers to the segment any more; whoever
 * takes it next bumps its generation before writing to it.
 */
void pcache_segalloc_put(struct pcache_segalloc *sa, u32 seg)
{
	spin_lock(&sa->lock);
	if (seg < sa->count && __test_and_clear_bit(seg, sa->map))
		sa->used--;
	spin_unlock(&sa->lock);
}

/**
 * pcache_segalloc_used() - segments in use
 * @sa: allocator
 *
 * Return: the count.
 */
u32 pcache_segalloc_used(struct pcache_segalloc *sa)
{
	return READ_ONCE(sa->used);
}
