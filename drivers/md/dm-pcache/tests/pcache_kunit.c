// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for dm-pcache's pure logic: on-media encoding and validation,
 * metadata slot choice, and the dual-slot store discipline.
 *
 * The code under test is compiled into this module directly, so the tests
 * need no exported symbols; "pmem" is a kunit_kzalloc()ed buffer.
 */
#include <kunit/test.h>
#include <linux/unaligned.h>

#include "../format/pcache_verify.c"
#include "../pmem.c"
#include "../meta.c"

#define GIB (1024 * PCACHE_MIB)

static void make_geo(struct pcache_geometry *geo, u64 size)
{
	WARN_ON(pcache_geometry_compute(size, geo));
}

/* Flip one byte and re-seal, to test checks that come after the CRC. */
static void reseal(void *rec, size_t size, u32 magic)
{
	struct pcache_meta_hdr *hdr = rec;

	pcache_meta_seal(rec, size, magic, le64_to_cpu(hdr->seq));
}

static void seq_wrap_test(struct kunit *test)
{
	KUNIT_EXPECT_TRUE(test, pcache_seq_after(2, 1));
	KUNIT_EXPECT_FALSE(test, pcache_seq_after(1, 2));
	KUNIT_EXPECT_FALSE(test, pcache_seq_after(7, 7));
	KUNIT_EXPECT_TRUE(test, pcache_seq_after(0, U64_MAX));
	KUNIT_EXPECT_TRUE(test, pcache_seq_after(3, U64_MAX - 3));
	KUNIT_EXPECT_FALSE(test, pcache_seq_after(U64_MAX, 0));
}

static void pick_latest_test(struct kunit *test)
{
	int ok[2] = { 0, 0 }, first_bad[2] = { -EBADMSG, 0 };
	int second_bad[2] = { 0, -EUCLEAN };
	int both_bad[2] = { -EUCLEAN, -EBADMSG };
	int unsupp[2] = { -EBADMSG, -EOPNOTSUPP };
	u64 s12[2] = { 1, 2 }, s21[2] = { 2, 1 }, s55[2] = { 5, 5 };
	u64 wrap[2] = { U64_MAX, 0 };

	KUNIT_EXPECT_EQ(test, pcache_pick_latest(ok, s12, 2), 1);
	KUNIT_EXPECT_EQ(test, pcache_pick_latest(ok, s21, 2), 0);
	KUNIT_EXPECT_EQ(test, pcache_pick_latest(ok, s55, 2), 0);
	KUNIT_EXPECT_EQ(test, pcache_pick_latest(ok, wrap, 2), 1);
	/* a torn or stale slot never wins, whatever its sequence */
	KUNIT_EXPECT_EQ(test, pcache_pick_latest(first_bad, s21, 2), 1);
	KUNIT_EXPECT_EQ(test, pcache_pick_latest(second_bad, s12, 2), 0);
	KUNIT_EXPECT_EQ(test, pcache_pick_latest(both_bad, s12, 2), -EBADMSG);
	KUNIT_EXPECT_EQ(test, pcache_pick_latest(unsupp, s12, 2), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, pcache_pick_latest(ok, s12, 0), -ENOENT);
}

static void geometry_test(struct kunit *test)
{
	struct pcache_geometry geo;

	KUNIT_EXPECT_EQ(test, pcache_geometry_compute(64 * PCACHE_MIB, &geo),
			-ENOSPC);
	KUNIT_ASSERT_EQ(test, pcache_geometry_compute(GIB, &geo), 0);
	KUNIT_EXPECT_EQ(test, geo.data_off % PCACHE_SEG_SIZE, 0);
	KUNIT_EXPECT_LE(test, geo.data_off + geo.seg_count * PCACHE_SEG_SIZE,
			GIB);
	KUNIT_EXPECT_GE(test, geo.data_off, pcache_seg_info_offset(&geo,
			geo.seg_count - 1, 1) + PCACHE_SEG_INFO_STRIDE);
	KUNIT_EXPECT_EQ(test, geo.seg_count, 63);
	/* one more segment never fits */
	KUNIT_EXPECT_GT(test, geo.data_off + (geo.seg_count + 1) *
			PCACHE_SEG_SIZE, GIB);
}

