// SPDX-License-Identifier: GPL-2.0
/*
 * pcache_check: check a dm-pcache cache device or image, read-only.
 *
 * Loads every metadata record with the module's own verifiers and walks the
 * journal the way replay does, naming every problem it meets.  Exit status
 * as thin_check: 0 clean, 1 problems found, 2 usage or I/O error.
 */
#include <stdio.h>
#include <stdlib.h>

#include "pcache_scan.h"

#define EXIT_PROBLEMS	1
#define EXIT_USAGE	2

struct opts {
	int quiet;
	int verbose;
	long long off;
	const char *path;
};

static void print_usage(FILE *f)
{
	fprintf(f,
		"Usage: pcache_check [--quiet|--verbose] [--offset BYTES] DEV|IMAGE\n"
		"\n"
		"Check a dm-pcache cache device (e.g. /dev/pmem0) or an image of one,\n"
		"read-only: both copies of every metadata record and the journal from\n"
		"the key tail, with the module's own on-media verifiers.\n"
		"\n"
		"  -q, --quiet          print nothing, only set the exit status\n"
		"  -v, --verbose        also say what was found where\n"
		"  -o, --offset BYTES   the cache starts BYTES into the file (default:\n"
		"                       0, or where a superblock is found in the first\n"
		"                       64 MiB, as in a raw nvdimm backing file)\n"
		"  -h, --help           this text\n"
		"\n"
		"Exit status: 0 clean, 1 problems found, 2 usage or I/O error.\n");
}

static int parse(int argc, char **argv, struct opts *o)
{
	const struct pcache_flag flags[] = {
		{ "quiet", 'q', &o->quiet },
		{ "verbose", 'v', &o->verbose },
		{ }
	};

	return pcache_args(argc, argv, flags, print_usage, &o->off, &o->path);
}

static void on_problem(void *ctx, const char *msg)
{
	const struct opts *o = ctx;

	if (!o->quiet)
		printf("%s: problem: %s\n", o->path, msg);
}

static void say_loaded(const struct pcache_scan *s, const struct opts *o)
{
	if (!o->verbose)
		return;
	if (s->img.off)
		printf("%s: cache found at byte %llu of the file\n", o->path,
		       (unsigned long long)s->img.off);
	printf("%s: %u segments, data at %llu MiB; superblock copy %d, info copy %d, positions copy %d in charge\n",
	       o->path, s->geo.seg_count,
	       (unsigned long long)(s->geo.data_off >> 20), s->sb_sl.cur,
	       s->info_sl.cur, s->pos_sl.cur);
	printf("%s: %s, data_crc %s, gc_percent %u\n", o->path,
	       pcache_mode_name(s->set.cache_mode),
	       s->set.data_crc ? "true" : "false", s->set.gc_percent);
}

static int walk(struct pcache_scan *s, const struct opts *o)
{
	struct pcache_walk w;
	int ret;

	ret = pcache_walk_start(s, &w);
	if (ret)
		return ret;
	while (!pcache_walk_next(s, &w))
		;
	pcache_walk_end(s, &w);
	if (o->verbose && w.pos.seg == PCACHE_SEG_NONE)
		printf("%s: journal: empty\n", o->path);
	else if (o->verbose)
		printf("%s: journal: %llu ksets (%llu links), %llu keys (%llu stale), %llu dirty keys, %llu dirty bytes; ends at %u:%u (%s)\n",
		       o->path, (unsigned long long)w.ksets,
		       (unsigned long long)w.links,
		       (unsigned long long)w.keys,
		       (unsigned long long)w.stale,
		       (unsigned long long)w.dirty_keys,
		       (unsigned long long)w.dirty_bytes, w.pos.seg, w.pos.off,
		       w.stop);
	return 0;
}

int main(int argc, char **argv)
{
	struct pcache_scan s = { .problem = on_problem };
	struct opts o = { };
	int ret;

	if (parse(argc, argv, &o)) {
		print_usage(stderr);
		return EXIT_USAGE;
	}
	if (o.quiet)
		o.verbose = 0;
	s.ctx = &o;
	ret = pcache_scan_open(&s, o.path, o.off);
	if (ret) {
		fprintf(stderr, "pcache_check: %s: %s\n", o.path, strerror(-ret));
		return EXIT_USAGE;
	}
	ret = pcache_scan_load(&s);
	if (!ret && s.loaded) {
		say_loaded(&s, &o);
		ret = walk(&s, &o);
	}
	pcache_scan_close(&s);
	if (ret) {
		fprintf(stderr, "pcache_check: %s: %s\n", o.path, strerror(-ret));
		return EXIT_USAGE;
	}
	if (!o.quiet)
		printf("%s: %s\n", o.path, s.problems ?
		       "problems found" : "clean");
	return s.problems ? EXIT_PROBLEMS : 0;
}
