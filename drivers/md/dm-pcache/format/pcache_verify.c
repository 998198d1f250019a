// SPDX-License-Identifier: GPL-2.0
/*
 * Pure encode, decode and validation of the dm-pcache on-media records.
 * Shared by the module, its KUnit tests and the userspace tools; see
 * pcache_verify.h for the conventions.
 */
#include "pcache_verify.h"

static_assert(sizeof(struct pcache_meta_hdr) == 16);
static_assert(sizeof(struct pcache_sb_onmedia) == 256);
static_assert(sizeof(struct pcache_info_onmedia) == 64);
static_assert(sizeof(struct pcache_positions_onmedia) == 64);
static_assert(sizeof(struct pcache_seg_onmedia) == 64);
static_assert(offsetof(struct pcache_sb_onmedia, magic) == 16);
static_assert(offsetof(struct pcache_sb_onmedia, uuid) == 56);
static_assert(offsetof(struct pcache_sb_onmedia, seg_count) == 84);
static_assert(offsetof(struct pcache_sb_onmedia, data_off) == 96);
static_assert(offsetof(struct pcache_positions_onmedia, dirty_tail) == 32);
static_assert(offsetof(struct pcache_seg_onmedia, gen) == 24);
static_assert(sizeof(struct pcache_key_onmedia) == 40);
static_assert(sizeof(struct pcache_kset_onmedia) == 32);
static_assert(sizeof(struct pcache_kset_onmedia) + PCACHE_KSET_MAX_KEYS *
	      sizeof(struct pcache_key_onmedia) <= PCACHE_KSET_MAX_SIZE);
static_assert(offsetof(struct pcache_positions_onmedia, key_tail_seq) == 40);
static_assert(offsetof(struct pcache_positions_onmedia, dirty_tail_seq) == 48);
static_assert(sizeof(struct pcache_sb_onmedia) <= PCACHE_SB_STRIDE);
static_assert(PCACHE_SB_OFF + PCACHE_SLOTS * PCACHE_SB_STRIDE <=
	      PCACHE_BLANK_SIZE);
static_assert(PCACHE_INFO_OFF + PCACHE_SLOTS * PCACHE_INFO_STRIDE <=
	      PCACHE_POS_OFF);
static_assert(PCACHE_POS_OFF + PCACHE_SLOTS * PCACHE_POS_STRIDE <=
	      PCACHE_SEG_INFO_OFF);

/* The in-tree dm-pcache keeps its superblock magic at 4 KiB + 8. */
#define INTREE_PCACHE_MAGIC	0x65B05EFA96C596EFULL
#define INTREE_PCACHE_MAGIC_OFF	(4096 + 8)
#define EXT_MAGIC_OFF		1080
#define EXT_MAGIC		0xEF53

#define CRC_START	offsetofend(struct pcache_meta_hdr, crc)

static u64 round_up_pow2(u64 x, u64 align)
{
	return (x + align - 1) & ~(align - 1);
}

/**
 * pcache_seq_after() - is sequence @a newer than @b?
 * @a: a sequence number
 * @b: another sequence number
 *
 * Compared as a signed distance so that the order stays right across a
 * wrap of the 64-bit counter.
 *
 * Return: true if @a was written after @b.
 */
bool pcache_seq_after(u64 a, u64 b)
{
	return (s64)(a - b) > 0;
}

/**
 * pcache_meta_crc() - checksum of a metadata record
 * @rec: record starting with struct pcache_meta_hdr
 * @size: size of the record in bytes
 *
 * Return: crc32c of everything after the crc field.
 */
u32 pcache_meta_crc(const void *rec, size_t size)
{
	return crc32c(~0U, (const u8 *)rec + CRC_START, size - CRC_START);
}

/**
 * pcache_meta_seal() - fill in a record's header: kind, sequence, checksum
 * @rec: record starting with struct pcache_meta_hdr, body already encoded
 * @size: size of the record in bytes
 * @magic: record kind
 * @seq: sequence number of this copy
 */
void pcache_meta_seal(void *rec, size_t size, u32 magic, u64 seq)
{
	struct pcache_meta_hdr *hdr = rec;

	hdr->magic = cpu_to_le32(magic);
	hdr->seq = cpu_to_le64(seq);
	hdr->crc = cpu_to_le32(pcache_meta_crc(rec, size));
}

