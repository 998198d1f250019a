#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the vmtest.sh guest: our KUnit suites (loaded as a module,
# results read back as KTAP from debugfs), then the kselftests of this
# directory through the kernel's kselftest runner.  kselftest's run_many
# returns 0 even on "not ok", so the results are counted here, and the last
# line is "dmpc-suite: passed=N failed=N skipped=N" for check.sh to add up.
#
# DMPC_TESTS (a shell glob, default "test_*.sh") selects kselftests;
# DMPC_KUNIT=0 skips KUnit.

set -u

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LOG=/tmp/dmpc-suite.log
: > "$LOG"

count() {
	local re=$1 file=$2

	grep -cE "$re" "$file"
}

run_kunit() {
	local mod=$MODDIR/dm-pcache-kunit.ko suite out=/tmp/dmpc-kunit.log

	[ "${DMPC_KUNIT:-1}" = 1 ] || return 0
	: > "$out"
	if [ ! -f "$mod" ]; then
		echo "# no KUnit module at $mod"
		return 0
	fi
	if ! insmod "$mod"; then
		echo "not ok 1 kunit: insmod dm-pcache-kunit.ko"
		echo "not ok 1 kunit: insmod" >> "$out"
	fi
	for suite in /sys/kernel/debug/kunit/pcache*; do
		[ -r "$suite/results" ] || continue
		cat "$suite/results" | tee -a "$out"
	done
	rmmod dm-pcache-kunit 2>/dev/null
	# Test cases are the lines indented by one level (4 spaces).
	KPASS=$(count '^    ok [0-9]+ ' "$out")
	KSKIP=$(count '^    ok [0-9]+ .*# SKIP' "$out")
	KFAIL=$(count '^(    )?not ok [0-9]+ ' "$out")
	KPASS=$((KPASS - KSKIP))
}

# Copy the runner's output through, with the seconds each test file took
# after its result line, so that the slow ones can be found.
stamp() {
	local line start=$SECONDS

	while IFS= read -r line; do
		printf '%s\n' "$line"
		case $line in
		"ok "*" selftests: "* | "not ok "*" selftests: "*)
			echo "# took $((SECONDS - start)) s"
			start=$SECONDS
			;;
		esac
	done
}

run_kselftests() {
	local base=/tmp/ksft tests=()

	mkdir -p "$base"
	ln -sfn "$KSRC/tools/testing/selftests/kselftest" "$base/kselftest"
	ln -sfn "$DIR" "$base/dm-pcache"
	cd "$base/dm-pcache" || return 1
	# shellcheck disable=SC2206
	tests=(${DMPC_TESTS:-test_*.sh})
	[ -e "${tests[0]}" ] || return 0
	(
		set +u
		export BASE_DIR=$base
		# shellcheck disable=SC1091
		. "$base/kselftest/runner.sh"
		echo "KTAP version 1"
		echo "1..${#tests[@]}"
		run_many "${tests[@]/#/./}"
	) 2>&1 | stamp | tee -a "$LOG"
}

# Count the cases inside each test file ("# ok N ..." lines); a file that
# failed without reporting a failed case (crash, timeout) counts as one
# failure, a file skipped as a whole as one skip.
count_kselftests() {
	awk '
	/^# (ok|not ok) [0-9]+ / {
		if ($0 ~ /# SKIP/) skip++
		else if ($2 == "ok") pass++
		else { fail++; nested_fail++ }
		next
	}
	/^not ok [0-9]+ selftests: / { if (!nested_fail) fail++; nested_fail = 0; next }
	/^ok [0-9]+ selftests: .*# SKIP/ { skip++; nested_fail = 0; next }
	/^ok [0-9]+ selftests: / { nested_fail = 0 }
	END { printf "PASS=%d FAIL=%d SKIP=%d\n", pass, fail, skip }
	' "$LOG"
}

KPASS=0 KFAIL=0 KSKIP=0
run_kunit
run_kselftests
eval "$(count_kselftests)"
echo "dmpc-suite: passed=$((PASS + KPASS)) failed=$((FAIL + KFAIL)) skipped=$((SKIP + KSKIP))"
[ $((FAIL + KFAIL)) -eq 0 ]
