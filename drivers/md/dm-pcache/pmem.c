// SPDX-License-Identifier: GPL-2.0
/*
 * DAX mapping and persistent-memory access for dm-pcache.
 *
 * dax_direct_access() may hand out the device in pieces (a dm-striped or
 * dm-linear cache device, or a driver with discontiguous memory).  When the
 * first call does not cover the whole device, the pieces' pages are stitched
 * into one virtually contiguous range with vmap(), so every layer above sees
 * a flat byte array.
 */
#include <linux/blkdev.h>
#include <linux/dax.h>
#include <linux/debugfs.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>

#include "pmem.h"

static int map_pieces(struct pcache_pmem *pm, struct dax_device *dax,
		      pgoff_t first, long npages, const char **reason)
{
	struct page **pages;
	unsigned long pfn;
	long i = 0, n, j;
	void *kaddr;
	int ret = 0;

	/* a failure refuses the table with its own message: no allocator trace */
	pages = kvmalloc_array(npages, sizeof(*pages),
			       GFP_KERNEL | __GFP_NOWARN);
	if (!pages) {
		*reason = "out of memory for the page list";
		return -ENOMEM;
	}
	while (i < npages) {
		n = dax_direct_access(dax, first + i, npages - i, DAX_ACCESS,
				      &kaddr, &pfn);
		if (n <= 0) {
			*reason = "dax_direct_access failed";
			ret = n ? n : -EIO;
			goto out_free;
		}
		for (j = 0; j < n && i < npages; j++, i++)
			pages[i] = pfn_to_page(pfn + j);
	}
	pm->base = vmap(pages, npages, VM_MAP, PAGE_KERNEL);
	if (!pm->base) {
		*reason = "vmap of the cache device failed";
		ret = -ENOMEM;
		goto out_free;
	}
	pm->vmapped = true;
out_free:
	kvfree(pages);
	return ret;
}

/**
 * pcache_pmem_map() - map a DAX-capable cache device
 * @pm: filled in on success
 * @dax: the device's dax_device (from dm_get_device())
 * @bdev: the device's block device, for its offset inside the dax_device
 * @size: bytes to map, a multiple of PAGE_SIZE
 * @reason: set to a description on error
 *
 * Return: 0, -EINVAL for a device not aligned to pages, -EIO or -ENOMEM.
 */
int pcache_pmem_map(struct pcache_pmem *pm, struct dax_device *dax,
		    struct block_device *bdev, u64 size, const char **reason)
{
	sector_t start = get_start_sect(bdev);
	long npages = size >> PAGE_SHIFT;
	unsigned long pfn;
	pgoff_t first;
	void *kaddr;
	long n;
	int id, ret = 0;

	if (start & (PAGE_SECTORS - 1)) {
		*reason = "cache device does not start on a page boundary";
		return -EINVAL;
	}
	first = start >> (PAGE_SHIFT - SECTOR_SHIFT);
	memset(pm, 0, sizeof(*pm));
	pm->size = size;
	id = dax_read_lock();
	n = dax_direct_access(dax, first, npages, DAX_ACCESS, &kaddr, &pfn);
	if (n <= 0) {
		*reason = "dax_direct_access failed";
		ret = n ? n : -EIO;
	} else if (n >= npages) {
		pm->base = kaddr;
	} else {
		ret = map_pieces(pm, dax, first, npages, reason);
	}
	dax_read_unlock(id);
	return ret;
}

/**
 * pcache_pmem_unmap() - undo pcache_pmem_map()
 * @pm: the mapping
 */
void pcache_pmem_unmap(struct pcache_pmem *pm)
{
	if (pm->vmapped)
		vunmap(pm->base);
	pm->base = NULL;
	pm->vmapped = false;
}

#ifdef CONFIG_DM_PCACHE_CRASHPOINT
/*
 * Simulated power loss for the crash-consistency tests.  Persistence points
 * (pcache_pmem_persist() calls) are counted from the moment crash_after is
 * written; once the count reaches crash_after, every later store is dropped,
 * as if the power had gone exactly there.  With tear set, the first dropped
 * store is half applied instead, which is what a power cut in the middle of
 * an unfenced copy can leave.  Global, not per device: the tests run one
 * cache at a time, and a real power cut is global too.
 */
