#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# pmem media errors, as the debug module simulates them (poison_start and
# poison_len in /sys/kernel/debug/dm-pcache/: reads of that range of the
# cache device fail as a machine check makes copy_mc fail; QEMU's NVDIMM
# never raises one).  A media error in clean data sends the read to the
# backing device; in dirty data it fails the read with EIO, and keeps
# failing it after writeback has passed the data, instead of returning the
# older data of the backing device.  The tools are built on the host.

. "$(dirname "$0")/common.sh"

require_guest
DBG=/sys/kernel/debug/dm-pcache
TOOLS=$(cd "$COMMON_DIR/../../../dm-pcache" && pwd)
T=$(mktemp -d)
trap 'echo 0 > $DBG/poison_len 2>/dev/null; dm_cleanup; rm -rf "$T"' EXIT
ktap_print_header
if [ ! -e $DBG/poison_len ]; then
	ktap_skip_all "module built without CONFIG_DM_PCACHE_CRASHPOINT"
	exit "$KSFT_SKIP"
fi
if [ ! -x "$TOOLS/pcache_dump" ]; then
	ktap_skip_all "$TOOLS/pcache_dump not built (make tools on the host)"
	exit "$KSFT_SKIP"
fi
ktap_set_plan 14

DEV=/dev/mapper/pcm

# where LBA: byte offset in the cache device of the newest journaled copy
# of sector LBA ("tail" for the kset at the key tail); fails if none
where() {
	"$TOOLS/pcache_dump" --json --keys "$PMEM" | python3 -c '
import json, sys
d, what = json.load(sys.stdin), sys.argv[1]
sb = d["superblock"]
def addr(seg, off):
    print(sb["data_off"] + seg * sb["seg_size"] + off)
if what == "tail":
    addr(*map(int, d["positions"]["key_tail"]["pos"].split(":")))
    sys.exit(0)
keys = [k for k in d.get("keys", [])
        if "seg" in k and k["lba"] == int(what) and not k["stale"]]
if not keys:
    sys.exit(1)
k = max(keys, key=lambda k: k["seq"])
addr(k["seg"], k["seg_off"])' "$1"
}

# poison LBA BYTES: make the newest cached copy of sector LBA unreadable,
# once its key is in the journal (a kset is sealed within a second)
poison() {
	local i addr

	for ((i = 0; i < 50; i++)); do
		addr=$(where "$1") && break
		sleep 0.2
	done
	[ -n "$addr" ] || { ktap_print_msg "no journaled key for sector $1"; return 1; }
	echo "$addr" > $DBG/poison_start && echo "$2" > $DBG/poison_len
}

# put FILE SECTOR: write FILE (64 KiB) there; get SECTOR FILE: read 4 KiB
put() {
	dd if="$1" of=$DEV bs=64k seek=$(($2 / 128)) count=1 oflag=direct \
		status=none
}
get() {
	dd if=$DEV of="$2" bs=4k skip=$(($1 / 8)) count=1 iflag=direct \
		status=none 2> /dev/null
}
pattern() {
	python3 -c 'import sys; sys.stdout.buffer.write((sys.argv[1] * 65536).encode()[:65536])' "$1" > "$T/$1"
	head -c 4096 "$T/$1" > "$T/$1.4k"
}
pattern A
pattern B
pattern C
pattern D

blank "$PMEM"
zero_head "$BACKING" 64
dmsetup create bk4 --table "$(backing_table "$BACKING" linear)"
pcache_create pcm "$PMEM" /dev/mapper/bk4
dmesg_mark

# Clean data: written back, then poisoned.
put "$T/A" 0
dmsetup message pcm 0 flush
poison 0 4096
get 0 "$T/r"
check "a media error in clean data reads the backing device" \
	cmp -s "$T/r" "$T/A.4k"
dmesg_since | grep -q 'media error in clean cached sectors 0+128: dropped'
check "the media error is logged and counted" \
	test $? -eq 0 -a "$(status_field pcm 19)" -ge 1
echo 0 > $DBG/poison_len

# Dirty data: the backing device fails, so it stays dirty.
switch_backing bk4 "$BACKING" error
# B and D from one task on one CPU: the same open kset, so that writeback
# retries the unreadable B with D, whose write fails
taskset -c 0 python3 -c '
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_DIRECT)
buf = mmap.mmap(-1, 65536)
for path, sector in ((sys.argv[2], 8192), (sys.argv[3], 16384)):
    buf.seek(0)
    buf.write(open(path, "rb").read())
    os.pwrite(fd, buf, sector * 512)
os.close(fd)' $DEV "$T/B" "$T/D"
poison 8192 4096
get 8192 "$T/r"
check "a media error in dirty data fails the read" test $? -ne 0
dmesg_since | grep -q 'media error in dirty cached sectors 8192+128: data lost'
check "the lost dirty data is logged" test $? -eq 0
# writeback, retrying the failed kset, meets the unreadable key each time
sleep 3
check "dirty_bytes counts it until its kset is written back" \
	test "$(status_field pcm 21)" -eq $((2 * 65536))

# Writeback meets the same error: it writes the rest and goes on.
switch_backing bk4 "$BACKING" linear
check "flush succeeds past the unreadable dirty data" \
	dmsetup message pcm 0 flush
dmesg_since | grep -q 'media error in dirty cached sectors 8192+128: not written back'
check "writeback logs the data it could not write" test $? -eq 0
check "and counts nothing dirty afterwards" test "$(status_field pcm 21)" -eq 0
get 8192 "$T/r"
check "the read still fails after writeback passed it" test $? -ne 0
get $((8192 + 64)) "$T/r"
check "the rest of that write still reads back" cmp -s "$T/r" "$T/B.4k"

# An overwrite heals it.
echo 0 > $DBG/poison_len
put "$T/C" 8192
dmsetup message pcm 0 flush
get 8192 "$T/r"
check "an overwrite heals the sectors" cmp -s "$T/r" "$T/C.4k"
dmsetup remove pcm
dd if=/dev/mapper/bk4 of="$T/r" bs=4k skip=1024 count=1 iflag=direct \
	status=none
cmp -s "$T/r" "$T/C.4k" && dd if=/dev/mapper/bk4 of="$T/r" bs=4k count=1 \
	iflag=direct status=none && cmp -s "$T/r" "$T/A.4k" &&
	dd if=/dev/mapper/bk4 of="$T/r" bs=4k skip=2048 count=1 \
	iflag=direct status=none && cmp -s "$T/r" "$T/D.4k"
check "the backing device holds the written-back data" test $? -eq 0

# A media error in the journal fails the load; nothing is overwritten.
where tail > $DBG/poison_start
echo 4096 > $DBG/poison_len
dmesg_mark
! pcache_create pcm "$PMEM" /dev/mapper/bk4 2> /dev/null &&
	dmesg_since | grep -q 'journal replay failed'
check "a media error in the journal fails the load, logged" test $? -eq 0
echo 0 > $DBG/poison_len
pcache_create pcm "$PMEM" /dev/mapper/bk4 && get 8192 "$T/r" &&
	cmp -s "$T/r" "$T/C.4k" && get 0 "$T/r" && cmp -s "$T/r" "$T/A.4k"
check "once the error is gone the cache loads with its data" test $? -eq 0
ktap_finished
