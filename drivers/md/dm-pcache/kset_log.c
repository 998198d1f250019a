// SPDX-License-Identifier: GPL-2.0
/*
 * The key journal.  See kset_log.h.
 */
#include <linux/slab.h>

#include "pmem.h"
#include "kset_log.h"

static u64 seg_addr(const struct pcache_log *log, u32 seg, u32 off)
{
	return log->super->geo.data_off + (u64)seg * PCACHE_SEG_SIZE + off;
}

/**
 * pcache_log_init() - a journal handle over loaded metadata
 * @log: journal
 * @pm: cache device
 * @super: loaded metadata; its positions give the key tail
 * @sa: segment allocator
 */
void pcache_log_init(struct pcache_log *log, struct pcache_pmem *pm,
		     struct pcache_super *super, struct pcache_segalloc *sa)
{
	mutex_init(&log->lock);
	log->pm = pm;
	log->super = super;
	log->sa = sa;
	log->seed = pcache_kset_seed(super->uuid);
	log->head = super->pos.key_tail;
	log->next_seq = super->pos.key_tail_seq;
	log->ksets = 0;
}

static void take_key_seg(struct pcache_log *log, u32 seg)
{
	struct pcache_seg_info si = log->super->segs[seg].info;

	si.type = PCACHE_SEG_KEY;
	si.gen++;
	si.next = PCACHE_SEG_NONE;
	pcache_super_set_seg(log->super, seg, &si);
}

/* The first kset ever: the key tail starts where it goes. */
static int start_log(struct pcache_log *log)
{
	struct pcache_positions pos = log->super->pos;
	u32 seg;
	int ret;

	ret = pcache_segalloc_get(log->sa, 0, &seg);
	if (ret)
		return ret;
	take_key_seg(log, seg);
	pos.key_tail.seg = seg;
	pos.key_tail.off = 0;
	pos.key_tail_seq = log->next_seq;
	pos.dirty_tail = pos.key_tail;
	pos.dirty_tail_seq = log->next_seq;
	pos.key_head = pos.key_tail;
	pcache_super_set_positions(log->super, &pos);
	log->head = pos.key_tail;
	return 0;
}

/* Close the current key segment with a link kset to a new one. */
static int next_segment(struct pcache_log *log)
{
	struct pcache_kset_onmedia link = {};
	struct pcache_seg_info si;
	u32 seg, cur = log->head.seg;
	int ret;

	ret = pcache_segalloc_get(log->sa, 0, &seg);
	if (ret)
		return ret;
	take_key_seg(log, seg);
	si = log->super->segs[cur].info;
	si.next = seg;
	pcache_super_set_seg(log->super, cur, &si);
	link.seq = cpu_to_le64(log->next_seq);
	link.flags = cpu_to_le16(PCACHE_KSET_LINK);
	link.next_seg = cpu_to_le32(seg);
	pcache_kset_seal(&link, log->seed);
	pcache_pmem_write(log->pm, seg_addr(log, cur, log->head.off), &link,
			  sizeof(link));
	pcache_pmem_persist();
	log->next_seq++;
	log->ksets++;
	log->head.seg = seg;
	log->head.off = 0;
	return 0;
}

/**
 * pcache_log_append() - seal a kset into the journal and persist it
 * @log: journal
 * @ks: kset with its count and keys filled in; seq, magic and crc are set
 *	here
 *
 * Returns only when the kset is durable.  Keys' data must already be
 * durable (the writer's own pmem barrier) before they are appended.
 *
 * Return: 0, or -ENOSPC when no segment is left for the journal.
 */
int pcache_log_append(struct pcache_log *log, struct pcache_kset_onmedia *ks)
{
	size_t size = pcache_kset_size(le16_to_cpu(ks->count));
	int ret = 0;

	mutex_lock(&log->lock);
	if (log->head.seg == PCACHE_SEG_NONE)
		ret = start_log(log);
	if (!ret && log->head.off + size + pcache_kset_size(0) > PCACHE_SEG_SIZE)
		ret = next_segment(log);
	if (ret)
		goto out;
	ks->seq = cpu_to_le64(log->next_seq);
	ks->flags = 0;
	ks->next_seg = 0;
	pcache_kset_seal(ks, log->seed);
	pcache_pmem_write(log->pm, seg_addr(log, log->head.seg, log->head.off),
			  ks, size);
	pcache_pmem_persist();
	log->next_seq++;
	log->ksets++;
	log->head.off += size;
out:
	mutex_unlock(&log->lock);
	return ret;
}

