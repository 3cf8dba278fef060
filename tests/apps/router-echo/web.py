"""A test app for tests/integration/test_router*.sh: answers every request
with JSON naming the dyno ($DYNO), the method, path, request headers, the
body it read, the router's port on this connection and how many requests
that connection carried, so the test can see what the router forwarded and
whether it reused a connection. /close, /noreason, /cut, /bigheader and
/twolengths misbehave on purpose; /chunked answers chunked; /sleep?ms=N waits before answering,
/stall?ms=N stops mid-body; /count tells how many other requests this dyno
got; /arm-stale makes the next request that arrives on a reused connection
find it closed; /unlisten closes the listening socket (connects are then
refused, and open connections closed unanswered, while the dyno stays up); ROUTER_ECHO_CRASH set makes it crash at
boot, ROUTER_ECHO_BOOT_DELAY_MS makes it listen late."""

import json
import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

STATE = {"count": 0, "stale": False, "unlistened": False}
LOCK = threading.Lock()


def _ms(path):
    return int(parse_qs(urlparse(path).query).get("ms", ["0"])[0]) / 1000.0


class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        self.on_conn = 0

    def _answer(self):
        self.on_conn += 1
        with LOCK:
            if STATE["unlistened"]:
                self.close_connection = True    # gone: no answers at all
                return
            if STATE["stale"] and self.on_conn > 1:
                STATE["stale"] = False
                self.close_connection = True    # as if closed while idle
                return
            if not self.path.startswith("/count"):
                STATE["count"] += 1
        if self.path == "/count":
            return self._json({"count": STATE["count"]})
        if self.path == "/arm-stale":
            STATE["stale"] = True
            return self._json({"armed": True})
        if self.path == "/unlisten":
            self._json({"unlistened": True})
            threading.Thread(target=_unlisten, daemon=True).start()
            return
        if self.path.startswith("/sleep"):
            time.sleep(_ms(self.path))
        if self.path.startswith("/stall"):      # H15: silent mid-body
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
            self.wfile.flush()
            time.sleep(_ms(self.path))
            self.close_connection = True
            return
        if self.path == "/chunked":
            self.wfile.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                             b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
            return
        if self.path == "/bigheader":           # H25: a header over 512 KB
            self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * (600 * 1024) +
                             b"\r\nContent-Length: 0\r\n\r\n")
            self.close_connection = True
            return
        if self.path == "/twolengths":          # H25: conflicting lengths
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc")
            self.close_connection = True
            return
        # Misbehaviours the router must turn into H codes.
        if self.path == "/close":           # H13: no answer at all
            self.close_connection = True
            return
        if self.path == "/noreason":        # H17: no reason phrase
            self.wfile.write(b"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n")
            self.close_connection = True
            return
        if self.path == "/cut":             # H18: closed mid-response
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
            self.close_connection = True
            return
        body = self._body().decode("utf-8", "replace")
        out = json.dumps({
            "dyno": os.environ.get("DYNO", ""),
            "method": self.command,
            "path": self.path,
            "headers": [[k, v] for k, v in self.headers.items()],
            "body": body,
            "peer_port": self.client_address[1],
            "on_conn": self.on_conn,
        }).encode() + b"\n"
        self._send(out)

    def _json(self, obj):
        self._send(json.dumps(obj).encode() + b"\n")

    def _send(self, out):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def _body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, fmt, *args):
        print("%s %s" % (self.address_string(), fmt % args), flush=True)


SERVER = None


def _unlisten():
    # Stops accepting and closes the listening socket; the process (and
    # its open connections) stay, so the dyno is still `up`.
    SERVER.shutdown()
    SERVER.socket.close()
    with LOCK:
        STATE["unlistened"] = True
    print("router-echo stopped listening", flush=True)


if __name__ == "__main__":
    if os.environ.get("ROUTER_ECHO_CRASH"):
        raise SystemExit("router-echo: asked to crash")
    time.sleep(int(os.environ.get("ROUTER_ECHO_BOOT_DELAY_MS", "0")) / 1000.0)
    port = int(os.environ.get("PORT", "5000"))
    print("router-echo listening on %d" % port, flush=True)
    SERVER = ThreadingHTTPServer(("0.0.0.0", port), Echo)
    SERVER.daemon_threads = True
    SERVER.serve_forever()
    while True:                 # after /unlisten: stay up, refuse connects
        time.sleep(3600)
