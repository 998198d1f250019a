// SPDX-License-Identifier: GPL-2.0
/*
 * dm-pcache: a persistent-memory cache in front of a block device.
 *
 * This file is the device-mapper glue: the table line, status, messages and
 * the map callback.  It owns the two devices and hands the cache device's
 * DAX mapping to the metadata layer below.
 *
 * Table line:
 *   pcache <cache_dev> <backing_dev> [<#opt_args> <opt> <value> ...]
 * with the options cache_mode writeback|writethrough|writearound|writeonly,
 * data_crc true|false, gc_percent N, sequential_cutoff SIZE,
 * replacement clock|fifo, writeback_percent N.
 */
#include <linux/blkdev.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string_choices.h>

#include "pcache.h"
#include "pmem.h"
#include "seqcut.h"
#include "super.h"
#include "writeback.h"

/**
 * struct pcache_args - what the table line asked for
 * @cache_path: cache device argument
 * @backing_path: backing device argument
 * @set: requested settings (defaults where not given)
 * @seq_cutoff: sequential_cutoff in bytes, 0 for none
 * @repl: replacement policy, PCACHE_REPL_*
 * @wb_percent: writeback_percent
 * @crc_given: data_crc was on the table line
 * @gc_given: gc_percent was on the table line
 * @mode_given: cache_mode was on the table line
 */
struct pcache_args {
	const char *cache_path;
	const char *backing_path;
	struct pcache_settings set;
	u64 seq_cutoff;
	int repl;
	u32 wb_percent;
	bool crc_given;
	bool gc_given;
	bool mode_given;
	bool cutoff_given;
	bool repl_given;
	bool wbp_given;
};

/**
 * struct pcache_dev - a loaded cache, shared by the tables that use it
 * @list: in pcache_devs
 * @users: tables holding it (a reload briefly has two)
 * @md: the mapped device whose tables use it
 * @cache_dev: the cache device's number
 * @backing_dev: the backing device's number
 * @len: sectors cached
 * @pm: DAX mapping of the cache device
 * @super: loaded metadata
 * @engine: the cache engine
 * @wb: writeback and GC
 * @lock: serialises metadata updates from messages and status
 * @name: device name for messages
 */
struct pcache_dev {
	struct list_head list;
	int users;
	struct mapped_device *md;
	dev_t cache_dev;
	dev_t backing_dev;
	sector_t len;
	struct pcache_pmem pm;
	struct pcache_super super;
	struct pcache_cache engine;
	struct pcache_wb wb;
	struct mutex lock;
	char name[32];
};

/**
 * struct pcache_target - one pcache table
 * @ti: the DM target
 * @cache: the persistent-memory cache device
 * @backing: the backing device
 * @d: the loaded cache
 * @mode: cache mode of this table, applied when it is resumed
 * @seq_cutoff: sequential streams longer than this many bytes bypass the
 *		cache (0: none)
 * @seq: per-CPU sequential stream detection
 * @repl: replacement policy of this table, applied when it is resumed
 * @wb_percent: writeback_percent of this table, applied when it is resumed
 */
struct pcache_target {
	struct dm_target *ti;
	struct dm_dev *cache;
	struct dm_dev *backing;
	struct pcache_dev *d;
	u32 mode;
	u64 seq_cutoff;
	struct pcache_seq_cpu __percpu *seq;
	int repl;
	u32 wb_percent;
};

/* Loaded caches, so that a cache device is never loaded twice */
static LIST_HEAD(pcache_devs);
static DEFINE_MUTEX(pcache_devs_lock);

/**
 * struct pcache_io - per-bio state of a bio that completes on the backing
 *		      device: a read miss, or a write around the cache
 * @pc: the target
 * @iter: the bio's range as mapped (completion consumes the bio's own)
 * @lba: first sector
 * @fill_seq: from pcache_fill_begin() (reads)
 * @bgen: bypass generation when the bio was mapped
 * @work: copies the data into the cache after the backing I/O completed
 * @fill: copy the data into the cache on success
 * @bypass: a write around the cache (writethrough, writearound, or past
 *	    sequential_cutoff)
 * @through: a writethrough write: fill with a sequence taken on completion
 */
struct pcache_io {
	struct pcache_target *pc;
	struct bvec_iter iter;
	u64 lba;
	u64 fill_seq;
	u64 bgen;
	struct work_struct work;
	bool fill;
	bool bypass;
	bool through;
};

/*
 * ti->error must outlive the constructor that fails, until dm-table prints
 * it, yet should name the bad word.  A small ring of static buffers gives
 * each failing constructor its own text; it holds nothing but error text.
 */
#define ERR_RING	8
#define ERR_LEN		PCACHE_SUPER_ERR_LEN

static char err_ring[ERR_RING][ERR_LEN];
static atomic_t err_next = ATOMIC_INIT(0);

/* Index keys of every pcache device */
static struct kmem_cache *pcache_key_cache;

static __printf(2, 3) void set_error(struct dm_target *ti, const char *fmt,
				     ...)
{
	char *buf = err_ring[atomic_inc_return(&err_next) % ERR_RING];
	va_list args;

	va_start(args, fmt);
	vsnprintf(buf, ERR_LEN, fmt, args);
	va_end(args);
	ti->error = buf;
}

static const char * const mode_names[] = {
	[PCACHE_MODE_WRITEBACK] = "writeback",
	[PCACHE_MODE_WRITETHROUGH] = "writethrough",
	[PCACHE_MODE_WRITEAROUND] = "writearound",
	[PCACHE_MODE_WRITEONLY] = "writeonly",
};

