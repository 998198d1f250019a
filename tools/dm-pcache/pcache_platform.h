/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace side of the platform shim for drivers/md/dm-pcache/format/:
 * the few kernel names the format code uses, mapped onto libc.
 */
#ifndef _PCACHE_PLATFORM_H
#define _PCACHE_PLATFORM_H

#include <assert.h>
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <linux/types.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;

#define cpu_to_le16(x)	((__le16)htole16(x))
#define le16_to_cpu(x)	le16toh((__u16)(x))
#define cpu_to_le32(x)	((__le32)htole32(x))
#define cpu_to_le64(x)	((__le64)htole64(x))
#define le32_to_cpu(x)	le32toh((__u32)(x))
#define le64_to_cpu(x)	le64toh((__u64)(x))

/* The kernel's one-argument form; <assert.h> wants a message in C11 */
#undef static_assert
#define static_assert(expr, ...) __static_assert(expr, ##__VA_ARGS__, #expr)
#define __static_assert(expr, msg, ...) _Static_assert(expr, msg)

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define offsetofend(type, member) \
	(offsetof(type, member) + sizeof(((type *)0)->member))

#ifndef EUCLEAN
#define EUCLEAN 117
#endif

/* CRC32C (Castagnoli), bitwise, with the kernel's crc32c() conventions */
static inline u32 crc32c(u32 crc, const void *p, size_t len)
{
	const u8 *b = p;
	int k;

	while (len--) {
		crc ^= *b++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82F63B78U & (0U - (crc & 1)));
	}
	return crc;
}

#endif /* _PCACHE_PLATFORM_H */
