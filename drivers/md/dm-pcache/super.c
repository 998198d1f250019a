// SPDX-License-Identifier: GPL-2.0
/*
 * Format-or-load of the dm-pcache metadata.  See super.h.
 *
 * A blank device is formatted with the superblock written last, so a power
 * cut during formatting leaves the device blank (its first 4 KiB still zero)
 * and the next table load formats it again.  A device holding anything but a
 * blank start or a valid cache is refused and left untouched.
 */
#include <linux/random.h>
#include <linux/slab.h>

#include "pcache.h"
#include "pmem.h"
#include "super.h"

struct seg_ctx {
	const struct pcache_geometry *geo;
	u32 seg;
};

static int sb_check_cb(const void *rec, const void *ctx, const char **reason)
{
	return pcache_sb_check(rec, *(const u64 *)ctx, reason);
}

static int info_check_cb(const void *rec, const void *ctx, const char **reason)
{
	return pcache_info_check(rec, reason);
}

static int pos_check_cb(const void *rec, const void *ctx, const char **reason)
{
	return pcache_positions_check(rec, ctx, reason);
}

static int seg_check_cb(const void *rec, const void *ctx, const char **reason)
{
	const struct seg_ctx *c = ctx;

	return pcache_seg_check(rec, c->seg, c->geo, reason);
}

static void init_handles(struct pcache_super *s)
{
	pcache_meta_init(&s->sb_m, PCACHE_SB_OFF, PCACHE_SB_STRIDE,
			 sizeof(struct pcache_sb_onmedia));
	pcache_meta_init(&s->info_m, PCACHE_INFO_OFF, PCACHE_INFO_STRIDE,
			 sizeof(struct pcache_info_onmedia));
	pcache_meta_init(&s->pos_m, PCACHE_POS_OFF, PCACHE_POS_STRIDE,
			 sizeof(struct pcache_positions_onmedia));
}

static int alloc_segs(struct pcache_super *s)
{
	u32 i;

	/* a failure refuses the table with its own message: no allocator trace */
	s->segs = kvcalloc(s->geo.seg_count, sizeof(*s->segs),
			   GFP_KERNEL | __GFP_NOWARN);
	if (!s->segs)
		return -ENOMEM;
	for (i = 0; i < s->geo.seg_count; i++)
		pcache_meta_init(&s->segs[i].m,
				 pcache_seg_info_offset(&s->geo, i, 0),
				 PCACHE_SEG_INFO_STRIDE,
				 sizeof(struct pcache_seg_onmedia));
	return 0;
}

static void store_seg(struct pcache_super *s, u32 i)
{
	struct pcache_seg_state *st = &s->segs[i];
	struct pcache_seg_onmedia rec;

	pcache_seg_encode(&rec, i, &st->info, pcache_meta_next_seq(&st->m));
	pcache_meta_store(&st->m, s->pm, &rec);
}

static void store_sb(struct pcache_super *s)
{
	struct pcache_sb_onmedia rec;

	pcache_sb_encode(&rec, &s->geo, s->uuid,
			 pcache_meta_next_seq(&s->sb_m));
	pcache_meta_store(&s->sb_m, s->pm, &rec);
}

static void store_info(struct pcache_super *s)
{
	struct pcache_info_onmedia rec;

	pcache_info_encode(&rec, &s->set, pcache_meta_next_seq(&s->info_m));
	pcache_meta_store(&s->info_m, s->pm, &rec);
}

static void store_pos(struct pcache_super *s)
{
	struct pcache_positions_onmedia rec;

	pcache_positions_encode(&rec, &s->pos, pcache_meta_next_seq(&s->pos_m));
	pcache_meta_store(&s->pos_m, s->pm, &rec);
}

