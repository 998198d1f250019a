#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Cache modes.  writethrough and writearound: fio verify through pcache,
# and the backing device alone verifies at once (no flush); writethrough
# keeps a copy that read hits serve, writearound caches only reads;
# writeonly caches writes but fills nothing on a read miss.  Then live
# mode changes by table reload under a running fio verify: writeback ->
# writethrough -> writearound -> writeback; leaving writeback writes all
# dirty data back first, after which the backing device alone verifies.

. "$(dirname "$0")/common.sh"

require_guest
trap 'kill $BG 2>/dev/null; dm_cleanup' EXIT
ktap_print_header
ktap_set_plan 15

DEV=/dev/mapper/pcm
fio_w() { # FILE SEED [fio args]
	local f=$1 seed=$2

	shift 2
	fio --name=m --filename="$f" --ioengine=libaio --direct=1 \
		--rw=randwrite --bs=4k --iodepth=8 --size=16M \
		--verify=crc32c --verify_state_save=0 --randseed="$seed" \
		--eta=never --output=/tmp/mode.out "$@"
}
read_all() {
	dd if=$DEV of=/dev/null bs=64k count=256 iflag=direct status=none
}

for mode in writethrough writearound; do
	blank "$PMEM"
	zero_head "$BACKING" 16
	pcache_create pcm "$PMEM" "$BACKING" cache_mode $mode
	fio_w $DEV 1
	check "$mode: fio verify through pcache" test $? -eq 0
	fio_w "$BACKING" 1 --verify_only
	check "$mode: the backing device alone verifies, no flush" test $? -eq 0
	check "$mode: no dirty data" test "$(status_field pcm 21)" -eq 0
	read_all
	read_all
	ktap_print_msg "$mode: $(dmsetup status pcm | cut -d' ' -f 13-20)"
	check "$mode: reads hit the cache" test "$(status_field pcm 12)" -gt 0
	dmsetup remove pcm
done

# writeonly: writes are cached, read misses fill nothing
blank "$PMEM"
zero_head "$BACKING" 16
pcache_create pcm "$PMEM" "$BACKING" cache_mode writeonly
fio_w $DEV 2
check "writeonly: fio verify through pcache" test $? -eq 0
dd if=$DEV of=/dev/null bs=64k count=64 skip=1024 iflag=direct status=none
check "writeonly: a read miss fills nothing" test "$(status_field pcm 17)" -eq 0
check "writeonly: status names the mode" test "$(status_field pcm 10)" = writeonly
dmsetup remove pcm

# live mode changes under fio verify
blank "$PMEM"
zero_head "$BACKING" 64
pcache_create pcm "$PMEM" "$BACKING"
fio_w $DEV 3 --do_verify=0
fio --name=bg --filename=$DEV --ioengine=libaio --direct=1 --rw=randrw \
	--bs=4k --iodepth=4 --size=16M --offset=32M --verify=crc32c \
	--verify_state_save=0 --verify_backlog=128 --runtime=30 --time_based \
	--eta=never --output=/tmp/mode.bg &
BG=$!
ok=1
for mode in writethrough writearound writeback writethrough; do
	sleep 3
	dmsetup reload pcm --table "$(pcache_table "$PMEM" "$BACKING" cache_mode $mode)" &&
		dmsetup suspend pcm && dmsetup resume pcm || ok=0
	[ "$(status_field pcm 10)" = $mode ] || ok=0
	ktap_print_msg "now $(status_field pcm 10), dirty bytes $(status_field pcm 21)"
	if [ $mode = writethrough ]; then
		fio_w "$BACKING" 3 --verify_only ||
			{ ktap_print_msg "backing does not verify after leaving writeback"; ok=0; }
	fi
done
check "mode changes by reload: writethrough, writearound, writeback, writethrough" test $ok -eq 1
check_bg "fio verify across the mode changes" $BG /tmp/mode.bg
check "dmsetup table reprints the mode" \
	sh -c "dmsetup table pcm | grep -q 'cache_mode writethrough'"
dmsetup remove pcm
check "after remove the backing device alone verifies" \
	fio_w "$BACKING" 3 --verify_only
ktap_finished