static void seg_stride_test(struct kunit *test)
{
	struct pcache_geometry geo;

	make_geo(&geo, GIB);
	KUNIT_EXPECT_EQ(test, pcache_seg_info_offset(&geo, 0, 0),
			PCACHE_SEG_INFO_OFF);
	KUNIT_EXPECT_EQ(test, pcache_seg_info_offset(&geo, 0, 1),
			PCACHE_SEG_INFO_OFF + 4096);
	KUNIT_EXPECT_EQ(test, pcache_seg_info_offset(&geo, 3, 0),
			PCACHE_SEG_INFO_OFF + 6 * 4096);
	KUNIT_EXPECT_EQ(test, pcache_seg_info_offset(&geo, 3, 1),
			PCACHE_SEG_INFO_OFF + 7 * 4096);
}

static void sb_test(struct kunit *test)
{
	static const u8 uuid[16] = { 1, 2, 3 };
	struct pcache_sb_onmedia sb, orig;
	struct pcache_geometry geo, out;
	const char *why = NULL;

	make_geo(&geo, GIB);
	pcache_sb_encode(&orig, &geo, uuid, 9);
	KUNIT_EXPECT_EQ(test, pcache_sb_check(&orig, GIB, &why), 0);
	pcache_sb_decode(&orig, &out);
	KUNIT_EXPECT_EQ(test, out.seg_count, geo.seg_count);
	KUNIT_EXPECT_EQ(test, out.data_off, geo.data_off);
	KUNIT_EXPECT_EQ(test, out.dev_size, geo.dev_size);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(orig.hdr.seq), 9);

	sb = orig;
	sb.magic = 0;
	KUNIT_EXPECT_EQ(test, pcache_sb_check(&sb, GIB, &why), -EUCLEAN);
	sb = orig;
	sb.uuid[5] ^= 0x40;
	KUNIT_EXPECT_EQ(test, pcache_sb_check(&sb, GIB, &why), -EBADMSG);
	KUNIT_EXPECT_STREQ(test, why, "crc");
	sb = orig;
	sb.version = cpu_to_le32(2);
	reseal(&sb, sizeof(sb), PCACHE_MAGIC_SB);
	KUNIT_EXPECT_EQ(test, pcache_sb_check(&sb, GIB, &why), -EOPNOTSUPP);
	sb = orig;
	sb.feature_incompat = cpu_to_le64(1);
	reseal(&sb, sizeof(sb), PCACHE_MAGIC_SB);
	KUNIT_EXPECT_EQ(test, pcache_sb_check(&sb, GIB, &why), -EOPNOTSUPP);
	sb = orig;
	sb.seg_count = cpu_to_le32(geo.seg_count + 1);
	reseal(&sb, sizeof(sb), PCACHE_MAGIC_SB);
	KUNIT_EXPECT_EQ(test, pcache_sb_check(&sb, GIB, &why), -EUCLEAN);
	sb = orig;
	sb.data_off = cpu_to_le64(geo.data_off + 4096);
	reseal(&sb, sizeof(sb), PCACHE_MAGIC_SB);
	KUNIT_EXPECT_EQ(test, pcache_sb_check(&sb, GIB, &why), -EUCLEAN);
	sb = orig;
	sb.data_off = cpu_to_le64(U64_MAX & ~(PCACHE_SEG_SIZE - 1));
	reseal(&sb, sizeof(sb), PCACHE_MAGIC_SB);
	KUNIT_EXPECT_EQ(test, pcache_sb_check(&sb, GIB, &why), -EUCLEAN);
	KUNIT_EXPECT_EQ(test, pcache_sb_check(&orig, GIB / 2, &why), -EUCLEAN);
}