/* Both slots of every record get a valid copy, so each has a spare. */
static int format(struct pcache_super *s, const struct pcache_settings *fmt,
		  char *err)
{
	static const struct pcache_pos none = { .seg = PCACHE_SEG_NONE };
	int ret, slot;
	u32 i;

	ret = pcache_geometry_compute(s->pm->size, &s->geo);
	if (ret) {
		snprintf(err, PCACHE_SUPER_ERR_LEN,
			 "Cache device too small for %u segments",
			 PCACHE_SEGS_MIN);
		return ret;
	}
	ret = alloc_segs(s);
	if (ret)
		return ret;
	get_random_bytes(s->uuid, sizeof(s->uuid));
	s->set = *fmt;
	s->pos.key_head = none;
	s->pos.key_tail = none;
	s->pos.dirty_tail = none;
	for (slot = 0; slot < PCACHE_SLOTS; slot++) {
		for (i = 0; i < s->geo.seg_count; i++) {
			s->segs[i].info.type = PCACHE_SEG_FREE;
			s->segs[i].info.next = PCACHE_SEG_NONE;
			store_seg(s, i);
		}
		store_pos(s);
		store_info(s);
	}
	for (slot = 0; slot < PCACHE_SLOTS; slot++)
		store_sb(s);
	s->formatted = true;
	pcache_info(s->name, "formatted %llu MiB cache device: %u segments of %llu MiB, data at %llu MiB",
		    s->pm->size >> 20, s->geo.seg_count, PCACHE_SEG_SIZE >> 20,
		    s->geo.data_off >> 20);
	return 0;
}

static void report_slots(struct pcache_super *s, const char *what,
			 const struct pcache_meta *m)
{
	int i;

	for (i = 0; i < PCACHE_SLOTS; i++)
		if (m->err[i])
			pcache_warn(s->name, "%s slot %d is invalid (%s), using slot %d",
				    what, i, m->why[i], m->cur);
}

static int load_fail(struct pcache_super *s, const char *what,
		     const struct pcache_meta *m, int ret, char *err)
{
	snprintf(err, PCACHE_SUPER_ERR_LEN,
		 "Cache %s is invalid in both copies (slot 0: %s, slot 1: %s)",
		 what, m->why[0] ?: "?", m->why[1] ?: "?");
	return ret;
}

static int load_sb(struct pcache_super *s, char *err)
{
	struct pcache_sb_onmedia rec;
	u64 dev_size = s->pm->size;
	int ret;

	ret = pcache_meta_load(&s->sb_m, s->pm, sb_check_cb, &dev_size, &rec);
	if (ret == -EOPNOTSUPP) {
		snprintf(err, PCACHE_SUPER_ERR_LEN,
			 "Cache uses an unsupported format (%s; this module knows version %u)",
			 s->sb_m.why[0], PCACHE_VERSION);
		return ret;
	}
	if (ret)
		return load_fail(s, "superblock", &s->sb_m, ret, err);
	report_slots(s, "superblock", &s->sb_m);
	pcache_sb_decode(&rec, &s->geo);
	memcpy(s->uuid, rec.uuid, sizeof(s->uuid));
	return 0;
}

static int load_info_pos(struct pcache_super *s, char *err)
{
	struct pcache_positions_onmedia pos;
	struct pcache_info_onmedia info;
	int ret;

	ret = pcache_meta_load(&s->info_m, s->pm, info_check_cb, NULL, &info);
	if (ret)
		return load_fail(s, "info", &s->info_m, ret, err);
	report_slots(s, "cache info", &s->info_m);
	pcache_info_decode(&info, &s->set);
	ret = pcache_meta_load(&s->pos_m, s->pm, pos_check_cb, &s->geo, &pos);
	if (ret)
		return load_fail(s, "positions record", &s->pos_m, ret, err);
	report_slots(s, "positions", &s->pos_m);
	pcache_positions_decode(&pos, &s->pos);
	return 0;
}

static int load_segs(struct pcache_super *s, char *err)
{
	struct pcache_seg_onmedia rec;
	struct seg_ctx ctx = { .geo = &s->geo };
	int ret;
	u32 i;

	ret = alloc_segs(s);
	if (ret)
		return ret;
	for (i = 0; i < s->geo.seg_count; i++) {
		struct pcache_seg_state *st = &s->segs[i];

		ctx.seg = i;
		ret = pcache_meta_load(&st->m, s->pm, seg_check_cb, &ctx, &rec);
		if (ret) {
			snprintf(err, PCACHE_SUPER_ERR_LEN,
				 "Segment %u info is invalid in both copies (slot 0: %s, slot 1: %s)",
				 i, st->m.why[0], st->m.why[1]);
			return ret;
		}
		report_slots(s, "segment info", &st->m);
		pcache_seg_decode(&rec, &st->info);
	}
	return 0;
}

