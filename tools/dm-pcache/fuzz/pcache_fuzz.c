// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the dm-pcache on-media parsers.
 *
 * Feeds arbitrary superblock, metadata-slot and kset bytes to the
 * validation functions of drivers/md/dm-pcache/format/pcache_verify.c,
 * which is compiled into this program unchanged (see the Makefile).
 *
 * Every input starts with a 32-byte header that picks the target and the
 * context a caller would hand in (device size, expected kset sequence,
 * checksum seed, readable bytes); the record bytes follow.  With
 * FUZZ_RESEAL set the harness fixes the record's checksum first, so the
 * checks behind the CRC are reached, and the verifier's verdict must then
 * equal the harness's own reading of the format (written from
 * Documentation/admin-guide/device-mapper/dm-pcache.rst, with a separate
 * table-driven CRC32C): it may neither accept an invalid record nor refuse
 * a valid one.  Any disagreement aborts, and libFuzzer keeps the input.
 */
#include <stdio.h>
#include <stdlib.h>

#include "pcache_fuzz.h"

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "pcache_fuzz: %s:%d: %s\n", __FILE__,	\
			__LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/* Table-driven CRC32C, independent of the shim's bitwise one. */
static u32 crc_table[256];

static void crc_init(void)
{
	u32 i, j, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = c & 1 ? (c >> 1) ^ 0x82F63B78U : c >> 1;
		crc_table[i] = c;
	}
}

