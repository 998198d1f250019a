#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Formatting and loading: a blank cache device is formatted once and then
# loaded; anything else on it (a filesystem, random bytes, the in-tree
# dm-pcache's format) is refused and left byte-identical; a corrupt copy of
# any metadata record is survived through the other copy, and two corrupt
# copies are refused without reformatting.

. "$(dirname "$0")/common.sh"

require_guest
trap dm_cleanup EXIT
ktap_print_header
ktap_set_plan 15

P=$PMEM
B=$BACKING

refused_untouched() {
	local words=$1 sum

	sum=$(head_sum "$P")
	dmesg_mark
	if pcache_create t "$P" "$B" 2> /dev/null; then
		dmsetup remove t
		return 1
	fi
	dmesg_since | grep -qF -- "$words" || {
		ktap_print_msg "log: $(dmesg_since | tail -n 2)"
		return 1
	}
	[ "$(head_sum "$P")" = "$sum" ]
}

formats_blank() {
	blank "$P"
	dmesg_mark
	pcache_create t "$P" "$B" || return 1
	dmsetup remove t
	dmesg_since | grep -q 'formatted .* segments'
}

loads_again() {
	local sum

	sum=$(head_sum "$P")
	dmesg_mark
	pcache_create t "$P" "$B" || return 1
	dmsetup remove t
	! dmesg_since | grep -q 'formatted' && [ "$(head_sum "$P")" = "$sum" ]
}

check "blank device is formatted" formats_blank
check "formatted device loads without reformatting" loads_again

blank "$P"
mkfs.ext4 -q -F "$P" 64M
check "ext4 on the cache device is refused, untouched" \
	refused_untouched "holds an ext2/3/4 filesystem"

blank "$P"
mkfs.xfs -q -f "$P" > /dev/null 2>&1
check "XFS on the cache device is refused, untouched" \
	refused_untouched "holds an XFS filesystem"

dd if=/dev/urandom of="$P" bs=64k count=16 oflag=direct status=none
check "random bytes are refused, untouched" \
	refused_untouched "holds unrecognised data"

# A cache made by the in-tree target (same target name: swap the modules).
intree_refused() {
	local ours=$MODDIR/dm-pcache.ko

	blank "$P"
	rmmod dm-pcache || return 1
	load_kernel_module drivers/md/dm-pcache/dm-pcache.ko || return 1
	pcache_create intree "$P" "$B"
	local rc=$?
	dmsetup remove intree 2> /dev/null
	rmmod dm-pcache
	insmod "$ours" || return 1
	[ $rc -eq 0 ] || { ktap_print_msg "in-tree target refused the device"; return 1; }
	refused_untouched "cache of the in-tree dm-pcache"
}
check "the in-tree dm-pcache's format is refused, untouched" intree_refused

# Each record: name, offset of copy 0, offset of copy 1, failing check name
RECORDS=(
	"superblock 0 2048"
	"cache info 4096 8192"
	"positions 12288 16384"
	"segment info 65536 69632"
)

corrupt_one_survives() {
	local c0=$1

	flip_byte "$P" $((c0 + 40)) || return 1
	dmesg_mark
	pcache_create t "$P" "$B" || return 1
	dmsetup remove t
	dmesg_since | grep -q 'slot 0 is invalid (crc), using slot 1'
}

corrupt_both_refused() {
	local c1=$1

	flip_byte "$P" $((c1 + 40)) || return 1
	refused_untouched "invalid in both copies"
}

for r in "${RECORDS[@]}"; do
	set -- $r
	c1=${*: -1}
	c0=${*: -2:1}
	what=${r% * *}
	formats_blank > /dev/null
	check "$what: one corrupt copy is survived" corrupt_one_survives "$c0"
	check "$what: two corrupt copies are refused" corrupt_both_refused "$c1"
done

# Repairing by hand (flipping back) makes it load again: nothing was erased.
flip_byte "$P" $((65536 + 40))
flip_byte "$P" $((69632 + 40))
check "restored copies load again, no reformat" loads_again
ktap_finished
