/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Structured output for the tools: the same calls print indented
 * "name: value" text or JSON, so a tool describes what it shows once.
 * An object opened as a row prints on one text line ("name=value ...").
 */
#ifndef _PCACHE_OUT_H
#define _PCACHE_OUT_H

#include <stdbool.h>

#define PCACHE_OUT_DEPTH	8

/**
 * struct pcache_out - an output in progress
 * @json: JSON instead of text
 * @depth: open objects and arrays
 * @n: per level, members printed so far
 * @row: per level, a text row rather than a block
 * @array: per level, an array (members have no names)
 */
struct pcache_out {
	bool json;
	int depth;
	int n[PCACHE_OUT_DEPTH];
	bool row[PCACHE_OUT_DEPTH];
	bool array[PCACHE_OUT_DEPTH];
};

void pcache_out_begin(struct pcache_out *o, bool json);
void pcache_out_end(struct pcache_out *o);
void pcache_out_obj(struct pcache_out *o, const char *name, bool row);
void pcache_out_arr(struct pcache_out *o, const char *name);
void pcache_out_close(struct pcache_out *o);
void pcache_out_u64(struct pcache_out *o, const char *name,
		    unsigned long long v);
void pcache_out_str(struct pcache_out *o, const char *name, const char *v);
void pcache_out_bool(struct pcache_out *o, const char *name, bool v);
void pcache_out_num(struct pcache_out *o, const char *name, double v);

#endif /* _PCACHE_OUT_H */
