#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Sequential cutoff: a 1 GiB sequential read past the cutoff does not evict
# a hot 64 MiB random set from a 256 MiB cache (hit ratio before and after,
# from the status line), bypassed bytes are counted, a sequential write
# past the cutoff on a clean cache goes to the backing device and replaces
# the cached copy, and the option and message are validated.

. "$(dirname "$0")/common.sh"

require_guest
trap 'dm_cleanup' EXIT
ktap_print_header
ktap_set_plan 9

CACHE_MIB=256
MIB=$((1024 * 1024))
DEV=/dev/mapper/pcs

# hot: read every 16 KiB block of the first 64 MiB once, in random order
# (the debug guest's cost is per I/O: larger blocks keep the test short)
hot() {
	fio --name=hot --filename=$DEV --ioengine=libaio --direct=1 \
		--rw=randread --bs=16k --iodepth=16 --size=64M --eta=never \
		--output=/dev/null
}

# reads: hits + misses + partial so far
reads() {
	echo $(( $(status_field pcs 12) + $(status_field pcs 13) + \
		 $(status_field pcs 14) ))
}

# hit_pct CMD...: percentage of the reads CMD made that were hits
hit_pct() {
	local h0 r0

	h0=$(status_field pcs 12)
	r0=$(reads)
	"$@"
	echo $(( ($(status_field pcs 12) - h0) * 100 / ($(reads) - r0) ))
}

# one CPU: streams are tracked per CPU
seqread() {
	taskset -c 0 dd if=$DEV of=/dev/null bs=1M skip="$1" count=1024 iflag=direct \
		status=none
}

dmsetup create pcl --table "0 $((CACHE_MIB * 2048)) linear $PMEM 0"
blank /dev/mapper/pcl
pcache_create pcs /dev/mapper/pcl "$BACKING" sequential_cutoff 4M || exit 1
hot
before=$(hit_pct hot)
b0=$(status_field pcs 26)
seqread 512
bypassed=$(( $(status_field pcs 26) - b0 ))
after=$(hit_pct hot)
ktap_print_msg "cutoff 4M: hot set hit ratio $before% before, $after% after a 1 GiB sequential read; bypassed $((bypassed / MIB)) MiB"
check "the hot set was cached ($before% hits)" test "$before" -ge 95
check "a 1 GiB sequential read leaves the hot set cached ($after% hits)" \
	test "$after" -ge $((before - 5))
check "bypassed bytes are counted ($bypassed)" \
	test "$bypassed" -ge $((1000 * MIB))

# the same without a cutoff, for the record
dmsetup message pcs 0 sequential_cutoff 0
seqread 1536
ctl=$(hit_pct hot)
ktap_print_msg "no cutoff: hot set hit ratio $ctl% after a 1 GiB sequential read"

# a write that continues a stream past the cutoff goes around a clean
# cache, replacing the cached copy (one CPU: streams are tracked per CPU)
# The write must start within 2 s of the read's end to continue its
# stream: a slow start of the guest's second dd makes a new stream, which
# is cached.  And it is cached, by design, where its tombstone would wait
# for journal space, which the 1 GiB read above may leave GC short of.
# Try again then (three times), from a clean cache and with new data, so
# that what a failed try cached and wrote back cannot pass the checks.
# The read's last MiB goes around the cache too: count only the write.
dmsetup message pcs 0 sequential_cutoff 4M
for try in 1 2 3; do
	head -c $((4 * MIB)) /dev/urandom > /tmp/pcs.rand
	dmsetup message pcs 0 flush
	taskset -c 0 dd if=$DEV of=/dev/null bs=1M count=5 iflag=direct \
		status=none
	b0=$(status_field pcs 26)
	taskset -c 0 dd if=/tmp/pcs.rand of=$DEV bs=1M seek=5 count=4 \
		oflag=direct status=none
	bypassed=$(( $(status_field pcs 26) - b0 ))
	[ "$bypassed" -ge $((4 * MIB)) ] && break
	ktap_print_msg "try $try: bypassed $bypassed bytes; $(dmsetup status pcs)"
done
check "a sequential write past the cutoff bypasses a clean cache" \
	test "$bypassed" -ge $((4 * MIB))
check "the backing device has the bypassed write at once" \
	cmp -s -n $((4 * MIB)) <(dd if="$BACKING" bs=1M skip=5 count=4 \
				 iflag=direct status=none) /tmp/pcs.rand
check "reads return the new data, not the cached copy" \
	cmp -s -n $((4 * MIB)) <(dd if=$DEV bs=1M skip=5 count=4 iflag=direct \
				 status=none) /tmp/pcs.rand

# option and message
check "message sets the cutoff, dmsetup table shows it" \
	sh -c "dmsetup message pcs 0 sequential_cutoff 1M &&
	       dmsetup table pcs | grep -q 'sequential_cutoff 1048576'"
bad_cutoff() {
	dmesg_mark
	! dmsetup message pcs 0 sequential_cutoff lots &&
	! dmsetup create bad --table \
		"0 8 pcache /dev/mapper/pcl $BACKING 2 sequential_cutoff -5" &&
	dmesg_since | grep -q "Invalid sequential_cutoff '-5'"
}
check "a bad cutoff is refused by message and table" bad_cutoff
dmsetup remove pcs
dmsetup remove pcl
check "no device is left" sh -c '! dmsetup ls | grep -q "^pc[sl]"'
ktap_finished
