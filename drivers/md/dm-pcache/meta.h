/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Dual-slot metadata records on pmem.
 *
 * A record (superblock, cache info, positions, segment info) lives in two
 * slots at a fixed stride.  pcache_meta_load() takes the valid slot with the
 * highest sequence; pcache_meta_store() always writes the OTHER slot with
 * the next sequence, persists it, and only then makes it current, so a power
 * cut during a store leaves the previous copy valid and in charge.
 *
 * Callers serialise loads and stores of one record (single-threaded setup,
 * or the owner's lock); the layer itself takes no lock.
 */
#ifndef _PCACHE_META_H
#define _PCACHE_META_H

#include "format/pcache_verify.h"

struct pcache_pmem;

/* Largest record handled through a dual-slot handle */
#define PCACHE_META_MAX_SIZE	256

/**
 * struct pcache_meta - handle of one dual-slot record
 * @off: byte offset of slot 0 in the cache device
 * @stride: bytes from slot 0 to slot 1
 * @size: bytes of the record
 * @cur: slot holding the current copy
 * @seq: sequence number of the current copy
 * @err: per slot, result of the last load (0 valid, or -errno)
 * @why: per slot, the failing check of the last load
 */
struct pcache_meta {
	u64 off;
	u32 stride;
	u32 size;
	int cur;
	u64 seq;
	int err[PCACHE_SLOTS];
	const char *why[PCACHE_SLOTS];
};

/* Validates one slot's copy; returns 0 or -errno and sets *reason */
typedef int (*pcache_meta_check_t)(const void *rec, const void *ctx,
				   const char **reason);

void pcache_meta_init(struct pcache_meta *m, u64 off, u32 stride, u32 size);
int pcache_meta_load(struct pcache_meta *m, const struct pcache_pmem *pm,
		     pcache_meta_check_t check, const void *ctx, void *rec);
u64 pcache_meta_next_seq(const struct pcache_meta *m);
int pcache_meta_next_slot(const struct pcache_meta *m);
void pcache_meta_store(struct pcache_meta *m, struct pcache_pmem *pm,
		       const void *rec);
void pcache_meta_format(struct pcache_meta *m);

#endif /* _PCACHE_META_H */
