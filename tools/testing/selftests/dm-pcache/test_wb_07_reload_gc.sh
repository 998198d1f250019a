#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Segments that only overwritten data points to stay in use across a
# reload (replay marks the segment of every key it reads) and the next GC
# pass frees them without evicting live data: on a 256 MiB cache with
# gc_percent 90, 16 MiB is rewritten ten times over and then written once
# more with a verify pattern; after a flush, a remove and a create, the
# segments in use are what they were, and with gc_percent 40 GC brings
# them down to about the live data while the pattern still reads back from
# the cache.

. "$(dirname "$0")/common.sh"

require_guest
trap dm_cleanup EXIT
ktap_print_header
ktap_set_plan 7

CACHE_MIB=256
DEV=/dev/mapper/pcr
FIO=(fio --filename=$DEV --ioengine=libaio --direct=1 --bs=4k --size=16M
     --iodepth=16 --randseed=707 --eta=never --output=/dev/null)

# used_within SEC MAX: segments in use drop to MAX or fewer within SEC
used_within() {
	local i

	for ((i = 0; i < $1 * 10; i++)); do
		[ "$(status_field pcr 4)" -le "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

dmsetup create pcrl --table "0 $((CACHE_MIB * 2048)) linear $PMEM 0"
blank /dev/mapper/pcrl
zero_head "$BACKING" 1
pcache_create pcr /dev/mapper/pcrl "$BACKING" gc_percent 90
total=$(status_field pcr 3)

written() {
	"${FIO[@]}" --name=over --rw=randwrite --io_size=160M &&
		"${FIO[@]}" --name=pat --rw=randwrite --verify=crc32c \
			--do_verify=0 --verify_state_save=0
}

check "rewrites and the pattern are written" written
check "flush message writes everything back" dmsetup message pcr 0 flush
before=$(status_field pcr 4)
dmsetup remove pcr
pcache_create pcr /dev/mapper/pcrl "$BACKING"
after=$(status_field pcr 4)
reclaimed=$(status_field pcr 24)
ktap_print_msg "segments: $total, in use before the reload $before, after $after"
check "the reload keeps the overwritten segments in use" \
	test "$after" -ge "$before" -a "$after" -gt $((total / 2))

check "message gc_percent 40" dmsetup message pcr 0 gc_percent 40
# the 16 MiB of live data, an open data head per CPU and the journal
bound=$((2 + $(nproc) + 2))
check "GC frees them (<= $bound of $total in use)" used_within 30 "$bound"
ktap_print_msg "in use after GC: $(status_field pcr 4), reclaimed $reclaimed -> $(status_field pcr 24)"
hits=$(status_field pcr 12)
"${FIO[@]}" --name=pat --rw=randread --verify=crc32c --verify_only \
	--verify_state_save=0
check "the pattern reads back" test $? -eq 0
check "and was still cached (read hits grew)" \
	test "$(status_field pcr 12)" -gt "$hits"
ktap_finished