static int replay_kset(struct pcache_log *log, struct pcache_kset_onmedia *ks,
		       pcache_replay_fn fn, void *ctx,
		       struct pcache_replay_stats *st)
{
	struct pcache_key_info k;
	u32 i, count = le16_to_cpu(ks->count);
	int ret;

	for (i = 0; i < count; i++) {
		pcache_key_decode(&ks->keys[i], &k);
		ret = fn(ctx, &k, le64_to_cpu(ks->seq));
		if (ret)
			return ret;
	}
	st->keys += count;
	st->ksets++;
	return 0;
}

/* Bytes a kset at @pos may span: up to the end of its segment. */
static size_t kset_avail(const struct pcache_pos *pos)
{
	return min_t(size_t, PCACHE_SEG_SIZE - pos->off, PCACHE_KSET_MAX_SIZE);
}

/* Move @cur past the valid kset @ks. */
static void cursor_next(struct pcache_log_cursor *cur,
			const struct pcache_kset_onmedia *ks)
{
	cur->seq++;
	if (le16_to_cpu(ks->flags) & PCACHE_KSET_LINK) {
		cur->pos.seg = le32_to_cpu(ks->next_seg);
		cur->pos.off = 0;
	} else {
		cur->pos.off += pcache_kset_size(le16_to_cpu(ks->count));
	}
}

/* Did a walker of @sh check kset @nr (from the start) in full already? */
static bool share_vouches(const struct pcache_log_share *sh, u64 nr)
{
	/* pairs with the release in pcache_log_precheck() */
	return sh && nr < smp_load_acquire(&sh->good_below[nr % sh->parts]);
}

/*
 * Read and check the kset at @cur into @ks; a kset @sh vouches for is
 * checked only as far as needed to find the next one.  Returns 0, 1 for an
 * invalid kset (the end of the journal), or the read's error.
 */
static int read_kset(struct pcache_log *log,
		     const struct pcache_log_cursor *cur,
		     struct pcache_kset_onmedia *ks,
		     const struct pcache_log_share *sh, u64 nr,
		     const char **stop)
{
	size_t avail = kset_avail(&cur->pos);
	int ret;

	ret = pcache_pmem_read(log->pm, seg_addr(log, cur->pos.seg,
						 cur->pos.off), ks, avail);
	if (ret) {
		*stop = "media error";
		return ret;
	}
	if (share_vouches(sh, nr))
		ret = pcache_kset_check_header(ks, avail, cur->seq,
					       &log->super->geo, stop);
	else
		ret = pcache_kset_check(ks, avail, cur->seq, log->seed,
					&log->super->geo, stop);
	return ret ? 1 : 0;
}

/*
 * Read the journal from @cur on: @fn for every key of every valid kset, in
 * journal order.  @cur ends after the last valid kset.  With @mark, every
 * key segment of the chain is marked in use.
 */
static int walk(struct pcache_log *log, struct pcache_log_cursor *cur,
		pcache_replay_fn fn, void *ctx,
		const struct pcache_log_share *sh,
		struct pcache_replay_stats *st, bool mark)
{
	struct pcache_kset_onmedia *ks;
	u64 nr;
	int ret = 0;

	memset(st, 0, sizeof(*st));
	st->stop = "empty";
	if (cur->pos.seg == PCACHE_SEG_NONE)
		return 0;
	ks = kmalloc(PCACHE_KSET_MAX_SIZE, GFP_KERNEL);
	if (!ks)
		return -ENOMEM;
	if (mark)
		pcache_segalloc_mark(log->sa, cur->pos.seg);
	for (nr = 0; ; nr++) {
		ret = read_kset(log, cur, ks, sh, nr, &st->stop);
		if (ret) {
			/* an invalid kset ends the journal; a media error fails */
			ret = min(ret, 0);
			break;
		}
		cursor_next(cur, ks);
		if (le16_to_cpu(ks->flags) & PCACHE_KSET_LINK) {
			if (mark)
				pcache_segalloc_mark(log->sa, cur->pos.seg);
			st->ksets++;
			continue;
		}
		ret = replay_kset(log, ks, fn, ctx, st);
		if (ret)
			break;
	}
	kfree(ks);
	return ret;
}

