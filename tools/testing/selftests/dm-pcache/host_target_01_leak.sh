#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dmsetup create/remove of a pcache device 100 times leaks nothing: run in a
# guest booted with kmemleak on (a reported leak is a splat and fails the
# boot), kmemleak must report nothing after the loop.

DIR=$(cd "$(dirname "$0")" && pwd)
exec "$DIR/vmtest.sh" --backing-size 256M --append kmemleak=on \
	--timeout 1200 -- "$DIR/leak_loop.sh"