static const char *mode_name(u32 mode)
{
	return mode < ARRAY_SIZE(mode_names) ? mode_names[mode] : "unknown";
}

/* Modes that keep data the backing device does not have */
static bool mode_dirty(u32 mode)
{
	return mode == PCACHE_MODE_WRITEBACK || mode == PCACHE_MODE_WRITEONLY;
}

static int parse_mode(struct dm_target *ti, struct pcache_args *a,
		      const char *val)
{
	u32 i;

	for (i = 0; i < ARRAY_SIZE(mode_names); i++) {
		if (!strcmp(val, mode_names[i])) {
			a->set.cache_mode = i;
			a->mode_given = true;
			return 0;
		}
	}
	set_error(ti, "Unsupported cache_mode '%s' (writeback, writethrough, writearound or writeonly)",
		  val);
	return -EINVAL;
}

static int parse_crc(struct dm_target *ti, struct pcache_args *a,
		     const char *val)
{
	if (!strcmp(val, "true")) {
		a->set.data_crc = true;
	} else if (!strcmp(val, "false")) {
		a->set.data_crc = false;
	} else {
		set_error(ti, "Invalid data_crc value '%s' (true or false)", val);
		return -EINVAL;
	}
	a->crc_given = true;
	return 0;
}

static int parse_percent(const char *val, u32 max, u32 *out)
{
	u32 v;

	if (kstrtou32(val, 10, &v) || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_gc_percent_value(const char *val, u32 *out)
{
	return parse_percent(val, PCACHE_GC_PERCENT_MAX, out);
}

static int parse_gc(struct dm_target *ti, struct pcache_args *a,
		    const char *val)
{
	if (parse_gc_percent_value(val, &a->set.gc_percent)) {
		set_error(ti, "Invalid gc_percent '%s' (0 to %u)", val,
			  PCACHE_GC_PERCENT_MAX);
		return -EINVAL;
	}
	a->gc_given = true;
	return 0;
}

#define PCACHE_CUTOFF_MAX	(1ULL << 40)

static int parse_cutoff_value(const char *val, u64 *out)
{
	char *end;
	u64 v;

	if (!*val || *val == '-')
		return -EINVAL;
	v = memparse(val, &end);
	if (*end || v > PCACHE_CUTOFF_MAX)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_cutoff(struct dm_target *ti, struct pcache_args *a,
			const char *val)
{
	if (parse_cutoff_value(val, &a->seq_cutoff)) {
		set_error(ti, "Invalid sequential_cutoff '%s' (bytes, K/M/G suffix, 0 for none, at most 1T)",
			  val);
		return -EINVAL;
	}
	a->cutoff_given = true;
	return 0;
}

static const char * const repl_names[] = {
	[PCACHE_REPL_FIFO] = "fifo",
	[PCACHE_REPL_CLOCK] = "clock",
};

static int parse_repl_value(const char *val, int *out)
{
	int i = match_string(repl_names, ARRAY_SIZE(repl_names), val);

	if (i < 0)
		return -EINVAL;
	*out = i;
	return 0;
}

static int parse_repl(struct dm_target *ti, struct pcache_args *a,
		      const char *val)
{
	if (parse_repl_value(val, &a->repl)) {
		set_error(ti, "Invalid replacement '%s' (clock or fifo)", val);
		return -EINVAL;
	}
	a->repl_given = true;
	return 0;
}

static int parse_wbp_value(const char *val, u32 *out)
{
	return parse_percent(val, PCACHE_WB_PERCENT_MAX, out);
}

static int parse_wbp(struct dm_target *ti, struct pcache_args *a,
		     const char *val)
{
	if (parse_wbp_value(val, &a->wb_percent)) {
		set_error(ti, "Invalid writeback_percent '%s' (0 to %u)", val,
			  PCACHE_WB_PERCENT_MAX);
		return -EINVAL;
	}
	a->wbp_given = true;
	return 0;
}

static const struct {
	const char *name;
	int (*parse)(struct dm_target *ti, struct pcache_args *a,
		     const char *val);
	size_t given;
} pcache_opts[] = {
	{ "cache_mode", parse_mode, offsetof(struct pcache_args, mode_given) },
	{ "data_crc", parse_crc, offsetof(struct pcache_args, crc_given) },
	{ "gc_percent", parse_gc, offsetof(struct pcache_args, gc_given) },
	{ "sequential_cutoff", parse_cutoff,
	  offsetof(struct pcache_args, cutoff_given) },
	{ "replacement", parse_repl, offsetof(struct pcache_args, repl_given) },
	{ "writeback_percent", parse_wbp,
	  offsetof(struct pcache_args, wbp_given) },
};

static int parse_opt(struct dm_target *ti, struct pcache_args *a,
		     const char *key, const char *val)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(pcache_opts); i++) {
		if (strcmp(key, pcache_opts[i].name))
			continue;
		if (*(bool *)((char *)a + pcache_opts[i].given)) {
			set_error(ti, "Optional argument '%s' given twice", key);
			return -EINVAL;
		}
		return pcache_opts[i].parse(ti, a, val);
	}
	set_error(ti, "Unknown optional argument '%s'", key);
	return -EINVAL;
}

static int parse_opts(struct dm_target *ti, struct pcache_args *a,
		      unsigned int argc, char **argv)
{
	unsigned int n, i;
	int ret;

	if (!argc)
		return 0;
	if (kstrtouint(argv[0], 10, &n)) {
		set_error(ti, "Invalid number of optional arguments '%s'",
			  argv[0]);
		return -EINVAL;
	}
	if (n != argc - 1) {
		set_error(ti, "Number of optional arguments is %u but %u follow",
			  n, argc - 1);
		return -EINVAL;
	}
	if (n % 2) {
		set_error(ti, "Optional arguments come in pairs, got %u words",
			  n);
		return -EINVAL;
	}
	for (i = 1; i < argc; i += 2) {
		ret = parse_opt(ti, a, argv[i], argv[i + 1]);
		if (ret)
			return ret;
	}
	return 0;
}

static int parse_table(struct dm_target *ti, struct pcache_args *a,
		      unsigned int argc, char **argv)
{
	memset(a, 0, sizeof(*a));
	a->set.cache_mode = PCACHE_MODE_WRITEBACK;
	a->set.gc_percent = PCACHE_GC_PERCENT_DEF;
	a->repl = PCACHE_REPL_CLOCK;
	a->wb_percent = PCACHE_WB_PERCENT_DEF;
	if (argc < 2) {
		set_error(ti, "Not enough arguments: need <cache_dev> <backing_dev>");
		return -EINVAL;
	}
	a->cache_path = argv[0];
	a->backing_path = argv[1];
	return parse_opts(ti, a, argc - 2, argv + 2);
}

static int open_devices(struct pcache_target *pc, const struct pcache_args *a)
{
	struct dm_target *ti = pc->ti;
	blk_mode_t mode = dm_table_get_mode(ti->table);
	int ret;

	ret = dm_get_device(ti, a->cache_path, mode, &pc->cache);
	if (ret) {
		set_error(ti, "Cannot open cache device '%s'", a->cache_path);
		return ret;
	}
	ret = dm_get_device(ti, a->backing_path, mode, &pc->backing);
	if (ret) {
		set_error(ti, "Cannot open backing device '%s'",
			  a->backing_path);
		return ret;
	}
	if (pc->cache->bdev == pc->backing->bdev) {
		set_error(ti, "Cache device '%s' and backing device '%s' are the same device",
			  a->cache_path, a->backing_path);
		return -EINVAL;
	}
	return 0;
}

static int check_devices(struct pcache_target *pc, const struct pcache_args *a)
{
	struct dm_target *ti = pc->ti;
	sector_t backing = bdev_nr_sectors(pc->backing->bdev);
	struct pcache_geometry geo;
	u64 size = bdev_nr_bytes(pc->cache->bdev);

	if (ti->len > backing) {
		set_error(ti, "Target length %llu sectors exceeds backing device '%s' (%llu sectors)",
			  (u64)ti->len, a->backing_path, (u64)backing);
		return -EINVAL;
	}
	if (!pc->cache->dax_dev) {
		set_error(ti, "Cache device '%s' does not support DAX (use an fsdax pmem namespace)",
			  a->cache_path);
		return -EOPNOTSUPP;
	}
	if (pcache_geometry_compute(size, &geo)) {
		set_error(ti, "Cache device '%s' is too small (%llu MiB; at least %llu MiB needed)",
			  a->cache_path, size >> 20,
			  (PCACHE_SEGS_MIN + 1) * PCACHE_SEG_SIZE >> 20);
		return -ENOSPC;
	}
	return 0;
}

/* Settings on the table line versus the ones the cache was made with. */
static int reconcile(struct dm_target *ti, struct pcache_dev *d,
		     const struct pcache_args *a)
{
	struct pcache_settings set = d->super.set;

	if (a->crc_given && a->set.data_crc != set.data_crc) {
		set_error(ti, "Table asks for data_crc %s but the cache was formatted with data_crc %s",
			  str_true_false(a->set.data_crc),
			  str_true_false(set.data_crc));
		return -EINVAL;
	}
	if (a->mode_given && a->set.cache_mode != set.cache_mode)
		pcache_info(d->name, "cache mode changes from %s to %s on resume",
			    mode_name(set.cache_mode),
			    mode_name(a->set.cache_mode));
	if (a->gc_given && a->set.gc_percent != set.gc_percent) {
		set.gc_percent = a->set.gc_percent;
		mutex_lock(&d->lock);
		pcache_super_set_settings(&d->super, &set);
		mutex_unlock(&d->lock);
	}
	return 0;
}

static int start_engine(struct pcache_target *pc, struct pcache_dev *d,
			const struct pcache_args *a)
{
	int ret;

	ret = pcache_cache_start(&d->engine, d->name, &d->pm, &d->super,
				 d->len, pcache_key_cache);
	if (ret) {
		set_error(pc->ti, "Cannot start the cache on '%s' (%s)",
			  a->cache_path, ret == -ENOMEM ? "out of memory" :
			  "journal replay failed, see the log");
		return ret;
	}
	ret = pcache_wb_init(&d->wb, &d->engine, pc->backing->bdev);
	if (ret) {
		set_error(pc->ti, "Cannot start writeback (out of memory)");
		pcache_cache_stop(&d->engine);
	}
	return ret;
}

static int load_cache(struct pcache_target *pc, struct pcache_dev *d,
		      const struct pcache_args *a)
{
	char *err = err_ring[atomic_inc_return(&err_next) % ERR_RING];
	const char *why = "";
	int ret;

	ret = pcache_pmem_map(&d->pm, pc->cache->dax_dev, pc->cache->bdev,
			      bdev_nr_bytes(pc->cache->bdev) & PAGE_MASK, &why);
	if (ret) {
		set_error(pc->ti, "Cannot map cache device '%s': %s",
			  a->cache_path, why);
		return ret;
	}
	ret = pcache_super_open(&d->super, d->name, &d->pm, &a->set, err);
	if (ret) {
		pc->ti->error = err;
		goto out_unmap;
	}
	ret = reconcile(pc->ti, d, a);
	if (!ret)
		ret = start_engine(pc, d, a);
	if (ret)
		goto out_close;
	return 0;

out_close:
	pcache_super_close(&d->super);
out_unmap:
	pcache_pmem_unmap(&d->pm);
	return ret;
}

static struct pcache_dev *find_dev(dev_t cache)
{
	struct pcache_dev *d;

	list_for_each_entry(d, &pcache_devs, list)
		if (d->cache_dev == cache)
			return d;
	return NULL;
}

/* A reload that keeps the devices shares the loaded cache. */
static int share_cache(struct pcache_target *pc, struct pcache_dev *d,
		       const struct pcache_args *a)
{
	struct dm_target *ti = pc->ti;

	if (d->md != dm_table_get_md(ti->table)) {
		set_error(ti, "Cache device '%s' is in use by pcache device %s",
			  a->cache_path, d->name);
		return -EBUSY;
	}
	if (d->backing_dev != pc->backing->bdev->bd_dev) {
		set_error(ti, "Cache device '%s' is in use by pcache device %s with another backing device",
			  a->cache_path, d->name);
		return -EBUSY;
	}
	if (d->len != ti->len) {
		set_error(ti, "Cache device '%s' is loaded for %llu sectors; a reload cannot change the length (remove and create instead)",
			  a->cache_path, (u64)d->len);
		return -EINVAL;
	}
	return reconcile(ti, d, a);
}

static int get_cache(struct pcache_target *pc, const struct pcache_args *a)
{
	dev_t cache = pc->cache->bdev->bd_dev;
	struct pcache_dev *d;
	int ret;

	mutex_lock(&pcache_devs_lock);
	d = find_dev(cache);
	if (d) {
		ret = share_cache(pc, d, a);
		if (!ret)
			d->users++;
		goto out;
	}
	ret = -ENOMEM;
	d = kzalloc_obj(*d);
	if (!d) {
		pc->ti->error = "Cannot allocate the pcache device";
		goto out;
	}
	mutex_init(&d->lock);
	d->md = dm_table_get_md(pc->ti->table);
	d->cache_dev = cache;
	d->backing_dev = pc->backing->bdev->bd_dev;
	d->len = pc->ti->len;
	strscpy(d->name, dm_table_device_name(pc->ti->table), sizeof(d->name));
	ret = load_cache(pc, d, a);
	if (ret) {
		mutex_destroy(&d->lock);
		kfree(d);
		goto out;
	}
	d->users = 1;
	list_add(&d->list, &pcache_devs);
out:
	if (!ret)
		pc->d = d;
	mutex_unlock(&pcache_devs_lock);
	return ret;
}

/*
 * The last user tears down under the registry lock: a create of the same
 * cache device must not load it before the last seal is written.
 */
static void put_cache(struct pcache_dev *d)
{
	mutex_lock(&pcache_devs_lock);
	if (--d->users)
		goto out;
	list_del(&d->list);
	pcache_wb_stop(&d->wb);
	pcache_wb_exit(&d->wb);
	pcache_cache_stop(&d->engine);
	pcache_super_close(&d->super);
	pcache_pmem_unmap(&d->pm);
	mutex_destroy(&d->lock);
	kfree(d);
out:
	mutex_unlock(&pcache_devs_lock);
}

static void put_devices(struct pcache_target *pc)
{
	if (pc->backing)
		dm_put_device(pc->ti, pc->backing);
	if (pc->cache)
		dm_put_device(pc->ti, pc->cache);
}

static int pcache_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct pcache_target *pc;
	struct pcache_args a;
	int ret;

	ret = parse_table(ti, &a, argc, argv);
	if (ret)
		return ret;
	pc = kzalloc_obj(*pc);
	if (!pc) {
		ti->error = "Cannot allocate the pcache target";
		return -ENOMEM;
	}
	pc->ti = ti;
	pc->seq_cutoff = a.seq_cutoff;
	pc->repl = a.repl;
	pc->wb_percent = a.wb_percent;
	pc->seq = alloc_percpu(struct pcache_seq_cpu);
	if (!pc->seq) {
		ti->error = "Cannot allocate the pcache target";
		ret = -ENOMEM;
		goto out_put;
	}
	ret = open_devices(pc, &a);
	if (!ret)
		ret = check_devices(pc, &a);
	if (!ret)
		ret = get_cache(pc, &a);
	if (ret)
		goto out_put;
	/* a bio never spans two index stripes, so it makes a single key */
	ret = dm_set_target_max_io_len(ti, PCACHE_STRIPE_SECTORS);
	if (ret)
		goto out_cache;
	pc->mode = a.mode_given ? a.set.cache_mode : pc->d->super.set.cache_mode;
	ti->private = pc;
	ti->per_io_data_size = sizeof(struct pcache_io);
	ti->num_flush_bios = 1;
	ti->flush_supported = true;
	/* the cache takes discards whether or not the backing device does */
	ti->num_discard_bios = 1;
	ti->discards_supported = true;
	ti->num_write_zeroes_bios = 1;
	return 0;

out_cache:
	put_cache(pc->d);
out_put:
	put_devices(pc);
	free_percpu(pc->seq);
	kfree(pc);
	return ret;
}

