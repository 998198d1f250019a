#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot assembly through the udev rule, with the system's own udev: the
# backing device is an LVM logical volume on /dev/vda, the cache
# /dev/pmem0.  systemd-udevd runs with the system's rules and ours (our
# 70-dm-pcache.rules, pointed at a pcachetab in /tmp); LVM and dmsetup
# synchronise with it as on a host.  A coldplug of the block devices, as at
# boot, activates the volume group through LVM's own rule (69-lvm: pvscan,
# vgchange -aay) and the LV's activation assembles the entry, exactly once.
# Repeated events and assemble calls change nothing; our own device's
# events run nothing; with the LV deactivated events assemble nothing,
# silently; the LV's activation brings the entry back once, with its data;
# a noauto entry and one whose device never appears are left alone.

. "$(dirname "$0")/common.sh"

require_guest
# tools/dm-pcache, by the physical path (the runner reaches us by a link)
RULE=$(cd -P "$COMMON_DIR/../../../dm-pcache" 2> /dev/null && pwd)/70-dm-pcache.rules
HELPER=$(dirname "$RULE")/pcachetab
if ! command -v udevadm > /dev/null || ! command -v lvcreate > /dev/null ||
   [ ! -f "$RULE" ]; then
	ktap_skip_all "needs udevadm, lvm2 and tools/dm-pcache"
	exit "$KSFT_SKIP"
fi
ktap_print_header
ktap_set_plan 14

T=$(mktemp -d /tmp/boot.XXXXXX)
TAB=$T/pcachetab
VG=pcboot_vg
LV=$VG/back
NAME=pcboot
UDEVD=$(command -v systemd-udevd || echo /lib/systemd/systemd-udevd)
export LVM_SUPPRESS_FD_WARNINGS=1

cleanup() {
	dmsetup remove --retry "$NAME" > /dev/null 2>&1
	vgremove -f -y "$VG" > /dev/null 2>&1
	pvremove -f -y "$BACKING" > /dev/null 2>&1
	udevadm settle -t 30 > /dev/null 2>&1
	udevadm control --exit > /dev/null 2>&1
	# the rest of the suite runs without udev: its database, the links
	# it made and LVM's online records go
	export DM_DISABLE_UDEV=1
	rm -rf /run/udev /dev/disk /run/lvm/pvs_online /run/lvm/vgs_online
	rm -rf "/dev/${VG:?}" "$T"
	find /dev/mapper -type l -delete 2> /dev/null
	dm_cleanup
	zero_head "$BACKING"
}
trap cleanup EXIT

mkdir -p /run/udev/rules.d
sed -e "s|/etc/pcachetab|$TAB|" -e "s|/usr/sbin/pcachetab |$HELPER -t $TAB |" \
	"$RULE" > /run/udev/rules.d/70-dm-pcache.rules

# LVM and dmsetup wait for udev, as on a host with udev
unset DM_DISABLE_UDEV
start_udevd() {
	SYSTEMD_LOG_TARGET=kmsg "$UDEVD" --daemon 2> "$T/udevd.err" && udevadm control --ping -t 30
}
check "systemd-udevd runs" start_udevd || cat "$T/udevd.err" >&2

# coldplug: what systemd-udev-trigger does at boot, for block devices
coldplug() {
	udevadm trigger --action=add --subsystem-match=block &&
	udevadm settle -t 120
}

# majmin DEV: major:minor in decimal, as dmsetup table prints devices
majmin() {
	local maj min

	read -r maj min <<< "$(stat -L -c '%t %T' "$1")"
	printf '%d:%d' "0x$maj" "0x$min"
}

# runs ACTION DEV: the RUN programs of our rule for that event
runs() {
	local sys

	sys=$(readlink -f "/sys/dev/block/$(majmin "$2")") && [ -d "$sys" ] ||
		return 1
	udevadm test --action="$1" "$sys" 2>&1 |
		sed -n "s|^run: '\($HELPER .*\)'\$|\1|p"
}

# assembled_count: how often pcachetab assembled the entry since the mark
assembled_count() {
	dmesg_since | grep -c "pcachetab: $NAME: assembled"
}

# Nothing but our own info lines: no other pcachetab line, no complaint of
# udevd about a program or rule, no device-mapper error.
quiet_log() {
	! dmesg_since | grep -v "pcachetab: $NAME: \(assembled\|removed\)" |
		grep -iE 'pcachetab|udevd.*(fail|error|timeout|killed)|device-mapper: .*(error|fail|refus|cannot|in use)'
}

mapped_once() {
	[ "$(dmsetup ls | awk -v n="$NAME" '$1 == n' | wc -l)" -eq 1 ]
}

