#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A network block device as the backing device, the way cloud hosts use
# one: nbd-server on the loopback serving a file, nbd-client attaching it
# as /dev/nbd0, pcache in front.  fio verify runs while the server is
# killed for a while and then restarted: the writes made meanwhile are
# absorbed by the cache, reach the server after it returns, and the served
# file alone verifies.
#
# nbd-client attaches the device (over netlink); nbd_netlink.py then gives
# it a dead-connection timeout, so that its I/O waits while the server is
# gone, and hands it the restarted server's new connection, as a cloud
# host's NBD client does.  (nbd-client 3.24 cannot: its persist mode leaves
# the device failing.)

. "$(dirname "$0")/common.sh"

require_guest
if ! command -v nbd-server > /dev/null || ! command -v nbd-client > /dev/null ||
   ! command -v python3 > /dev/null || [ ! -b /dev/nbd0 ]; then
	ktap_skip_all "needs nbd-server, nbd-client, python3 and /dev/nbd0"
	exit "$KSFT_SKIP"
fi
NBD=$COMMON_DIR/nbd_netlink.py
cleanup() {
	kill "${FIO_PID:-}" 2> /dev/null
	dm_cleanup
	"$NBD" disconnect 0 > /dev/null 2>&1
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
attach() {
	nbd-client -N export 127.0.0.1 /dev/nbd0 > /tmp/nbd-client.log 2>&1 &&
	[ "$(dev_sectors /dev/nbd0)" -eq $((64 * 2048)) ] &&
	"$NBD" timeout 0 --timeout 10 --dead-timeout 120
}
check "nbd device attached, with a dead-connection timeout" attach

blank "$PMEM"
pcache_create pcn "$PMEM" /dev/nbd0
# one whole pass over the 24 MiB (the served file is verified against it
# at the end), paced to last about 20 s on a fast host so that the outage
# falls in the middle of it
"${FIO[@]}" --filename=$DEV --rate_iops=300 --output=/tmp/nbd.fio &
FIO_PID=$!
sleep 4
pkill -KILL -x nbd-server
ktap_print_msg "nbd-server killed"
d0=$(status_field pcn 21)
sleep 8
d1=$(status_field pcn 21)
server
# the server may take a moment to listen again
for i in 1 2 3 4 5; do
	"$NBD" reconnect 0 127.0.0.1 10809 export 2> /tmp/nbd.re && break
	sleep 1
done
ktap_print_msg "nbd-server restarted, reconnected: $(cat /tmp/nbd.re) (dirty bytes $d0 -> $d1)"
check_bg "fio verify through pcache across the outage" $FIO_PID /tmp/nbd.fio
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
"$NBD" disconnect 0
pkill -x nbd-server
sleep 1
check "the served file alone verifies" \
	fio --name=n --filename=$IMG --rw=randwrite --bs=4k --size=24M \
	--verify=crc32c --verify_state_save=0 --randseed=11 --verify_only \
	--eta=never --output=/tmp/nbd.verify
ktap_finished
