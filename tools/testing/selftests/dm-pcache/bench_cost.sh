#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The software cost of a 4 KiB random write, for comparing builds of our
# module with each other and with raw pmem and dm-writecache in one boot.
#
# Why: under TCG, make bench's rounds vary by +-30 %, far more than what a
# change to the write path moves.  Under QEMU -icount guest time counts
# executed instructions, so the same job gives the same result to a few
# tenths of a per cent: run this guest script with vmtest.sh --icount.
# With a cache much larger than what the job writes, no writeback or GC
# runs during the job and the numbers are the write path alone; with the
# bench's 1 GiB (--slice 1024) they include that background work, and
# vary from run to run, since writeback's disk I/O completes in host time.
#
#   vmtest.sh --kernel-config bench --icount --no-module --pmem-size 4G -- \
#       tools/testing/selftests/dm-pcache/bench_cost.sh [options] [TARGET...]
#
# TARGET: a path to a dm-pcache.ko (several builds are loaded in turn),
# "ours" (this tree's module, the default), "wc" (dm-writecache) or "pmem"
# (raw /dev/pmem0).
# Options:
#   --slice MB     cache on a dm-linear slice of the first MB of the pmem
#                  (default: the whole pmem)
#   --rounds N     rounds, targets interleaved (default 1)
#   --runtime S    seconds per job (default 4, after 1 s of ramp)
#   --perf DIR     also record a cpu-clock profile of the QD16x2 job of
#                  every target and write perf report text files to DIR
#   --rw MODE      randwrite (default), or randread: reads of the hot set,
#                  which the prefill put in the cache (read hits), once our
#                  writeback has copied it to the backing device

set -uo pipefail

SLICE=0
ROUNDS=1
RUNTIME=4
PERF_DIR=
RW=randwrite
BK=/dev/vda
PMEM=/dev/pmem0
NAME=cost
SLICE_NAME=cost_slice
HOT_MB=256

die() { echo "bench_cost: error: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case $1 in
	--slice) SLICE=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--runtime) RUNTIME=$2; shift 2 ;;
	--perf) PERF_DIR=$2; shift 2 ;;
	--rw) RW=$2; shift 2 ;;
	--) shift; break ;;
	-*) die "unknown option $1" ;;
	*) break ;;
	esac
done
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(ours)
case $RW in randwrite|randread) ;; *) die "--rw: randwrite or randread" ;; esac
[ -n "$PERF_DIR" ] && { mkdir -p "$PERF_DIR" || die "mkdir $PERF_DIR"; }

export DM_DISABLE_UDEV=1
FIO=(--direct=1 --ioengine=libaio --group_reporting --eta=never
	--randrepeat=0 --norandommap --output-format=terse --terse-version=3)

ko_of() {
	case $1 in
	ours) echo "${MODDIR:?}/dm-pcache.ko" ;;
	*.ko) echo "$1" ;;
	esac
}

cache_dev() {
	if [ "$SLICE" = 0 ]; then
		echo $PMEM
		return
	fi
	dmsetup create $SLICE_NAME --table "0 $((SLICE * 2048)) linear $PMEM 0" ||
		die "dm-linear slice of $SLICE MiB"
	echo /dev/mapper/$SLICE_NAME
}

# setup TARGET: sets DEV; a cache target gets a fresh cache and the hot set
setup() {
	local t=$1 n cdev ko

	if [ "$t" = pmem ]; then
		DEV=$PMEM
		return
	fi
	n=$(blockdev --getsz $BK)
	dd if=/dev/zero of=$PMEM bs=1M count=64 oflag=direct status=none ||
		die "zeroing $PMEM"
	cdev=$(cache_dev) || exit 1
	if [ "$t" = wc ]; then
		modprobe dm-writecache 2>/dev/null ||
			insmod "${KBUILD:?}/drivers/md/dm-writecache.ko" 2>/dev/null
		dmsetup create $NAME --table "0 $n writecache p $BK $cdev 4096 0"
	else
		ko=$(ko_of "$t")
		insmod "$ko" || die "insmod $ko"
		dmsetup create $NAME --table \
			"0 $n pcache $cdev $BK 4 cache_mode writeback data_crc false"
	fi
	DEV=/dev/mapper/$NAME
	# without the device, fio would write a regular file of that name
	[ -b "$DEV" ] || die "$t: no device"
	fio --name=prefill --filename="$DEV" "${FIO[@]}" --rw=write --bs=1M \
		--iodepth=4 --size=${HOT_MB}M --output=/dev/null ||
		die "$t: prefill"
	# as make bench does before its read jobs: writeback is done
	if [ "$RW" = randread ] && [ "$t" != wc ]; then
		dmsetup message $NAME 0 flush || die "$t: flush"
	fi
	sleep 3
}

teardown() {
	[ "$1" = pmem ] && return
	dmsetup remove $NAME || die "dmsetup remove $NAME"
	dmsetup remove $SLICE_NAME 2>/dev/null
	case $1 in wc) ;; *) rmmod dm-pcache || die "rmmod dm-pcache" ;; esac
}

# job LABEL JOBS QD [PERF_BASE]: one $RW job, one result line
job() {
	local label=$1 jobs=$2 qd=$3 base=${4:-} out=/tmp/cost.fio cmd

	cmd=(fio --name=rw --filename="$DEV" "${FIO[@]}" --rw="$RW" --bs=4k
		--iodepth="$qd" --numjobs="$jobs" "--size=${HOT_MB}M" --time_based
		--runtime="$RUNTIME" --ramp_time=1 "--output=$out")
	if [ -n "$base" ]; then
		perf record -q -a -g -e cpu-clock -o /tmp/cost.perf -- "${cmd[@]}" \
			> /dev/null 2>&1 || die "$label: perf record"
		perf report -i /tmp/cost.perf --no-children --sort sym --stdio \
			-g none 2> /dev/null | grep -v '^#' | grep -v '^$' | head -80 \
			> "$base.self.txt"
		perf report -i /tmp/cost.perf --children --sort sym --stdio \
			-g none 2> /dev/null | grep -v '^#' | grep -v '^$' |
			grep -v 0x0000 | head -300 > "$base.children.txt"
		rm -f /tmp/cost.perf
	else
		"${cmd[@]}" || die "$label: fio"
	fi
	# terse v3: fields 8 and 49 read and write IOPS, 40 and 81 their mean
	# total latency (us)
	awk -F';' -v l="$label" -v j="$jobs" -v q="$qd" -v r="$RW" \
		'{ i = r == "randread" ? 8 : 49
		   printf "cost: %-40s jobs=%s qd=%-2s %9.0f IOPS %9.2f us\n",
		   l, j, q, $i, $(i + 32) }' $out
}

for ((r = 1; r <= ROUNDS; r++)); do
	for t in "${TARGETS[@]}"; do
		label=$t
		[ ${#label} -gt 40 ] && label=...${label: -37}
		setup "$t"
		perf_base=
		[ -n "$PERF_DIR" ] && perf_base=$PERF_DIR/$(basename "$t" .ko).$r
		job "$label" 2 16 "$perf_base"
		teardown "$t"
		setup "$t"
		job "$label" 1 1
		teardown "$t"
	done
done
