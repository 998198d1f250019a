// SPDX-License-Identifier: GPL-2.0
/*
 * Read-only access to a cache device or image.  See pcache_image.h.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <unistd.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "pcache_image.h"

static int img_size(int fd, u64 *size)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	if (S_ISBLK(st.st_mode)) {
		/*
		 * The target writes the cache device through DAX, past this
		 * device's page cache: pages an earlier reader left there
		 * would show what the device held back then.  Dropping them
		 * needs no privilege; readers leave no dirty pages to write.
		 */
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		return ioctl(fd, BLKGETSIZE64, size) ? -errno : 0;
	}
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	*size = st.st_size;
	return 0;
}

/* An nvdimm backing file keeps the namespace's data some MiB in. */
static int find_start(struct pcache_img *img, u64 total)
{
	static u8 head[PCACHE_IDENTIFY_SIZE];
	u64 off;
	int ret;

	for (off = 0; off < PCACHE_IMG_SCAN_MAX &&
	     off + PCACHE_IDENTIFY_SIZE <= total; off += PCACHE_IMG_SCAN_STEP) {
		img->off = 0;
		ret = pcache_img_read(img, off, head, sizeof(head));
		if (ret)
			return ret;
		if (pcache_identify(head, sizeof(head)) == PCACHE_CONTENT_OURS) {
			img->off = off;
			return 0;
		}
	}
	img->off = 0;
	return 0;
}

/**
 * pcache_img_open() - open a cache device or image read-only
 * @img: filled in
 * @path: block device or file
 * @off: byte offset of the cache device in @path, or -1 to use 0 unless a
 *	 superblock is found further in (in the first 64 MiB, 4 KiB steps)
 *
 * Return: 0 or -errno.
 */
int pcache_img_open(struct pcache_img *img, const char *path, long long off)
{
	u64 total;
	int ret;

	img->path = path;
	img->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (img->fd < 0)
		return -errno;
	ret = img_size(img->fd, &total);
	if (!ret && off >= 0 && (u64)off > total)
		ret = -EINVAL;
	if (!ret && off >= 0)
		img->off = off;
	else if (!ret)
		ret = find_start(img, total);
	if (ret) {
		close(img->fd);
		return ret;
	}
	img->size = total - img->off;
	return 0;
}

/**
 * pcache_img_close() - close what pcache_img_open() opened
 * @img: the image
 */
void pcache_img_close(struct pcache_img *img)
{
	close(img->fd);
	img->fd = -1;
}

/**
 * pcache_img_read() - read bytes of the cache device
 * @img: the image
 * @pos: byte offset from the cache device's start
 * @buf: output
 * @len: bytes
 *
 * Return: 0, -EIO for a read error or bytes beyond the end.
 */
int pcache_img_read(const struct pcache_img *img, u64 pos, void *buf,
		    size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pread(img->fd, (u8 *)buf + done, len - done,
			  img->off + pos + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EIO;
		done += n;
	}
	return 0;
}

/**
 * pcache_img_load() - read both copies of a metadata record, pick one
 * @img: the image
 * @off: byte offset of copy 0
 * @stride: bytes between the copies
 * @size: record size, at most PCACHE_KSET_MAX_SIZE
 * @check: validator of one copy
 * @ctx: passed to @check
 * @rec: receives the copy in charge
 * @sl: what each copy holds
 *
 * The choice is the module's: pcache_pick_latest() over the verdicts.
 *
 * Return: 0, or the most telling copy error when no copy is valid.
 */
int pcache_img_load(const struct pcache_img *img, u64 off, u32 stride,
		    size_t size, pcache_img_check_t check, const void *ctx,
		    void *rec, struct pcache_slots *sl)
{
	u64 buf[PCACHE_SLOTS][PCACHE_KSET_MAX_SIZE / sizeof(u64)];
	int i;

	for (i = 0; i < PCACHE_SLOTS; i++) {
		sl->why[i] = NULL;
		sl->seq[i] = 0;
		sl->err[i] = pcache_img_read(img, off + (u64)i * stride,
					     buf[i], size);
		if (sl->err[i]) {
			sl->why[i] = "read error";
			continue;
		}
		sl->err[i] = check(buf[i], ctx, &sl->why[i]);
		sl->seq[i] = le64_to_cpu(((struct pcache_meta_hdr *)buf[i])->seq);
	}
	sl->cur = pcache_pick_latest(sl->err, sl->seq, PCACHE_SLOTS);
	if (sl->cur < 0) {
		int ret = sl->cur;

		sl->cur = -1;
		return ret;
	}
	memcpy(rec, buf[sl->cur], size);
	return 0;
}

/**
 * pcache_errname() - the name of a verifier error
 * @err: -errno
 *
 * Return: "EUCLEAN", "EBADMSG", ... or "error".
 */
const char *pcache_errname(int err)
{
	switch (err) {
	case 0:
		return "ok";
	case -EUCLEAN:
		return "EUCLEAN";
	case -EBADMSG:
		return "EBADMSG";
	case -EOPNOTSUPP:
		return "EOPNOTSUPP";
	case -EIO:
		return "EIO";
	case -ENOENT:
		return "ENOENT";
	default:
		return "error";
	}
}

#define PCACHE_MAX_FLAGS	8

/**
 * pcache_args() - parse a tool's command line
 * @argc: from main()
 * @argv: from main()
 * @flags: the tool's on/off options, ended by one without a name
 * @usage: prints the tool's help; --help prints it to stdout and exits 0
 * @off: set from --offset BYTES (-o), else -1
 * @path: the one operand, DEV or IMAGE
 *
 * Return: 0, or -EINVAL for anything else on the command line.
 */
int pcache_args(int argc, char **argv, const struct pcache_flag *flags,
		void (*usage)(FILE *f), long long *off, const char **path)
{
	struct option lopts[PCACHE_MAX_FLAGS + 3] = {
		{ "offset", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
	};
	char sopts[2 * PCACHE_MAX_FLAGS + 4] = "o:h";
	int i, c, n = strlen(sopts);
	char *end;

	for (i = 0; flags[i].name && i < PCACHE_MAX_FLAGS; i++) {
		lopts[i + 2] = (struct option){ flags[i].name, no_argument,
						NULL, flags[i].key };
		sopts[n++] = flags[i].key;
	}
	*off = -1;
	while ((c = getopt_long(argc, argv, sopts, lopts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			exit(0);
		}
		if (c == 'o') {
			*off = strtoll(optarg, &end, 0);
			if (*end || *off < 0)
				return -EINVAL;
			continue;
		}
		for (i = 0; flags[i].name && flags[i].key != c; i++)
			;
		if (!flags[i].name)
			return -EINVAL;
		*flags[i].on = 1;
	}
	if (optind != argc - 1)
		return -EINVAL;
	*path = argv[optind];
	return 0;
}
