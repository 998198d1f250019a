/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel side of the platform shim for the kernel-neutral format code in
 * format/.  The userspace tools ship their own pcache_platform.h with the
 * same names, so format/ never needs #ifdef __KERNEL__.
 */
#ifndef _PCACHE_PLATFORM_H
#define _PCACHE_PLATFORM_H

#include <linux/build_bug.h>
#include <linux/crc32.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/types.h>
#include <asm/byteorder.h>

#endif /* _PCACHE_PLATFORM_H */
