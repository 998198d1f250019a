#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fuzz/run.sh SECONDS: run pcache_fuzz on one core for SECONDS, starting
# from the committed seeds (fuzz/seeds/, cut from a real cache image by
# pcache_mkseeds) plus FUZZ_IMAGE's records if set, and the corpus grown by
# earlier runs (under ~/.cache/dm-pcache/fuzz, outside the repository).
# Prints libFuzzer's final stats line (executions, edge coverage) and the
# line coverage of pcache_verify.c over the corpus; exits non-zero if the
# fuzzer found a crash, a hang or a verdict the harness disagrees with
# (the input is kept in the work directory; rerun it with
# `fuzz/pcache_fuzz FILE`).

set -uo pipefail

DIR=$(cd "$(dirname "$0")" && pwd)
SECONDS_RUN=${1:-60}
WORK=${DMPC_CACHE:-$HOME/.cache/dm-pcache}/fuzz
CORPUS=$WORK/corpus
LOG=$WORK/fuzz.log

mkdir -p "$CORPUS" "$WORK/artifacts"
if [ -n "${FUZZ_IMAGE:-}" ]; then
	"$DIR/pcache_mkseeds" "$FUZZ_IMAGE" "$CORPUS" || exit 2
fi
echo "fuzz: $SECONDS_RUN s on one core; corpus $CORPUS, log $LOG"
(cd "$WORK" && "$DIR/pcache_fuzz" -max_total_time="$SECONDS_RUN" \
	-jobs=1 -workers=1 -timeout=10 -rss_limit_mb=2048 -max_len=4128 \
	-print_final_stats=1 -artifact_prefix="$WORK/artifacts/" \
	"$CORPUS" "$DIR/seeds" > /dev/null 2>&1)
rc=$?
# -jobs=1 runs the fuzzer in a child that logs to fuzz-0.log
mv -f "$WORK/fuzz-0.log" "$LOG" 2> /dev/null
grep -E '^#[0-9]+[[:space:]]' "$LOG" | tail -n 1
grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$LOG"
if [ $rc -ne 0 ] || grep -qE 'ERROR: |pcache_fuzz: .*:[0-9]+:|Test unit written' "$LOG"; then
	grep -E 'ERROR: |SUMMARY|pcache_fuzz: |Test unit written' "$LOG" | head -n 10
	echo "fuzz: FAILED (see $LOG and $WORK/artifacts/)"
	exit 1
fi

# Line coverage of the format code over the whole corpus
prof=$WORK/cov.profraw
rm -f "$prof"
LLVM_PROFILE_FILE=$prof "$DIR/pcache_fuzz_cov" -runs=0 "$CORPUS" \
	"$DIR/seeds" > /dev/null 2>&1
if llvm-profdata merge -o "$WORK/cov.profdata" "$prof" 2> /dev/null; then
	llvm-cov report "$DIR/pcache_fuzz_cov" \
		-instr-profile="$WORK/cov.profdata" \
		"$DIR/../../../drivers/md/dm-pcache/format/pcache_verify.c" |
		awk '/pcache_verify.c|^TOTAL/ {
			printf "fuzz: coverage of pcache_verify.c: lines %s, functions %s, branches %s\n", $10, $7, $13 }' |
		head -n 1
fi
echo "fuzz: ok"
