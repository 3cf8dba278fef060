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
export WS_TOOLS
WS_TOOLS=$(cd "$(dirname "$0")/../tools" && pwd)
cat >"$T/eval.py" <<'PY'
import json, os, sys, urllib.request
sys.path.insert(0, os.environ["WS_TOOLS"])
from wsframe import connect, frame, frames
port, expr = int(sys.argv[1]), sys.argv[2]
pages = json.load(urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=5))
url = [p for p in pages if p.get("type") == "page"][0]["webSocketDebuggerUrl"]
s, status, rest = connect("127.0.0.1", port, "/" + url.split("/", 3)[3], timeout=5)
if status != 101:
    sys.exit("devtools refused the upgrade: %d" % status)
s.sendall(frame(1, json.dumps({"id": 1, "method": "Runtime.evaluate",
                               "params": {"expression": expr, "returnByValue": True}}).encode()))
try:
    for op, payload in frames(s, rest):
        reply = json.loads(payload) if op == 1 else {}
        if reply.get("id") == 1:
            print(reply["result"]["result"].get("value"))
            break
except EOFError:
    sys.exit("devtools closed")
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
