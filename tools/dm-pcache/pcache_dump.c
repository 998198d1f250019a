// SPDX-License-Identifier: GPL-2.0
/*
 * pcache_dump: show what a dm-pcache cache device or image holds, read-only:
 * superblock and geometry, every metadata record with the sequence number
 * and verdict of each copy, the segments in use, the journal's positions
 * and what replay would find in it, and with --keys every key.  Text or
 * JSON.
 */
#include <stdio.h>
#include <stdlib.h>

#include "pcache_out.h"
#include "pcache_scan.h"

struct opts {
	int json;
	int keys;
	long long off;
	const char *path;
};

static void print_usage(FILE *f)
{
	fprintf(f,
		"Usage: pcache_dump [--json] [--keys] [--offset BYTES] DEV|IMAGE\n"
		"\n"
		"Show a dm-pcache cache device or image (read-only): superblock,\n"
		"geometry, metadata copies with sequence and validity, segments in\n"
		"use, journal positions and contents.\n"
		"\n"
		"  -j, --json           JSON instead of text\n"
		"  -k, --keys           list every key of the journal\n"
		"  -o, --offset BYTES   the cache starts BYTES into the file (default:\n"
		"                       found as pcache_check does)\n"
		"  -h, --help           this text\n"
		"\n"
		"Exit status: 0 shown, 1 no valid metadata to show, 2 usage or I/O\n"
		"error.  Problems are listed under \"problems\"; pcache_check judges.\n");
}

static int parse(int argc, char **argv, struct opts *o)
{
	const struct pcache_flag flags[] = {
		{ "json", 'j', &o->json },
		{ "keys", 'k', &o->keys },
		{ }
	};

	return pcache_args(argc, argv, flags, print_usage, &o->off, &o->path);
}

/* Problems are collected and shown at the end, under "problems". */
struct problems {
	char **msg;
	unsigned int n;
};

static void on_problem(void *ctx, const char *msg)
{
	struct problems *p = ctx;
	char **m = realloc(p->msg, (p->n + 1) * sizeof(*m));

	if (!m)
		return;
	p->msg = m;
	p->msg[p->n] = strdup(msg);
	if (p->msg[p->n])
		p->n++;
}

static void out_copies(struct pcache_out *o, const struct pcache_slots *sl)
{
	int i;

	pcache_out_arr(o, "copies");
	for (i = 0; i < PCACHE_SLOTS; i++) {
		pcache_out_obj(o, NULL, true);
		pcache_out_u64(o, "slot", i);
		pcache_out_u64(o, "seq", sl->seq[i]);
		pcache_out_bool(o, "valid", !sl->err[i]);
		pcache_out_bool(o, "current", sl->cur == i);
		if (sl->err[i])
			pcache_out_str(o, "why", sl->why[i]);
		pcache_out_close(o);
	}
	pcache_out_close(o);
}

static void out_pos(struct pcache_out *o, const char *name,
		    const struct pcache_pos *p, u64 seq, bool has_seq)
{
	char buf[32];

	if (p->seg == PCACHE_SEG_NONE)
		snprintf(buf, sizeof(buf), "none");
	else
		snprintf(buf, sizeof(buf), "%u:%u", p->seg, p->off);
	pcache_out_obj(o, name, true);
	pcache_out_str(o, "pos", buf);
	if (has_seq)
		pcache_out_u64(o, "kset_seq", seq);
	pcache_out_close(o);
}

static void out_sb(struct pcache_out *o, const struct pcache_scan *s)
{
	char uuid[33];
	int i;

	for (i = 0; i < 16; i++)
		snprintf(uuid + 2 * i, 3, "%02x", s->sb.uuid[i]);
	pcache_out_obj(o, "superblock", false);
	pcache_out_u64(o, "version", le32_to_cpu(s->sb.version));
	pcache_out_str(o, "uuid", uuid);
	pcache_out_u64(o, "dev_size", s->geo.dev_size);
	pcache_out_u64(o, "seg_size", PCACHE_SEG_SIZE);
	pcache_out_u64(o, "seg_count", s->geo.seg_count);
	pcache_out_u64(o, "seg_info_off", s->geo.seg_info_off);
	pcache_out_u64(o, "data_off", s->geo.data_off);
	pcache_out_u64(o, "feature_compat", le64_to_cpu(s->sb.feature_compat));
	out_copies(o, &s->sb_sl);
	pcache_out_close(o);
	pcache_out_obj(o, "cache_info", false);
	pcache_out_str(o, "cache_mode", pcache_mode_name(s->set.cache_mode));
	pcache_out_u64(o, "gc_percent", s->set.gc_percent);
	pcache_out_bool(o, "data_crc", s->set.data_crc);
	out_copies(o, &s->info_sl);
	pcache_out_close(o);
	pcache_out_obj(o, "positions", false);
	out_pos(o, "key_head", &s->pos.key_head, 0, false);
	out_pos(o, "key_tail", &s->pos.key_tail, s->pos.key_tail_seq, true);
	out_pos(o, "dirty_tail", &s->pos.dirty_tail, s->pos.dirty_tail_seq,
		true);
	out_copies(o, &s->pos_sl);
	pcache_out_close(o);
}

