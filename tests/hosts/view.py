#!/usr/bin/env python3
# view.py - what the test bed asserts about dynos, from `dyno ps --json` and
# from the machine's processes (tests/hosts/lib.sh's hb_view runs it).
#
#   view.py PS_JSON MARK "h1=INODE h2=INODE ..." QUERY ARGS...
#
# A dyno process of this run is one whose environment holds HB_MARK=MARK (a
# config var the test sets); its DYNO variable names it, and the inode of
# its /proc/PID/ns/net tells on which host it runs (the INODE map). Queries
# (exit 0 when they hold, else a one-line reason on stdout, exit 1):
#   converged TYPE N [ADDR...]  `ps` lists TYPE.1..TYPE.N, each once, all up,
#                      on supervisors dyno-supervisor@hI of the map, and the
#                      marked processes are exactly those N, each once,
#                      each on the host `ps` puts it on (no duplicate, no
#                      orphan); with ADDRs, each dyno's advertised host is
#                      the address of its own host (hI -> ADDR number I)
#   placed TYPE N [HOST...]  `ps` alone: TYPE.1..TYPE.N, each once, all up,
#                      none on the HOSTs named (a host cut off still runs its
#                      dynos, which nobody can see)
#   spread             prints `hI=N` per host (from ps), e.g. `h1=2 h2=2 h3=2`
#   where              prints `NAME=hI` per dyno (from ps)
#   none_on HOST       no dyno of ps and no marked process on HOST
import json
import os
import sys


def ps_dynos(path):
    return json.load(open(path))["dynos"]


def host_of(dyno):
    sup = dyno.get("supervisor", "")
    return sup.split("@", 1)[1] if "@" in sup else sup


def marked(mark, inodes):
    """[(name, host, pid)] of the live processes carrying HB_MARK=mark."""
    hosts = {ino: h for h, ino in inodes.items()}
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
            env = open("/proc/%s/environ" % pid, "rb").read().split(b"\0")
            ino = os.stat("/proc/%s/ns/net" % pid).st_ino
        except (OSError, IndexError):
            continue
        if ("HB_MARK=" + mark).encode() not in env:
            continue
        name = next((e[5:].decode() for e in env if e.startswith(b"DYNO=")), "?")
        out.append((name, hosts.get(ino, "ns:%d" % ino), int(pid)))
    return sorted(out)


def converged(dynos, procs, kind, n, addrs):
    want = ["%s.%d" % (kind, i) for i in range(1, n + 1)]
    mine = [d for d in dynos if d["name"].split(".")[0] == kind]
    names = sorted(d["name"] for d in mine)
    if names != sorted(want):
        return "ps lists %s, wanted %s" % (" ".join(names), " ".join(want))
    down = ["%s:%s" % (d["name"], d["state"]) for d in mine if d["state"] != "up"]
    if down:
        return "not up: " + " ".join(down)
    where = {d["name"]: host_of(d) for d in mine}
    if addrs:
        bad = ["%s on %s advertises %s" % (d["name"], where[d["name"]], d.get("host"))
               for d in mine
               if d.get("host") != addrs.get(where[d["name"]])]
        if bad:
            return "; ".join(bad)
    got = sorted((name, host) for name, host, _ in procs if name.split(".")[0] == kind)
    expect = sorted(where.items())
    if got != expect:
        return "dyno processes (name, host) %s; ps says %s" % (got, expect)
    return None


def main():
    ps_path, mark, inode_map, query, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
    inodes = {}
    for pair in inode_map.split():
        h, ino = pair.split("=")
        inodes[h] = int(ino)
    dynos = ps_dynos(ps_path)
    if query == "converged":
        addrs = {}
        for a in args[2:]:
            addrs["h%d" % (len(addrs) + 1)] = a
        why = converged(dynos, marked(mark, inodes), args[0], int(args[1]), addrs)
        if why:
            print(why)
            sys.exit(1)
    elif query == "placed":
        mine = [d for d in dynos if d["name"].split(".")[0] == args[0]]
        names = sorted(d["name"] for d in mine)
        want = sorted("%s.%d" % (args[0], i) for i in range(1, int(args[1]) + 1))
        bad = ["%s:%s@%s" % (d["name"], d["state"], host_of(d)) for d in mine
               if d["state"] != "up" or host_of(d) in args[2:]]
        if names != want or bad:
            print("ps lists %s; not up or on %s: %s" % (" ".join(names), "/".join(args[2:]), " ".join(bad)))
            sys.exit(1)
    elif query == "spread":
        count = {h: 0 for h in inodes}
        for d in dynos:
            count[host_of(d)] = count.get(host_of(d), 0) + 1
        print(" ".join("%s=%d" % (h, count[h]) for h in sorted(count)))
    elif query == "where":
        print(" ".join("%s=%s" % (d["name"], host_of(d)) for d in sorted(dynos, key=lambda d: d["name"])))
    elif query == "none_on":
        on = [d["name"] for d in dynos if host_of(d) == args[0]]
        on += ["%s(pid %d)" % (n, p) for n, h, p in marked(mark, inodes) if h == args[0]]
        if on:
            print("on %s: %s" % (args[0], " ".join(on)))
            sys.exit(1)
    else:
        sys.exit("view.py: unknown query " + query)


if __name__ == "__main__":
    main()
