#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bad table lines are normal input: each is refused with a sentence naming
# the problem, and neither device changes by a single byte.

. "$(dirname "$0")/common.sh"

require_guest
trap dm_cleanup EXIT
ktap_print_header

SZ=$(dev_sectors "$BACKING")
P="$PMEM"
B="$BACKING"

# A non-DAX block device: a loop device over a tmpfs file.
truncate -s 256M /tmp/nodax.img
LOOP=$(losetup -f --show /tmp/nodax.img)
# A DAX device that is too small: 64 MiB of pmem through dm-linear.
dmsetup create small_pmem --table "0 131072 linear $P 0"
SMALL=/dev/mapper/small_pmem

# description | table | expected words in the log
CASES=(
	"no arguments|0 $SZ pcache|Not enough arguments"
	"one argument|0 $SZ pcache $P|Not enough arguments"
	"missing cache device|0 $SZ pcache /dev/nonexistent $B|Cannot open cache device '/dev/nonexistent'"
	"missing backing device|0 $SZ pcache $P /dev/nonexistent|Cannot open backing device '/dev/nonexistent'"
	"same device twice|0 $SZ pcache $P $P|are the same device"
	"non-numeric #opt_args|0 $SZ pcache $P $B x cache_mode writeback|Invalid number of optional arguments 'x'"
	"negative #opt_args|0 $SZ pcache $P $B -2 cache_mode writeback|Invalid number of optional arguments '-2'"
	"#opt_args too large|0 $SZ pcache $P $B 4 cache_mode writeback|Number of optional arguments is 4 but 2 follow"
	"#opt_args too small|0 $SZ pcache $P $B 1 cache_mode writeback|Number of optional arguments is 1 but 2 follow"
	"odd #opt_args|0 $SZ pcache $P $B 1 cache_mode|Optional arguments come in pairs"
	"unknown option|0 $SZ pcache $P $B 2 colour blue|Unknown optional argument 'colour'"
	"unsupported cache_mode|0 $SZ pcache $P $B 2 cache_mode writesideways|Unsupported cache_mode 'writesideways'"
	"bad data_crc value|0 $SZ pcache $P $B 2 data_crc maybe|Invalid data_crc value 'maybe'"
	"gc_percent too large|0 $SZ pcache $P $B 2 gc_percent 91|Invalid gc_percent '91'"
	"gc_percent negative|0 $SZ pcache $P $B 2 gc_percent -1|Invalid gc_percent '-1'"
	"gc_percent not a number|0 $SZ pcache $P $B 2 gc_percent ten|Invalid gc_percent 'ten'"
	"option given twice|0 $SZ pcache $P $B 4 data_crc true data_crc false|'data_crc' given twice"
	"target longer than backing|0 $((SZ + 8)) pcache $P $B|exceeds backing device"
	"cache device without DAX|0 $SZ pcache $LOOP $B|does not support DAX"
	"cache device too small|0 $SZ pcache $SMALL $B|is too small"
)

ktap_set_plan $((${#CASES[@]} + 1))

# Start from a formatted cache so that "unchanged" covers real metadata.
blank "$P"
pcache_create fmt "$P" "$B" && dmsetup remove fmt
before_p=$(head_sum "$P")
before_b=$(head_sum "$B")

for c in "${CASES[@]}"; do
	IFS='|' read -r desc table words <<< "$c"
	dmesg_mark
	if dmsetup create bad --table "$table" 2> /dev/null; then
		dmsetup remove bad
		ktap_test_fail "$desc: accepted"
		continue
	fi
	if ! dmesg_since | grep -qF -- "$words"; then
		ktap_print_msg "log was: $(dmesg_since | tail -n 3)"
		ktap_test_fail "$desc: no message with \"$words\""
		continue
	fi
	if [ "$(head_sum "$P")" != "$before_p" ] ||
	   [ "$(head_sum "$B")" != "$before_b" ]; then
		ktap_test_fail "$desc: a device changed"
		continue
	fi
	ktap_test_pass "$desc"
done

check "the cache still loads after all refusals" pcache_create ok "$P" "$B"
dmsetup remove small_pmem
losetup -d "$LOOP"
ktap_finished
