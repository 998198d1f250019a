#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Lifecycle and the flush message: data written through pcache reaches the
# backing device by itself (writeback) and at once on "flush"; remove keeps
# what is still dirty for the next create; suspend/resume and a table
# reload with the same devices run under a fio verify; a second table
# cannot take a cache device in use for another backing device.

. "$(dirname "$0")/common.sh"

require_guest
trap 'kill $BG 2>/dev/null; dm_cleanup' EXIT
ktap_print_header
ktap_set_plan 12

DEV=/dev/mapper/pcb
FIOW=(fio --name=w --ioengine=libaio --direct=1 --rw=randwrite --bs=4k
      --iodepth=8 --size=32M --verify=crc32c --verify_state_save=0
      --randseed=7 --eta=never --output=/tmp/wb02.out)

blank "$PMEM"
zero_head "$BACKING" 64
pcache_create pcb "$PMEM" "$BACKING"
"${FIOW[@]}" --filename=$DEV --do_verify=0
# every written byte is either still dirty or written back (open ksets
# are sealed within a second)
sleep 2
acct=$(( $(status_field pcb 21) + $(status_field pcb 22) ))
check "status accounts the writes as dirty or written back ($acct)" \
	test "$acct" -ge $((30 * 1024 * 1024))
check "status shows writeback active" test "$(status_field pcb 25)" = active
check "flush message succeeds" dmsetup message pcb 0 flush
check "no dirty bytes after flush" test "$(status_field pcb 21)" -eq 0
check "bytes were written back" test "$(status_field pcb 22)" -gt 0
dmsetup remove pcb
"${FIOW[@]}" --filename="$BACKING" --verify_only
check "after flush and remove the backing device alone verifies" test $? -eq 0

# dirty data survives remove: writeback cannot drain it through dm-delay
dmsetup create slow --table "0 $(dev_sectors "$BACKING") delay $BACKING 0 500"
zero_head /dev/mapper/slow 64
pcache_create pcb "$PMEM" /dev/mapper/slow
"${FIOW[@]}" --filename=$DEV --do_verify=0 --randseed=8
dirty=$(status_field pcb 21)
dmsetup remove pcb
dmesg_mark
pcache_create pcb "$PMEM" /dev/mapper/slow
ktap_print_msg "dirty at remove: $dirty; $(dmesg_since | grep -o 'replayed.*dirty')"
"${FIOW[@]}" --filename=$DEV --verify_only --randseed=8
check "dirty data left at remove is replayed and reads back" test $? -eq 0
dmsetup remove pcb
dmsetup remove slow

# suspend/resume and a reload under a running fio verify
pcache_create pcb "$PMEM" "$BACKING"
fio --name=bg --filename=$DEV --ioengine=libaio --direct=1 --rw=randrw \
	--bs=4k --iodepth=4 --size=64M --offset=64M --verify=crc32c \
	--verify_state_save=0 --verify_backlog=256 --runtime=24 --time_based \
	--eta=never --output=/tmp/wb02.bg &
BG=$!
table=$(pcache_table "$PMEM" "$BACKING")
ok=1
for i in 1 2; do
	sleep 3
	dmsetup suspend pcb && dmsetup resume pcb || ok=0
	sleep 3
	dmsetup reload pcb --table "$table" && dmsetup suspend pcb &&
		dmsetup resume pcb || ok=0
done
check "suspend/resume and reload under I/O" test $ok -eq 1
check_bg "fio verify across suspend/resume and reload" $BG /tmp/wb02.bg

# the cache device belongs to one pcache device while loaded
check "a second device with the same devices is refused" \
	sh -c "! dmsetup create pcx --table '$table' 2> /dev/null"
other=$(pcache_table "$PMEM" /dev/vdb)
if [ -b /dev/vdb ]; then
	check "a second table on the same cache device is refused" \
		sh -c "! dmsetup create pcx --table '$other' 2> /tmp/wb02.err"
	ktap_print_msg "$(dmesg | grep 'in use' | tail -n 1)"
else
	ktap_test_skip "a second table on the same cache device is refused (no /dev/vdb)"
fi
dmsetup remove pcb
check "remove after reloads" test ! -e $DEV
ktap_finished