static int load(struct pcache_super *s, char *err)
{
	int ret;

	ret = load_sb(s, err);
	if (!ret)
		ret = load_info_pos(s, err);
	if (!ret)
		ret = load_segs(s, err);
	return ret;
}

static int identify(struct pcache_super *s, enum pcache_content *what)
{
	u8 *head;
	int ret;

	head = kmalloc(PCACHE_IDENTIFY_SIZE, GFP_KERNEL);
	if (!head)
		return -ENOMEM;
	ret = pcache_pmem_read(s->pm, 0, head, PCACHE_IDENTIFY_SIZE);
	if (!ret)
		*what = pcache_identify(head, PCACHE_IDENTIFY_SIZE);
	kfree(head);
	return ret;
}

/**
 * pcache_super_open() - load the cache's metadata, formatting a blank device
 * @s: filled in on success; pcache_super_close() undoes it
 * @name: device name for messages
 * @pm: the mapped cache device
 * @fmt: settings for a device that gets formatted now
 * @err: receives a sentence for ti->error on failure
 *	 (PCACHE_SUPER_ERR_LEN bytes)
 *
 * Return: 0; -EUCLEAN if the device holds something else or corrupt
 * metadata, -EBADMSG for metadata with bad checksums in both copies,
 * -EOPNOTSUPP for an unknown format version or feature, -EIO for a media
 * error, -ENOSPC if a blank device is too small, -ENOMEM.
 */
int pcache_super_open(struct pcache_super *s, const char *name,
		      struct pcache_pmem *pm,
		      const struct pcache_settings *fmt, char *err)
{
	enum pcache_content what;
	int ret;

	memset(s, 0, sizeof(*s));
	s->name = name;
	s->pm = pm;
	init_handles(s);
	ret = identify(s, &what);
	if (ret) {
		/* a failed allocation is not the medium's fault */
		snprintf(err, PCACHE_SUPER_ERR_LEN,
			 "%s reading the start of the cache device",
			 ret == -ENOMEM ? "Out of memory" : "Media error");
		return ret;
	}
	switch (what) {
	case PCACHE_CONTENT_BLANK:
		ret = format(s, fmt, err);
		break;
	case PCACHE_CONTENT_OURS:
		ret = load(s, err);
		break;
	default:
		snprintf(err, PCACHE_SUPER_ERR_LEN,
			 "Cache device holds %s; not overwriting it (zero its first 4 KiB to format it as a cache)",
			 pcache_content_name(what));
		ret = -EUCLEAN;
	}
	if (ret)
		pcache_super_close(s);
	return ret;
}

/**
 * pcache_super_close() - free what pcache_super_open() allocated
 * @s: the loaded metadata
 */
void pcache_super_close(struct pcache_super *s)
{
	kvfree(s->segs);
	s->segs = NULL;
}

/**
 * pcache_super_set_settings() - persist new settings
 * @s: the loaded metadata
 * @set: settings to store
 *
 * Return: 0.
 */
int pcache_super_set_settings(struct pcache_super *s,
			      const struct pcache_settings *set)
{
	s->set = *set;
	store_info(s);
	return 0;
}

/**
 * pcache_super_set_positions() - persist new positions
 * @s: the loaded metadata
 * @pos: positions to store
 *
 * Return: 0.
 */
int pcache_super_set_positions(struct pcache_super *s,
			       const struct pcache_positions *pos)
{
	s->pos = *pos;
	store_pos(s);
	return 0;
}

/**
 * pcache_super_set_seg() - persist a segment's new state
 * @s: the loaded metadata
 * @seg: segment number
 * @si: its state
 *
 * The caller owns the segment, which serialises updates of its record.
 */
void pcache_super_set_seg(struct pcache_super *s, u32 seg,
			  const struct pcache_seg_info *si)
{
	s->segs[seg].info = *si;
	store_seg(s, seg);
}
