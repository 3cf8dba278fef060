"""A pooled backend connection closes while a request that takes it waits.

Usage: rtr_pool_race.py ROUTER_PID ROUTER_PORT HOST DYNO_PID DYNO_PORT

With the router stopped (SIGSTOP), a keep-alive client sends its second
request and the dyno is killed, so the router, once continued, finds the
client's bytes and the pooled connection's close in one epoll batch: the
request takes the pooled connection while an event for its pool entry is
still queued. Prints the status line of the second answer (or `none`).
"""
import os
import signal
import socket
import subprocess
import sys
import time

router, port, host, dyno = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
dyno_port = sys.argv[5]
req = lambda path: ("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (path, host)).encode()
c = socket.create_connection(("127.0.0.1", port), timeout=10)
c.sendall(req("/one"))
first = b""
while b"\r\n\r\n" not in first:
    first += c.recv(65536)
head, _, body = first.partition(b"\r\n\r\n")
length = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0])
while len(body) < length:
    body += c.recv(65536)
os.kill(router, signal.SIGSTOP)
try:
    c.sendall(req("/two"))
    os.kill(dyno, signal.SIGKILL)
    deadline = time.time() + 5
    while time.time() < deadline:       # the dyno's FIN reached the router's pooled socket
        out = subprocess.run(["ss", "-Htn", "state", "close-wait", "dport", "= :" + dyno_port],
                             capture_output=True, text=True).stdout
        if out.strip():
            break
        time.sleep(0.01)
finally:
    os.kill(router, signal.SIGCONT)
try:
    answer = c.recv(65536)
    print(answer.split(b"\r\n")[0].decode() if answer else "none")
except OSError:
    print("none")
