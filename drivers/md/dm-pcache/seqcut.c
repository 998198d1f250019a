// SPDX-License-Identifier: GPL-2.0
/*
 * Sequential stream detection.  See seqcut.h.
 */
#include <linux/blk_types.h>
#include <linux/jiffies.h>
#include <linux/minmax.h>
#include <linux/string.h>

#include "seqcut.h"

/**
 * pcache_seq_note() - account a bio to its stream
 * @sc: this CPU's streams (caller keeps preemption off)
 * @sector: first sector of the bio
 * @bytes: its size
 * @now: jiffies
 *
 * Return: the bytes of the bio's stream, this bio included.
 */
u64 pcache_seq_note(struct pcache_seq_cpu *sc, u64 sector, u32 bytes,
		    unsigned long now)
{
	struct pcache_seq_stream st = { .bytes = 0 }, *s;
	int i;

	for (i = 0; i < PCACHE_SEQ_STREAMS; i++) {
		s = &sc->s[i];
		if (!s->bytes || !time_before(now, s->last + PCACHE_SEQ_IDLE))
			continue;
		/* the rest of a bio the target cut: counted already */
		if (sector > s->start && sector < s->next)
			return s->bytes;
		if (sector == s->next) {
			st = *s;
			break;
		}
	}
	/* the stream moves to the front; the oldest falls off the end */
	i = min(i, PCACHE_SEQ_STREAMS - 1);
	memmove(&sc->s[1], &sc->s[0], i * sizeof(sc->s[0]));
	st.start = sector;
	st.next = sector + (bytes >> SECTOR_SHIFT);
	st.bytes += bytes;
	st.last = now;
	sc->s[0] = st;
	return st.bytes;
}
