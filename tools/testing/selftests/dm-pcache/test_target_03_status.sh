#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Status, table and messages: the in-tree target's nine status fields lead,
# `dmsetup table` recreates the device, gc_percent is bounded and persists,
# and a table that contradicts the cache's data_crc is refused.

. "$(dirname "$0")/common.sh"

require_guest
trap dm_cleanup EXIT
ktap_print_header
ktap_set_plan 14

P=$PMEM
B=$BACKING
blank "$P"
pcache_create st "$P" "$B" cache_mode writeback data_crc true

nine_fields() {
	local s

	s=$(dmsetup status st | cut -d' ' -f4-)
	ktap_print_msg "status: $s"
	echo "$s" | grep -qE '^[0-9a-f]+ [0-9]+ [0-9]+ [0-9]+ [0-9]+ [0-9a-f]+ [0-9]+:[0-9]+ [0-9]+:[0-9]+ [0-9]+:[0-9]+( |$)'
}
check "status begins with the in-tree target's nine fields" nine_fields
check "status shows gc_percent 70 (default)" test "$(status_field st 5)" = 70
check "status shows data_crc" test "$(status_field st 6)" = 1

msg_ok() { dmsetup message st 0 gc_percent "$1" 2> /dev/null && test "$(status_field st 5)" = "$1"; }
msg_bad() { ! dmsetup message st 0 "$@" 2> /dev/null; }
check "message gc_percent 0 accepted" msg_ok 0
check "message gc_percent 90 accepted" msg_ok 90
check "message gc_percent 91, -1, ten, empty, missing refused" \
	sh -c "! dmsetup message st 0 gc_percent 91 2>/dev/null &&
	       ! dmsetup message st 0 gc_percent -1 2>/dev/null &&
	       ! dmsetup message st 0 gc_percent ten 2>/dev/null &&
	       ! dmsetup message st 0 gc_percent '' 2>/dev/null &&
	       ! dmsetup message st 0 gc_percent 2>/dev/null &&
	       ! dmsetup message st 0 gc_percent 1 2 2>/dev/null"
check "refused values left gc_percent alone" test "$(status_field st 5)" = 90
check "unknown message refused" msg_bad frobnicate
dmsetup message st 0 gc_percent 33

table_recreates() {
	local t s1 s2

	t=$(dmsetup table st)
	s1=$(dmsetup status st)
	ktap_print_msg "table: $t"
	dmsetup remove st || return 1
	dmsetup create st --table "$t" || return 1
	s2=$(dmsetup status st)
	[ "$s1" = "$s2" ]
}
check "dmsetup table recreates the same device" table_recreates
check "table names devices as major:minor" \
	sh -c "dmsetup table st | grep -qE 'pcache [0-9]+:[0-9]+ [0-9]+:[0-9]+ '"

dmsetup remove st
pcache_create st "$P" "$B"
check "gc_percent survives remove/create" test "$(status_field st 5)" = 33
check "omitted data_crc uses the cache's setting" test "$(status_field st 6)" = 1
dmsetup remove st

crc_conflict() {
	dmesg_mark
	! pcache_create st "$P" "$B" data_crc false 2> /dev/null &&
		dmesg_since | grep -q 'formatted with data_crc true'
}
check "a table contradicting the cache's data_crc is refused" crc_conflict
pcache_create st "$P" "$B" gc_percent 12
check "gc_percent on the table line is stored" test "$(status_field st 5)" = 12
ktap_finished
