/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Read-only access to a dm-pcache cache device for the userspace tools:
 * a block device (/dev/pmem0) or an image file, which may be a raw nvdimm
 * backing file with the namespace's data some MiB in (the offset is found
 * by looking for our superblock).  Nothing here ever writes.
 */
#ifndef _PCACHE_IMAGE_H
#define _PCACHE_IMAGE_H

#include <stdio.h>

#include "pcache_verify.h"

/* Where pcache_img_open() looks for a superblock when not told */
#define PCACHE_IMG_SCAN_MAX	(64 * PCACHE_MIB)
#define PCACHE_IMG_SCAN_STEP	(4 * PCACHE_KIB)

/**
 * struct pcache_img - an open cache device or image
 * @fd: read-only descriptor
 * @path: as given
 * @off: byte offset of the cache device's start in @fd
 * @size: bytes of the cache device (from @off to the end)
 */
struct pcache_img {
	int fd;
	const char *path;
	u64 off;
	u64 size;
};

/**
 * struct pcache_slots - what the two copies of a metadata record hold
 * @err: per copy, 0 if valid, else the verifier's -errno (-EIO: unreadable)
 * @why: per copy, the failing check or NULL
 * @seq: per copy, its sequence number
 * @cur: the copy in charge, or -1 if none is valid
 */
struct pcache_slots {
	int err[PCACHE_SLOTS];
	const char *why[PCACHE_SLOTS];
	u64 seq[PCACHE_SLOTS];
	int cur;
};

/* Validates one copy of a record; @ctx is the caller's */
typedef int (*pcache_img_check_t)(const void *rec, const void *ctx,
				  const char **reason);

int pcache_img_open(struct pcache_img *img, const char *path, long long off);
void pcache_img_close(struct pcache_img *img);
int pcache_img_read(const struct pcache_img *img, u64 pos, void *buf,
		    size_t len);
int pcache_img_load(const struct pcache_img *img, u64 off, u32 stride,
		    size_t size, pcache_img_check_t check, const void *ctx,
		    void *rec, struct pcache_slots *sl);
const char *pcache_errname(int err);

/**
 * struct pcache_flag - a tool's on/off option
 * @name: long name
 * @key: short name
 * @on: set to 1 when given
 */
struct pcache_flag {
	const char *name;
	char key;
	int *on;
};

int pcache_args(int argc, char **argv, const struct pcache_flag *flags,
		void (*usage)(FILE *f), long long *off, const char **path);

#endif /* _PCACHE_IMAGE_H */
