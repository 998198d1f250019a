#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check's share of the power-cut torture: a few rounds of writes
# through pcache cut by SIGKILLing QEMU, each checked after replay (durable
# writes intact, nothing torn) and on the backing device alone (a prefix of
# the flush epochs).  `make torture ROUNDS=200` runs many more.

exec "$(dirname "$0")/torture.sh" "${DMPC_CHECK_ROUNDS:-2}"
