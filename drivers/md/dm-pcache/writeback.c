// SPDX-License-Identifier: GPL-2.0
/*
 * Writeback and garbage collection.  See writeback.h.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include "pcache.h"
#include "pmem.h"
#include "writeback.h"

#define WB_BACKOFF_MIN	(HZ / 10)
#define WB_BACKOFF_MAX	(30 * HZ)
#define WB_IDLE		(HZ / 2)
/* a look at this interval vouches for all of it: see pcache_wb_look() */
static_assert(PCACHE_WB_LOOK_MAX > WB_IDLE);
#define WB_MAX_HOLD	(30 * HZ)
#define WB_BYPASS_WAIT	(HZ / 100 ?: 1)	/* a write around the cache */
#define WB_KSETS	16	/* ksets per worker run */
#define GC_KSETS	256	/* ksets per key-tail update */
#define GC_LINKS	8	/* key segments freed per key-tail update */

/* Batches of writes in flight */

static void batch_begin(struct pcache_wb *wb)
{
	atomic_set(&wb->inflight, 1);
	reinit_completion(&wb->done);
	wb->status = BLK_STS_OK;
	wb->used = 0;
	wb->nr = 0;
}

static void batch_reset(struct pcache_wb *wb)
{
	batch_begin(wb);
	wb->issued = false;
	wb->kset_bytes = 0;
	wb->lost_bytes = 0;
}

static int batch_wait(struct pcache_wb *wb)
{
	int ret;

	if (!atomic_dec_and_test(&wb->inflight))
		wait_for_completion(&wb->done);
	ret = pcache_wb_err(blk_status_to_errno(READ_ONCE(wb->status)));
	batch_begin(wb);
	return ret;
}

static void wb_end_io(struct bio *bio)
{
	struct pcache_wb *wb = bio->bi_private;

	if (bio->bi_status)
		WRITE_ONCE(wb->status, bio->bi_status);
	bio_put(bio);
	if (atomic_dec_and_test(&wb->inflight))
		complete(&wb->done);
}

static bool batch_overlaps(struct pcache_wb *wb, u64 lba, u64 end)
{
	u32 i;

	for (i = 0; i < wb->nr; i++)
		if (lba < wb->end[i] && wb->lba[i] < end)
			return true;
	return false;
}

/* Copy @bytes of cached data into free buffer pages and write them. */
static int submit_chunk(struct pcache_wb *wb, u64 lba, u64 addr, u32 bytes)
{
	u32 npages = DIV_ROUND_UP(bytes, PAGE_SIZE), i, len;
	struct bio *bio;
	int ret;

	bio = bio_alloc(wb->bdev, npages, REQ_OP_WRITE, GFP_NOIO);
	bio->bi_iter.bi_sector = lba;
	bio->bi_private = wb;
	bio->bi_end_io = wb_end_io;
	for (i = 0; i < npages; i++) {
		struct page *pg = wb->pages[wb->used + i];

		len = min_t(u32, bytes - i * PAGE_SIZE, PAGE_SIZE);
		ret = pcache_pmem_read(wb->c->pm, addr + i * PAGE_SIZE,
				       page_address(pg), len);
		if (ret) {
			bio_put(bio);
			return ret;
		}
		__bio_add_page(bio, pg, len, 0);
	}
	wb->used += npages;
	wb->issued = true;
	atomic_inc(&wb->inflight);
	submit_bio(bio);
	return 0;
}

/*
 * Apply sectors [@start, @end) of a zero key.  It runs synchronously, so
 * it is on the backing device before any later run of the kset is issued;
 * an overlapping earlier run of the batch is waited for first.
 */
