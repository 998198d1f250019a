// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for dm-pcache's pure logic: on-media encoding and validation,
 * metadata slot choice, and the dual-slot store discipline.
 *
 * The code under test is compiled into this module directly, so the tests
 * need no exported symbols; "pmem" is a kunit_kzalloc()ed buffer.
 */
#include <kunit/test.h>
#include <linux/prandom.h>
#include <linux/unaligned.h>

#include <linux/vmalloc.h>

#include "../format/pcache_verify.c"
#include "../pmem.c"
#include "../meta.c"
#include "../super.c"
#include "../segalloc.c"
#include "../index.c"
#include "../kset_log.c"
#include "../seqcut.c"
#include "../epoch.c"
#include "../writeback.h"

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
	/* a newer version, and version 1 (no zero keys), are refused */
	sb = orig;
	sb.version = cpu_to_le32(PCACHE_VERSION + 1);
	reseal(&sb, sizeof(sb), PCACHE_MAGIC_SB);
	KUNIT_EXPECT_EQ(test, pcache_sb_check(&sb, GIB, &why), -EOPNOTSUPP);
	sb = orig;
	sb.version = cpu_to_le32(1);
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
	info.cache_mode = cpu_to_le32(PCACHE_MODE_WRITEONLY);
	reseal(&info, sizeof(info), PCACHE_MAGIC_INFO);
	KUNIT_EXPECT_EQ(test, pcache_info_check(&info, &why), 0);
	info.cache_mode = cpu_to_le32(PCACHE_MODE_MAX + 1);
	reseal(&info, sizeof(info), PCACHE_MAGIC_INFO);
	KUNIT_EXPECT_NE(test, pcache_info_check(&info, &why), 0);
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
		.key_tail_seq = 41, .dirty_tail_seq = 77,
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
	KUNIT_EXPECT_EQ(test, out.key_tail_seq, 41);
	KUNIT_EXPECT_EQ(test, out.dirty_tail_seq, 77);

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
	/* found by the fuzzer: a position is where a kset starts, 64-aligned */
	p = orig;
	p.key_head.off = cpu_to_le32(4000);
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

/* Index: overlap resolution */

#define FIX_SEGS	8

struct tree_fix {
	struct kunit *test;
	struct pcache_subtree t;
	mempool_t *pool;
	atomic_t refs[FIX_SEGS];
	u32 seg;	/* data segment of the keys put_ov() makes */
	bool reused;	/* the last put_ov() went into an older key */
};

static struct pcache_key *fix_alloc(void *ctx)
{
	struct tree_fix *f = ctx;

	return mempool_alloc(f->pool, GFP_KERNEL);
}

static struct tree_fix *tree_new(struct kunit *test)
{
	struct tree_fix *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, f);
	f->test = test;
	f->t.root = RB_ROOT;
	f->t.refs = f->refs;
	spin_lock_init(&f->t.lock);
	f->pool = mempool_create_kmalloc_pool(4, sizeof(struct pcache_key));
	KUNIT_ASSERT_NOT_NULL(test, f->pool);
	return f;
}

/* The segment reference counts must equal a count of the keys in the tree */
static void refs_match(struct tree_fix *f)
{
	u32 count[FIX_SEGS] = {}, i;
	struct pcache_key *e;
	struct rb_node *n;

	for (n = rb_first(&f->t.root); n; n = rb_next(n)) {
		e = rb_entry(n, struct pcache_key, node);
		if (pcache_key_has_data(&e->k))
			count[e->k.seg]++;
	}
	for (i = 0; i < FIX_SEGS; i++)
		KUNIT_EXPECT_EQ_MSG(f->test, atomic_read(&f->refs[i]), count[i],
				    "segment %u", i);
}

/* Every test's tree is counted, and ends with no reference left */
static void tree_free(struct tree_fix *f)
{
	u32 i;

	refs_match(f);
	pcache_subtree_clear(&f->t, f->pool);
	for (i = 0; i < FIX_SEGS; i++)
		KUNIT_EXPECT_EQ(f->test, atomic_read(&f->refs[i]), 0);
	mempool_destroy(f->pool);
}

/*
 * Insert [lba, lba+n) with sequence seq, data at f->seg offset lba*512.
 * Return: whether it overlapped a present key.
 */
static bool put_ov(struct tree_fix *f, u64 lba, u32 n, u64 seq, u32 flags)
{
	struct pcache_key *k = mempool_alloc(f->pool, GFP_KERNEL);
	bool ov = false;
	int ret;

	memset(&k->k, 0, sizeof(k->k));
	k->k.lba = lba;
	k->k.sectors = n;
	k->k.seq = seq;
	k->k.seg = f->seg;
	k->k.seg_off = lba * 512;
	k->k.flags = flags;
	ret = pcache_subtree_insert(&f->t, k, fix_alloc, f, f->pool, &ov);
	WARN_ON(ret < 0);
	f->reused = ret == 1;
	if (f->reused)
		mempool_free(k, f->pool);
	return ov;
}

static void put(struct tree_fix *f, u64 lba, u32 n, u64 seq, u32 flags)
{
	put_ov(f, lba, n, seq, flags);
}

/* The tree as "lba+n@seq ..." */
static const char *dump(struct kunit *test, struct tree_fix *f)
{
	char *buf = kunit_kzalloc(test, 256, GFP_KERNEL);
	struct pcache_key *e;
	struct rb_node *n;
	int len = 0;

	for (n = rb_first(&f->t.root); n; n = rb_next(n)) {
		e = rb_entry(n, struct pcache_key, node);
		/* data must still line up with the sectors the key covers */
		if (e->k.seg_off != e->k.lba * 512)
			len += scnprintf(buf + len, 256 - len, "BADOFF ");
		len += scnprintf(buf + len, 256 - len, "%llu+%u@%llu ",
				 e->k.lba, e->k.sectors, e->k.seq);
	}
	return buf;
}

static void classify_test(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, pcache_overlap_classify(0, 8, 8, 16), PCACHE_OV_NONE);
	KUNIT_EXPECT_EQ(test, pcache_overlap_classify(16, 24, 8, 16), PCACHE_OV_NONE);
	KUNIT_EXPECT_EQ(test, pcache_overlap_classify(8, 16, 8, 16), PCACHE_OV_INSIDE);
	KUNIT_EXPECT_EQ(test, pcache_overlap_classify(10, 12, 8, 16), PCACHE_OV_INSIDE);
	KUNIT_EXPECT_EQ(test, pcache_overlap_classify(4, 12, 8, 16), PCACHE_OV_HEAD);
	KUNIT_EXPECT_EQ(test, pcache_overlap_classify(4, 16, 8, 16), PCACHE_OV_HEAD);
	KUNIT_EXPECT_EQ(test, pcache_overlap_classify(12, 20, 8, 16), PCACHE_OV_TAIL);
	KUNIT_EXPECT_EQ(test, pcache_overlap_classify(8, 20, 8, 16), PCACHE_OV_TAIL);
	KUNIT_EXPECT_EQ(test, pcache_overlap_classify(4, 20, 8, 16), PCACHE_OV_AROUND);
}