/**
 * pcache_meta_check() - check a record's kind and checksum
 * @rec: record starting with struct pcache_meta_hdr
 * @size: size of the record in bytes
 * @magic: expected record kind
 * @reason: set to the failing check on error
 *
 * Return: 0, -EUCLEAN for a wrong kind, -EBADMSG for a wrong checksum.
 */
int pcache_meta_check(const void *rec, size_t size, u32 magic,
		      const char **reason)
{
	const struct pcache_meta_hdr *hdr = rec;

	if (le32_to_cpu(hdr->magic) != magic) {
		*reason = "magic";
		return -EUCLEAN;
	}
	if (le32_to_cpu(hdr->crc) != pcache_meta_crc(rec, size)) {
		*reason = "crc";
		return -EBADMSG;
	}
	return 0;
}

static int err_rank(int err)
{
	switch (err) {
	case -EOPNOTSUPP:
		return 3;
	case -EBADMSG:
		return 2;
	case -EUCLEAN:
		return 1;
	default:
		return 0;
	}
}

/**
 * pcache_pick_latest() - choose the current copy among metadata slots
 * @err: per slot, 0 if the slot is valid or its -errno
 * @seq: per slot, its sequence number (ignored for invalid slots)
 * @n: number of slots
 *
 * The newest valid slot wins; on a tie the lower index does.
 *
 * Return: index of the current slot, or, when no slot is valid, the most
 * telling error among them (-EOPNOTSUPP before -EBADMSG before -EUCLEAN),
 * -ENOENT if @n is 0.
 */
int pcache_pick_latest(const int *err, const u64 *seq, int n)
{
	int i, best = -1, worst = -ENOENT;

	for (i = 0; i < n; i++) {
		if (err[i]) {
			if (worst == -ENOENT || err_rank(err[i]) > err_rank(worst))
				worst = err[i];
			continue;
		}
		if (best < 0 || pcache_seq_after(seq[i], seq[best]))
			best = i;
	}
	return best >= 0 ? best : worst;
}

/**
 * pcache_geometry_compute() - lay out a cache device of a given size
 * @dev_size: bytes of the cache device
 * @geo: filled in on success
 *
 * Return: 0, or -ENOSPC if fewer than PCACHE_SEGS_MIN segments fit.
 */
int pcache_geometry_compute(u64 dev_size, struct pcache_geometry *geo)
{
	u64 per_seg = PCACHE_SEG_SIZE + PCACHE_SLOTS * PCACHE_SEG_INFO_STRIDE;
	u64 n, data_off;

	if (dev_size < PCACHE_SEG_INFO_OFF + per_seg * PCACHE_SEGS_MIN)
		return -ENOSPC;
	n = (dev_size - PCACHE_SEG_INFO_OFF) / per_seg;
	if (n > PCACHE_SEGS_MAX)
		n = PCACHE_SEGS_MAX;
	for (; n >= PCACHE_SEGS_MIN; n--) {
		data_off = round_up_pow2(PCACHE_SEG_INFO_OFF +
					 n * PCACHE_SLOTS * PCACHE_SEG_INFO_STRIDE,
					 PCACHE_SEG_SIZE);
		if (data_off + n * PCACHE_SEG_SIZE <= dev_size)
			break;
	}
	if (n < PCACHE_SEGS_MIN)
		return -ENOSPC;
	geo->dev_size = dev_size;
	geo->seg_count = n;
	geo->seg_info_off = PCACHE_SEG_INFO_OFF;
	geo->data_off = data_off;
	return 0;
}

/**
 * pcache_sb_encode() - build a superblock copy
 * @sb: output, fully overwritten
 * @geo: geometry to record
 * @uuid: 16-byte identity
 * @seq: sequence number of this copy
 */
void pcache_sb_encode(struct pcache_sb_onmedia *sb,
		      const struct pcache_geometry *geo, const u8 *uuid,
		      u64 seq)
{
	memset(sb, 0, sizeof(*sb));
	sb->magic = cpu_to_le64(PCACHE_SB_MAGIC);
	sb->version = cpu_to_le32(PCACHE_VERSION);
	memcpy(sb->uuid, uuid, sizeof(sb->uuid));
	sb->dev_size = cpu_to_le64(geo->dev_size);
	sb->seg_size = cpu_to_le32(PCACHE_SEG_SIZE);
	sb->seg_count = cpu_to_le32(geo->seg_count);
	sb->seg_info_off = cpu_to_le64(geo->seg_info_off);
	sb->data_off = cpu_to_le64(geo->data_off);
	pcache_meta_seal(sb, sizeof(*sb), PCACHE_MAGIC_SB, seq);
}