static void pcache_dtr(struct dm_target *ti)
{
	struct pcache_target *pc = ti->private;

	put_cache(pc->d);
	put_devices(pc);
	free_percpu(pc->seq);
	kfree(pc);
}

static int remap(struct pcache_target *pc, struct bio *bio)
{
	bio_set_dev(bio, pc->backing->bdev);
	bio->bi_iter.bi_sector = dm_target_offset(pc->ti, bio->bi_iter.bi_sector);
	return DM_MAPIO_REMAPPED;
}

/*
 * After a simulated power loss (CONFIG_DM_PCACHE_CRASHPOINT) nothing may be
 * acknowledged any more: its stores were dropped.
 */
static int end_bio(struct bio *bio, int err)
{
	if (pcache_pmem_crashed())
		err = -EIO;
	bio->bi_status = errno_to_blk_status(err);
	bio_endio(bio);
	return DM_MAPIO_SUBMITTED;
}

static struct pcache_io *bio_io(struct bio *bio)
{
	return dm_per_bio_data(bio, sizeof(struct pcache_io));
}

/* Is @bio part of a sequential stream past the cutoff? */
static bool seq_bypass(struct pcache_target *pc, struct bio *bio)
{
	u64 cutoff = READ_ONCE(pc->seq_cutoff), bytes;

	if (!cutoff)
		return false;
	bytes = pcache_seq_note(get_cpu_ptr(pc->seq), bio->bi_iter.bi_sector,
				bio->bi_iter.bi_size, jiffies);
	put_cpu_ptr(pc->seq);
	return bytes > cutoff;
}

