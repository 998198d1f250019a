// SPDX-License-Identifier: GPL-2.0
/*
 * Text or JSON output.  See pcache_out.h.
 */
#include <stdio.h>

#include "pcache_out.h"

/**
 * pcache_out_begin() - start an output (one top-level object)
 * @o: the output
 * @json: JSON instead of text
 */
void pcache_out_begin(struct pcache_out *o, bool json)
{
	*o = (struct pcache_out){ .json = json };
	if (json)
		printf("{");
}

/**
 * pcache_out_end() - finish it
 * @o: the output
 */
void pcache_out_end(struct pcache_out *o)
{
	if (o->json)
		printf("\n}\n");
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

/* Separator, indentation and name of the next member */
static void member(struct pcache_out *o, const char *name, bool block)
{
	int d = o->depth;
	bool first = !o->n[d]++;

	if (o->json) {
		printf("%s\n%*s", first ? "" : ",", 2 * (d + 1), "");
		if (!o->array[d]) {
			json_str(name);
			printf(": ");
		}
		return;
	}
	if (o->row[d]) {
		printf("%s%s=", first ? "" : " ", name);
		return;
	}
	printf("%*s%s%s", 2 * d, "", o->array[d] ? "- " : name,
	       o->array[d] ? "" : block ? ":" : ": ");
}

static void open_level(struct pcache_out *o, const char *name, bool row,
		       bool array)
{
	member(o, name, !row);
	if (o->json)
		putchar(array ? '[' : '{');
	else if (!row && !o->array[o->depth])
		putchar('\n');
	if (o->depth + 1 < PCACHE_OUT_DEPTH)
		o->depth++;
	o->n[o->depth] = 0;
	o->row[o->depth] = row && !o->json;
	o->array[o->depth] = array;
}

/**
 * pcache_out_obj() - open an object
 * @o: the output
 * @name: its name (ignored inside an array)
 * @row: in text, print its members on one line
 */
void pcache_out_obj(struct pcache_out *o, const char *name, bool row)
{
	open_level(o, name, row, false);
}

/**
 * pcache_out_arr() - open an array; its members are objects or values
 * @o: the output
 * @name: its name
 */
void pcache_out_arr(struct pcache_out *o, const char *name)
{
	open_level(o, name, false, true);
}

/**
 * pcache_out_close() - close the innermost object or array
 * @o: the output
 */
void pcache_out_close(struct pcache_out *o)
{
	int d = o->depth;

	if (o->json) {
		if (o->n[d])
			printf("\n%*s", 2 * d, "");
		putchar(o->array[d] ? ']' : '}');
	} else if (o->row[d]) {
		putchar('\n');
	}
	if (d)
		o->depth--;
}

static void end_value(struct pcache_out *o)
{
	if (!o->json && !o->row[o->depth])
		putchar('\n');
}

/**
 * pcache_out_u64() - an integer member
 * @o: the output
 * @name: its name
 * @v: its value
 */
void pcache_out_u64(struct pcache_out *o, const char *name,
		    unsigned long long v)
{
	member(o, name, false);
	printf("%llu", v);
	end_value(o);
}

/**
 * pcache_out_num() - a fractional member (ratios, percentages)
 * @o: the output
 * @name: its name
 * @v: its value
 */
void pcache_out_num(struct pcache_out *o, const char *name, double v)
{
	member(o, name, false);
	printf("%.2f", v);
	end_value(o);
}

/**
 * pcache_out_str() - a string member
 * @o: the output
 * @name: its name
 * @v: its value
 */
void pcache_out_str(struct pcache_out *o, const char *name, const char *v)
{
	member(o, name, false);
	if (o->json)
		json_str(v);
	else
		printf("%s", v);
	end_value(o);
}

/**
 * pcache_out_bool() - a true/false member
 * @o: the output
 * @name: its name
 * @v: its value
 */
void pcache_out_bool(struct pcache_out *o, const char *name, bool v)
{
	member(o, name, false);
	printf("%s", v ? "true" : "false");
	end_value(o);
}
