#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a test kernel under QEMU with emulated persistent memory and run the
# dm-pcache tests, or any command, inside it.
#
#   vmtest.sh [options]                 run the whole suite (KUnit + kselftests)
#   vmtest.sh [options] -- CMD ARGS...  run CMD in the repository directory
#
# The guest's root is the host's root, shared read-only over 9p, so it has
# the host's dmsetup, fio, ndctl, lvm2, ...; the repository is shared
# writable at its own path.  Persistent memory is a QEMU nvdimm backed by a
# host file (a fresh sparse file per boot unless --pmem-image keeps one);
# backing disks are virtio-blk over host files.  The guest's exit status is
# carried back as ours; a kernel splat in the guest's log fails the run.

set -uo pipefail

SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SELF_DIR/../../../.." && pwd)
CACHE=${DMPC_CACHE:-$HOME/.cache/dm-pcache}

KCONFIG=debug
MEM=2G
CPUS=2
PMEM_SIZE=1G
PMEM_COUNT=1
PMEM_IMAGE=
BACKING_SIZE=4G
BACKING_COUNT=1
BACKING_IMAGE=
KILL_AFTER=
KILL_ON=
# The whole suite in one boot took 55-62 min on the slow hosts of
# 2026-12-01 (3600 s killed it once): 80 min leaves CI's 90 room for the
# host tests, and a guest that truly hangs is still stopped.
TIMEOUT=4800
LOAD_MODULE=1
KEEP_OUT=
EXTRA_APPEND=
ICOUNT=0
QUIET=0
BUILD_ONLY=0

usage() {
	cat <<EOF
Usage: $0 [options] [-- CMD [ARGS...]]

Without CMD, runs the whole dm-pcache suite (KUnit and kselftests) and ends
with one line "N passed, N failed".  With CMD, runs CMD in the repository
directory inside the guest and exits with its status.

Options:
  --kernel-config debug|bench  kernel to boot (default: debug)
  --mem SIZE                   guest RAM (default: $MEM)
  --cpus N                     guest CPUs (default: $CPUS)
  --pmem-size SIZE             size of each nvdimm (default: $PMEM_SIZE)
  --pmem-count N               number of nvdimms, /dev/pmem0.. (default: 1)
  --pmem-image FILE            keep nvdimm 0 in FILE between boots (more
                               nvdimms use FILE.1, FILE.2, ...)
  --backing-size SIZE          size of each backing disk (default: $BACKING_SIZE)
  --backing-count N            number of backing disks, /dev/vda.. (default: 1)
  --backing-image FILE         keep backing disk 0 in FILE (FILE.1, ...)
  --kill-after SEC             SIGKILL QEMU after SEC seconds (a power cut)
  --kill-on REGEX              SIGKILL QEMU as soon as the guest's output
                               matches REGEX (a power cut at a known point)
  --timeout SEC                give up (and fail) after SEC (default: $TIMEOUT)
  --no-module                  do not load our dm-pcache.ko
  --append ARGS                extra kernel command line
  --icount                     deterministic guest time (-icount shift=0)
  --out DIR                    keep console log, dmesg and output in DIR
  --build-only                 prepare the kernel, build the module and the
                               guest's helpers, and boot nothing (so that
                               guests started together share one build)
  -q, --quiet                  do not echo the guest's output
  -h, --help                   this text
EOF
}

die() { echo "vmtest: error: $*" >&2; exit 2; }
note() { echo "vmtest: $*" >&2; }

# SIZE with K/M/G/T suffix -> MiB
to_mib() {
	local v=${1^^} n

	n=${v%[KMGT]}
	[[ $n =~ ^[0-9]+$ ]] || die "bad size '$1'"
	case $v in
	*K) echo $(( (n + 1023) / 1024 )) ;;
	*G) echo $(( n * 1024 )) ;;
	*T) echo $(( n * 1024 * 1024 )) ;;
	*M) echo "$n" ;;
	*) echo $(( n / 1048576 )) ;;
	esac
}

