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
#                 [--extras "replay cachefull"] [--quick]
#   --icount   deterministic guest time (QEMU -icount shift=0,sleep=off):
#              compares the software cost per I/O independently of host load
#   --out DIR  results directory (default: bench-results/<UTC time>[-icount]
#              at the top of the repository, ignored by git)
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
PMEM_MB=1024
BACKING_SIZE=4G

usage() { sed -n '/^# Usage/,/^$/p' "$0" | sed 's/^# \{0,1\}//'; }

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

echo "bench: results in $OUT"
rc=0
DMPC_BENCH_ROUNDS=$ROUNDS DMPC_BENCH_RUNTIME=$RUNTIME \
DMPC_BENCH_TARGETS=$TARGETS DMPC_BENCH_EXTRAS=$EXTRAS \
	"$SELF_DIR/vmtest.sh" "${vmopts[@]}" -- \
	"$SELF_DIR/bench_guest.sh" "$OUT" || rc=$?
{
	echo "icount=$ICOUNT"
	echo "host_cpus=$(nproc)"
	echo "host_cpu=$(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)"
	echo "qemu=$(qemu-system-x86_64 --version | head -n 1)"
	echo "wall_s=$((SECONDS - start))"
} > "$OUT/host.txt"
[ "$rc" -eq 0 ] || { echo "bench: the guest run failed ($rc)"; exit "$rc"; }

python3 "$SELF_DIR/bench_report.py" "$OUT"
echo "bench: wall time $((SECONDS - start)) s; results in $OUT"
