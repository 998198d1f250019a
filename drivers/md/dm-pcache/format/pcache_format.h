/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-pcache on-media format.
 *
 * This header is kernel-neutral: it holds only fixed-size, little-endian
 * types, so the module, its KUnit tests and the userspace checker all read
 * the cache device through the same definitions.  Layout sizes are asserted
 * in pcache_verify.c.
 *
 * DOC: On-media layout
 *
 * All offsets are bytes from the start of the cache device::
 *
 *   0 KiB   superblock, slot 0          (identity and geometry)
 *   2 KiB   superblock, slot 1
 *   4 KiB   cache info, slot 0          (settings: gc_percent, mode, flags)
 *   8 KiB   cache info, slot 1
 *   12 KiB  positions, slot 0           (key head, key tail, dirty tail)
 *   16 KiB  positions, slot 1
 *   64 KiB  segment info: segment N's slot S at 64 KiB + (2 * N + S) * 4 KiB
 *   data_off (16 MiB aligned): segment 0, segment 1, ... (16 MiB each)
 *
 * Every metadata record starts with struct pcache_meta_hdr and exists in two
 * slots.  An update writes the slot that does not hold the newest valid copy,
 * with the next sequence number, and persists it before it counts.  A reader
 * takes the valid slot with the highest sequence number, so a write torn by
 * a power cut leaves the previous copy in charge.
 */
#ifndef _PCACHE_FORMAT_H
#define _PCACHE_FORMAT_H

#include <linux/types.h>

/* "DMPCACHE" as it appears in a hex dump of the first bytes of the device */
#define PCACHE_SB_MAGIC		0x4548434143504d44ULL
#define PCACHE_VERSION		2	/* 2: zero keys */

/* Per-record kind, in pcache_meta_hdr.magic */
#define PCACHE_MAGIC_SB		0x62735043U	/* "CPsb" */
#define PCACHE_MAGIC_INFO	0x666e5043U	/* "CPnf" */
#define PCACHE_MAGIC_POS	0x73705043U	/* "CPps" */
#define PCACHE_MAGIC_SEG	0x67735043U	/* "CPsg" */
#define PCACHE_MAGIC_KSET	0x736b5043U	/* "CPks" */

#define PCACHE_KIB		1024ULL
#define PCACHE_MIB		(1024 * PCACHE_KIB)

#define PCACHE_SEG_SIZE		(16 * PCACHE_MIB)
#define PCACHE_SLOTS		2

#define PCACHE_SB_OFF		0
#define PCACHE_SB_STRIDE	(2 * PCACHE_KIB)
#define PCACHE_INFO_OFF		(4 * PCACHE_KIB)
#define PCACHE_INFO_STRIDE	(4 * PCACHE_KIB)
#define PCACHE_POS_OFF		(12 * PCACHE_KIB)
#define PCACHE_POS_STRIDE	(4 * PCACHE_KIB)
#define PCACHE_SEG_INFO_OFF	(64 * PCACHE_KIB)
#define PCACHE_SEG_INFO_STRIDE	(4 * PCACHE_KIB)

/* Bytes that must be zero for a device to count as blank (formattable) */
#define PCACHE_BLANK_SIZE	(4 * PCACHE_KIB)

#define PCACHE_SEGS_MIN		4
#define PCACHE_SEGS_MAX		(1U << 24)

/* No feature bits are defined yet: any set bit is refused or ignored */
#define PCACHE_FEATURE_COMPAT_SUPP	0ULL
#define PCACHE_FEATURE_RO_COMPAT_SUPP	0ULL
#define PCACHE_FEATURE_INCOMPAT_SUPP	0ULL

/* Cache modes, pcache_info_onmedia.cache_mode */
#define PCACHE_MODE_WRITEBACK	0	/* writes cached dirty, written back */
#define PCACHE_MODE_WRITETHROUGH 1	/* writes go to both, complete on disk */
#define PCACHE_MODE_WRITEAROUND	2	/* writes go to disk only */
#define PCACHE_MODE_WRITEONLY	3	/* write-back, reads never fill */
#define PCACHE_MODE_MAX		PCACHE_MODE_WRITEONLY