parse_args() {
	while [ $# -gt 0 ]; do
		case $1 in
		--kernel-config) KCONFIG=$2; shift ;;
		--mem) MEM=$2; shift ;;
		--cpus) CPUS=$2; shift ;;
		--pmem-size) PMEM_SIZE=$2; shift ;;
		--pmem-count) PMEM_COUNT=$2; shift ;;
		--pmem-image) PMEM_IMAGE=$2; shift ;;
		--backing-size) BACKING_SIZE=$2; shift ;;
		--backing-count) BACKING_COUNT=$2; shift ;;
		--backing-image) BACKING_IMAGE=$2; shift ;;
		--kill-after) KILL_AFTER=$2; shift ;;
		--kill-on) KILL_ON=$2; shift ;;
		--timeout) TIMEOUT=$2; shift ;;
		--no-module) LOAD_MODULE=0 ;;
		--append) EXTRA_APPEND=$2; shift ;;
		--icount) ICOUNT=1 ;;
		--build-only) BUILD_ONLY=1 ;;
		--out) KEEP_OUT=$2; shift ;;
		-q|--quiet) QUIET=1 ;;
		-h|--help) usage; exit 0 ;;
		--) shift; CMD=("$@"); return 0 ;;
		*) usage >&2; die "unknown option '$1'" ;;
		esac
		[ $# -gt 0 ] || die "option needs a value"
		shift
	done
}

# Build our module against the cached kernel, W=1, warnings are errors.
build_module() {
	local log=$WORK/build.log kunit=n crash=n sum args

	# the power-loss writer and checkers run in the guest
	make -s -C "$SELF_DIR/crash" >&2 || die "building crash/ failed"
	# one module directory per kernel and per checkout: worktrees and
	# clones must not swap modules under each other's running guests
	MODDIR=$CACHE/mod/$(basename "$KBUILD")-$(printf %s "$REPO" |
		md5sum | cut -c1-8)
	mkdir -p "$MODDIR"
	# the debug (KUnit) kernel also gets the simulated power-loss points
	grep -q '^CONFIG_KUNIT=y' "$KBUILD/.config" && kunit=m crash=y
	args=(W=1 CONFIG_DM_PCACHE=m CONFIG_DM_PCACHE_KUNIT_TEST=$kunit
	      CONFIG_DM_PCACHE_CRASHPOINT=$crash)
	# a no-op kbuild run costs 10-20 s per boot: skip it when nothing changed
	sum=$({ echo "${args[*]}"; find "$REPO/drivers/md/dm-pcache" -type f \
		\( -name '*.[ch]' -o -name Makefile -o -name Kconfig \) |
		sort | xargs md5sum; } | md5sum | cut -d' ' -f1)
	if [ -f "$MODDIR/dm-pcache.ko" ] && [ "$(cat "$MODDIR/.srcsum" 2> /dev/null)" = "$sum" ]; then
		return 0
	fi
	rm -f "$MODDIR/.srcsum"
	if ! make -C "$KBUILD" M="$REPO/drivers/md/dm-pcache" MO="$MODDIR" \
		"${args[@]}" -j"$(nproc)" modules > "$log" 2>&1; then
		cat "$log" >&2
		die "module build failed"
	fi
	if grep -E 'warning:|error:' "$log" >&2; then
		die "module build produced warnings (W=1, none allowed)"
	fi
	echo "$sum" > "$MODDIR/.srcsum"
}

# image_path BASE INDEX -> BASE, BASE.1, BASE.2 ...
image_path() {
	if [ "$2" -eq 0 ]; then echo "$1"; else echo "$1.$2"; fi
}

prepare_images() {
	local i f

	for ((i = 0; i < PMEM_COUNT; i++)); do
		if [ -n "$PMEM_IMAGE" ]; then
			f=$(image_path "$PMEM_IMAGE" $i)
		else
			f=$WORK/pmem$i.img
		fi
		[ -f "$f" ] || truncate -s "${PMEM_MIB}M" "$f" || die "cannot create $f"
		PMEM_FILES+=("$f")
	done
	for ((i = 0; i < BACKING_COUNT; i++)); do
		if [ -n "$BACKING_IMAGE" ]; then
			f=$(image_path "$BACKING_IMAGE" $i)
		else
			f=$WORK/backing$i.img
		fi
		[ -f "$f" ] || truncate -s "${BACKING_MIB}M" "$f" ||
			die "cannot create $f"
		BACKING_FILES+=("$f")
	done
}

accel_opts() {
	# Paravirtual nested KVM (no vmx/svm flags) cannot run a normal guest.
	if [ "$ICOUNT" -eq 0 ] && [ -w /dev/kvm ] &&
	   grep -qE '\b(vmx|svm)\b' /proc/cpuinfo; then
		echo "-accel kvm -cpu host"
	elif [ "$ICOUNT" -eq 1 ]; then
		echo "-accel tcg -cpu max -icount shift=0,sleep=off"
	else
		echo "-accel tcg,thread=multi -cpu max"
	fi
}