static int zero_run(struct pcache_wb *wb, const struct pcache_key_info *k,
		    u64 start, u64 end)
{
	struct block_device *bdev = wb->bdev;
	int ret;

	if (batch_overlaps(wb, start, end)) {
		ret = batch_wait(wb);
		if (ret)
			return ret;
	}
	wb->issued = true;
	/* the application may have asked not to deallocate: never do */
	if (!(k->flags & PCACHE_KEY_DISCARD))
		return pcache_wb_err(blkdev_issue_zeroout(bdev, start,
				end - start, GFP_NOIO, BLKDEV_ZERO_NOUNMAP));
	/* discarded data is undefined: a device without discard keeps it */
	if (!bdev_max_discard_sectors(bdev))
		return 0;
	ret = blkdev_issue_discard(bdev, start, end - start, GFP_NOIO);
	return ret == -EOPNOTSUPP ? 0 : pcache_wb_err(ret);
}

/*
 * Write sectors [@start, @end) of key @k from pmem to the backing device.
 * Return: 0, -EHWPOISON if pmem could not be read, or a writeback error.
 */
static int write_run(struct pcache_wb *wb, const struct pcache_key_info *k,
		     u64 start, u64 end)
{
	u64 addr = pcache_data_addr(wb->c, k->seg, k->seg_off) +
		   ((start - k->lba) << SECTOR_SHIFT);
	u32 bytes;
	int ret;

	if (wb->nr == PCACHE_WB_RUNS || batch_overlaps(wb, start, end)) {
		ret = batch_wait(wb);
		if (ret)
			return ret;
	}
	wb->lba[wb->nr] = start;
	wb->end[wb->nr++] = end;
	while (start < end) {
		if (wb->used == PCACHE_WB_PAGES) {
			ret = batch_wait(wb);
			if (ret)
				return ret;
			wb->lba[wb->nr] = start;
			wb->end[wb->nr++] = end;
		}
		bytes = min_t(u64, (end - start) << SECTOR_SHIFT,
			      (u64)(PCACHE_WB_PAGES - wb->used) * PAGE_SIZE);
		if (submit_chunk(wb, start, addr, bytes))
			return -EHWPOISON;
		start += bytes >> SECTOR_SHIFT;
		addr += bytes;
	}
	return 0;
}

static bool key_current(struct pcache_cache *c, const struct pcache_key_info *k)
{
	return (!pcache_key_has_data(k) ||
		(k->seg < c->super->geo.seg_count &&
		 k->gen == (u32)c->super->segs[k->seg].info.gen)) &&
	       k->lba + k->sectors <= (u64)c->idx.nr << PCACHE_STRIPE_SHIFT;
}

static bool key_dirty(struct pcache_cache *c, const struct pcache_key_info *k)
{
	return (k->flags & PCACHE_KEY_DIRTY) &&
	       !(k->flags & PCACHE_KEY_TOMBSTONE) && key_current(c, k);
}

/*
 * Data of @k that cannot be read back intact is not written (what went
 * before the bad part may have been): the key loses its dirty flag here
 * only, so the index keeps it dirty and reads of it keep failing instead
 * of returning the older data of the backing device.  The rest of the
 * kset is written back as usual; its bytes leave dirty_bytes only if the
 * kset succeeds, since a failed kset is retried and meets the key again.
 */
static void lose_key(struct pcache_wb *wb, struct pcache_key_info *k,
		     const char *what)
{
	pcache_err_limit(wb->c->name, "%s in dirty cached sectors %llu+%u: not written back, data lost",
			 what, k->lba, k->sectors);
	k->flags &= ~PCACHE_KEY_DIRTY;
	wb->lost_bytes += (u64)k->sectors << SECTOR_SHIFT;
}

