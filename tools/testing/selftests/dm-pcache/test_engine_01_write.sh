#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The write path, index and journal: fio writes with crc32c verification
# through pcache (4 KiB random, 512 B-1 MiB random, across segment and
# stripe boundaries, 8 concurrent jobs on overlapping ranges), then the
# device is removed and created again and every job verifies its data
# once more: it came back through journal replay, not from the backing
# device, which is a dm-error device here: writeback never gets the data
# out and every read that missed the cache would fail.

. "$(dirname "$0")/common.sh"

require_guest
trap dm_cleanup EXIT
ktap_print_header
ktap_set_plan 12

DEV=/dev/mapper/pcw
FIO=(fio --filename=$DEV --ioengine=libaio --direct=1 --eta=never --verify_state_save=0
     --output=/tmp/fio.out)
MIB=$((1024 * 1024))

# name | fio arguments
JOBS=(
	"4k-randwrite|--name=r4k --rw=randwrite --bs=4k --size=48M --offset=0 --iodepth=16 --verify=crc32c --verify_backlog=512"
	"bsrange-512-1m|--name=rbs --rw=randwrite --bsrange=512-1M --size=48M --offset=$((64 * MIB)) --iodepth=8 --verify=crc32c --verify_backlog=64"
	"across-stripes|--name=xs --rw=write --bs=1M --size=40M --offset=$((16 * MIB * 8 - 512 * 1024)) --iodepth=4 --verify=crc32c"
	"overlapping-8-jobs|--name=ov --numjobs=8 --rw=randwrite --bs=4k --size=8M --offset=$((200 * MIB)) --iodepth=4 --verify=pattern --verify_pattern=%o --do_verify=1"
)

blank "$PMEM"
dmsetup create bkerr --table "0 $(dev_sectors "$BACKING") error"
pcache_create pcw "$PMEM" /dev/mapper/bkerr

for j in "${JOBS[@]}"; do
	IFS='|' read -r name args <<< "$j"
	# shellcheck disable=SC2086
	if "${FIO[@]}" $args; then
		ktap_test_pass "$name: fio verify through pcache"
	else
		ktap_print_msg "$(tail -n 5 /tmp/fio.out)"
		ktap_test_fail "$name: fio verify through pcache"
	fi
done

check "segments were used" test "$(status_field pcw 4)" -gt 1
check "writeback could not take any of it away" \
	test "$(status_field pcw 22)" -eq 0

dmsetup remove pcw
dmesg_mark
pcache_create pcw "$PMEM" /dev/mapper/bkerr
check "create replays the journal" logged 'replayed [1-9][0-9]* ksets'
ktap_print_msg "$(dmesg_since | grep replayed)"

for j in "${JOBS[@]}"; do
	IFS='|' read -r name args <<< "$j"
	# shellcheck disable=SC2086
	if "${FIO[@]}" $args --verify_only; then
		ktap_test_pass "$name: verifies after remove and create"
	else
		ktap_print_msg "$(tail -n 5 /tmp/fio.out)"
		ktap_test_fail "$name: verifies after remove and create"
	fi
done
check "reads after replay came from pmem (no miss)" \
	test "$(status_field pcw 13)" -eq 0
ktap_finished