static void insert_positions_test(struct kunit *test)
{
	struct tree_fix *f = tree_new(test);

	put(f, 8, 8, 1, 0);
	put(f, 16, 8, 2, 0);	/* adjacent: both stay */
	KUNIT_EXPECT_STREQ(test, dump(test, f), "8+8@1 16+8@2 ");
	put(f, 12, 8, 3, 0);	/* tail of one, head of the other */
	KUNIT_EXPECT_STREQ(test, dump(test, f), "8+4@1 12+8@3 20+4@2 ");
	put(f, 13, 2, 4, 0);	/* inside: splits the middle key */
	KUNIT_EXPECT_STREQ(test, dump(test, f),
			   "8+4@1 12+1@3 13+2@4 15+5@3 20+4@2 ");
	put(f, 0, 64, 5, 0);	/* covers everything */
	KUNIT_EXPECT_STREQ(test, dump(test, f), "0+64@5 ");
	put(f, 0, 64, 6, PCACHE_KEY_TOMBSTONE);
	KUNIT_EXPECT_STREQ(test, dump(test, f), "");
	put(f, 0, 8, 7, 0);
	put(f, 4, 8, 8, PCACHE_KEY_TOMBSTONE);	/* tombstone trims */
	KUNIT_EXPECT_STREQ(test, dump(test, f), "0+4@7 ");
	tree_free(f);
}

static void insert_replay_order_test(struct kunit *test)
{
	struct tree_fix *f = tree_new(test);

	/* ksets sealed out of order: the newer key arrives first */
	put(f, 10, 4, 9, 0);
	put(f, 30, 4, 11, 0);
	put(f, 0, 40, 5, 0);	/* older: fills only the gaps */
	KUNIT_EXPECT_STREQ(test, dump(test, f),
			   "0+10@5 10+4@9 14+16@5 30+4@11 34+6@5 ");
	put(f, 12, 20, 3, 0);	/* older than everything there: no effect */
	KUNIT_EXPECT_STREQ(test, dump(test, f),
			   "0+10@5 10+4@9 14+16@5 30+4@11 34+6@5 ");
	put(f, 8, 4, 7, PCACHE_KEY_TOMBSTONE); /* old tombstone: gaps only */
	KUNIT_EXPECT_STREQ(test, dump(test, f),
			   "0+8@5 10+4@9 14+16@5 30+4@11 34+6@5 ");
	tree_free(f);
}

static void insert_same_range_test(struct kunit *test)
{
	struct tree_fix *f = tree_new(test);
	struct pcache_key_info hit;
	u64 run;

	KUNIT_EXPECT_FALSE(test, put_ov(f, 8, 8, 1, 0));
	KUNIT_EXPECT_FALSE(test, put_ov(f, 0, 8, 2, 0));	/* adjacent */
	KUNIT_EXPECT_FALSE(test, put_ov(f, 24, 8, 3, 0));
	/* the same sectors again: takes the older key's place */
	KUNIT_EXPECT_TRUE(test, put_ov(f, 8, 8, 4, PCACHE_KEY_DIRTY));
	KUNIT_EXPECT_TRUE(test, f->reused);
	KUNIT_EXPECT_STREQ(test, dump(test, f), "0+8@2 8+8@4 24+8@3 ");
	KUNIT_EXPECT_TRUE(test, pcache_subtree_lookup(&f->t, 8, 16, &hit, &run, false));
	KUNIT_EXPECT_EQ(test, hit.flags, PCACHE_KEY_DIRTY);
	KUNIT_EXPECT_TRUE(test, put_ov(f, 0, 8, 5, 0));
	KUNIT_EXPECT_TRUE(test, put_ov(f, 24, 8, 6, 0));
	KUNIT_EXPECT_STREQ(test, dump(test, f), "0+8@5 8+8@4 24+8@6 ");
	/* replay: a newer key of the same sectors keeps them */
	KUNIT_EXPECT_TRUE(test, put_ov(f, 8, 8, 3, 0));
	KUNIT_EXPECT_FALSE(test, f->reused);
	KUNIT_EXPECT_STREQ(test, dump(test, f), "0+8@5 8+8@4 24+8@6 ");
	/* a tombstone of the same sectors removes the key */
	KUNIT_EXPECT_TRUE(test, put_ov(f, 8, 8, 7, PCACHE_KEY_TOMBSTONE));
	KUNIT_EXPECT_FALSE(test, f->reused);
	KUNIT_EXPECT_STREQ(test, dump(test, f), "0+8@5 24+8@6 ");
	KUNIT_EXPECT_FALSE(test, put_ov(f, 8, 16, 8, 0));	/* in the gap */
	KUNIT_EXPECT_STREQ(test, dump(test, f), "0+8@5 8+16@8 24+8@6 ");
	tree_free(f);
}

#define MODEL_SECTORS	512
#define MODEL_KEYS	600

/*
 * Random keys in random sequence order (as replay sees them) against a
 * model of who owns each sector: a key takes every sector that holds
 * nothing or an older key, a tombstone empties them.  A tombstone leaves
 * no trace, so an older key that comes after it fills what it emptied:
 * sealing journals only what the index still holds, so a replay never
 * sees that order.  Every sector must look up as the model says, and the
 * keys must stay sorted, apart and lined up with their data.
 */
static void insert_model_test(struct kunit *test)
{
	struct tree_fix *f = tree_new(test);
	u64 *owner = kunit_kcalloc(test, MODEL_SECTORS, sizeof(*owner),
				   GFP_KERNEL);
	u64 *seqs = kunit_kcalloc(test, MODEL_KEYS, sizeof(*seqs), GFP_KERNEL);
	u64 lba, end, s, run, prev_end = 0;
	struct pcache_key_info hit;
	struct rnd_state rs;
	struct pcache_key *e;
	struct rb_node *n;
	u32 i, j, len, flags;

	KUNIT_ASSERT_NOT_NULL(test, owner);
	KUNIT_ASSERT_NOT_NULL(test, seqs);
	prandom_seed_state(&rs, 20261130);
	for (i = 0; i < MODEL_KEYS; i++)
		seqs[i] = i + 1;
	for (i = MODEL_KEYS - 1; i > 0; i--) {
		j = prandom_u32_state(&rs) % (i + 1);
		swap(seqs[i], seqs[j]);
	}
	for (i = 0; i < MODEL_KEYS; i++) {
		lba = prandom_u32_state(&rs) % MODEL_SECTORS;
		len = 1 + prandom_u32_state(&rs) % 24;
		end = min_t(u64, lba + len, MODEL_SECTORS);
		flags = prandom_u32_state(&rs) % 8 ? 0 : PCACHE_KEY_TOMBSTONE;
		f->seg = seqs[i] % FIX_SEGS;
		put(f, lba, end - lba, seqs[i], flags);
		for (s = lba; s < end; s++)
			if (seqs[i] > owner[s])
				owner[s] = flags ? 0 : seqs[i];
	}
	for (s = 0; s < MODEL_SECTORS; s++) {
		KUNIT_ASSERT_EQ_MSG(test, pcache_subtree_lookup(&f->t, s,
					MODEL_SECTORS, &hit, &run, false),
				    owner[s] != 0, "sector %llu", s);
		if (owner[s])
			KUNIT_ASSERT_EQ_MSG(test, hit.seq, owner[s],
					    "sector %llu", s);
		KUNIT_ASSERT_GT(test, run, s);
	}
	for (n = rb_first(&f->t.root); n; n = rb_next(n)) {
		e = rb_entry(n, struct pcache_key, node);
		KUNIT_ASSERT_GE(test, e->k.lba, prev_end);
		KUNIT_ASSERT_GT(test, e->k.sectors, 0);
		KUNIT_ASSERT_EQ(test, e->k.seg_off, e->k.lba * 512);
		prev_end = e->k.lba + e->k.sectors;
	}
	tree_free(f);
}

