#!/usr/bin/env bash
# The browser log page in headless Chromium (Debian's `chromium`) against a
# real `dynod up`: the page at /apps/APP/#token=T shows the history, then
# lines emitted after it loaded appear in its DOM (read through the
# DevTools protocol), coloured by source (their class); a line whose text
# holds markup shows as text, not as elements; the text filter hides
# lines. Without chromium the script fails (it is not a silent skip):
# `make test` installs it (`scripts/deps.sh --test`, about 350 MB).
# shellcheck source=../integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh"

CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[ -n "$CHROMIUM" ] || bail "chromium is not installed"

LOGS_PORT=$(free_port)
start_up --logs-port "$LOGS_PORT" || bail "dynod up did not get ready"
export DYNOD_BROKER=$BROKER_EP
DYNOD_API_TOKEN=$(cat "$DATA/api-token") || bail "no api token"
export DYNOD_API_TOKEN
APP=page-app
dyno apps:create "$APP" >/dev/null 2>&1 || bail "cannot create $APP"
TOKEN=$(dyno logs:token -a "$APP" 2>/dev/null) || bail "no log token"
unset DYNOD_API_TOKEN
dynod() { DYNOD_API_TOKEN=$(cat "$DATA/api-token") timeout -k 2 30 "$DYNOD" "$@"; }
dynod log-emit --app "$APP" --source app --process web.1 "history line before the page" || bail "log-emit failed"

DEVTOOLS_PORT=$(free_port)
spawn chromium "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$T/chromium-profile" --remote-debugging-address=127.0.0.1 \
    --remote-debugging-port="$DEVTOOLS_PORT" \
    "http://127.0.0.1:$LOGS_PORT/apps/$APP/#token=$TOKEN"

# eval.py JS: evaluates JS in the page through the DevTools protocol and
# prints the result (a string).
cat >"$T/eval.py" <<'PY'
import base64, json, os, socket, struct, sys, urllib.request
port, expr = int(sys.argv[1]), sys.argv[2]
pages = json.load(urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=5))
url = [p for p in pages if p.get("type") == "page"][0]["webSocketDebuggerUrl"]
path = "/" + url.split("/", 3)[3]
s = socket.create_connection(("127.0.0.1", port), timeout=5)
key = base64.b64encode(os.urandom(16)).decode()
s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, port, key)).encode())
buf = b""
while b"\r\n\r\n" not in buf:
    buf += s.recv(4096)
buf = buf.split(b"\r\n\r\n", 1)[1]
msg = json.dumps({"id": 1, "method": "Runtime.evaluate",
                  "params": {"expression": expr, "returnByValue": True}}).encode()
mask = os.urandom(4)
head = bytes([0x81]) + (bytes([0x80 | len(msg)]) if len(msg) < 126 else bytes([0x80 | 126]) + struct.pack(">H", len(msg)))
s.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(msg)))
def need(n):
    global buf
    while len(buf) < n:
        d = s.recv(65536)
        if not d:
            sys.exit("devtools closed")
        buf += d
while True:
    need(2)
    n, off = buf[1] & 0x7f, 2
    if n == 126:
        need(4); n = struct.unpack(">H", buf[2:4])[0]; off = 4
    elif n == 127:
        need(10); n = struct.unpack(">Q", buf[2:10])[0]; off = 10
    need(off + n)
    payload, buf = buf[off:off + n], buf[off + n:]
    reply = json.loads(payload)
    if reply.get("id") == 1:
        print(reply["result"]["result"].get("value"))
        break
PY

page_eval() { timeout 10 python3 "$T/eval.py" "$DEVTOOLS_PORT" "$1"; }
page_has() {    # page_has TEXT: a visible line of the page holds TEXT
    local got
    got=$(page_eval "Array.from(document.querySelectorAll('#log .line:not(.hidden)')).map(d => d.textContent).join('\\n')") ||
        return 1
    grep -qF -- "$1" <<<"$got" || { echo "page lines: $(tail -n 3 <<<"$got" | tr '\n' '|')"; return 1; }
}

check history_shown wait_for 30 page_has "app[web.1]: history line before the page"
page_has_state_live() { [ "$(page_eval "document.getElementById('state').textContent")" = live ]; }
check page_is_live wait_for 10 page_has_state_live

live_lines() {
    dynod log-emit --app "$APP" --source dynod --process router "router line after load" || return 1
    dynod log-emit --app "$APP" --source app --process web.2 '<b id="x">markup</b>' || return 1
    wait_for 10 page_has "dynod[router]: router line after load" || return 1
    wait_for 10 page_has '<b id="x">markup</b>' || return 1
    [ "$(page_eval "String(document.getElementById('x'))")" = null ] || { echo "markup became an element"; return 1; }
    local cls
    cls=$(page_eval "Array.from(document.querySelectorAll('#log .line')).filter(d => d.textContent.includes('router line after load'))[0].className")
    [[ $cls == *src-dynod* ]] || { echo "router line classes: $cls"; return 1; }
}
check lines_after_load_appear live_lines

text_filter() {
    page_eval "const f = document.getElementById('f-text'); f.value = 'router line'; f.dispatchEvent(new Event('input')); 'ok'" >/dev/null || return 1
    page_has "router line after load" || return 1
    ! page_has "history line before the page" >/dev/null || { echo "filtered line still visible"; return 1; }
}
check text_filter_hides text_filter

finish
