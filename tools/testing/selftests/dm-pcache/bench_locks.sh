#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest half of `make bench`'s locks extra (bench.sh boots the debug kernel
# and runs this): lock contention on the hot path.
#
# Why: this host has two cores, too few to show multi-core scaling directly.
# The debug kernel's lock_stat counts, per lock class, how often a lock was
# taken and how often a CPU had to wait for it; those counts per I/O are
# what limits scaling on more cores.  For ours and then the in-tree target
# (one loaded at a time: both register "pcache"), this creates the cache on
# /dev/pmem0 over /dev/vda as bench_guest.sh does, writes the 256 MiB hot
# set, then runs bench_guest.sh's 4 KiB randwrite job (QD16 x 2 jobs) for
# DMPC_BENCH_LOCKS_RUNTIME seconds with lock_stat cleared and on, and keeps
# in OUT/raw:
#
#   lock_stat.T.txt        /proc/lock_stat right after the job
#   lockdep_classes.T.txt  the lock classes of the module: those whose key
#                          lies in its sections (/proc/lockdep, booted with
#                          no_hash_pointers so that it shows addresses); if
#                          none does (hashed addresses), the classes that
#                          appeared since the module was loaded, as its
#                          "# method=" line says
#   lockdep.T.txt          /proc/lockdep's class lines, for reference
#   locks.T.json, .txt     fio's JSON; ios= (total I/Os), status before/after
#   locks_env.txt          kernel, runtime, command line
#
# The debug kernel (KASAN, lockdep) is many times slower than the bench
# kernel: these are counts per I/O, not speed.  The module's classes are
# read before it is unloaded: lockdep forgets them with the module.
#
# Usage (inside the vmtest.sh guest, debug kernel): bench_locks.sh OUT
# Knobs: DMPC_BENCH_LOCKS_RUNTIME (10 s)
#        DMPC_BENCH_LOCKS_TARGETS ("ours intree")

set -uo pipefail

# bench_guest.sh's targets, jobs and module handling, not a copy of them
# shellcheck source=bench_guest.sh
. "$(dirname "${BASH_SOURCE[0]}")/bench_guest.sh" \
	"${1:?usage: bench_locks.sh OUT}"

LOCKS_RUNTIME=${DMPC_BENCH_LOCKS_RUNTIME:-10}
LOCKS_TARGETS=${DMPC_BENCH_LOCKS_TARGETS:-ours intree}
MODNAME=dm_pcache	# both modules' name in /proc/modules and /sys/module

# lockdep_classes: /proc/lockdep's class lines, without their dependencies
lockdep_classes() {
	grep -v -e '^ ->' -e '^$' /proc/lockdep
}

