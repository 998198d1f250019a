#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The bench itself: data written to /dev/pmem0 in one boot survives a
# SIGKILL of QEMU (a power cut) and reads back intact in the next boot.

set -uo pipefail

DIR=$(cd "$(dirname "$0")" && pwd)
CACHE=${DMPC_CACHE:-$HOME/.cache/dm-pcache}
mkdir -p "$CACHE/run"
T=$(mktemp -d "$CACHE/run/persist.XXXXXX")
trap 'rm -rf "$T"' EXIT

# 8 MiB of random data at 64 MiB into /dev/pmem0, then wait to be killed.
"$DIR/vmtest.sh" -q --pmem-image "$T/pmem.img" --backing-size 64M \
	--kill-on '^WRITTEN' --timeout 600 --out "$T/out1" -- sh -c '
	head -c 8M /dev/urandom > /tmp/p &&
	dd if=/tmp/p of=/dev/pmem0 bs=1M seek=64 oflag=direct status=none &&
	echo "SUM $(md5sum < /tmp/p | cut -d" " -f1)" &&
	echo WRITTEN && sleep 600' || exit 1
sum=$(awk '/^SUM /{print $2}' "$T/out1/output.log")
[ -n "$sum" ] || { echo "phase 1 wrote nothing"; exit 1; }

"$DIR/vmtest.sh" -q --pmem-image "$T/pmem.img" --backing-size 64M \
	--timeout 600 --out "$T/out2" -- sh -c "
	got=\$(dd if=/dev/pmem0 bs=1M skip=64 count=8 iflag=direct status=none |
	       md5sum | cut -d' ' -f1)
	echo \"expected $sum got \$got\"
	[ \"\$got\" = $sum ]" || exit 1
grep -a "expected" "$T/out2/output.log"