static void lookup_test(struct kunit *test)
{
	struct tree_fix *f = tree_new(test);
	struct pcache_key_info hit;
	u64 run;

	put(f, 8, 8, 1, 0);
	KUNIT_EXPECT_FALSE(test, pcache_subtree_lookup(&f->t, 0, 32, &hit, &run, false));
	KUNIT_EXPECT_EQ(test, run, 8);
	KUNIT_EXPECT_TRUE(test, pcache_subtree_lookup(&f->t, 10, 32, &hit, &run, false));
	KUNIT_EXPECT_EQ(test, run, 16);
	KUNIT_EXPECT_EQ(test, hit.lba, 8);
	KUNIT_EXPECT_EQ(test, hit.seg_off, 8 * 512);
	KUNIT_EXPECT_TRUE(test, pcache_subtree_drop(&f->t, &hit, f->pool));
	KUNIT_EXPECT_FALSE(test, pcache_subtree_drop(&f->t, &hit, f->pool));
	KUNIT_EXPECT_STREQ(test, dump(test, f), "");
	put(f, 8, 8, 1, 0);
	KUNIT_EXPECT_FALSE(test, pcache_subtree_lookup(&f->t, 16, 32, &hit, &run, false));
	KUNIT_EXPECT_EQ(test, run, 32);
	KUNIT_EXPECT_EQ(test, pcache_stripe_end(0), PCACHE_STRIPE_SECTORS);
	KUNIT_EXPECT_EQ(test, pcache_stripe_end(PCACHE_STRIPE_SECTORS),
			2 * PCACHE_STRIPE_SECTORS);
	tree_free(f);
}

/* Writeback runs: where a journaled key's data still belongs on disk */
static void wb_run_test(struct kunit *test)
{
	struct tree_fix *f = tree_new(test);
	struct pcache_key_info k = { .lba = 0, .sectors = 32, .seq = 5,
				     .flags = PCACHE_KEY_DIRTY };
	u64 start, end;

	put(f, 0, 32, 5, PCACHE_KEY_DIRTY);
	put(f, 8, 8, 7, PCACHE_KEY_DIRTY);	/* newer, dirty: still write */
	put(f, 20, 4, 9, 0);			/* newer, clean: skip */
	KUNIT_EXPECT_STREQ(test, dump(test, f),
			   "0+8@5 8+8@7 16+4@5 20+4@9 24+8@5 ");
	KUNIT_ASSERT_TRUE(test, pcache_subtree_wb_run(&f->t, &k, 0, 5, &start,
						      &end));
	KUNIT_EXPECT_EQ(test, start, 0);
	KUNIT_EXPECT_EQ(test, end, 20);
	KUNIT_ASSERT_TRUE(test, pcache_subtree_wb_run(&f->t, &k, 20, 5, &start,
						      &end));
	KUNIT_EXPECT_EQ(test, start, 24);
	KUNIT_EXPECT_EQ(test, end, 32);
	KUNIT_EXPECT_FALSE(test, pcache_subtree_wb_run(&f->t, &k, 32, 5, &start,
						       &end));
	/* only the pieces of seq 5 become clean */
	pcache_subtree_mark_clean(&f->t, 0, 32, 5);
	KUNIT_ASSERT_TRUE(test, pcache_subtree_wb_run(&f->t, &k, 0, 5, &start,
						      &end));
	KUNIT_EXPECT_EQ(test, start, 8);
	KUNIT_EXPECT_EQ(test, end, 16);
	KUNIT_EXPECT_FALSE(test, pcache_subtree_wb_run(&f->t, &k, 16, 5, &start,
						       &end));
	tree_free(f);
}

/* Only a newer write already in the journal replaces the older data */
static void wb_run_open_test(struct kunit *test)
{
	struct tree_fix *f = tree_new(test);
	struct pcache_key_info k = { .lba = 0, .sectors = 32, .seq = 5,
				     .flags = PCACHE_KEY_DIRTY };
	u64 start, end;

	put(f, 0, 32, 5, PCACHE_KEY_DIRTY);
	put(f, 8, 8, 7, PCACHE_KEY_DIRTY | PCACHE_KEY_OPEN);
	/* no flush since seq 5, but seq 7 could still be lost: write all */
	KUNIT_ASSERT_TRUE(test, pcache_subtree_wb_run(&f->t, &k, 0, 100,
						      &start, &end));
	KUNIT_EXPECT_EQ(test, start, 0);
	KUNIT_EXPECT_EQ(test, end, 32);
	/* a piece of another key is untouched */
	pcache_subtree_mark_journaled(&f->t, 0, 32, 6);
	KUNIT_ASSERT_TRUE(test, pcache_subtree_wb_run(&f->t, &k, 0, 100,
						      &start, &end));
	KUNIT_EXPECT_EQ(test, end, 32);
	/* journaled, seq 7 replaces the older data */
	pcache_subtree_mark_journaled(&f->t, 8, 16, 7);
	KUNIT_ASSERT_TRUE(test, pcache_subtree_wb_run(&f->t, &k, 0, 100,
						      &start, &end));
	KUNIT_EXPECT_EQ(test, start, 0);
	KUNIT_EXPECT_EQ(test, end, 8);
	KUNIT_ASSERT_TRUE(test, pcache_subtree_wb_run(&f->t, &k, 8, 100,
						      &start, &end));
	KUNIT_EXPECT_EQ(test, start, 16);
	KUNIT_EXPECT_EQ(test, end, 32);
	tree_free(f);
}

/* A newer dirty write of the same flush epoch replaces the older data */
static void wb_run_epoch_test(struct kunit *test)
{
	struct tree_fix *f = tree_new(test);
	struct pcache_key_info k = { .lba = 0, .sectors = 32, .seq = 5,
				     .flags = PCACHE_KEY_DIRTY };
	u64 start, end;

	put(f, 0, 32, 5, PCACHE_KEY_DIRTY);
	put(f, 8, 8, 7, PCACHE_KEY_DIRTY);
	put(f, 24, 8, 9, PCACHE_KEY_DIRTY);
	/* a flush after seq 7: seq 7 replaces, seq 9 does not */
	KUNIT_ASSERT_TRUE(test, pcache_subtree_wb_run(&f->t, &k, 0, 7, &start,
						      &end));
	KUNIT_EXPECT_EQ(test, start, 0);
	KUNIT_EXPECT_EQ(test, end, 8);
	KUNIT_ASSERT_TRUE(test, pcache_subtree_wb_run(&f->t, &k, 8, 7, &start,
						      &end));
	KUNIT_EXPECT_EQ(test, start, 16);
	KUNIT_EXPECT_EQ(test, end, 32);
	/* no flush since: only the pieces still of seq 5 are written */
	KUNIT_ASSERT_TRUE(test, pcache_subtree_wb_run(&f->t, &k, 8, 100,
						      &start, &end));
	KUNIT_EXPECT_EQ(test, start, 16);
	KUNIT_EXPECT_EQ(test, end, 24);
	KUNIT_EXPECT_FALSE(test, pcache_subtree_wb_run(&f->t, &k, 24, 100,
						       &start, &end));
	tree_free(f);
}