/*
 * The cached copy is forgotten and the write counted in flight (@bgen,
 * from pcache_bypass_start()): the backing device gets it.
 */
static int remap_around(struct pcache_target *pc, struct bio *bio, u64 lba,
			bool through, u64 bgen)
{
	struct pcache_io *io = bio_io(bio);

	io->pc = pc;
	io->lba = lba;
	io->through = through;
	io->fill = through;
	io->bypass = true;
	io->bgen = bgen;
	remap(pc, bio);
	io->iter = bio->bi_iter;
	return DM_MAPIO_REMAPPED;
}

/* writethrough, writearound: the backing device gets the write */
static int map_write_around(struct pcache_target *pc, struct bio *bio,
			    bool through)
{
	u64 lba = dm_target_offset(pc->ti, bio->bi_iter.bi_sector);

	if (pcache_write_invalidate(&pc->d->engine, lba, bio_sectors(bio),
				    bio->bi_opf & REQ_FUA, false))
		return end_bio(bio, -EIO);
	return remap_around(pc, bio, lba, through,
			    pcache_bypass_start(&pc->d->engine));
}

static int map_write(struct pcache_target *pc, struct bio *bio)
{
	struct pcache_cache *c = &pc->d->engine;
	u64 lba = dm_target_offset(pc->ti, bio->bi_iter.bi_sector);
	bool fua = bio->bi_opf & REQ_FUA;
	struct pcache_wres r;
	int ret;

	pcache_write_reserve(c, bio_sectors(bio), &r);
	if (r.sectors < bio_sectors(bio))
		dm_accept_partial_bio(bio, r.sectors);
	ret = pcache_write_commit(c, bio, lba, &r, fua);
	return end_bio(bio, ret ? -EIO : 0);
}