/**
 * pcache_log_share_init() - no kset checked yet
 * @sh: shared checks of one replay
 * @parts: walkers that will share them, 1 to PCACHE_LOG_WALKERS
 */
void pcache_log_share_init(struct pcache_log_share *sh, u32 parts)
{
	memset(sh, 0, sizeof(*sh));
	sh->parts = clamp_t(u32, parts, 1, PCACHE_LOG_WALKERS);
}

/**
 * pcache_log_precheck() - check one walker's share of the ksets for all
 * @log: journal
 * @start: where the walks start (pcache_log_cursor_init())
 * @sh: shared checks; @sh->good_below[@part] grows as ksets pass
 * @part: this walker's number, below @sh->parts
 *
 * Follows the journal by the kset headers and checks in full the ksets of
 * its share, until one fails, reading is not possible, or the journal
 * ends.  Reads only; a failure here only means the walks check more.
 */
void pcache_log_precheck(struct pcache_log *log,
			 const struct pcache_log_cursor *start,
			 struct pcache_log_share *sh, u32 part)
{
	struct pcache_log_cursor cur = *start;
	struct pcache_kset_onmedia *ks;
	const char *why;
	size_t avail, len;
	u64 nr;
	bool mine;

	if (cur.pos.seg == PCACHE_SEG_NONE || part >= sh->parts)
		return;
	ks = kmalloc(PCACHE_KSET_MAX_SIZE, GFP_KERNEL);
	if (!ks)
		return;
	for (nr = 0; ; nr++) {
		mine = nr % sh->parts == part;
		avail = kset_avail(&cur.pos);
		/* a kset may end right at the end of the device */
		len = mine ? avail : min(avail, sizeof(*ks));
		if (pcache_pmem_read(log->pm, seg_addr(log, cur.pos.seg,
						       cur.pos.off), ks, len))
			break;
		if (mine ? pcache_kset_check(ks, avail, cur.seq, log->seed,
					     &log->super->geo, &why) :
			   pcache_kset_check_header(ks, avail, cur.seq,
						    &log->super->geo, &why))
			break;
		if (mine)
			/* the kset is checked before others rely on it */
			smp_store_release(&sh->good_below[part], nr + 1);
		cursor_next(&cur, ks);
	}
	kfree(ks);
}

/**
 * pcache_log_cursor_init() - where a replay of the journal starts
 * @log: journal, set up by pcache_log_init() and not yet replayed
 * @cur: set to the key tail
 */
void pcache_log_cursor_init(const struct pcache_log *log,
			    struct pcache_log_cursor *cur)
{
	cur->pos = log->head;
	cur->seq = log->next_seq;
}

/**
 * pcache_log_walk() - read the journal as a replay does, changing nothing
 * @log: journal
 * @cur: where to start, from pcache_log_cursor_init(); on return, the
 *	 sequence number and place after the last valid kset
 * @fn: called for every key, in journal order
 * @ctx: passed to @fn
 * @sh: checks shared with the other walkers of this replay, or NULL
 * @st: what was found
 *
 * Helpers that take a share of a replay's keys walk the same journal with
 * this while pcache_log_replay() runs; nothing is written or marked.
 *
 * Return: as for pcache_log_replay().
 */
int pcache_log_walk(struct pcache_log *log, struct pcache_log_cursor *cur,
		    pcache_replay_fn fn, void *ctx,
		    const struct pcache_log_share *sh,
		    struct pcache_replay_stats *st)
{
	return walk(log, cur, fn, ctx, sh, st, false);
}

/**
 * pcache_log_replay() - walk the journal from the key tail
 * @log: journal, set up by pcache_log_init()
 * @fn: called for every key, in journal order
 * @ctx: passed to @fn
 * @sh: checks shared with the other walkers of this replay, or NULL
 * @st: what was found
 *
 * Every key segment of the chain is marked in use; afterwards the journal
 * appends right after the last valid kset.
 *
 * Return: 0 (an invalid kset ends the journal, it is not an error), an
 * error from @fn, -EIO for a media error, or -ENOMEM.
 */
