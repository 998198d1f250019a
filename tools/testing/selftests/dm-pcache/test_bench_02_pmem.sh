#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The bench itself: the emulated nvdimm is an fsdax namespace whose block
# device is DAX-capable, proven by a peer target that maps it with
# dax_direct_access (dm-writecache in pmem mode).

. "$(dirname "$0")/common.sh"

require_guest
ktap_print_header
ktap_set_plan 3

dev=$(basename "$PMEM")
check "$PMEM has the dax attribute" \
	test "$(cat /sys/block/"$dev"/queue/dax 2>/dev/null)" = 1
check "$PMEM is an fsdax namespace" \
	sh -c "ndctl list -N | grep -q '\"mode\":\"fsdax\"'"

writecache_accepts() {
	local sz

	# dm-writecache oopses on a non-DAX device: never offer it one
	[ "$(cat /sys/block/"$dev"/queue/dax 2>/dev/null)" = 1 ] || return 1
	load_kernel_module drivers/md/dm-writecache.ko || return 1
	sz=$(dev_sectors "$BACKING")
	dmsetup create bench_wc --table \
		"0 $sz writecache p $BACKING $PMEM 4096 0" || return 1
	dmsetup remove bench_wc && rmmod dm-writecache
}
check "dm-writecache maps $PMEM with DAX" writecache_accepts
ktap_finished
