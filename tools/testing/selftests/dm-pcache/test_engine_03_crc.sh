#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# data_crc: a corrupted byte of cached data is caught on read.  In a clean
# (read-filled) extent the cache drops it and serves the backing device's
# copy, healing itself; in a dirty extent the read fails with EIO and a
# message naming the sectors, since that data exists nowhere else.  A read
# miss whose backing read fails returns EIO and caches nothing.

. "$(dirname "$0")/common.sh"

require_guest
trap dm_cleanup EXIT
ktap_print_header
ktap_set_plan 9

DEV=/dev/mapper/pcc
stat_field() { status_field pcc $((11 + $1)); }

# Byte offset in $PMEM of the first copy of a 16-byte tag (data area only)
find_tag() {
	python3 - "$PMEM" "$1" <<'PY'
import mmap, os, sys
dev, tag = sys.argv[1], sys.argv[2].encode()
fd = os.open(dev, os.O_RDONLY | os.O_DIRECT)
buf = mmap.mmap(-1, 1 << 20)
for mib in range(16, 256):
    os.preadv(fd, [buf], mib << 20)
    i = buf.find(tag)
    if i >= 0:
        print((mib << 20) + i)
        sys.exit(0)
sys.exit(1)
PY
}

# tag_block DEV SECTOR TAG: one 4 KiB block full of TAG, direct I/O
tag_block() {
	python3 - "$1" "$2" "$3" <<'PY'
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_DIRECT)
b = mmap.mmap(-1, 4096)
b.write((sys.argv[3].encode() * 4096)[:4096])
os.pwrite(fd, b, int(sys.argv[2]) * 512)
PY
}

read_block() {
	dd if=$DEV bs=4096 skip=$(($1 / 8)) count=1 iflag=direct status=none
}

# The backing device sits behind dm-linear "bk", so that a reload to
# dm-error can keep writeback from cleaning the dirty block below.
bk_table() {
	if [ "$1" = error ]; then
		echo "0 $(dev_sectors "$BACKING") error"
	else
		echo "0 $(dev_sectors "$BACKING") linear $BACKING 0"
	fi
}
bk_switch() {
	dmsetup reload bk --table "$(bk_table "$1")" &&
		dmsetup suspend bk && dmsetup resume bk
}

blank "$PMEM"
dmsetup create bk --table "$(bk_table linear)"
pcache_create pcc "$PMEM" /dev/mapper/bk data_crc true

# Clean: the block is on the backing device and was filled by a read.
tag_block "$BACKING" 8192 "CLEAN-TAG-0123456"
read_block 8192 > /dev/null
off=$(find_tag "CLEAN-TAG-0123456")
check "the filled copy is in pmem" test -n "$off"
flip_byte "$PMEM" $((off + 100))
dmesg_mark
clean_ok() { read_block 8192 | grep -q CLEAN-TAG; }
counted() {
	[ "$(stat_field 9)" -ge 1 ] &&
		dmesg_since | grep -q "CRC mismatch in clean cached sectors $1"
}
check "a corrupt clean block reads back right" clean_ok
check "the CRC error was counted and logged" counted 8192+8
check "the cache healed: the next read hits good data" clean_ok

# Dirty: the block exists only in the cache (writeback cannot reach bk).
bk_switch error
tag_block $DEV 16384 "DIRTY-TAG-0123456"
off=$(find_tag "DIRTY-TAG-0123456")
flip_byte "$PMEM" $((off + 100))
dmesg_mark
dirty_fails() { ! read_block 16384 > /dev/null 2>&1; }
dirty_named() { dmesg_since | grep -q 'CRC mismatch in dirty cached sectors 16384+8'; }
check "a corrupt dirty block fails the read" dirty_fails
check "the message names the dirty sectors" dirty_named
bk_switch linear

# A failing backing device: the miss fails, nothing is cached.
failing_miss() {
	local f=/sys/kernel/debug/fail_make_request q
	local dev
	dev=$(basename "$BACKING")
	echo 100 > $f/probability && echo -1 > $f/times && echo 0 > $f/verbose ||
		return 1
	echo 1 > /sys/block/"$dev"/make-it-fail
	! dd if=$DEV of=/dev/null bs=4096 skip=4096 count=1 iflag=direct \
		status=none 2>/dev/null
	q=$?
	echo 0 > /sys/block/"$dev"/make-it-fail
	[ $q -eq 0 ] || return 1
	# nothing was cached: the next read is a miss again and succeeds
	local misses
	misses=$(stat_field 2)
	dd if=$DEV of=/dev/null bs=4096 skip=4096 count=1 iflag=direct status=none &&
		[ "$(stat_field 2)" -gt "$misses" ]
}
check "a failed miss returns EIO and caches nothing" failing_miss
check "the device still serves everything else" clean_ok

# The same with dm-flakey below pcache: a backing device that is down.
flakey_below() {
	local sz rc=0

	[ -b /dev/pmem1 ] && [ -b /dev/vdb ] || return 0
	sz=$(dev_sectors /dev/vdb)
	dmsetup create fl --table "0 $sz flakey /dev/vdb 0 0 3600" || return 1
	blank /dev/pmem1
	pcache_create pcf /dev/pmem1 /dev/mapper/fl || return 1
	tag_block /dev/mapper/pcf 64 "WRITTEN-WHILE-DOWN" || rc=1
	dd if=/dev/mapper/pcf of=/dev/null bs=4096 skip=100 count=1 \
		iflag=direct status=none 2>/dev/null && rc=1
	dd if=/dev/mapper/pcf bs=4096 skip=8 count=1 iflag=direct \
		status=none | grep -q WRITTEN-WHILE-DOWN || rc=1
	dmsetup suspend fl && dmsetup load fl --table "0 $sz linear /dev/vdb 0" &&
		dmsetup resume fl || rc=1
	dd if=/dev/mapper/pcf of=/dev/null bs=4096 skip=100 count=1 \
		iflag=direct status=none || rc=1
	dmsetup remove pcf
	dmsetup remove fl
	return $rc
}
check "dm-flakey below: misses fail, cached data and writes go on, recovery" \
	flakey_below
ktap_finished