/*
 * A sequential write around a clean cache in writeback or writeonly mode.
 * It counts itself in flight from before its tombstone until it is on the
 * backing device, or until it turns to the cache (see
 * pcache_bypass_busy()): writeback waits for it, and never while it may
 * wait for space.  A write cached from another CPU since the first look
 * stays: the tombstone is refused where the index holds dirty data, for a
 * hole there would have writeback leave that data out, and a power cut
 * would then bring it back from the journal as clean data the backing
 * device never got.  This write is then cached instead, as it is if the
 * cache turned dirty anywhere meanwhile (the journal order of the backing
 * device).
 */
static int map_bypass(struct pcache_target *pc, struct bio *bio)
{
	struct pcache_cache *c = &pc->d->engine;
	u64 lba = dm_target_offset(pc->ti, bio->bi_iter.bi_sector);
	u64 bgen;
	int ret;

	pcache_debug_stall(PCACHE_STALL_BYPASS);
	bgen = pcache_bypass_start(c);
	ret = pcache_write_invalidate(c, lba, bio_sectors(bio),
				      bio->bi_opf & REQ_FUA, true);
	/* if_clean refuses with -EBUSY only: caching is always correct */
	if (ret || !pcache_all_clean(c)) {
		pcache_bypass_end(c);
		return map_write(pc, bio);
	}
	pcache_count_bypass(c, bio->bi_iter.bi_size);
	pcache_debug_stall(PCACHE_STALL_REMAP);
	return remap_around(pc, bio, lba, false, bgen);
}


static void fill_work(struct work_struct *w)
{
	struct pcache_io *io = container_of(w, struct pcache_io, work);
	struct bio *bio = dm_bio_from_per_bio_data(io, sizeof(*io));
	struct pcache_cache *c = &io->pc->d->engine;
	bool own = io->through;

	/* a write around the cache may have made what was read stale */
	if (!pcache_bypass_since(c, io->bgen, own ? 2 : 0))
		pcache_read_fill(c, bio, io->iter, io->lba,
				 own ? pcache_fill_begin(c) : io->fill_seq);
	bio_endio(bio);
}

/* A hit is served here; -EAGAIN: read the backing device. */
static int read_hit(struct pcache_target *pc, struct bio *bio, u64 lba,
		    u64 *fill_seq)
{
	struct pcache_cache *c = &pc->d->engine;
	struct pcache_key_info hit;
	int ret = -EAGAIN, idx;
	bool cached;
	u32 run;

	idx = pcache_read_lock(c);
	*fill_seq = pcache_fill_begin(c);
	cached = pcache_read_lookup(c, lba, bio_sectors(bio), &hit, &run);
	if (run < bio_sectors(bio))
		dm_accept_partial_bio(bio, run);
	if (cached) {
		ret = pcache_read_copy(c, bio, lba, &hit);
		if (ret == -EAGAIN)
			*fill_seq = pcache_fill_begin(c);
	}
	pcache_read_unlock(c, idx);
	return ret;
}

