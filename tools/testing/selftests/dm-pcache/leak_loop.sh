#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of optin_leak_selftest.sh.  kmemleak is the judge; the kmalloc
# object count is printed for the record (device-mapper's own sysfs and
# device-node churn moves it by a few objects per cycle).

. "$(dirname "$0")/common.sh"

kmalloc_objs() {
	awk '/^kmalloc-/ { n += $2 } END { print n }' /proc/slabinfo
}

cycle() {
	local i

	for i in $(seq "$1"); do
		pcache_create leak "$PMEM" "$BACKING" data_crc true || return 1
		# data in flight through writeback, GC and a read fill
		dd if=/dev/urandom of=/dev/mapper/leak bs=64k count=16 \
			seek=$((i * 16)) oflag=direct status=none || return 1
		dd if=/dev/mapper/leak of=/dev/null bs=64k count=16 \
			skip=$((2048 + i * 16)) iflag=direct status=none || return 1
		dmsetup status leak > /dev/null
		dmsetup message leak 0 gc_percent $((i % 90)) || return 1
		dmsetup remove leak || return 1
	done
}

blank "$PMEM"
cycle 5 || exit 1
sync; echo 3 > /proc/sys/vm/drop_caches
before=$(kmalloc_objs)
cycle "${DMPC_LEAK_CYCLES:-30}" || exit 1
sync; echo 3 > /proc/sys/vm/drop_caches
after=$(kmalloc_objs)
echo "${DMPC_LEAK_CYCLES:-30} cycles: kmalloc objects before $before, after $after"
echo scan > /sys/kernel/debug/kmemleak
sleep 6
echo scan > /sys/kernel/debug/kmemleak
if [ -s /sys/kernel/debug/kmemleak ]; then
	head -n 40 /sys/kernel/debug/kmemleak
	exit 1
fi
echo "kmemleak: no leaks"