# module_classes KO BEFORE CLASS_LINES: the names of the classes whose key
# lies in one of the loaded module's sections (their addresses from
# /sys/module, their sizes from the .ko, which is what was loaded); when no
# key does (lockdep printed hashed addresses, or the sections read as 0),
# the classes not in BEFORE (lockdep_classes before the module was loaded:
# the module's, and any other class first used since).
module_classes() {
	# the program comes on stdin, so the class lines are a file argument
	python3 - "$MODNAME" "$1" "$2" "$3" <<'PY'
import os, re, struct, sys

mod, ko, before, lines = sys.argv[1:5]


def ko_sizes(path):
    """ELF64 little-endian section sizes by name."""
    d = open(path, "rb").read()
    if d[:4] != b"\x7fELF" or d[4] != 2 or d[5] != 1:
        return {}
    shoff, = struct.unpack_from("<Q", d, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", d, 0x3A)
    hdrs = [struct.unpack_from("<IIQQQQIIQQ", d, shoff + i * shentsize)
            for i in range(shnum)]
    strtab = hdrs[shstrndx][4]
    sizes = {}
    for h in hdrs:
        a = strtab + h[0]
        name = d[a:d.index(b"\0", a)].decode("ascii", "replace")
        sizes[name] = max(sizes.get(name, 0), h[5])
    return sizes


ranges = []
secdir = "/sys/module/%s/sections" % mod
sizes = ko_sizes(ko)
for name in sorted(os.listdir(secdir)) if os.path.isdir(secdir) else []:
    try:
        addr = int(open(os.path.join(secdir, name)).read().strip(), 16)
    except (OSError, ValueError):
        continue
    if addr and sizes.get(name):
        ranges.append((addr, addr + sizes[name], name))

# "<key> FD: n BD: n <usage>: <name>" (FD/BD/usage with PROVE_LOCKING)
line_re = re.compile(r"^([0-9a-f]+)(?: OPS:\s*\d+)?"
                     r"(?: FD:\s*\d+ BD:\s*\d+ \S+)?: (.+)$")


def class_lines(f):
    for line in f:
        m = line_re.match(line.rstrip("\n"))
        if m:
            yield int(m.group(1), 16), m.group(2)


classes = list(class_lines(open(lines)))
hashed = not any(k >= 0xffff000000000000 for k, _ in classes)
mine = sorted({n for k, n in classes
               for lo, hi, _ in ranges if lo <= k < hi})
method = "address"
if not mine:
    method = "new-since-load"
    old = {n for _, n in class_lines(open(before))}
    mine = sorted({n for _, n in classes} - old)
print("# module=%s ko=%s" % (mod, ko))
print("# method=%s hashed=%d sections=%d classes=%d" %
      (method, hashed, len(ranges), len(classes)))
if mine:
    print("\n".join(mine))
PY
}

# locks_one TARGET: one target's hot-path lock counts (see the top)
locks_one() {
	local t=$1 base before=/tmp/lockdep.before ko s1 s2

	base=$RAW/locks.$t
	case $t in
	ours) ko=$OURS_KO ;;
	intree) ko=$INTREE_KO ;;
	*) die "locks: unknown target $t" ;;
	esac
	# what lockdep knew without either module: the fallback's baseline
	use_module none
	lockdep_classes > "$before"
	create_target "$t" "$PMEM"
	prefill "$t"
	wait_clean "$t" 120
	s1=$(status_of "$t")
	echo 0 > /proc/sys/kernel/lock_stat
	echo 0 > /proc/lock_stat
	echo 1 > /proc/sys/kernel/lock_stat
	# shellcheck disable=SC2046 # job_args are words
	fio --name=randwrite --filename="$DEV" "${FIO_COMMON[@]}" \
		--norandommap --time_based --runtime="$LOCKS_RUNTIME" \
		$(job_args randwrite "$SPAN_MB") --output="$base.json" \
		> "$base.err" 2>&1 ||
		{ log "fio randwrite on $t failed:"; cat "$base.err"; }
	echo 0 > /proc/sys/kernel/lock_stat
	s2=$(status_of "$t")
	cp /proc/lock_stat "$RAW/lock_stat.$t.txt" || die "cannot read /proc/lock_stat"
	lockdep_classes > "$RAW/lockdep.$t.txt"
	module_classes "$ko" "$before" "$RAW/lockdep.$t.txt" \
		> "$RAW/lockdep_classes.$t.txt" ||
		log "locks/$t: could not list the module's lock classes"
	[ -s "$base.err" ] || rm -f "$base.err"
	{
		echo "target=$t"
		awk '/"total_ios" : / { gsub(",", ""); s += $3 }
			END { printf "ios=%d\n", s }' "$base.json" 2> /dev/null
		echo "runtime=$LOCKS_RUNTIME"
		echo "before=$s1"
		echo "after=$s2"
	} > "$base.txt"
	log "  locks $t: $(grep '^ios=' "$base.txt") I/Os," \
	    "$(grep -vc '^#' "$RAW/lockdep_classes.$t.txt") lock classes" \
	    "($(sed -n 's/^# method=\([^ ]*\).*/\1/p' "$RAW/lockdep_classes.$t.txt"))"
	remove_target "$t"
}

locks_main() {
	local t

	mkdir -p "$RAW" || die "cannot write $OUT"
	[ -e /proc/lock_stat ] ||
		die "no /proc/lock_stat: this needs the debug kernel (CONFIG_LOCK_STAT)"
	{ [ -b "$PMEM" ] && [ -b "$BK" ]; } || die "needs $PMEM and $BK"
	[ "$(dax_attr $PMEM)" = 1 ] || die "$PMEM is not DAX"
	[ -f "$INTREE_KO" ] || die "no in-tree dm-pcache module ($INTREE_KO)"
	# /sys/module/*/sections and /proc/modules show addresses only then
	echo 0 > /proc/sys/kernel/kptr_restrict
	pcache_module_loaded && MOD=ours
	{
		echo "kernel=$(uname -r)"
		echo "cpus=$(nproc)"
		echo "cmdline=$(cat /proc/cmdline)"
		echo "runtime=$LOCKS_RUNTIME"
		echo "hot_mb=$HOT_MB"
		echo "targets=$LOCKS_TARGETS"
		echo "pmem_bytes=$(blockdev --getsize64 $PMEM)"
		echo "fio=$(fio --version)"
	} > "$RAW/locks_env.txt"
	for t in $LOCKS_TARGETS; do
		log "locks: $t"
		locks_one "$t"
	done
	use_module none
	log "done"
}

locks_main