static int sb_check_features(const struct pcache_sb_onmedia *sb,
			     const char **reason)
{
	if (le32_to_cpu(sb->version) != PCACHE_VERSION) {
		*reason = "version";
		return -EOPNOTSUPP;
	}
	if (le64_to_cpu(sb->feature_incompat) & ~PCACHE_FEATURE_INCOMPAT_SUPP) {
		*reason = "incompatible features";
		return -EOPNOTSUPP;
	}
	if (le64_to_cpu(sb->feature_ro_compat) &
	    ~PCACHE_FEATURE_RO_COMPAT_SUPP) {
		*reason = "read-only features";
		return -EOPNOTSUPP;
	}
	return 0;
}

static int sb_check_geometry(const struct pcache_sb_onmedia *sb, u64 dev_size,
			     const char **reason)
{
	u64 size = le64_to_cpu(sb->dev_size);
	u64 count = le32_to_cpu(sb->seg_count);
	u64 info_off = le64_to_cpu(sb->seg_info_off);
	u64 data_off = le64_to_cpu(sb->data_off);

	*reason = "geometry";
	if (le32_to_cpu(sb->seg_size) != PCACHE_SEG_SIZE)
		return -EUCLEAN;
	if (count < PCACHE_SEGS_MIN || count > PCACHE_SEGS_MAX)
		return -EUCLEAN;
	if (info_off != PCACHE_SEG_INFO_OFF)
		return -EUCLEAN;
	if (data_off & (PCACHE_SEG_SIZE - 1) || data_off > size ||
	    data_off < info_off + count * PCACHE_SLOTS * PCACHE_SEG_INFO_STRIDE)
		return -EUCLEAN;
	if (count * PCACHE_SEG_SIZE > size - data_off)
		return -EUCLEAN;
	if (size > dev_size) {
		*reason = "device smaller than at format time";
		return -EUCLEAN;
	}
	return 0;
}

/**
 * pcache_sb_check() - validate a superblock copy
 * @sb: the copy
 * @dev_size: current size of the cache device in bytes
 * @reason: set to the failing check on error
 *
 * Return: 0, -EUCLEAN (magic or geometry), -EBADMSG (checksum),
 * -EOPNOTSUPP (version or features).
 */
int pcache_sb_check(const struct pcache_sb_onmedia *sb, u64 dev_size,
		    const char **reason)
{
	int ret;

	if (le64_to_cpu(sb->magic) != PCACHE_SB_MAGIC) {
		*reason = "magic";
		return -EUCLEAN;
	}
	ret = pcache_meta_check(sb, sizeof(*sb), PCACHE_MAGIC_SB, reason);
	if (ret)
		return ret;
	ret = sb_check_features(sb, reason);
	if (ret)
		return ret;
	return sb_check_geometry(sb, dev_size, reason);
}

/**
 * pcache_sb_decode() - geometry of a superblock that passed pcache_sb_check()
 * @sb: the copy
 * @geo: output
 */
void pcache_sb_decode(const struct pcache_sb_onmedia *sb,
		      struct pcache_geometry *geo)
{
	geo->dev_size = le64_to_cpu(sb->dev_size);
	geo->seg_count = le32_to_cpu(sb->seg_count);
	geo->seg_info_off = le64_to_cpu(sb->seg_info_off);
	geo->data_off = le64_to_cpu(sb->data_off);
}

/**
 * pcache_info_encode() - build a cache info copy
 * @info: output, fully overwritten
 * @set: settings to record
 * @seq: sequence number of this copy
 */
void pcache_info_encode(struct pcache_info_onmedia *info,
			const struct pcache_settings *set, u64 seq)
{
	memset(info, 0, sizeof(*info));
	info->gc_percent = cpu_to_le32(set->gc_percent);
	info->cache_mode = cpu_to_le32(set->cache_mode);
	info->flags = cpu_to_le32(set->data_crc ? PCACHE_INFO_DATA_CRC : 0);
	pcache_meta_seal(info, sizeof(*info), PCACHE_MAGIC_INFO, seq);
}

/**
 * pcache_info_check() - validate a cache info copy
 * @info: the copy
 * @reason: set to the failing check on error
 *
 * Return: 0, -EUCLEAN, -EBADMSG or -EOPNOTSUPP (unknown mode or flag).
 */
