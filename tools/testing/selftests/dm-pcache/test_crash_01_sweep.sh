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
# Then two races of a flush or a FUA write with a write held half committed;
# a FUA write, a write the flush message sealed and one the seal timer
# sealed, each replaced by a plain one before writeback gets to it; a kset
# written back while its seal is still counting it; a write cached and
# sealed while a sequential write is about to go around the cache, is in
# its tombstone or on its way there; a sequential write that finds a seal
# in its way, slow or waiting for a full journal; and a seal that fails
# outside a flush, which the next flush must report.
#
# DMPC_SWEEP_TEAR: "alt" (default, for make check) cuts at half the points,
# two in every four, so that both odd and even points are cut cleanly and
# torn, to keep make check short; "both" (make torture) sweeps every point
# twice, clean and torn.

. "$(dirname "$0")/common.sh"

require_guest
trap 'echo 0 > $DBG/stall_ms 2>/dev/null
	echo 0 > $DBG/append_stall_ms 2>/dev/null
	echo 0 > $DBG/bypass_stall_ms 2>/dev/null
	echo 0 > $DBG/remap_stall_ms 2>/dev/null
	echo 0 > $DBG/space_stall_ms 2>/dev/null
	echo 1 > $DBG/stall_release 2>/dev/null
	dm_cleanup; echo 0 > $DBG/crash_after 2>/dev/null
	echo 0 > $DBG/no_seal_timer 2>/dev/null
	echo 0 > $DBG/seal_fails 2>/dev/null
	echo 0 > $DBG/lock_poll_ms 2>/dev/null' EXIT
ktap_print_header

DBG=/sys/kernel/debug/dm-pcache
CR=$COMMON_DIR/crash/pcache_crash
CDEV=/dev/mapper/sweepc
BDEV=/dev/mapper/sweepb
DEV=/dev/mapper/sweep
# ~20 MiB in ten writes of up to 4 MiB: one data segment fills, is written
# back and reclaimed (gc_percent 0) within the workload: some 45 to 57
# points, as writeback and GC fall
WL=(--seed 11 --count 10 --max-len 1024 --fua 25 --sync 25)
OPTS=(cache_mode writeback gc_percent 0)
LOG=/tmp/sweep

if [ ! -d "$DBG" ]; then
	ktap_skip_all "module built without CONFIG_DM_PCACHE_CRASHPOINT"
	exit "$KSFT_SKIP"
fi
# make check sweeps once (21 results), make torture both ways (22)
if [ "${DMPC_SWEEP_TEAR:-alt}" = both ]; then
	ktap_set_plan 22
else
	ktap_set_plan 21
fi

dmsetup create sweepc --table "0 $((96 * 2048)) linear $PMEM 0"
# sweepb's table, and one that fails all its I/O
SWEEPB="0 $((32 * 2048)) linear $BACKING 0"
SWEEPB_ERR="0 $((32 * 2048)) error"
dmsetup create sweepb --table "$SWEEPB"
# Every process costs the debug guest 0.1-0.3 s and a run starts about ten:
# the table is made once, and the shell and all it starts stay on CPU 0
# (writes on two CPUs fill two data heads, and with neither segment full
# there would be nothing for GC to reclaim).
TABLE=$(pcache_table $CDEV $BDEV "${OPTS[@]}")
taskset -pc 0 $$ > /dev/null

# GC runs after writeback has cleaned a segment: give it up to 5 s to
# reclaim one, so that the workload always ends with a GC step
gc_done() { [ "$(status_field sweep 24)" -gt 0 ]; }
wait_gc() { poll 25 0.2 gc_done; }

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

