/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pure encode, decode and validation of the dm-pcache on-media records.
 *
 * No allocation, locking, printing or I/O: callers hand in a copy of the
 * bytes (already read from pmem with a machine-check-safe copy) and get back
 * -errno plus, through @reason, the name of the first check that failed.
 * Checks run in a fixed order: magic, checksum, version and features, then
 * bounds against the geometry.
 *
 * Error meanings: -EUCLEAN the record is not what it should be (magic,
 * identity, bounds), -EBADMSG its checksum is wrong, -EOPNOTSUPP it needs a
 * version or feature this code does not know, -ENOENT no valid slot.
 */
#ifndef _PCACHE_VERIFY_H
#define _PCACHE_VERIFY_H

#include "pcache_platform.h"
#include "pcache_format.h"

/**
 * struct pcache_geometry - decoded shape of a cache device
 * @dev_size: bytes of the cache device recorded at format time
 * @seg_count: number of 16 MiB segments
 * @seg_info_off: byte offset of the segment info table
 * @data_off: byte offset of segment 0
 */
struct pcache_geometry {
	u64 dev_size;
	u32 seg_count;
	u64 seg_info_off;
	u64 data_off;
};

/**
 * struct pcache_settings - decoded cache info record
 * @gc_percent: GC threshold in percent of used segments
 * @cache_mode: PCACHE_MODE_*
 * @data_crc: cached data carries a CRC
 */
struct pcache_settings {
	u32 gc_percent;
	u32 cache_mode;
	bool data_crc;
};

/**
 * struct pcache_pos - decoded position
 * @seg: segment number or PCACHE_SEG_NONE
 * @off: byte offset inside the segment
 */
struct pcache_pos {
	u32 seg;
	u32 off;
};

/**
 * struct pcache_positions - decoded positions record
 * @key_head: next kset goes here
 * @key_tail: oldest kset still needed
 * @dirty_tail: oldest kset not yet written back
 * @key_tail_seq: sequence number of the kset at @key_tail
 * @dirty_tail_seq: sequence number of the kset at @dirty_tail
 */
struct pcache_positions {
	struct pcache_pos key_head;
	struct pcache_pos key_tail;
	struct pcache_pos dirty_tail;
	u64 key_tail_seq;
	u64 dirty_tail_seq;
};

/**
 * struct pcache_key_info - decoded key
 * @seq: key sequence (later wins)
 * @lba: first sector
 * @sectors: length in sectors
 * @seg: data segment
 * @seg_off: byte offset in @seg
 * @gen: segment generation (low 32 bits)
 * @flags: PCACHE_KEY_*
 * @crc: data crc32c
 */
struct pcache_key_info {
	u64 seq;
	u64 lba;
	u32 sectors;
	u32 seg;
	u32 seg_off;
	u32 gen;
	u32 flags;
	u32 crc;
};

/**
 * pcache_key_has_data() - does a key point at bytes in a data segment
 * @k: key
 *
 * Return: false for tombstones and zero keys.
 */
static inline bool pcache_key_has_data(const struct pcache_key_info *k)
{
	return !(k->flags & PCACHE_KEY_NODATA);
}

/**
 * struct pcache_seg_info - decoded segment info record
 * @type: PCACHE_SEG_*
 * @gen: generation
 * @next: next segment of a chain or PCACHE_SEG_NONE
 */
struct pcache_seg_info {
	u32 type;
	u64 gen;
	u32 next;
};

/* What the first bytes of a cache device hold */
enum pcache_content {
	PCACHE_CONTENT_BLANK,
	PCACHE_CONTENT_OURS,
	PCACHE_CONTENT_INTREE_PCACHE,
	PCACHE_CONTENT_EXT,
	PCACHE_CONTENT_XFS,
	PCACHE_CONTENT_OTHER,
};

/* Bytes of the device's start that pcache_identify() needs to see */
#define PCACHE_IDENTIFY_SIZE	(8 * PCACHE_KIB)

bool pcache_seq_after(u64 a, u64 b);
u32 pcache_meta_crc(const void *rec, size_t size);
void pcache_meta_seal(void *rec, size_t size, u32 magic, u64 seq);
int pcache_meta_check(const void *rec, size_t size, u32 magic,
		      const char **reason);
int pcache_pick_latest(const int *err, const u64 *seq, int n);

int pcache_geometry_compute(u64 dev_size, struct pcache_geometry *geo);
void pcache_sb_encode(struct pcache_sb_onmedia *sb,
		      const struct pcache_geometry *geo, const u8 *uuid,
		      u64 seq);
int pcache_sb_check(const struct pcache_sb_onmedia *sb, u64 dev_size,
		    const char **reason);
void pcache_sb_decode(const struct pcache_sb_onmedia *sb,
		      struct pcache_geometry *geo);

void pcache_info_encode(struct pcache_info_onmedia *info,
			const struct pcache_settings *set, u64 seq);
int pcache_info_check(const struct pcache_info_onmedia *info,
		      const char **reason);
void pcache_info_decode(const struct pcache_info_onmedia *info,
			struct pcache_settings *set);

void pcache_positions_encode(struct pcache_positions_onmedia *p,
			     const struct pcache_positions *pos, u64 seq);
int pcache_positions_check(const struct pcache_positions_onmedia *p,
			   const struct pcache_geometry *geo,
			   const char **reason);
void pcache_positions_decode(const struct pcache_positions_onmedia *p,
			     struct pcache_positions *pos);

void pcache_seg_encode(struct pcache_seg_onmedia *s, u32 seg,
		       const struct pcache_seg_info *si, u64 seq);
int pcache_seg_check(const struct pcache_seg_onmedia *s, u32 seg,
		     const struct pcache_geometry *geo, const char **reason);
void pcache_seg_decode(const struct pcache_seg_onmedia *s,
		       struct pcache_seg_info *si);

u32 pcache_kset_seed(const u8 *uuid);
size_t pcache_kset_size(u32 count);
void pcache_key_encode(struct pcache_key_onmedia *o,
		       const struct pcache_key_info *k);
void pcache_key_decode(const struct pcache_key_onmedia *o,
		       struct pcache_key_info *k);
void pcache_kset_seal(struct pcache_kset_onmedia *ks, u32 seed);
int pcache_kset_check(const struct pcache_kset_onmedia *ks, size_t avail,
		      u64 seq, u32 seed, const struct pcache_geometry *geo,
		      const char **reason);
int pcache_kset_check_header(const struct pcache_kset_onmedia *ks,
			     size_t avail, u64 seq,
			     const struct pcache_geometry *geo,
			     const char **reason);

u64 pcache_seg_info_offset(const struct pcache_geometry *geo, u32 seg,
			   int slot);
enum pcache_content pcache_identify(const u8 *head, size_t len);
const char *pcache_content_name(enum pcache_content c);

#endif /* _PCACHE_VERIFY_H */
