// SPDX-License-Identifier: GPL-2.0
/*
 * pcache_status: the status line of a pcache device in words and numbers.
 *
 * Runs `dmsetup status NAME` and `dmsetup table NAME` (no libdevmapper) and
 * names the fields in the order Documentation/admin-guide/device-mapper/
 * dm-pcache.rst gives them, with sizes, percentages and the hit ratio.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "pcache_out.h"
#include "pcache_platform.h"

/* Target fields of the status line, in order (see dm-pcache.rst) */
enum {
	F_SB_FLAGS, F_SEG_TOTAL, F_CACHE_SEGS, F_SEGS_USED, F_GC_PERCENT,
	F_CACHE_FLAGS, F_KEY_HEAD, F_DIRTY_TAIL, F_KEY_TAIL, F_MODE,
	F_DATA_CRC, F_READ_HITS, F_READ_MISSES, F_READ_PARTIAL, F_WRITE_HITS,
	F_CACHE_BYTES, F_FILL_BYTES, F_SPACE_WAITS, F_MEDIA_ERRORS,
	F_CRC_ERRORS, F_DIRTY_BYTES, F_WB_BYTES, F_WB_ERRORS, F_RECLAIMED,
	F_WB_STATE, F_BYPASS_BYTES, F_KEPT_BYTES, F_COUNT,
};

#define SEG_BYTES	(16ULL << 20)
#define LINE_MAX_LEN	4096

struct opts {
	int json;
	double watch;
	const char *name;
	const char *input;
};

struct status {
	char line[LINE_MAX_LEN];
	char table[LINE_MAX_LEN];
	char *f[F_COUNT];
	unsigned long long sectors;
};

static void print_usage(FILE *f)
{
	fprintf(f,
		"Usage: pcache_status [--json] [--watch [SEC]] NAME\n"
		"       pcache_status [--json] --input FILE\n"
		"\n"
		"Show the status of the pcache device NAME (from `dmsetup status`\n"
		"and `dmsetup table`) in words: mode, used and dirty space, hit\n"
		"ratio, writeback progress and errors.\n"
		"\n"
		"  -j, --json          JSON instead of text\n"
		"  -w, --watch [SEC]   repeat every SEC seconds (default 1) until\n"
		"                      interrupted\n"
		"  -i, --input FILE    read a saved `dmsetup status` line (and\n"
		"                      optionally the table line after it) from FILE\n"
		"  -h, --help          this text\n"
		"\n"
		"Exit status: 0 shown, 1 not a pcache device or an unexpected\n"
		"status line, 2 usage error or dmsetup failed.\n");
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "watch", optional_argument, NULL, 'w' },
		{ "input", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "jw::i:h", lopts, NULL)) != -1) {
		if (c == 'j') {
			o->json = 1;
		} else if (c == 'w') {
			if (!optarg && optind < argc - 1)
				optarg = argv[optind++];
			o->watch = optarg ? strtod(optarg, &end) : 1;
			if ((optarg && *end) || o->watch <= 0)
				return -EINVAL;
		} else if (c == 'i') {
			o->input = optarg;
		} else if (c == 'h') {
			print_usage(stdout);
			exit(0);
		} else {
			return -EINVAL;
		}
	}
	if (o->input)
		return optind == argc && !o->watch ? 0 : -EINVAL;
	if (optind != argc - 1)
		return -EINVAL;
	o->name = argv[optind];
	return 0;
}

