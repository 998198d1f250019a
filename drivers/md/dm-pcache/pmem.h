/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DAX access to the cache device: one linear kernel mapping of the whole
 * device, machine-check-safe reads and persistent writes.
 *
 * Writes are made with memcpy_flushcache(), which bypasses or flushes the
 * CPU cache but does not order the stores; pcache_pmem_persist() is the
 * barrier after which everything written before it is durable.  Callers
 * group their stores and persist once.
 */
#ifndef _PCACHE_PMEM_H
#define _PCACHE_PMEM_H

#include <linux/types.h>

struct block_device;
struct dax_device;

/**
 * struct pcache_pmem - a mapped cache device
 * @base: kernel address of the device's byte 0
 * @size: bytes mapped
 * @vmapped: @base comes from vmap() of scattered pieces
 */
struct pcache_pmem {
	void *base;
	u64 size;
	bool vmapped;
};

int pcache_pmem_map(struct pcache_pmem *pm, struct dax_device *dax,
		    struct block_device *bdev, u64 size, const char **reason);
void pcache_pmem_unmap(struct pcache_pmem *pm);
int pcache_pmem_read(const struct pcache_pmem *pm, u64 off, void *dst,
		     size_t len);
void pcache_pmem_write(struct pcache_pmem *pm, u64 off, const void *src,
		       size_t len);
void pcache_pmem_zero(struct pcache_pmem *pm, u64 off, size_t len);
void pcache_pmem_persist(void);

/* Where a test may hold a thread to widen a race (see pmem.c) */
enum pcache_stall_at {
	PCACHE_STALL_COMMIT,	/* a write between index insert and kset */
	PCACHE_STALL_APPEND,	/* a seal right after its journal append */
	PCACHE_STALL_BYPASS,	/* a write about to go around a clean cache */
	PCACHE_STALL_REMAP,	/* such a write, counted, not yet sent */
	PCACHE_STALL_SPACE,	/* a seal, as if waiting for a full journal */
	PCACHE_STALLS
};

#ifdef CONFIG_DM_PCACHE_CRASHPOINT
bool pcache_pmem_crashed(void);
void pcache_debug_stall(enum pcache_stall_at at);
bool pcache_debug_stall_armed(enum pcache_stall_at at);
bool pcache_debug_no_timer(void);
bool pcache_debug_seal_fail(void);
void pcache_debug_lock_waited(void);
unsigned long pcache_debug_lock_poll(unsigned long poll);
void pcache_pmem_debug_init(void);
void pcache_pmem_debug_exit(void);
#else
static inline bool pcache_pmem_crashed(void)
{
	return false;
}

static inline void pcache_debug_stall(enum pcache_stall_at at)
{
}

static inline bool pcache_debug_stall_armed(enum pcache_stall_at at)
{
	return false;
}

static inline bool pcache_debug_no_timer(void)
{
	return false;
}

static inline bool pcache_debug_seal_fail(void)
{
	return false;
}

static inline void pcache_debug_lock_waited(void)
{
}

static inline unsigned long pcache_debug_lock_poll(unsigned long poll)
{
	return poll;
}

static inline void pcache_pmem_debug_init(void)
{
}

static inline void pcache_pmem_debug_exit(void)
{
}
#endif

#endif /* _PCACHE_PMEM_H */
