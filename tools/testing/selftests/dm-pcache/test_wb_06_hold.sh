#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# writeback_percent: while writes keep coming and dirty data stays below
# the threshold, writeback waits; it starts by itself once the writes
# pause, and with writeback_percent 0 it runs while they go on.  Bad values
# are refused on the table line and by message.

. "$(dirname "$0")/common.sh"

require_guest
# BG is the subshell of the writer function: its fio goes first
trap '[ -n "$BG" ] && pkill -P "$BG"; kill $BG 2>/dev/null; dm_cleanup' EXIT
ktap_print_header
ktap_set_plan 9

DEV=/dev/mapper/pch
BG=

# writer SEC: 4 KiB random writes for SEC seconds, paced so that the 1 GiB
# cache stays far below 50 % dirty; 1000 writes a second fill a key set
# (101 keys) ten times a second, so writes never look paused
writer() {
	fio --name=w --filename=$DEV --ioengine=libaio --direct=1 \
		--rw=randwrite --bs=4k --iodepth=4 --size=64M --rate_iops=1000 \
		--runtime="$1" --time_based --eta=never --output=/dev/null
}

# clean_within SEC: dirty_bytes reaches 0 within SEC seconds
clean_within() {
	local i

	for ((i = 0; i < $1 * 10; i++)); do
		[ "$(status_field pch 21)" -eq 0 ] && return 0
		sleep 0.1
	done
	return 1
}

blank "$PMEM"
pcache_create pch "$PMEM" "$BACKING"
check "the table shows writeback_percent 50 by default" \
	sh -c "dmsetup table pch | grep -q ' writeback_percent 50\$'"

# Held means nothing written back, but for one stretch: when the host
# does not run the writer's vCPU for two seconds, the writes did pause as
# far as the guest's kernel can tell, and writeback rightly starts.  It
# then stops at the next look that sees the writes again.  Eager
# writeback (writeback_percent 0, below) writes back most of them.
writer 6
dirty=$(status_field pch 21)
wb=$(status_field pch 22)
ktap_print_msg "after 6 s of writes: dirty $dirty, written back $wb"
check "writes are held dirty while they keep coming" \
	test "$dirty" -gt 0 -a "$wb" -ge 0 -a "$((wb * 3))" -le "$((dirty + wb))"
check "writes paused: everything is written back" clean_within 20

check "message writeback_percent 0" dmsetup message pch 0 writeback_percent 0
check "the table shows it" \
	sh -c "dmsetup table pch | grep -q ' writeback_percent 0\$'"
# fio may take seconds to start: watch for writeback while it still runs
wb0=$(status_field pch 22)
writer 12 &
BG=$!
wrote_back() { [ "$(status_field pch 22)" -gt "$wb0" ]; }
grew=0
for ((i = 0; i < 200; i++)); do
	kill -0 $BG 2> /dev/null || break
	wrote_back && { grew=1; break; }
	sleep 0.1
done
wb1=$(status_field pch 22)
wait $BG
BG=
ktap_print_msg "writeback_percent 0: written back $wb0 -> $wb1 while writing"
check "writeback_percent 0 writes back while writes go on" test $grew = 1

bad=0
for v in 91 -1 x ''; do
	dmsetup message pch 0 writeback_percent $v 2> /dev/null && bad=1
done
check "the message refuses 91, -1, x and no value" test $bad = 0
dmsetup remove pch

refused() { ! pcache_create pch "$@" 2> /dev/null; }
check "a table line with writeback_percent 95 is refused" \
	refused "$PMEM" "$BACKING" writeback_percent 95
check "a table line with writeback_percent 90 loads" \
	pcache_create pch "$PMEM" "$BACKING" writeback_percent 90