int pcache_info_check(const struct pcache_info_onmedia *info,
		      const char **reason)
{
	int ret;

	ret = pcache_meta_check(info, sizeof(*info), PCACHE_MAGIC_INFO, reason);
	if (ret)
		return ret;
	if (le32_to_cpu(info->cache_mode) > PCACHE_MODE_MAX ||
	    le32_to_cpu(info->flags) & ~PCACHE_INFO_FLAGS_ALL) {
		*reason = "cache mode or flags";
		return -EOPNOTSUPP;
	}
	if (le32_to_cpu(info->gc_percent) > PCACHE_GC_PERCENT_MAX) {
		*reason = "gc_percent";
		return -EUCLEAN;
	}
	return 0;
}

/**
 * pcache_info_decode() - settings of a copy that passed pcache_info_check()
 * @info: the copy
 * @set: output
 */
void pcache_info_decode(const struct pcache_info_onmedia *info,
			struct pcache_settings *set)
{
	set->gc_percent = le32_to_cpu(info->gc_percent);
	set->cache_mode = le32_to_cpu(info->cache_mode);
	set->data_crc = le32_to_cpu(info->flags) & PCACHE_INFO_DATA_CRC;
}

static void pos_encode(struct pcache_pos_onmedia *o, const struct pcache_pos *p)
{
	o->seg = cpu_to_le32(p->seg);
	o->off = cpu_to_le32(p->off);
}

static void pos_decode(const struct pcache_pos_onmedia *o, struct pcache_pos *p)
{
	p->seg = le32_to_cpu(o->seg);
	p->off = le32_to_cpu(o->off);
}

static bool pos_valid(const struct pcache_pos_onmedia *o,
		      const struct pcache_geometry *geo)
{
	u32 seg = le32_to_cpu(o->seg), off = le32_to_cpu(o->off);

	if (seg == PCACHE_SEG_NONE)
		return off == 0;
	/* every position is where a kset starts */
	return seg < geo->seg_count && off < PCACHE_SEG_SIZE &&
	       !(off & (PCACHE_KSET_ALIGN - 1));
}

/**
 * pcache_positions_encode() - build a positions copy
 * @p: output, fully overwritten
 * @pos: positions to record
 * @seq: sequence number of this copy
 */
void pcache_positions_encode(struct pcache_positions_onmedia *p,
			     const struct pcache_positions *pos, u64 seq)
{
	memset(p, 0, sizeof(*p));
	pos_encode(&p->key_head, &pos->key_head);
	pos_encode(&p->key_tail, &pos->key_tail);
	pos_encode(&p->dirty_tail, &pos->dirty_tail);
	p->key_tail_seq = cpu_to_le64(pos->key_tail_seq);
	p->dirty_tail_seq = cpu_to_le64(pos->dirty_tail_seq);
	pcache_meta_seal(p, sizeof(*p), PCACHE_MAGIC_POS, seq);
}

/**
 * pcache_positions_check() - validate a positions copy
 * @p: the copy
 * @geo: geometry of the device, bounds for every position
 * @reason: set to the failing check on error
 *
 * Return: 0, -EUCLEAN or -EBADMSG.
 */
int pcache_positions_check(const struct pcache_positions_onmedia *p,
			   const struct pcache_geometry *geo,
			   const char **reason)
{
	int ret;

	ret = pcache_meta_check(p, sizeof(*p), PCACHE_MAGIC_POS, reason);
	if (ret)
		return ret;
	if (!pos_valid(&p->key_head, geo) || !pos_valid(&p->key_tail, geo) ||
	    !pos_valid(&p->dirty_tail, geo)) {
		*reason = "position out of range";
		return -EUCLEAN;
	}
	return 0;
}

/**
 * pcache_positions_decode() - positions of a copy that passed the check
 * @p: the copy
 * @pos: output
 */
void pcache_positions_decode(const struct pcache_positions_onmedia *p,
			     struct pcache_positions *pos)
{
	pos_decode(&p->key_head, &pos->key_head);
	pos_decode(&p->key_tail, &pos->key_tail);
	pos_decode(&p->dirty_tail, &pos->dirty_tail);
	pos->key_tail_seq = le64_to_cpu(p->key_tail_seq);
	pos->dirty_tail_seq = le64_to_cpu(p->dirty_tail_seq);
}

