#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host side of the dm-pcache test bench: installs the host packages, fetches
# Debian's newest linux-source (>= 6.18) through a private apt configuration,
# and builds a minimal x86_64 guest kernel from allnoconfig plus a config
# fragment.  Everything big is cached under $DMPC_CACHE (~/.cache/dm-pcache),
# keyed by kernel version and config hash, so a warm run costs nothing.
#
# Usage: kernel.sh [--config debug|bench] deps|source|kernel|env
#   deps    install missing host packages
#   source  make sure a kernel source tree is unpacked; print its path
#   kernel  deps + source + build the kernel (if not cached); print KBUILD
#   env     same as kernel, then print shell assignments KSRC= KBUILD= KVER=

set -euo pipefail

SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${DMPC_CACHE:-$HOME/.cache/dm-pcache}
CONFIG_NAME=debug
ARCH=x86_64
export ARCH

HOST_PKGS="qemu-system-x86 qemu-utils fio ndctl dmsetup e2fsprogs xfsprogs
	lvm2 nbd-client nbd-server kmod util-linux python3 perl cpio dkms udev
	flex bison bc make gcc libc6-dev libelf-dev libssl-dev ccache
	xz-utils zstd rsync gnuplot-nox libdevmapper-dev clang llvm"

log() { echo "kernel.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

apt_private_opts() {
	local d=$CACHE/apt

	echo "-o Dir::Etc::SourceList=$d/sources.list" \
	     "-o Dir::Etc::SourceParts=/dev/null" \
	     "-o Dir::State::Lists=$d/lists" \
	     "-o Dir::Cache=$d/cache" \
	     "-o APT::Sandbox::User=root"
}

do_deps() {
	local missing=() p

	for p in $HOST_PKGS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing host packages: ${missing[*]}"
	[ "$(id -u)" -eq 0 ] || die "root is needed to install ${missing[*]}"
	apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >&2
}

# Newest cached source tree, if any (so a warm cache never hits the network).
cached_source() {
	ls -d "$CACHE"/src/linux-source-* 2>/dev/null | sort -V | tail -n 1
}

fetch_source() {
	local d=$CACHE/apt opts pkg deb

	mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$CACHE/dl" \
		 "$CACHE/src"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]" \
	     "http://deb.debian.org/debian unstable main" > "$d/sources.list"
	opts=$(apt_private_opts)
	# shellcheck disable=SC2086
	apt-get $opts update -qq >&2
	# shellcheck disable=SC2086
	pkg=$(apt-cache $opts search --names-only '^linux-source-[0-9.]+$' |
		awk '{print $1}' | sort -V | tail -n 1)
	[ -n "$pkg" ] || die "no linux-source package found in unstable"
	check_version "${pkg#linux-source-}"
	log "downloading $pkg"
	# shellcheck disable=SC2086
	(cd "$CACHE/dl" && apt-get $opts download "$pkg" >&2)
	deb=$(ls "$CACHE/dl/${pkg}"_*.deb | sort -V | tail -n 1)
	rm -rf "$CACHE/dl/x"
	dpkg -x "$deb" "$CACHE/dl/x"
	tar -C "$CACHE/src" -xf "$CACHE/dl/x/usr/src/$pkg.tar.xz"
	rm -rf "$CACHE/dl/x"
}

check_version() {
	local v=$1 maj min

	maj=${v%%.*}
	min=${v#*.}; min=${min%%.*}
	[ "$maj" -gt 6 ] || { [ "$maj" -eq 6 ] && [ "$min" -ge 18 ]; } ||
		die "kernel $v is older than 6.18"
}

do_source() {
	local src

	mkdir -p "$CACHE"
	src=$(cached_source)
	if [ -z "$src" ] || [ ! -f "$src/Makefile" ]; then
		fetch_source
		src=$(cached_source)
	fi
	[ -f "$src/Makefile" ] || die "kernel source not unpacked"
	echo "$src"
}

kernel_version() {
	make -s -C "$1" kernelversion 2>/dev/null
}

fragment() {
	case $CONFIG_NAME in
	debug) echo "$SELF_DIR/config" ;;
	bench) echo "$SELF_DIR/config.bench" ;;
	*) die "unknown kernel config '$CONFIG_NAME' (debug or bench)" ;;
	esac
}

build_dir() {
	local src=$1 frag hash

	frag=$(fragment)
	hash=$(cat "$frag" | sha256sum | cut -c1-12)
	echo "$CACHE/build/$(kernel_version "$src")-$CONFIG_NAME-$hash"
}

# Options with unmet dependencies vanish silently: insist on every one.
verify_config() {
	local o=$1 frag=$2 line bad=0

	while read -r line; do
		case $line in ''|'#'*) continue ;; esac
		if [ "${line#*=}" = n ]; then
			grep -q "^# ${line%%=*} is not set" "$o/.config" && continue
		fi
		grep -qxF "$line" "$o/.config" && continue
		log "config option lost: $line"
		bad=1
	done < "$frag"
	[ $bad -eq 0 ] || die "requested options did not survive Kconfig"
}

configure() {
	local src=$1 o=$2 frag

	frag=$(fragment)
	make -s -C "$src" O="$o" allnoconfig >&2
	"$src/scripts/kconfig/merge_config.sh" -m -O "$o" "$o/.config" \
		"$frag" >/dev/null
	make -s -C "$src" O="$o" olddefconfig >&2
	verify_config "$o" "$frag"
}

do_kernel() {
	local src o jobs

	do_deps
	src=$(do_source)
	o=$(build_dir "$src")
	if [ -f "$o/.dmpc-built" ]; then
		echo "$o"
		return 0
	fi
	mkdir -p "$o" "$CACHE/ccache"
	exec 9>"$o.lock"
	flock 9
	if [ ! -f "$o/.dmpc-built" ]; then
		log "building $CONFIG_NAME kernel in $o (first time: 20-40 min)"
		configure "$src" "$o"
		jobs=$(nproc)
		CCACHE_DIR=$CACHE/ccache CCACHE_MAXSIZE=5G \
		CCACHE_BASEDIR=$src \
		make -s -C "$src" O="$o" CC="ccache gcc" -j"$jobs" \
			bzImage modules >&2
		touch "$o/.dmpc-built"
	fi
	flock -u 9
	echo "$o"
}

while [ $# -gt 0 ]; do
	case $1 in
	--config) CONFIG_NAME=$2; shift 2 ;;
	--config=*) CONFIG_NAME=${1#*=}; shift ;;
	*) break ;;
	esac
done

case ${1:-env} in
deps) do_deps ;;
source) do_source ;;
kernel) do_kernel ;;
env)
	o=$(do_kernel)
	src=$(do_source)
	echo "KSRC=$src"
	echo "KBUILD=$o"
	echo "KVER=$(kernel_version "$src")"
	;;
*) die "unknown command '$1'" ;;
esac
