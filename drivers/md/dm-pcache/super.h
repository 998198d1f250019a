/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The cache device's identity, geometry, settings and positions: formatting
 * a blank device, loading a formatted one, refusing anything else.  This is
 * the only place that decides "is this new media?".
 *
 * Setup (pcache_super_open) is single-threaded.  Later updates of settings
 * and positions are serialised by the caller.
 */
#ifndef _PCACHE_SUPER_H
#define _PCACHE_SUPER_H

#include "meta.h"

struct pcache_pmem;

/**
 * struct pcache_seg_state - a segment's info record and its decoded state
 * @m: dual-slot handle
 * @info: decoded current copy
 */
struct pcache_seg_state {
	struct pcache_meta m;
	struct pcache_seg_info info;
};

/**
 * struct pcache_super - the loaded metadata of one cache device
 * @name: device name for messages
 * @pm: mapped cache device
 * @geo: geometry
 * @uuid: identity
 * @set: settings
 * @pos: positions
 * @sb_m: superblock handle
 * @info_m: cache info handle
 * @pos_m: positions handle
 * @segs: per-segment state, @geo.seg_count entries
 * @formatted: this open formatted the device
 */
struct pcache_super {
	const char *name;
	struct pcache_pmem *pm;
	struct pcache_geometry geo;
	u8 uuid[16];
	struct pcache_settings set;
	struct pcache_positions pos;
	struct pcache_meta sb_m;
	struct pcache_meta info_m;
	struct pcache_meta pos_m;
	struct pcache_seg_state *segs;
	bool formatted;
};

/* Size of the error text pcache_super_open() may produce */
#define PCACHE_SUPER_ERR_LEN	160

int pcache_super_open(struct pcache_super *s, const char *name,
		      struct pcache_pmem *pm,
		      const struct pcache_settings *fmt, char *err);
void pcache_super_close(struct pcache_super *s);
int pcache_super_set_settings(struct pcache_super *s,
			      const struct pcache_settings *set);
int pcache_super_set_positions(struct pcache_super *s,
			       const struct pcache_positions *pos);
void pcache_super_set_seg(struct pcache_super *s, u32 seg,
			  const struct pcache_seg_info *si);

#endif /* _PCACHE_SUPER_H */
