"""A test app for tests/integration/test_router.sh: answers every request
with JSON naming the dyno ($DYNO), the method, path, request headers and the
body it read, so the test can see what the router forwarded. /close, /noreason
and /cut misbehave on purpose; ROUTER_ECHO_CRASH set makes it crash at boot."""

import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self):
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
        }).encode() + b"\n"
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

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, fmt, *args):
        print("%s %s" % (self.address_string(), fmt % args), flush=True)


if __name__ == "__main__":
    if os.environ.get("ROUTER_ECHO_CRASH"):
        raise SystemExit("router-echo: asked to crash")
    port = int(os.environ.get("PORT", "5000"))
    print("router-echo listening on %d" % port, flush=True)
    ThreadingHTTPServer(("0.0.0.0", port), Echo).serve_forever()
