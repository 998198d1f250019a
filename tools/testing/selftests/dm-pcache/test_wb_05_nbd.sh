#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A network block device as the backing device, the way cloud hosts use
# one: nbd-server on the loopback serving a file, nbd-client attaching it
# as /dev/nbd0, pcache in front.  fio verify runs while the server is gone
# for a while: the writes made meanwhile are absorbed by the cache, reach
# the server after it returns, and the served file alone verifies.
#
# The server is frozen (SIGSTOP) rather than killed: nbd-client 3.24 does
# not bring a killed connection back under a device that stays open (its
# persist mode leaves /dev/nbd0 failing), so a killed server would test
# nbd, not pcache.  A frozen server is the same outage for pcache: its
# writeback stalls, and everything must wait in the cache.

. "$(dirname "$0")/common.sh"

require_guest
if ! command -v nbd-server > /dev/null || [ ! -b /dev/nbd0 ]; then
	ktap_skip_all "needs nbd-server, nbd-client and /dev/nbd0"
	exit "$KSFT_SKIP"
fi
cleanup() {
	kill $FIO 2>/dev/null
	dm_cleanup
	nbd-client -d /dev/nbd0 > /dev/null 2>&1
	pkill -x nbd-client
	pkill -x nbd-server
	rm -f /tmp/nbd.img
}
trap cleanup EXIT
ktap_print_header
ktap_set_plan 6

IMG=/tmp/nbd.img
CONF=/tmp/nbd.conf
DEV=/dev/mapper/pcn
FIO=(fio --name=n --ioengine=libaio --direct=1 --rw=randwrite --bs=4k
     --iodepth=4 --size=24M --verify=crc32c --verify_state_save=0
     --verify_backlog=128 --randseed=11 --eta=never)

ip link set lo up
truncate -s 64M $IMG
printf '[generic]\n[export]\nexportname = %s\n' $IMG > $CONF
server() { nbd-server -C $CONF > /dev/null 2>&1; }
server
nbd-client -N export 127.0.0.1 /dev/nbd0 > /tmp/nbd-client.log 2>&1
check "nbd device attached" test "$(dev_sectors /dev/nbd0)" -eq $((64 * 2048))

blank "$PMEM"
pcache_create pcn "$PMEM" /dev/nbd0
"${FIO[@]}" --filename=$DEV --runtime=20 --time_based --output=/tmp/nbd.fio &
FIO=$!
sleep 4
pkill -STOP -x nbd-server
ktap_print_msg "nbd-server stopped"
d0=$(status_field pcn 21)
sleep 8
d1=$(status_field pcn 21)
pkill -CONT -x nbd-server
ktap_print_msg "nbd-server continued (dirty bytes $d0 -> $d1)"
check_bg "fio verify through pcache across the outage" $FIO /tmp/nbd.fio
check "dirty data piled up while the server was gone" test "$d1" -gt "$d0"
flushed() {
	local i

	for i in $(seq 30); do
		dmsetup message pcn 0 flush 2> /dev/null && return 0
		sleep 2
	done
	return 1
}
check "everything reaches the server after it returns" flushed
check "no writeback error" test "$(status_field pcn 23)" -eq 0
dmsetup remove pcn
nbd-client -d /dev/nbd0 > /dev/null 2>&1
pkill -x nbd-client
pkill -x nbd-server
sleep 1
check "the served file alone verifies" \
	fio --name=n --filename=$IMG --rw=randwrite --bs=4k --size=24M \
	--verify=crc32c --verify_state_save=0 --randseed=11 --verify_only \
	--eta=never --output=/tmp/nbd.verify
ktap_finished
