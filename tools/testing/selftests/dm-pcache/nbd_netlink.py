#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Give /dev/nbdN a dead-connection timeout and a new connection, over the
kernel's NBD netlink interface (or attach it that way in the first place).

nbd-client 3.24 cannot bring a device back once its server died (its
persist mode leaves the device failing), but the kernel can: with
NBD_ATTR_DEAD_CONN_TIMEOUT set, I/O on a device whose connections died
waits for NBD_CMD_RECONFIGURE with a new socket.  That is what a cloud
host's NBD client does when its server restarts, so test_wb_05_nbd.sh uses
this, on a device nbd-client attached, to kill and restart nbd-server
under a running pcache.

  nbd_netlink.py timeout INDEX [--dead-timeout S] [--timeout S]
  nbd_netlink.py reconnect INDEX HOST PORT EXPORT
  nbd_netlink.py connect INDEX HOST PORT EXPORT [--dead-timeout S] [--timeout S]
  nbd_netlink.py disconnect INDEX
"""

import argparse
import os
import socket
import struct
import sys
import time

NLM_F_REQUEST = 1
NLM_F_ACK = 4
NLMSG_ERROR = 2
NLA_F_NESTED = 0x8000
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2

# include/uapi/linux/nbd-netlink.h
NBD_ATTR_INDEX = 1
NBD_ATTR_SIZE_BYTES = 2
NBD_ATTR_BLOCK_SIZE_BYTES = 3
NBD_ATTR_TIMEOUT = 4
NBD_ATTR_SERVER_FLAGS = 5
NBD_ATTR_SOCKETS = 7
NBD_ATTR_DEAD_CONN_TIMEOUT = 8
NBD_SOCK_ITEM = 1
NBD_SOCK_FD = 1
NBD_CMD_CONNECT = 1
NBD_CMD_DISCONNECT = 2
NBD_CMD_RECONFIGURE = 3

# the NBD protocol's fixed newstyle handshake (doc/proto.md of nbd)
NBD_MAGIC = b"NBDMAGIC"
IHAVEOPT = 0x49484156454F5054
FLAG_FIXED_NEWSTYLE = 1
FLAG_NO_ZEROES = 2
NBD_OPT_EXPORT_NAME = 1


def attr(kind, payload):
    """One netlink attribute, padded to 4 bytes."""
    head = struct.pack("=HH", 4 + len(payload), kind)
    return head + payload + b"\0" * (-len(payload) % 4)


def attrs(data):
    """Parse attributes into {type: payload}."""
    out = {}
    while len(data) >= 4:
        length, kind = struct.unpack_from("=HH", data)
        if length < 4:
            break
        out[kind & ~NLA_F_NESTED] = data[4:length]
        data = data[(length + 3) & ~3:]
    return out


class Genl:
    """A generic netlink socket: one request, its answer or error."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 16)
        self.sock.bind((0, 0))
        self.seq = int(time.time())

    def request(self, family, cmd, payload):
        self.seq += 1
        body = struct.pack("=BBH", cmd, 1, 0) + payload
        msg = struct.pack("=IHHII", 16 + len(body), family,
                          NLM_F_REQUEST | NLM_F_ACK, self.seq, 0) + body
        self.sock.send(msg)
        answer = None
        while True:
            data = self.sock.recv(65536)
            while len(data) >= 16:
                length, kind, _, seq, _ = struct.unpack_from("=IHHII", data)
                if kind == NLMSG_ERROR:
                    err = struct.unpack_from("=i", data, 16)[0]
                    if err:
                        raise OSError(-err, os.strerror(-err))
                    return answer
                if seq == self.seq:
                    answer = attrs(data[20:length])
                data = data[(length + 3) & ~3:]

    def family(self, name):
        got = self.request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
                           attr(CTRL_ATTR_FAMILY_NAME, name.encode() + b"\0"))
        return struct.unpack("=H", got[CTRL_ATTR_FAMILY_ID][:2])[0]


def recv_all(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("server closed the connection")
        buf += chunk
    return buf


def handshake(host, port, export):
    """Connect and negotiate; return (socket, size, transmission flags)."""
    sock = socket.create_connection((host, port), timeout=30)
    magic, opt, flags = struct.unpack(">8sQH", recv_all(sock, 18))
    if magic != NBD_MAGIC or opt != IHAVEOPT:
        raise ConnectionError("not a newstyle NBD server")
    mine = FLAG_FIXED_NEWSTYLE | (flags & FLAG_NO_ZEROES)
    name = export.encode()
    sock.sendall(struct.pack(">I", mine) +
                 struct.pack(">QII", IHAVEOPT, NBD_OPT_EXPORT_NAME,
                             len(name)) + name)
    size, tflags = struct.unpack(">QH", recv_all(sock, 10))
    if not mine & FLAG_NO_ZEROES:
        recv_all(sock, 124)
    sock.settimeout(None)
    return sock, size, tflags


def sockets_attr(sock):
    item = attr(NBD_SOCK_FD, struct.pack("=I", sock.fileno()))
    return attr(NBD_ATTR_SOCKETS | NLA_F_NESTED,
                attr(NBD_SOCK_ITEM | NLA_F_NESTED, item))


def u32(kind, v):
    return attr(kind, struct.pack("=I", v))


def u64(kind, v):
    return attr(kind, struct.pack("=Q", v))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cmd",
                    choices=["timeout", "reconnect", "connect", "disconnect"])
    ap.add_argument("index", type=int)
    ap.add_argument("host", nargs="?")
    ap.add_argument("port", nargs="?", type=int)
    ap.add_argument("export", nargs="?")
    ap.add_argument("--dead-timeout", type=int, default=120)
    ap.add_argument("--timeout", type=int, default=30)
    a = ap.parse_args()
    genl = Genl()
    nbd = genl.family("nbd")
    if a.cmd == "disconnect":
        genl.request(nbd, NBD_CMD_DISCONNECT, u32(NBD_ATTR_INDEX, a.index))
        return 0
    if a.cmd == "timeout":
        genl.request(nbd, NBD_CMD_RECONFIGURE,
                     u32(NBD_ATTR_INDEX, a.index) +
                     u64(NBD_ATTR_TIMEOUT, a.timeout) +
                     u64(NBD_ATTR_DEAD_CONN_TIMEOUT, a.dead_timeout))
        return 0
    if a.export is None:
        ap.error(f"{a.cmd} needs HOST PORT EXPORT")
    sock, size, tflags = handshake(a.host, a.port, a.export)
    if a.cmd == "connect":
        payload = (u32(NBD_ATTR_INDEX, a.index) +
                   u64(NBD_ATTR_SIZE_BYTES, size) +
                   u64(NBD_ATTR_BLOCK_SIZE_BYTES, 4096) +
                   u64(NBD_ATTR_TIMEOUT, a.timeout) +
                   u64(NBD_ATTR_SERVER_FLAGS, tflags) +
                   u64(NBD_ATTR_DEAD_CONN_TIMEOUT, a.dead_timeout) +
                   sockets_attr(sock))
        genl.request(nbd, NBD_CMD_CONNECT, payload)
    else:
        genl.request(nbd, NBD_CMD_RECONFIGURE,
                     u32(NBD_ATTR_INDEX, a.index) + sockets_attr(sock))
    # the kernel holds its own reference to the socket now
    sock.close()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, ConnectionError) as e:
        print(f"nbd_netlink: {e}", file=sys.stderr)
        sys.exit(1)