/* Write back the parts of @k that the index still wants on the backing. */
static int write_key(struct pcache_wb *wb, struct pcache_key_info *k)
{
	struct pcache_subtree *t = pcache_index_tree(&wb->c->idx, k->lba);
	u64 from = k->lba, kend = k->lba + k->sectors, start, end;
	bool found;
	int ret;

	/* after a simulated power loss, pmem may not hold this key's data */
	if (pcache_pmem_crashed())
		return -EIO;
	/* never spread corrupted data to the backing device */
	ret = pcache_key_verify(wb->c, k);
	if (ret) {
		lose_key(wb, k, ret == -EIO ? "media error" : "CRC mismatch");
		return 0;
	}
	while (from < kend) {
		spin_lock(&t->lock);
		found = pcache_subtree_wb_run(t, k, from,
					      pcache_epoch_limit(wb->c, k->seq),
					      &start, &end);
		spin_unlock(&t->lock);
		if (!found)
			break;
		if (pcache_key_has_data(k))
			ret = write_run(wb, k, start, end);
		else
			ret = zero_run(wb, k, start, end);
		if (ret == -EHWPOISON) {
			this_cpu_inc(wb->c->stats->media_errors);
			lose_key(wb, k, "media error");
			return 0;
		}
		if (ret)
			return ret;
		wb->kset_bytes += (end - start) << SECTOR_SHIFT;
		from = end;
	}
	return 0;
}

static int cmp_seq(const void *a, const void *b)
{
	const struct pcache_key_info *x = a, *y = b;

	if (x->seq == y->seq)
		return 0;
	return pcache_seq_after(x->seq, y->seq) ? 1 : -1;
}

static u32 decode_keys(struct pcache_wb *wb)
{
	u32 i, n = le16_to_cpu(wb->ks->count);
	bool sorted = true;

	for (i = 0; i < n; i++) {
		pcache_key_decode(&wb->ks->keys[i], &wb->keys[i]);
		if (i && cmp_seq(&wb->keys[i - 1], &wb->keys[i]) > 0)
			sorted = false;
	}
	/*
	 * Overlapping keys of one kset reach the disk oldest first.  A kset
	 * holds one CPU's keys, nearly always already in order: sorting
	 * them anyway cost as much as inserting them into the index.
	 */
	if (!sorted)
		sort(wb->keys, n, sizeof(*wb->keys), cmp_seq, NULL);
	return n;
}

static void mark_clean(struct pcache_wb *wb, u32 n)
{
	struct pcache_cache *c = wb->c;
	struct pcache_key_info *k;
	struct pcache_subtree *t;
	u64 bytes = wb->lost_bytes;
	u32 i;

	for (i = 0; i < n; i++) {
		k = &wb->keys[i];
		if (!key_dirty(c, k))
			continue;
		t = pcache_index_tree(&c->idx, k->lba);
		spin_lock(&t->lock);
		pcache_subtree_mark_clean(t, k->lba, k->lba + k->sectors,
					  k->seq);
		spin_unlock(&t->lock);
		bytes += (u64)k->sectors << SECTOR_SHIFT;
	}
	atomic64_sub(min_t(u64, bytes, atomic64_read(&c->dirty_bytes)),
		     &c->dirty_bytes);
}

/* The persisted dirty tail: every kset before it is on the backing device */
static u64 dirty_seq(struct pcache_wb *wb)
{
	/* pairs with the release in set_dirty_tail() */
	return smp_load_acquire(&wb->seq);
}

static void set_dirty_tail(struct pcache_wb *wb, const struct pcache_pos *pos,
			   u64 seq)
{
	pcache_log_set_dirty_tail(&wb->c->log, pos, seq);
	wb->pos = *pos;
	/* GC may pass ksets before it only once it is persisted */
	smp_store_release(&wb->seq, seq);
}

/* The journal was empty at load: its tails appear with the first kset. */
static bool tails_known(struct pcache_wb *wb, bool gc)
{
	struct pcache_positions pos;

	if ((gc ? wb->ktail.seg : wb->pos.seg) != PCACHE_SEG_NONE)
		return true;
	pcache_log_tails(&wb->c->log, &pos);
	if (pos.key_tail.seg == PCACHE_SEG_NONE)
		return false;
	if (gc) {
		wb->ktail = pos.key_tail;
		wb->ktail_seq = pos.key_tail_seq;
	} else {
		wb->pos = pos.dirty_tail;
		/* pairs with GC's acquire: the tail is persisted */
		smp_store_release(&wb->seq, pos.dirty_tail_seq);
	}
	return true;
}