/* pcache_info_onmedia.flags */
#define PCACHE_INFO_DATA_CRC	(1U << 0)
#define PCACHE_INFO_FLAGS_ALL	PCACHE_INFO_DATA_CRC

#define PCACHE_GC_PERCENT_MAX	90
#define PCACHE_GC_PERCENT_DEF	70

/* Segment types, pcache_seg_onmedia.type */
#define PCACHE_SEG_FREE		0
#define PCACHE_SEG_DATA		1
#define PCACHE_SEG_KEY		2
#define PCACHE_SEG_TYPE_MAX	PCACHE_SEG_KEY

#define PCACHE_SEG_NONE		0xffffffffU

/**
 * struct pcache_meta_hdr - header of every dual-slot metadata record
 * @crc: crc32c (seed ~0) of the record from @magic to its end
 * @magic: record kind, one of PCACHE_MAGIC_*
 * @seq: update sequence; the valid slot with the later one is current
 */
struct pcache_meta_hdr {
	__le32 crc;
	__le32 magic;
	__le64 seq;
};

/**
 * struct pcache_sb_onmedia - superblock: what this device is and its shape
 * @hdr: record header
 * @magic: PCACHE_SB_MAGIC
 * @version: PCACHE_VERSION
 * @reserved0: zero
 * @feature_compat: features an older module may ignore
 * @feature_ro_compat: features an older module may only read
 * @feature_incompat: features an older module must refuse
 * @uuid: random identity chosen at format time
 * @dev_size: size of the cache device in bytes at format time
 * @seg_size: segment size in bytes (PCACHE_SEG_SIZE)
 * @seg_count: number of segments
 * @seg_info_off: byte offset of the segment info table
 * @data_off: byte offset of segment 0
 * @reserved: zero
 */
struct pcache_sb_onmedia {
	struct pcache_meta_hdr hdr;
	__le64 magic;
	__le32 version;
	__le32 reserved0;
	__le64 feature_compat;
	__le64 feature_ro_compat;
	__le64 feature_incompat;
	__u8 uuid[16];
	__le64 dev_size;
	__le32 seg_size;
	__le32 seg_count;
	__le64 seg_info_off;
	__le64 data_off;
	__u8 reserved[152];
};

/**
 * struct pcache_info_onmedia - settings that belong to the cache
 * @hdr: record header
 * @gc_percent: segment usage (percent) at which GC starts, 0..90
 * @cache_mode: PCACHE_MODE_*
 * @flags: PCACHE_INFO_*
 * @reserved: zero
 */
struct pcache_info_onmedia {
	struct pcache_meta_hdr hdr;
	__le32 gc_percent;
	__le32 cache_mode;
	__le32 flags;
	__u8 reserved[36];
};

/**
 * struct pcache_pos_onmedia - a position in the segment space
 * @seg: segment number, or PCACHE_SEG_NONE
 * @off: byte offset inside the segment
 */
struct pcache_pos_onmedia {
	__le32 seg;
	__le32 off;
};

/**
 * struct pcache_positions_onmedia - where the journal and writeback stand
 * @hdr: record header
 * @key_head: where the next kset is appended
 * @key_tail: oldest kset that is still needed
 * @dirty_tail: oldest kset whose data is not yet on the backing device
 * @key_tail_seq: sequence number of the kset at @key_tail
 * @dirty_tail_seq: sequence number of the kset at @dirty_tail; keys of
 *		    earlier ksets are on the backing device (clean)
 * @reserved: zero
 */