# sweep TEAR: every point, and two past the end; TEAR "alt": points 1, 2,
# 5, 6, 9, 10... and the two past the end, those of 5, 6, 13, 14... torn
sweep() {
	local tear=$1 n bad=0 tried=0

	for ((n = 1; n <= TOTAL + 2; n++)); do
		if [ "$1" = alt ] && [ $n -le $TOTAL ]; then
			[ $((n % 4)) = 1 ] || [ $((n % 4)) = 2 ] || continue
			tear=$((n / 4 % 2))
		fi
		run_once $n "$tear" || bad=$((bad + 1))
		tried=$((tried + 1))
	done
	ktap_print_msg "tear=$1: $bad of $tried crash points failed"
	[ $bad -eq 0 ]
}

if [ "${DMPC_SWEEP_TEAR:-alt}" = both ]; then
	check "recovery after a clean power cut at each point" sweep 0
	check "recovery after a torn store at each point" sweep 1
else
	check "recovery after a power cut at half the points, half torn" \
		sweep alt
fi

# Two races, each with one write held between its index insert and its
# journal entry (the stall_ms knob) while the write it replaces, or that
# replaces it, must stay durable.  Block 0 is written "A" then "B".
head -c 4096 /dev/zero | tr '\0' A > $LOG.a
head -c 4096 /dev/zero | tr '\0' B > $LOG.b
head -c 65536 /dev/zero | tr '\0' W > $LOG.w

# race_start [TABLE]: a fresh cache and backing device, default $TABLE;
# what a check that failed half way left behind goes first
race_start() {
	local k

	for k in no_seal_timer seal_fails stall_ms append_stall_ms \
		bypass_stall_ms remap_stall_ms space_stall_ms lock_poll_ms; do
		echo 0 > $DBG/$k
	done
	stall_release
	[ -e $DEV ] && dmsetup remove sweep
	blank $CDEV
	blkdiscard -z -f $BDEV 2> /dev/null
	dmsetup create sweep --table "${1:-$TABLE}"
}

# stalled_is N: N threads sleep in a stall; stalled_wait [N]: until N
# (default 1) do, 100 tries; stall_release: end every stall now sleeping,
# for a stall armed for the 60-s maximum and held for as long as the
# test's own steps take
stall_release() { echo 1 > $DBG/stall_release; }
# stall_hold KNOB: arm KNOB for the 60-s maximum; stall_end KNOB: disarm
# it (if nothing took it yet) and release what it holds
stall_hold() { echo 60000 > $DBG/$1; }
stall_end() { echo 0 > $DBG/$1; stall_release; }
stalled_is() { [ "$(cat $DBG/stalled)" = "$1" ]; }
stalled_wait() { poll 100 0.1 stalled_is "${1:-1}"; }

# blocked PID...: every PID sleeps uninterruptibly (state D)
blocked() {
	local p s

	for p; do
		read -r _ _ s _ < /proc/$p/stat 2> /dev/null || return 1
		[ "$s" = D ] || return 1
	done
}

# waits NAME PID...: each PID, or the child of it named NAME (a
# background function), runs NAME and is blocked, seen twice 0.1 s apart:
# a task polling for a lock sleeps most of the time, but not all, and
# one just started may sleep a moment reading its program
waits() {
	local name=$1 p c ps=()

	shift
	for p; do
		read -r c < /proc/$p/comm 2> /dev/null || return 1
		[ "$c" = "$name" ] || p=$(pgrep -P "$p" -x "$name") || return 1
		ps+=("$p")
	done
	blocked "${ps[@]}" && sleep 0.1 && blocked "${ps[@]}"
}

# waits_or_gone NAME PID: waits NAME PID, or PID has ended (then the
# caller's poll stops: what it waited for can no longer come)
waits_or_gone() { waits "$1" "$2" || ! kill -0 "$2" 2> /dev/null; }

# seen_waiting NAME PID: PID (NAME) is seen waiting while still held, in
# 200 looks; a second look after a success could catch a polling task
# awake, so what tells a success from an end is whether PID still runs
seen_waiting() {
	poll 200 0.1 waits_or_gone "$1" "$2" && kill -0 "$2" 2> /dev/null
}

# held_or_ended CMD...: CMD succeeds, or no stall is held any more (then
# the caller's poll stops: what CMD waited for came too late)
held_or_ended() { "$@" || ! stalled_is 1; }

