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
#
# With DMPC_LANES=2, steps 2 and 3 run in two lanes at once, each its own
# guest: lane 1 (its output shown as it comes) runs KUnit, the tests in
# LANE1 and the power-cut rounds; lane 2 (its output shown when it ends)
# every other test and host test.  The default is one lane: a TCG guest
# with two vCPUs keeps both host cores of this machine busy much of the
# time, so two guests mostly slow each other down.

set -uo pipefail

SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SELF_DIR/../../../.." && pwd)
CACHE=${DMPC_CACHE:-$HOME/.cache/dm-pcache}
PASS=0
FAIL=0
SKIP=0

LAST=$SECONDS
RECAP=$(mktemp)

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
	if [ -s "$RECAP" ]; then
		echo "---- failures (their lines above, repeated) ----"
		head -n 60 "$RECAP"
	fi
	rm -f "$RECAP"
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

# Long tests, by their warm duration: together with the power-cut rounds
# about as long as the rest.  A test not named here runs in lane 2.
LANE1="test_crash_01_sweep.sh test_mode_04_replacement.sh
	test_mode_01_modes.sh test_wb_02_flush.sh test_boot_01_assemble.sh
	test_engine_01_write.sh test_target_02_format.sh
	host_crash_01_torture.sh"

# guest_suite TESTS...: one guest for those kselftests (KUnit too unless
# DMPC_KUNIT=0); its "dmpc-suite:" line, then a line for a splat
guest_suite() {
	local out line start=$SECONDS

	out=$(mktemp)
	DMPC_TESTS="$*" "$SELF_DIR/vmtest.sh" 2>&1 | tee "$out"
	echo "guest suite: $((SECONDS - start)) s"
	line=$(grep -a '^dmpc-suite: ' "$out" | tail -n 1)
	if [ -z "$line" ]; then
		echo "not ok - guest: suite did not report (see above)"
	elif grep -qa '^vmtest: exit status\|^vmtest: kernel splat\|^vmtest: error' "$out"; then
		echo "not ok - guest: clean exit, no kernel splat"
	fi
	rm -f "$out"
}

# host_tests NAMES...
host_tests() {
	local t start

	for t in "$@"; do
		[ -x "$SELF_DIR/$t" ] || continue
		start=$SECONDS
		if "$SELF_DIR/$t"; then
			echo "ok - host: $t ($((SECONDS - start)) s)"
		else
			echo "not ok - host: $t ($((SECONDS - start)) s)"
		fi
	done
}

# tally FILE: add the lane's results (suite lines and host lines)
tally() {
	local line S_passed=0 S_failed=0 S_skipped=0

	while IFS= read -r line; do
		case $line in
		"dmpc-suite: "*)
			eval "$(echo "$line" | sed 's/^dmpc-suite: //;s/\([a-z]*\)=/S_\1=/g')"
			PASS=$((PASS + S_passed))
			FAIL=$((FAIL + S_failed))
			SKIP=$((SKIP + S_skipped))
			;;
		"ok - host: "* | "ok - guest: "*) PASS=$((PASS + 1)) ;;
		"not ok - host: "* | "not ok - guest: "*) FAIL=$((FAIL + 1)) ;;
		esac
	done < <(grep -a '^dmpc-suite: \|^ok - \(host\|guest\): \|^not ok - \(host\|guest\): ' "$1")
}

# recap FILE: append to $RECAP each failed case of FILE (a lane's log),
# named by its test file and led by the diagnostics it printed, and every
# other failure line, so that the end of a long run says what failed
recap() {
	awk '
	/^# selftests: dm-pcache: / { file = $NF; n = 0; next }
	/^# # / { if ($0 !~ /^# # Totals:/) diag[n++ % 8] = $0; next }
	/^# ok [0-9]+ / { n = 0; next }
	/^# not ok [0-9]+ / {
		for (i = (n > 8 ? n - 8 : 0); i < n; i++) print "  " diag[i % 8]
		print file ": " substr($0, 3)
		n = 0
		next
	}
	/^ *not ok [0-9]+ |^not ok - |^vmtest: (exit status|kernel splat|error)/
	' "$1" >> "$RECAP"
}

# in_lane1 NAME: does that test run in lane 1?
in_lane1() {
	[ "${DMPC_LANES:-1}" = 1 ] || [[ " $(echo $LANE1) " == *" $1 "* ]]
}

# lanes: the guest suite and the host tests, in one or two lanes
lanes() {
	local t l1=() l2=() h1=() h2=() log1 log2 pid

	for t in "$SELF_DIR"/test_*.sh; do
		t=$(basename "$t")
		if in_lane1 "$t"; then l1+=("$t"); else l2+=("$t"); fi
	done
	for t in "$SELF_DIR"/host_*.sh; do
		t=$(basename "$t")
		if in_lane1 "$t"; then h1+=("$t"); else h2+=("$t"); fi
	done
	log1=$(mktemp)
	log2=$(mktemp)
	# one module build for both guests
	"$SELF_DIR/vmtest.sh" --build-only > "$log1" 2>&1 ||
		{ cat "$log1"; echo "not ok - host: module build" >> "$log1"; }
	if [ ${#l2[@]} -gt 0 ] || [ ${#h2[@]} -gt 0 ]; then
		{
			[ ${#l2[@]} -eq 0 ] || DMPC_KUNIT=0 guest_suite "${l2[@]}"
			host_tests "${h2[@]}"
		} > "$log2" 2>&1 &
		pid=$!
	fi
	{
		[ ${#l1[@]} -eq 0 ] || guest_suite "${l1[@]}"
		host_tests "${h1[@]}"
	} 2>&1 | tee -a "$log1"
	if [ -n "${pid:-}" ]; then
		wait "$pid"
		echo "---- lane 2 ----"
		cat "$log2"
	fi
	tally "$log1"
	tally "$log2"
	recap "$log1"
	recap "$log2"
	echo "guest suite and host tests: $((SECONDS - LAST)) s"
	rm -f "$log1" "$log2"
}

cd "$REPO" || exit 2
host_prepare
host_checkpatch
host_tools
host_intree
lanes
finish