/* dmsetup WHAT NAME, first line of its output into @buf */
static int dmsetup(const char *what, const char *name, char *buf,
		   size_t size)
{
	int fd[2], st;
	ssize_t n, got = 0;
	pid_t pid;

	if (pipe(fd))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		dup2(fd[1], 1);
		close(fd[0]);
		execlp("dmsetup", "dmsetup", what, name, (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	while ((n = read(fd[0], buf + got, size - 1 - got)) > 0)
		got += n;
	close(fd[0]);
	buf[got] = 0;
	buf[strcspn(buf, "\n")] = 0;
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		return -EIO;
	return 0;
}

static int read_input(const char *path, struct status *s)
{
	FILE *f = fopen(path, "r");

	if (!f)
		return -errno;
	if (!fgets(s->line, sizeof(s->line), f))
		s->line[0] = 0;
	if (!fgets(s->table, sizeof(s->table), f))
		s->table[0] = 0;
	fclose(f);
	s->line[strcspn(s->line, "\n")] = 0;
	s->table[strcspn(s->table, "\n")] = 0;
	return 0;
}

/* "0 LEN pcache f0 f1 ..." into fields; -EUCLEAN if it is not ours */
static int split(struct status *s)
{
	char *save, *w;
	int i;

	w = strtok_r(s->line, " ", &save);
	if (!w)
		return -EUCLEAN;
	w = strtok_r(NULL, " ", &save);
	s->sectors = w ? strtoull(w, NULL, 10) : 0;
	w = strtok_r(NULL, " ", &save);
	if (!w || strcmp(w, "pcache"))
		return -EUCLEAN;
	for (i = 0; i < F_COUNT; i++) {
		s->f[i] = strtok_r(NULL, " ", &save);
		if (!s->f[i])
			return -EUCLEAN;
	}
	return 0;
}

static unsigned long long num(const struct status *s, int i)
{
	return strtoull(s->f[i], NULL, 10);
}

static double pct(unsigned long long part, unsigned long long whole)
{
	return whole ? 100.0 * part / whole : 0;
}

static const char *size_str(unsigned long long b, char *buf)
{
	static const char units[] = "KMGTPE";
	double v = b;
	int u = -1;

	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, 32, "%llu B", b);
	else
		snprintf(buf, 32, "%.1f %ciB", v, units[u]);
	return buf;
}

/* A byte count: a number in JSON, "1.5 GiB (N % of the cache)" in text */
static void out_bytes(struct pcache_out *o, const char *name,
		      unsigned long long b, unsigned long long whole)
{
	char text[96], sz[32];

	if (o->json) {
		pcache_out_u64(o, name, b);
		return;
	}
	if (whole)
		snprintf(text, sizeof(text), "%s (%.1f%% of the cache)",
			 size_str(b, sz), pct(b, whole));
	else
		snprintf(text, sizeof(text), "%s", size_str(b, sz));
	pcache_out_str(o, name, text);
}

static void out_space(struct pcache_out *o, const struct status *s)
{
	unsigned long long cap = num(s, F_CACHE_SEGS) * SEG_BYTES;

	pcache_out_obj(o, "space", false);
	out_bytes(o, "capacity", cap, 0);
	pcache_out_u64(o, "segments", num(s, F_CACHE_SEGS));
	pcache_out_u64(o, "segments_used", num(s, F_SEGS_USED));
	out_bytes(o, "used", num(s, F_SEGS_USED) * SEG_BYTES, cap);
	pcache_out_num(o, "used_percent",
		       pct(num(s, F_SEGS_USED), num(s, F_CACHE_SEGS)));
	out_bytes(o, "dirty", num(s, F_DIRTY_BYTES), cap);
	pcache_out_num(o, "dirty_percent", pct(num(s, F_DIRTY_BYTES), cap));
	pcache_out_u64(o, "gc_percent", num(s, F_GC_PERCENT));
	pcache_out_u64(o, "reclaimed_segments", num(s, F_RECLAIMED));
	pcache_out_u64(o, "space_waits", num(s, F_SPACE_WAITS));
	pcache_out_close(o);
}

static void out_io(struct pcache_out *o, const struct status *s)
{
	unsigned long long hits = num(s, F_READ_HITS);
	unsigned long long reads = hits + num(s, F_READ_MISSES) +
				   num(s, F_READ_PARTIAL);

	pcache_out_obj(o, "reads", false);
	pcache_out_u64(o, "hits", hits);
	pcache_out_u64(o, "misses", num(s, F_READ_MISSES));
	pcache_out_u64(o, "partial", num(s, F_READ_PARTIAL));
	pcache_out_num(o, "hit_percent", pct(hits, reads));
	out_bytes(o, "served_from_cache", num(s, F_CACHE_BYTES), 0);
	out_bytes(o, "filled_by_misses", num(s, F_FILL_BYTES), 0);
	out_bytes(o, "bypassed", num(s, F_BYPASS_BYTES), 0);
	out_bytes(o, "kept_by_gc", num(s, F_KEPT_BYTES), 0);
	pcache_out_close(o);
	pcache_out_obj(o, "writes", false);
	pcache_out_u64(o, "overwrites_in_cache", num(s, F_WRITE_HITS));
	pcache_out_close(o);
	pcache_out_obj(o, "writeback", false);
	pcache_out_str(o, "state", s->f[F_WB_STATE]);
	out_bytes(o, "written", num(s, F_WB_BYTES), 0);
	out_bytes(o, "to_write", num(s, F_DIRTY_BYTES), 0);
	pcache_out_num(o, "done_percent",
		       pct(num(s, F_WB_BYTES),
			   num(s, F_WB_BYTES) + num(s, F_DIRTY_BYTES)));
	pcache_out_u64(o, "errors", num(s, F_WB_ERRORS));
	pcache_out_close(o);
	pcache_out_obj(o, "errors", false);
	pcache_out_u64(o, "media", num(s, F_MEDIA_ERRORS));
	pcache_out_u64(o, "crc", num(s, F_CRC_ERRORS));
	pcache_out_u64(o, "writeback", num(s, F_WB_ERRORS));
	pcache_out_close(o);
}

/* "0 LEN pcache maj:min maj:min 10 cache_mode M data_crc B ..." */
static void out_table(struct pcache_out *o, struct status *s)
{
	char *save, *w[6], *k, *v;
	int i;

	w[0] = strtok_r(s->table, " ", &save);
	for (i = 1; i < 6 && w[i - 1]; i++)
		w[i] = strtok_r(NULL, " ", &save);
	if (!w[0] || !w[5] || strcmp(w[2], "pcache"))
		return;
	pcache_out_obj(o, "table", false);
	pcache_out_str(o, "cache_dev", w[3]);
	pcache_out_str(o, "backing_dev", w[4]);
	while ((k = strtok_r(NULL, " ", &save)) &&
	       (v = strtok_r(NULL, " ", &save)))
		pcache_out_str(o, k, v);
	pcache_out_close(o);
}

static int show(const struct opts *opt)
{
	struct status s = { };
	struct pcache_out o;
	char sz[32];
	int ret;

	if (opt->input) {
		ret = read_input(opt->input, &s);
	} else {
		ret = dmsetup("status", opt->name, s.line, sizeof(s.line));
		if (!ret)
			ret = dmsetup("table", opt->name, s.table,
				      sizeof(s.table));
	}
	if (ret)
		return 2;
	if (split(&s)) {
		fprintf(stderr, "pcache_status: %s: not a pcache status line\n",
			opt->name ?: opt->input);
		return 1;
	}
	pcache_out_begin(&o, opt->json);
	if (opt->name)
		pcache_out_str(&o, "name", opt->name);
	if (opt->json)
		pcache_out_u64(&o, "size", s.sectors * 512);
	else
		pcache_out_str(&o, "size", size_str(s.sectors * 512, sz));
	pcache_out_str(&o, "mode", s.f[F_MODE]);
	pcache_out_bool(&o, "data_crc", !strcmp(s.f[F_DATA_CRC], "true"));
	out_space(&o, &s);
	out_io(&o, &s);
	pcache_out_obj(&o, "journal", true);
	pcache_out_str(&o, "key_head", s.f[F_KEY_HEAD]);
	pcache_out_str(&o, "dirty_tail", s.f[F_DIRTY_TAIL]);
	pcache_out_str(&o, "key_tail", s.f[F_KEY_TAIL]);
	pcache_out_close(&o);
	out_table(&o, &s);
	pcache_out_end(&o);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { };
	struct timespec ts;
	int ret;

	if (parse(argc, argv, &o)) {
		print_usage(stderr);
		return 2;
	}
	for (;;) {
		ret = show(&o);
		if (ret || !o.watch)
			return ret;
		fflush(stdout);
		ts.tv_sec = (time_t)o.watch;
		ts.tv_nsec = (long)((o.watch - ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
		if (!o.json)
			printf("\n");
	}
}
