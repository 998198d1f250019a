// SPDX-License-Identifier: GPL-2.0
/*
 * pcache_crash - power-loss writer and checkers for dm-pcache.
 *
 *   pcache_crash write DEV [options]
 *	O_DIRECT writes of self-describing 4 KiB blocks at random places and
 *	sizes; some through an O_DSYNC descriptor (REQ_FUA), the rest made
 *	durable by fdatasync (REQ_PREFLUSH) at random points.  Each write is
 *	reported as "D <id>" once the block layer contract says it is durable.
 *	"KILLPOINT" is printed after --killpoint writes, where the host may
 *	cut the power.  A failing write ends the run (exit 3).
 *   pcache_crash check DEV [options] < report
 *	After the crash and replay: every block reported durable holds that
 *	write or a later one to the same block; every block holds either its
 *	initial zeroes or exactly some write's content for it: never torn,
 *	never another block's or another run's data.
 *   pcache_crash order DEV [options]
 *	The backing device alone: it must hold a prefix of the flush epochs
 *	(all epochs before some E complete, part of E, nothing after it).
 *
 * The writes are a pure function of --seed, so the checkers regenerate
 * them instead of being told; only the durability report travels.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>

#define __printf(a, b)	__attribute__((format(printf, a, b)))
#define BLK		4096u
#define MAGIC		0x3148534152434350ull	/* "PCCRASH1" */
#define READ_CHUNK	256u			/* blocks per read */

struct opts {
	uint64_t seed;
	uint32_t count;		/* writes in the plan */
	uint64_t area;		/* blocks written to, from block 0 */
	uint32_t max_len;	/* blocks per write, at most */
	uint32_t fua_pct;
	uint32_t sync_pct;
	uint32_t killpoint;
};

/* one planned write; ids count from 1, 0 means "initial content" */
struct wr {
	uint64_t off;
	uint32_t len;
	uint32_t epoch;		/* fdatasyncs planned before this write */
	bool fua;
	bool sync;		/* fdatasync after it */
};

struct hdr {
	uint64_t magic;
	uint64_t seed;
	uint64_t id;
	uint64_t blk;
};

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static struct wr *plan(const struct opts *o)
{
	struct wr *w = calloc(o->count + 1, sizeof(*w));
	uint64_t s = o->seed;
	uint32_t i, epoch = 0;

	if (!w) {
		perror("calloc");
		exit(2);
	}
	for (i = 1; i <= o->count; i++) {
		w[i].off = splitmix(&s) % o->area;
		w[i].len = 1 + splitmix(&s) % o->max_len;
		if (w[i].off + w[i].len > o->area)
			w[i].len = o->area - w[i].off;
		w[i].fua = splitmix(&s) % 100 < o->fua_pct;
		w[i].sync = splitmix(&s) % 100 < o->sync_pct;
		w[i].epoch = epoch;
		if (w[i].sync)
			epoch++;
	}
	return w;
}

/* The exact content of block @blk as written by write @id. */
static void fill_block(uint8_t *b, uint64_t seed, uint64_t id, uint64_t blk)
{
	struct hdr h = { MAGIC, seed, id, blk };
	uint64_t s = seed ^ (id * 0x2545f4914f6cdd1dull) ^ (blk << 20);
	uint32_t i;

	for (i = 0; i < BLK; i += 8) {
		uint64_t v = splitmix(&s);

		memcpy(b + i, &v, 8);
	}
	memcpy(b, &h, sizeof(h));
}

static void *xalign(size_t bytes)
{
	void *p;

	if (posix_memalign(&p, BLK, bytes)) {
		perror("posix_memalign");
		exit(2);
	}
	return p;
}

static int xopen(const char *dev, int flags)
{
	int fd = open(dev, flags | O_DIRECT);

	if (fd < 0) {
		fprintf(stderr, "pcache_crash: %s: %s\n", dev, strerror(errno));
		exit(2);
	}
	return fd;
}

__printf(1, 2)
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

