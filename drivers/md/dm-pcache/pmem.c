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
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "pmem.h"

static int map_pieces(struct pcache_pmem *pm, struct dax_device *dax,
		      pgoff_t first, long npages, const char **reason)
{
	struct page **pages;
	unsigned long pfn;
	long i = 0, n, j;
	void *kaddr;
	int ret = 0;

	pages = kvmalloc_array(npages, sizeof(*pages), GFP_KERNEL);
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
	if (copy_mc_to_kernel(dst, pm->base + off, len))
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
}