# cut_read [TABLE]: cut the power, replay (default $TABLE) and read block
# 0 into $LOG.got
cut_read() {
	echo 1 > $DBG/crash_now
	echo 0 > $DBG/no_seal_timer
	dmsetup remove sweep
	echo 0 > $DBG/crash_after
	dmsetup create sweep --table "${1:-$TABLE}" || return 1
	dd if=$DEV of=$LOG.got bs=4k count=1 iflag=direct status=none
	dmsetup remove sweep
}

# dirty_wait BYTES: until journaled keys (status field 21, dirty bytes,
# counts no key of an open kset) hold BYTES, 100 tries
dirty_is() { [ "$(status_field sweep 21)" = "$1" ]; }
dirty_wait() { poll 100 0.1 dirty_is "$1"; }

# race_end WHAT: cut the power, replay; block 0 must read A or B
race_end() {
	wait
	cut_read || return 1
	cmp -s $LOG.got $LOG.a || cmp -s $LOG.got $LOG.b || {
		echo "block 0 after $1 and the power cut:"
		od -A d -t x1 $LOG.got | head -3
		return 1
	}
}

# flush_race: A completes; B is held while a flush runs (until the
# flush is seen waiting for B's open kset); the flush must leave A (or B)
# durable, though the index no longer holds A
flush_race() {
	local spid ret=0

	race_start || return 1
	dd if=$LOG.a of=$DEV bs=4k count=1 oflag=direct status=none
	stall_hold stall_ms
	dd if=$LOG.b of=$DEV bs=4k count=1 oflag=direct status=none \
		2> /dev/null &
	stalled_wait || { echo "B did not stall"; ret=1; }
	sync $DEV &
	spid=$!
	seen_waiting sync $spid ||
		{ echo "the flush did not wait for B"; ret=1; }
	stall_end stall_ms
	wait $spid
	race_end "the flush" || ret=1
	return $ret
}

# write_fua: A written with REQ_FUA alone, by an asynchronous O_DSYNC
# write (a synchronous one, as dd's, is followed by a flush of the whole
# device); the caller waits for it
write_fua() {
	fio --name=fua --filename=$DEV --rw=write --bs=4k --size=4k \
		--direct=1 --ioengine=libaio --sync=dsync --buffer_pattern=0x41 \
		--output=/dev/null 2> $LOG.fio
}

# fua_race: A with FUA, on CPU 0, is held between its index insert and
# its open kset while B replaces it from CPU 1 and completes; once A
# completes, A (or B) must be durable.  The seal timer is off meanwhile,
# or it could journal B first.  B has its own CPU's open kset, so it
# never queues behind A's, and A is still held when B is done.
fua_race() {
	local pid ret=0

	race_start || return 1
	echo 1 > $DBG/no_seal_timer
	stall_hold stall_ms
	(taskset -pc 0 $BASHPID > /dev/null && write_fua) &
	pid=$!
	stalled_wait || { echo "the FUA write did not stall"; ret=1; }
	taskset -c 1 dd if=$LOG.b of=$DEV bs=4k count=1 oflag=direct \
		status=none
	stalled_is 1 || { echo "B ended after the FUA write's stall"; ret=1; }
	stall_end stall_ms
	wait $pid || { echo "the FUA write failed: $(cat $LOG.fio)"; ret=1; }
	race_end "the FUA write" || ret=1
	return $ret
}

# at_head [BYTES]: the dirty tail (status field 8) is at the journal head
# (field 7), and the dirty bytes (field 21) are BYTES if given; one
# dmsetup call
at_head() {
	local f

	read -ra f <<< "$(dmsetup status sweep)"
	[ "${f[9]}" = "${f[10]}" ] && [ "${1:-${f[23]}}" = "${f[23]}" ]
}

