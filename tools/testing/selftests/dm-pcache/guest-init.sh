#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# PID 1 of the vmtest.sh guest.  The root filesystem is the host's, read-only
# over 9p; this script makes the few writable places tools need, attaches the
# shared directories, turns fresh nvdimms into fsdax namespaces, loads our
# module, runs the requested command on the second serial port and hands its
# exit status back to the host before powering off.

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp TERM=dumb LANG=C.UTF-8
export DM_DISABLE_UDEV=1

say() { echo "guest-init: $*" > /dev/ttyS0; }

power_off() {
	sync
	echo o > /proc/sysrq-trigger
	sleep 10
}

mount_basics() {
	local d

	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
	mkdir -p /dev/pts /dev/shm
	# udev would make these; tools (and kselftest's runner) rely on them
	ln -sfn /proc/self/fd /dev/fd
	ln -sfn /proc/self/fd/0 /dev/stdin
	ln -sfn /proc/self/fd/1 /dev/stdout
	ln -sfn /proc/self/fd/2 /dev/stderr
	mount -t devpts devpts /dev/pts
	mount -t tmpfs tmpfs /dev/shm
	mount -t debugfs debugfs /sys/kernel/debug
	mount -t configfs configfs /sys/kernel/config 2>/dev/null
	for d in /tmp /run /var/tmp /var/lock /var/log /var/lib/nbd /var/cache; do
		[ -d "$d" ] && mount -t tmpfs tmpfs "$d"
	done
	# lvm2 writes its archive/backup next to lvm.conf
	mkdir -p /run/lock /run/lvm /run/vmtest/work
	if [ -d /etc/lvm ]; then
		cp -a /etc/lvm /run/vmtest/etc-lvm
		mount --bind /run/vmtest/etc-lvm /etc/lvm
	fi
	echo 1 > /proc/sys/kernel/sysrq
}

mount_shares() {
	local opts=trans=virtio,version=9p2000.L,msize=262144,cache=none

	mount -t 9p -o "$opts" work /run/vmtest/work || return 1
	# the host retries a boot that died before this point
	: > /run/vmtest/work/init_started
	# shellcheck disable=SC1091
	. /run/vmtest/work/guest.env || return 1
	mkdir -p "$REPO" 2>/dev/null
	mount -t 9p -o "$opts" repo "$REPO"
}

# A new nvdimm shows up as a raw namespace; fsdax makes /dev/pmemN DAX-capable.
# The info block lives in the image, so this happens once per image.
setup_pmem() {
	local ns

	for ns in $(ndctl list -N 2>/dev/null |
		    python3 -c 'import json, sys
t = sys.stdin.read().strip()
d = json.loads(t) if t else []
d = d if isinstance(d, list) else [d]
print(" ".join(n["dev"] for n in d if n.get("mode") == "raw"))'); do
		ndctl create-namespace -f -e "$ns" -m fsdax > /dev/null ||
			say "ndctl create-namespace on $ns failed"
	done
}

load_module() {
	[ "$LOAD_MODULE" = 1 ] || return 0
	insmod "$MODDIR/dm-pcache.ko" || say "insmod dm-pcache.ko failed"
}

main() {
	local rc

	mount_basics
	hostname vmtest
	ip link set lo up 2>/dev/null
	if ! mount_shares; then
		say "cannot mount the shared directories"
		power_off
	fi
	# A splat in the kernel's own boot (a loaded TCG host very rarely
	# makes the debug kernel trip over an early interrupt): run nothing,
	# so that the host can boot again on untouched images.
	if dmesg | grep -qE "$SPLAT_RE"; then
		dmesg --color=never > /run/vmtest/work/dmesg.txt
		echo "$EARLY_SPLAT" > /run/vmtest/work/status
		power_off
	fi
	setup_pmem
	load_module
	export REPO KSRC KBUILD MODDIR
	cd "$REPO" || power_off
	# plain bytes on the output port: no CR added before LF
	stty -F /dev/ttyS1 raw -echo 2> /dev/null
	"${CMD[@]}" < /dev/null > /dev/ttyS1 2>&1
	rc=$?
	dmesg --color=never > /run/vmtest/work/dmesg.txt
	echo "$rc" > /run/vmtest/work/status
	power_off
}

main