static u32 ref_crc(u32 crc, const void *buf, size_t len)
{
	const u8 *p = buf;

	while (len--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

static u32 rd32(const void *p)
{
	const u8 *b = p;

	return b[0] | b[1] << 8 | b[2] << 16 | (u32)b[3] << 24;
}

static u64 rd64(const void *p)
{
	return rd32(p) | (u64)rd32((const u8 *)p + 4) << 32;
}

static void wr32(void *p, u32 v)
{
	u8 *b = p;
	int i;

	for (i = 0; i < 4; i++)
		b[i] = v >> (8 * i);
}

/* A metadata record is sound if kind and CRC (bytes 4..end) match. */
static bool ref_meta(const u8 *rec, size_t size, u32 kind)
{
	return rd32(rec + 4) == kind && rd32(rec) == ref_crc(~0U, rec + 4,
							     size - 4);
}

static void ref_meta_seal(u8 *rec, size_t size)
{
	wr32(rec, ref_crc(~0U, rec + 4, size - 4));
}

/*
 * The verifier gets a heap copy of exactly the bytes a caller would hand
 * in, so AddressSanitizer catches any read past them.
 */
static void *dup_exact(const u8 *rec, size_t size)
{
	void *p = malloc(size ? size : 1);

	CHECK(p);
	memcpy(p, rec, size);
	return p;
}

/* Superblock byte offsets, from the .rst */
enum {
	SB_MAGIC = 16, SB_VERSION = 24, SB_RO_COMPAT = 40, SB_INCOMPAT = 48,
	SB_DEV_SIZE = 72, SB_SEG_SIZE = 80, SB_SEG_COUNT = 84,
	SB_INFO_OFF = 88, SB_DATA_OFF = 96,
};

static bool ref_sb(const u8 *sb, u64 dev_size)
{
	const u64 seg = 16ULL << 20;
	u64 size = rd64(sb + SB_DEV_SIZE), count = rd32(sb + SB_SEG_COUNT);
	u64 info = rd64(sb + SB_INFO_OFF), data = rd64(sb + SB_DATA_OFF);
	u64 end;

	if (memcmp(sb + SB_MAGIC, "DMPCACHE", 8) ||
	    !ref_meta(sb, 256, PCACHE_MAGIC_SB))
		return false;
	if (rd32(sb + SB_VERSION) != 2 || rd64(sb + SB_RO_COMPAT) ||
	    rd64(sb + SB_INCOMPAT))
		return false;
	if (rd32(sb + SB_SEG_SIZE) != seg || count < 4 || count > 1U << 24 ||
	    info != 65536 || data % seg)
		return false;
	/* two 4 KiB info slots per segment, all before the data */
	if (info + count * 8192 > data)
		return false;
	if (__builtin_add_overflow(data, count * seg, &end))
		return false;
	return end <= size && size <= dev_size;
}

static void fuzz_sb(const struct fuzz_hdr *h, u8 *rec)
{
	struct pcache_sb_onmedia *sb;
	struct pcache_geometry geo;
	const char *why = NULL;
	int ret;

	if (h->flags & FUZZ_RESEAL)
		ref_meta_seal(rec, sizeof(*sb));
	sb = dup_exact(rec, sizeof(*sb));
	ret = pcache_sb_check(sb, h->dev_size, &why);
	CHECK(ret == 0 || why);
	CHECK(ret == 0 || ret == -EUCLEAN || ret == -EBADMSG ||
	      ret == -EOPNOTSUPP);
	CHECK(!ret == ref_sb(rec, h->dev_size));
	if (!ret)
		pcache_sb_decode(sb, &geo);
	free(sb);
	if (ret)
		return;
	CHECK(pcache_seg_info_offset(&geo, geo.seg_count - 1, 1) + 4096 <=
	      geo.data_off);
	CHECK(geo.data_off + (u64)geo.seg_count * PCACHE_SEG_SIZE <=
	      h->dev_size);
}

static void fuzz_info(const struct fuzz_hdr *h, u8 *rec)
{
	struct pcache_info_onmedia *info;
	struct pcache_settings set;
	const char *why = NULL;
	bool ok;
	int ret;

	if (h->flags & FUZZ_RESEAL)
		ref_meta_seal(rec, sizeof(*info));
	info = dup_exact(rec, sizeof(*info));
	ret = pcache_info_check(info, &why);
	CHECK(ret == 0 || why);
	ok = ref_meta(rec, sizeof(*info), PCACHE_MAGIC_INFO) &&
	     rd32(rec + 16) <= 90 && rd32(rec + 20) <= 3 && rd32(rec + 24) <= 1;
	CHECK(!ret == ok);
	if (!ret)
		pcache_info_decode(info, &set);
	free(info);
	if (ret)
		return;
	CHECK(set.cache_mode <= PCACHE_MODE_MAX);
	CHECK(set.gc_percent <= PCACHE_GC_PERCENT_MAX);
	/* what was decoded encodes to a copy that passes again */
	pcache_info_encode((void *)rec, &set, h->seq);
	CHECK(!pcache_info_check((void *)rec, &why));
}

/* The geometry a caller would have decoded from a valid superblock. */
static void fuzz_geo(const struct fuzz_hdr *h, struct pcache_geometry *geo)
{
	u64 size = h->dev_size & ((1ULL << 50) - 1);

	if (pcache_geometry_compute(size, geo))
		CHECK(!pcache_geometry_compute(1ULL << 30, geo));
}

/* A position names no segment (offset 0) or a kset inside one. */
static bool ref_pos(const u8 *p, const struct pcache_geometry *geo)
{
	u32 seg = rd32(p), off = rd32(p + 4);

	if (seg == 0xffffffffU)
		return off == 0;
	return seg < geo->seg_count && off < (16U << 20) && off % 64 == 0;
}

static void fuzz_pos(const struct fuzz_hdr *h, u8 *rec)
{
	struct pcache_positions_onmedia *p;
	struct pcache_positions pos;
	struct pcache_geometry geo;
	const char *why = NULL;
	bool ok;
	int ret;

	fuzz_geo(h, &geo);
	if (h->flags & FUZZ_RESEAL)
		ref_meta_seal(rec, sizeof(*p));
	p = dup_exact(rec, sizeof(*p));
	ret = pcache_positions_check(p, &geo, &why);
	if (!ret)
		pcache_positions_decode(p, &pos);
	free(p);
	CHECK(ret == 0 || why);
	ok = ref_meta(rec, sizeof(*p), PCACHE_MAGIC_POS) &&
	     ref_pos(rec + 16, &geo) && ref_pos(rec + 24, &geo) &&
	     ref_pos(rec + 32, &geo);
	CHECK(!ret == ok);
	if (ret)
		return;
	pcache_positions_encode((void *)rec, &pos, h->seq);
	CHECK(!pcache_positions_check((void *)rec, &geo, &why));
}

static void fuzz_seg(const struct fuzz_hdr *h, u8 *rec)
{
	struct pcache_seg_onmedia *s;
	struct pcache_seg_info si;
	struct pcache_geometry geo;
	u32 n = h->seg, next = rd32(rec + 32);
	const char *why = NULL;
	bool ok;
	int ret;

	fuzz_geo(h, &geo);
	if (h->flags & FUZZ_RESEAL)
		ref_meta_seal(rec, sizeof(*s));
	s = dup_exact(rec, sizeof(*s));
	ret = pcache_seg_check(s, n, &geo, &why);
	if (!ret)
		pcache_seg_decode(s, &si);
	free(s);
	CHECK(ret == 0 || why);
	ok = ref_meta(rec, sizeof(*s), PCACHE_MAGIC_SEG) &&
	     rd32(rec + 16) == n && n < geo.seg_count && rd32(rec + 20) <= 2 &&
	     (next == 0xffffffffU || next < geo.seg_count);
	CHECK(!ret == ok);
	if (ret)
		return;
	pcache_seg_encode((void *)rec, n, &si, h->seq);
	CHECK(!pcache_seg_check((void *)rec, n, &geo, &why));
}

/* Key flag bits, from the .rst */
enum { K_DIRTY = 1, K_CRC = 2, K_TOMB = 4, K_ZERO = 8, K_DISCARD = 16 };

static bool ref_key(const u8 *k, const struct pcache_geometry *geo)
{
	u64 lba = rd64(k + 8);
	u32 sectors = rd32(k + 16), seg = rd32(k + 20), off = rd32(k + 24);
	u32 gen = rd32(k + 28), f = rd32(k + 32);

	if (!sectors || f > 31 || lba > ~0ULL - sectors)
		return false;
	if (f & K_TOMB)		/* only removes: no data, never dirty */
		return f == K_TOMB && !seg && !off && !gen;
	if (f & K_ZERO)		/* reads as zeroes: no data, no CRC */
		return !(f & K_CRC) && !seg && !off && !gen;
	if (f & K_DISCARD)	/* only on a zero key */
		return false;
	return seg < geo->seg_count && off % 512 == 0 &&
	       (u64)off + (u64)sectors * 512 <= 16ULL << 20;
}

static bool ref_kset(const u8 *ks, size_t avail, const struct fuzz_hdr *h,
		     const struct pcache_geometry *geo)
{
	u32 count, flags, i;
	size_t len;

	if (avail < 32 || rd32(ks + 4) != PCACHE_MAGIC_KSET)
		return false;
	count = ks[16] | ks[17] << 8;
	flags = ks[18] | ks[19] << 8;
	len = 32 + (size_t)count * 40;
	if (count > 101 || (len + 63) / 64 * 64 > avail)
		return false;
	if (rd32(ks) != ref_crc(h->seed, ks + 4, len - 4) ||
	    rd64(ks + 8) != h->seq)
		return false;
	/* a link kset only says where the log goes on */
	if (flags > 1 || (flags && (count || rd32(ks + 20) >= geo->seg_count)))
		return false;
	for (i = 0; i < count; i++)
		if (!ref_key(ks + 32 + i * 40, geo))
			return false;
	return true;
}

/* An accepted kset's keys re-encode to the same bytes and CRC. */
static void kset_roundtrip(struct pcache_kset_onmedia *ks, u32 seed)
{
	struct pcache_key_onmedia o;
	struct pcache_key_info k;
	u32 i, crc = le32_to_cpu(ks->crc);

	for (i = 0; i < le16_to_cpu(ks->count); i++) {
		pcache_key_decode(&ks->keys[i], &k);
		pcache_key_encode(&o, &k);
		CHECK(!memcmp(&o, &ks->keys[i], sizeof(o)));
	}
	pcache_kset_seal(ks, seed);
	CHECK(le32_to_cpu(ks->crc) == crc);
}

static void fuzz_kset(const struct fuzz_hdr *h, u8 *rec, size_t size)
{
	struct pcache_kset_onmedia *ks = (void *)rec, *copy;
	struct pcache_geometry geo;
	size_t avail = h->avail < size ? h->avail : size;
	const char *why = NULL;
	u32 count;
	int ret;

	fuzz_geo(h, &geo);
	if (h->flags & FUZZ_RESEAL && size >= sizeof(*ks)) {
		count = le16_to_cpu(ks->count);
		if (count <= PCACHE_KSET_MAX_KEYS &&
		    sizeof(*ks) + count * 40 <= size)
			wr32(rec, ref_crc(h->seed, rec + 4,
					  sizeof(*ks) + count * 40 - 4));
	}
	copy = dup_exact(rec, avail);
	ret = pcache_kset_check(copy, avail, h->seq, h->seed, &geo, &why);
	free(copy);
	CHECK(ret == 0 || why);
	CHECK(ret == 0 || ret == -EUCLEAN || ret == -EBADMSG);
	CHECK(!ret == ref_kset(rec, avail, h, &geo));
	if (!ret)
		kset_roundtrip(ks, h->seed);
}

static void fuzz_pick(const u8 *rec, size_t size)
{
	static const int errs[] = { 0, -EUCLEAN, -EBADMSG, -EOPNOTSUPP, -EIO };
	int err[PCACHE_SLOTS], n = size / 9, i, pick;
	u64 seq[PCACHE_SLOTS];

	/* "newest" is an order only between two copies (a wrap compare) */
	if (n > PCACHE_SLOTS)
		n = PCACHE_SLOTS;
	for (i = 0; i < n; i++) {
		err[i] = errs[rec[i * 9] % 5];
		seq[i] = rd64(rec + i * 9 + 1);
	}
	pick = pcache_pick_latest(err, seq, n);
	if (pick < 0) {
		for (i = 0; i < n; i++)
			CHECK(err[i]);
		return;
	}
	CHECK(pick < n && !err[pick]);
	for (i = 0; i < n; i++)
		CHECK(err[i] || (s64)(seq[i] - seq[pick]) <= 0);
}

static void fuzz_identify(const u8 *rec, size_t size)
{
	static u8 head[PCACHE_IDENTIFY_SIZE];
	enum pcache_content c;
	size_t i;

	memset(head, 0, sizeof(head));
	memcpy(head, rec, size < sizeof(head) ? size : sizeof(head));
	c = pcache_identify(head, sizeof(head));
	CHECK(pcache_content_name(c));
	if (c == PCACHE_CONTENT_OURS)
		CHECK(!memcmp(head + SB_MAGIC, "DMPCACHE", 8) ||
		      !memcmp(head + 2048 + SB_MAGIC, "DMPCACHE", 8));
	if (c == PCACHE_CONTENT_BLANK)
		for (i = 0; i < PCACHE_BLANK_SIZE; i++)
			CHECK(!head[i]);
}

/* What pcache_geometry_compute() lays out, pcache_sb_check() accepts. */
static void fuzz_geometry(const struct fuzz_hdr *h, const u8 *rec)
{
	struct pcache_sb_onmedia sb;
	struct pcache_geometry geo, back;
	u64 size = h->dev_size & ((1ULL << 50) - 1);
	const char *why;

	if (pcache_geometry_compute(size, &geo))
		return;
	pcache_sb_encode(&sb, &geo, rec, h->seq);
	CHECK(pcache_sb_check(&sb, size, &why) == 0);
	CHECK(ref_sb((const u8 *)&sb, size));
	pcache_sb_decode(&sb, &back);
	CHECK(geo.dev_size == back.dev_size && geo.seg_count == back.seg_count &&
	      geo.seg_info_off == back.seg_info_off &&
	      geo.data_off == back.data_off);
	CHECK(geo.data_off + (u64)geo.seg_count * PCACHE_SEG_SIZE <= size);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static u64 buf[PCACHE_KSET_MAX_SIZE / sizeof(u64)];
	u8 *rec = (u8 *)buf;
	struct fuzz_hdr h;
	size_t len;

	if (!crc_table[1])
		crc_init();
	if (size < sizeof(h))
		return 0;
	memcpy(&h, data, sizeof(h));
	data += sizeof(h);
	size -= sizeof(h);
	len = size < sizeof(buf) ? size : sizeof(buf);
	memset(rec, 0, sizeof(buf));
	memcpy(rec, data, len);
	switch (h.target % FUZZ_TARGETS) {
	case FUZZ_SB:
		fuzz_sb(&h, rec);
		break;
	case FUZZ_INFO:
		fuzz_info(&h, rec);
		break;
	case FUZZ_POS:
		fuzz_pos(&h, rec);
		break;
	case FUZZ_SEG:
		fuzz_seg(&h, rec);
		break;
	case FUZZ_KSET:
		fuzz_kset(&h, rec, len);
		break;
	case FUZZ_PICK:
		fuzz_pick(rec, len);
		break;
	case FUZZ_IDENTIFY:
		fuzz_identify(data, size);
		break;
	case FUZZ_GEOMETRY:
		fuzz_geometry(&h, rec);
		break;
	}
	return 0;
}