# wb_passed: writeback has passed every journaled key (within 40 s: it
# backs off up to 30 s after a failure)
wb_passed() {
	poll 200 0.2 at_head 0 && return 0
	echo "writeback did not pass the journal: $(dmsetup status sweep)"
	return 1
}

# fua_over: A with FUA completes; B, no FUA, replaces it before writeback
# gets to A (the backing device fails until then) and is still in an open
# kset when the power is cut.  A FUA write is owed once it completes, so
# writeback must not leave A out for B, which no flush made durable.
fua_over() {
	local ret=0

	race_start || return 1
	echo 1 > $DBG/no_seal_timer
	switch_table sweepb "$SWEEPB_ERR" || return 1
	write_fua || { echo "the FUA write failed: $(cat $LOG.fio)"; ret=1; }
	dd if=$LOG.b of=$DEV bs=4k count=1 oflag=direct status=none
	switch_table sweepb "$SWEEPB" || ret=1
	wb_passed || ret=1
	race_end "the FUA write overwritten before writeback" || ret=1
	return $ret
}

# same_block [WHEN]: block 0 read through the cache ($LOG.got) is the
# backing device's block 0
same_block() {
	dd if=$BDEV of=$LOG.back bs=4k count=1 iflag=direct status=none
	cmp -s $LOG.got $LOG.back && return 0
	echo "block 0 ${1}through the cache and on the backing device:"
	od -A d -t x1 $LOG.got | head -2
	od -A d -t x1 $LOG.back | head -2
	return 1
}

# replay_same TABLE: the backing device back, writeback past every
# journaled key, a power cut and a replay with TABLE; then block 0 must
# read the same through the cache as on the backing device
replay_same() {
	local ret=0

	switch_table sweepb "$SWEEPB" || ret=1
	wb_passed || ret=1
	cut_read "$1" || return 1
	same_block "after the replay, " || ret=1
	return $ret
}

# skip_replay: A, journaled by the seal timer, is replaced by B, which is
# still in an open kset when writeback passes A's kset (the backing device
# fails until then) and when the power is cut.  The replay finds A's kset
# behind the dirty tail, so A comes back clean: the backing device must
# hold it.  Writeback may leave A out only for a newer write already in
# the journal, not for B, which the power cut lost.  The default
# gc_percent keeps A's segment.
skip_replay() {
	local ret=0 table

	table=$(pcache_table $CDEV $BDEV cache_mode writeback)
	race_start "$table" || return 1
	switch_table sweepb "$SWEEPB_ERR" || return 1
	dd if=$LOG.a of=$DEV bs=4k count=1 oflag=direct status=none
	dirty_wait 4096 ||
		{ echo "the seal timer sealed nothing in 10 s"; ret=1; }
	echo 1 > $DBG/no_seal_timer
	dd if=$LOG.b of=$DEV bs=4k count=1 oflag=direct status=none
	replay_same "$table" || ret=1
	return $ret
}

# append_race: the seal of A's kset is held right after its journal
# append (append_stall_ms, until released) while writeback, which with
# gc_percent 0 looks every 0.5 s, takes the kset and writes it back.  The
# dirty bytes of the status line must come back to 0: bytes taken off
# before the seal counted them would stay counted.  The seal still held
# after writeback got to the journal head was held when it did.
append_race() {
	local ret=0

	race_start || return 1
	stall_hold append_stall_ms
	dd if=$LOG.a of=$DEV bs=4k count=1 oflag=direct status=none
	stalled_wait || { echo "the seal did not stall"; ret=1; }
	poll 200 0.2 held_or_ended at_head
	at_head && stalled_is 1 || {
		echo "writeback did not take the kset while its seal was held"
		ret=1
	}
	stall_end append_stall_ms
	stalled_wait 0
	wb_passed || ret=1
	dmsetup remove sweep
	return $ret
}

# a_sealed: A's kset is journaled: its 4 KiB are dirty (status field 21)
# or written back already (field 22); one dmsetup call
a_sealed() {
	local f

	read -ra f <<< "$(dmsetup status sweep)"
	[ "${f[23]}" = 4096 ] || [ "${f[24]}" -gt 0 ]
}