/* Barriers of flushes, and how far a key's epoch reaches */
static void epochs_test(struct kunit *test)
{
	struct pcache_epochs *e = kunit_kzalloc(test, sizeof(*e), GFP_KERNEL);
	atomic64_t seq = ATOMIC64_INIT(10);
	u32 i;

	KUNIT_ASSERT_NOT_NULL(test, e);
	pcache_epochs_init(e, 10);
	/* replayed keys: their flushes are unknown */
	KUNIT_EXPECT_EQ(test, pcache_epochs_limit(e, 10, &seq), 10);
	atomic64_set(&seq, 20);
	KUNIT_EXPECT_EQ(test, pcache_epochs_limit(e, 11, &seq), 20);
	pcache_epochs_barrier(e, &seq);
	pcache_epochs_barrier(e, &seq);		/* nothing new: one barrier */
	KUNIT_EXPECT_EQ(test, e->nr, 1);
	atomic64_set(&seq, 30);
	pcache_epochs_barrier(e, &seq);
	atomic64_set(&seq, 35);
	KUNIT_EXPECT_EQ(test, pcache_epochs_limit(e, 11, &seq), 20);
	KUNIT_EXPECT_EQ(test, pcache_epochs_limit(e, 20, &seq), 20);
	KUNIT_EXPECT_EQ(test, pcache_epochs_limit(e, 21, &seq), 30);
	KUNIT_EXPECT_EQ(test, pcache_epochs_limit(e, 31, &seq), 35);
	/* a full ring forgets its oldest barriers, and their keys stay apart */
	for (i = 0; i < PCACHE_EPOCH_BARRIERS; i++) {
		atomic64_set(&seq, 40 + i);
		pcache_epochs_barrier(e, &seq);
	}
	KUNIT_EXPECT_EQ(test, e->nr, PCACHE_EPOCH_BARRIERS);
	KUNIT_EXPECT_EQ(test, pcache_epochs_limit(e, 25, &seq), 25);
	KUNIT_EXPECT_EQ(test, pcache_epochs_limit(e, 40, &seq), 40);
	KUNIT_EXPECT_EQ(test, pcache_epochs_limit(e, 41, &seq), 41);
}

/* When writeback may wait: below writeback_percent, writes going on */
static void wb_hold_test(struct kunit *test)
{
	u64 cap = 1000 * PCACHE_MIB;

	KUNIT_EXPECT_TRUE(test, pcache_wb_hold(0, cap, 50, false, false));
	KUNIT_EXPECT_TRUE(test, pcache_wb_hold(499 * PCACHE_MIB, cap, 50,
					       false, false));
	/* at the threshold, writes pausing, someone waiting, or percent 0 */
	KUNIT_EXPECT_FALSE(test, pcache_wb_hold(500 * PCACHE_MIB, cap, 50,
						false, false));
	KUNIT_EXPECT_FALSE(test, pcache_wb_hold(PCACHE_MIB, cap, 50, true,
						false));
	KUNIT_EXPECT_FALSE(test, pcache_wb_hold(PCACHE_MIB, cap, 50, false,
						true));
	KUNIT_EXPECT_FALSE(test, pcache_wb_hold(0, cap, 0, false, false));
	/* no overflow for a cache of many TiB */
	KUNIT_EXPECT_TRUE(test, pcache_wb_hold(1ULL << 44, 1ULL << 46, 90,
					       false, false));
}

/*
 * A look vouches for a bounded stretch of quiet: a guest whose vCPUs stood
 * still for seconds must not see a pause at its first look.
 */
static void wb_quiet_test(struct kunit *test)
{
	struct pcache_wb_quiet q;
	unsigned long t = 1000;
	int i;

	pcache_wb_watch(&q, 5, t - HZ);
	/* growth, then steady looks every HZ/2: quiet after 2 s */
	KUNIT_EXPECT_FALSE(test, pcache_wb_look(&q, 6, t));
	for (i = 1; i < 4; i++)
		KUNIT_EXPECT_FALSE(test, pcache_wb_look(&q, 6, t + i * HZ / 2));
	KUNIT_EXPECT_TRUE(test, pcache_wb_look(&q, 6, t + 2 * HZ));
	KUNIT_EXPECT_TRUE(test, pcache_wb_look(&q, 6, t + 5 * HZ));
	/* growth again; the next look comes 10 s late: not yet */
	t += 6 * HZ;
	KUNIT_EXPECT_FALSE(test, pcache_wb_look(&q, 7, t));
	t += 10 * HZ;
	KUNIT_EXPECT_FALSE(test, pcache_wb_look(&q, 7, t));
	/* looks close together vouch for no more than the time they span */
	for (i = 1; i <= 8; i++)
		KUNIT_EXPECT_FALSE(test, pcache_wb_look(&q, 7, t + i));
	KUNIT_EXPECT_FALSE(test, pcache_wb_look(&q, 7, t + HZ / 2));
	KUNIT_EXPECT_FALSE(test, pcache_wb_look(&q, 7, t + HZ));
	KUNIT_EXPECT_TRUE(test, pcache_wb_look(&q, 7, t + 3 * HZ / 2));
	/* growth after a gap ends the pause at once */
	t += 20 * HZ;
	KUNIT_EXPECT_FALSE(test, pcache_wb_look(&q, 8, t));
	/* one quiet look, then a gap: still not a pause */
	KUNIT_EXPECT_FALSE(test, pcache_wb_look(&q, 8, t + HZ / 2));
	KUNIT_EXPECT_FALSE(test, pcache_wb_look(&q, 8, t + 30 * HZ));
	KUNIT_EXPECT_FALSE(test, pcache_wb_look(&q, 8, t + 31 * HZ));
	KUNIT_EXPECT_TRUE(test, pcache_wb_look(&q, 8, t + 32 * HZ));
	/* a watch started afresh (a resume) forgets the quiet seen */
	pcache_wb_watch(&q, 8, t + 33 * HZ);
	KUNIT_EXPECT_FALSE(test, pcache_wb_look(&q, 8, t + 34 * HZ));
}

/* A write around the cache is refused only where dirty data overlaps */
static void dirty_range_test(struct kunit *test)
{
	struct tree_fix *f = tree_new(test);

	put(f, 0, 8, 1, 0);
	put(f, 16, 8, 2, PCACHE_KEY_DIRTY);
	KUNIT_EXPECT_FALSE(test, pcache_subtree_dirty(&f->t, 0, 16));
	KUNIT_EXPECT_TRUE(test, pcache_subtree_dirty(&f->t, 8, 17));
	KUNIT_EXPECT_TRUE(test, pcache_subtree_dirty(&f->t, 23, 40));
	KUNIT_EXPECT_FALSE(test, pcache_subtree_dirty(&f->t, 24, 40));
	tree_free(f);
}

/*
 * No error of the backing device may look like an empty journal or a wait
 * for a write around the cache to the writeback worker.
 */