static void info_test(struct kunit *test)
{
	struct pcache_settings set = { .gc_percent = 42, .data_crc = true };
	struct pcache_info_onmedia info, orig;
	struct pcache_settings out;
	const char *why;

	pcache_info_encode(&orig, &set, 3);
	KUNIT_EXPECT_EQ(test, pcache_info_check(&orig, &why), 0);
	pcache_info_decode(&orig, &out);
	KUNIT_EXPECT_EQ(test, out.gc_percent, 42);
	KUNIT_EXPECT_TRUE(test, out.data_crc);

	info = orig;
	info.gc_percent = cpu_to_le32(91);
	reseal(&info, sizeof(info), PCACHE_MAGIC_INFO);
	KUNIT_EXPECT_EQ(test, pcache_info_check(&info, &why), -EUCLEAN);
	info = orig;
	info.flags = cpu_to_le32(0x80);
	reseal(&info, sizeof(info), PCACHE_MAGIC_INFO);
	KUNIT_EXPECT_EQ(test, pcache_info_check(&info, &why), -EOPNOTSUPP);
	info = orig;
	info.gc_percent = cpu_to_le32(43);
	KUNIT_EXPECT_EQ(test, pcache_info_check(&info, &why), -EBADMSG);
	/* a record of another kind is not accepted in this slot */
	info = orig;
	reseal(&info, sizeof(info), PCACHE_MAGIC_POS);
	KUNIT_EXPECT_EQ(test, pcache_info_check(&info, &why), -EUCLEAN);
}

static void positions_test(struct kunit *test)
{
	struct pcache_positions pos = {
		.key_head = { 3, 4096 }, .key_tail = { 1, 0 },
		.dirty_tail = { PCACHE_SEG_NONE, 0 },
	};
	struct pcache_positions_onmedia p, orig;
	struct pcache_positions out;
	struct pcache_geometry geo;
	const char *why;

	make_geo(&geo, GIB);
	pcache_positions_encode(&orig, &pos, 1);
	KUNIT_EXPECT_EQ(test, pcache_positions_check(&orig, &geo, &why), 0);
	pcache_positions_decode(&orig, &out);
	KUNIT_EXPECT_EQ(test, out.key_head.seg, 3);
	KUNIT_EXPECT_EQ(test, out.key_head.off, 4096);
	KUNIT_EXPECT_EQ(test, out.dirty_tail.seg, PCACHE_SEG_NONE);

	p = orig;
	p.key_tail.seg = cpu_to_le32(geo.seg_count);
	reseal(&p, sizeof(p), PCACHE_MAGIC_POS);
	KUNIT_EXPECT_EQ(test, pcache_positions_check(&p, &geo, &why), -EUCLEAN);
	p = orig;
	p.key_head.off = cpu_to_le32(PCACHE_SEG_SIZE);
	reseal(&p, sizeof(p), PCACHE_MAGIC_POS);
	KUNIT_EXPECT_EQ(test, pcache_positions_check(&p, &geo, &why), -EUCLEAN);
	p = orig;
	p.dirty_tail.off = cpu_to_le32(8);
	reseal(&p, sizeof(p), PCACHE_MAGIC_POS);
	KUNIT_EXPECT_EQ(test, pcache_positions_check(&p, &geo, &why), -EUCLEAN);
}

static void seg_test(struct kunit *test)
{
	struct pcache_seg_info si = { PCACHE_SEG_KEY, 77, 5 }, out;
	struct pcache_seg_onmedia s, orig;
	struct pcache_geometry geo;
	const char *why;

	make_geo(&geo, GIB);
	pcache_seg_encode(&orig, 4, &si, 1);
	KUNIT_EXPECT_EQ(test, pcache_seg_check(&orig, 4, &geo, &why), 0);
	pcache_seg_decode(&orig, &out);
	KUNIT_EXPECT_EQ(test, out.type, PCACHE_SEG_KEY);
	KUNIT_EXPECT_EQ(test, out.gen, 77);
	KUNIT_EXPECT_EQ(test, out.next, 5);
	/* a copy found in another segment's slot is not this segment's */
	KUNIT_EXPECT_EQ(test, pcache_seg_check(&orig, 5, &geo, &why), -EUCLEAN);
	s = orig;
	s.next = cpu_to_le32(geo.seg_count);
	reseal(&s, sizeof(s), PCACHE_MAGIC_SEG);
	KUNIT_EXPECT_EQ(test, pcache_seg_check(&s, 4, &geo, &why), -EUCLEAN);
	s = orig;
	s.type = cpu_to_le32(PCACHE_SEG_TYPE_MAX + 1);
	reseal(&s, sizeof(s), PCACHE_MAGIC_SEG);
	KUNIT_EXPECT_EQ(test, pcache_seg_check(&s, 4, &geo, &why), -EUCLEAN);
}

