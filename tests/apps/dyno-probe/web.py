# The web process: answers GET / with "hello from APP_NAME DYNO" and GET
# /health with the status in $HEALTH_CODE (200 unless set). With
# WEB_MODE=nobind it never binds $PORT (the boot timeout's case).
import http.server
import os
import time

if os.environ.get("WEB_MODE") == "nobind":
    print("web: not binding $PORT", flush=True)
    while True:
        time.sleep(60)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            code = int(os.environ.get("HEALTH_CODE", "200"))
            body = b"health %d\n" % code
        else:
            code = 200
            body = ("hello from %s %s\n" % (os.environ.get("APP_NAME", "?"), os.environ.get("DYNO", "?"))).encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


print("web: listening on", os.environ["PORT"], flush=True)
http.server.ThreadingHTTPServer(("0.0.0.0", int(os.environ["PORT"])), Handler).serve_forever()