static void wb_err_test(struct kunit *test)
{
	static const blk_status_t sts[] = {
		BLK_STS_NOTSUPP, BLK_STS_TIMEOUT, BLK_STS_NOSPC,
		BLK_STS_TRANSPORT, BLK_STS_TARGET, BLK_STS_MEDIUM,
		BLK_STS_PROTECTION, BLK_STS_RESOURCE, BLK_STS_IOERR,
		BLK_STS_DEV_RESOURCE, BLK_STS_AGAIN, BLK_STS_OFFLINE,
	};
	int i, err;

	KUNIT_EXPECT_EQ(test, pcache_wb_err(blk_status_to_errno(BLK_STS_OK)),
			0);
	for (i = 0; i < ARRAY_SIZE(sts); i++) {
		err = pcache_wb_err(blk_status_to_errno(sts[i]));
		KUNIT_EXPECT_LT(test, err, 0);
		KUNIT_EXPECT_NE(test, err, -ENODATA);
		KUNIT_EXPECT_NE(test, err, -EINPROGRESS);
	}
}

/* What a seal journals of an open key: the pieces still indexed */
static void next_of_test(struct kunit *test)
{
	struct tree_fix *f = tree_new(test);
	struct pcache_key_info p;

	put(f, 0, 32, 5, PCACHE_KEY_DIRTY);
	put(f, 8, 8, 6, PCACHE_KEY_DIRTY);	/* replaced the middle */
	KUNIT_ASSERT_TRUE(test, pcache_subtree_next_of(&f->t, 0, 32, 5, &p));
	KUNIT_EXPECT_EQ(test, p.lba, 0);
	KUNIT_EXPECT_EQ(test, p.sectors, 8);
	KUNIT_ASSERT_TRUE(test, pcache_subtree_next_of(&f->t, 8, 32, 5, &p));
	KUNIT_EXPECT_EQ(test, p.lba, 16);
	KUNIT_EXPECT_EQ(test, p.sectors, 16);
	KUNIT_EXPECT_EQ(test, p.seg_off, 16 * 512);
	KUNIT_EXPECT_FALSE(test, pcache_subtree_next_of(&f->t, 32, 64, 5, &p));
	put(f, 0, 32, 7, PCACHE_KEY_DIRTY);	/* all of it replaced */
	KUNIT_EXPECT_FALSE(test, pcache_subtree_next_of(&f->t, 0, 32, 5, &p));
	tree_free(f);
}

static void evict_test(struct kunit *test)
{
	struct tree_fix *f = tree_new(test);

	put(f, 0, 32, 5, 0);
	put(f, 8, 8, 7, PCACHE_KEY_DIRTY);
	put(f, 40, 8, 5, PCACHE_KEY_DIRTY);
	/* clean pieces of seq 5 go whole; dirty data and other seqs stay */
	KUNIT_EXPECT_EQ(test, pcache_subtree_evict(&f->t, 0, 48, 5, 0,
						   f->pool), 2);
	KUNIT_EXPECT_STREQ(test, dump(test, f), "8+8@7 40+8@5 ");
	KUNIT_EXPECT_EQ(test, pcache_subtree_evict(&f->t, 0, 48, 7, 0,
						   f->pool), 0);
	tree_free(f);
}

/* CLOCK: a read marks a key; a move keeps it out of its old key's evict */
static void move_test(struct kunit *test)
{
	struct tree_fix *f = tree_new(test);
	struct pcache_key_info hit, found;
	u64 run;

	put(f, 0, 32, 5, 0);
	/* only a read marks: a lookup without @touch does not */
	KUNIT_ASSERT_TRUE(test, pcache_subtree_lookup(&f->t, 4, 32, &hit, &run, false));
	KUNIT_ASSERT_TRUE(test, pcache_subtree_next_of(&f->t, 0, 32, 5, &found));
	KUNIT_EXPECT_FALSE(test, found.flags & PCACHE_KEY_HIT);
	KUNIT_ASSERT_TRUE(test, pcache_subtree_lookup(&f->t, 4, 32, &hit, &run, true));
	KUNIT_ASSERT_TRUE(test, pcache_subtree_next_of(&f->t, 0, 32, 5, &found));
	KUNIT_EXPECT_TRUE(test, found.flags & PCACHE_KEY_HIT);
	KUNIT_ASSERT_TRUE(test, pcache_subtree_move(&f->t, &found, 3, 8192, 2));
	KUNIT_ASSERT_TRUE(test, pcache_subtree_next_of(&f->t, 0, 32, 5, &hit));
	KUNIT_EXPECT_EQ(test, hit.seg, 3);
	KUNIT_EXPECT_EQ(test, hit.seg_off, 8192);
	KUNIT_EXPECT_FALSE(test, hit.flags & PCACHE_KEY_HIT);
	/* the key as found is gone: a second move of it is refused */
	KUNIT_EXPECT_FALSE(test, pcache_subtree_move(&f->t, &found, 4, 0, 1));
	KUNIT_EXPECT_EQ(test, pcache_subtree_evict(&f->t, 0, 32, 5, 0,
						   f->pool), 0);
	KUNIT_EXPECT_EQ(test, pcache_subtree_evict(&f->t, 0, 32, 5, 3,
						   f->pool), 1);
	/* a key written over since it was found does not move */
	put(f, 0, 32, 6, 0);
	KUNIT_ASSERT_TRUE(test, pcache_subtree_next_of(&f->t, 0, 32, 6, &found));
	put(f, 8, 8, 7, PCACHE_KEY_DIRTY);
	KUNIT_EXPECT_FALSE(test, pcache_subtree_move(&f->t, &found, 3, 0, 2));
	tree_free(f);
}

/* put() into segment @seg, then the counts must still match the tree */
static void put_seg(struct tree_fix *f, u32 seg, u64 lba, u32 n, u64 seq,
		    u32 flags)
{
	f->seg = seg;
	put(f, lba, n, seq, flags);
	refs_match(f);
}

/*
 * GC frees a segment whose count is zero: each way a key enters, leaves,
 * splits or moves must keep the per-segment counts exact.
 */
static void seg_refs_test(struct kunit *test)
{
	struct tree_fix *f = tree_new(test);
	struct pcache_key_info hit, found;
	u64 run;

	put_seg(f, 1, 0, 16, 1, 0);
	put_seg(f, 2, 4, 4, 2, 0);		/* splits seg 1's key */
	KUNIT_EXPECT_EQ(test, atomic_read(&f->refs[1]), 2);
	put_seg(f, 3, 0, 16, 3, 0);		/* removes all three */
	KUNIT_EXPECT_EQ(test, atomic_read(&f->refs[1]), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->refs[2]), 0);
	put_seg(f, 4, 0, 16, 4, 0);		/* same sectors: in place */
	KUNIT_EXPECT_TRUE(test, f->reused);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->refs[3]), 0);
	put_seg(f, 5, 0, 4, 5, PCACHE_KEY_TOMBSTONE);	/* trims, no count */
	put_seg(f, 5, 12, 8, 6, 0);		/* trims the back */
	/* replay order: an older key fills the gaps around a newer one */
	put_seg(f, 6, 22, 2, 10, 0);
	put_seg(f, 7, 20, 8, 9, 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->refs[7]), 2);
	/* a move trades the old segment's reference for the new one's */
	KUNIT_ASSERT_TRUE(test, pcache_subtree_next_of(&f->t, 0, 16, 4, &found));
	KUNIT_ASSERT_TRUE(test, pcache_subtree_move(&f->t, &found, 2, 0, 1));
	refs_match(f);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->refs[4]), 0);
	KUNIT_EXPECT_EQ(test, pcache_subtree_evict(&f->t, 20, 28, 9, 7,
						   f->pool), 2);
	refs_match(f);
	KUNIT_ASSERT_TRUE(test, pcache_subtree_lookup(&f->t, 22, 24, &hit, &run,
						      false));
	KUNIT_EXPECT_TRUE(test, pcache_subtree_drop(&f->t, &hit, f->pool));
	KUNIT_EXPECT_EQ(test, atomic_read(&f->refs[6]), 0);
	tree_free(f);
}

