#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The userspace tools against the kernel: pcache_status reads a live
# device; after a workload the device is suspended (nothing moves), its
# status line is kept, and once it is removed pcache_dump on the cache
# device must show the same journal head, tails and dirty bytes, and
# pcache_check must call it clean.  The tools are built on the host
# (`make tools`; check.sh does it before the guest suite).

. "$(dirname "$0")/common.sh"

require_guest
trap dm_cleanup EXIT
ktap_print_header

TOOLS=$(cd "$COMMON_DIR/../../../dm-pcache" && pwd)
for t in pcache_check pcache_dump pcache_status; do
	if [ ! -x "$TOOLS/$t" ]; then
		ktap_skip_all "$TOOLS/$t not built (make tools on the host)"
		exit "$KSFT_SKIP"
	fi
done
ktap_set_plan 5

P=$PMEM
B=$BACKING
OUT=$(mktemp -d)

blank "$P"
pcache_create pc "$P" "$B" data_crc true || exit 1
fio --name=w --filename=/dev/mapper/pc --rw=randwrite --bs=4k --size=32M \
	--io_size=8M --direct=1 > /dev/null

status_words() {
	"$TOOLS/pcache_status" pc > "$OUT/text" &&
	grep -q '^mode: writeback' "$OUT/text" &&
	grep -q '^  hit_percent: ' "$OUT/text" &&
	"$TOOLS/pcache_status" --json pc |
		python3 -c 'import json, sys; d = json.load(sys.stdin); assert d["data_crc"] and d["table"]["cache_mode"] == "writeback"'
}
check "pcache_status reads a live device, text and JSON" status_words

watch_repeats() {
	timeout 15 "$TOOLS/pcache_status" --watch 0.2 pc > "$OUT/watch"
	[ "$(grep -c '^mode: ' "$OUT/watch")" -ge 2 ]
}
check "pcache_status --watch repeats" watch_repeats

dmsetup suspend pc
STATUS=$(dmsetup status pc | cut -d' ' -f4-)
dmsetup remove pc

dump_agrees() {
	local head dtail ktail dirty

	read -r _ _ _ _ _ _ head dtail ktail _ <<< "$STATUS"
	dirty=$(echo "$STATUS" | awk '{ print $21 }')
	"$TOOLS/pcache_dump" --json "$P" > "$OUT/dump" || return 1
	python3 - "$OUT/dump" "$head" "$dtail" "$ktail" "$dirty" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
got = [d["journal"]["head"]["pos"], d["positions"]["dirty_tail"]["pos"],
       d["positions"]["key_tail"]["pos"], str(d["journal"]["dirty_bytes"])]
if got != sys.argv[2:]:
    print("# dump", got, "status", sys.argv[2:])
    sys.exit(1)
PY
}
check "pcache_dump on $P agrees with the status line" dump_agrees
check "pcache_check calls $P clean" "$TOOLS/pcache_check" -q "$P"
check "pcache_status refuses a missing device" \
	sh -c "! '$TOOLS/pcache_status' nosuch 2> /dev/null"
rm -rf "$OUT"
ktap_finished