/**
 * pcache_seg_encode() - build a segment info copy
 * @s: output, fully overwritten
 * @seg: segment number the record describes
 * @si: segment state to record
 * @seq: sequence number of this copy
 */
void pcache_seg_encode(struct pcache_seg_onmedia *s, u32 seg,
		       const struct pcache_seg_info *si, u64 seq)
{
	memset(s, 0, sizeof(*s));
	s->seg = cpu_to_le32(seg);
	s->type = cpu_to_le32(si->type);
	s->gen = cpu_to_le64(si->gen);
	s->next = cpu_to_le32(si->next);
	pcache_meta_seal(s, sizeof(*s), PCACHE_MAGIC_SEG, seq);
}

/**
 * pcache_seg_check() - validate a segment info copy
 * @s: the copy
 * @seg: segment number whose slot this copy was read from
 * @geo: geometry of the device
 * @reason: set to the failing check on error
 *
 * Return: 0, -EUCLEAN or -EBADMSG.
 */
int pcache_seg_check(const struct pcache_seg_onmedia *s, u32 seg,
		     const struct pcache_geometry *geo, const char **reason)
{
	u32 next = le32_to_cpu(s->next);
	int ret;

	ret = pcache_meta_check(s, sizeof(*s), PCACHE_MAGIC_SEG, reason);
	if (ret)
		return ret;
	if (le32_to_cpu(s->seg) != seg || seg >= geo->seg_count) {
		*reason = "segment number";
		return -EUCLEAN;
	}
	if (le32_to_cpu(s->type) > PCACHE_SEG_TYPE_MAX ||
	    (next != PCACHE_SEG_NONE && next >= geo->seg_count)) {
		*reason = "segment type or link";
		return -EUCLEAN;
	}
	return 0;
}

/**
 * pcache_seg_decode() - state of a copy that passed pcache_seg_check()
 * @s: the copy
 * @si: output
 */
void pcache_seg_decode(const struct pcache_seg_onmedia *s,
		       struct pcache_seg_info *si)
{
	si->type = le32_to_cpu(s->type);
	si->gen = le64_to_cpu(s->gen);
	si->next = le32_to_cpu(s->next);
}

/**
 * pcache_kset_seed() - checksum seed of a cache's ksets
 * @uuid: the cache's 16-byte identity
 *
 * Seeding with the identity means a kset left on the media by an earlier
 * format of the same device never passes as one of this cache's.
 *
 * Return: the seed.
 */
u32 pcache_kset_seed(const u8 *uuid)
{
	return crc32c(~0U, uuid, 16);
}

/**
 * pcache_kset_size() - bytes a kset of @count keys occupies in the log
 * @count: number of keys
 *
 * Return: header plus keys, rounded up to PCACHE_KSET_ALIGN.
 */
size_t pcache_kset_size(u32 count)
{
	return round_up_pow2(sizeof(struct pcache_kset_onmedia) +
			     (u64)count * sizeof(struct pcache_key_onmedia),
			     PCACHE_KSET_ALIGN);
}

/**
 * pcache_key_encode() - a key as journaled
 * @o: output
 * @k: the key
 */
void pcache_key_encode(struct pcache_key_onmedia *o,
		       const struct pcache_key_info *k)
{
	o->seq = cpu_to_le64(k->seq);
	o->lba = cpu_to_le64(k->lba);
	o->sectors = cpu_to_le32(k->sectors);
	o->seg = cpu_to_le32(k->seg);
	o->seg_off = cpu_to_le32(k->seg_off);
	o->gen = cpu_to_le32(k->gen);
	/* callers may keep bits of their own in the rest */
	o->flags = cpu_to_le32(k->flags & PCACHE_KEY_FLAGS_ALL);
	o->crc = cpu_to_le32(k->crc);
}

/**
 * pcache_key_decode() - a journaled key, decoded
 * @o: the key as journaled
 * @k: output
 */
void pcache_key_decode(const struct pcache_key_onmedia *o,
		       struct pcache_key_info *k)
{
	k->seq = le64_to_cpu(o->seq);
	k->lba = le64_to_cpu(o->lba);
	k->sectors = le32_to_cpu(o->sectors);
	k->seg = le32_to_cpu(o->seg);
	k->seg_off = le32_to_cpu(o->seg_off);
	k->gen = le32_to_cpu(o->gen);
	k->flags = le32_to_cpu(o->flags);
	k->crc = le32_to_cpu(o->crc);
}

