/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What pcache_check and pcache_dump read from a cache: every metadata
 * record with the verdict on each of its copies, chosen the way the module
 * chooses them, and the journal walked the way replay walks it (from the
 * key tail, kset by kset, following link ksets, until the first kset that
 * fails pcache_kset_check()).  Problems are handed to a callback as
 * sentences; the walk itself never stops on a problem it can step over.
 */
#ifndef _PCACHE_SCAN_H
#define _PCACHE_SCAN_H

#include "pcache_image.h"

/**
 * struct pcache_scan - a cache as the module would load it
 * @img: the device or image
 * @what: what the device's start holds
 * @sb_sl: superblock copies
 * @info_sl: cache info copies
 * @pos_sl: positions copies
 * @seg_sl: per segment, its info copies
 * @sb: the superblock in charge
 * @geo: its geometry
 * @set: the settings in charge
 * @pos: the positions in charge
 * @segs: per segment, the info in charge (type FREE if none is valid)
 * @loaded: sb, info and positions each have a valid copy
 * @problem: called with each problem found, as a sentence
 * @ctx: passed to @problem
 * @problems: how many were reported
 */
struct pcache_scan {
	struct pcache_img img;
	enum pcache_content what;
	struct pcache_slots sb_sl, info_sl, pos_sl;
	struct pcache_slots *seg_sl;
	struct pcache_sb_onmedia sb;
	struct pcache_geometry geo;
	struct pcache_settings set;
	struct pcache_positions pos;
	struct pcache_seg_info *segs;
	bool loaded;
	void (*problem)(void *ctx, const char *msg);
	void *ctx;
	unsigned int problems;
};

/**
 * struct pcache_walk - where a journal walk stands, and what it found
 * @pos: position of the next kset
 * @seq: sequence number it must carry
 * @seed: kset checksum seed
 * @ksets: valid ksets so far (links included)
 * @links: link ksets among them
 * @keys: keys so far
 * @stale: keys whose segment generation no longer matches (skipped)
 * @dirty_keys: dirty keys at or after the dirty tail, not stale
 * @dirty_bytes: their bytes (what replay counts as dirty)
 * @stop: why the walk ended: the failing check of the first invalid kset
 * @stop_err: its -errno
 * @buf: the current kset (PCACHE_KSET_MAX_SIZE bytes)
 */
struct pcache_walk {
	struct pcache_pos pos;
	u64 seq;
	u32 seed;
	u64 ksets, links, keys, stale, dirty_keys, dirty_bytes;
	const char *stop;
	int stop_err;
	struct pcache_kset_onmedia *buf;
};

int pcache_scan_open(struct pcache_scan *s, const char *path, long long off);
void pcache_scan_close(struct pcache_scan *s);
int pcache_scan_load(struct pcache_scan *s);
void pcache_scan_report(struct pcache_scan *s, const char *fmt, ...);

int pcache_walk_start(struct pcache_scan *s, struct pcache_walk *w);
int pcache_walk_next(struct pcache_scan *s, struct pcache_walk *w);
void pcache_walk_end(struct pcache_scan *s, struct pcache_walk *w);
bool pcache_key_is_stale(const struct pcache_scan *s,
			 const struct pcache_key_info *k);

const char *pcache_mode_name(u32 mode);
const char *pcache_seg_type_name(u32 type);

#endif /* _PCACHE_SCAN_H */
