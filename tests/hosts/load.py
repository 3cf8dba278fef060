#!/usr/bin/env python3
# load.py - a steady request loop through one router (run inside a host).
#
#   load.py URL HOST OUT [--timeout S] [--max N] [--until-dynos a,b,...]
#
# Sends GET URL with `Host: HOST`, one request at a time (a new connection
# each, ~50 per second at most), until OUT.stop exists, N requests were
# sent, or every dyno named in --until-dynos answered. Each 200 answer
# (`version=V greeting=G dyno=D`, tests/apps/rollout-web) counts as ok and
# its dyno is tallied; anything else (a status, a timeout, a refused
# connection) is a failure, tallied by reason. OUT is rewritten (atomically)
# as JSON {"ok", "fail", "reasons", "dynos", "greetings", "done",
# "failed_at": [[HH:MM:SS.mmm, failures so far], ...] (the first 50)} every
# 10 requests and at the end.
import http.client
import json
import os
import sys
import time
import urllib.parse


def main():
    url, host, out = sys.argv[1], sys.argv[2], sys.argv[3]
    opts = sys.argv[4:]
    timeout, max_n, until = 15.0, 0, set()
    while opts:
        k, v = opts[0], opts[1]
        opts = opts[2:]
        if k == "--timeout":
            timeout = float(v)
        elif k == "--max":
            max_n = int(v)
        elif k == "--until-dynos":
            until = set(v.split(","))
        else:
            sys.exit("load.py: unknown option " + k)
    u = urllib.parse.urlsplit(url)
    st = {"ok": 0, "fail": 0, "reasons": {}, "dynos": {}, "greetings": {}, "done": False, "failed_at": []}

    def save():
        with open(out + ".tmp", "w") as f:
            json.dump(st, f)
        os.replace(out + ".tmp", out)

    n = 0
    while not os.path.exists(out + ".stop"):
        if max_n and n >= max_n:
            break
        if until and until <= set(st["dynos"]):
            break
        n += 1
        t0 = time.monotonic()
        try:
            c = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=timeout)
            c.request("GET", u.path or "/", headers={"Host": host})
            r = c.getresponse()
            body = r.read().decode(errors="replace")
            c.close()
            if r.status == 200:
                st["ok"] += 1
                fields = dict(p.split("=", 1) for p in body.split() if "=" in p)
                d = fields.get("dyno", "?")
                st["dynos"][d] = st["dynos"].get(d, 0) + 1
                g = fields.get("greeting", "?")
                st["greetings"][g] = st["greetings"].get(g, 0) + 1
            else:
                why = "%d %s" % (r.status, r.getheader("X-Dynod-Error", "") or body.strip()[:40])
                st["fail"] += 1
                st["reasons"][why] = st["reasons"].get(why, 0) + 1
        except Exception as e:  # noqa: BLE001 - every failure is counted, by kind
            why = type(e).__name__
            st["fail"] += 1
            st["reasons"][why] = st["reasons"].get(why, 0) + 1
        if st["fail"] and len(st["failed_at"]) < 50 and (not st["failed_at"] or st["failed_at"][-1][1] != st["fail"]):
            st["failed_at"].append([time.strftime("%H:%M:%S", time.localtime()) + ".%03d" % (time.time() % 1 * 1000),
                                    st["fail"]])
        if n % 10 == 0:
            save()
        left = 0.02 - (time.monotonic() - t0)
        if left > 0:
            time.sleep(left)
    st["done"] = True
    save()


if __name__ == "__main__":
    main()
