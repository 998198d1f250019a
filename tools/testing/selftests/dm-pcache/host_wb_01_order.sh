#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Ordered writeback survives a power cut: generations of writes separated by
# flushes go through pcache while writeback runs, QEMU is SIGKILLed, and the
# next boot reads the BACKING device directly: it must hold a prefix of the
# flush epochs (order_io.py check).  Then pcache is created on the same
# images and every block must be of the last generation that was flushed.

set -uo pipefail

DIR=$(cd "$(dirname "$0")" && pwd)
CACHE=${DMPC_CACHE:-$HOME/.cache/dm-pcache}
mkdir -p "$CACHE/run"
T=$(mktemp -d "$CACHE/run/order.XXXXXX")
trap 'rm -rf "$T"' EXIT
IO=tools/testing/selftests/dm-pcache/order_io.py
TABLE='0 $(blockdev --getsz /dev/vda) pcache /dev/pmem0 /dev/vda'
BLOCKS=2048
KILL=$((8 + RANDOM % 8))

"$DIR/vmtest.sh" -q --pmem-image "$T/pmem.img" \
	--backing-image "$T/backing.img" --backing-size 512M \
	--kill-on '^KILLPOINT' --timeout 900 --out "$T/out1" -- sh -c "
	dd if=/dev/zero of=/dev/pmem0 bs=4k count=2 oflag=direct status=none
	dmsetup create pc --table \"$TABLE\" &&
	python3 $IO write /dev/mapper/pc $BLOCKS $KILL" || exit 1
last=$(grep -a '^G ' "$T/out1/output.log" | tail -n 1 | cut -d' ' -f2)
echo "power cut after generation ${last:-none} was flushed (killpoint $KILL)"
[ -n "$last" ] || { tail -n 20 "$T/out1/output.log"; exit 1; }
"$DIR/vmtest.sh" --pmem-image "$T/pmem.img" --backing-image "$T/backing.img" \
	--backing-size 512M --timeout 900 -- sh -c "
	python3 $IO check /dev/vda $BLOCKS || exit 1
	dmsetup create pc --table \"$TABLE\" || exit 1
	python3 $IO check /dev/mapper/pc $BLOCKS $last"