static u32 kset_crc(const struct pcache_kset_onmedia *ks, u32 count, u32 seed)
{
	size_t len = sizeof(*ks) + (size_t)count * sizeof(ks->keys[0]);

	return crc32c(seed, (const u8 *)ks + CRC_START, len - CRC_START);
}

/**
 * pcache_kset_seal() - set a kset's magic and checksum
 * @ks: kset with seq, count, flags, next_seg and keys filled in
 * @seed: pcache_kset_seed() of the cache
 */
void pcache_kset_seal(struct pcache_kset_onmedia *ks, u32 seed)
{
	ks->magic = cpu_to_le32(PCACHE_MAGIC_KSET);
	ks->crc = cpu_to_le32(kset_crc(ks, le16_to_cpu(ks->count), seed));
}

/* A tombstone only removes; a zero key may be dirty, and a discard. */
static bool nodata_flags_valid(u32 f)
{
	if (f & PCACHE_KEY_CRC)
		return false;
	if (f & PCACHE_KEY_TOMBSTONE)
		return !(f & (PCACHE_KEY_ZERO | PCACHE_KEY_DIRTY |
			      PCACHE_KEY_DISCARD));
	return true;
}

static bool key_valid(const struct pcache_key_onmedia *o,
		      const struct pcache_geometry *geo)
{
	struct pcache_key_info k;

	pcache_key_decode(o, &k);
	if (!k.sectors || k.flags & ~PCACHE_KEY_FLAGS_ALL)
		return false;
	if (k.lba + k.sectors < k.lba)
		return false;
	if (k.flags & PCACHE_KEY_NODATA)
		return nodata_flags_valid(k.flags) && !k.seg && !k.seg_off &&
		       !k.gen;
	if (k.flags & PCACHE_KEY_DISCARD)
		return false;
	return k.seg < geo->seg_count && !(k.seg_off & 511) &&
	       k.seg_off < PCACHE_SEG_SIZE &&
	       (u64)k.sectors * 512 <= PCACHE_SEG_SIZE - k.seg_off;
}

/* The header fields that say where the kset ends: magic and key count. */
static int kset_check_size(const struct pcache_kset_onmedia *ks, size_t avail,
			   const char **reason)
{
	u32 count;

	if (avail < sizeof(*ks) || le32_to_cpu(ks->magic) != PCACHE_MAGIC_KSET) {
		*reason = "magic";
		return -EUCLEAN;
	}
	count = le16_to_cpu(ks->count);
	if (count > PCACHE_KSET_MAX_KEYS || pcache_kset_size(count) > avail) {
		*reason = "key count";
		return -EUCLEAN;
	}
	return 0;
}

/* The header fields that place the kset in the journal: sequence, link. */
static int kset_check_place(const struct pcache_kset_onmedia *ks, u64 seq,
			    const struct pcache_geometry *geo,
			    const char **reason)
{
	u32 count = le16_to_cpu(ks->count);
	u32 flags = le16_to_cpu(ks->flags);
	u32 next = le32_to_cpu(ks->next_seg);

	if (le64_to_cpu(ks->seq) != seq) {
		*reason = "sequence";
		return -EUCLEAN;
	}
	/* a link kset carries no keys: replay would skip them */
	if (flags & ~PCACHE_KSET_LINK ||
	    (flags & PCACHE_KSET_LINK && (count || next >= geo->seg_count))) {
		*reason = "link";
		return -EUCLEAN;
	}
	return 0;
}

/**
 * pcache_kset_check() - validate a kset found in the journal
 * @ks: the kset (@avail bytes readable)
 * @avail: bytes from @ks to the end of its key segment
 * @seq: the sequence number the kset must carry
 * @seed: pcache_kset_seed() of the cache
 * @geo: geometry, bounds for links and keys
 * @reason: set to the failing check on error
 *
 * Return: 0; -EUCLEAN for no kset, a kset out of sequence or with keys
 * out of bounds; -EBADMSG for a wrong checksum (a torn kset).
 */
