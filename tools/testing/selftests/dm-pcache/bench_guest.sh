#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest half of `make bench` (bench.sh boots the guest and runs this).
#
# Why: a claim of being fast is only worth a side-by-side measurement made in
# one boot, on the same emulated nvdimm and the same virtio disk, because
# under QEMU's TCG absolute numbers mean little and vary from boot to boot.
# So this script measures, with the same fio jobs and in interleaved rounds
# (A B C ... A B C ...):
#
#   pmem     raw /dev/pmem0 (the limit)
#   backing  raw /dev/vda (the slow device being cached)
#   ours     our dm-pcache module (built from this tree)
#   intree   the kernel's own dm-pcache (CONFIG_DM_PCACHE=m of the bench
#            kernel); both register target "pcache", so only one is loaded
#   wc       dm-writecache in pmem mode (writecache p)
#
# Every cache target starts each round on a freshly formatted pmem (its
# metadata head zeroed).  Then, with the replay, cache-full and scale extras,
# it writes raw fio JSON and small key=value files under OUT/raw;
# bench_report.py on the host turns them into the table, JSON, Markdown and
# charts.
#
# The cache targets use at most the first DMPC_BENCH_MAIN_MB of the pmem (a
# dm-linear slice when the nvdimm is larger, as bench.sh makes it for the
# scale extra), so that the main jobs measure the same geometry either way;
# the raw pmem target reads and writes the same span of /dev/pmem0.
#
# Usage (inside the vmtest.sh guest): bench_guest.sh OUT
# (bench_locks.sh sources this file for its functions; then main does not run)
# Knobs (environment, DMPC_* so that vmtest.sh passes them in):
#   DMPC_BENCH_ROUNDS (3) DMPC_BENCH_RUNTIME (5 s) DMPC_BENCH_RAMP (1 s)
#   DMPC_BENCH_TARGETS ("pmem backing ours intree wc")
#   DMPC_BENCH_EXTRAS ("replay cachefull"; also "scale")
#   DMPC_BENCH_REPLAY_MB (512)
#   DMPC_BENCH_REPLAY_RUNS (3: creates that replay the same journal)
#   DMPC_BENCH_CF_MB (512: the in-tree target refuses a smaller cache)
#   DMPC_BENCH_MAIN_MB (1024: the cache targets' slice of a larger pmem)
#   DMPC_BENCH_SCALE_MB ("256 1024 4096": the scale extra's cache sizes,
#                        each clipped to the pmem)

set -uo pipefail

OUT=${1:?usage: bench_guest.sh OUT}
RAW=$OUT/raw
ROUNDS=${DMPC_BENCH_ROUNDS:-3}
RUNTIME=${DMPC_BENCH_RUNTIME:-5}
RAMP=${DMPC_BENCH_RAMP:-1}
TARGETS=${DMPC_BENCH_TARGETS:-pmem backing ours intree wc}
EXTRAS=${DMPC_BENCH_EXTRAS-replay cachefull}
REPLAY_MB=${DMPC_BENCH_REPLAY_MB:-512}
REPLAY_RUNS=${DMPC_BENCH_REPLAY_RUNS:-3}
CF_MB=${DMPC_BENCH_CF_MB:-512}
MAIN_MB=${DMPC_BENCH_MAIN_MB:-1024}
SCALE_MB=${DMPC_BENCH_SCALE_MB:-256 1024 4096}

PMEM=/dev/pmem0
CDEV=$PMEM		# the cache targets' device: the pmem or its first MAIN_MB
MAIN_SLICE=bench_main	# the dm-linear slice that is CDEV on a larger pmem
BK=/dev/vda
HOT_MB=256		# working set: every job's hits live here
SPAN_MB=2048		# the 50 % hit job reads HOT plus uncached data up to here
ZERO_MB=64		# metadata plus the first segments of every cache target
OURS_KO=${MODDIR:?}/dm-pcache.ko
INTREE_KO=${KBUILD:?}/drivers/md/dm-pcache/dm-pcache.ko
WC_KO=$KBUILD/drivers/md/dm-writecache.ko

