#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Cache devices the way users carve and combine pmem: dm-linear over part
# of a namespace and dm-striped over two namespaces (the DAX mapping then
# comes in pieces); and two independent pcache devices side by side under
# fio verify.

. "$(dirname "$0")/common.sh"

require_guest
if [ ! -b /dev/pmem1 ] || [ ! -b /dev/vdb ]; then
	ktap_skip_all "needs /dev/pmem1 and /dev/vdb (vmtest.sh --pmem-count 2 --backing-count 2)"
	exit "$KSFT_SKIP"
fi
trap dm_cleanup EXIT
ktap_print_header
ktap_set_plan 5

B=$BACKING
half=$(( $(dev_sectors /dev/pmem0) / 2 / 8 * 8 ))

linear_works() {
	dmsetup create lin --table "0 $half linear /dev/pmem0 0" || return 1
	blank /dev/mapper/lin
	pcache_create pc /dev/mapper/lin "$B" || return 1
	dd if=/dev/urandom of=/tmp/r bs=1M count=4 status=none
	dd if=/tmp/r of=/dev/mapper/pc bs=1M oflag=direct status=none
	dmsetup remove pc && pcache_create pc /dev/mapper/lin "$B" || return 1
	cmp <(dd if=/dev/mapper/pc bs=1M count=4 iflag=direct status=none) /tmp/r
	local rc=$?
	dmsetup remove pc; dmsetup remove lin
	return $rc
}
check "cache device on dm-linear over part of a pmem" linear_works

striped_works() {
	local n=$(( $(dev_sectors /dev/pmem1) / 1024 * 512 ))

	[ "$n" -le "$half" ] || n=$half
	dmsetup create str --table "0 $((n * 2)) striped 2 256 /dev/pmem0 0 /dev/pmem1 0" || return 1
	blank /dev/mapper/str
	dmesg_mark
	pcache_create pc /dev/mapper/str "$B" || return 1
	dmsetup remove pc || return 1
	pcache_create pc /dev/mapper/str "$B" || return 1
	dmsetup remove pc; dmsetup remove str
	dmesg_since | grep -q formatted
}
check "cache device on dm-striped over two pmem namespaces" striped_works

blank /dev/pmem0
blank /dev/pmem1
pcache_create pc0 /dev/pmem0 /dev/vda
pcache_create pc1 /dev/pmem1 /dev/vdb

two_fio() {
	local pids=() rc=0 d

	for d in pc0 pc1; do
		fio --name="$d" --filename=/dev/mapper/"$d" --rw=randwrite \
			--bs=4k --size=64M --ioengine=libaio --iodepth=8 \
			--direct=1 --verify=crc32c --verify_backlog=256 --verify_state_save=0 \
			--do_verify=1 --eta=never --output=/tmp/"$d".fio &
		pids+=($!)
	done
	for d in "${pids[@]}"; do
		wait "$d" || rc=1
	done
	return $rc
}
check "two pcache devices run fio verify side by side" two_fio
check "both report their own geometry" \
	test "$(status_field pc0 3)" -gt 0 -a "$(status_field pc1 3)" -gt 0
dmsetup remove pc0
check "removing one leaves the other working" \
	dd if=/dev/mapper/pc1 of=/dev/null bs=1M count=8 iflag=direct status=none
ktap_finished
