"""rtr_client.py - raw HTTP clients for the router's integration tests.

    rtr_client.py raw PORT [TIMEOUT_S]
        Sends stdin's bytes as they are, never half-closes, and prints what
        comes back until the router closes the connection or TIMEOUT_S
        (default 5) pass with nothing new.
    rtr_client.py slow PORT COUNT HOST OUT
        Opens COUNT connections that each send an incomplete request head
        for HOST, writes `opened` to OUT, then waits for the router to
        answer or close each one and writes `408 N closed M` to OUT (N
        connections got a 408, M were closed in all) before exiting.
"""

import select
import socket
import sys
import time


def raw(port, timeout):
    data = sys.stdin.buffer.read()
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(data)
    out = b""
    s.settimeout(timeout)
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    sys.stdout.buffer.write(out)


def slow(port, count, host, out):
    socks = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(("GET / HTTP/1.1\r\nHost: %s\r\nX-Slow: " % host).encode())
        socks.append(s)
    with open(out, "w") as f:
        f.write("opened\n")
    got408 = closed = 0
    pending = {s: b"" for s in socks}
    deadline = time.time() + 60
    while pending and time.time() < deadline:
        ready, _, _ = select.select(list(pending), [], [], 1)
        for s in ready:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if chunk:
                pending[s] += chunk
                continue
            if pending[s].startswith(b"HTTP/1.1 408 "):
                got408 += 1
            closed += 1
            del pending[s]
            s.close()
    with open(out, "a") as f:
        f.write("408 %d closed %d\n" % (got408, closed))


if __name__ == "__main__":
    if sys.argv[1] == "raw":
        raw(int(sys.argv[2]), float(sys.argv[3]) if len(sys.argv) > 3 else 5.0)
    elif sys.argv[1] == "slow":
        slow(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5])