nothing_without_tab() {
	[ -z "$(runs add "$PMEM")" ] && [ -z "$(runs add "$BACKING")" ]
}
check "the rule runs nothing while there is no pcachetab" nothing_without_tab

blank "$PMEM"
zero_head "$BACKING"
make_lv() {
	pvcreate -q -y "$BACKING" > /dev/null && vgcreate -q "$VG" "$BACKING" > /dev/null &&
	lvcreate -q -y -n back -L 1G "$VG" > /dev/null && [ -b "/dev/$LV" ]
}
check "backing device is an LV, /dev/$LV" make_lv

cat > "$TAB" <<EOF
# test pcachetab
$NAME   $PMEM   $LV   cache_mode=writeback,data_crc=true
manual  $PMEM   /dev/$LV   noauto
ghost   $PMEM   $VG/never-there
EOF

# a boot: the volume group inactive, LVM's online records (in /run) gone
vgchange -q -an "$VG" > /dev/null
rm -rf /run/lvm/pvs_online /run/lvm/vgs_online
dmesg_mark
coldplug
check "coldplug: LVM's rule activates the LV" test -b "/dev/$LV"

table_right() {
	local -a t
	local want_len

	want_len=$(dev_sectors "/dev/$LV")
	read -r -a t <<< "$(dmsetup table "$NAME")"
	ktap_print_msg "table: ${t[*]}"
	[ "${t[0]}" = 0 ] && [ "${t[1]}" = "$want_len" ] &&
	[ "${t[2]}" = pcache ] &&
	[ "${t[3]}" = "$(majmin "$PMEM")" ] &&
	[ "${t[4]}" = "$(majmin "/dev/$LV")" ] &&
	[[ "${t[*]}" == *"cache_mode writeback data_crc true"* ]] &&
	[ "$(dmsetup info -c --noheadings -o uuid "$NAME")" = "PCACHE-$NAME" ] &&
	[ -L "/dev/mapper/$NAME" ] && [ -b "/dev/mapper/$NAME" ] &&
	[ "$(assembled_count)" -eq 1 ]
}
check "the LV's activation assembles it, with the table of its line" table_right

dd if=/dev/urandom of="$T/data" bs=1M count=4 status=none
dd if="$T/data" of="/dev/mapper/$NAME" bs=1M oflag=direct status=none

again() {
	coldplug &&
	"$HELPER" -t "$TAB" assemble "$NAME" &&
	"$HELPER" -t "$TAB" assemble --all &&
	mapped_once && [ "$(assembled_count)" -eq 1 ]
}
check "more events and assemble calls: still one device, assembled once" again

own_device() {
	local own lv

	own=$(runs change "/dev/mapper/$NAME") && [ -z "$own" ] &&
	lv=$(runs change "/dev/$LV") && [ -n "$lv" ]
}
check "its own device's events run nothing, the LV's run pcachetab" own_device

held() {
	! lvchange -an "$LV" 2> /dev/null && mapped_once
}
check "the LV cannot be deactivated while the cache holds it" held

# change events for every block device: LVM's rule activates nothing on
# them, so what happens is our rule's doing
change_all() {
	udevadm trigger --action=change --subsystem-match=block &&
	udevadm settle -t 120
}

lv_gone() {
	"$HELPER" -t "$TAB" remove "$NAME" || return 1
	dmsetup info "$NAME" > /dev/null 2>&1 && { ktap_print_msg "still mapped"; return 1; }
	lvchange -an "$LV" || return 1
	[ -e "/dev/$LV" ] && { ktap_print_msg "/dev/$LV still there"; return 1; }
	change_all || return 1
	dmsetup info "$NAME" > /dev/null 2>&1 &&
		{ ktap_print_msg "assembled again: $(dmsetup ls | tr '\n' ' ')"; return 1; }
	return 0
}
check "removed, LV deactivated: events assemble nothing" lv_gone

lv_back() {
	lvchange -ay "$LV" && udevadm settle -t 120 && mapped_once &&
	[ "$(assembled_count)" -eq 2 ]
}
check "LV activated again: assembled again, once" lv_back

data_back() {
	cmp <(dd if="/dev/mapper/$NAME" bs=1M count=4 iflag=direct status=none) \
		"$T/data"
}
check "the data written before is there" data_back

others_alone() {
	! dmsetup info manual > /dev/null 2>&1 &&
	! dmsetup info ghost > /dev/null 2>&1
}
check "the noauto entry and the one without its device are left alone" others_alone

check "no error in the kernel log" quiet_log

check "pcachetab remove --all" "$HELPER" -t "$TAB" remove --all
ktap_finished