static bool any_dirty(struct pcache_wb *wb, u32 n)
{
	u32 i;

	for (i = 0; i < n; i++)
		if (key_dirty(wb->c, &wb->keys[i]))
			return true;
	return false;
}

/*
 * Write back the kset at the dirty tail.  Return: 1 when data reached the
 * backing device, 0 when the kset needed none, -ENODATA when there is
 * nothing to write back, -EINPROGRESS to wait for writes around the cache,
 * or an error (never one of those two: see pcache_wb_err()).
 */
static int wb_kset(struct pcache_wb *wb)
{
	struct blk_plug plug;
	struct pcache_pos next;
	u32 i, n;
	bool io;
	int ret;

	if (!tails_known(wb, false))
		return -ENODATA;
	next = wb->pos;
	ret = pcache_log_read(&wb->c->log, &wb->pos, wb->seq, wb->ks);
	if (ret == 1) {
		next.seg = le32_to_cpu(wb->ks->next_seg);
		next.off = 0;
		set_dirty_tail(wb, &next, wb->seq + 1);
		return 0;
	}
	if (ret)
		return ret;
	n = decode_keys(wb);
	/* newer data must not overtake a write around the cache */
	if (any_dirty(wb, n) && pcache_bypass_busy(wb->c))
		return -EINPROGRESS;
	batch_reset(wb);
	/* one doorbell for the kset's writes, not one per bio */
	blk_start_plug(&plug);
	for (i = 0; i < n && !ret; i++)
		if (key_dirty(wb->c, &wb->keys[i]))
			ret = write_key(wb, &wb->keys[i]);
	blk_finish_plug(&plug);
	io = wb->issued;
	ret = batch_wait(wb) ?: ret;
	if (!ret && io)
		ret = pcache_wb_err(blkdev_issue_flush(wb->bdev));
	if (ret)
		return ret;
	next.off += pcache_kset_size(n);
	/* clean before GC may pass the kset, or its keys stay in the index */
	mark_clean(wb, n);
	set_dirty_tail(wb, &next, wb->seq + 1);
	WRITE_ONCE(wb->written, wb->written + wb->kset_bytes);
	return io ? 1 : 0;
}

static void wb_failed(struct pcache_wb *wb, int err)
{
	wb->errors++;
	wb->backoff = clamp_t(unsigned long, wb->backoff * 2, WB_BACKOFF_MIN,
			      WB_BACKOFF_MAX);
	if (wb->failing)
		return;
	wb->failing = true;
	if (err == -EUCLEAN)
		pcache_err(wb->c->name, "writeback stopped: invalid kset %llu at the dirty tail",
			   wb->seq);
	else
		pcache_err(wb->c->name, "writeback to the backing device failed (%d): data stays dirty in the cache, retrying",
			   err);
}

static void wb_recovered(struct pcache_wb *wb)
{
	wb->backoff = 0;
	if (!wb->failing)
		return;
	wb->failing = false;
	pcache_info(wb->c->name, "writeback to the backing device works again");
}

/* Should writeback wait for now?  See pcache_wb_hold(). */
static bool wb_held(struct pcache_wb *wb)
{
	struct pcache_cache *c = wb->c;
	bool idle, urgent;

	idle = pcache_wb_look(&wb->quiet, atomic64_read(&c->dirtied),
			      jiffies);
	urgent = atomic_read(&wb->flushers) || pcache_gc_wanted(c) ||
		 time_after_eq(jiffies, wb->clean_at + WB_MAX_HOLD);
	return pcache_wb_hold(atomic64_read(&c->dirty_bytes),
			      (u64)c->sa.count * PCACHE_SEG_SIZE,
			      READ_ONCE(wb->percent), idle, urgent);
}

