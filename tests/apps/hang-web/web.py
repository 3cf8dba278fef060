"""A test app for the router's connect timeout (H19), in
tests/integration/test_router_timeouts.sh: a web server listening on $PORT
with a backlog of 1 that answers every request with its $DYNO, until
GET /hang. Then it answers that request, closes every connection it has,
stops accepting, and fills its own accept queue by connecting to itself,
so the kernel drops every new SYN (net.ipv4.tcp_abort_on_overflow=0, the
default) and a connect to the dyno hangs instead of being refused. The
process stays, so the dyno stays `up`. It prints `hang-web stopped
accepting (N queued)` once the queue is full."""

import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CONNS = set()           # open client connections, closed by /hang
LOCK = threading.Lock()
SERVER = None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        with LOCK:
            CONNS.add(self.connection)

    def finish(self):
        with LOCK:
            CONNS.discard(self.connection)
        super().finish()

    def do_GET(self):
        hang = self.path == "/hang"
        out = ("%s %s\n" % (os.environ.get("DYNO", ""), "hanging" if hang else "ok")).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(out)))
        if hang:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(out)
        self.wfile.flush()
        if hang:
            threading.Thread(target=_hang, daemon=True).start()

    def log_message(self, fmt, *args):
        print("%s %s" % (self.address_string(), fmt % args), flush=True)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1      # listen(1): the queue holds two connections


def _hang():
    SERVER.shutdown()           # serve_forever returns: nobody accepts any more
    with LOCK:
        for conn in list(CONNS):
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
    # Fill the accept queue: connects complete until it is full; the first
    # one that does not complete within the timeout shows it is.
    port = SERVER.server_address[1]
    held = []
    for _ in range(8):
        s = socket.socket()
        s.settimeout(0.5)
        try:
            s.connect(("127.0.0.1", port))
        except OSError:
            s.close()
            break
        held.append(s)
    _hang.held = held           # kept open: the queue stays full
    print("hang-web stopped accepting (%d queued)" % len(held), flush=True)


if __name__ == "__main__":
    port = int(os.environ.get("PORT", "5000"))
    SERVER = Server(("0.0.0.0", port), Handler)
    print("hang-web listening on %d" % port, flush=True)
    SERVER.serve_forever()
    while True:                 # after /hang: stay up, accept nothing
        time.sleep(3600)
