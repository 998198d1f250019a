#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers shared by the dm-pcache kselftests.  Each test script sources this,
# declares its plan, reports every case through the KTAP helpers and ends
# with ktap_finished.  Tests run inside the vmtest.sh guest, as root, with
# /dev/pmem0 (fsdax) and /dev/vda (backing disk) present.

COMMON_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [ -r "$COMMON_DIR/../kselftest/ktap_helpers.sh" ]; then
	# shellcheck disable=SC1091
	. "$COMMON_DIR/../kselftest/ktap_helpers.sh"
else
	# shellcheck disable=SC1091
	. "${KSRC:?}/tools/testing/selftests/kselftest/ktap_helpers.sh"
fi

export DM_DISABLE_UDEV=1
PMEM=${PMEM:-/dev/pmem0}
BACKING=${BACKING:-/dev/vda}
MODDIR=${MODDIR:-}
KBUILD=${KBUILD:-}

# check NAME CMD... : one KTAP result for one command
check() {
	local name=$1

	shift
	if "$@"; then
		ktap_test_pass "$name"
	else
		ktap_test_fail "$name"
	fi
}

# Skip the whole file unless we are root inside the test guest.
require_guest() {
	if [ "$(id -u)" -ne 0 ] || [ ! -b "$PMEM" ] || [ ! -b "$BACKING" ]; then
		ktap_skip_all "needs root, $PMEM and $BACKING (run via vmtest.sh)"
		exit "$KSFT_SKIP"
	fi
}

# Load a module of the test kernel (peers, lkdtm) by its path in the build.
load_kernel_module() {
	local ko=$KBUILD/$1

	lsmod | grep -q "^$(basename "$ko" .ko | tr - _) " && return 0
	insmod "$ko"
}

pcache_loaded() {
	lsmod | grep -q '^dm_pcache '
}

# Sectors of a block device
dev_sectors() {
	blockdev --getsz "$1"
}

# Zero the first MIB MiB of a device
zero_head() {
	dd if=/dev/zero of="$1" bs=1M count="${2:-1}" oflag=direct status=none
}

# Checksum of the first MIB MiB of a device
head_sum() {
	dd if="$1" bs=1M count="${2:-1}" iflag=direct status=none | md5sum |
		cut -d' ' -f1
}

# Mark the kernel log so that dmesg_since shows only what came after: a
# line of its own, since a count of lines stops working once the log
# buffer is full and drops old lines as new ones come.
dmesg_mark() {
	DMESG_MARK="dmpc-mark $$.$RANDOM.$SECONDS"
	echo "<6>$DMESG_MARK" > /dev/kmsg
}

# dmesg_since: the lines after the mark (the whole log if there is no
# mark); nothing, and false, if the mark is no longer in the log
dmesg_since() {
	[ -n "$DMESG_MARK" ] || { dmesg; return; }
	dmesg | awk -v m="$DMESG_MARK" 'f { print } index($0, m) { f = 1 }
		END { exit !f }'
}

# logged PATTERN: the kernel log has a line matching PATTERN (grep -E)
# since dmesg_mark; not_logged PATTERN: it has none, and still holds the
# mark (a log that lost it tells nothing)
logged() { dmesg_since | grep -qE "$1"; }
not_logged() {
	local lines

	lines=$(dmesg_since) || return 1
	! grep -qE "$1" <<< "$lines"
}

# Flip the bits of one byte of a device (direct I/O, so the page cache
# never hides what the DAX mapping sees).
flip_byte() {
	local dev=$1 off=$2 blk tmp

	blk=$((off / 4096))
	tmp=$(mktemp)
	dd if="$dev" of="$tmp" bs=4096 skip="$blk" count=1 iflag=direct \
		status=none || return 1
	python3 - "$tmp" $((off % 4096)) <<'PY' || return 1
import sys
p, o = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read())
b[o] ^= 0xff
open(p, "wb").write(b)
PY
	dd if="$tmp" of="$dev" bs=4096 seek="$blk" count=1 oflag=direct \
		conv=notrunc status=none
	rm -f "$tmp"
}

# pcache_table CACHE BACKING [OPT...]: a table line over the whole backing
pcache_table() {
	local cache=$1 backing=$2 n

	shift 2
	n=$#
	if [ "$n" -gt 0 ]; then
		echo "0 $(dev_sectors "$backing") pcache $cache $backing $n $*"
	else
		echo "0 $(dev_sectors "$backing") pcache $cache $backing"
	fi
}

# pcache_create NAME CACHE BACKING [OPT...]
pcache_create() {
	local name=$1

	shift
	dmsetup create "$name" --table "$(pcache_table "$@")"
}

# Remove every device-mapper device a test left behind.
dm_cleanup() {
	dmsetup remove_all --force > /dev/null 2>&1
	true
}

# check_bg NAME PID LOG: one KTAP result for a background job, with the
# tail of its log when it failed
check_bg() {
	local name=$1 rc

	wait "$2"
	rc=$?
	[ $rc -eq 0 ] || ktap_print_msg "$(tail -n 5 "$3")"
	check "$name" test $rc -eq 0
}

# status_field NAME N: the Nth target-specific field of dmsetup status
status_field() {
	local f

	# one process, not two: each costs the debug guest 0.1-0.3 s
	read -ra f <<< "$(dmsetup status "$1")"
	echo "${f[$(($2 + 2))]}"
}

# backing_table DEV MODE: a table over all of DEV, passing I/O through
# (MODE linear) or failing all of it (MODE error)
backing_table() {
	if [ "$2" = linear ]; then
		echo "0 $(dev_sectors "$1") linear $1 0"
	else
		echo "0 $(dev_sectors "$1") error"
	fi
}

# poll N SECS CMD...: run CMD until it succeeds, at most N times, SECS
# apart; fails if it never did
poll() {
	local i

	for ((i = 0; i < $1; i++)); do
		"${@:3}" && return 0
		sleep "$2"
	done
	return 1
}

# switch_table NAME TABLE: give the dm device NAME the table TABLE, live
switch_table() {
	dmsetup reload "$1" --table "$2" && dmsetup suspend "$1" &&
		dmsetup resume "$1"
}

# switch_backing NAME DEV MODE: give the dm device NAME that table, live
switch_backing() {
	switch_table "$1" "$(backing_table "$2" "$3")"
}

# Make a device blank (formattable) by zeroing its first 8 KiB.
blank() {
	dd if=/dev/zero of="$1" bs=4096 count=2 oflag=direct status=none
}
