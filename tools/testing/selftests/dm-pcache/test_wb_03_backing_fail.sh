#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A failing backing device costs nothing: the backing device sits behind a
# dm-linear device that a table reload switches to dm-error.  Writeback
# fails, the data stays dirty and readable through pcache, new writes are
# absorbed, the status line and one log line say so; when the device comes
# back writeback drains by itself and the backing device alone verifies.

. "$(dirname "$0")/common.sh"

require_guest
trap dm_cleanup EXIT
ktap_print_header
ktap_set_plan 9

DEV=/dev/mapper/pcf3
fio_job() { # NAME OFFSET [fio args]
	local name=$1 off=$2

	shift 2
	fio --name="$name" --ioengine=libaio --direct=1 --rw=randwrite \
		--bs=4k --iodepth=8 --size=16M --offset="$off" \
		--verify=crc32c --verify_state_save=0 --eta=never \
		--output=/tmp/wb03.out "$@"
}

blank "$PMEM"
zero_head "$BACKING" 64
dmsetup create bk --table "$(backing_table "$BACKING" linear)"
pcache_create pcf3 "$PMEM" /dev/mapper/bk
dmesg_mark
switch_backing bk "$BACKING" error
fio_job a 0 --filename=$DEV --do_verify=0
# writeback starts 2 s after the last write and looks every 0.5 s
failing() { [ "$(status_field pcf3 25)" = failing ]; }
check "status shows writeback failing" poll 30 0.5 failing
check "status counts writeback errors" test "$(status_field pcf3 23)" -gt 0
check "flush message fails while the backing device fails" \
	sh -c "! dmsetup message pcf3 0 flush 2> /dev/null"
fio_job a 0 --filename=$DEV --verify_only
check "dirty data stays readable through pcache" test $? -eq 0
fio_job b 32M --filename=$DEV
check "writes are absorbed while the backing device fails" test $? -eq 0
n=$(dmesg_since | grep -c 'writeback to the backing device failed')
check "the failure is logged once per episode ($n)" test "$n" -eq 1
switch_backing bk "$BACKING" linear
check "flush message succeeds after recovery" dmsetup message pcf3 0 flush
check "recovery is logged" logged 'writeback to the backing device works again'
dmsetup remove pcf3
fio_job a 0 --filename="$BACKING" --verify_only &&
	fio_job b 32M --filename="$BACKING" --verify_only
check "the backing device alone verifies" test $? -eq 0
ktap_finished