/* A zero key has no data: trimming it moves no data offset */
static void zero_key_test(struct kunit *test)
{
	struct tree_fix *f = tree_new(test);
	struct pcache_key *z = mempool_alloc(f->pool, GFP_KERNEL);
	struct pcache_key_info hit;
	u64 run;

	memset(&z->k, 0, sizeof(z->k));
	z->k.lba = 0;
	z->k.sectors = 32;
	z->k.seq = 5;
	z->k.flags = PCACHE_KEY_ZERO | PCACHE_KEY_DIRTY;
	WARN_ON(pcache_subtree_insert(&f->t, z, fix_alloc, f, f->pool, NULL));
	put(f, 8, 8, 6, PCACHE_KEY_DIRTY);
	KUNIT_ASSERT_TRUE(test, pcache_subtree_lookup(&f->t, 20, 32, &hit, &run, false));
	KUNIT_EXPECT_EQ(test, hit.lba, 16);
	KUNIT_EXPECT_EQ(test, hit.seg_off, 0);
	KUNIT_EXPECT_FALSE(test, pcache_key_has_data(&hit));
	tree_free(f);
}

/* Sequential streams, per CPU */
static void seq_note_test(struct kunit *test)
{
	struct pcache_seq_cpu *sc = kunit_kzalloc(test, sizeof(*sc),
						  GFP_KERNEL);
	unsigned long now = 1000;
	int i;

	KUNIT_EXPECT_EQ(test, pcache_seq_note(sc, 0, 4096, now), 4096);
	KUNIT_EXPECT_EQ(test, pcache_seq_note(sc, 8, 4096, now), 8192);
	/* the rest of a bio the target cut is not counted twice */
	KUNIT_EXPECT_EQ(test, pcache_seq_note(sc, 12, 2048, now), 8192);
	KUNIT_EXPECT_EQ(test, pcache_seq_note(sc, 16, 4096, now), 12288);
	/* another stream in between does not end the first */
	KUNIT_EXPECT_EQ(test, pcache_seq_note(sc, 1000, 4096, now), 4096);
	KUNIT_EXPECT_EQ(test, pcache_seq_note(sc, 24, 4096, now), 16384);
	/* an idle stream ends */
	KUNIT_EXPECT_EQ(test, pcache_seq_note(sc, 32, 4096,
					      now + PCACHE_SEQ_IDLE), 4096);
	/* more streams than slots: the least recent falls off */
	for (i = 0; i < PCACHE_SEQ_STREAMS; i++)
		pcache_seq_note(sc, 100000 + i * 1000, 512, now);
	KUNIT_EXPECT_EQ(test, pcache_seq_note(sc, 40, 4096, now), 4096);
}

/* Journal */

static void kset_check_test(struct kunit *test)
{
	struct pcache_kset_onmedia *ks = kunit_kzalloc(test, 4096, GFP_KERNEL);
	struct pcache_key_info k = { .seq = 1, .lba = 8, .sectors = 8, .seg = 1,
				     .seg_off = 4096, .flags = PCACHE_KEY_DIRTY };
	static const u8 uuid[16] = { 9 }, other[16] = { 8 };
	struct pcache_geometry geo;
	u32 seed = pcache_kset_seed(uuid);
	const char *why;

	make_geo(&geo, GIB);
	ks->seq = cpu_to_le64(5);
	ks->count = cpu_to_le16(1);
	pcache_key_encode(&ks->keys[0], &k);
	pcache_kset_seal(ks, seed);
	KUNIT_EXPECT_EQ(test, pcache_kset_check(ks, 4096, 5, seed, &geo, &why), 0);
	KUNIT_EXPECT_EQ(test, pcache_kset_check(ks, 4096, 6, seed, &geo, &why),
			-EUCLEAN);
	KUNIT_EXPECT_EQ(test, pcache_kset_check(ks, 4096, 5,
						pcache_kset_seed(other), &geo,
						&why), -EBADMSG);
	KUNIT_EXPECT_EQ(test, pcache_kset_check(ks, 64, 5, seed, &geo, &why),
			-EUCLEAN);
	k.seg_off = PCACHE_SEG_SIZE - 512;
	pcache_key_encode(&ks->keys[0], &k);
	pcache_kset_seal(ks, seed);
	KUNIT_EXPECT_EQ(test, pcache_kset_check(ks, 4096, 5, seed, &geo, &why),
			-EUCLEAN);
	ks->count = cpu_to_le16(PCACHE_KSET_MAX_KEYS + 1);
	pcache_kset_seal(ks, seed);
	KUNIT_EXPECT_EQ(test, pcache_kset_check(ks, 4096, 5, seed, &geo, &why),
			-EUCLEAN);
	/* found by the fuzzer: a link kset with keys, which replay skips */
	k.seg_off = 4096;
	pcache_key_encode(&ks->keys[0], &k);
	ks->count = cpu_to_le16(1);
	ks->flags = cpu_to_le16(PCACHE_KSET_LINK);
	ks->next_seg = cpu_to_le32(2);
	pcache_kset_seal(ks, seed);
	KUNIT_EXPECT_EQ(test, pcache_kset_check(ks, 4096, 5, seed, &geo, &why),
			-EUCLEAN);
	ks->count = 0;
	pcache_kset_seal(ks, seed);
	KUNIT_EXPECT_EQ(test, pcache_kset_check(ks, 4096, 5, seed, &geo, &why), 0);
}

static int check_flags(u32 flags)
{
	struct pcache_kset_onmedia *ks = kzalloc(4096, GFP_KERNEL);
	struct pcache_key_info k = { .seq = 1, .lba = 8, .sectors = 8,
				     .flags = flags };
	static const u8 uuid[16] = { 9 };
	struct pcache_geometry geo;
	const char *why;
	int ret;

	if (!ks)
		return -ENOMEM;
	make_geo(&geo, GIB);
	ks->seq = cpu_to_le64(5);
	ks->count = cpu_to_le16(1);
	pcache_key_encode(&ks->keys[0], &k);
	ks->keys[0].flags = cpu_to_le32(flags);
	pcache_kset_seal(ks, pcache_kset_seed(uuid));
	ret = pcache_kset_check(ks, 4096, 5, pcache_kset_seed(uuid), &geo,
				&why);
	kfree(ks);
	return ret;
}

