#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Opt-in self-test of the bench's splat detector (make check-splat): a
# WARNING provoked through LKDTM inside the guest must make vmtest.sh fail
# even though the command itself succeeds.

DIR=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp)
"$DIR/vmtest.sh" --backing-size 64M -- sh -c '
	insmod "$KBUILD/drivers/misc/lkdtm/lkdtm.ko" &&
	echo WARNING > /sys/kernel/debug/provoke-crash/DIRECT; true' 2>&1 |
	tee "$out"
rc=${PIPESTATUS[0]}
if [ "$rc" -ne 0 ] && grep -q 'kernel splat' "$out"; then
	echo "ok: the provoked WARNING failed the run (exit $rc)"
	rm -f "$out"
	exit 0
fi
echo "not ok: vmtest.sh exited $rc after a provoked WARNING"
rm -f "$out"
exit 1
