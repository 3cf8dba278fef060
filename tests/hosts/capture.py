#!/usr/bin/env python3
# capture.py - a tcpdump-style capture of the test bed's wire (run as root
# in the root namespace): every IPv4/TCP frame on the given interfaces (the
# root-side ends of the hosts' veths), until OUT.stop exists.
#
#   capture.py OUT IFACE...
#
# Each TCP connection's payload is put back in order by sequence number
# (a frame seen on two interfaces counts once) and written to
# OUT.d/SRC_SPORT-DST_DPORT.bin, so a string split over two segments is
# still found. OUT gets a JSON summary: frames, and payload bytes per
# connection. It writes "ready" to OUT.ready once its sockets are bound.
import json
import os
import select
import socket
import struct
import sys

ETH_P_ALL = 0x0003


def main():
    out, ifaces = sys.argv[1], sys.argv[2:]
    socks = []
    for name in ifaces:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.bind((name, 0))
        socks.append(s)
    with open(out + ".ready", "w") as f:
        f.write("ready\n")
    flows = {}      # (src, sport, dst, dport) -> {seq: payload}
    frames = 0
    while not os.path.exists(out + ".stop"):
        ready, _, _ = select.select(socks, [], [], 0.1)
        for s in ready:
            frame = s.recv(65535)
            frames += 1
            if len(frame) < 14 + 20 or struct.unpack("!H", frame[12:14])[0] != 0x0800:
                continue
            ip = frame[14:]
            ihl = (ip[0] & 0x0F) * 4
            if ip[9] != 6:
                continue
            total = struct.unpack("!H", ip[2:4])[0]
            src, dst = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
            tcp = ip[ihl:total]
            if len(tcp) < 20:
                continue
            sport, dport, seq = struct.unpack("!HHI", tcp[:8])
            off = (tcp[12] >> 4) * 4
            payload = tcp[off:]
            if payload:
                flows.setdefault((src, sport, dst, dport), {})[seq] = bytes(payload)
    os.makedirs(out + ".d", exist_ok=True)
    summary = {"frames": frames, "flows": {}}
    for (src, sport, dst, dport), segs in flows.items():
        data, end = bytearray(), None
        for seq in sorted(segs):
            p = segs[seq]
            if end is None or seq >= end:
                data += p
                end = seq + len(p)
            elif seq + len(p) > end:
                data += p[end - seq:]
                end = seq + len(p)
        name = "%s_%d-%s_%d" % (src, sport, dst, dport)
        with open(os.path.join(out + ".d", name + ".bin"), "wb") as f:
            f.write(data)
        summary["flows"][name] = len(data)
    with open(out + ".tmp", "w") as f:
        json.dump(summary, f)
    os.replace(out + ".tmp", out)


if __name__ == "__main__":
    main()
