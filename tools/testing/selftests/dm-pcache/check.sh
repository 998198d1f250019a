#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`: everything that proves the tree, in one unattended run.
#   1. host: packages, kernel source and test kernel (cached), our module
#      built with W=1 and no warnings, checkpatch on our C files, the
#      userspace tools
#   2. guest: KUnit and the kselftests (vmtest.sh without a command)
#   3. host-driven multi-boot tests (host_*.sh: power cuts and the like)
# and ends with the single line "N passed, N failed[, N skipped]".

set -uo pipefail

SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SELF_DIR/../../../.." && pwd)
CACHE=${DMPC_CACHE:-$HOME/.cache/dm-pcache}
PASS=0
FAIL=0
SKIP=0

LAST=$SECONDS

# result RC NAME: one line per host step, with the seconds it took
result() {
	local ok=$1 name="$2 ($((SECONDS - LAST)) s)"

	LAST=$SECONDS
	if [ "$ok" -eq 0 ]; then
		PASS=$((PASS + 1))
		echo "ok - $name"
	else
		FAIL=$((FAIL + 1))
		echo "not ok - $name"
	fi
}

finish() {
	if [ "$SKIP" -gt 0 ]; then
		echo "$PASS passed, $FAIL failed, $SKIP skipped"
	else
		echo "$PASS passed, $FAIL failed"
	fi
	[ "$FAIL" -eq 0 ]
	exit
}

host_prepare() {
	local kenv

	if ! kenv=$("$SELF_DIR/kernel.sh" env); then
		result 1 "host: test kernel"
		finish
	fi
	eval "$kenv"
	result 0 "host: test kernel $KVER"
}

host_checkpatch() {
	local files

	files=$(cd "$REPO" && git ls-files -co --exclude-standard \
		'drivers/md/dm-pcache/*.[ch]' 'tools/dm-pcache/*.[ch]')
	[ -n "$files" ] || return 0
	(cd "$REPO" && perl "$KSRC/scripts/checkpatch.pl" --no-tree -q \
		--show-types --ignore SPDX_LICENSE_TAG -f $files)
	result $? "host: checkpatch clean on our C files"
}

# The userspace tools, for test_tools_* in the guest and host_tools_*
host_tools() {
	make -s -C "$REPO/tools/dm-pcache" all > /dev/null
	result $? "host: make tools (pcache_check, pcache_dump, pcache_status)"
}

# make intree into a hard-linked copy of the cached source, then build the
# tree's drivers/md/dm-pcache/ there with W=1, as a distribution would.
host_intree() {
	local t=$CACHE/intree log

	rm -rf "$t"
	mkdir -p "$t/build"
	log=$t/build.log
	cp -al "$KSRC" "$t/linux" &&
	"$SELF_DIR/intree.sh" "$t/linux" > "$log" 2>&1 &&
	cp "$KBUILD/.config" "$t/build/.config" &&
	"$t/linux/scripts/config" --file "$t/build/.config" \
		-m DM_PCACHE -m DM_PCACHE_KUNIT_TEST &&
	make -s -C "$t/linux" O="$t/build" ARCH=x86_64 olddefconfig >> "$log" 2>&1 &&
	CCACHE_DIR=$CACHE/ccache CCACHE_BASEDIR=$t/linux \
	make -s -C "$t/linux" O="$t/build" ARCH=x86_64 CC="ccache gcc" W=1 \
		-j"$(nproc)" drivers/md/dm-pcache/ >> "$log" 2>&1 &&
	! grep -E 'warning:|error:' "$log" &&
	[ -f "$t/build/drivers/md/dm-pcache/dm-pcache.o" ]
	local rc=$?
	[ $rc -eq 0 ] || tail -n 30 "$log"
	result $rc "host: make intree, in-tree build of drivers/md/dm-pcache/ with W=1"
	rm -rf "$t"
}

guest_suite() {
	local out line

	out=$(mktemp)
	"$SELF_DIR/vmtest.sh" 2>&1 | tee "$out"
	echo "guest suite: $((SECONDS - LAST)) s"
	LAST=$SECONDS
	line=$(grep -a '^dmpc-suite: ' "$out" | tail -n 1)
	if [ -z "$line" ]; then
		result 1 "guest: suite did not report (see above)"
	else
		eval "$(echo "$line" | sed 's/^dmpc-suite: //;s/\([a-z]*\)=/S_\1=/g')"
		PASS=$((PASS + S_passed))
		FAIL=$((FAIL + S_failed))
		SKIP=$((SKIP + S_skipped))
		grep -qa '^vmtest: exit status\|^vmtest: kernel splat\|^vmtest: error' "$out" &&
			result 1 "guest: clean exit, no kernel splat"
	fi
	rm -f "$out"
}

host_tests() {
	local t

	for t in "$SELF_DIR"/host_*.sh; do
		[ -x "$t" ] || continue
		"$t"
		result $? "host: $(basename "$t")"
	done
}

cd "$REPO" || exit 2
host_prepare
host_checkpatch
host_tools
host_intree
guest_suite
host_tests
finish