static int do_write(const char *dev, const struct opts *o)
{
	int plain = xopen(dev, O_WRONLY), fua = xopen(dev, O_WRONLY | O_DSYNC);
	uint8_t *buf = xalign((size_t)o->max_len * BLK);
	struct wr *w = plan(o);
	uint32_t i, j, first_pending = 1;

	for (i = 1; i <= o->count; i++) {
		size_t bytes = (size_t)w[i].len * BLK;

		for (j = 0; j < w[i].len; j++)
			fill_block(buf + (size_t)j * BLK, o->seed, i,
				   w[i].off + j);
		if (pwrite(w[i].fua ? fua : plain, buf, bytes,
			   (off_t)(w[i].off * BLK)) != (ssize_t)bytes) {
			say("STOPPED write %u failed: %s\n", i, strerror(errno));
			return 3;
		}
		if (w[i].fua)
			say("D %u\n", i);
		if (w[i].sync) {
			if (fdatasync(plain)) {
				say("STOPPED fdatasync after %u failed: %s\n",
				    i, strerror(errno));
				return 3;
			}
			for (j = first_pending; j <= i; j++)
				if (!w[j].fua)
					say("D %u\n", j);
			first_pending = i + 1;
		}
		if (i == o->killpoint)
			say("KILLPOINT\n");
	}
	say("WRITER DONE %u writes\n", o->count);
	return 0;
}

/*
 * Read the first o->area blocks; content[b] = id of the write whose exact
 * data block b holds, 0 for zeroes, -1 for anything else (reported).
 */
static int64_t *read_content(const char *dev, const struct opts *o,
			     const struct wr *w, uint64_t *bad)
{
	int64_t *content = calloc(o->area, sizeof(*content));
	uint8_t *buf = xalign((size_t)READ_CHUNK * BLK), *want = xalign(BLK);
	int fd = xopen(dev, O_RDONLY);
	uint64_t b, n, k;

	if (!content) {
		perror("calloc");
		exit(2);
	}
	for (b = 0; b < o->area; b += n) {
		n = o->area - b < READ_CHUNK ? o->area - b : READ_CHUNK;
		if (pread(fd, buf, n * BLK, (off_t)(b * BLK)) != (ssize_t)(n * BLK)) {
			fprintf(stderr, "pcache_crash: read at block %" PRIu64 ": %s\n",
				b, strerror(errno));
			exit(2);
		}
		for (k = 0; k < n; k++) {
			uint8_t *p = buf + k * BLK;
			struct hdr h;
			uint64_t blk = b + k;
			uint32_t z;

			memcpy(&h, p, sizeof(h));
			for (z = 0; z < BLK && !p[z]; z++)
				;
			if (z == BLK)
				continue;
			if (h.magic == MAGIC && h.seed == o->seed &&
			    h.blk == blk && h.id >= 1 && h.id <= o->count &&
			    blk >= w[h.id].off &&
			    blk < w[h.id].off + w[h.id].len) {
				fill_block(want, o->seed, h.id, blk);
				if (!memcmp(want, p, BLK)) {
					content[blk] = (int64_t)h.id;
					continue;
				}
			}
			content[blk] = -1;
			(*bad)++;
			printf("BAD block %" PRIu64 ": torn or foreign (magic %s, seed %" PRIu64 ", id %" PRIu64 ", blk %" PRIu64 ")\n",
			       blk, h.magic == MAGIC ? "ok" : "wrong", h.seed,
			       h.id, h.blk);
		}
	}
	close(fd);
	free(buf);
	free(want);
	return content;
}

/* The "D <id>" lines of a writer's report: the newest durable id per block. */
static uint32_t *durable_per_block(const struct opts *o, const struct wr *w,
				   uint64_t *reported)
{
	uint32_t *dmax = calloc(o->area, sizeof(*dmax));
	char line[256];
	uint32_t id;
	uint64_t b;

	if (!dmax) {
		perror("calloc");
		exit(2);
	}
	while (fgets(line, sizeof(line), stdin)) {
		if (sscanf(line, "D %u", &id) != 1 || !id || id > o->count)
			continue;
		(*reported)++;
		for (b = w[id].off; b < w[id].off + w[id].len; b++)
			if (dmax[b] < id)
				dmax[b] = id;
	}
	return dmax;
}

static int do_check(const char *dev, const struct opts *o)
{
	struct wr *w = plan(o);
	uint64_t bad = 0, lost = 0, reported = 0, held = 0, b;
	uint32_t *dmax = durable_per_block(o, w, &reported);
	int64_t *content = read_content(dev, o, w, &bad);

	for (b = 0; b < o->area; b++) {
		if (content[b] > 0)
			held++;
		if (content[b] < 0 || content[b] >= dmax[b])
			continue;
		lost++;
		printf("LOST block %" PRIu64 ": durable write %u, found %s %" PRId64 "\n",
		       b, dmax[b], content[b] ? "write" : "zeroes", content[b]);
	}
	printf("check: %" PRIu64 " durable writes reported, %" PRIu64 " blocks hold data, %" PRIu64 " lost, %" PRIu64 " torn or foreign\n",
	       reported, held, lost, bad);
	return lost || bad ? 1 : 0;
}