# write_a: A to block 0, a plain write (the seal timer seals it)
write_a() {
	dd if=$LOG.a of=$DEV bs=4k count=1 oflag=direct status=none
}

# write_a_dsync: A to block 0 with REQ_FUA, then a flush of the device (a
# synchronous O_DSYNC write); dd starts in a fraction of the seconds fio
# takes in the debug guest
write_a_dsync() {
	dd if=$LOG.a of=$DEV bs=4k count=1 oflag=direct,dsync status=none
}

# bypass_held KNOB WRITER: W, 64 KiB written at once (a sequential stream
# past a 16 KiB cutoff), held at the stall KNOB while WRITER, from the
# other CPU, caches A over W's first block and A is sealed; W's dd is
# $WPID, and W stays held until the caller's stall_release; WRITER's is
# $APID, which the caller waits for after that (an O_DSYNC WRITER's flush
# waits for W).
bypass_held() {
	local ret=0

	stall_hold "$1"
	dd if=$LOG.w of=$DEV bs=64k count=1 oflag=direct status=none \
		2> /dev/null &
	WPID=$!
	stalled_wait || { echo "the sequential write did not stall"; ret=1; }
	( taskset -pc 1 $BASHPID > /dev/null; "$2" ) &
	APID=$!
	poll 400 0.1 held_or_ended a_sealed
	a_sealed ||
		{ echo "the seal timer sealed nothing while W was held"; ret=1; }
	stalled_is 1 ||
		{ echo "the sequential write went on before A's seal"; ret=1; }
	return $ret
}

# held_end KNOB: end bypass_held's hold; A's write must succeed
held_end() {
	stall_end "$1"
	wait $APID || { echo "A's write failed"; return 1; }
}

# bypass_race: a sequential write W (64 KiB, past the 16 KiB cutoff) finds
# the cache clean and is held before its tombstone while A, from the other
# CPU, is cached and sealed by the timer (the backing device fails, so A
# stays dirty).  W's tombstone then takes A out of the index.  Once
# writeback has passed A's kset, the power is cut with the tombstone in no
# sealed kset, and after the replay block 0 must read the same through the
# cache as on the backing device: W must not go around the cache now that
# A is dirty, or writeback would leave A out.
bypass_race() {
	local ret=0 table

	table=$(pcache_table $CDEV $BDEV cache_mode writeback \
		sequential_cutoff 16K)
	race_start "$table" || return 1
	switch_table sweepb "$SWEEPB_ERR" || return 1
	bypass_held bypass_stall_ms write_a || ret=1
	echo 1 > $DBG/no_seal_timer
	held_end bypass_stall_ms || ret=1
	stalled_wait 0
	wait $WPID
	replay_same "$table" || ret=1
	return $ret
}

# bypass_after KNOB WRITER: a sequential write W finds the cache clean and
# is held at KNOB, counted in flight, while WRITER caches A over W's first
# block from the other CPU and A is sealed.  Writeback (writeback_percent
# 0: at once) must not write A back before W is on the backing device,
# where W would then overwrite A under A's clean copy: once the flush
# message returns, block 0 must read the same through the cache as on the
# backing device (the default gc_percent keeps A's segment).
#   remap_stall_ms write_a: W held just before it is sent;
#   stall_ms write_a_dsync: W held inside its tombstone's commit (after
#   the index insert, holding CPU 0's open kset: the timer seals nothing
#   then, so A is a FUA write, which seals its own kset; the flush after
#   it waits for W).
bypass_after() {
	local ret=0 table

	table=$(pcache_table $CDEV $BDEV cache_mode writeback \
		writeback_percent 0 sequential_cutoff 16K)
	race_start "$table" || return 1
	bypass_held "$1" "$2" || ret=1
	held_end "$1" || ret=1
	stalled_wait 0
	wait $WPID || { echo "the sequential write failed"; ret=1; }
	dmsetup message sweep 0 flush ||
		{ echo "the flush message failed"; ret=1; }
	dd if=$DEV of=$LOG.got bs=4k count=1 iflag=direct status=none
	same_block || ret=1
	dmsetup remove sweep
	return $ret
}