struct pcache_positions_onmedia {
	struct pcache_meta_hdr hdr;
	struct pcache_pos_onmedia key_head;
	struct pcache_pos_onmedia key_tail;
	struct pcache_pos_onmedia dirty_tail;
	__le64 key_tail_seq;
	__le64 dirty_tail_seq;
	__u8 reserved[8];
};

/**
 * struct pcache_seg_onmedia - per-segment info
 * @hdr: record header
 * @seg: the segment this record describes (must match its position)
 * @type: PCACHE_SEG_*
 * @gen: generation, bumped each time the segment is reclaimed
 * @next: next segment of a key-segment chain, or PCACHE_SEG_NONE
 * @reserved0: zero
 * @reserved: zero
 */
struct pcache_seg_onmedia {
	struct pcache_meta_hdr hdr;
	__le32 seg;
	__le32 type;
	__le64 gen;
	__le32 next;
	__le32 reserved0;
	__u8 reserved[24];
};

/* pcache_key_onmedia.flags */
#define PCACHE_KEY_DIRTY	(1U << 0)	/* not yet on the backing device */
#define PCACHE_KEY_CRC		(1U << 1)	/* @crc holds the data's crc32c */
#define PCACHE_KEY_TOMBSTONE	(1U << 2)	/* range no longer cached */
#define PCACHE_KEY_ZERO		(1U << 3)	/* no data: the range reads zeroes */
#define PCACHE_KEY_DISCARD	(1U << 4)	/* a ZERO key made by a discard */
#define PCACHE_KEY_FLAGS_ALL	(PCACHE_KEY_DIRTY | PCACHE_KEY_CRC | \
				 PCACHE_KEY_TOMBSTONE | PCACHE_KEY_ZERO | \
				 PCACHE_KEY_DISCARD)
/* keys without bytes in a data segment: @seg, @seg_off and @gen are 0 */
#define PCACHE_KEY_NODATA	(PCACHE_KEY_TOMBSTONE | PCACHE_KEY_ZERO)

/**
 * struct pcache_key_onmedia - one cached extent, as journaled
 * @seq: key sequence; where two keys overlap the later one wins
 * @lba: first sector on the backing device
 * @sectors: length in 512-byte sectors
 * @seg: data segment holding the bytes
 * @seg_off: byte offset of the bytes in @seg (512-byte aligned)
 * @gen: low 32 bits of @seg's generation when the key was made
 * @flags: PCACHE_KEY_*
 * @crc: crc32c of the data when PCACHE_KEY_CRC is set
 */
struct pcache_key_onmedia {
	__le64 seq;
	__le64 lba;
	__le32 sectors;
	__le32 seg;
	__le32 seg_off;
	__le32 gen;
	__le32 flags;
	__le32 crc;
};

/* pcache_kset_onmedia.flags */
#define PCACHE_KSET_LINK	(1U << 0)	/* log continues at @next_seg */

#define PCACHE_KSET_MAX_KEYS	101
#define PCACHE_KSET_MAX_SIZE	4096
#define PCACHE_KSET_ALIGN	64

/**
 * struct pcache_kset_onmedia - a sealed set of keys in the journal
 * @crc: crc32c, seeded from the cache's uuid, from @magic to the last key
 * @magic: PCACHE_MAGIC_KSET
 * @seq: position in the journal: each kset's is its predecessor's + 1
 * @count: number of keys
 * @flags: PCACHE_KSET_*
 * @next_seg: with PCACHE_KSET_LINK, the key segment where the log goes on
 * @reserved: zero
 * @keys: the keys
 *
 * Ksets follow each other in a key segment, each starting on a 64-byte
 * boundary; a kset with PCACHE_KSET_LINK (and no keys) ends a segment.
 */
struct pcache_kset_onmedia {
	__le32 crc;
	__le32 magic;
	__le64 seq;
	__le16 count;
	__le16 flags;
	__le32 next_seg;
	__le32 reserved[2];
	struct pcache_key_onmedia keys[];
};

#endif /* _PCACHE_FORMAT_H */