JOBS="randread_hit randread_50 mixed_70_30 randwrite randwrite_qd1 seqwrite_128k"

export DM_DISABLE_UDEV=1
MOD=none	# which pcache module is loaded: ours, intree or none
DEV=		# the block device of the current target
NAME=bench	# its device-mapper name

log() { echo "bench: [$(awk '{printf "%d", $1}' /proc/uptime) s] $*"; }
die() { log "error: $*" >&2; exit 1; }
now_ns() { date +%s%N; }

# ---------------------------------------------------------------- modules

pcache_module_loaded() { grep -q '^dm_pcache ' /proc/modules; }

use_module() {
	[ "$MOD" = "$1" ] && pcache_module_loaded && return 0
	if pcache_module_loaded; then
		rmmod dm-pcache || die "cannot unload the $MOD dm-pcache"
	fi
	MOD=none
	case $1 in
	ours) insmod "$OURS_KO" || die "insmod $OURS_KO" ;;
	intree) insmod "$INTREE_KO" || die "insmod $INTREE_KO" ;;
	none) return 0 ;;
	esac
	MOD=$1
}

# ---------------------------------------------------------------- targets

zero_mb() {	# DEV MIB
	dd if=/dev/zero of="$1" bs=1M count="$2" oflag=direct status=none
}

sectors() { blockdev --getsz "$1"; }

# create_target TARGET CACHE_DEV: sets DEV (a cache target over $BK)
create_target() {
	local t=$1 cache=$2 n

	n=$(sectors "$BK")
	case $t in
	pmem) DEV=$PMEM; return 0 ;;
	backing) DEV=$BK; return 0 ;;
	ours|intree)
		use_module "$t"
		zero_mb "$cache" "$ZERO_MB"
		dmsetup create "$NAME" --table \
			"0 $n pcache $cache $BK 4 cache_mode writeback data_crc false" ||
			die "dmsetup create ($t)"
		;;
	wc)
		# dm-writecache oopses on a non-DAX device in p mode: check
		[ "$(dax_attr "$cache")" = 1 ] || die "$cache is not DAX"
		zero_mb "$cache" "$ZERO_MB"
		dmsetup create "$NAME" --table \
			"0 $n writecache p $BK $cache 4096 0" ||
			die "dmsetup create (writecache)"
		;;
	*) die "unknown target $t" ;;
	esac
	DEV=/dev/mapper/$NAME
}

remove_target() {
	case $1 in pmem|backing) return 0 ;; esac
	dmsetup remove "$NAME" || die "dmsetup remove ($1)"
}

# 1 if block device $1 is DAX-capable (by major:minor: without udev,
# /dev/mapper/NAME is a node, not a link to /dev/dm-N)
dax_attr() {
	local mm

	mm=$(stat -L -c '%t %T' "$1" 2>/dev/null) || return 0
	# shellcheck disable=SC2086 # two hex numbers
	cat "/sys/dev/block/$(printf '%d:%d' 0x${mm% *} 0x${mm#* })/queue/dax" \
		2>/dev/null
}

# wait_clean TARGET SEC: wait (at most SEC) until the cache target has
# written everything back, so that a job does not measure the writeback of
# the one before it.
wait_clean() {
	local t=$1 max=$(($2 * 10)) i s

	for ((i = 0; i < max; i++)); do
		s=$(dmsetup status "$NAME" 2>/dev/null) || return 0
		# shellcheck disable=SC2086 # split the status into fields
		set -- $s
		shift 3
		case $t in
		ours) [ "${21}" = 0 ] && return 0 ;;
		intree) [ "$8" = "$7" ] && return 0 ;;
		wc) [ "$4" = 0 ] && return 0 ;;
		*) return 0 ;;
		esac
		sleep 0.1
	done
	log "$t: still dirty after $2 s, going on"
}

status_of() {
	case $1 in pmem|backing) echo "-" ;; *) dmsetup status "$NAME" ;; esac
}

# ---------------------------------------------------------------- fio

