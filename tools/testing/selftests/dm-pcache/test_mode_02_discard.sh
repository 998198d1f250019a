#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Discard and write-zeroes: the range reads zeroes through pcache at once,
# reaches the backing device (after writeback in the write-back modes, in
# journal order with the writes before it), the limits are advertised, and
# fstrim works on ext4 and xfs.  The race case fails if a discard could
# overtake the writeback of older dirty data of the same range.

. "$(dirname "$0")/common.sh"

require_guest
trap 'dm_cleanup' EXIT
ktap_print_header
ktap_set_plan 15

DEV=/dev/mapper/pcd
MIB=$((1024 * 1024))

# is_zero DEV OFFSET_MIB LEN_MIB
is_zero() {
	cmp -s -n $(($3 * MIB)) <(dd if="$1" bs=1M skip="$2" count="$3" \
				  iflag=direct status=none) /dev/zero
}

# pattern DEV OFFSET_MIB LEN_MIB: write non-zero data
pattern() {
	dd if=/tmp/pcd.rand of="$1" bs=1M seek="$2" count="$3" oflag=direct \
		status=none
}

head -c $((32 * MIB)) /dev/urandom > /tmp/pcd.rand
blank "$PMEM"
# non-zero data on the backing device, so zeroes there prove something
pattern "$BACKING" 0 8
pcache_create pcd "$PMEM" "$BACKING" || exit 1
dm=$(dmsetup info -c --noheadings -o blkdevname pcd)
gran=$(cat /sys/block/"$dm"/queue/discard_granularity)
maxd=$(cat /sys/block/"$dm"/queue/discard_max_bytes)
ktap_print_msg "discard_granularity $gran discard_max_bytes $maxd"
check "discard limits advertised" \
	test "$gran" -gt 0 -a "$maxd" -eq $((16 * MIB))

pattern $DEV 0 8
blkdiscard -o 0 -l $((4 * MIB)) $DEV
check "discarded range reads zeroes" is_zero $DEV 0 4
check "data next to it is kept" \
	cmp -s -n $((4 * MIB)) <(dd if=$DEV bs=1M skip=4 count=4 \
				 iflag=direct status=none) \
		<(tail -c +$((4 * MIB + 1)) /tmp/pcd.rand)
blkdiscard -z -o $((4 * MIB)) -l $((2 * MIB)) $DEV
check "write-zeroes range reads zeroes" is_zero $DEV 4 2
dmsetup message pcd 0 flush
check "after flush the backing device has the zeroes" is_zero "$BACKING" 0 6
dmsetup remove pcd

# the race: dirty data of a range is still being written back (through a
# slow backing device) when the range is discarded; the discard must win
# (writeback_percent 0: writeback starts while the pattern is written)
dmsetup create slow --table "0 $(dev_sectors "$BACKING") delay $BACKING 0 40"
blank "$PMEM"
pcache_create pcd "$PMEM" /dev/mapper/slow writeback_percent 0
ok=1
for r in 0 1 2 3; do
	pattern $DEV $((64 + r * 32)) 32
	sleep "0.$((r * 3))"
	ktap_print_msg "round $r: dirty $(status_field pcd 21) written $(status_field pcd 22)"
	blkdiscard -o $(((64 + r * 32) * MIB)) -l $((32 * MIB)) $DEV
	is_zero $DEV $((64 + r * 32)) 32 || ok=0
done
dmsetup message pcd 0 flush
for r in 0 1 2 3; do
	is_zero "$BACKING" $((64 + r * 32)) 32 || ok=0
done
check "a discard racing writeback wins, through pcache and on the backing device" \
	test $ok = 1
dmsetup remove pcd
dmsetup remove slow

# zero keys: cached, replayed, and applied only when writeback runs (the
# backing device is swapped for an error target meanwhile)
S=$(dev_sectors "$BACKING")
dmsetup create bk --table "0 $S linear $BACKING 0"
blank "$PMEM"
pcache_create pcd "$PMEM" /dev/mapper/bk
pattern $DEV 300 4
dmsetup message pcd 0 flush
dmsetup suspend bk && dmsetup load bk --table "0 $S error" && dmsetup resume bk
blkdiscard -f -z -o $((301 * MIB)) -l $((2 * MIB)) $DEV
blkdiscard -f -o $((303 * MIB)) -l $MIB $DEV
zeroes_cached() {
	is_zero $DEV 301 3 && ! is_zero "$BACKING" 301 3
}
check "zeroes read through pcache while the backing device still has the data" \
	zeroes_cached
dmsetup remove pcd
pcache_create pcd "$PMEM" /dev/mapper/bk
check "replayed zero keys still read zeroes after a restart" is_zero $DEV 301 3
dmsetup suspend bk && dmsetup load bk --table "0 $S linear $BACKING 0" &&
	dmsetup resume bk
dmsetup message pcd 0 flush
check "writeback applies them: the backing device has the zeroes" \
	is_zero "$BACKING" 301 3
check "data around them is intact on the backing device" \
	cmp -s -n $MIB <(dd if="$BACKING" bs=1M skip=300 count=1 iflag=direct \
			 status=none) /tmp/pcd.rand
dmsetup remove pcd
dmsetup remove bk

# writethrough: the backing device has the zeroes at once
blank "$PMEM"
pcache_create pcd "$PMEM" "$BACKING" cache_mode writethrough || exit 1
pattern $DEV 400 4
dd if=$DEV of=/dev/null bs=1M skip=400 count=4 iflag=direct status=none
blkdiscard -z -o $((400 * MIB)) -l $((4 * MIB)) $DEV
check "writethrough: zeroes read through pcache" is_zero $DEV 400 4
check "writethrough: zeroes on the backing device at once" \
	is_zero "$BACKING" 400 4
dmsetup remove pcd

# fstrim on ext4 and xfs
fstrim_fs() {
	local fs=$1 out

	blank "$PMEM"
	pcache_create pcd "$PMEM" "$BACKING" || return 1
	case $fs in
	ext4) mkfs.ext4 -q -F -E nodiscard $DEV ;;
	xfs) mkfs.xfs -q -f -K $DEV ;;
	esac || return 1
	mkdir -p /tmp/pcd.mnt
	mount $DEV /tmp/pcd.mnt || return 1
	dd if=/tmp/pcd.rand of=/tmp/pcd.mnt/f bs=1M count=32 status=none
	sync
	rm /tmp/pcd.mnt/f
	sync
	out=$(fstrim -v /tmp/pcd.mnt)
	ktap_print_msg "$fs: $out"
	umount /tmp/pcd.mnt
	case $fs in
	ext4) fsck.ext4 -fn $DEV > /dev/null 2>&1 ;;
	xfs) xfs_repair -n $DEV > /dev/null 2>&1 ;;
	esac || { echo "$fs check failed"; return 1; }
	dmsetup remove pcd
	echo "$out" | grep -Eq '\([1-9][0-9]* bytes\) trimmed'
}
check "fstrim -v on ext4 trims and fsck is clean" fstrim_fs ext4
check "fstrim -v on xfs trims and xfs_repair is clean" fstrim_fs xfs

dm_cleanup
check "no pcache device is left" sh -c '! dmsetup ls --target pcache | grep -q pcd'
ktap_finished