int pcache_kset_check(const struct pcache_kset_onmedia *ks, size_t avail,
		      u64 seq, u32 seed, const struct pcache_geometry *geo,
		      const char **reason)
{
	u32 count, i;
	int ret;

	ret = kset_check_size(ks, avail, reason);
	if (ret)
		return ret;
	count = le16_to_cpu(ks->count);
	if (le32_to_cpu(ks->crc) != kset_crc(ks, count, seed)) {
		*reason = "crc";
		return -EBADMSG;
	}
	ret = kset_check_place(ks, seq, geo, reason);
	if (ret)
		return ret;
	for (i = 0; i < count; i++) {
		if (!key_valid(&ks->keys[i], geo)) {
			*reason = "key out of bounds";
			return -EUCLEAN;
		}
	}
	return 0;
}

/**
 * pcache_kset_check_header() - validate only what says where a kset ends
 *				and where it belongs
 * @ks: the kset header (@avail bytes from it to the end of its segment;
 *	only the header needs to be readable)
 * @avail: as for pcache_kset_check()
 * @seq: the sequence number the kset must carry
 * @geo: geometry, bounds for links
 * @reason: set to the failing check on error
 *
 * For a kset whose bytes passed pcache_kset_check() already: it skips the
 * checksum and the keys, and finds where the next kset is.
 *
 * Return: 0 or -EUCLEAN.
 */
int pcache_kset_check_header(const struct pcache_kset_onmedia *ks,
			     size_t avail, u64 seq,
			     const struct pcache_geometry *geo,
			     const char **reason)
{
	return kset_check_size(ks, avail, reason) ?:
	       kset_check_place(ks, seq, geo, reason);
}

/**
 * pcache_seg_info_offset() - where a segment's info slot lives
 * @geo: geometry of the device
 * @seg: segment number, below geo->seg_count
 * @slot: 0 or 1
 *
 * Each slot has a 4 KiB stride of its own, whatever the record's size.
 *
 * Return: byte offset from the start of the cache device.
 */
u64 pcache_seg_info_offset(const struct pcache_geometry *geo, u32 seg,
			   int slot)
{
	return geo->seg_info_off +
	       ((u64)seg * PCACHE_SLOTS + slot) * PCACHE_SEG_INFO_STRIDE;
}

static u16 get_le16(const u8 *p)
{
	return p[0] | (u16)p[1] << 8;
}

static u64 get_le64(const u8 *p)
{
	u64 v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static bool all_zero(const u8 *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/**
 * pcache_identify() - say what the start of a cache device holds
 * @head: the device's first bytes
 * @len: how many, at least PCACHE_IDENTIFY_SIZE
 *
 * Only a blank start (first 4 KiB zero, and no known signature in the next
 * 4 KiB, where the in-tree target keeps its superblock) may be formatted.
 *
 * Return: what was found.
 */
enum pcache_content pcache_identify(const u8 *head, size_t len)
{
	const size_t sb_magic = offsetof(struct pcache_sb_onmedia, magic);
	int i;

	if (len < PCACHE_IDENTIFY_SIZE)
		return PCACHE_CONTENT_OTHER;
	for (i = 0; i < PCACHE_SLOTS; i++)
		if (get_le64(head + i * PCACHE_SB_STRIDE + sb_magic) ==
		    PCACHE_SB_MAGIC)
			return PCACHE_CONTENT_OURS;
	if (get_le64(head + INTREE_PCACHE_MAGIC_OFF) == INTREE_PCACHE_MAGIC)
		return PCACHE_CONTENT_INTREE_PCACHE;
	if (get_le16(head + EXT_MAGIC_OFF) == EXT_MAGIC)
		return PCACHE_CONTENT_EXT;
	if (!memcmp(head, "XFSB", 4))
		return PCACHE_CONTENT_XFS;
	if (all_zero(head, PCACHE_BLANK_SIZE))
		return PCACHE_CONTENT_BLANK;
	return PCACHE_CONTENT_OTHER;
}

/**
 * pcache_content_name() - words for what pcache_identify() found
 * @c: the finding
 *
 * Return: a short description for error messages.
 */
const char *pcache_content_name(enum pcache_content c)
{
	switch (c) {
	case PCACHE_CONTENT_BLANK:
		return "a blank device";
	case PCACHE_CONTENT_OURS:
		return "a dm-pcache cache";
	case PCACHE_CONTENT_INTREE_PCACHE:
		return "a cache of the in-tree dm-pcache (another format)";
	case PCACHE_CONTENT_EXT:
		return "an ext2/3/4 filesystem";
	case PCACHE_CONTENT_XFS:
		return "an XFS filesystem";
	default:
		return "unrecognised data";
	}
}
