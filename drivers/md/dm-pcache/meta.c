// SPDX-License-Identifier: GPL-2.0
/*
 * Dual-slot metadata records: load the newest valid copy, store the next
 * copy into the other slot.  See meta.h.
 */
#include "pmem.h"
#include "meta.h"

/**
 * pcache_meta_init() - describe where a dual-slot record lives
 * @m: handle
 * @off: byte offset of slot 0
 * @stride: bytes between the two slots
 * @size: record size, at most PCACHE_META_MAX_SIZE
 */
void pcache_meta_init(struct pcache_meta *m, u64 off, u32 stride, u32 size)
{
	memset(m, 0, sizeof(*m));
	m->off = off;
	m->stride = stride;
	m->size = min_t(u32, size, PCACHE_META_MAX_SIZE);
	m->cur = PCACHE_SLOTS - 1;
}

/**
 * pcache_meta_format() - state of a record that has never been written
 * @m: handle
 *
 * The next store goes to slot 0 with sequence 1.
 */
void pcache_meta_format(struct pcache_meta *m)
{
	m->cur = PCACHE_SLOTS - 1;
	m->seq = 0;
}

/**
 * pcache_meta_load() - read both slots and pick the current copy
 * @m: handle; @m->err and @m->why tell what was wrong with each slot
 * @pm: mapped cache device
 * @check: validator for one copy
 * @ctx: passed to @check
 * @rec: receives the current copy (@m->size bytes)
 *
 * A slot that cannot be read (media error) counts as invalid with -EIO.
 *
 * Return: 0, or the most telling slot error when no slot is valid.
 */
int pcache_meta_load(struct pcache_meta *m, const struct pcache_pmem *pm,
		     pcache_meta_check_t check, const void *ctx, void *rec)
{
	u8 buf[PCACHE_SLOTS][PCACHE_META_MAX_SIZE] __aligned(8);
	u64 seq[PCACHE_SLOTS] = {};
	int i, pick;

	for (i = 0; i < PCACHE_SLOTS; i++) {
		m->why[i] = NULL;
		m->err[i] = pcache_pmem_read(pm, m->off + (u64)i * m->stride,
					     buf[i], m->size);
		if (m->err[i]) {
			m->why[i] = "media error";
			continue;
		}
		m->err[i] = check(buf[i], ctx, &m->why[i]);
		seq[i] = le64_to_cpu(((struct pcache_meta_hdr *)buf[i])->seq);
	}
	pick = pcache_pick_latest(m->err, seq, PCACHE_SLOTS);
	if (pick < 0)
		return pick;
	m->cur = pick;
	m->seq = seq[pick];
	memcpy(rec, buf[pick], m->size);
	return 0;
}

/**
 * pcache_meta_next_seq() - sequence number the next store must carry
 * @m: handle
 *
 * Return: current sequence + 1.
 */
u64 pcache_meta_next_seq(const struct pcache_meta *m)
{
	return m->seq + 1;
}

/**
 * pcache_meta_next_slot() - slot the next store goes to
 * @m: handle
 *
 * Return: the slot that does not hold the current copy.
 */
int pcache_meta_next_slot(const struct pcache_meta *m)
{
	return (m->cur + 1) % PCACHE_SLOTS;
}

/**
 * pcache_meta_store() - persist the next copy of a record
 * @m: handle
 * @pm: mapped cache device
 * @rec: encoded record, sealed with pcache_meta_next_seq(@m)
 *
 * The copy goes to the slot that does not hold the current one and is made
 * durable before the handle counts it as current.
 */
void pcache_meta_store(struct pcache_meta *m, struct pcache_pmem *pm,
		       const void *rec)
{
	int slot = pcache_meta_next_slot(m);

	pcache_pmem_write(pm, m->off + (u64)slot * m->stride, rec, m->size);
	pcache_pmem_persist();
	m->cur = slot;
	m->seq = le64_to_cpu(((const struct pcache_meta_hdr *)rec)->seq);
	m->err[slot] = 0;
	m->why[slot] = NULL;
}
