#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The read path: misses go to the backing device and fill the cache, the
# second read of the same data hits and never touches the backing device;
# reads that are partly cached come back whole and right; reads and writes
# racing on the same blocks verify; ext4 on pcache survives a mixed
# workload, fsck and remove/create.

. "$(dirname "$0")/common.sh"

require_guest
trap dm_cleanup EXIT
ktap_print_header
ktap_set_plan 11

DEV=/dev/mapper/pcr
MIB=$((1024 * 1024))
FIO=(fio --ioengine=libaio --direct=1 --eta=never --verify_state_save=0
     --output=/tmp/fio.out)

# stat N of the dm-pcache status line after the in-tree nine and ours two
stat_field() {
	status_field pcr $((11 + $1))
}

backing_reads() {
	awk '{print $1}' /sys/block/"$(basename "$BACKING")"/stat
}

blank "$PMEM"
# Data written to the backing device before the cache existed.
"${FIO[@]}" --name=pre --filename="$BACKING" --rw=write --bs=64k \
	--size=32M --verify=crc32c --do_verify=0
pcache_create pcr "$PMEM" "$BACKING"

check "first read (misses) verifies" "${FIO[@]}" --name=pre --filename=$DEV \
	--rw=write --bs=64k --size=32M --verify=crc32c --verify_only
check "misses were counted and filled the cache" \
	test "$(stat_field 2)" -gt 0 -a "$(stat_field 6)" -gt 0
sleep 1
hits=$(stat_field 1)
reads=$(backing_reads)
check "second read (hits) verifies" "${FIO[@]}" --name=pre --filename=$DEV \
	--rw=write --bs=64k --size=32M --verify=crc32c --verify_only
check "second read was counted as hits" test "$(stat_field 1)" -gt "$hits"
check "second read never touched the backing device" \
	test "$(backing_reads)" -eq "$reads"

# Partial hits: odd blocks only on the backing device, even ones in cache.
partial() {
	python3 - "$BACKING" "$DEV" <<'PY'
import mmap, os, sys
backing, dev = sys.argv[1], sys.argv[2]
base, n, bs = 64 << 20, 256, 4096
buf = mmap.mmap(-1, bs)
def put(path, blk, tag):
    fd = os.open(path, os.O_WRONLY | os.O_DIRECT)
    buf.seek(0); buf.write((f"{tag}{blk}".encode() * bs)[:bs])
    os.pwrite(fd, buf, base + blk * bs); os.close(fd)
for b in range(n):
    put(backing, b, "B")
for b in range(0, n, 2):
    put(dev, b, "C")
big = mmap.mmap(-1, n * bs)
fd = os.open(dev, os.O_RDONLY | os.O_DIRECT)
os.preadv(fd, [big], base)
for b in range(n):
    want = (f"{'C' if b % 2 == 0 else 'B'}{b}".encode() * bs)[:bs]
    if big[b * bs:(b + 1) * bs] != want:
        print(f"block {b} wrong: {big[b * bs:b * bs + 16]!r}")
        sys.exit(1)
PY
}
check "a read over alternating cached blocks comes back whole" partial
check "partial hits were counted" test "$(stat_field 3)" -gt 0

race() {
	"${FIO[@]}" --name=init --filename=$DEV --offset=$((128 * MIB)) \
		--size=16M --rw=write --bs=4k --iodepth=16 --verify=pattern \
		--verify_pattern=%o --do_verify=0 || return 1
	"${FIO[@]}" --filename=$DEV --offset=$((128 * MIB)) --size=16M \
		--verify=pattern --verify_pattern=%o --bs=4k --iodepth=8 \
		--name=w --rw=randwrite --do_verify=0 \
		--name=r --rw=randread --numjobs=2 --time_based --runtime=15
}
check "concurrent reads and writes on the same blocks verify" race

ext4_cycle() {
	local m=/tmp/pcr_mnt

	mkfs.ext4 -q -F $DEV 512M || return 1
	mkdir -p $m && mount $DEV $m || return 1
	"${FIO[@]}" --name=files --directory=$m --nrfiles=8 --size=64M \
		--bs=16k --rw=randrw --fsync=32 --verify=crc32c --do_verify=1 \
		--direct=0 || return 1
	(cd $m && md5sum files.* > /tmp/sums) || return 1
	umount $m || return 1
	e2fsck -fn $DEV > /tmp/fsck.out 2>&1 || { cat /tmp/fsck.out; return 1; }
	dmsetup remove pcr && pcache_create pcr "$PMEM" "$BACKING" || return 1
	mount $DEV $m || return 1
	(cd $m && md5sum -c --quiet /tmp/sums)
	local rc=$?
	umount $m
	return $rc
}
check "ext4: mixed file workload, fsck clean, files intact after remove/create" ext4_cycle
check "no media errors" test "$(stat_field 8)" -eq 0
check "status has all our statistics" \
	test "$(dmsetup status pcr | wc -w)" -eq $((3 + 11 + 9 + 7))
ktap_finished