static void identify_test(struct kunit *test)
{
	u8 *head = kunit_kzalloc(test, PCACHE_IDENTIFY_SIZE, GFP_KERNEL);
	struct pcache_sb_onmedia sb;
	struct pcache_geometry geo;
	static const u8 uuid[16];

	KUNIT_ASSERT_NOT_NULL(test, head);
	KUNIT_EXPECT_EQ(test, pcache_identify(head, PCACHE_IDENTIFY_SIZE),
			PCACHE_CONTENT_BLANK);
	KUNIT_EXPECT_EQ(test, pcache_identify(head, 16), PCACHE_CONTENT_OTHER);
	/* in-tree dm-pcache leaves the first 4 KiB zero: still not blank */
	put_unaligned_le64(0x65B05EFA96C596EFULL, head + 4096 + 8);
	KUNIT_EXPECT_EQ(test, pcache_identify(head, PCACHE_IDENTIFY_SIZE),
			PCACHE_CONTENT_INTREE_PCACHE);
	memset(head, 0, PCACHE_IDENTIFY_SIZE);
	head[1080] = 0x53;
	head[1081] = 0xef;
	KUNIT_EXPECT_EQ(test, pcache_identify(head, PCACHE_IDENTIFY_SIZE),
			PCACHE_CONTENT_EXT);
	memset(head, 0, PCACHE_IDENTIFY_SIZE);
	memcpy(head, "XFSB", 4);
	KUNIT_EXPECT_EQ(test, pcache_identify(head, PCACHE_IDENTIFY_SIZE),
			PCACHE_CONTENT_XFS);
	head[0] = 0;
	KUNIT_EXPECT_EQ(test, pcache_identify(head, PCACHE_IDENTIFY_SIZE),
			PCACHE_CONTENT_OTHER);
	memset(head, 0, PCACHE_IDENTIFY_SIZE);
	make_geo(&geo, GIB);
	pcache_sb_encode(&sb, &geo, uuid, 1);
	/* only slot 1 left: still ours, never blank */
	memcpy(head + PCACHE_SB_STRIDE, &sb, sizeof(sb));
	KUNIT_EXPECT_EQ(test, pcache_identify(head, PCACHE_IDENTIFY_SIZE),
			PCACHE_CONTENT_OURS);
}

/* Dual-slot discipline on a fake pmem buffer */

#define FAKE_SIZE	(64 * 1024)

struct fake {
	struct pcache_pmem pm;
	struct pcache_meta m;
	struct pcache_settings set;
};

static int fake_check(const void *rec, const void *ctx, const char **reason)
{
	return pcache_info_check(rec, reason);
}

static struct fake *fake_new(struct kunit *test)
{
	struct fake *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, f);
	f->pm.base = kunit_kzalloc(test, FAKE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, f->pm.base);
	f->pm.size = FAKE_SIZE;
	pcache_meta_init(&f->m, PCACHE_INFO_OFF, PCACHE_INFO_STRIDE,
			 sizeof(struct pcache_info_onmedia));
	return f;
}

static void fake_store(struct fake *f, u32 gc)
{
	struct pcache_info_onmedia rec;

	f->set.gc_percent = gc;
	pcache_info_encode(&rec, &f->set, pcache_meta_next_seq(&f->m));
	pcache_meta_store(&f->m, &f->pm, &rec);
}