FIO_COMMON=(--direct=1 --ioengine=libaio --group_reporting --eta=never
	--output-format=json --lat_percentiles=1 --randrepeat=0)

# job_args JOB SPAN_MB: the fio options of one job
job_args() {
	local span=$2

	case $1 in
	randread_hit)
		echo "--rw=randread --bs=4k --iodepth=16 --numjobs=2 --size=${HOT_MB}M" ;;
	randread_50)
		echo "--rw=randread --bs=4k --iodepth=16 --numjobs=2 --size=${span}M" \
		     "--random_distribution=zoned_abs:50/${HOT_MB}M:50/$((span - HOT_MB))M" ;;
	mixed_70_30)
		echo "--rw=randrw --rwmixread=70 --bs=4k --iodepth=16 --numjobs=2 --size=${HOT_MB}M" ;;
	randwrite)
		echo "--rw=randwrite --bs=4k --iodepth=16 --numjobs=2 --size=${HOT_MB}M" ;;
	randwrite_qd1)
		echo "--rw=randwrite --bs=4k --iodepth=1 --numjobs=1 --size=${HOT_MB}M" ;;
	seqwrite_128k)
		echo "--rw=write --bs=128k --iodepth=16 --numjobs=1 --size=${HOT_MB}M" ;;
	esac
}

# run_job JOB TARGET ROUND
run_job() {
	local job=$1 t=$2 r=$3 span=$SPAN_MB f base s1 s2 t0 t1

	# raw pmem is smaller than the span: read what the cache targets have
	if [ "$t" = pmem ]; then
		f=$(( $(blockdev --getsize64 "$CDEV") >> 20 ))
		[ "$f" -lt "$span" ] && span=$f
	fi
	base=$RAW/$job.$t.$r
	s1=$(status_of "$t")
	t0=$(now_ns)
	# shellcheck disable=SC2046
	fio --name="$job" --filename="$DEV" "${FIO_COMMON[@]}" --norandommap \
		--time_based --runtime="$RUNTIME" --ramp_time="$RAMP" \
		$(job_args "$job" "$span") --output="$base.json" > "$base.err" 2>&1 ||
		{ log "fio $job on $t failed:"; cat "$base.err"; return 1; }
	t1=$(now_ns)
	s2=$(status_of "$t")
	printf 'before=%s\nafter=%s\nwall_ns=%s\n' "$s1" "$s2" $((t1 - t0)) \
		> "$base.status"
	[ -s "$base.err" ] || rm -f "$base.err"
	# read + write IOPS (python3 would take a second to start under TCG)
	awk -v j="$job" -v t="$t" -v r="$r" '/^ *"iops" : / { gsub(",", "");
		s += $3 } END { printf "bench:   %-14s %-8s round %s: %9.0f IOPS\n",
		j, t, r, s }' "$base.json"
}

# prefill TARGET: the hot set is written once through the target, so that
# later reads of it hit
prefill() {
	fio --name=prefill --filename="$DEV" "${FIO_COMMON[@]}" --rw=write \
		--bs=1M --iodepth=4 --size=${HOT_MB}M --output=/dev/null ||
		die "prefill on $1"
}

# One round of every job on one target, from a fresh cache.
run_target() {
	local t=$1 r=$2 job

	create_target "$t" "$CDEV"
	prefill "$t"
	wait_clean "$t" 30
	for job in $JOBS; do
		run_job "$job" "$t" "$r" || return 1
		case $job in randread_*) ;; *) wait_clean "$t" 5 ;; esac
	done
	remove_target "$t"
}

# ---------------------------------------------------------------- extras

# mem_snap [FILE]: slab, vmalloc and percpu usage in bytes, after dropping
# caches; FILE keeps a copy of /proc/slabinfo
mem_snap() {
	sync
	echo 3 > /proc/sys/vm/drop_caches
	sleep 0.5
	[ -n "${1:-}" ] && cp /proc/slabinfo "$1"
	awk 'NR > 2 { s += $2 * $4 } END { printf "slab=%d ", s }' /proc/slabinfo
	awk '/^(VmallocUsed|Percpu|MemAvailable|Slab):/ {
		sub(":", "", $1); printf "%s=%d ", $1, $2 * 1024 } END { print "" }' \
		/proc/meminfo
}

