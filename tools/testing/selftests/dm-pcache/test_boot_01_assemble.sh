#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot assembly through the udev rule: the backing device is an LVM
# logical volume on /dev/vda, the cache /dev/pmem0, the rule (our
# 70-dm-pcache.rules, pointed at a pcachetab in /tmp) runs with the
# system's rules.  Add events assemble the entry exactly once; repeated
# events and assemble calls change nothing; our own device's events run
# nothing; with the LV deactivated events assemble nothing, silently; the
# LV's activation brings the entry back once, with its data; a noauto entry
# and one whose device never appears are left alone.
#
# systemd-udevd cannot run in the test kernel (no CONFIG_INOTIFY_USER: it
# exits with "Failed to create inotify descriptor"), so uevent() does what
# it does for one event: `udevadm test` runs every rule (55-dm, 56-lvm,
# 60-persistent-storage, ours ...) on the device, writes the udev database
# and the /dev links, and the RUN programs our rule added are then run
# with udev's empty environment.  LVM and dmsetup run without udev
# (DM_DISABLE_UDEV=1, as everywhere in the guest).

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
ktap_set_plan 12

T=$(mktemp -d /tmp/boot.XXXXXX)
TAB=$T/pcachetab
VG=pcboot_vg
LV=$VG/back
NAME=pcboot
HAD_UDEV=0
[ -e /run/udev ] || [ -e /dev/disk ] && HAD_UDEV=1
export LVM_SUPPRESS_FD_WARNINGS=1

cleanup() {
	dmsetup remove --retry "$NAME" > /dev/null 2>&1
	vgremove -f -y "$VG" > /dev/null 2>&1
	pvremove -f -y "$BACKING" > /dev/null 2>&1
	rm -f /run/udev/rules.d/70-dm-pcache.rules
	# what udevadm test left: the database and the /dev links
	[ "$HAD_UDEV" = 1 ] || rm -rf /run/udev /dev/disk
	rm -rf "/dev/${VG:?}" "$T"
	dm_cleanup
	zero_head "$BACKING"
}
trap cleanup EXIT

mkdir -p /run/udev/rules.d
sed -e "s|/etc/pcachetab|$TAB|" -e "s|/usr/sbin/pcachetab |$HELPER -t $TAB |" \
	"$RULE" > /run/udev/rules.d/70-dm-pcache.rules

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

# uevent ACTION DEV: one event, as udevd would handle it; then the events
# of device-mapper devices that appeared meanwhile (their links, such as
# /dev/mapper/NAME, are udev's to make)
uevent() {
	local cmd d

	runs "$@" > "$T/run" || return 1
	while read -r cmd; do
		# udev splits RUN at blanks and passes no environment of its own
		# shellcheck disable=SC2086
		env -i $cmd || return 1
	done < "$T/run"
	for d in /sys/class/block/dm-*; do
		if [ -e "$d" ] && [ ! -e "/dev/mapper/$(cat "$d/dm/name")" ]; then
			uevent change "/dev/${d##*/}" || return 1
		fi
	done
	return 0
}

# coldplug: `udevadm trigger --action=add` for the two disks;
# device-mapper devices get the "change" of their activation (an "add"
# without the flags of the activation disables their rules)
coldplug() {
	local d

	for d in "$PMEM" "$BACKING"; do
		uevent add "$d" || return 1
	done
	for d in /sys/class/block/dm-*; do
		[ -e "$d" ] && { uevent change "/dev/${d##*/}" || return 1; }
	done
	return 0
}

# assembled_count: how often pcachetab assembled the entry since the mark
assembled_count() {
	dmesg_since | grep -c "pcachetab: $NAME: assembled"
}

# Nothing but our own info lines: no other pcachetab line (errors, udev
# complaining about our program), no device-mapper error.
quiet_log() {
	! dmesg_since | grep -v "pcachetab: $NAME: \(assembled\|removed\)" |
		grep -iE 'pcachetab|device-mapper: .*(error|fail|refus|cannot|in use)'
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

dmesg_mark
coldplug

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
	[ -b "/dev/mapper/$NAME" ] && [ "$(assembled_count)" -eq 1 ]
}
check "add events assemble it, with the table of its line" table_right

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

lv_gone() {
	"$HELPER" -t "$TAB" remove "$NAME" &&
	! dmsetup info "$NAME" > /dev/null 2>&1 &&
	lvchange -an "$LV" && [ ! -e "/dev/$LV" ] && coldplug &&
	! dmsetup info "$NAME" > /dev/null 2>&1
}
check "removed, LV deactivated: events assemble nothing" lv_gone

lv_back() {
	lvchange -ay "$LV" && uevent change "/dev/$LV" && mapped_once &&
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
