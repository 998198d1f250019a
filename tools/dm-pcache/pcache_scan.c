// SPDX-License-Identifier: GPL-2.0
/*
 * Load a cache's metadata and walk its journal as the module does.  See
 * pcache_scan.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "pcache_scan.h"

/**
 * pcache_scan_report() - hand one problem to the tool
 * @s: the scan
 * @fmt: printf format of the sentence
 */
void pcache_scan_report(struct pcache_scan *s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->problems++;
	if (s->problem)
		s->problem(s->ctx, msg);
}

/**
 * pcache_scan_open() - open a device or image and say what it holds
 * @s: zeroed by the caller except @problem and @ctx
 * @path: device or image
 * @off: byte offset of the cache in @path, or -1 to find it
 *
 * Return: 0 or -errno (from open or read).
 */
int pcache_scan_open(struct pcache_scan *s, const char *path, long long off)
{
	static u8 head[PCACHE_IDENTIFY_SIZE];
	int ret;

	ret = pcache_img_open(&s->img, path, off);
	if (ret)
		return ret;
	if (s->img.size < PCACHE_IDENTIFY_SIZE) {
		s->what = PCACHE_CONTENT_OTHER;
		return 0;
	}
	ret = pcache_img_read(&s->img, 0, head, sizeof(head));
	if (ret) {
		pcache_img_close(&s->img);
		return ret;
	}
	s->what = pcache_identify(head, sizeof(head));
	return 0;
}

/**
 * pcache_scan_close() - free what open and load took
 * @s: the scan
 */
void pcache_scan_close(struct pcache_scan *s)
{
	free(s->seg_sl);
	free(s->segs);
	pcache_img_close(&s->img);
}

static int sb_cb(const void *rec, const void *ctx, const char **why)
{
	return pcache_sb_check(rec, *(const u64 *)ctx, why);
}

static int info_cb(const void *rec, const void *ctx, const char **why)
{
	return pcache_info_check(rec, why);
}

static int pos_cb(const void *rec, const void *ctx, const char **why)
{
	return pcache_positions_check(rec, ctx, why);
}

struct seg_ctx {
	const struct pcache_geometry *geo;
	u32 seg;
};

static int seg_cb(const void *rec, const void *ctx, const char **why)
{
	const struct seg_ctx *c = ctx;

	return pcache_seg_check(rec, c->seg, c->geo, why);
}

/* One record: report each bad copy, and the record if no copy is good. */
static int load_one(struct pcache_scan *s, const char *what, u64 off,
		    u32 stride, size_t size, pcache_img_check_t check,
		    const void *ctx, void *rec, struct pcache_slots *sl)
{
	int ret, i;

	ret = pcache_img_load(&s->img, off, stride, size, check, ctx, rec, sl);
	for (i = 0; i < PCACHE_SLOTS; i++)
		if (sl->err[i])
			pcache_scan_report(s, "%s copy %d (at byte %llu) is invalid: %s (%s)",
					   what, i,
					   (unsigned long long)(off + (u64)i * stride),
					   sl->why[i], pcache_errname(sl->err[i]));
	if (ret)
		pcache_scan_report(s, "%s: no valid copy; the module refuses this cache",
				   what);
	return ret;
}

static int load_segs(struct pcache_scan *s)
{
	struct seg_ctx ctx = { .geo = &s->geo };
	struct pcache_seg_onmedia rec;
	char what[64];
	u32 i;

	s->segs = calloc(s->geo.seg_count, sizeof(*s->segs));
	s->seg_sl = calloc(s->geo.seg_count, sizeof(*s->seg_sl));
	if (!s->segs || !s->seg_sl)
		return -ENOMEM;
	for (i = 0; i < s->geo.seg_count; i++) {
		ctx.seg = i;
		snprintf(what, sizeof(what), "segment %u info", i);
		s->segs[i].next = PCACHE_SEG_NONE;
		if (!load_one(s, what, pcache_seg_info_offset(&s->geo, i, 0),
			      PCACHE_SEG_INFO_STRIDE, sizeof(rec), seg_cb, &ctx,
			      &rec, &s->seg_sl[i]))
			pcache_seg_decode(&rec, &s->segs[i]);
	}
	return 0;
}

/**
 * pcache_scan_load() - read and check every metadata record
 * @s: an opened scan
 *
 * Every invalid copy is reported.  @s->loaded says whether the
 * superblock, cache info and positions each have a valid copy (the module
 * would load the cache); segment info is read only then.
 *
 * Return: 0, or -ENOMEM.
 */
