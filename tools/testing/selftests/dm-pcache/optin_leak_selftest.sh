#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dmsetup create/remove of a pcache device DMPC_LEAK_CYCLES times (30 in
# make check; DMPC_LEAK_CYCLES=100 for the full proof) leaks nothing: run in
# a guest booted with kmemleak on, which must report nothing after the loop
# (a reported leak is also a splat that fails the boot).

DIR=$(cd "$(dirname "$0")" && pwd)
exec "$DIR/vmtest.sh" --backing-size 256M --append kmemleak=on \
	--timeout 1200 -- "$DIR/leak_loop.sh"