# timed KEY CMD...: run CMD, print KEY_ns=<its wall time>; die if it fails
timed() {
	local key=$1 t0

	shift
	t0=$(now_ns)
	"$@" || die "$key: $* failed"
	echo "${key}_ns=$(($(now_ns) - t0))"
}

# replay_iolog EXTENTS: the path of a fio iolog that writes every other 4 KiB
# block of the first 2x EXTENTS blocks, each once, in random order: no two
# extents are adjacent, so none can merge in an index.  Made once per count
# (python3 is slow under TCG, and 512K lines take a while).
replay_iolog() {
	local n=$1 iolog=/tmp/replay.$1.iolog

	if [ ! -s "$iolog" ]; then
		python3 - "$n" /dev/mapper/$NAME > "$iolog.tmp" <<'PY' || return 1
import random, sys
n, dev = int(sys.argv[1]), sys.argv[2]
blocks = list(range(n))
random.Random(8).shuffle(blocks)
out = ["fio version 2 iolog", dev + " add", dev + " open"]
out += ["%s write %d 4096" % (dev, b * 8192) for b in blocks]
out.append(dev + " close")
print("\n".join(out))
PY
		mv "$iolog.tmp" "$iolog" || return 1
	fi
	echo "$iolog"
}

# replay_one TARGET CACHE_DEV FILL_MB ZERO_MB [SUFFIX]: replay time and index
# DRAM.  A fresh cache on CACHE_DEV (its first ZERO_MB zeroed, "all": the
# whole device) takes FILL_MB of dirty 4 KiB extents, none adjacent to
# another (8 KiB aligned, kept inside the backing disk), is removed, and the
# `dmsetup create` that replays them is timed, REPLAY_RUNS times (and so is
# the create of the empty cache, the first of which formats it).  Writes
# raw/replay.TARGET[SUFFIX].txt; returns 1, the file saying "refused=", if
# the target refuses the cache device (the in-tree one below 512 MiB).
replay_one() {
	local t=$1 cache=$2 mb=$3 zero=$4 sfx=${5:-} f size ext max iolog table
	local t0 n0

	f=$RAW/replay.$t$sfx.txt
	table="0 $(sectors "$BK") pcache $cache $BK 4 cache_mode writeback data_crc false"

	use_module "$t"
	size=$(( $(blockdev --getsize64 "$cache") >> 20 ))
	case $zero in all) zero=$size ;; esac
	[ "$zero" -gt "$size" ] && zero=$size
	log "replay/$t$sfx: zeroing $zero MiB of $cache"
	zero_mb "$cache" "$zero"
	ext=$((mb * 256))
	max=$(( $(blockdev --getsize64 "$BK") / 8192 ))
	[ "$ext" -gt "$max" ] && ext=$max
	iolog=$(replay_iolog "$ext") || die "cannot write the replay iolog"
	{
		echo "target=$t"
		echo "cache_bytes=$(blockdev --getsize64 "$cache")"
		echo "extents=$ext"
		echo "mem_before: $(mem_snap "$RAW/slabinfo.$t$sfx.before")"
		n0=$(dmesg | wc -l)
		t0=$(now_ns)
		if ! dmsetup create "$NAME" --table "$table"; then
			# the kernel's reason, as the target logged it
			echo "refused=$(dmesg | tail -n +$((n0 + 1)) | tail -n 2 | tr "\n" " ")"
			dmsetup remove "$NAME" 2> /dev/null
			return 1
		fi
		echo "create_empty_ns=$(($(now_ns) - t0))"
		# the first create formats the cache; the same empty cache again
		for ((i = 2; i <= REPLAY_RUNS; i++)); do
			dmsetup remove "$NAME" || die "remove ($t)"
			timed create_empty_again dmsetup create "$NAME" --table "$table"
		done
		echo "mem_empty: $(mem_snap "$RAW/slabinfo.$t$sfx.empty")"
		timed fill fio --name=replayfill "${FIO_COMMON[@]}" --iodepth=16 \
			--read_iolog="$iolog" --replay_no_stall=1 \
			--replay_redirect=/dev/mapper/$NAME --output=/dev/null
		echo "mem_filled: $(mem_snap "$RAW/slabinfo.$t$sfx.filled")"
		echo "status_filled=$(dmsetup status $NAME)"
		timed remove dmsetup remove "$NAME"
		echo "mem_removed: $(mem_snap "$RAW/slabinfo.$t$sfx.removed")"
		n0=$(dmesg | wc -l)
		timed replay dmsetup create "$NAME" --table "$table"
		echo "status_replayed=$(dmsetup status $NAME)"
		# ours says how long the journal walk itself took
		echo "dmesg_replayed=$(dmesg | tail -n +$((n0 + 1)) |
			grep -a 'pcache.*replayed' | tail -n 1)"
		echo "mem_replayed: $(mem_snap "$RAW/slabinfo.$t$sfx.replayed")"
		# the same journal again, each create right after a remove: one
		# create varies by a third under TCG, the report takes the median
		for ((i = 2; i <= REPLAY_RUNS; i++)); do
			dmsetup remove "$NAME" || die "remove ($t)"
			n0=$(dmesg | wc -l)
			timed replay_again dmsetup create "$NAME" --table "$table"
			echo "dmesg_replayed_again=$(dmesg | tail -n +$((n0 + 1)) |
				grep -a 'pcache.*replayed' | tail -n 1)"
		done
		dmsetup remove "$NAME" || die "remove ($t)"
	} > "$f"
	grep -E '^(replay_ns|fill_ns)' "$f" | sed "s/^/bench:   $t$sfx /"
}

