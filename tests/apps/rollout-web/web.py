#!/usr/bin/env python3
# The rollout test app's web process. It answers every GET with
# `version=V greeting=G dyno=D` (V from the VERSION file in the slug, G
# from the GREETING config var), /health with 200 (500 when the slug has a
# HEALTH_FAIL file). It waits BOOT_SLEEP seconds (a file in the slug,
# default 2) before it binds $PORT, never binds when the slug has a
# NO_BIND file, and logs `VERSION got SIGTERM` when asked to stop.
import http.server, os, signal, sys, time

def read(name, default):
    try:
        with open(name) as f:
            return f.read().strip()
    except OSError:
        return default

VERSION = read("VERSION", "unknown")
GREETING = os.environ.get("GREETING", "none")
DYNO = os.environ.get("DYNO", "?")

def on_term(signum, frame):
    print("%s got SIGTERM" % VERSION, flush=True)
    sys.exit(0)

signal.signal(signal.SIGTERM, on_term)

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health" and os.path.exists("HEALTH_FAIL"):
            code, body = 500, "unhealthy\n"
        else:
            code, body = 200, "version=%s greeting=%s dyno=%s\n" % (VERSION, GREETING, DYNO)
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass

print("%s booting" % VERSION, flush=True)
if os.path.exists("NO_BIND"):
    while True:
        time.sleep(1)
time.sleep(float(read("BOOT_SLEEP", "2")))
server = http.server.HTTPServer(("0.0.0.0", int(os.environ["PORT"])), Handler)
print("%s listening" % VERSION, flush=True)
server.serve_forever()