static void wb_work_fn(struct work_struct *w)
{
	struct pcache_wb *wb = container_of(to_delayed_work(w),
					    struct pcache_wb, wb_work);
	struct pcache_cache *c = wb->c;
	unsigned long delay = 0;
	int i, ret = 0;

	if (wb_held(wb)) {
		if (READ_ONCE(wb->running))
			queue_delayed_work(c->wq, &wb->wb_work, WB_IDLE);
		return;
	}
	for (i = 0; i < WB_KSETS && ret >= 0 && READ_ONCE(wb->running); i++) {
		ret = wb_kset(wb);
		if (ret > 0)
			wb_recovered(wb);
	}
	if (ret == -ENODATA) {
		delay = WB_IDLE;
		wb->clean_at = jiffies;
		/* someone waits for the cache to empty: seal what is open */
		if (wq_has_sleeper(&wb->flush_wait) ||
		    wq_has_sleeper(&c->space_wait)) {
			mod_delayed_work(c->wq, &c->seal_work, 0);
			delay = HZ / 20;
		}
	} else if (ret == -EINPROGRESS) {
		delay = WB_BYPASS_WAIT;
	} else if (ret < 0) {
		wb_failed(wb, ret);
		delay = wb->backoff;
	}
	wake_up_all(&wb->flush_wait);
	if (i > 1 && pcache_gc_wanted(c))
		queue_work(c->wq, &wb->gc_work);
	if (READ_ONCE(wb->running))
		queue_delayed_work(c->wq, &wb->wb_work, delay);
}

/* GC */

/*
 * CLOCK replacement: a clean piece read since it was cached gets a second
 * chance.  GC copies it to a data head instead of evicting it, as long as
 * no writer waits for space and at most half of what the key tail passes
 * is kept, so that every run still frees space.
 */
static bool may_keep(struct pcache_wb *wb, const struct pcache_key_info *p)
{
	struct pcache_cache *c = wb->c;
	u64 bytes = (u64)p->sectors << SECTOR_SHIFT;

	return (p->flags & PCACHE_KEY_HIT) &&
	       !(p->flags & PCACHE_KEY_DIRTY) && bytes <= PCACHE_MOVE_MAX &&
	       (wb->kept + bytes) * 2 <= wb->passed &&
	       READ_ONCE(c->replacement) == PCACHE_REPL_CLOCK &&
	       !wq_has_sleeper(&c->space_wait);
}

/* Move the recently read pieces of @k; the rest is evicted after. */
static void keep_hot(struct pcache_wb *wb, const struct pcache_key_info *k)
{
	struct pcache_subtree *t = pcache_index_tree(&wb->c->idx, k->lba);
	u64 from = k->lba, end = k->lba + k->sectors;
	struct pcache_key_info p;
	bool found;
	int ret;

	while (from < end) {
		spin_lock(&t->lock);
		found = pcache_subtree_next_of(t, from, end, k->seq, &p);
		spin_unlock(&t->lock);
		if (!found)
			return;
		from = max(from + 1, p.lba + p.sectors);
		if (p.seg != k->seg || !may_keep(wb, &p))
			continue;
		ret = pcache_key_move(wb->c, &p, wb->move_buf);
		if (ret == -ENOSPC || ret == -EBUSY)
			return;
		if (!ret)
			wb->kept += (u64)p.sectors << SECTOR_SHIFT;
		cond_resched();
	}
}

static void evict_kset(struct pcache_wb *wb)
{
	struct pcache_cache *c = wb->c;
	u32 i, n = le16_to_cpu(wb->gc_ks->count);
	struct pcache_subtree *t;
	struct pcache_key_info k;

	for (i = 0; i < n; i++) {
		pcache_key_decode(&wb->gc_ks->keys[i], &k);
		if ((k.flags & PCACHE_KEY_TOMBSTONE) || !key_current(c, &k))
			continue;
		if (pcache_key_has_data(&k)) {
			wb->passed += (u64)k.sectors << SECTOR_SHIFT;
			keep_hot(wb, &k);
		}
		t = pcache_index_tree(&c->idx, k.lba);
		spin_lock(&t->lock);
		pcache_subtree_evict(t, k.lba, k.lba + k.sectors, k.seq,
				     pcache_key_has_data(&k) ? k.seg : 0,
				     &c->idx.pool);
		spin_unlock(&t->lock);
	}
}