/* Which flag sets a journaled key may carry */
static void key_flags_test(struct kunit *test)
{
	struct pcache_key_onmedia o;
	struct pcache_key_info k = { .sectors = 8,
				     .flags = PCACHE_KEY_DIRTY | PCACHE_KEY_HIT |
					      PCACHE_KEY_OPEN };

	KUNIT_EXPECT_EQ(test, check_flags(PCACHE_KEY_ZERO), 0);
	KUNIT_EXPECT_EQ(test, check_flags(PCACHE_KEY_ZERO | PCACHE_KEY_DIRTY |
					  PCACHE_KEY_DISCARD), 0);
	KUNIT_EXPECT_EQ(test, check_flags(PCACHE_KEY_TOMBSTONE), 0);
	KUNIT_EXPECT_EQ(test, check_flags(PCACHE_KEY_TOMBSTONE |
					  PCACHE_KEY_DIRTY), -EUCLEAN);
	KUNIT_EXPECT_EQ(test, check_flags(PCACHE_KEY_TOMBSTONE |
					  PCACHE_KEY_ZERO), -EUCLEAN);
	KUNIT_EXPECT_EQ(test, check_flags(PCACHE_KEY_ZERO | PCACHE_KEY_CRC),
			-EUCLEAN);
	KUNIT_EXPECT_EQ(test, check_flags(PCACHE_KEY_DIRTY |
					  PCACHE_KEY_DISCARD), -EUCLEAN);
	KUNIT_EXPECT_EQ(test, check_flags(PCACHE_KEY_HIT), -EUCLEAN);
	/* an unknown bit makes the kset invalid */
	KUNIT_EXPECT_EQ(test, check_flags(PCACHE_KEY_ZERO | (1U << 30)), -EUCLEAN);
	/* in-memory bits never reach the journal */
	pcache_key_encode(&o, &k);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(o.flags), PCACHE_KEY_DIRTY);
}

struct log_fix {
	struct pcache_pmem pm;
	struct pcache_super super;
	struct pcache_segalloc sa;
	struct pcache_log log;
	u64 keys;
};

static int count_key(void *ctx, const struct pcache_key_info *k, u64 kset_seq)
{
	struct log_fix *f = ctx;

	f->keys++;
	return 0;
}

static void log_fix_reload(struct log_fix *f)
{
	pcache_segalloc_exit(&f->sa);
	WARN_ON(pcache_segalloc_init(&f->sa, f->super.geo.seg_count));
	pcache_log_init(&f->log, &f->pm, &f->super, &f->sa);
}

static void append_one(struct kunit *test, struct log_fix *f, u64 lba)
{
	struct pcache_kset_onmedia *ks = kunit_kzalloc(test, 4096, GFP_KERNEL);
	struct pcache_key_info k = { .lba = lba, .sectors = 8, .seg = 0,
				     .flags = PCACHE_KEY_DIRTY };

	ks->count = cpu_to_le16(1);
	pcache_key_encode(&ks->keys[0], &k);
	KUNIT_ASSERT_EQ(test, pcache_log_append(&f->log, ks), 0);
}

static void replay_torn_test(struct kunit *test)
{
	struct log_fix *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);
	struct pcache_settings set = { .gc_percent = 70 };
	struct pcache_log_cursor cur, start;
	struct pcache_replay_stats st;
	char err[PCACHE_SUPER_ERR_LEN];
	u64 kset3;

	KUNIT_ASSERT_NOT_NULL(test, f);
	f->pm.size = 5 * PCACHE_SEG_SIZE + PCACHE_SEG_SIZE;
	f->pm.base = vzalloc(f->pm.size);
	KUNIT_ASSERT_NOT_NULL(test, f->pm.base);
	KUNIT_ASSERT_EQ(test, pcache_super_open(&f->super, "kunit", &f->pm,
						&set, err), 0);
	KUNIT_ASSERT_EQ(test, pcache_segalloc_init(&f->sa,
						   f->super.geo.seg_count), 0);
	pcache_log_init(&f->log, &f->pm, &f->super, &f->sa);
	append_one(test, f, 0);
	append_one(test, f, 8);
	kset3 = f->super.geo.data_off +
		(u64)f->log.head.seg * PCACHE_SEG_SIZE + f->log.head.off;
	append_one(test, f, 16);
	/* a power cut tore the last kset */
	((u8 *)f->pm.base)[kset3 + 40] ^= 0x55;

	log_fix_reload(f);
	/* a replay helper's walk reads the same and changes nothing */
	pcache_log_cursor_init(&f->log, &cur);
	start = cur;
	KUNIT_ASSERT_EQ(test, pcache_log_walk(&f->log, &cur, count_key, f, NULL, &st), 0);
	KUNIT_EXPECT_EQ(test, f->keys, 2);
	KUNIT_EXPECT_STREQ(test, st.stop, "crc");
	KUNIT_EXPECT_EQ(test, cur.seq, start.seq + 2);
	KUNIT_EXPECT_EQ(test, f->log.next_seq, start.seq);
	KUNIT_EXPECT_EQ(test, f->log.head.off, start.pos.off);
	KUNIT_EXPECT_EQ(test, f->sa.used, 0);
	f->keys = 0;
	KUNIT_ASSERT_EQ(test, pcache_log_replay(&f->log, count_key, f, NULL, &st), 0);
	KUNIT_EXPECT_EQ(test, st.ksets, 2);
	KUNIT_EXPECT_EQ(test, f->keys, 2);
	KUNIT_EXPECT_STREQ(test, st.stop, "crc");
	KUNIT_EXPECT_EQ(test, f->log.next_seq, cur.seq);
	KUNIT_EXPECT_EQ(test, f->log.head.off, cur.pos.off);
	KUNIT_EXPECT_EQ(test, f->sa.used, 1);
	/* appending resumes over the torn kset, in sequence */
	append_one(test, f, 24);
	log_fix_reload(f);
	f->keys = 0;
	KUNIT_ASSERT_EQ(test, pcache_log_replay(&f->log, count_key, f, NULL, &st), 0);
	KUNIT_EXPECT_EQ(test, f->keys, 3);
	KUNIT_EXPECT_STREQ(test, st.stop, "magic");
	pcache_segalloc_exit(&f->sa);
	pcache_super_close(&f->super);
	vfree(f->pm.base);
}

static u64 log_fix_head(struct log_fix *f)
{
	return f->super.geo.data_off +
	       (u64)f->log.head.seg * PCACHE_SEG_SIZE + f->log.head.off;
}

static u64 walk_count(struct kunit *test, struct log_fix *f,
		      const struct pcache_log_share *sh, const char **stop)
{
	struct pcache_log_cursor cur;
	struct pcache_replay_stats st;

	f->keys = 0;
	pcache_log_cursor_init(&f->log, &cur);
	KUNIT_EXPECT_EQ(test, pcache_log_walk(&f->log, &cur, count_key, f, sh,
					      &st), 0);
	*stop = st.stop;
	return f->keys;
}

/* Both walkers of two run their header pass; how far each vouches */
static void precheck_two(struct kunit *test, struct log_fix *f,
			 const struct pcache_log_cursor *start,
			 struct pcache_log_share *sh, u64 good0, u64 good1)
{
	pcache_log_share_init(sh, 2);
	pcache_log_precheck(&f->log, start, sh, 0);
	pcache_log_precheck(&f->log, start, sh, 1);
	KUNIT_EXPECT_EQ(test, sh->good_below[0], good0);
	KUNIT_EXPECT_EQ(test, sh->good_below[1], good1);
}