int pcache_scan_load(struct pcache_scan *s)
{
	struct pcache_positions_onmedia pos;
	struct pcache_info_onmedia info;

	if (s->what != PCACHE_CONTENT_OURS) {
		pcache_scan_report(s, "no dm-pcache superblock: the device holds %s",
				   pcache_content_name(s->what));
		return 0;
	}
	if (load_one(s, "superblock", PCACHE_SB_OFF, PCACHE_SB_STRIDE,
		     sizeof(s->sb), sb_cb, &s->img.size, &s->sb, &s->sb_sl))
		return 0;
	pcache_sb_decode(&s->sb, &s->geo);
	if (load_one(s, "cache info", PCACHE_INFO_OFF, PCACHE_INFO_STRIDE,
		     sizeof(info), info_cb, NULL, &info, &s->info_sl))
		return 0;
	pcache_info_decode(&info, &s->set);
	if (load_one(s, "positions", PCACHE_POS_OFF, PCACHE_POS_STRIDE,
		     sizeof(pos), pos_cb, &s->geo, &pos, &s->pos_sl))
		return 0;
	pcache_positions_decode(&pos, &s->pos);
	s->loaded = true;
	return load_segs(s);
}

/**
 * pcache_key_is_stale() - would replay skip this key
 * @s: the loaded scan
 * @k: a key of a valid kset
 *
 * Return: true if the key has data in a segment whose generation moved on.
 */
bool pcache_key_is_stale(const struct pcache_scan *s,
			 const struct pcache_key_info *k)
{
	return pcache_key_has_data(k) && k->gen != (u32)s->segs[k->seg].gen;
}

/**
 * pcache_walk_start() - start a journal walk at the key tail
 * @s: the loaded scan
 * @w: the walk
 *
 * Return: 0 or -ENOMEM.
 */
int pcache_walk_start(struct pcache_scan *s, struct pcache_walk *w)
{
	memset(w, 0, sizeof(*w));
	w->pos = s->pos.key_tail;
	w->seq = s->pos.key_tail_seq;
	w->seed = pcache_kset_seed(s->sb.uuid);
	w->buf = malloc(PCACHE_KSET_MAX_SIZE);
	return w->buf ? 0 : -ENOMEM;
}

static u64 kset_addr(const struct pcache_scan *s, const struct pcache_pos *p)
{
	return s->geo.data_off + (u64)p->seg * PCACHE_SEG_SIZE + p->off;
}

/* Read the kset at @p and check it carries @seq. */
static int read_kset(struct pcache_scan *s, const struct pcache_pos *p,
		     u64 seq, u32 seed, struct pcache_kset_onmedia *ks,
		     const char **why)
{
	size_t avail = PCACHE_SEG_SIZE - p->off;

	if (avail > PCACHE_KSET_MAX_SIZE)
		avail = PCACHE_KSET_MAX_SIZE;
	if (pcache_img_read(&s->img, kset_addr(s, p), ks, avail)) {
		*why = "read error";
		return -EIO;
	}
	return pcache_kset_check(ks, avail, seq, seed, &s->geo, why);
}

static void count_keys(struct pcache_scan *s, struct pcache_walk *w, u64 seq)
{
	struct pcache_key_info k;
	u32 i, n = le16_to_cpu(w->buf->count);

	for (i = 0; i < n; i++) {
		pcache_key_decode(&w->buf->keys[i], &k);
		w->keys++;
		if (pcache_key_is_stale(s, &k)) {
			w->stale++;
			continue;
		}
		if (!(k.flags & PCACHE_KEY_DIRTY) ||
		    k.flags & PCACHE_KEY_TOMBSTONE ||
		    pcache_seq_after(s->pos.dirty_tail_seq, seq))
			continue;
		w->dirty_keys++;
		w->dirty_bytes += (u64)k.sectors << 9;
	}
}

static void check_dirty_tail(struct pcache_scan *s, struct pcache_walk *w)
{
	const struct pcache_pos *d = &s->pos.dirty_tail;

	if (w->seq != s->pos.dirty_tail_seq || s->pos.key_tail.seg ==
	    PCACHE_SEG_NONE)
		return;
	if (d->seg != w->pos.seg || d->off != w->pos.off)
		pcache_scan_report(s, "dirty tail %u:%u does not hold kset %llu, which is at %u:%u",
				   d->seg, d->off, (unsigned long long)w->seq,
				   w->pos.seg, w->pos.off);
}

/**
 * pcache_walk_next() - the next kset with keys, as replay reads it
 * @s: the loaded scan
 * @w: the walk; w->buf holds the kset on return 0
 *
 * Link ksets are followed (and counted) here.
 *
 * Return: 0 with the kset's sequence number w->seq - 1, or -ENODATA at the
 * end of the journal (w->stop says why).
 */