/* Move the key tail over written-back ksets; returns ksets passed. */
static u32 advance_key_tail(struct pcache_wb *wb)
{
	struct pcache_cache *c = wb->c;
	u32 links[GC_LINKS], nl = 0, i, moved = 0;
	int ret;

	if (!tails_known(wb, true))
		return 0;
	wb->passed = 0;
	wb->kept = 0;
	while (moved < GC_KSETS && nl < GC_LINKS && pcache_gc_wanted(c) &&
	       pcache_seq_after(dirty_seq(wb), wb->ktail_seq)) {
		ret = pcache_log_read(&c->log, &wb->ktail, wb->ktail_seq,
				      wb->gc_ks);
		if (ret < 0)
			break;
		if (ret == 1) {
			links[nl++] = wb->ktail.seg;
			wb->ktail.seg = le32_to_cpu(wb->gc_ks->next_seg);
			wb->ktail.off = 0;
		} else {
			evict_kset(wb);
			wb->ktail.off +=
				pcache_kset_size(le16_to_cpu(wb->gc_ks->count));
		}
		wb->ktail_seq++;
		moved++;
	}
	if (!moved)
		return 0;
	pcache_log_set_key_tail(&c->log, &wb->ktail, wb->ktail_seq);
	for (i = 0; i < nl; i++)
		pcache_segalloc_put(&c->sa, links[i]);
	wb->reclaimed += nl;
	return moved;
}

/*
 * Data segments that are full, written back and no longer indexed.  The
 * index counts its keys per segment, so this is O(segments), not a walk of
 * every key, whose cost would grow with every extent cached.
 */
static u32 pick_candidates(struct pcache_wb *wb)
{
	struct pcache_cache *c = wb->c;
	u64 dirty = dirty_seq(wb);
	struct pcache_seg_rt *rt;
	u32 i, n = 0;

	bitmap_zero(wb->cand, c->sa.count);
	for (i = 0; i < c->sa.count; i++) {
		rt = &c->segrt[i];
		/* pairs with new_head(): a closed segment's pending is final */
		if (smp_load_acquire(&rt->state) != PCACHE_RT_CLOSED ||
		    atomic_read(&rt->pending))
			continue;
		/* pairs with kset_unpin(): wb_seq is set before pending drops */
		smp_rmb();
		if (pcache_seq_after(atomic64_read(&rt->wb_seq), dirty) ||
		    !pcache_index_seg_unused(&c->idx, i))
			continue;
		__set_bit(i, wb->cand);
		n++;
	}
	return n;
}

/*
 * Test builds check the reference counts against the index itself: a
 * candidate that a key still points to would be reclaimed under live data.
 * Nothing can add a key to a candidate, so the walk needs no snapshot.
 */
static void check_unreferenced(struct pcache_wb *wb)
{
	struct pcache_index *idx = &wb->c->idx;
	struct pcache_key *e;
	struct rb_node *n;
	u32 i;

	if (!IS_ENABLED(CONFIG_DM_PCACHE_CRASHPOINT))
		return;
	for (i = 0; i < idx->nr; i++) {
		spin_lock(&idx->trees[i].lock);
		for (n = rb_first(&idx->trees[i].root); n; n = rb_next(n)) {
			e = rb_entry(n, struct pcache_key, node);
			if (!pcache_key_has_data(&e->k) ||
			    !test_bit(e->k.seg, wb->cand))
				continue;
			WARN_ONCE(1, "dm-pcache: segment %u has no references but holds %llu+%u\n",
				  e->k.seg, e->k.lba, e->k.sectors);
			__clear_bit(e->k.seg, wb->cand);
		}
		spin_unlock(&idx->trees[i].lock);
		cond_resched();
	}
}

