/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The key journal: sealed ksets appended one after the other in a chain of
 * key segments, and replayed from the key tail when the cache is loaded.
 *
 * Appends are serialised by a mutex and each kset is persisted before the
 * next one is written, so a power cut can tear only the last kset; replay
 * stops at the first kset that is torn, out of sequence or absent.
 */
#ifndef _PCACHE_KSET_LOG_H
#define _PCACHE_KSET_LOG_H

#include <linux/mutex.h>

#include "segalloc.h"
#include "super.h"

struct pcache_pmem;

/**
 * struct pcache_log - the journal
 * @lock: serialises appends; protects everything below
 * @pm: cache device
 * @super: metadata (positions, segment info)
 * @sa: segment allocator, for new key segments
 * @seed: kset checksum seed
 * @head: where the next kset goes (seg PCACHE_SEG_NONE: log empty)
 * @next_seq: sequence number of the next kset
 * @ksets: ksets appended or replayed
 */
struct pcache_log {
	struct mutex lock;
	struct pcache_pmem *pm;
	struct pcache_super *super;
	struct pcache_segalloc *sa;
	u32 seed;
	struct pcache_pos head;
	u64 next_seq;
	u64 ksets;
};

/* Called for every key of every valid kset, in journal order */
typedef int (*pcache_replay_fn)(void *ctx, const struct pcache_key_info *k,
				u64 kset_seq);

/**
 * struct pcache_replay_stats - what a replay found
 * @ksets: valid ksets
 * @keys: keys in them
 * @stop: why replay ended (the failing check of the first invalid kset)
 */
struct pcache_replay_stats {
	u64 ksets;
	u64 keys;
	const char *stop;
};

/**
 * struct pcache_log_cursor - a place in the journal
 * @pos: where a kset is, or would be appended
 * @seq: the sequence number it carries
 */
struct pcache_log_cursor {
	struct pcache_pos pos;
	u64 seq;
};

/* At most this many walkers share the checks of one replay */
#define PCACHE_LOG_WALKERS	8

/**
 * struct pcache_log_share - the checks the walkers of one replay share
 * @parts: walkers (1 to PCACHE_LOG_WALKERS)
 * @good_below: per walker: every kset of its share (the ksets whose
 *		ordinal from the start, modulo @parts, is the walker's
 *		number) below this ordinal passed pcache_kset_check()
 *
 * Each walker checks the checksum and keys of its share in a first pass
 * and publishes how far it got; a walk then checks only the headers of
 * ksets another walker checked already.  A kset nobody vouched for yet is
 * checked in full, so a walk never depends on the others' progress.
 */
struct pcache_log_share {
	u32 parts;
	u64 good_below[PCACHE_LOG_WALKERS];
};

void pcache_log_init(struct pcache_log *log, struct pcache_pmem *pm,
		     struct pcache_super *super, struct pcache_segalloc *sa);
int pcache_log_replay(struct pcache_log *log, pcache_replay_fn fn, void *ctx,
		      const struct pcache_log_share *sh,
		      struct pcache_replay_stats *st);
void pcache_log_cursor_init(const struct pcache_log *log,
			    struct pcache_log_cursor *cur);
void pcache_log_share_init(struct pcache_log_share *sh, u32 parts);
void pcache_log_precheck(struct pcache_log *log,
			 const struct pcache_log_cursor *start,
			 struct pcache_log_share *sh, u32 part);
int pcache_log_walk(struct pcache_log *log, struct pcache_log_cursor *cur,
		    pcache_replay_fn fn, void *ctx,
		    const struct pcache_log_share *sh,
		    struct pcache_replay_stats *st);
int pcache_log_append(struct pcache_log *log,
		      struct pcache_kset_onmedia *ks);
u64 pcache_log_head_seq(struct pcache_log *log);
int pcache_log_read(struct pcache_log *log, const struct pcache_pos *pos,
		    u64 seq, struct pcache_kset_onmedia *ks);
void pcache_log_tails(struct pcache_log *log, struct pcache_positions *pos);
void pcache_log_set_dirty_tail(struct pcache_log *log,
			       const struct pcache_pos *pos, u64 seq);
void pcache_log_set_key_tail(struct pcache_log *log,
			     const struct pcache_pos *pos, u64 seq);

#endif /* _PCACHE_KSET_LOG_H */