# write_w_fua: W with REQ_FUA, 64 KiB at once; dd starts faster than fio
# and the flush that follows its O_DSYNC write comes after W
write_w_fua() {
	dd if=$LOG.w of=$DEV bs=64k count=1 oflag=direct,dsync status=none
}

# write_w: W, 64 KiB at once, a plain write
write_w() {
	dd if=$LOG.w of=$DEV bs=64k count=1 oflag=direct status=none
}

# bypass_busy SEALER WRITER KNOB MS BYPASSED: the cache holds only the
# clean key of a read fill, in an open kset, when SEALER seals it; KNOB
# holds the seal MS ms (or until W waits, see below), with the journal and
# that kset's CPU taken.
# WRITER then sends W (64 KiB, past the 16 KiB cutoff) from CPU 0, which
# finds the cache clean, but can commit its tombstone only after that
# seal.  Then bypass_bytes (status field 26) must be BYPASSED, and W read
# back whole.
#   space_stall_ms 5000: the seal waits as for a full journal, which only
#   writeback frees, while writeback would wait for W, counted in flight:
#   W must be cached instead (0);
#   append_stall_ms: the seal is held right after its journal append, as
#   a slow one: W waits for it (lock_waits grows, so W did not merely
#   come after it) and goes around the cache (65536).  The seal is held
#   until W's dd is seen waiting, and W polls for 30 s (lock_poll_ms), not
#   2 s, so that neither a slow start of dd nor a slow guest ends the
#   seal before W waits for it; MS is -.
# SEALER timer, WRITER write_w_fua: the seal timer's seal; W's FUA seal
# needs the journal (or W's open kset, if the fill's key went to CPU 0's).
# SEALER flush, WRITER write_w: a flush's seal, with every open kset held.
bypass_busy() {
	local ret=0 table spid= waits wpid

	table=$(pcache_table $CDEV $BDEV cache_mode writeback \
		sequential_cutoff 16K)
	race_start "$table" || return 1
	[ "$1" = flush ] && echo 1 > $DBG/no_seal_timer
	waits=$(cat $DBG/lock_waits)
	if [ "$5" = 0 ]; then
		echo "$4" > $DBG/$3
	else
		echo 30000 > $DBG/lock_poll_ms
		stall_hold "$3"
	fi
	dd if=$DEV of=/dev/null bs=4k skip=64 count=1 iflag=direct status=none
	[ "$1" = flush ] && { sync $DEV & spid=$!; }
	stalled_wait || { echo "the fill's seal did not stall"; ret=1; }
	if [ "$5" = 0 ]; then
		"$2" || { echo "W failed"; ret=1; }
	else
		"$2" &
		wpid=$!
		seen_waiting dd $wpid ||
			{ echo "W was never seen waiting"; ret=1; }
		stall_end "$3"
		wait $wpid || { echo "W failed"; ret=1; }
		[ "$(cat $DBG/lock_waits)" != "$waits" ] || {
			echo "W found no lock taken: it came after the seal"
			ret=1
		}
	fi
	stalled_wait 0
	echo 0 > $DBG/lock_poll_ms
	[ -z "$spid" ] || wait $spid || { echo "the flush failed"; ret=1; }
	[ "$(status_field sweep 26)" = "$5" ] || {
		echo "bypassed bytes not $5: $(dmsetup status sweep)"
		ret=1
	}
	dd if=$DEV of=$LOG.got bs=64k count=1 iflag=direct status=none
	cmp -s $LOG.got $LOG.w || { echo "W does not read back"; ret=1; }
	dmsetup remove sweep
	return $ret
}