static u32 reclaim_data(struct pcache_wb *wb)
{
	struct pcache_cache *c = wb->c;
	u32 seg, n = 0;

	if (!pick_candidates(wb))
		return 0;
	check_unreferenced(wb);
	/* read hits that looked up a key before it went are done with it */
	synchronize_srcu(&c->srcu);
	for_each_set_bit(seg, wb->cand, c->sa.count) {
		WRITE_ONCE(c->segrt[seg].state, PCACHE_RT_FREE);
		pcache_segalloc_put(&c->sa, seg);
		n++;
	}
	wb->reclaimed += n;
	return n;
}

static void gc_work_fn(struct work_struct *w)
{
	struct pcache_wb *wb = container_of(w, struct pcache_wb, gc_work);
	struct pcache_cache *c = wb->c;
	u32 moved, freed;

	if (!READ_ONCE(wb->running) || !pcache_gc_wanted(c))
		return;
	moved = advance_key_tail(wb);
	freed = reclaim_data(wb);
	if (!moved && !freed)
		return;
	wake_up_all(&c->space_wait);
	if (pcache_gc_wanted(c))
		queue_work(c->wq, &wb->gc_work);
}

/**
 * pcache_wb_init() - set up writeback and GC of a started cache
 * @wb: zeroed
 * @c: the cache, replayed
 * @bdev: backing device
 *
 * Return: 0 or -ENOMEM.
 */
int pcache_wb_init(struct pcache_wb *wb, struct pcache_cache *c,
		   struct block_device *bdev)
{
	struct pcache_positions pos;
	int i;

	wb->c = c;
	wb->bdev = bdev;
	wb->percent = PCACHE_WB_PERCENT_DEF;
	atomic_set(&wb->flushers, 0);
	pcache_wb_watch(&wb->quiet, atomic64_read(&c->dirtied), jiffies);
	wb->clean_at = jiffies;
	INIT_DELAYED_WORK(&wb->wb_work, wb_work_fn);
	INIT_WORK(&wb->gc_work, gc_work_fn);
	/* a kick before the first resume is ignored: see pcache_wb_stop() */
	disable_delayed_work(&wb->wb_work);
	disable_work(&wb->gc_work);
	init_waitqueue_head(&wb->flush_wait);
	init_completion(&wb->done);
	wb->ks = kmalloc(PCACHE_KSET_MAX_SIZE, GFP_KERNEL);
	wb->gc_ks = kmalloc(PCACHE_KSET_MAX_SIZE, GFP_KERNEL);
	wb->keys = kmalloc_array(PCACHE_KSET_MAX_KEYS, sizeof(*wb->keys),
				 GFP_KERNEL);
	wb->cand = bitmap_zalloc(c->sa.count, GFP_KERNEL);
	wb->move_buf = kmalloc(PCACHE_MOVE_BUF, GFP_KERNEL);
	if (!wb->ks || !wb->gc_ks || !wb->keys || !wb->cand || !wb->move_buf)
		goto nomem;
	for (i = 0; i < PCACHE_WB_PAGES; i++) {
		wb->pages[i] = alloc_page(GFP_KERNEL);
		if (!wb->pages[i])
			goto nomem;
	}
	pcache_log_tails(&c->log, &pos);
	wb->ktail = pos.key_tail;
	wb->ktail_seq = pos.key_tail_seq;
	wb->pos = pos.dirty_tail;
	wb->seq = pos.dirty_tail_seq;
	/* a dirty tail behind the key tail would point at freed segments */
	if (pcache_seq_after(wb->ktail_seq, wb->seq)) {
		wb->pos = wb->ktail;
		wb->seq = wb->ktail_seq;
	}
	c->gc_kick = &wb->gc_work;
	return 0;

nomem:
	pcache_wb_exit(wb);
	return -ENOMEM;
}

/**
 * pcache_wb_exit() - free what pcache_wb_init() took
 * @wb: stopped
 */
