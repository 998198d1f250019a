#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Power-cut writer and checker for dm-pcache (runs in the vmtest guest).

write DEV SEED COUNT KILLPOINT
    Writes COUNT distinct 4 KiB blocks at random places of DEV with direct
    I/O.  Some go through an O_DSYNC descriptor (REQ_FUA), the rest in
    batches closed by fdatasync (REQ_PREFLUSH).  Every write that the block
    layer contract says is durable is printed as "D <block> <md5>" once it
    is; "KILLPOINT" is printed after KILLPOINT writes, where the host may
    cut the power.
check DEV
    Reads the "D" lines from stdin and checks that every such block holds
    exactly what was written.
"""
import hashlib
import mmap
import os
import random
import sys

BLOCK = 4096


def block_data(seed, i, blk):
    head = f"pcache-powercut seed={seed} write={i} block={blk}\n".encode()
    rnd = random.Random(f"{seed}/{i}").randbytes(BLOCK - len(head))
    return head + rnd


def pwrite(fd, buf, data, blk):
    buf.seek(0)
    buf.write(data)
    if os.pwrite(fd, buf, blk * BLOCK) != BLOCK:
        raise OSError("short write")


def write(dev, seed, count, killpoint):
    probe = os.open(dev, os.O_RDONLY)
    size = os.lseek(probe, 0, os.SEEK_END)
    os.close(probe)
    rng = random.Random(seed)
    blocks = rng.sample(range(size // BLOCK), count)
    plain = os.open(dev, os.O_WRONLY | os.O_DIRECT)
    fua = os.open(dev, os.O_WRONLY | os.O_DIRECT | os.O_DSYNC)
    buf = mmap.mmap(-1, BLOCK)
    pending = []
    for i, blk in enumerate(blocks):
        data = block_data(seed, i, blk)
        line = f"D {blk} {hashlib.md5(data).hexdigest()}"
        if rng.random() < 0.3:
            pwrite(fua, buf, data, blk)
            print(line, flush=True)
        else:
            pwrite(plain, buf, data, blk)
            pending.append(line)
            if len(pending) >= rng.randint(1, 16):
                os.fdatasync(plain)
                print("\n".join(pending), flush=True)
                pending = []
        if i + 1 == killpoint:
            print("KILLPOINT", flush=True)
    os.fdatasync(plain)
    if pending:
        print("\n".join(pending), flush=True)
    print("WRITER DONE", flush=True)


def check(dev):
    fd = os.open(dev, os.O_RDONLY | os.O_DIRECT)
    buf = mmap.mmap(-1, BLOCK)
    bad = total = 0
    for line in sys.stdin:
        f = line.split()
        if len(f) != 3 or f[0] != "D":
            continue
        blk, want = int(f[1]), f[2]
        os.preadv(fd, [buf], blk * BLOCK)
        got = hashlib.md5(buf[:]).hexdigest()
        total += 1
        if got != want:
            bad += 1
            print(f"LOST block {blk}: want {want} got {got} "
                  f"({buf[:60]!r})")
    print(f"checked {total} durable writes, {bad} lost")
    return 1 if bad or not total else 0


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
              int(sys.argv[5]))
    else:
        sys.exit(check(sys.argv[2]))