int pcache_walk_next(struct pcache_scan *s, struct pcache_walk *w)
{
	u32 next;

	for (;;) {
		if (w->pos.seg == PCACHE_SEG_NONE) {
			w->stop = "empty";
			return -ENODATA;
		}
		check_dirty_tail(s, w);
		w->stop_err = read_kset(s, &w->pos, w->seq, w->seed, w->buf,
					&w->stop);
		if (w->stop_err)
			return -ENODATA;
		w->seq++;
		w->ksets++;
		if (!(le16_to_cpu(w->buf->flags) & PCACHE_KSET_LINK))
			break;
		next = le32_to_cpu(w->buf->next_seg);
		w->links++;
		if (s->segs[next].type != PCACHE_SEG_KEY)
			pcache_scan_report(s, "journal goes on in segment %u, which is a %s segment",
					   next,
					   pcache_seg_type_name(s->segs[next].type));
		w->pos.seg = next;
		w->pos.off = 0;
	}
	count_keys(s, w, w->seq - 1);
	w->pos.off += pcache_kset_size(le16_to_cpu(w->buf->count));
	return 0;
}

/* Is there a valid kset @seq right after a bad one at @p? */
static bool journal_goes_on(struct pcache_scan *s, struct pcache_walk *w,
			    struct pcache_pos *p)
{
	const struct pcache_pos start = *p;
	u32 next = s->segs[start.seg].next;
	const char *why;

	for (p->off = start.off + PCACHE_KSET_ALIGN;
	     p->off <= start.off + PCACHE_KSET_MAX_SIZE &&
	     p->off + sizeof(*w->buf) <= PCACHE_SEG_SIZE;
	     p->off += PCACHE_KSET_ALIGN)
		if (!read_kset(s, p, w->seq + 1, w->seed, w->buf, &why))
			return true;
	/* the bad kset may have been the link out of a closed segment */
	if (next == PCACHE_SEG_NONE || next == start.seg)
		return false;
	p->seg = next;
	p->off = 0;
	return !read_kset(s, p, w->seq + 1, w->seed, w->buf, &why);
}

/**
 * pcache_walk_end() - judge where and why a walk ended
 * @s: the loaded scan
 * @w: a walk that pcache_walk_next() ended
 *
 * The journal normally ends at a slot without a kset ("magic"), at a kset
 * torn by a power cut ("crc") or at one left from an earlier lap of the
 * segment ("sequence").  It is a problem when the first invalid kset has
 * a good checksum and sequence number but bad contents, when a valid kset
 * follows the invalid one (the journal was damaged in the middle: replay
 * drops everything after it), and when the dirty tail lies beyond the end.
 */
void pcache_walk_end(struct pcache_scan *s, struct pcache_walk *w)
{
	struct pcache_pos p = w->pos;

	if (w->stop_err == -EIO)
		pcache_scan_report(s, "kset %llu at %u:%u cannot be read",
				   (unsigned long long)w->seq, w->pos.seg,
				   w->pos.off);
	else if (w->pos.seg != PCACHE_SEG_NONE &&
	    w->stop_err == -EUCLEAN && (!strcmp(w->stop, "link") ||
					!strcmp(w->stop, "key out of bounds")))
		pcache_scan_report(s, "kset %llu at %u:%u is corrupt: %s (its checksum is good); replay stops there",
				   (unsigned long long)w->seq, w->pos.seg,
				   w->pos.off, w->stop);
	else if (w->pos.seg != PCACHE_SEG_NONE && journal_goes_on(s, w, &p))
		pcache_scan_report(s, "kset %llu at %u:%u is invalid (%s) but kset %llu follows at %u:%u: the journal is damaged, replay drops everything after it",
				   (unsigned long long)w->seq, w->pos.seg,
				   w->pos.off, w->stop,
				   (unsigned long long)w->seq + 1, p.seg,
				   p.off);
	if (pcache_seq_after(s->pos.dirty_tail_seq, w->seq))
		pcache_scan_report(s, "dirty tail (kset %llu) lies beyond the end of the journal (kset %llu)",
				   (unsigned long long)s->pos.dirty_tail_seq,
				   (unsigned long long)w->seq);
	free(w->buf);
	w->buf = NULL;
}

/**
 * pcache_mode_name() - a cache mode's table word
 * @mode: PCACHE_MODE_*
 *
 * Return: the word, or "?".
 */
const char *pcache_mode_name(u32 mode)
{
	static const char * const names[] = {
		"writeback", "writethrough", "writearound", "writeonly",
	};

	return mode <= PCACHE_MODE_MAX ? names[mode] : "?";
}

/**
 * pcache_seg_type_name() - a segment type's name
 * @type: PCACHE_SEG_*
 *
 * Return: "free", "data", "key" or "?".
 */
const char *pcache_seg_type_name(u32 type)
{
	static const char * const names[] = { "free", "data", "key" };

	return type <= PCACHE_SEG_TYPE_MAX ? names[type] : "?";
}