write_guest_env() {
	{
		printf 'REPO=%q\n' "$REPO"
		printf 'KSRC=%q\n' "$KSRC"
		printf 'KBUILD=%q\n' "$KBUILD"
		printf 'MODDIR=%q\n' "$MODDIR"
		printf 'LOAD_MODULE=%q\n' "$LOAD_MODULE"
		printf 'SPLAT_RE=%q\n' "$SPLAT_RE"
		printf 'EARLY_SPLAT=%q\n' "$EARLY_SPLAT"
		# DMPC_* settings (test selection and the like) reach the guest
		for k in ${!DMPC_@}; do
			printf 'export %s=%q\n' "$k" "${!k}"
		done
		printf 'CMD=('
		printf '%q ' "${CMD[@]}"
		printf ')\n'
	} > "$WORK/guest.env"
}

run_qemu() {
	local i slots maxmem append qemu_pid status

	slots=$((PMEM_COUNT + 1))
	maxmem=$((MEM_MIB + PMEM_COUNT * PMEM_MIB + 1024))
	append="console=ttyS0 loglevel=5 root=/dev/root rootfstype=9p"
	append+=" rootflags=trans=virtio,version=9p2000.L,msize=262144,cache=loose"
	append+=" ro init=$SELF_DIR/guest-init.sh panic=-1 mitigations=off"
	append+=" sysctl.kernel.hung_task_timeout_secs=240 dmpc_work=$WORK"
	# TCG's TSC drifts with host load: the clocksource watchdog then
	# switches to hpet mid-test, and twice the guest died right after
	append+=" tsc=reliable"
	append+=" $EXTRA_APPEND"

	QEMU=(qemu-system-x86_64 -nodefaults -no-reboot -display none
		-machine q35,nvdimm=on $(accel_opts) -smp "$CPUS"
		-m "${MEM_MIB}M,slots=$slots,maxmem=${maxmem}M"
		-kernel "$KBUILD/arch/x86/boot/bzImage" -append "$append"
		-fsdev local,id=root,path=/,security_model=none,readonly=on,multidevs=remap
		-device virtio-9p-pci,fsdev=root,mount_tag=/dev/root
		-fsdev local,id=repo,path="$REPO",security_model=none,multidevs=remap
		-device virtio-9p-pci,fsdev=repo,mount_tag=repo
		-fsdev local,id=work,path="$WORK",security_model=none
		-device virtio-9p-pci,fsdev=work,mount_tag=work
		-serial file:"$WORK/console.log" -serial file:"$WORK/output.log"
		-monitor none)
	for ((i = 0; i < PMEM_COUNT; i++)); do
		QEMU+=(-object "memory-backend-file,id=pm$i,share=on,mem-path=${PMEM_FILES[$i]},size=${PMEM_MIB}M"
		       -device "nvdimm,id=nv$i,memdev=pm$i")
	done
	for ((i = 0; i < BACKING_COUNT; i++)); do
		QEMU+=(-drive "file=${BACKING_FILES[$i]},format=raw,if=none,id=bd$i,cache=unsafe,aio=threads,discard=unmap"
		       -device "virtio-blk-pci,drive=bd$i,serial=backing$i")
	done

	: > "$WORK/output.log"
	"${QEMU[@]}" > "$WORK/qemu.log" 2>&1 &
	qemu_pid=$!
	if [ "$QUIET" -eq 0 ]; then
		tail -n +1 -f --pid=$qemu_pid "$WORK/output.log" 2>/dev/null &
		TAIL_PID=$!
	fi
	KILLED=0
	watch_qemu $qemu_pid
	wait $qemu_pid 2> /dev/null
	status=$?
	[ -n "${TAIL_PID:-}" ] && wait "$TAIL_PID" 2>/dev/null
	if [ "$KILLED" -eq 0 ] && [ $status -ne 0 ]; then
		note "QEMU exited with status $status"
		cat "$WORK/qemu.log" >&2
	fi
}

# Power cut after --kill-after or at --kill-on, failure after --timeout.
watch_qemu() {
	local pid=$1 start=$SECONDS t

	while kill -0 "$pid" 2>/dev/null; do
		t=$((SECONDS - start))
		if [ -n "$KILL_ON" ] && grep -qaE "$KILL_ON" "$WORK/output.log"; then
			kill -KILL "$pid"
			KILLED=1
			note "killed QEMU after '$KILL_ON' appeared (power cut)"
			return
		fi
		if [ -n "$KILL_AFTER" ] && [ $t -ge "$KILL_AFTER" ]; then
			kill -KILL "$pid"
			KILLED=1
			note "killed QEMU after ${KILL_AFTER}s (power cut)"
			return
		fi
		if [ $t -ge "$TIMEOUT" ]; then
			kill -KILL "$pid"
			KILLED=2
			note "timeout after ${TIMEOUT}s: killed QEMU"
			return
		fi
		sleep 0.2
	done
}

