#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Writeback and GC keep a small cache going: random writes of three times
# the cache's size (fio verify) on a 256 MiB cache device (dm-linear over
# part of /dev/pmem0) with gc_percent 50.  No write may wait longer than
# the documented bound (30 s), segment usage must stay near gc_percent,
# GC must have reclaimed segments, and after a flush the backing device
# alone verifies.

. "$(dirname "$0")/common.sh"

require_guest
trap 'kill $SAMPLER 2>/dev/null; dm_cleanup' EXIT
ktap_print_header
ktap_set_plan 7

CACHE_MIB=256
DATA_MIB=$((CACHE_MIB * 3))
FIO=(fio --name=fill --ioengine=libaio --direct=1 --rw=randwrite --bs=64k
     --iodepth=8 --size=${DATA_MIB}M --verify=crc32c --verify_state_save=0
     --randseed=4242 --eta=never)

dmsetup create pcl --table "0 $((CACHE_MIB * 2048)) linear $PMEM 0"
blank /dev/mapper/pcl
zero_head "$BACKING" 1
pcache_create pcf /dev/mapper/pcl "$BACKING" gc_percent 50
total=$(status_field pcf 3)

dmesg_mark
# the largest segment count seen while the writes run
(max=0
 while sleep 1; do
	u=$(status_field pcf 4) || break
	[ "$u" -gt "$max" ] && max=$u && echo "$max" > /tmp/wb01.max
 done) &
SAMPLER=$!

"${FIO[@]}" --filename=/dev/mapper/pcf --output-format=json \
	--output=/tmp/wb01.json
rc=$?
kill $SAMPLER 2>/dev/null
check "fio writes 3x the cache size and verifies" test $rc -eq 0
maxlat=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["jobs"][0]["write"]["clat_ns"]["max"] // 1000000)' /tmp/wb01.json)
ktap_print_msg "longest write: $maxlat ms; segments: $total, most used: $(cat /tmp/wb01.max)"
check "no write waited longer than 30 s" test "$maxlat" -lt 30000
# gc_percent of the segments, plus the open data heads (one per CPU),
# and the journal's own segment and the one GC has not yet freed
bound=$((total * 50 / 100 + $(nproc) + 2))
check "segment usage stayed near gc_percent (<= $bound of $total)" \
	test "$(cat /tmp/wb01.max)" -le "$bound"
check "GC reclaimed segments" test "$(status_field pcf 24)" -gt "$total"
check "no writer had to wait long enough to warn" \
	not_logged 'writes wait for free cache space'
check "flush message writes everything back" dmsetup message pcf 0 flush
dmsetup remove pcf
"${FIO[@]}" --filename="$BACKING" --verify_only --output=/tmp/wb01.out
check "the backing device alone verifies" test $? -eq 0
ktap_finished
