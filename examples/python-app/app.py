"""A tiny web app with the standard library only: answers every GET with a
greeting and the config it runs with. Reads the port from $PORT."""

import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Hello(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({
            "hello": "from python-app",
            "path": self.path,
            "release": os.environ.get("DYNOD_RELEASE_VERSION", ""),
        }).encode() + b"\n"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        print("%s %s" % (self.address_string(), fmt % args), flush=True)


if __name__ == "__main__":
    port = int(os.environ.get("PORT", "5000"))
    print("python-app listening on %d" % port, flush=True)
    ThreadingHTTPServer(("0.0.0.0", port), Hello).serve_forever()
