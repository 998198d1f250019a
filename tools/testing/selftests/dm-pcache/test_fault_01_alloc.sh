#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Faults injected on purpose, with data checked afterwards by the
# power-loss checker (durable writes intact, nothing torn or foreign):
#   - table loads, and so replay, under failing slab and higher-order page
#     allocations (failslab / fail_page_alloc aimed at dmsetup with the task
#     filter): each load either works or fails with a message, and the
#     cache's data survives every failed attempt;
#   - the same, with the failures aimed at our own allocations only (the
#     stack-trace filter, set to the module's text), so that every
#     allocation of the constructor and of replay can fail: each refused
#     load says why;
#   - writes under failing allocations in the writer's context: each
#     completes correctly or fails with an error, never a hang or a splat;
#   - bad sectors on the backing device (dm-dust): writeback fails there
#     and retries, the data stays readable through pcache, and once the
#     sectors are good again the backing device alone is complete.

. "$(dirname "$0")/common.sh"

require_guest
trap 'faults_off; dm_cleanup' EXIT
ktap_print_header

CR=$COMMON_DIR/crash/pcache_crash
SLAB=/sys/kernel/debug/failslab
PAGE=/sys/kernel/debug/fail_page_alloc
DEV=/dev/mapper/pcf
AREA=8192
WL=(--area "$AREA" --max-len 16 --fua 20 --sync 20)

if [ ! -d $SLAB ] || [ ! -d $PAGE ]; then
	ktap_skip_all "kernel without FAILSLAB and FAIL_PAGE_ALLOC"
	exit "$KSFT_SKIP"
fi
ktap_set_plan 17

# faults_on PERCENT SPACE TIMES: once tasks with make-it-fail set have
# allocated SPACE bytes, fail PERCENT of their slab and order >= 1 page
# allocations (sleeping ones included), TIMES times (-1: no limit)
faults_on() {
	local d

	for d in $SLAB $PAGE; do
		echo "$1" > $d/probability
		echo "$2" > $d/space
		echo "$3" > $d/times
		echo 0 > $d/interval
		echo 0 > $d/verbose
		echo Y > $d/task-filter
		echo N > $d/ignore-gfp-wait
	done
	# order-0 faults would hit the task's own page faults (OOM killer)
	echo 1 > $PAGE/min-order
}

faults_off() {
	local d

	for d in $SLAB $PAGE; do
		echo 0 > $d/probability 2> /dev/null
		[ -e $d/require-start ] || continue
		# the defaults: every stack qualifies
		echo 0 > $d/require-start
		echo 0xffffffffffffffff > $d/require-end
	done
}

# aim_at_module: only allocations with our module's code on the stack fail
aim_at_module() {
	local d lo hi

	read -r lo hi <<< "$(awk '$4 == "[dm_pcache]" && $2 ~ /^[tT]$/ { print $1 }' \
		/proc/kallsyms | sort | sed -n '1p;$p' | tr '\n' ' ')"
	[ -n "$hi" ] || return 1
	for d in $SLAB $PAGE; do
		echo 32 > $d/stacktrace-depth
		echo "0x$lo" > $d/require-start || return 1
		# past the start of the last function: none is that long
		printf '0x%x\n' $((0x$hi + 65536)) > $d/require-end || return 1
	done
}

# The guest's root is 9p, whose client does not survive an allocation
# failure in the middle of a request (every later file access fails with
# EINVAL).  So the failing tasks never touch it: dmsetup, its libraries
# and the loader are copied to tmpfs, and pcache_crash is static.
STAGE=/tmp/f01
mkdir -p $STAGE
cp "$(command -v dmsetup)" $STAGE/
ldd "$(command -v dmsetup)" | awk '/=> \//{print $3} /^\t\//{print $1}' |
	xargs -I{} cp {} $STAGE/
cp "$CR" $STAGE/pcache_crash
LDSO=$(ldd "$(command -v dmsetup)" | awk '/ld-linux/{print $1}')
cp "$LDSO" $STAGE/ld.so

# failing CMD...: run CMD (dmsetup or pcache_crash) from tmpfs with
# allocation faults aimed at it; the shell's echo is a builtin
failing() {
	local cmd=$1

	shift
	if [ "$cmd" = dmsetup ]; then
		set -- "$STAGE/ld.so" --library-path "$STAGE" "$STAGE/dmsetup" "$@"
	else
		set -- "$STAGE/pcache_crash" "$@"
	fi
	(echo 1 > /proc/self/make-it-fail && exec "$@")
}

table() {
	pcache_table "$PMEM" "$BACKING" cache_mode writeback
}

# try_load: one table load with the faults set up; counts it in ok (loaded
# and removed), failed (refused) or other (loaded, then not removable)
try_load() {
	if failing dmsetup create pcf --table "$(table)" 2> /dev/null; then
		ok=$((ok + 1))
		dmsetup remove pcf || other=$((other + 1))
	else
		failed=$((failed + 1))
		# a create that failed after the device node was made
		dmsetup remove pcf > /dev/null 2>&1
	fi
}

blank "$PMEM"
zero_head "$BACKING" 64
pcache_create pcf "$PMEM" "$BACKING" cache_mode writeback
"$CR" write $DEV --seed 21 --count 400 "${WL[@]}" > /tmp/f01.rep
dmsetup remove pcf
check "data to keep written ($(grep -c '^D ' /tmp/f01.rep) durable writes)" \
	grep -q '^D ' /tmp/f01.rep

