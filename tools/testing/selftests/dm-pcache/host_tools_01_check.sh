#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# pcache_check and pcache_dump on real caches and on damaged copies of one.
# One guest boot makes the images: a freshly formatted cache, the cache
# after a random-write workload (with `dmsetup status` taken while the
# device is suspended, so nothing moves), and the cache cut off by a power
# cut while fio writes.  On the host the tools (plain and built with
# -fsanitize=address,undefined) must call the real caches clean, agree with
# the kernel's status line, name each damage done to a copy (superblock,
# cache info, positions and segment info copies, a kset, a key resealed
# with a good checksum, no cache at all, a truncated image) with exit 1,
# never crash, and never change the image.  Prints TAP, exits 0 on success.

set -uo pipefail

DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$DIR/../../../.." && pwd)
TOOLS=$REPO/tools/dm-pcache
# the guest writes images into the shared repository: a git-ignored place
mkdir -p "$REPO/.tools-tmp"
T=$(mktemp -d "$REPO/.tools-tmp/host_tools_01.XXXXXX")
trap 'rm -rf "$T"' EXIT
export ASAN_OPTIONS=exitcode=99:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:exitcode=99:print_stacktrace=1
N=0
FAILED=0

ok() {
	N=$((N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $N - $2"
	else
		echo "not ok $N - $2"
		FAILED=$((FAILED + 1))
	fi
}

make -s -C "$TOOLS" all asan > "$T/build.log" 2>&1
ok $? "tools build, plain and with ASan/UBSan" || cat "$T/build.log"

REL=${T#"$REPO"/}
TABLE='0 $(blockdev --getsz /dev/vda) pcache /dev/pmem0 /dev/vda 2 data_crc true'
"$DIR/vmtest.sh" -q --pmem-size 256M --pmem-image "$T/pmem.img" \
	--backing-size 512M --kill-on '^KILLPOINT' --timeout 900 \
	--out "$T/vm" -- sh -c "
	set -e
	dd if=/dev/zero of=/dev/pmem0 bs=4k count=2 oflag=direct status=none
	dmsetup create pc --table \"$TABLE\"
	dmsetup remove pc
	dd if=/dev/pmem0 of=$REL/fresh.img bs=1M conv=sparse status=none
	dmsetup create pc --table \"$TABLE\"
	fio --name=w --filename=/dev/mapper/pc --rw=randwrite --bs=4k \
		--size=48M --io_size=24M --direct=1 > /dev/null
	blkdiscard -o 1M -l 1M /dev/mapper/pc
	dmsetup suspend pc
	dmsetup status pc > $REL/status.txt
	dmsetup remove pc
	dd if=/dev/pmem0 of=$REL/work.img bs=1M conv=sparse status=none
	dmsetup create pc --table \"$TABLE\"
	fio --name=cut --filename=/dev/mapper/pc --rw=randwrite --bs=4k \
		--size=64M --time_based --runtime=60 --iodepth=8 \
		--ioengine=libaio --direct=1 > /dev/null &
	sleep 4
	echo KILLPOINT"
ok $? "guest made a fresh, a used and a power-cut cache" ||
	tail -n 20 "$T/vm/output.log"
[ -s "$T/work.img" ] && [ -s "$T/status.txt" ] || {
	echo "Bail out! no images from the guest"
	exit 1
}

# run NAME WANT IMAGE [ARGS]: both builds, exit status WANT, output in $T/out
run() {
	local name=$1 want=$2 img=$3 rc arc sum

	shift 3
	sum=$(md5sum < "$img")
	"$TOOLS/$name" "$@" "$img" > "$T/out" 2>&1
	rc=$?
	"$TOOLS/asan/$name" "$@" "$img" > "$T/out.asan" 2>&1
	arc=$?
	if [ "$rc" != "$want" ] || [ "$arc" != "$want" ] ||
	   [ "$(md5sum < "$img")" != "$sum" ]; then
		echo "# $name $* $(basename "$img"): exit $rc (ASan build $arc), want $want"
		head -n 20 "$T/out" "$T/out.asan" | sed 's/^/# /'
		return 1
	fi
}

# damaged NAME WORDS CMD...: a copy of the used cache, damaged by CMD,
# is called damaged with a message containing WORDS
damaged() {
	local name=$1 words=$2 img=$T/bad.img

	shift 2
	cp --sparse=always "$T/work.img" "$img"
	"$@" "$img" || return 1
	run pcache_check 1 "$img" || return 1
	grep -qF -- "$words" "$T/out" || {
		echo "# $name: no \"$words\" in:"
		sed 's/^/# /' "$T/out"
		return 1
	}
	# pcache_dump shows what it can (exit 0, or 1 without valid metadata)
	"$TOOLS/asan/pcache_dump" --json --keys "$img" > "$T/out" 2>&1
	[ $? -le 1 ] && json "len(d['problems'])" > /dev/null || {
		echo "# $name: pcache_dump failed:"
		tail -n 5 "$T/out" | sed 's/^/# /'
		return 1
	}
}

# flip IMG OFF: invert one byte
flip() {
	python3 - "$2" "$1" <<'PY'
import sys
off, path = int(sys.argv[1]), sys.argv[2]
with open(path, "r+b") as f:
    f.seek(off)
    b = f.read(1)
    f.seek(off)
    f.write(bytes([b[0] ^ 0xff]))
PY
}

json() {
	python3 -c "import json, sys; d = json.load(open(sys.argv[1])); print($1)" "$T/out"
}

run pcache_check 0 "$T/fresh.img"
ok $? "fresh cache is clean"
run pcache_check 0 "$T/work.img" --verbose
ok $? "cache after a workload is clean"
run pcache_check 0 "$T/pmem.img" --verbose
rc=$?
grep -q 'cache found at byte' "$T/out" || rc=1
ok $rc "cache after a power cut is clean (found inside the raw nvdimm file)"

run pcache_dump 0 "$T/work.img" --json --keys
rc=$?
status=$(cut -d' ' -f4- "$T/status.txt")
read -r _ _ segs _ gc _ head dtail ktail mode crc _ <<< "$status"
dirty=$(echo "$status" | awk '{ print $21 }')
[ "$(json "d['superblock']['seg_count']")" = "$segs" ] &&
[ "$(json "d['cache_info']['gc_percent']")" = "$gc" ] &&
[ "$(json "d['cache_info']['cache_mode']")" = "$mode" ] &&
[ "$(json "str(d['cache_info']['data_crc']).lower()")" = "$crc" ] &&
[ "$(json "d['journal']['head']['pos']")" = "$head" ] &&
[ "$(json "d['positions']['dirty_tail']['pos']")" = "$dtail" ] &&
[ "$(json "d['positions']['key_tail']['pos']")" = "$ktail" ] &&
[ "$(json "d['journal']['dirty_bytes']")" = "$dirty" ] &&
[ "$(json "len(d['keys'])")" = "$(json "d['journal']['keys']")" ] || {
	echo "# status: $status"
	json "d['journal'], d['positions']" | sed 's/^/# /'
	rc=1
}
ok $rc "pcache_dump agrees with the kernel's status line"

run pcache_dump 0 "$T/pmem.img"
ok $? "pcache_dump shows the power-cut cache"

sb0() { flip "$1" 100; }
sb01() { flip "$1" 100 && flip "$1" 2148; }
info1() { flip "$1" $((8192 + 20)); }
pos0() { flip "$1" $((12288 + 20)) && flip "$1" $((16384 + 20)); }
seg1() { flip "$1" $((65536 + 2 * 4096 + 30)); }
# the first kset of the journal, from the dump of the used cache
kset_at() {
	"$TOOLS/pcache_dump" --json "$T/work.img" | python3 -c '
import json, sys
d = json.load(sys.stdin)
seg, off = map(int, d["positions"]["key_tail"]["pos"].split(":"))
print(d["superblock"]["data_off"] + seg * 16777216 + off)'
}
KSET=$(kset_at)
kset0() { flip "$1" $((KSET + 32 + 20)); }
# a key pointing past the last segment, in a kset resealed with a good CRC
key0() {
	python3 - "$1" "$KSET" <<'PY'
import struct, sys
path, off = sys.argv[1], int(sys.argv[2])
def crc32c(crc, data):
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc
with open(path, "r+b") as f:
    f.seek(56)
    seed = crc32c(0xffffffff, f.read(16))
    f.seek(off)
    ks = bytearray(f.read(4096))
    count = struct.unpack_from("<H", ks, 16)[0]
    struct.pack_into("<I", ks, 32 + 20, 0xffff)
    end = 32 + 40 * count
    struct.pack_into("<I", ks, 0, crc32c(seed, ks[4:end]))
    f.seek(off)
    f.write(ks)
PY
}
zero_head() { dd if=/dev/zero of="$1" bs=4k count=2 conv=notrunc status=none; }
truncated() { truncate -s 20M "$1"; }

damaged sb "superblock copy 0 (at byte 0) is invalid: crc" sb0
ok $? "damaged superblock copy 0 is named"
damaged sb01 "superblock: no valid copy" sb01
ok $? "both superblock copies damaged: refused, named"
damaged info "cache info copy 1 (at byte 8192) is invalid: crc" info1
ok $? "damaged cache info copy 1 is named"
damaged pos "positions: no valid copy" pos0
ok $? "both positions copies damaged: named"
damaged seg "segment 1 info copy 0 (at byte 73728) is invalid" seg1
ok $? "damaged segment info copy is named"
damaged kset "the journal is damaged" kset0
ok $? "damaged kset in the middle of the journal is named"
damaged key "is corrupt: key out of bounds" key0
ok $? "key out of bounds in a kset with a good checksum is named"
damaged head "no dm-pcache superblock" zero_head
ok $? "a device without a cache is named"
damaged trunc "device smaller than at format time" truncated
ok $? "a truncated image is named"

"$TOOLS/pcache_check" "$T/none.img" > /dev/null 2>&1
[ $? -eq 2 ]
ok $? "a missing image: exit 2"
"$TOOLS/pcache_check" > /dev/null 2>&1
[ $? -eq 2 ]
ok $? "no argument: exit 2"
"$TOOLS/pcache_check" --help | grep -q Usage &&
	"$TOOLS/pcache_dump" --help | grep -q Usage
ok $? "--help"

echo "1..$N"
[ "$FAILED" -eq 0 ]
