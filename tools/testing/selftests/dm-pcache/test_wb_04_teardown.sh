#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Teardown under load, ten times: create, start fio writers and readers,
# "dmsetup remove --force" while they run.  The forced remove swaps in an
# error table, so pcache's destructor runs under I/O; the next create must
# replay cleanly and read back the data of a pass that completed.

. "$(dirname "$0")/common.sh"

require_guest
trap 'kill $(jobs -p) 2>/dev/null; dm_cleanup' EXIT
ktap_print_header
ktap_set_plan 3

DEV=/dev/mapper/pct
blank "$PMEM"
zero_head "$BACKING" 64
pcache_create pct "$PMEM" "$BACKING"
fio --name=base --filename=$DEV --ioengine=libaio --direct=1 --rw=write \
	--bs=64k --size=8M --verify=crc32c --verify_state_save=0 --eta=never \
	--output=/tmp/wb04.out
check "baseline data written" test $? -eq 0

# opened_by N: the device is open N times or more
opened_by() {
	[ "$(dmsetup info -c --noheadings -o open pct 2> /dev/null)" -ge "$1" ] \
		2> /dev/null
}

ok=1
for i in $(seq 10); do
	fio --name=w --filename=$DEV --ioengine=libaio --direct=1 \
		--rw=randwrite --bs=4k --iodepth=8 --size=32M --offset=16M \
		--numjobs=2 --time_based --runtime=60 --eta=never \
		--allow_file_create=0 --output=/dev/null > /dev/null 2>&1 &
	fio --name=r --filename=$DEV --ioengine=libaio --direct=1 \
		--rw=randread --bs=16k --iodepth=8 --size=48M \
		--time_based --runtime=60 --eta=never \
		--allow_file_create=0 --output=/dev/null > /dev/null 2>&1 &
	# fio may take seconds to start here: remove once its three jobs
	# have the device open (or after the polls run out), and never let
	# a late one create a file in its place
	poll 100 0.1 opened_by 3
	dmsetup remove --force pct > /dev/null 2>&1
	wait
	# the forced remove left an error table if fio still had it open
	dmsetup remove pct > /dev/null 2>&1
	dmesg_mark
	if ! pcache_create pct "$PMEM" "$BACKING"; then
		ok=0
		break
	fi
	dmesg_since | grep -q 'replayed' || ok=0
done
check "ten forced removes under load, each followed by a clean create" \
	test $ok -eq 1
fio --name=base --filename=$DEV --ioengine=libaio --direct=1 --rw=write \
	--bs=64k --size=8M --verify=crc32c --verify_state_save=0 --eta=never \
	--output=/tmp/wb04.out --verify_only
check "data written before the removes still verifies" test $? -eq 0
ktap_finished
