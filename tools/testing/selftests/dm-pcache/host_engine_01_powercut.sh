#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Power cut during writes through pcache: a writer reports every write that
# became durable (FUA, or fdatasync), QEMU is SIGKILLed while it goes on
# writing, and the next boot re-creates the device (journal replay) and
# checks every reported write.  ROUNDS (default 1) rounds, random seeds.

set -uo pipefail

DIR=$(cd "$(dirname "$0")" && pwd)
CACHE=${DMPC_CACHE:-$HOME/.cache/dm-pcache}
ROUNDS=${ROUNDS:-1}
mkdir -p "$CACHE/run"
T=$(mktemp -d "$CACHE/run/powercut.XXXXXX")
trap 'rm -rf "$T"' EXIT
IO=tools/testing/selftests/dm-pcache/powercut_io.py
TABLE='0 $(blockdev --getsz /dev/vda) pcache /dev/pmem0 /dev/vda'

round() {
	local seed=$1 kill=$2 n

	rm -f "$T"/pmem.img "$T"/backing.img
	"$DIR/vmtest.sh" -q --pmem-image "$T/pmem.img" \
		--backing-image "$T/backing.img" --backing-size 512M \
		--kill-on '^KILLPOINT' --timeout 900 --out "$T/out1" -- sh -c "
		dd if=/dev/zero of=/dev/pmem0 bs=4k count=2 oflag=direct status=none
		dmsetup create pc --table \"$TABLE\" &&
		python3 $IO write /dev/mapper/pc $seed 2000 $kill" || return 1
	n=$(grep -ac '^D ' "$T/out1/output.log")
	echo "round seed=$seed: $n durable writes reported before the power cut"
	[ "$n" -gt 0 ] || { tail -n 20 "$T/out1/output.log"; return 1; }
	DMPC_POWERCUT_LOG=$(grep -a '^D ' "$T/out1/output.log") \
	"$DIR/vmtest.sh" --pmem-image "$T/pmem.img" \
		--backing-image "$T/backing.img" --backing-size 512M \
		--timeout 900 -- sh -c "
		dmsetup create pc --table \"$TABLE\" || exit 1
		dmesg | grep 'pcache.*replayed'
		echo \"\$DMPC_POWERCUT_LOG\" | python3 $IO check /dev/mapper/pc"
}

rc=0
for ((r = 0; r < ROUNDS; r++)); do
	round $((RANDOM * 32768 + RANDOM)) $((200 + RANDOM % 600)) || rc=1
done
exit $rc