void pcache_wb_exit(struct pcache_wb *wb)
{
	int i;

	if (wb->c)
		WRITE_ONCE(wb->c->gc_kick, NULL);
	for (i = 0; i < PCACHE_WB_PAGES; i++)
		if (wb->pages[i])
			__free_page(wb->pages[i]);
	bitmap_free(wb->cand);
	kfree(wb->move_buf);
	kfree(wb->keys);
	kfree(wb->gc_ks);
	kfree(wb->ks);
}

/**
 * pcache_wb_start() - let the workers run
 * @wb: writeback
 */
void pcache_wb_start(struct pcache_wb *wb)
{
	if (READ_ONCE(wb->running))
		return;
	/* the workers are stopped: nothing else touches the watch */
	pcache_wb_watch(&wb->quiet, atomic64_read(&wb->c->dirtied), jiffies);
	enable_delayed_work(&wb->wb_work);
	enable_work(&wb->gc_work);
	WRITE_ONCE(wb->running, true);
	queue_delayed_work(wb->c->wq, &wb->wb_work, 0);
	queue_work(wb->c->wq, &wb->gc_work);
}

/**
 * pcache_wb_stop() - stop the workers and wait for them
 * @wb: writeback
 *
 * Waiters of pcache_wb_flush() are released with an error.  The works are
 * disabled, not only cancelled: a message or a GC kick that saw the
 * workers running just before this may queue them after it, and must
 * not.  Stopping stopped workers does nothing.
 */
void pcache_wb_stop(struct pcache_wb *wb)
{
	if (READ_ONCE(wb->running)) {
		WRITE_ONCE(wb->running, false);
		disable_delayed_work_sync(&wb->wb_work);
		disable_work_sync(&wb->gc_work);
	}
	wake_up_all(&wb->flush_wait);
}

/**
 * pcache_wb_flush() - write back everything written so far
 * @wb: writeback
 *
 * Seals the open ksets and waits until the dirty tail has passed them,
 * i.e. until the backing device holds and has flushed all of it.
 *
 * Return: 0; -EIO if writeback failed meanwhile or a failed seal lost
 * keys (see pcache_cache_sync()); -EINTR if interrupted; -EAGAIN if the
 * device is suspended.
 */
int pcache_wb_flush(struct pcache_wb *wb)
{
	struct pcache_cache *c = wb->c;
	u64 target, errors = READ_ONCE(wb->errors);
	int ret;

	/* suspended: seal only, and leave a loss for the flush that works */
	if (!READ_ONCE(wb->running)) {
		pcache_cache_flush(c);
		return -EAGAIN;
	}
	ret = pcache_cache_sync(c, PCACHE_SYNC_ADMIN);
	if (ret)
		return ret;
	target = pcache_log_head_seq(&c->log);
	if (!READ_ONCE(wb->running))
		return -EAGAIN;
	/* the worker holds off for nobody while a flusher waits */
	atomic_inc(&wb->flushers);
	mod_delayed_work(c->wq, &wb->wb_work, 0);
	ret = wait_event_interruptible(wb->flush_wait,
		!pcache_seq_after(target, dirty_seq(wb)) ||
		READ_ONCE(wb->errors) != errors || !READ_ONCE(wb->running));
	atomic_dec(&wb->flushers);
	if (ret)
		return -EINTR;
	if (!pcache_seq_after(target, dirty_seq(wb)))
		return 0;
	return READ_ONCE(wb->running) ? -EIO : -EAGAIN;
}

/**
 * pcache_wb_set_percent() - change writeback_percent
 * @wb: writeback
 * @percent: 0 to PCACHE_WB_PERCENT_MAX; 0 writes back at once
 *
 * The worker looks again now, so that a lower value takes effect at once.
 */
void pcache_wb_set_percent(struct pcache_wb *wb, u32 percent)
{
	WRITE_ONCE(wb->percent, percent);
	if (READ_ONCE(wb->running))
		mod_delayed_work(wb->c->wq, &wb->wb_work, 0);
}
