#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A writer whose CPU cannot open a data head of its own.  The smallest
# cache has four segments, and two are kept for the journal: once one CPU
# has an open head and the journal its first key segment, no segment is
# left for a second CPU's head.  A write there must use the room left in
# the open head instead of waiting until the first CPU writes again, which
# may be never (an open head is closed only when full, and GC frees only
# closed segments).  The same happens on a larger cache with more CPUs
# writing than segments to spare.

. "$(dirname "$0")/common.sh"

require_guest
trap 'kill $W 2> /dev/null; dm_cleanup' EXIT
ktap_print_header

DEV=/dev/mapper/pch
W=

if [ "$(nproc)" -lt 2 ]; then
	ktap_skip_all "needs two CPUs"
	exit "$KSFT_SKIP"
fi
ktap_set_plan 4

# put CPU OFFSET_BLOCKS: one 4 KiB block of /tmp/wb08.data, written and
# fsynced on CPU (the fsync seals its key into the journal)
put() {
	taskset -c "$1" dd if=/tmp/wb08.data of=$DEV bs=4k skip="$2" \
		seek="$2" count=1 oflag=direct conv=fsync status=none
}

# same OFFSET_BLOCKS: the block reads back as written
same() {
	cmp -s <(dd if=$DEV bs=4k skip="$1" count=1 iflag=direct status=none) \
		<(dd if=/tmp/wb08.data bs=4k skip="$1" count=1 status=none)
}

dmsetup create pchl --table "0 $((80 * 2048)) linear $PMEM 0"
blank /dev/mapper/pchl
pcache_create pch /dev/mapper/pchl "$BACKING" || exit 1
head -c $((4096 * 1024)) /dev/urandom > /tmp/wb08.data
put 0 0
used=$(status_field pch 4)
ktap_print_msg "segments: $(status_field pch 3), in use after one write on CPU 0: $used"
check "the setup leaves no segment for a second head (4 of 4, 2 in use)" \
	test "$(status_field pch 3)" -eq 4 -a "$used" -eq 2

# the write on CPU 1, given 20 s (a healthy one takes well under 1 s)
put 1 1000 &
W=$!
for ((i = 0; i < 100; i++)); do
	kill -0 $W 2> /dev/null || break
	sleep 0.2
done
if kill -0 $W 2> /dev/null; then
	rc=1
	ktap_print_msg "the write on CPU 1 still waits after 20 s"
else
	wait $W
	rc=$?
	W=
fi
check "a write on the other CPU completes" test $rc -eq 0
check "it did not wait for space" test "$(status_field pch 18)" -eq 0
both_same() { same 0 && same 1000; }
check "both writes read back" both_same
dmsetup remove pch
dmsetup remove pchl
ktap_finished