# table loads under failing allocations
dmesg_mark
ok=0 failed=0 other=0
# one failure per load, after 0, 1 ... 24 KiB of the task's allocations:
# from the exec through dm's ioctl to our constructor and replay (the
# loads below aim at every allocation of ours; 1 KiB steps keep this part
# at 25 loads, each a second or two of the debug guest)
for ((sp = 0; sp <= 24 << 10; sp += 1024)); do
	faults_on 100 $sp 1
	try_load
	faults_off
done
ktap_print_msg "table loads with one allocation failing: $ok loaded, $failed refused"
dmesg_since | grep -a 'pcache\|device-mapper' | sed 's/^\[[^]]*\] //' |
	sort | uniq -c | while read -r l; do ktap_print_msg "  $l"; done
check "table loads under failing allocations load or fail cleanly" \
	test $other -eq 0 -a $failed -gt 0 -a $ok -gt 0
check "no device is left behind" test -z "$(dmsetup ls | grep '^pcf')"
pcache_create pcf "$PMEM" "$BACKING" cache_mode writeback
"$CR" check $DEV --seed 21 --count 400 "${WL[@]}" < /tmp/f01.rep > /tmp/f01.chk
check "the cache's data survived every failed load" test $? -eq 0
dmsetup remove pcf

# table loads with failures in our own code only: each of our allocations
# fails with the given probability, the first failure ends the attempt
dmesg_mark
ok=0 failed=0 other=0
if [ -e $SLAB/require-start ]; then
	for pct in 2 5 10 25 50 100; do
		for ((i = 0; i < 6; i++)); do
			faults_on $pct 0 1
			aim_at_module || break 2
			try_load
			faults_off
		done
	done
fi
faults_off
said=$(dmesg_since | grep -ac 'device-mapper: table: .*: pcache: ')
ktap_print_msg "loads with our allocations failing: $ok loaded, $failed refused, $said reasons logged"
dmesg_since | grep -a 'pcache' | sed 's/^\[[^]]*\] //' |
	sort | uniq -c | while read -r l; do ktap_print_msg "  $l"; done
check "the stack filter aims failures at the module" test -e $SLAB/require-start
check "loads with our allocations failing load or fail cleanly" \
	test $other -eq 0 -a $failed -gt 0
check "each refused load logged its reason" test "$said" -ge "$failed"
# ENOMEM is never blamed on the cache device (media error, corruption)
no_blame() {
	! dmesg_since | grep -a 'pcache: .*(-12)' | grep -qiE 'media|corrupt|holds'
}
check "no refusal blames the cache device for a failed allocation" no_blame
check "no device is left behind" test -z "$(dmsetup ls | grep '^pcf')"
pcache_create pcf "$PMEM" "$BACKING" cache_mode writeback
"$CR" check $DEV --seed 21 --count 400 "${WL[@]}" < /tmp/f01.rep > /tmp/f01.chk
check "the cache's data survived every failed load" test $? -eq 0
dmsetup remove pcf

# writes under failing allocations, in the writer's context
blank "$PMEM"
zero_head "$BACKING" 64
pcache_create pcf "$PMEM" "$BACKING" cache_mode writeback
faults_on 2 $((1 << 20)) -1
failing pcache_crash write $DEV --seed 22 --count 2000 "${WL[@]}" > /tmp/f01.rep
rc=$?
faults_off
ktap_print_msg "writer under 2% failing allocations: exit $rc, $(grep -c '^D ' /tmp/f01.rep) durable writes, $(grep STOPPED /tmp/f01.rep)"
check "writes under failing allocations succeed or fail with an error" \
	test $rc -eq 0 -o $rc -eq 3
"$CR" check $DEV --seed 22 --count 2000 "${WL[@]}" < /tmp/f01.rep > /tmp/f01.chk
check "every write reported durable reads back" test $? -eq 0
dmsetup remove pcf

# bad sectors on the backing device: a read miss there fails with EIO;
# data written over them is served from the cache, and writeback's write
# remaps them (dm-dust's model of a disk), so the backing device ends up
# with the data
blank "$PMEM"
zero_head "$BACKING" 64
BAD="100 1000 5000"
dmsetup create dust --table "0 $(dev_sectors "$BACKING") dust $BACKING 0 4096"
for b in $BAD; do dmsetup message dust 0 addbadblock $b > /dev/null; done
dmsetup message dust 0 quiet > /dev/null
dmsetup message dust 0 enable > /dev/null
pcache_create pcf "$PMEM" /dev/mapper/dust cache_mode writeback
check "a read miss on a bad backing sector fails with EIO" \
	sh -c "! dd if=$DEV of=/dev/null bs=4096 skip=1000 count=1 iflag=direct status=none 2> /dev/null"
check "a read miss on a good sector works" \
	dd if=$DEV of=/dev/null bs=4096 skip=1001 count=1 iflag=direct status=none
head -c 4096 /dev/urandom > /tmp/f01.blk
for b in $BAD; do
	dd if=/tmp/f01.blk of=$DEV bs=4096 seek=$b count=1 oflag=direct status=none
done
dust_same() { # DEV
	local b

	for b in $BAD; do
		dd if="$1" bs=4096 skip=$b count=1 iflag=direct status=none |
			cmp -s - /tmp/f01.blk || return 1
	done
}
check "data written over bad sectors reads back from the cache" dust_same $DEV
check "writeback remaps the bad sectors (flush succeeds)" \
	dmsetup message pcf 0 flush
dmsetup remove pcf
check "the backing device alone holds the data" dust_same /dev/mapper/dust
dmsetup remove dust
ktap_finished