# seal_drop TABLE WRITE: a device made from TABLE (the seal timer off, so
# that only the suspend seals), then the command WRITE; the seal at a
# suspend fails (the seal_fails knob) and drops what WRITE added to the
# open kset.  The flushes that follow are the caller's.
seal_drop() {
	race_start "$1" || return 1
	echo 1 > $DBG/no_seal_timer
	eval "$2"
	echo 1 > $DBG/seal_fails
	dmsetup suspend sweep || { seal_drop_end; return 1; }
}

# seal_drop_end: the device back to normal and removed
seal_drop_end() {
	dmsetup resume sweep 2> /dev/null
	echo 0 > $DBG/seal_fails
	echo 0 > $DBG/no_seal_timer
	dmsetup remove sweep
}

# seal_resume: resume; the knob must have been used, by a kset with keys
seal_resume() {
	dmsetup resume sweep || { echo "resume failed"; return 1; }
	[ "$(cat $DBG/seal_fails)" = 0 ] || { echo "no seal failed"; return 1; }
}

# must_fail WHAT CMD...: CMD (a flush) must fail; must_pass: succeed
must_fail() {
	local what=$1

	shift
	"$@" 2> /dev/null || return 0
	echo "$what after the lost seal succeeded"
	return 1
}

must_pass() {
	local what=$1

	shift
	"$@" && return 0
	echo "$what after the lost seal failed"
	return 1
}

# msg_over: A completes, the flush message seals it; B replaces it while
# writeback still waits for the backing device (suspended) to write an
# older kset.  Once the message returns, the backing device alone must
# hold A (or B): a flush ends a flush epoch, so writeback must not leave A
# out for B, which no flush made durable.
msg_over() {
	local ret=0 pid

	race_start || return 1
	echo 1 > $DBG/no_seal_timer
	dmsetup suspend sweepb || { dmsetup remove sweep; return 1; }
	# X from CPU 0 and A from CPU 1: two open ksets, X's sealed first
	dd if=$LOG.b of=$DEV bs=4k seek=8 count=1 oflag=direct status=none
	taskset -c 1 dd if=$LOG.a of=$DEV bs=4k count=1 oflag=direct \
		status=none
	dmsetup message sweep 0 flush &
	pid=$!
	# until both ksets are journaled; B sealed with them would test nothing
	dirty_wait 8192 ||
		{ echo "the flush message sealed nothing in 10 s"; ret=1; }
	dd if=$LOG.b of=$DEV bs=4k count=1 oflag=direct status=none
	dmsetup resume sweepb
	wait $pid || { echo "the flush message failed"; ret=1; }
	dd if=$BDEV of=$LOG.got bs=4k count=1 iflag=direct status=none
	echo 0 > $DBG/no_seal_timer
	dmsetup remove sweep
	cmp -s $LOG.got $LOG.a || cmp -s $LOG.got $LOG.b || {
		echo "backing block 0 after the flush message:"
		od -A d -t x1 $LOG.got | head -3
		ret=1
	}
	return $ret
}

WRITE_A="dd if=$LOG.a of=$DEV bs=4k count=1 oflag=direct status=none"

# seal_lost: A completes without FUA and its key is dropped.  The next
# flush of each kind, the filesystem's (fsync: REQ_PREFLUSH) and the
# administrator's (the flush message), must fail, once: neither can keep
# its promise for A.  A flush message while suspended only seals (EAGAIN)
# and leaves the report to the first one after the resume.
seal_lost() {
	local ret=0

	dmesg_mark
	seal_drop "$TABLE" "$WRITE_A" || return 1
	must_fail "the flush message while suspended" \
		dmsetup message sweep 0 flush || ret=1
	seal_resume || ret=1
	logged 'journal full: keys not persisted' ||
		{ echo "no 'journal full' in dmesg"; ret=1; }
	must_fail "the flush message" dmsetup message sweep 0 flush || ret=1
	must_fail "the first fsync" sync $DEV || ret=1
	must_pass "the second fsync" sync $DEV || ret=1
	must_pass "the second flush message" dmsetup message sweep 0 flush ||
		ret=1
	seal_drop_end
	return $ret
}