int pcache_log_replay(struct pcache_log *log, pcache_replay_fn fn, void *ctx,
		      const struct pcache_log_share *sh,
		      struct pcache_replay_stats *st)
{
	struct pcache_log_cursor cur;
	int ret;

	pcache_log_cursor_init(log, &cur);
	ret = walk(log, &cur, fn, ctx, sh, st, true);
	log->head = cur.pos;
	log->next_seq = cur.seq;
	log->ksets = st->ksets;
	return ret;
}

/**
 * pcache_log_head_seq() - sequence number the next kset will get
 * @log: journal
 *
 * Return: it; every kset before it is sealed and durable.
 */
u64 pcache_log_head_seq(struct pcache_log *log)
{
	u64 seq;

	mutex_lock(&log->lock);
	seq = log->next_seq;
	mutex_unlock(&log->lock);
	return seq;
}

/**
 * pcache_log_read() - read the sealed kset at a position
 * @log: journal
 * @pos: where the kset is
 * @seq: the sequence number it must carry
 * @ks: buffer of PCACHE_KSET_MAX_SIZE bytes
 *
 * Readers behind the head (writeback, GC) walk the journal with this while
 * appends go on: a kset below the head's sequence number is sealed and
 * durable, and is never written again.
 *
 * Return: 0 for a kset with keys, 1 for a link kset (its next_seg says
 * where the journal goes on), -ENODATA if @pos is the head, -EUCLEAN if
 * the kset is not valid, -EIO on a media error.
 */
int pcache_log_read(struct pcache_log *log, const struct pcache_pos *pos,
		    u64 seq, struct pcache_kset_onmedia *ks)
{
	u64 head = pcache_log_head_seq(log);
	const char *why;
	size_t avail;

	if (pos->seg == PCACHE_SEG_NONE || !pcache_seq_after(head, seq))
		return -ENODATA;
	avail = min_t(size_t, PCACHE_SEG_SIZE - pos->off, PCACHE_KSET_MAX_SIZE);
	if (pcache_pmem_read(log->pm, seg_addr(log, pos->seg, pos->off), ks,
			     avail))
		return -EIO;
	if (pcache_kset_check(ks, avail, seq, log->seed, &log->super->geo,
			      &why))
		return -EUCLEAN;
	return le16_to_cpu(ks->flags) & PCACHE_KSET_LINK ? 1 : 0;
}

/**
 * pcache_log_tails() - the persisted key and dirty tails
 * @log: journal
 * @pos: a copy of the positions
 */
void pcache_log_tails(struct pcache_log *log, struct pcache_positions *pos)
{
	mutex_lock(&log->lock);
	*pos = log->super->pos;
	mutex_unlock(&log->lock);
}

/* Persist one of the two tails; the other keeps its persisted value. */
static void set_tail(struct pcache_log *log, bool dirty,
		     const struct pcache_pos *pos, u64 seq)
{
	struct pcache_positions p;

	mutex_lock(&log->lock);
	p = log->super->pos;
	if (dirty) {
		p.dirty_tail = *pos;
		p.dirty_tail_seq = seq;
	} else {
		p.key_tail = *pos;
		p.key_tail_seq = seq;
	}
	pcache_super_set_positions(log->super, &p);
	mutex_unlock(&log->lock);
}

/**
 * pcache_log_set_dirty_tail() - persist a new dirty tail
 * @log: journal
 * @pos: the first kset not yet written back
 * @seq: its sequence number
 */
void pcache_log_set_dirty_tail(struct pcache_log *log,
			       const struct pcache_pos *pos, u64 seq)
{
	set_tail(log, true, pos, seq);
}

/**
 * pcache_log_set_key_tail() - persist a new key tail
 * @log: journal
 * @pos: the oldest kset still needed
 * @seq: its sequence number
 *
 * Key segments wholly before @pos may be reused once this returns.
 */
void pcache_log_set_key_tail(struct pcache_log *log,
			     const struct pcache_pos *pos, u64 seq)
{
	set_tail(log, false, pos, seq);
}