static int map_read(struct pcache_target *pc, struct bio *bio)
{
	struct pcache_io *io = bio_io(bio);
	u64 lba = dm_target_offset(pc->ti, bio->bi_iter.bi_sector);
	bool seq = seq_bypass(pc, bio);
	u64 fill_seq;
	int ret;

	ret = read_hit(pc, bio, lba, &fill_seq);
	if (ret != -EAGAIN)
		return end_bio(bio, ret);
	io->pc = pc;
	io->lba = lba;
	io->fill_seq = fill_seq;
	if (seq)
		pcache_count_bypass(&pc->d->engine, bio->bi_iter.bi_size);
	io->fill = !seq && READ_ONCE(pc->d->super.set.cache_mode) !=
		   PCACHE_MODE_WRITEONLY &&
		   pcache_bypass_idle(&pc->d->engine, &io->bgen);
	remap(pc, bio);
	io->iter = bio->bi_iter;
	return DM_MAPIO_REMAPPED;
}

/*
 * A sequential stream past the cutoff is not cached.  In the modes that
 * keep dirty data it goes around the cache only while nothing is dirty:
 * reaching the backing device ahead of older dirty data would break the
 * journal order that keeps the backing device consistent on its own.
 */
static int map_any_write(struct pcache_target *pc, struct bio *bio)
{
	struct pcache_cache *c = &pc->d->engine;
	bool seq = seq_bypass(pc, bio);

	switch (READ_ONCE(pc->d->super.set.cache_mode)) {
	case PCACHE_MODE_WRITETHROUGH:
		if (seq)
			pcache_count_bypass(c, bio->bi_iter.bi_size);
		return map_write_around(pc, bio, !seq);
	case PCACHE_MODE_WRITEAROUND:
		return map_write_around(pc, bio, false);
	default:
		if (seq && pcache_all_clean(c))
			return map_bypass(pc, bio);
		return map_write(pc, bio);
	}
}

/*
 * Discard and write-zeroes.  Where the cache may hold dirty data they
 * become a zero key that writeback applies in journal order; otherwise the
 * cached copy is forgotten and the bio goes to the backing device.
 */
static int map_zeroes(struct pcache_target *pc, struct bio *bio)
{
	struct pcache_cache *c = &pc->d->engine;
	u64 lba = dm_target_offset(pc->ti, bio->bi_iter.bi_sector);
	bool discard = bio_op(bio) == REQ_OP_DISCARD;
	u32 mode = READ_ONCE(pc->d->super.set.cache_mode);

	if (mode_dirty(mode))
		return end_bio(bio, pcache_write_zeroes(c, lba, bio_sectors(bio),
					discard, bio->bi_opf & REQ_FUA) ?
				    -EIO : 0);
	if (discard && !bdev_max_discard_sectors(pc->backing->bdev))
		return end_bio(bio, pcache_write_invalidate(c, lba,
					bio_sectors(bio), false, false) ?
				    -EIO : 0);
	return map_write_around(pc, bio, false);
}

static int pcache_map(struct dm_target *ti, struct bio *bio)
{
	struct pcache_target *pc = ti->private;

	bio_io(bio)->fill = false;
	bio_io(bio)->bypass = false;
	bio_io(bio)->through = false;
	if (bio->bi_opf & REQ_PREFLUSH) {
		if (pcache_cache_preflush(&pc->d->engine))
			return end_bio(bio, -EIO);
		if (!bio_sectors(bio))
			return remap(pc, bio);
	}
	if (!bio_sectors(bio))
		return remap(pc, bio);
	switch (bio_op(bio)) {
	case REQ_OP_READ:
		return map_read(pc, bio);
	case REQ_OP_WRITE:
		return map_any_write(pc, bio);
	case REQ_OP_DISCARD:
	case REQ_OP_WRITE_ZEROES:
		return map_zeroes(pc, bio);
	default:
		return end_bio(bio, -EOPNOTSUPP);
	}
}

static int pcache_end_io(struct dm_target *ti, struct bio *bio,
			 blk_status_t *status)
{
	struct pcache_io *io = bio_io(bio);

	if (pcache_pmem_crashed())
		*status = BLK_STS_IOERR;
	if (io->bypass) {
		io->bypass = false;
		pcache_bypass_end(&io->pc->d->engine);
	}
	if (!io->fill || *status != BLK_STS_OK)
		return DM_ENDIO_DONE;
	io->fill = false;
	INIT_WORK(&io->work, fill_work);
	queue_work(io->pc->d->engine.wq, &io->work);
	return DM_ENDIO_INCOMPLETE;
}

/*
 * Writes that wait for free space need writeback and GC to go on, so the
 * workers keep running until DM has drained the I/O; presuspend only seals
 * the open ksets, so that writeback can take everything.
 */
static void pcache_presuspend(struct dm_target *ti)
{
	struct pcache_target *pc = ti->private;

	pcache_cache_flush(&pc->d->engine);
}

static void pcache_postsuspend(struct dm_target *ti)
{
	struct pcache_target *pc = ti->private;

	pcache_wb_stop(&pc->d->wb);
	pcache_cache_flush(&pc->d->engine);
}

/*
 * A table with another cache mode takes over here.  Leaving a mode that
 * keeps dirty data first writes all of it back, so that from then on the
 * backing device is complete; the resume waits for it (dirty_bytes in the
 * status line shows the progress) and fails if writeback fails.
 */
