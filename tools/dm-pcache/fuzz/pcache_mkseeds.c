// SPDX-License-Identifier: GPL-2.0
/*
 * pcache_mkseeds IMAGE DIR: cut a seed corpus for pcache_fuzz out of a real
 * cache device or image: both copies of every metadata record, the first
 * segments' info records, the first ksets of the journal (from the key
 * tail, with the sequence number and seed replay would expect) and the
 * device's first 8 KiB, each behind the harness's 32-byte header.
 */
#include <stdio.h>
#include <stdlib.h>

#include "pcache_image.h"
#include "pcache_fuzz.h"

#define SEED_SEGS	8
#define SEED_KSETS	8


static const char *dir;
static int nr;

static int put(struct fuzz_hdr *h, const void *rec, size_t len)
{
	char path[4096];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/seed-%u-%03d", dir, h->target, nr++);
	f = fopen(path, "wb");
	if (!f)
		return -errno;
	ok = fwrite(h, sizeof(*h), 1, f) == 1 && fwrite(rec, len, 1, f) == 1;
	return fclose(f) || !ok ? -EIO : 0;
}

/* Both copies, as found and resealed (the harness fixes the CRC). */
static int put_slots(const struct pcache_img *img, u8 target, u64 off,
		     u32 stride, size_t size, u16 seg)
{
	struct fuzz_hdr h = { .target = target, .seg = seg,
			      .dev_size = img->size };
	u8 rec[256];
	int i, ret = 0;

	for (i = 0; i < PCACHE_SLOTS && !ret; i++) {
		ret = pcache_img_read(img, off + (u64)i * stride, rec, size);
		h.flags = i ? FUZZ_RESEAL : 0;
		if (!ret)
			ret = put(&h, rec, size);
	}
	return ret;
}

static int sb_cb(const void *rec, const void *ctx, const char **why)
{
	return pcache_sb_check(rec, *(const u64 *)ctx, why);
}

static int pos_cb(const void *rec, const void *ctx, const char **why)
{
	return pcache_positions_check(rec, ctx, why);
}

/* The journal from the key tail, as replay walks it. */
static int put_ksets(const struct pcache_img *img,
		     const struct pcache_geometry *geo, u32 seed)
{
	struct pcache_positions_onmedia p;
	struct pcache_positions pos;
	struct pcache_slots sl;
	static u8 ks[PCACHE_KSET_MAX_SIZE];
	struct pcache_kset_onmedia *k = (void *)ks;
	struct fuzz_hdr h = { .target = FUZZ_KSET, .dev_size = img->size,
			      .seed = seed };
	const char *why;
	int i, ret;

	ret = pcache_img_load(img, PCACHE_POS_OFF, PCACHE_POS_STRIDE,
			      sizeof(p), pos_cb, geo, &p, &sl);
	if (ret)
		return ret;
	pcache_positions_decode(&p, &pos);
	h.seq = pos.key_tail_seq;
	for (i = 0; i < SEED_KSETS && pos.key_tail.seg != PCACHE_SEG_NONE;
	     i++) {
		h.avail = PCACHE_SEG_SIZE - pos.key_tail.off;
		if (h.avail > PCACHE_KSET_MAX_SIZE)
			h.avail = PCACHE_KSET_MAX_SIZE;
		ret = pcache_img_read(img, geo->data_off +
				      (u64)pos.key_tail.seg * PCACHE_SEG_SIZE +
				      pos.key_tail.off, ks, h.avail);
		if (!ret)
			ret = put(&h, ks, h.avail);
		if (ret || pcache_kset_check(k, h.avail, h.seq, seed, geo, &why))
			return ret;
		h.seq++;
		if (le16_to_cpu(k->flags) & PCACHE_KSET_LINK) {
			pos.key_tail.seg = le32_to_cpu(k->next_seg);
			pos.key_tail.off = 0;
		} else {
			pos.key_tail.off += pcache_kset_size(le16_to_cpu(k->count));
		}
	}
	return 0;
}

static int mkseeds(const struct pcache_img *img)
{
	struct pcache_sb_onmedia sb;
	struct pcache_geometry geo;
	struct pcache_slots sl;
	struct fuzz_hdr h = { .dev_size = img->size };
	static u8 head[PCACHE_IDENTIFY_SIZE];
	int ret;
	u32 i;

	ret = pcache_img_read(img, 0, head, sizeof(head));
	h.target = FUZZ_IDENTIFY;
	if (!ret)
		ret = put(&h, head, sizeof(head));
	h.target = FUZZ_GEOMETRY;
	if (!ret)
		ret = put(&h, head, 16);
	if (!ret)
		ret = put_slots(img, FUZZ_SB, PCACHE_SB_OFF, PCACHE_SB_STRIDE,
				sizeof(sb), 0);
	if (!ret)
		ret = put_slots(img, FUZZ_INFO, PCACHE_INFO_OFF, PCACHE_INFO_STRIDE,
				sizeof(struct pcache_info_onmedia), 0);
	if (!ret)
		ret = put_slots(img, FUZZ_POS, PCACHE_POS_OFF, PCACHE_POS_STRIDE,
				sizeof(struct pcache_positions_onmedia), 0);
	if (!ret)
		ret = pcache_img_load(img, PCACHE_SB_OFF, PCACHE_SB_STRIDE,
				      sizeof(sb), sb_cb, &img->size, &sb, &sl);
	if (ret)
		return ret;
	pcache_sb_decode(&sb, &geo);
	for (i = 0; i < geo.seg_count && i < SEED_SEGS && !ret; i++)
		ret = put_slots(img, FUZZ_SEG, pcache_seg_info_offset(&geo, i, 0),
				PCACHE_SEG_INFO_STRIDE,
				sizeof(struct pcache_seg_onmedia), i);
	if (!ret)
		ret = put_ksets(img, &geo, pcache_kset_seed(sb.uuid));
	return ret;
}

int main(int argc, char **argv)
{
	struct pcache_img img;
	int ret;

	if (argc != 3) {
		fprintf(stderr, "usage: pcache_mkseeds IMAGE DIR\n");
		return 2;
	}
	dir = argv[2];
	ret = pcache_img_open(&img, argv[1], -1);
	if (ret) {
		fprintf(stderr, "pcache_mkseeds: %s: %s\n", argv[1],
			strerror(-ret));
		return 2;
	}
	ret = mkseeds(&img);
	pcache_img_close(&img);
	printf("pcache_mkseeds: %d seeds in %s%s\n", nr, dir,
	       ret ? " (stopped early: no valid metadata)" : "");
	return ret ? 1 : 0;
}
