/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Logging for dm-pcache: every message names the device it is about.
 */
#ifndef _PCACHE_H
#define _PCACHE_H

#include <linux/device-mapper.h>

#define DM_MSG_PREFIX "pcache"

#define pcache_err(name, fmt, ...)	DMERR("%s: " fmt, name, ##__VA_ARGS__)
#define pcache_warn(name, fmt, ...)	DMWARN("%s: " fmt, name, ##__VA_ARGS__)
#define pcache_info(name, fmt, ...)	DMINFO("%s: " fmt, name, ##__VA_ARGS__)
/* Kernels before the typed allocators (6.18, 6.19) */
#ifndef kzalloc_obj
#define kzalloc_obj(P) kzalloc(sizeof(P), GFP_KERNEL)
#endif

#define pcache_err_limit(name, fmt, ...) \
	DMERR_LIMIT("%s: " fmt, name, ##__VA_ARGS__)

#endif /* _PCACHE_H */