static int pcache_preresume(struct dm_target *ti)
{
	struct pcache_target *pc = ti->private;
	struct pcache_dev *d = pc->d;
	struct pcache_settings set;
	u32 old = d->super.set.cache_mode;
	int ret;

	if (pc->mode == old)
		return 0;
	if (mode_dirty(old) && !mode_dirty(pc->mode)) {
		pcache_info(d->name, "writing back all dirty data before leaving %s",
			    mode_name(old));
		pcache_wb_start(&d->wb);
		ret = pcache_wb_flush(&d->wb);
		pcache_wb_stop(&d->wb);
		if (ret) {
			pcache_err(d->name, "cannot leave %s: writeback failed or cached writes were lost (%d)",
				   mode_name(old), ret);
			return ret;
		}
	}
	mutex_lock(&d->lock);
	set = d->super.set;
	set.cache_mode = pc->mode;
	pcache_super_set_settings(&d->super, &set);
	mutex_unlock(&d->lock);
	pcache_info(d->name, "cache mode is now %s", mode_name(pc->mode));
	return 0;
}

/* Writeback is held back only in the modes that keep dirty data. */
static void apply_wb_percent(struct pcache_target *pc)
{
	struct pcache_dev *d = pc->d;
	u32 mode = READ_ONCE(d->super.set.cache_mode);

	pcache_wb_set_percent(&d->wb, mode_dirty(mode) ?
			      READ_ONCE(pc->wb_percent) : 0);
}

static void pcache_resume(struct dm_target *ti)
{
	struct pcache_target *pc = ti->private;

	WRITE_ONCE(pc->d->engine.replacement, READ_ONCE(pc->repl));
	pcache_wb_start(&pc->d->wb);
	apply_wb_percent(pc);
}

static void emit_pos(char *result, unsigned int maxlen, unsigned int *szp,
		     const struct pcache_pos *p)
{
	unsigned int sz = *szp;

	if (p->seg == PCACHE_SEG_NONE)
		DMEMIT(" 0:0");
	else
		DMEMIT(" %u:%u", p->seg, p->off);
	*szp = sz;
}

static const char *wb_state(const struct pcache_wb *wb)
{
	if (!READ_ONCE(wb->running))
		return "suspended";
	return READ_ONCE(wb->failing) ? "failing" : "active";
}

static void status_info(struct pcache_dev *d, char *result,
			unsigned int maxlen, unsigned int *szp)
{
	const struct pcache_super *s = &d->super;
	unsigned int sz = *szp;
	struct pcache_stats st;

	DMEMIT("%x %llu %u %u %u %x", 0,
	       (u64)(d->pm.size / PCACHE_SEG_SIZE), s->geo.seg_count,
	       pcache_segalloc_used(&d->engine.sa), s->set.gc_percent,
	       s->set.data_crc ? PCACHE_INFO_DATA_CRC : 0);
	emit_pos(result, maxlen, &sz, &d->engine.log.head);
	emit_pos(result, maxlen, &sz, &s->pos.dirty_tail);
	emit_pos(result, maxlen, &sz, &s->pos.key_tail);
	DMEMIT(" %s %s", mode_name(s->set.cache_mode),
	       str_true_false(s->set.data_crc));
	pcache_stats_sum(&d->engine, &st);
	DMEMIT(" %llu %llu %llu %llu %llu %llu %llu %llu %llu",
	       st.read_hits, st.read_misses, st.read_partial, st.write_hits,
	       st.cache_bytes, st.fill_bytes, st.space_waits,
	       st.media_errors, st.crc_errors);
	DMEMIT(" %llu %llu %llu %llu %s %llu %llu",
	       (u64)atomic64_read(&d->engine.dirty_bytes),
	       READ_ONCE(d->wb.written), READ_ONCE(d->wb.errors),
	       READ_ONCE(d->wb.reclaimed), wb_state(&d->wb),
	       st.bypass_bytes, st.kept_bytes);
	*szp = sz;
}

static void pcache_status(struct dm_target *ti, status_type_t type,
			  unsigned int status_flags, char *result,
			  unsigned int maxlen)
{
	struct pcache_target *pc = ti->private;
	struct pcache_dev *d = pc->d;
	unsigned int sz = 0;

	mutex_lock(&d->lock);
	switch (type) {
	case STATUSTYPE_INFO:
		status_info(d, result, maxlen, &sz);
		break;
	case STATUSTYPE_TABLE:
		DMEMIT("%s %s 12 cache_mode %s data_crc %s gc_percent %u sequential_cutoff %llu replacement %s writeback_percent %u",
		       pc->cache->name, pc->backing->name, mode_name(pc->mode),
		       str_true_false(d->super.set.data_crc),
		       d->super.set.gc_percent, READ_ONCE(pc->seq_cutoff),
		       repl_names[READ_ONCE(pc->repl)],
		       READ_ONCE(pc->wb_percent));
		break;
	case STATUSTYPE_IMA:
		DMEMIT_TARGET_NAME_VERSION(ti->type);
		DMEMIT(",cache_mode=%s,data_crc=%c;", mode_name(pc->mode),
		       d->super.set.data_crc ? 'y' : 'n');
		break;
	}
	mutex_unlock(&d->lock);
}

