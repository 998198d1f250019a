#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: our dm-pcache side by side with raw pmem, the raw backing disk,
# the kernel's own dm-pcache and dm-writecache, in one boot of the non-debug
# bench kernel.
#
# Why one boot: the guest runs under QEMU's TCG emulator, so absolute numbers
# drift with host load and from boot to boot; ratios measured in the same
# boot, on the same emulated nvdimm and virtio disk, with interleaved rounds
# (bench_guest.sh), are what can be compared.  This host half prepares
# preallocated images (a sparse image runs at half speed while it fills),
# boots the guest through vmtest.sh and turns the raw fio output into a
# table, JSON, Markdown and PNG charts (bench_report.py, gnuplot).
#
# Usage: bench.sh [--icount] [--out DIR] [--rounds N] [--runtime SEC]
#                 [--targets "pmem backing ours intree wc"]
#                 [--extras "replay cachefull scale locks"] [--quick]
#   --icount   deterministic guest time (QEMU -icount shift=0,sleep=off):
#              compares the software cost per I/O independently of host load
#   --out DIR  results directory (default: bench-results/<UTC time>[-icount]
#              at the top of the repository, ignored by git)
#   --extras   any of (default: "replay cachefull"):
#              replay     replay time and index DRAM, 512 MiB of 4 KiB extents
#              cachefull  4 KiB random writes of 3x a 512 MiB cache
#              scale      replay time and index DRAM for caches of 256 MiB,
#                         1 GiB and 4 GiB (DMPC_BENCH_SCALE_MB): the nvdimm
#                         becomes 4 GiB, the main jobs use its first 1 GiB
#              locks      lock_stat counts of the 4 KiB randwrite job, in a
#                         second boot, of the debug kernel (built if needed)
#   --quick    1 round of 2 s jobs, no extras: a smoke test of the bench

set -euo pipefail

SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SELF_DIR/../../../.." && pwd)
CACHE=${DMPC_CACHE:-$HOME/.cache/dm-pcache}

ICOUNT=0
OUT=
ROUNDS=3
RUNTIME=5
TARGETS="pmem backing ours intree wc"
EXTRAS="replay cachefull"
ALL_EXTRAS="replay cachefull scale locks"
PMEM_MB=1024
# scale: 4 GiB of cache plus the fsdax namespace's own metadata (64 B of
# struct page per 4 KiB, 2 MiB aligned: 66 MiB of 4192)
SCALE_PMEM_MB=4192
BACKING_SIZE=4G

usage() { sed -n '/^# Usage/,/^$/p' "$0" | sed 's/^# \{0,1\}//'; }

has_extra() { case " $EXTRAS " in *" $1 "*) return 0 ;; esac; return 1; }

while [ $# -gt 0 ]; do
	case $1 in
	--icount) ICOUNT=1 ;;
	--out) OUT=$2; shift ;;
	--rounds) ROUNDS=$2; shift ;;
	--runtime) RUNTIME=$2; shift ;;
	--targets) TARGETS=$2; shift ;;
	--extras) EXTRAS=$2; shift ;;
	--quick) ROUNDS=1; RUNTIME=2; EXTRAS= ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done
for x in $EXTRAS; do
	case " $ALL_EXTRAS " in
	*" $x "*) ;;
	*) echo "bench: unknown extra '$x' (any of: $ALL_EXTRAS)" >&2; exit 2 ;;
	esac
done
# the scale extra needs a 4 GiB cache; the main jobs keep their 1 GiB
has_extra scale && PMEM_MB=$SCALE_PMEM_MB

start=$SECONDS
stamp=$(date -u +%Y%m%dT%H%M%SZ)
[ "$ICOUNT" -eq 1 ] && stamp+=-icount
OUT=${OUT:-$REPO/bench-results/$stamp}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# The bench kernel (config.bench) and its modules; built once, then cached.
"$SELF_DIR/kernel.sh" --config bench kernel > /dev/null

mkdir -p "$CACHE/run"
IMG=$(mktemp -d "$CACHE/run/bench.XXXXXX")
trap 'rm -rf "$IMG"' EXIT
# the nvdimm's file is written, not only allocated: its pages then exist
dd if=/dev/zero of="$IMG/pmem.img" bs=1M count="$PMEM_MB" status=none
fallocate -l "$BACKING_SIZE" "$IMG/backing.img"

vmopts=(--kernel-config bench --mem 2G --cpus 2
	--pmem-size "${PMEM_MB}M" --pmem-image "$IMG/pmem.img"
	--backing-size "$BACKING_SIZE" --backing-image "$IMG/backing.img"
	--timeout 3000 --out "$OUT/vm")
[ "$ICOUNT" -eq 1 ] && vmopts+=(--icount)

# The locks extra: a second boot, of the debug kernel (CONFIG_LOCK_STAT,
# which the bench kernel lacks), after the main one so that its failure
# never costs the main results.  Fresh images; no_hash_pointers lets
# /proc/lockdep show the lock keys' addresses, which tell the module's
# classes from the rest.
locks_boot() {
	"$SELF_DIR/kernel.sh" --config debug kernel > /dev/null || return 1
	"$SELF_DIR/vmtest.sh" --kernel-config debug --mem 2G --cpus 2 \
		--pmem-size 1G --backing-size "$BACKING_SIZE" --no-module \
		--append no_hash_pointers --timeout 1800 --out "$OUT/vm-locks" \
		-- "$SELF_DIR/bench_locks.sh" "$OUT"
}

write_host() {
	{
		echo "icount=$ICOUNT"
		echo "host_cpus=$(nproc)"
		echo "host_cpu=$(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)"
		echo "qemu=$(qemu-system-x86_64 --version | head -n 1)"
		echo "extras=$EXTRAS"
		echo "wall_s=$((SECONDS - start))"
		if [ -n "${locks_rc:-}" ]; then
			echo "locks_rc=$locks_rc"
			echo "locks_wall_s=$locks_s"
		fi
	} > "$OUT/host.txt"
}

echo "bench: results in $OUT"
rc=0
DMPC_BENCH_ROUNDS=$ROUNDS DMPC_BENCH_RUNTIME=$RUNTIME \
DMPC_BENCH_TARGETS=$TARGETS DMPC_BENCH_EXTRAS=$EXTRAS \
	"$SELF_DIR/vmtest.sh" "${vmopts[@]}" -- \
	"$SELF_DIR/bench_guest.sh" "$OUT" || rc=$?
write_host
[ "$rc" -eq 0 ] || { echo "bench: the guest run failed ($rc)"; exit "$rc"; }

if has_extra locks; then
	echo "bench: locks extra: booting the debug kernel"
	locks_rc=0
	locks_s=$SECONDS
	locks_boot || locks_rc=$?
	locks_s=$((SECONDS - locks_s))
	[ "$locks_rc" -eq 0 ] ||
		echo "bench: the locks boot failed ($locks_rc, see $OUT/vm-locks);" \
		     "the main results are kept"
	write_host
fi

python3 "$SELF_DIR/bench_report.py" "$OUT"
echo "bench: wall time $((SECONDS - start)) s; results in $OUT"
