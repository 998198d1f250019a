#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A power loss at every persistence point of a short workload: format,
# writes with FUA and fdatasync, kset seals, metadata slot updates,
# writeback progress and a GC step.  The module's simulated power loss
# (CONFIG_DM_PCACHE_CRASHPOINT, /sys/kernel/debug/dm-pcache/) drops every
# pmem store after the Nth persistence point, cleanly or tearing the first
# dropped store.  After each crash the device is re-created (replay) and
#   - the backing device alone holds a prefix of the flush epochs,
#   - every write the writer saw become durable is intact, nothing is torn.
#
# DMPC_SWEEP_TEAR: "alt" (default, for make check) cuts cleanly at even
# points and tears at odd ones; "both" (make torture) sweeps every point
# twice, clean and torn.

. "$(dirname "$0")/common.sh"

require_guest
trap 'dm_cleanup; echo 0 > $DBG/crash_after 2>/dev/null' EXIT
ktap_print_header

DBG=/sys/kernel/debug/dm-pcache
CR=$COMMON_DIR/crash/pcache_crash
CDEV=/dev/mapper/sweepc
BDEV=/dev/mapper/sweepb
DEV=/dev/mapper/sweep
# ~20 MiB in ten writes of up to 4 MiB: one data segment fills, is written
# back and reclaimed (gc_percent 0) within the workload: 44 points
WL=(--seed 11 --count 10 --max-len 1024 --fua 25 --sync 25)
OPTS=(cache_mode writeback gc_percent 0)
LOG=/tmp/sweep

if [ ! -d "$DBG" ]; then
	ktap_skip_all "module built without CONFIG_DM_PCACHE_CRASHPOINT"
	exit "$KSFT_SKIP"
fi
# make check sweeps once (4 results), make torture both ways (5)
if [ "${DMPC_SWEEP_TEAR:-alt}" = both ]; then
	ktap_set_plan 5
else
	ktap_set_plan 4
fi

dmsetup create sweepc --table "0 $((96 * 2048)) linear $PMEM 0"
dmsetup create sweepb --table "0 $((32 * 2048)) linear $BACKING 0"
# Every process costs the debug guest 0.1-0.3 s and a run starts about ten:
# the table is made once, and the shell and all it starts stay on CPU 0
# (writes on two CPUs fill two data heads, and with neither segment full
# there would be nothing for GC to reclaim).
TABLE=$(pcache_table $CDEV $BDEV "${OPTS[@]}")
taskset -pc 0 $$ > /dev/null

# GC runs after writeback has cleaned a segment: give it up to 5 s to
# reclaim one, so that the workload always ends with a GC step
wait_gc() {
	local i

	for ((i = 0; i < 25; i++)); do
		[ "$(status_field sweep 24)" -gt 0 ] && return 0
		sleep 0.2
	done
}

# run_once N TEAR: the workload with power lost after point N (0: never),
# then replay and both checks.  Prints what failed; returns non-zero then.
run_once() {
	local n=$1 tear=$2 crashed

	blank $CDEV
	blkdiscard -z -f $BDEV 2> /dev/null
	echo "$n" > $DBG/crash_after
	echo "$tear" > $DBG/tear
	if dmsetup create sweep --table "$TABLE" 2> $LOG.err; then
		"$CR" write $DEV "${WL[@]}" > $LOG.rep 2>&1
		# after the power is lost nothing can be flushed
		read -r crashed < $DBG/crashed
		[ "$crashed" = 0 ] &&
			dmsetup message sweep 0 flush 2> /dev/null && wait_gc
		# only the uninterrupted run's status is looked at
		[ "$n" -ne 0 ] || dmsetup status sweep > $LOG.status
		dmsetup remove sweep
	else
		: > $LOG.rep
	fi
	read -r PERSISTS < $DBG/persists
	echo 0 > $DBG/crash_after
	if ! "$CR" order $BDEV "${WL[@]}" > $LOG.order; then
		echo "point $n tear $tear: backing device not a prefix of the epochs"
		cat $LOG.order
		return 1
	fi
	if ! dmsetup create sweep --table "$TABLE"; then
		echo "point $n tear $tear: replay failed"
		return 1
	fi
	if ! "$CR" check $DEV "${WL[@]}" < $LOG.rep > $LOG.check; then
		echo "point $n tear $tear: durable data lost or torn"
		cat $LOG.check
		dmsetup remove sweep
		return 1
	fi
	dmsetup remove sweep
}

run_once 0 0
TOTAL=$PERSISTS
ktap_print_msg "workload: $TOTAL persistence points; status: $(cat $LOG.status)"
check "uninterrupted workload verifies ($TOTAL persistence points)" \
	test "$TOTAL" -gt 20
# status fields 22 and 24: writeback_bytes, reclaimed_segs
check "workload includes writeback and a GC step" \
	awk '$25 > 0 && $27 > 0 { ok = 1 } END { exit !ok }' $LOG.status

# sweep TEAR: every point, and two past the end; TEAR "alt": odd points torn
sweep() {
	local tear=$1 n bad=0

	for ((n = 1; n <= TOTAL + 2; n++)); do
		[ "$1" = alt ] && tear=$((n % 2))
		run_once $n "$tear" || bad=$((bad + 1))
	done
	ktap_print_msg "tear=$1: $bad of $((TOTAL + 2)) crash points failed"
	[ $bad -eq 0 ]
}

if [ "${DMPC_SWEEP_TEAR:-alt}" = both ]; then
	check "recovery after a clean power cut at each point" sweep 0
	check "recovery after a torn store at each point" sweep 1
else
	check "recovery after a power cut at each point, odd ones torn" \
		sweep alt
fi
check "power restored: no crash point left armed" \
	test "$(cat $DBG/crashed)" = 0
ktap_finished
