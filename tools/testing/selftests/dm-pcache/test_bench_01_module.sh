#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The bench itself: our module loads, registers the pcache target, unloads
# and loads again.

. "$(dirname "$0")/common.sh"

require_guest
ktap_print_header
ktap_set_plan 4

ko=$MODDIR/dm-pcache.ko
pcache_loaded || insmod "$ko"
check "module is loaded" pcache_loaded
check "dmsetup targets lists pcache" \
	sh -c 'dmsetup targets | grep -q "^pcache "'
check "module unloads" rmmod dm-pcache
check "module loads again" insmod "$ko"
ktap_finished
