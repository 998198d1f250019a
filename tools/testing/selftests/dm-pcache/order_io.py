#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Flush-epoch writer and checker for dm-pcache's ordered writeback.

write DEV BLOCKS KILLPOINT
    Generation after generation, writes every one of BLOCKS 4 KiB blocks at
    the start of DEV in a random order, each stamped with its generation,
    then fdatasync (REQ_PREFLUSH) and prints "G <gen>".  After KILLPOINT
    generations it prints "KILLPOINT", where the host may cut the power,
    and goes on.
check DEV BLOCKS [MIN_GEN]
    Reads the blocks and checks that each holds a whole, valid block of
    some generation and that the device holds a prefix of the flush
    epochs: with m the newest generation present, every block is of m or
    m - 1 (an epoch may be cut in the middle, none may be skipped).  With
    MIN_GEN, every block must also be at least of that generation.
"""
import hashlib
import mmap
import os
import random
import sys

BLOCK = 4096


def block_data(gen, blk):
    head = f"pcache-order gen={gen:08d} block={blk:08d}\n".encode()
    seed = hashlib.sha256(head).digest()
    return head + (seed * (BLOCK // len(seed) + 1))[:BLOCK - len(head)]


def parse(data):
    if data == bytes(BLOCK):
        return 0
    try:
        head = data[:40].decode()
        gen = int(head.split("gen=")[1].split()[0])
        blk = int(head.split("block=")[1].split()[0])
    except (UnicodeDecodeError, IndexError, ValueError):
        return None
    return gen if data == block_data(gen, blk) else None


def write(dev, blocks, killpoint):
    fd = os.open(dev, os.O_WRONLY | os.O_DIRECT)
    buf = mmap.mmap(-1, BLOCK)
    rng = random.Random(blocks)
    gen = 0
    while True:
        gen += 1
        order = list(range(blocks))
        rng.shuffle(order)
        for blk in order:
            buf.seek(0)
            buf.write(block_data(gen, blk))
            os.pwrite(fd, buf, blk * BLOCK)
        os.fdatasync(fd)
        print(f"G {gen}", flush=True)
        if gen == killpoint:
            print("KILLPOINT", flush=True)


def check(dev, blocks, min_gen):
    fd = os.open(dev, os.O_RDONLY | os.O_DIRECT)
    buf = mmap.mmap(-1, BLOCK)
    gens = []
    for blk in range(blocks):
        os.preadv(fd, [buf], blk * BLOCK)
        gen = parse(bytes(buf))
        if gen is None:
            print(f"block {blk}: not a valid block of any generation")
            return 1
        gens.append(gen)
    top = max(gens)
    old = [b for b, g in enumerate(gens) if g < top - 1]
    print(f"{dev}: newest generation {top}, "
          f"{gens.count(top)} blocks of it, {gens.count(top - 1)} of the one before, "
          f"{len(old)} older")
    if old:
        print(f"block {old[0]} is of generation {gens[old[0]]}: an epoch was skipped")
        return 1
    low = [b for b, g in enumerate(gens) if g < min_gen]
    if low:
        print(f"block {low[0]} is of generation {gens[low[0]]} < {min_gen}: a flushed write was lost")
        return 1
    return 0


def main():
    if sys.argv[1] == "write":
        write(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        return 0
    min_gen = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    return check(sys.argv[2], int(sys.argv[3]), min_gen)


if __name__ == "__main__":
    sys.exit(main())
