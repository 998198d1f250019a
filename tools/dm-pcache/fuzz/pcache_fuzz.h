/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Input layout of pcache_fuzz, shared with pcache_mkseeds which cuts seeds
 * in this layout out of a real cache image.
 */
#ifndef _PCACHE_FUZZ_H
#define _PCACHE_FUZZ_H

#include "pcache_verify.h"

enum fuzz_target {
	FUZZ_SB,
	FUZZ_INFO,
	FUZZ_POS,
	FUZZ_SEG,
	FUZZ_KSET,
	FUZZ_PICK,
	FUZZ_IDENTIFY,
	FUZZ_GEOMETRY,
	FUZZ_TARGETS,
};

#define FUZZ_RESEAL	(1U << 0)

/**
 * struct fuzz_hdr - context of one input, before the record bytes
 * @target: enum fuzz_target, modulo FUZZ_TARGETS
 * @flags: FUZZ_*
 * @seg: segment number for FUZZ_SEG
 * @pad: ignored
 * @dev_size: current cache device size in bytes; the geometry for the
 *	      position, segment and kset checks is computed from it
 * @seq: sequence number the kset must carry
 * @seed: kset checksum seed
 * @avail: readable bytes at the kset (capped to the record bytes)
 */
struct fuzz_hdr {
	u8 target;
	u8 flags;
	u16 seg;
	u32 pad;
	u64 dev_size;
	u64 seq;
	u32 seed;
	u32 avail;
};

static_assert(sizeof(struct fuzz_hdr) == 32);

#endif /* _PCACHE_FUZZ_H */