# Any of these in the guest's kernel log fails the run.  A guest that
# finds one before it runs anything reports EARLY_SPLAT and is booted again.
EARLY_SPLAT=125
EARLY_BOOTS=3
SPLAT_RE='BUG:|WARNING:|Oops|Call Trace|Kernel panic|UBSAN:'
SPLAT_RE+='|blocked for more than|hung task|INFO: possible|INFO: trying to register'
SPLAT_RE+='|general protection fault|DEBUG_LOCKS_WARN_ON|kmemleak: [0-9]+ new suspected'

check_splat() {
	local log=$WORK/console.log

	[ -s "$WORK/dmesg.txt" ] && log=$WORK/dmesg.txt
	if grep -qE "$SPLAT_RE" "$log"; then
		note "kernel splat in the guest's log:"
		grep -nE -A25 "$SPLAT_RE" "$log" | head -n 120 >&2
		return 1
	fi
	return 0
}

finish() {
	local rc=$1

	if [ -n "$KEEP_OUT" ]; then
		mkdir -p "$KEEP_OUT"
		cp -f "$WORK"/console.log "$WORK"/output.log "$KEEP_OUT"/ 2>/dev/null
		cp -f "$WORK"/dmesg.txt "$KEEP_OUT"/ 2>/dev/null
	fi
	rm -rf "$WORK"
	exit "$rc"
}

main() {
	local rc kenv boot

	CMD=()
	parse_args "$@"
	MEM_MIB=$(to_mib "$MEM")
	PMEM_MIB=$(to_mib "$PMEM_SIZE")
	BACKING_MIB=$(to_mib "$BACKING_SIZE")
	if [ ${#CMD[@]} -eq 0 ]; then
		# The suite needs two caches and two backing disks.
		[ "$PMEM_COUNT" -ge 2 ] || PMEM_COUNT=2
		[ "$BACKING_COUNT" -ge 2 ] || BACKING_COUNT=2
		CMD=(tools/testing/selftests/dm-pcache/run_suite.sh)
	fi

	kenv=$("$SELF_DIR/kernel.sh" --config "$KCONFIG" env) ||
		die "could not prepare the $KCONFIG kernel"
	eval "$kenv"
	mkdir -p "$CACHE/run"
	WORK=$(mktemp -d "$CACHE/run/vm.XXXXXX")
	trap 'rm -rf "$WORK"' INT TERM
	build_module
	[ "$BUILD_ONLY" = 1 ] && finish 0
	PMEM_FILES=()
	BACKING_FILES=()
	prepare_images
	write_guest_env
	run_qemu
	# Under TCG a boot rarely dies before init runs (console ends in
	# early x86 setup) or trips over an early interrupt: nothing of ours
	# ran yet, so boot again, up to EARLY_BOOTS times in all (twice in
	# a row was seen in a long torture run).
	for ((boot = 2; boot <= EARLY_BOOTS; boot++)); do
		if [ "$KILLED" -eq 0 ] && [ ! -f "$WORK/init_started" ]; then
			note "the guest died before init started; console log tail:"
			tail -n 5 "$WORK/console.log" >&2
		elif [ "$(cat "$WORK/status" 2> /dev/null)" = "$EARLY_SPLAT" ]; then
			note "early-boot splat, before anything of ours ran:"
			grep -E -A20 "$SPLAT_RE" "$WORK/dmesg.txt" | head -n 30 >&2
		else
			break
		fi
		note "booting again ($boot of $EARLY_BOOTS)"
		rm -f "$WORK/init_started" "$WORK/status" "$WORK/dmesg.txt"
		run_qemu
	done

	if [ "$KILLED" -eq 2 ]; then
		rc=124
	elif [ -f "$WORK/status" ]; then
		rc=$(cat "$WORK/status")
	elif [ "$KILLED" -eq 1 ]; then
		rc=0
	else
		note "the guest did not finish (crash?); console log tail:"
		tail -n 40 "$WORK/console.log" >&2
		rc=1
	fi
	if ! check_splat && [ "$rc" -eq 0 ]; then
		rc=1
	fi
	[ "$rc" -eq 0 ] || note "exit status $rc"
	finish "$rc"
}

main "$@"