# How replay time and index DRAM grow with the cache: replay_one on
# dm-linear slices of the first S MiB of the pmem (S from SCALE_MB, clipped
# to the pmem), each half filled.  Only the head of a slice is zeroed
# (zeroing 4 GiB takes half a minute under TCG), so what the main jobs and
# the other extras wrote is zeroed once here, and the sizes go up: a
# point's journal then ends past anything a smaller point left behind,
# where no stale journal of the same target can be taken for its own.
scale_all() {
	local pm s t sizes sl=bench_scale

	pm=$(( $(blockdev --getsize64 "$PMEM") >> 20 ))
	sizes=$(for s in $SCALE_MB; do
		[ "$s" -gt "$pm" ] && s=$pm
		echo "$s"
	done | sort -nu)
	log "scale: zeroing the first $(( $(blockdev --getsize64 "$CDEV") >> 20 )) MiB of $PMEM"
	zero_mb "$CDEV" $(( $(blockdev --getsize64 "$CDEV") >> 20 ))
	for s in $sizes; do
		dmsetup create $sl --table "0 $((s * 2048)) linear $PMEM 0" ||
			die "dm-linear slice of $s MiB"
		for t in ours intree; do
			replay_one "$t" /dev/mapper/$sl $((s / 2)) "$ZERO_MB" ".$s" ||
				log "scale/$t: the $s MiB cache was refused, skipped"
		done
		dmsetup remove $sl || die "remove slice"
	done
}

# Cache-full behaviour: a small cache (a dm-linear slice of the pmem) takes
# 4 KiB random writes of 3x its size; IOPS are logged every 250 ms.
cachefull_one() {
	local t=$1 sl=bench_slice base

	dmsetup create $sl --table "0 $((CF_MB * 2048)) linear $PMEM 0" ||
		die "dm-linear slice"
	create_target "$t" /dev/mapper/$sl
	base=$RAW/cachefull.$t
	fio --name=cachefull --filename="$DEV" "${FIO_COMMON[@]}" --norandommap \
		--rw=randwrite --bs=4k --iodepth=16 --size=${SPAN_MB}M \
		--io_size=$((CF_MB * 3))M --runtime=90 \
		--write_iops_log="$base" --log_avg_msec=250 \
		--output="$base.json" || log "cache-full fio on $t failed"
	echo "status=$(dmsetup status $NAME)" > "$base.status"
	remove_target "$t"
	dmsetup remove $sl || die "remove slice"
	log "  cachefull $t done"
}

