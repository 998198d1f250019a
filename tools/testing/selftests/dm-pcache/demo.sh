#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: a guided tour, run inside the vmtest.sh guest.  Builds a pcache
# device from /dev/pmem0 (cache) and /dev/vda (backing disk) with a real table
# line, puts ext4 on it, moves a few hundred MiB through it with fio, explains
# `dmsetup status` and `dmsetup table`, and takes it apart again.

set -eu

PMEM=/dev/pmem0
BACKING=/dev/vda
NAME=demo_pcache
MNT=/tmp/demo_mnt

say() { printf '\n== %s\n' "$*"; }

say "Devices: cache $PMEM ($(($(blockdev --getsize64 $PMEM) >> 20)) MiB, DAX=$(cat /sys/block/pmem0/queue/dax)), backing $BACKING ($(($(blockdev --getsize64 $BACKING) >> 20)) MiB)"
say "Zeroing the first 4 KiB of $PMEM: a blank cache device is formatted on first use"
dd if=/dev/zero of=$PMEM bs=4k count=1 oflag=direct status=none

sectors=$(blockdev --getsz $BACKING)
table="0 $sectors pcache $PMEM $BACKING 4 cache_mode writeback data_crc true"
say "dmsetup create $NAME --table '$table'"
dmsetup create $NAME --table "$table"
dmesg | grep 'device-mapper: pcache' | tail -n 3

say "mkfs.ext4 and mount"
mkfs.ext4 -q -F /dev/mapper/$NAME
mkdir -p $MNT
mount /dev/mapper/$NAME $MNT

say "fio: write 256 MiB in 4 files, then read it back and verify"
fio --name=demo --directory=$MNT --nrfiles=4 --size=256M --bs=128k \
	--rw=write --ioengine=libaio --iodepth=8 --direct=1 \
	--verify=crc32c --do_verify=1 --verify_state_save=0 --eta=never --group_reporting \
	--output-format=terse --terse-version=3 > /tmp/demo.fio
awk -F';' '{printf "   read %d MiB at %d KiB/s, wrote %d MiB at %d KiB/s\n", $6/1024, $7, $47/1024, $48}' /tmp/demo.fio

umount $MNT
say "e2fsck -fn: the filesystem is clean"
e2fsck -fn /dev/mapper/$NAME > /dev/null 2>&1 && echo "   clean"

say "dmsetup status $NAME"
status=$(dmsetup status $NAME)
echo "   $status"
set -- $status
shift 3
cat <<EOT
   sb_flags=$1 (superblock flags)   seg_total=$2 (16 MiB segments on $PMEM)
   cache_segs=$3 (segments usable for cache)   segs_used=$4   gc_percent=$5
   cache_flags=$6 (bit 0: data_crc)   key_head=$7 dirty_tail=$8 key_tail=$9
   cache_mode=${10}   data_crc=${11}
   read_hits=${12} read_misses=${13} read_partial=${14} write_hits=${15}
   cache_bytes=${16} fill_bytes=${17} space_waits=${18}
   media_errors=${19} crc_errors=${20}
   dirty_bytes=${21} (not yet on $BACKING)   writeback_bytes=${22}
   writeback_errors=${23} reclaimed_segs=${24} writeback=${25}
   bypass_bytes=${26} (sequential cutoff)   kept_bytes=${27} (kept by GC)
EOT

say "dmsetup message $NAME 0 flush: write everything back to $BACKING"
dmsetup message $NAME 0 flush && echo "   done: dirty_bytes=$(dmsetup status $NAME | awk '{print $24}')"

say "fstrim on the filesystem: discards become zero keys, written back in order"
mount /dev/mapper/$NAME $MNT
fstrim -v $MNT | sed 's/^/   /'
umount $MNT

say "dmsetup table $NAME (recreates the same device)"
echo "   $(dmsetup table $NAME)"

say "dmsetup message $NAME 0 gc_percent 50, then remove and create again"
dmsetup message $NAME 0 gc_percent 50
dmsetup remove $NAME
dmsetup create $NAME --table "0 $sectors pcache $PMEM $BACKING"
echo "   gc_percent after re-create: $(dmsetup status $NAME | awk '{print $8}') (kept in the cache's metadata)"
mount /dev/mapper/$NAME $MNT
echo "   files still there: $(ls $MNT | wc -l)"
umount $MNT
dmsetup remove $NAME

say "Done: the cache was formatted, carried an ext4 filesystem through fio with crc32c verification, wrote it back to $BACKING on a flush message, kept its settings across remove/create, and was removed cleanly."