# seal_clean: a seal that drops only the clean key of a read fill loses
# no write: every flush after it succeeds
seal_clean() {
	local ret=0

	seal_drop "$TABLE" \
		"dd if=$DEV of=/dev/null bs=4k count=1 iflag=direct status=none" ||
		return 1
	seal_resume || ret=1
	must_pass "an fsync" sync $DEV || ret=1
	must_pass "a flush message" dmsetup message sweep 0 flush || ret=1
	seal_drop_end
	return $ret
}

# seal_tombstone: in writearound mode A goes to the backing device after
# a tombstone for its sector; losing the tombstone would let an older
# cached copy come back after a replay, so the next fsync must fail
seal_tombstone() {
	local ret=0

	seal_drop "$(pcache_table $CDEV $BDEV cache_mode writearound)" \
		"$WRITE_A" || return 1
	seal_resume || ret=1
	must_fail "the first fsync" sync $DEV || ret=1
	must_pass "the second fsync" sync $DEV || ret=1
	seal_drop_end
	return $ret
}

# seal_waiters: two fsyncs wait together (behind a write stalled while it
# holds its open kset's lock, until both sleep) when the loss is first
# seen: both fail, as each promises A; the next one succeeds
seal_waiters() {
	local ret=0 dpid p1 p2 r1=0 r2=0

	seal_drop "$TABLE" "$WRITE_A" || return 1
	seal_resume || ret=1
	stall_hold stall_ms
	dd if=$LOG.b of=$DEV bs=4k seek=1 count=1 oflag=direct status=none &
	dpid=$!
	stalled_wait || { echo "the write did not stall"; ret=1; }
	sync $DEV 2> /dev/null &
	p1=$!
	sync $DEV 2> /dev/null &
	p2=$!
	poll 300 0.1 waits sync $p1 $p2 ||
		{ echo "the two fsyncs did not both wait"; ret=1; }
	stall_end stall_ms
	wait $p1 || r1=$?
	wait $p2 || r2=$?
	wait $dpid
	[ "$r1" != 0 ] && [ "$r2" != 0 ] || {
		echo "of two fsyncs waiting together, not both failed"
		ret=1
	}
	must_pass "the third fsync" sync $DEV || ret=1
	seal_drop_end
	return $ret
}

check "a write flushed while a newer one is half committed survives" \
	flush_race
check "a FUA write replaced while half committed survives" fua_race
check "a FUA write replaced before writeback survives" fua_over
check "a write flushed by message, then replaced, reaches the backing device" \
	msg_over
check "a write replaced by one the power cut lost is not left out" \
	skip_replay
check "a kset written back as it is appended leaves no dirty bytes" \
	append_race
check "a write cached as another goes around the cache is not left out" \
	bypass_race
check "a write cached as another goes to the backing device is written after it" \
	bypass_after remap_stall_ms write_a
check "a write sealed during another's tombstone is written after that one" \
	bypass_after stall_ms write_a_dsync
check "a FUA write around the cache never waits for a full journal" \
	bypass_busy timer write_w_fua space_stall_ms 5000 0
check "a write around the cache never waits for a flush on a full journal" \
	bypass_busy flush write_w space_stall_ms 5000 0
check "a FUA write around the cache waits out a slow seal" \
	bypass_busy timer write_w_fua append_stall_ms - 65536
check "a write around the cache waits out a slow flush" \
	bypass_busy flush write_w append_stall_ms - 65536
check "a flush after a failed seal reports the lost writes" seal_lost
check "a failed seal of clean keys only fails no flush" seal_clean
check "a flush after a failed seal reports a lost tombstone" seal_tombstone
check "every flush waiting when a loss is seen reports it" seal_waiters
check "power restored: no crash point left armed" \
	test "$(cat $DBG/crashed)" = 0
ktap_finished