static int message_gc_percent(struct pcache_dev *d, unsigned int argc,
			      char **argv)
{
	struct pcache_settings set;

	if (argc != 2) {
		pcache_err(d->name, "message gc_percent needs one value (0 to %u)",
			   PCACHE_GC_PERCENT_MAX);
		return -EINVAL;
	}
	mutex_lock(&d->lock);
	set = d->super.set;
	if (parse_gc_percent_value(argv[1], &set.gc_percent)) {
		mutex_unlock(&d->lock);
		pcache_err(d->name, "invalid gc_percent '%s' (0 to %u)",
			   argv[1], PCACHE_GC_PERCENT_MAX);
		return -EINVAL;
	}
	pcache_super_set_settings(&d->super, &set);
	mutex_unlock(&d->lock);
	if (d->engine.gc_kick)
		queue_work(d->engine.wq, d->engine.gc_kick);
	return 0;
}

static int message_flush(struct pcache_dev *d, unsigned int argc)
{
	int ret;

	if (argc != 1) {
		pcache_err(d->name, "message flush takes no value");
		return -EINVAL;
	}
	ret = pcache_wb_flush(&d->wb);
	if (ret)
		pcache_err(d->name, "flush: %s",
			   ret == -EAGAIN ? "device is suspended" :
			   ret == -EINTR ? "interrupted" :
			   "writeback failed or cached writes were lost");
	return ret;
}

static int message_cutoff(struct pcache_target *pc, unsigned int argc,
			  char **argv)
{
	u64 v;

	if (argc != 2 || parse_cutoff_value(argv[1], &v)) {
		pcache_err(pc->d->name, "message sequential_cutoff needs one size (bytes, K/M/G suffix, 0 for none, at most 1T)");
		return -EINVAL;
	}
	WRITE_ONCE(pc->seq_cutoff, v);
	return 0;
}

static int message_repl(struct pcache_target *pc, unsigned int argc,
			char **argv)
{
	int v;

	if (argc != 2 || parse_repl_value(argv[1], &v)) {
		pcache_err(pc->d->name, "message replacement needs clock or fifo");
		return -EINVAL;
	}
	WRITE_ONCE(pc->repl, v);
	WRITE_ONCE(pc->d->engine.replacement, v);
	return 0;
}

static int message_wbp(struct pcache_target *pc, unsigned int argc,
		       char **argv)
{
	u32 v;

	if (argc != 2 || parse_wbp_value(argv[1], &v)) {
		pcache_err(pc->d->name, "message writeback_percent needs one value (0 to %u)",
			   PCACHE_WB_PERCENT_MAX);
		return -EINVAL;
	}
	WRITE_ONCE(pc->wb_percent, v);
	apply_wb_percent(pc);
	return 0;
}

static int pcache_message(struct dm_target *ti, unsigned int argc,
			  char **argv, char *result, unsigned int maxlen)
{
	struct pcache_target *pc = ti->private;

	if (argc && !strcasecmp(argv[0], "gc_percent"))
		return message_gc_percent(pc->d, argc, argv);
	if (argc && !strcasecmp(argv[0], "flush"))
		return message_flush(pc->d, argc);
	if (argc && !strcasecmp(argv[0], "sequential_cutoff"))
		return message_cutoff(pc, argc, argv);
	if (argc && !strcasecmp(argv[0], "replacement"))
		return message_repl(pc, argc, argv);
	if (argc && !strcasecmp(argv[0], "writeback_percent"))
		return message_wbp(pc, argc, argv);
	pcache_err(pc->d->name, "unknown message '%s' (known: gc_percent, flush, sequential_cutoff, replacement, writeback_percent)",
		   argc ? argv[0] : "");
	return -EINVAL;
}

static int pcache_iterate_devices(struct dm_target *ti,
				  iterate_devices_callout_fn fn, void *data)
{
	struct pcache_target *pc = ti->private;

	return fn(ti, pc->backing, 0, ti->len, data);
}

/*
 * Discards are taken in any mode (see map_zeroes()).  Each becomes one key
 * per index stripe it covers, so both kinds are kept to a stripe's size.
 */
static void pcache_io_hints(struct dm_target *ti, struct queue_limits *limits)
{
	limits->max_hw_discard_sectors = PCACHE_STRIPE_SECTORS;
	limits->max_write_zeroes_sectors = min(limits->max_write_zeroes_sectors,
					       PCACHE_STRIPE_SECTORS);
	if (limits->discard_granularity < limits->logical_block_size)
		limits->discard_granularity = limits->logical_block_size;
}

static struct target_type pcache_target = {
	.name = "pcache",
	.version = {0, 4, 0},
	.module = THIS_MODULE,
	.ctr = pcache_ctr,
	.dtr = pcache_dtr,
	.map = pcache_map,
	.end_io = pcache_end_io,
	.presuspend = pcache_presuspend,
	.preresume = pcache_preresume,
	.postsuspend = pcache_postsuspend,
	.resume = pcache_resume,
	.status = pcache_status,
	.message = pcache_message,
	.iterate_devices = pcache_iterate_devices,
	.io_hints = pcache_io_hints,
};

static int __init pcache_init(void)
{
	int ret;

	pcache_key_cache = KMEM_CACHE(pcache_key, 0);
	if (!pcache_key_cache)
		return -ENOMEM;
	ret = dm_register_target(&pcache_target);
	if (ret) {
		kmem_cache_destroy(pcache_key_cache);
		return ret;
	}
	pcache_pmem_debug_init();
	return 0;
}

static void __exit pcache_exit(void)
{
	pcache_pmem_debug_exit();
	dm_unregister_target(&pcache_target);
	kmem_cache_destroy(pcache_key_cache);
}

module_init(pcache_init);
module_exit(pcache_exit);

MODULE_DESCRIPTION("dm-pcache: persistent-memory cache target for device-mapper");
MODULE_LICENSE("GPL");
