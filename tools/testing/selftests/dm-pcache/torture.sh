#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Power-cut torture: ROUNDS rounds of
#   write through pcache (small cache: writeback and GC run) -> SIGKILL QEMU
#   at a random write -> boot on the same images -> the backing device alone
#   must hold a prefix of the flush epochs -> re-create pcache (replay) ->
#   every write seen durable is intact, nothing torn or foreign.
# The checking boot of round N is the writing boot of round N+1, so ROUNDS
# rounds take ROUNDS+1 boots.  Each writing boot also puts 8 MiB of random
# bytes on /dev/pmem0 past the cache, and the next boot must read them back
# intact: the bench's own emulated pmem survives a power cut.  Ends with
# one summary line; a failure prints the seed and options that reproduce it
# (SEED=... ROUNDS=1 torture.sh).
#
#   torture.sh [ROUNDS]     (or ROUNDS=N; SEED=S fixes the first seed)

set -uo pipefail

DIR=$(cd "$(dirname "$0")" && pwd)
CACHE=${DMPC_CACHE:-$HOME/.cache/dm-pcache}
ROUNDS=${1:-${ROUNDS:-5}}
SEED=${SEED:-$((RANDOM * 32768 + RANDOM))}
mkdir -p "$CACHE/run"
T=$(mktemp -d "$CACHE/run/torture.XXXXXX")
trap 'rm -rf "$T"' EXIT

# The guest side of one boot: check the previous round, start the next.
# DMPC_PREV: "SEED KILLPOINT" of the round to check (empty on the first
# boot), DMPC_REPORT: that round's durability report, DMPC_NEXT: the seed
# and killpoint of the round to write (empty on the last boot).
GUEST='
set -u
. tools/testing/selftests/dm-pcache/common.sh
CR=tools/testing/selftests/dm-pcache/crash/pcache_crash
WL="--count 4000 --max-len 64 --fua 20 --sync 8"
TABLE="0 $(blockdev --getsz /dev/vda) pcache /dev/mapper/tc /dev/vda 4 cache_mode writeback gc_percent 50"
dmsetup create tc --table "0 $((96 * 2048)) linear /dev/pmem0 0" || exit 1
if [ -n "$DMPC_RAWSUM" ]; then
	got=$(dd if=/dev/pmem0 bs=1M skip=128 count=8 iflag=direct status=none |
	      md5sum | cut -d" " -f1)
	[ "$got" = "$DMPC_RAWSUM" ] ||
		{ echo "ROUND FAILED raw pmem bytes: expected $DMPC_RAWSUM got $got"; exit 1; }
	echo "check: 8 MiB of raw pmem bytes survived the power cut"
fi
if [ -n "$DMPC_PREV" ]; then
	set -- $DMPC_PREV
	$CR order /dev/vda --seed $1 $WL || { echo "ROUND FAILED order"; exit 1; }
	dmsetup create pc --table "$TABLE" || { echo "ROUND FAILED replay"; exit 1; }
	dmesg | grep -a "pcache.*replayed" | tail -n 1
	echo "$DMPC_REPORT" | $CR check /dev/mapper/pc --seed $1 $WL ||
		{ echo "ROUND FAILED check"; exit 1; }
	dmsetup remove pc || exit 1
	echo "ROUND PASSED"
fi
[ -n "$DMPC_NEXT" ] || exit 0
set -- $DMPC_NEXT
head -c 8M /dev/urandom > /tmp/raw &&
dd if=/tmp/raw of=/dev/pmem0 bs=1M seek=128 oflag=direct status=none &&
echo "RAWSUM $(md5sum < /tmp/raw | cut -d" " -f1)" || exit 1
blank /dev/mapper/tc
blkdiscard -z -f /dev/vda 2> /dev/null
# odd seeds hold writeback back (the default), even ones write back at once
WBP=$(( $1 % 2 * 50 ))
dmsetup create pc --table "${TABLE/ 4 cache_mode/ 6 writeback_percent $WBP cache_mode}" || exit 1
$CR write /dev/mapper/pc --seed $1 --killpoint $2 $WL
echo "WRITER ENDED without a power cut"
'

passed=0 failed=0 durable=0 prev='' report='' rawsum=''

# keep_log ROUND: the whole console of a failed boot outlives the run
keep_log() {
	local keep=$CACHE/run/torture-failed.$SEED.$1.log

	tail -n 20 "$T/vm.log"
	cp "$T/vm.log" "$keep" && echo "console of that boot: $keep"
}
for ((r = 0; r <= ROUNDS; r++)); do
	next=
	if [ $r -lt "$ROUNDS" ]; then
		next="$((SEED + r)) $((100 + RANDOM % 1400))"
	fi
	DMPC_PREV=$prev DMPC_REPORT=$report DMPC_NEXT=$next DMPC_RAWSUM=$rawsum \
	"$DIR/vmtest.sh" -q --pmem-size 256M --pmem-image "$T/pmem.img" \
		--backing-image "$T/backing.img" --backing-size 128M \
		${next:+--kill-on '^KILLPOINT'} --timeout 900 --out "$T/out" \
		-- bash -c "$GUEST" > "$T/vm.log" 2>&1
	out=$T/out/output.log
	wrote=0
	grep -aq '^KILLPOINT\|WRITER ENDED' "$out" && wrote=1
	bad=0
	if [ -n "$prev" ]; then
		if grep -aq '^ROUND PASSED' "$out"; then
			passed=$((passed + 1))
			grep -a '^check:' "$out"
		else
			bad=1
			echo "round $r FAILED: seed/killpoint '$prev'" \
			     "(reproduce: SEED=${prev%% *} ROUNDS=1 $0)"
			grep -a -m 20 'ROUND FAILED\|^LOST\|^BAD\|^ORDER\|^order\|^check' "$out"
		fi
	fi
	[ -n "$next" ] || { [ $bad = 0 ] || keep_log "$r"; failed=$((failed + bad)); break; }
	if [ $wrote = 0 ]; then
		# a boot that died before writing (say a guest panic) left
		# nothing to check: the next boot writes afresh instead of
		# failing every later round on this one's leftovers
		echo "round $((r + 1)): the writing boot failed, nothing to check"
		bad=1
	fi
	[ $bad = 0 ] || keep_log "$r"
	failed=$((failed + bad))
	if [ $wrote = 0 ]; then
		prev=
		report=
		rawsum=
		continue
	fi
	if grep -aq 'WRITER ENDED' "$out"; then
		echo "round $((r + 1)): writer finished before the power cut"
	fi
	rawsum=$(awk '/^RAWSUM /{print $2}' "$out")
	report=$(grep -a '^D ' "$out")
	durable=$((durable + $(grep -ac '^D ' "$out")))
	prev=$next
done
echo "torture: $passed of $ROUNDS rounds passed, $failed failed, $durable durable writes checked (first seed $SEED)"
[ $failed -eq 0 ] && [ $passed -eq "$ROUNDS" ]