/*
 * Each block limits the epoch E the backing device may have reached:
 * holding write j, E lies in [epoch(j), epoch(next write to the block)];
 * holding zeroes, E <= epoch(first write to the block).
 */
static int do_order(const char *dev, const struct opts *o)
{
	struct wr *w = plan(o);
	uint64_t bad = 0, b, limit_blk = 0;
	int64_t *content = read_content(dev, o, w, &bad);
	uint32_t *next = calloc(o->area, sizeof(*next));
	uint32_t i, lo = 0, hi = UINT32_MAX;

	if (!next) {
		perror("calloc");
		exit(2);
	}
	/* next[b]: first write to b after the one it holds */
	for (i = 1; i <= o->count; i++)
		for (b = w[i].off; b < w[i].off + w[i].len; b++)
			if (!next[b] && content[b] >= 0 && i > content[b])
				next[b] = i;
	for (b = 0; b < o->area; b++) {
		if (content[b] < 0)
			continue;
		if (content[b] > 0 && w[content[b]].epoch > lo)
			lo = w[content[b]].epoch;
		if (next[b] && w[next[b]].epoch < hi) {
			hi = w[next[b]].epoch;
			limit_blk = b;
		}
	}
	if (lo > hi)
		printf("ORDER block %" PRIu64 " is older than epoch %u, but the backing device holds data of epoch %u\n",
		       limit_blk, hi, lo);
	printf("order: backing device at flush epoch %u..%u, %" PRIu64 " torn or foreign blocks: %s\n",
	       lo, hi, bad, lo <= hi && !bad ? "a prefix of the epochs" : "NOT a prefix");
	return lo > hi || bad ? 1 : 0;
}

static void print_usage(void)
{
	fprintf(stderr,
		"usage: pcache_crash write|check|order DEV [--seed N] [--count N]\n"
		"       [--area BLOCKS] [--max-len BLOCKS] [--fua PCT] [--sync PCT]\n"
		"       [--killpoint N]\n"
		"  write  write the plan, print 'D <id>' per durable write\n"
		"  check  read 'D' lines on stdin, verify DEV after a crash\n"
		"  order  verify that DEV (a backing device) holds a prefix of\n"
		"         the flush epochs\n"
		"The same options must be given to the writer and the checkers.\n");
	exit(2);
}

static uint64_t num(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);

	if (!*s || *end)
		print_usage();
	return v;
}

static uint64_t dev_blocks(const char *dev)
{
	int fd = xopen(dev, O_RDONLY);
	uint64_t bytes = 0;
	struct stat st;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		bytes = st.st_size;
	else if (ioctl(fd, BLKGETSIZE64, &bytes))
		bytes = 0;
	close(fd);
	return bytes / BLK;
}

int main(int argc, char **argv)
{
	struct opts o = { .seed = 1, .count = 1000, .max_len = 16,
			  .fua_pct = 20, .sync_pct = 10 };
	const char *dev;
	uint64_t size;
	int i;

	if (argc < 3)
		print_usage();
	dev = argv[2];
	for (i = 3; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--seed"))
			o.seed = num(argv[i + 1]);
		else if (!strcmp(argv[i], "--count"))
			o.count = num(argv[i + 1]);
		else if (!strcmp(argv[i], "--area"))
			o.area = num(argv[i + 1]);
		else if (!strcmp(argv[i], "--max-len"))
			o.max_len = num(argv[i + 1]);
		else if (!strcmp(argv[i], "--fua"))
			o.fua_pct = num(argv[i + 1]);
		else if (!strcmp(argv[i], "--sync"))
			o.sync_pct = num(argv[i + 1]);
		else if (!strcmp(argv[i], "--killpoint"))
			o.killpoint = num(argv[i + 1]);
		else
			print_usage();
	}
	if (i != argc || !o.max_len || !o.count)
		print_usage();
	size = dev_blocks(dev);
	if (!o.area || o.area > size)
		o.area = size;
	if (!o.area)
		print_usage();
	if (!strcmp(argv[1], "write"))
		return do_write(dev, &o);
	if (!strcmp(argv[1], "check"))
		return do_check(dev, &o);
	if (!strcmp(argv[1], "order"))
		return do_order(dev, &o);
	print_usage();
	return 2;
}