/* Walkers check each kset's checksum once among them, and stop alike */
static void replay_share_test(struct kunit *test)
{
	struct log_fix *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);
	struct pcache_settings set = { .gc_percent = 70 };
	struct pcache_log_share *sh = kunit_kzalloc(test, sizeof(*sh),
						    GFP_KERNEL);
	char err[PCACHE_SUPER_ERR_LEN];
	struct pcache_log_cursor start;
	u64 at[5];
	const char *stop;
	u8 *base;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, f);
	KUNIT_ASSERT_NOT_NULL(test, sh);
	f->pm.size = 6 * PCACHE_SEG_SIZE;
	f->pm.base = vzalloc(f->pm.size);
	KUNIT_ASSERT_NOT_NULL(test, f->pm.base);
	base = f->pm.base;
	KUNIT_ASSERT_EQ(test, pcache_super_open(&f->super, "kunit", &f->pm,
						&set, err), 0);
	KUNIT_ASSERT_EQ(test, pcache_segalloc_init(&f->sa,
						   f->super.geo.seg_count), 0);
	pcache_log_init(&f->log, &f->pm, &f->super, &f->sa);
	for (i = 0; i < 5; i++) {
		append_one(test, f, 8 * i);
		/* the first append places the journal */
		at[i] = log_fix_head(f) - pcache_kset_size(1);
	}
	/* a key of kset 2 is torn: its checksum fails */
	base[at[2] + 40] ^= 0x55;

	log_fix_reload(f);
	pcache_log_cursor_init(&f->log, &start);
	/* walker 0 vouches for kset 0 only; walker 1 read past 2 by headers */
	precheck_two(test, f, &start, sh, 1, 4);
	/* a walk checks kset 2 itself and ends the journal there */
	KUNIT_EXPECT_EQ(test, walk_count(test, f, sh, &stop), 2);
	KUNIT_EXPECT_STREQ(test, stop, "crc");
	KUNIT_EXPECT_EQ(test, walk_count(test, f, NULL, &stop), 2);

	/* mended, then checked again: every kset is vouched for */
	base[at[2] + 40] ^= 0x55;
	precheck_two(test, f, &start, sh, 5, 4);
	/* a kset vouched for is not checksummed again by the walk */
	base[at[3] + 40] ^= 0x55;
	KUNIT_EXPECT_EQ(test, walk_count(test, f, sh, &stop), 5);
	KUNIT_EXPECT_STREQ(test, stop, "magic");
	KUNIT_EXPECT_EQ(test, walk_count(test, f, NULL, &stop), 3);
	KUNIT_EXPECT_STREQ(test, stop, "crc");
	/* with one walker, the share is its own */
	pcache_log_share_init(sh, 1);
	pcache_log_precheck(&f->log, &start, sh, 0);
	KUNIT_EXPECT_EQ(test, sh->good_below[0], 3);
	pcache_segalloc_exit(&f->sa);
	pcache_super_close(&f->super);
	vfree(f->pm.base);
}

/*
 * A kset (valid or forged) that ends exactly where the last segment and
 * the device end: the walkers' header pass must not read past it (a WARN
 * from pcache_pmem_read(), which the suite's splat check fails on).
 */
static void replay_share_end_test(struct kunit *test)
{
	struct log_fix *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);
	struct pcache_settings set = { .gc_percent = 70 };
	struct pcache_log_share *sh = kunit_kzalloc(test, sizeof(*sh),
						    GFP_KERNEL);
	struct pcache_kset_onmedia *ks = kunit_kzalloc(test, 4096, GFP_KERNEL);
	struct pcache_key_info k = { .lba = 8, .sectors = 8,
				     .flags = PCACHE_KEY_DIRTY };
	char err[PCACHE_SUPER_ERR_LEN];
	struct pcache_log_cursor start;
	const char *stop;
	u32 last;

	KUNIT_ASSERT_NOT_NULL(test, f);
	KUNIT_ASSERT_NOT_NULL(test, sh);
	KUNIT_ASSERT_NOT_NULL(test, ks);
	f->pm.size = 6 * PCACHE_SEG_SIZE;
	f->pm.base = vzalloc(f->pm.size);
	KUNIT_ASSERT_NOT_NULL(test, f->pm.base);
	KUNIT_ASSERT_EQ(test, pcache_super_open(&f->super, "kunit", &f->pm,
						&set, err), 0);
	last = f->super.geo.seg_count - 1;
	KUNIT_ASSERT_EQ(test, f->super.geo.data_off +
			(u64)(last + 1) * PCACHE_SEG_SIZE, f->pm.size);
	KUNIT_ASSERT_EQ(test, pcache_segalloc_init(&f->sa,
						   f->super.geo.seg_count), 0);
	pcache_log_init(&f->log, &f->pm, &f->super, &f->sa);
	start.pos.seg = last;
	start.pos.off = PCACHE_SEG_SIZE - pcache_kset_size(1);
	start.seq = 7;
	ks->seq = cpu_to_le64(start.seq);
	ks->count = cpu_to_le16(1);
	pcache_key_encode(&ks->keys[0], &k);
	pcache_kset_seal(ks, f->log.seed);
	memcpy((u8 *)f->pm.base + f->super.geo.data_off +
	       (u64)last * PCACHE_SEG_SIZE + start.pos.off, ks,
	       pcache_kset_size(1));
	f->log.head = start.pos;
	f->log.next_seq = start.seq;

	precheck_two(test, f, &start, sh, 1, 0);
	KUNIT_EXPECT_EQ(test, walk_count(test, f, sh, &stop), 1);
	KUNIT_EXPECT_STREQ(test, stop, "magic");
	pcache_segalloc_exit(&f->sa);
	pcache_super_close(&f->super);
	vfree(f->pm.base);
}

static struct kunit_case pcache_index_cases[] = {
	KUNIT_CASE(classify_test),
	KUNIT_CASE(insert_positions_test),
	KUNIT_CASE(insert_replay_order_test),
	KUNIT_CASE(insert_same_range_test),
	KUNIT_CASE(insert_model_test),
	KUNIT_CASE(lookup_test),
	KUNIT_CASE(wb_run_test),
	KUNIT_CASE(wb_run_epoch_test),
	KUNIT_CASE(wb_run_open_test),
	KUNIT_CASE(epochs_test),
	KUNIT_CASE(wb_hold_test),
	KUNIT_CASE(wb_quiet_test),
	KUNIT_CASE(wb_err_test),
	KUNIT_CASE(dirty_range_test),
	KUNIT_CASE(evict_test),
	KUNIT_CASE(next_of_test),
	KUNIT_CASE(move_test),
	KUNIT_CASE(seg_refs_test),
	KUNIT_CASE(zero_key_test),
	KUNIT_CASE(seq_note_test),
	{}
};

static struct kunit_suite pcache_index_suite = {
	.name = "pcache_index",
	.test_cases = pcache_index_cases,
};

static struct kunit_case pcache_journal_cases[] = {
	KUNIT_CASE(kset_check_test),
	KUNIT_CASE(key_flags_test),
	KUNIT_CASE(replay_torn_test),
	KUNIT_CASE(replay_share_test),
	KUNIT_CASE(replay_share_end_test),
	{}
};

static struct kunit_suite pcache_journal_suite = {
	.name = "pcache_journal",
	.test_cases = pcache_journal_cases,
};

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

kunit_test_suites(&pcache_format_suite, &pcache_meta_suite,
		  &pcache_index_suite, &pcache_journal_suite);

MODULE_DESCRIPTION("KUnit tests for dm-pcache");
MODULE_LICENSE("GPL");