static struct {
	atomic_t persists;
	atomic_t torn;
	u32 after;
	bool tear;
	struct dentry *dir;
} crash;

/**
 * pcache_pmem_crashed() - has the simulated power loss happened
 *
 * Return: true once the armed persistence point has passed.
 */
bool pcache_pmem_crashed(void)
{
	u32 after = READ_ONCE(crash.after);

	return after && (u32)atomic_read(&crash.persists) >= after;
}

static void crash_count(void)
{
	atomic_inc(&crash.persists);
}

/* Drop (or tear) a store made after the power loss; true if dropped. */
static bool crash_store(struct pcache_pmem *pm, u64 off, const void *src,
			size_t len)
{
	size_t half = round_down(len / 2, 8);

	if (!pcache_pmem_crashed())
		return false;
	if (READ_ONCE(crash.tear) && half && !atomic_xchg(&crash.torn, 1))
		memcpy_flushcache(pm->base + off, src, half);
	return true;
}

static int crash_after_get(void *data, u64 *val)
{
	*val = READ_ONCE(crash.after);
	return 0;
}

/* Arming (or disarming with 0) restarts the count: "N points from now". */
static int crash_after_set(void *data, u64 val)
{
	if (val > U32_MAX)
		return -EINVAL;
	WRITE_ONCE(crash.after, 0);
	atomic_set(&crash.persists, 0);
	atomic_set(&crash.torn, 0);
	WRITE_ONCE(crash.after, val);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(crash_after_fops, crash_after_get, crash_after_set,
			 "%llu\n");

static int crash_persists_get(void *data, u64 *val)
{
	*val = (u32)atomic_read(&crash.persists);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(crash_persists_fops, crash_persists_get, NULL,
			 "%llu\n");

static int crash_crashed_get(void *data, u64 *val)
{
	*val = pcache_pmem_crashed();
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(crash_crashed_fops, crash_crashed_get, NULL,
			 "%llu\n");

/*
 * Power lost at once, wherever the module is: for tests that need a point
 * between two persistence points of different tasks.
 */
static int crash_now_set(void *data, u64 val)
{
	if (val != 1)
		return -EINVAL;
	WRITE_ONCE(crash.after, 0);
	atomic_set(&crash.torn, 0);
	atomic_set(&crash.persists, 1);
	WRITE_ONCE(crash.after, 1);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(crash_now_fops, NULL, crash_now_set, "%llu\n");

/*
 * A stall of one write between its index insert and its journal entry,
 * so that a test can send a flush exactly there: stall_ms arms it for
 * the next write of any cache device only, stalled reads 1 while that
 * write sleeps.  append_stall_ms does the same for the next
 * seal, right after its kset is appended to the journal, where writeback
 * may already take the kset; bypass_stall_ms for the next write that goes
 * around a clean cache, after the target found the cache clean and before
 * the write's tombstone, where a write from another CPU may be cached and
 * sealed; remap_stall_ms for the next such write that still finds the
 * cache clean after its tombstone, just before it is sent to the backing
 * device; space_stall_ms has the next seal that may wait find the journal
 * full and sleep, counted as waiting for journal space.  lock_waits
 * counts the locks that writes around the cache found taken and got by
 * polling, so that a test sees that such a write waited for a seal;
 * lock_poll_ms (at most 30 s, 0: the default) is how long such a write
 * polls, so that a test can hold a seal long enough for a slow start.
 * A stall lasts at most 60 s; writing to stall_release ends every stall
 * sleeping then, so that a test holds a stall as long as its own steps
 * take on a slow guest, rather than guessing a time.
 */
static struct {
	u32 ms[PCACHE_STALLS];
	atomic_t waiting;
	atomic_t released;
	wait_queue_head_t release_wait;
	bool no_timer;
	atomic_t seal_fails;
	atomic_t lock_waits;
	u32 lock_poll_ms;
} stall = {
	.release_wait = __WAIT_QUEUE_HEAD_INITIALIZER(stall.release_wait),
};

/**
 * pcache_debug_no_timer() - has a test turned the seal timer off
 *
 * Return: true while no_seal_timer is set: the one-second seal then
 * leaves open ksets alone, so that only flushes and FUA writes seal.
 */
bool pcache_debug_no_timer(void)
{
	return READ_ONCE(stall.no_timer);
}

/**
 * pcache_debug_seal_fail() - should this seal fail, as a test asked
 *
 * A seal fails for real only when the journal stays full for 30 s:
 * seal_fails makes the next N seals of any cache device fail at once, as
 * if that had happened, so that a test reaches the path that reports the
 * lost keys.
 *
 * Return: true if this seal is to fail.
 */
bool pcache_debug_seal_fail(void)
{
	return atomic_dec_if_positive(&stall.seal_fails) >= 0;
}

/**
 * pcache_debug_lock_waited() - count a lock a write around the cache polled
 *
 * Shown as lock_waits: a test tells a write that waited out a seal from
 * one that came after it.
 */
void pcache_debug_lock_waited(void)
{
	atomic_inc(&stall.lock_waits);
}

/**
 * pcache_debug_lock_poll() - how long a write around the cache polls
 * @poll: the default, in jiffies
 *
 * Return: @poll, or lock_poll_ms if a test set it.
 */
unsigned long pcache_debug_lock_poll(unsigned long poll)
{
	u32 ms = READ_ONCE(stall.lock_poll_ms);

	return ms ? msecs_to_jiffies(min(ms, 30000U)) : poll;
}

/**
 * pcache_debug_stall_armed() - has a test armed this stall
 * @at: which of the stall points
 *
 * For a stall that stands for a condition (a full journal): the caller
 * takes the path of that condition, where it then stalls.
 *
 * Return: true if the next pcache_debug_stall(@at) will sleep.
 */
bool pcache_debug_stall_armed(enum pcache_stall_at at)
{
	return READ_ONCE(stall.ms[at]);
}

/**
 * pcache_debug_stall() - sleep here if a test armed a stall
 * @at: which of the stall points this is
 *
 * Called where the cache wants a race window made wide; may sleep.
 */
void pcache_debug_stall(enum pcache_stall_at at)
{
	int gen;
	u32 ms;

	if (likely(!READ_ONCE(stall.ms[at])))
		return;
	/*
	 * Read before the knob is taken: a test disarms the knob before it
	 * releases, so a release this misses found the knob still armed.
	 */
	gen = atomic_read_acquire(&stall.released);
	ms = xchg(&stall.ms[at], 0);
	if (!ms)
		return;
	atomic_inc(&stall.waiting);
	/* short of the hung-task warning of a flush that waits for it */
	wait_event_timeout(stall.release_wait,
			   atomic_read(&stall.released) != gen,
			   msecs_to_jiffies(min(ms, 60000U)));
	atomic_dec(&stall.waiting);
}

static int stall_release_set(void *data, u64 val)
{
	atomic_inc(&stall.released);
	wake_up_all(&stall.release_wait);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(stall_release_fops, NULL, stall_release_set,
			 "%llu\n");

/*
 * Simulated media errors.  QEMU's emulated NVDIMM never raises a machine
 * check, so without this the tests could not reach the paths that handle
 * one.  Reads overlapping [poison_start, poison_start + poison_len) of the
 * cache device fail as copy_mc_to_kernel() fails on poisoned memory.
 * Global, like the crash points; a test writes poison_len last.
 */
static struct {
	u64 start;
	atomic64_t len;
} poison;

static bool poisoned(u64 off, size_t len)
{
	u64 start = READ_ONCE(poison.start);
	u64 plen = atomic64_read(&poison.len);

	/* the two ranges overlap; written so that no sum can wrap */
	return plen && len && (off >= start ? off - start < plen :
					      start - off < len);
}

static int poison_len_get(void *data, u64 *val)
{
	*val = atomic64_read(&poison.len);
	return 0;
}

static int poison_len_set(void *data, u64 val)
{
	atomic64_set(&poison.len, val);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(poison_len_fops, poison_len_get, poison_len_set,
			 "%llu\n");

/**
 * pcache_pmem_debug_init() - create /sys/kernel/debug/dm-pcache/
 */
void pcache_pmem_debug_init(void)
{
	crash.dir = debugfs_create_dir("dm-pcache", NULL);
	debugfs_create_file_unsafe("crash_after", 0600, crash.dir, NULL,
				   &crash_after_fops);
	debugfs_create_file_unsafe("persists", 0400, crash.dir, NULL,
				   &crash_persists_fops);
	debugfs_create_file_unsafe("crashed", 0400, crash.dir, NULL,
				   &crash_crashed_fops);
	debugfs_create_file_unsafe("crash_now", 0200, crash.dir, NULL,
				   &crash_now_fops);
	debugfs_create_bool("tear", 0600, crash.dir, &crash.tear);
	debugfs_create_u32("stall_ms", 0600, crash.dir,
			   &stall.ms[PCACHE_STALL_COMMIT]);
	debugfs_create_u32("append_stall_ms", 0600, crash.dir,
			   &stall.ms[PCACHE_STALL_APPEND]);
	debugfs_create_u32("bypass_stall_ms", 0600, crash.dir,
			   &stall.ms[PCACHE_STALL_BYPASS]);
	debugfs_create_u32("remap_stall_ms", 0600, crash.dir,
			   &stall.ms[PCACHE_STALL_REMAP]);
	debugfs_create_u32("space_stall_ms", 0600, crash.dir,
			   &stall.ms[PCACHE_STALL_SPACE]);
	debugfs_create_atomic_t("stalled", 0400, crash.dir, &stall.waiting);
	debugfs_create_file_unsafe("stall_release", 0200, crash.dir, NULL,
				   &stall_release_fops);
	debugfs_create_bool("no_seal_timer", 0600, crash.dir, &stall.no_timer);
	debugfs_create_atomic_t("seal_fails", 0600, crash.dir,
				&stall.seal_fails);
	debugfs_create_atomic_t("lock_waits", 0600, crash.dir,
				&stall.lock_waits);
	debugfs_create_u32("lock_poll_ms", 0600, crash.dir,
			   &stall.lock_poll_ms);
	debugfs_create_u64("poison_start", 0600, crash.dir, &poison.start);
	debugfs_create_file_unsafe("poison_len", 0600, crash.dir, NULL,
				   &poison_len_fops);
}

/**
 * pcache_pmem_debug_exit() - remove what pcache_pmem_debug_init() made
 */
void pcache_pmem_debug_exit(void)
{
	debugfs_remove_recursive(crash.dir);
}
#else
static inline void crash_count(void)
{
}

static inline bool crash_store(struct pcache_pmem *pm, u64 off,
			       const void *src, size_t len)
{
	return false;
}

static inline bool poisoned(u64 off, size_t len)
{
	return false;
}
#endif

/**
 * pcache_pmem_read() - copy from pmem, surviving media errors
 * @pm: the mapping
 * @off: byte offset in the cache device
 * @dst: destination in DRAM
 * @len: bytes
 *
 * Return: 0, or -EIO if a media error (machine check) stopped the copy.
 */
int pcache_pmem_read(const struct pcache_pmem *pm, u64 off, void *dst,
		     size_t len)
{
	if (WARN_ON_ONCE(off > pm->size || len > pm->size - off))
		return -EIO;
	if (poisoned(off, len) || copy_mc_to_kernel(dst, pm->base + off, len))
		return -EIO;
	return 0;
}

/**
 * pcache_pmem_write() - store to pmem, bypassing the CPU cache
 * @pm: the mapping
 * @off: byte offset in the cache device
 * @src: source in DRAM
 * @len: bytes
 *
 * The data is durable only after the next pcache_pmem_persist().
 */
void pcache_pmem_write(struct pcache_pmem *pm, u64 off, const void *src,
		       size_t len)
{
	if (WARN_ON_ONCE(off > pm->size || len > pm->size - off))
		return;
	if (crash_store(pm, off, src, len))
		return;
	memcpy_flushcache(pm->base + off, src, len);
}

/**
 * pcache_pmem_zero() - zero a pmem range, durable after the next persist
 * @pm: the mapping
 * @off: byte offset in the cache device
 * @len: bytes
 */
void pcache_pmem_zero(struct pcache_pmem *pm, u64 off, size_t len)
{
	static const u8 zeroes[256];
	size_t n;

	while (len) {
		n = min(len, sizeof(zeroes));
		pcache_pmem_write(pm, off, zeroes, n);
		off += n;
		len -= n;
	}
}

/**
 * pcache_pmem_persist() - make all earlier pmem stores durable
 */
void pcache_pmem_persist(void)
{
	pmem_wmb();
	crash_count();
}