/* Segments that were ever allocated (the type is never reset to free). */
static void out_segs(struct pcache_out *o, const struct pcache_scan *s)
{
	u32 i, n[PCACHE_SEG_TYPE_MAX + 1] = { };

	pcache_out_obj(o, "segments", false);
	pcache_out_arr(o, "allocated");
	for (i = 0; i < s->geo.seg_count; i++) {
		const struct pcache_seg_info *si = &s->segs[i];
		const struct pcache_slots *sl = &s->seg_sl[i];

		n[si->type]++;
		if (si->type == PCACHE_SEG_FREE && !sl->err[0] && !sl->err[1])
			continue;
		pcache_out_obj(o, NULL, true);
		pcache_out_u64(o, "seg", i);
		pcache_out_str(o, "type", pcache_seg_type_name(si->type));
		pcache_out_u64(o, "gen", si->gen);
		if (si->next != PCACHE_SEG_NONE)
			pcache_out_u64(o, "next", si->next);
		if (sl->cur >= 0)
			pcache_out_u64(o, "seq", sl->seq[sl->cur]);
		pcache_out_bool(o, "copies_valid", !sl->err[0] && !sl->err[1]);
		pcache_out_close(o);
	}
	pcache_out_close(o);
	pcache_out_u64(o, "free", n[PCACHE_SEG_FREE]);
	pcache_out_u64(o, "data", n[PCACHE_SEG_DATA]);
	pcache_out_u64(o, "key", n[PCACHE_SEG_KEY]);
	pcache_out_close(o);
}

static void out_flags(struct pcache_out *o, u32 f)
{
	static const char * const names[] = {
		"dirty", "crc", "tombstone", "zero", "discard",
	};
	char buf[64] = "";
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (f & (1U << i))
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
				 "%s%s", *buf ? "," : "", names[i]);
	pcache_out_str(o, "flags", *buf ? buf : "clean");
}

static void out_keys(struct pcache_out *o, const struct pcache_scan *s,
		     const struct pcache_walk *w)
{
	struct pcache_key_info k;
	u32 i, n = le16_to_cpu(w->buf->count);

	for (i = 0; i < n; i++) {
		pcache_key_decode(&w->buf->keys[i], &k);
		pcache_out_obj(o, NULL, true);
		pcache_out_u64(o, "kset", w->seq - 1);
		pcache_out_u64(o, "seq", k.seq);
		pcache_out_u64(o, "lba", k.lba);
		pcache_out_u64(o, "sectors", k.sectors);
		if (pcache_key_has_data(&k)) {
			pcache_out_u64(o, "seg", k.seg);
			pcache_out_u64(o, "seg_off", k.seg_off);
			pcache_out_u64(o, "gen", k.gen);
		}
		out_flags(o, k.flags);
		if (k.flags & PCACHE_KEY_CRC)
			pcache_out_u64(o, "crc", k.crc);
		pcache_out_bool(o, "stale", pcache_key_is_stale(s, &k));
		pcache_out_close(o);
	}
}

static int out_journal(struct pcache_out *o, struct pcache_scan *s,
		       bool keys)
{
	struct pcache_walk w;
	int ret;

	ret = pcache_walk_start(s, &w);
	if (ret)
		return ret;
	if (keys)
		pcache_out_arr(o, "keys");
	while (!pcache_walk_next(s, &w))
		if (keys)
			out_keys(o, s, &w);
	if (keys)
		pcache_out_close(o);
	pcache_walk_end(s, &w);
	pcache_out_obj(o, "journal", false);
	out_pos(o, "head", &w.pos, w.seq, true);
	pcache_out_u64(o, "ksets", w.ksets);
	pcache_out_u64(o, "links", w.links);
	pcache_out_u64(o, "keys", w.keys);
	pcache_out_u64(o, "stale_keys", w.stale);
	pcache_out_u64(o, "dirty_keys", w.dirty_keys);
	pcache_out_u64(o, "dirty_bytes", w.dirty_bytes);
	pcache_out_str(o, "ends", w.stop);
	pcache_out_close(o);
	return 0;
}

static void out_problems(struct pcache_out *o, struct problems *p)
{
	unsigned int i;

	pcache_out_arr(o, "problems");
	for (i = 0; i < p->n; i++) {
		pcache_out_str(o, NULL, p->msg[i]);
		free(p->msg[i]);
	}
	pcache_out_close(o);
	free(p->msg);
}

static int dump(struct pcache_scan *s, const struct opts *opt)
{
	struct pcache_out o;
	int ret = 0;

	pcache_out_begin(&o, opt->json);
	pcache_out_str(&o, "device", opt->path);
	pcache_out_u64(&o, "offset", s->img.off);
	pcache_out_u64(&o, "size", s->img.size);
	pcache_out_str(&o, "content", pcache_content_name(s->what));
	if (!pcache_scan_load(s) && s->loaded) {
		out_sb(&o, s);
		out_segs(&o, s);
		ret = out_journal(&o, s, opt->keys);
	}
	out_problems(&o, s->ctx);
	pcache_out_end(&o);
	return ret;
}

int main(int argc, char **argv)
{
	struct problems p = { };
	struct pcache_scan s = { .problem = on_problem, .ctx = &p };
	struct opts o = { };
	int ret;

	if (parse(argc, argv, &o)) {
		print_usage(stderr);
		return 2;
	}
	ret = pcache_scan_open(&s, o.path, o.off);
	if (ret) {
		fprintf(stderr, "pcache_dump: %s: %s\n", o.path, strerror(-ret));
		return 2;
	}
	ret = dump(&s, &o);
	pcache_scan_close(&s);
	if (ret) {
		fprintf(stderr, "pcache_dump: %s: %s\n", o.path, strerror(-ret));
		return 2;
	}
	return s.loaded ? 0 : 1;
}