# ---------------------------------------------------------------- main

# use_main_slice: on a pmem larger than MAIN_MB (bench.sh makes one for the
# scale extra), the cache targets get a dm-linear slice of its first MAIN_MB
# (dm-linear over pmem keeps DAX), so that the main jobs and the other
# extras see the geometry they have on the usual 1 GiB nvdimm.
use_main_slice() {
	[ $(( $(blockdev --getsize64 "$PMEM") >> 20 )) -gt "$MAIN_MB" ] ||
		return 0
	dmsetup create $MAIN_SLICE --table "0 $((MAIN_MB * 2048)) linear $PMEM 0" ||
		die "dm-linear slice of the first $MAIN_MB MiB of $PMEM"
	CDEV=/dev/mapper/$MAIN_SLICE
	[ "$(dax_attr "$CDEV")" = 1 ] || die "$CDEV is not DAX"
	log "cache targets on $CDEV, the first $MAIN_MB MiB of $PMEM"
}

main() {
	local r t x

	mkdir -p "$RAW" || die "cannot write $OUT"
	{ [ -b "$PMEM" ] && [ -b "$BK" ]; } || die "needs $PMEM and $BK"
	[ "$(dax_attr $PMEM)" = 1 ] || die "$PMEM is not DAX"
	[ -f "$INTREE_KO" ] || die "no in-tree dm-pcache module ($INTREE_KO)"
	insmod "$WC_KO" 2>/dev/null
	pcache_module_loaded && MOD=ours
	use_main_slice
	{
		echo "kernel=$(uname -r)"
		echo "cpus=$(nproc)"
		echo "mem_kb=$(awk '/MemTotal/{print $2}' /proc/meminfo)"
		echo "pmem_bytes=$(blockdev --getsize64 $PMEM)"
		echo "cache_dev=$CDEV"
		echo "cache_dev_bytes=$(blockdev --getsize64 "$CDEV")"
		echo "backing_bytes=$(blockdev --getsize64 $BK)"
		echo "fio=$(fio --version)"
		echo "rounds=$ROUNDS"
		echo "runtime=$RUNTIME"
		echo "ramp=$RAMP"
		echo "hot_mb=$HOT_MB"
		echo "span_mb=$SPAN_MB"
		echo "replay_mb=$REPLAY_MB"
		echo "cf_mb=$CF_MB"
		echo "scale_mb=$SCALE_MB"
		echo "extras=$EXTRAS"
		echo "targets=$TARGETS"
		echo "jobs=$JOBS"
		echo "clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
	} > "$OUT/env.txt"

	# first touches of the emulated nvdimm cost host page faults: take
	# them now, not in the first target's first round
	t=$(now_ns)
	dd if="$CDEV" of=/dev/null bs=1M iflag=direct status=none
	log "warm-up read of $CDEV: $(( ($(now_ns) - t) / 1000000 )) ms"
	for ((r = 1; r <= ROUNDS; r++)); do
		for t in $TARGETS; do
			log "round $r/$ROUNDS: $t"
			run_target "$t" "$r" || die "round $r on $t failed"
		done
	done
	for x in $EXTRAS; do
		case $x in
		replay)
			for t in ours intree; do
				replay_one $t "$CDEV" "$REPLAY_MB" all ||
					die "replay: $t refused $CDEV"
			done ;;
		cachefull)
			for t in ours intree wc; do cachefull_one $t; done ;;
		scale)
			scale_all ;;
		esac
	done
	use_module none
	[ "$CDEV" = "$PMEM" ] || dmsetup remove $MAIN_SLICE ||
		log "cannot remove $MAIN_SLICE"
	log "done"
}

# bench_locks.sh sources this file for its functions: run only when executed
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	main
fi