static struct pcache_info_onmedia *slot(struct fake *f, int i)
{
	return f->pm.base + PCACHE_INFO_OFF + i * PCACHE_INFO_STRIDE;
}

static int fake_load(struct fake *f, u32 *gc)
{
	struct pcache_info_onmedia rec;
	struct pcache_settings set;
	int ret;

	ret = pcache_meta_load(&f->m, &f->pm, fake_check, NULL, &rec);
	if (!ret) {
		pcache_info_decode(&rec, &set);
		*gc = set.gc_percent;
	}
	return ret;
}

static void store_alternates_test(struct kunit *test)
{
	struct fake *f = fake_new(test);
	u32 gc = 0;

	fake_store(f, 10);
	KUNIT_EXPECT_EQ(test, f->m.cur, 0);
	fake_store(f, 20);
	KUNIT_EXPECT_EQ(test, f->m.cur, 1);
	/* the slot holding the current copy is never the one overwritten */
	KUNIT_EXPECT_EQ(test, le32_to_cpu(slot(f, 1)->gc_percent), 20);
	fake_store(f, 30);
	KUNIT_EXPECT_EQ(test, f->m.cur, 0);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(slot(f, 1)->gc_percent), 20);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(slot(f, 0)->gc_percent), 30);

	pcache_meta_init(&f->m, PCACHE_INFO_OFF, PCACHE_INFO_STRIDE,
			 sizeof(struct pcache_info_onmedia));
	KUNIT_ASSERT_EQ(test, fake_load(f, &gc), 0);
	KUNIT_EXPECT_EQ(test, gc, 30);
	KUNIT_EXPECT_EQ(test, f->m.cur, 0);
	KUNIT_EXPECT_EQ(test, pcache_meta_next_slot(&f->m), 1);
	KUNIT_EXPECT_EQ(test, pcache_meta_next_seq(&f->m), 4);
}

static void torn_store_test(struct kunit *test)
{
	struct fake *f = fake_new(test);
	u32 gc = 0;

	fake_store(f, 10);
	fake_store(f, 20);
	fake_store(f, 30);
	/* a store of 40 into slot 1 torn by a power cut */
	fake_store(f, 40);
	((u8 *)slot(f, 1))[20] ^= 0xff;
	KUNIT_ASSERT_EQ(test, fake_load(f, &gc), 0);
	KUNIT_EXPECT_EQ(test, gc, 30);
	KUNIT_EXPECT_EQ(test, f->m.err[1], -EBADMSG);
	/* the next store repairs the torn slot, not the good one */
	fake_store(f, 50);
	KUNIT_EXPECT_EQ(test, f->m.cur, 1);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(slot(f, 0)->gc_percent), 30);

	((u8 *)slot(f, 0))[20] ^= 0xff;
	((u8 *)slot(f, 1))[20] ^= 0xff;
	KUNIT_EXPECT_EQ(test, fake_load(f, &gc), -EBADMSG);
}

static struct kunit_case pcache_format_cases[] = {
	KUNIT_CASE(seq_wrap_test),
	KUNIT_CASE(pick_latest_test),
	KUNIT_CASE(geometry_test),
	KUNIT_CASE(seg_stride_test),
	KUNIT_CASE(sb_test),
	KUNIT_CASE(info_test),
	KUNIT_CASE(positions_test),
	KUNIT_CASE(seg_test),
	KUNIT_CASE(identify_test),
	{}
};

static struct kunit_suite pcache_format_suite = {
	.name = "pcache_format",
	.test_cases = pcache_format_cases,
};

static struct kunit_case pcache_meta_cases[] = {
	KUNIT_CASE(store_alternates_test),
	KUNIT_CASE(torn_store_test),
	{}
};

static struct kunit_suite pcache_meta_suite = {
	.name = "pcache_meta",
	.test_cases = pcache_meta_cases,
};

kunit_test_suites(&pcache_format_suite, &pcache_meta_suite);

MODULE_DESCRIPTION("KUnit tests for dm-pcache");
MODULE_LICENSE("GPL");
