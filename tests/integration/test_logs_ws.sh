#!/usr/bin/env bash
# log-plex's websocket and HTTP server against a real `dynod up`, through a
# raw websocket client (python, written below: it can send what browsers
# never do): history then live lines, nothing of another app; auth (no
# token, wrong token, another app's log token, Bearer header, the app's
# own log token, unknown app); Origin (foreign refused, own and
# DYNOD_LOGS_ORIGINS allowed, absent allowed); bad paths and filters; the
# filters; tail=0 closing after the history; client
# frames (oversized closed with 1009; unmasked ones, which libwebsockets 4.1
# lets through, ignored) and chatter ignored; a slow reader among fast
# ones (the fast ones get every line in order, the slow one the L11 notice,
# and log-plex keeps answering); the 1,500-line history limit; the page;
# log-plex SIGKILLed and restarted keeping history and tokens; an app
# destroyed closing its tails and dropping its history.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

LOGS_PORT=$(free_port)
export DYNOD_LOGS_ORIGINS="http://allowed.example, https://also.example"
start_up --logs-port "$LOGS_PORT" || bail "dynod up did not get ready"
unset DYNOD_LOGS_ORIGINS
export DYNOD_BROKER=$BROKER_EP
DYNOD_API_TOKEN=$(cat "$DATA/api-token") || bail "no api token"
export DYNOD_API_TOKEN
APP=ws-app
OTHER=ws-other
dyno apps:create "$APP" >/dev/null 2>&1 || bail "cannot create $APP"
dyno apps:create "$OTHER" >/dev/null 2>&1 || bail "cannot create $OTHER"
APP_TOKEN=$(dyno logs:token -a "$APP" 2>/dev/null) || bail "no log token for $APP"
OTHER_TOKEN=$(dyno logs:token -a "$OTHER" 2>/dev/null) || bail "no log token for $OTHER"
[ ${#APP_TOKEN} = 32 ] || bail "log token '$APP_TOKEN' is not 32 characters"

export WS_TOOLS
WS_TOOLS=$(cd "$(dirname "$0")/../tools" && pwd)
cat >"$T/ws.py" <<'PY'
# ws.py MODE PORT PATH [HEADER: VALUE]... [out=FILE]
#   status    print the HTTP status of the upgrade
#   read      write every TEXT payload to FILE, then FILE.close the close code
#   slow      as read, but read nothing until FILE.go exists (4 KB rcvbuf)
#   unmasked  send an unmasked frame first; big: a 100 KB frame; chat: "hi"
import os, struct, sys, time
sys.path.insert(0, os.environ["WS_TOOLS"])
from wsframe import connect, frame, frames

mode, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
headers = [a for a in sys.argv[4:] if ": " in a]
out = next((a[4:] for a in sys.argv[4:] if a.startswith("out=")), None)
s, status, rest = connect("127.0.0.1", port, path, headers, 4096 if mode == "slow" else 0)
if mode == "status":
    print(status)
    sys.exit(0)
if status != 101:
    open(out + ".close", "w").write("status %d\n" % status)
    sys.exit(1)
open(out + ".up", "w").write("up\n")
if mode == "slow":
    while not os.path.exists(out + ".go"):
        time.sleep(0.05)
if mode == "unmasked":
    s.sendall(frame(1, b"hello", mask=False))
if mode == "big":
    s.sendall(frame(1, b"x" * 100000))
if mode == "chat":
    s.sendall(frame(1, b"hi"))
f = open(out, "ab")
close = "none"
try:
    for op, payload in frames(s, rest):
        if op == 1:
            f.write(payload)
            f.flush()
        elif op == 8:
            close = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 1005
            break
except (EOFError, ConnectionResetError):
    pass
f.close()
open(out + ".close", "w").write("%s\n" % close)
PY

ws_status() {   # ws_status WANT PATH [HEADER]...: the upgrade answers WANT
    local got
    got=$(timeout 10 python3 "$T/ws.py" status "$LOGS_PORT" "${@:2}") || { echo "client failed"; return 1; }
    [ "$got" = "$1" ] || { echo "$2: status $got, wanted $1"; return 1; }
}

ws_open() {     # ws_open NAME MODE PATH [HEADER]...: a background client writing $T/NAME
    rm -f "$T/$1" "$T/$1".*
    spawn "ws-$1" python3 "$T/ws.py" "$2" "$LOGS_PORT" "${@:3}" "out=$T/$1"
    wait_for 10 test -e "$T/$1.up" -o -e "$T/$1.close"
}

closed_with() {     # closed_with NAME CODE
    [ -e "$T/$1.close" ] && [ "$(cat "$T/$1.close")" = "$2" ] && return 0
    echo "$1: close ${T:+$(cat "$T/$1.close" 2>/dev/null)}, wanted $2"
    return 1
}

has() {     # has NAME PATTERN: a line of $T/NAME matches (grep -E)
    grep -qE "$2" "$T/$1" 2>/dev/null || { echo "$1 has no line matching '$2'"; return 1; }
}

emit() {    # emit APP SOURCE PROCESS TEXT...
    dynod log-emit --app "$1" --source "$2" --process "$3" "${@:4}"
}

lpx_figure() {  # lpx_figure NAME: log-plex's status detail figure NAME
    dyno status --json | python3 -c '
import json, sys
rows = [a for a in json.load(sys.stdin)["actors"] if a["name"] == "log-plex"]
print(rows[0]["detail"][sys.argv[1]])' "$1"
}

logs_path() { echo "/apps/$1/logs?token=$2${3:+&$3}"; }

# ---- history, then live lines ---------------------------------------------------

emit "$APP" app web.1 "first history line" "second history line" || bail "log-emit failed"
emit "$APP" dynod router "router history line" || bail "log-emit failed"
emit "$OTHER" app web.1 "other app secret" || bail "log-emit failed"

history_then_live() {
    ws_open live read "$(logs_path "$APP" "$APP_TOKEN")" || return 1
    wait_for 10 has live 'dynod\[router\]: router history line$' || return 1
    emit "$APP" app web.2 "a live line" || return 1
    emit "$OTHER" app web.2 "other live secret" || return 1
    emit "$APP" app web.2 "the last live line" || return 1
    wait_for 10 has live 'app\[web\.2\]: the last live line$' || return 1
    ! grep -q secret "$T/live" || { echo "a line of $OTHER was sent"; return 1; }
    # History oldest first, then the live lines in order, each a whole line.
    grep -oE ': (first history line|second history line|router history line|a live line|the last live line)$' \
        "$T/live" | tr '\n' '|' >"$T/live.order"
    [ "$(cat "$T/live.order")" = ": first history line|: second history line|: router history line|: a live line|: the last live line|" ] ||
        { echo "order: $(cat "$T/live.order")"; return 1; }
    grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{6}\+00:00 app\[web\.1\]: first history line$' "$T/live" ||
        { echo "format: $(head -n 1 "$T/live")"; return 1; }
}
check history_then_live_lines history_then_live

# ---- auth and Origin, before the upgrade ------------------------------------------

check no_token_401 ws_status 401 "/apps/$APP/logs"
check wrong_token_403 ws_status 403 "$(logs_path "$APP" 0123456789abcdef0123456789abcdef)"
check other_apps_token_403 ws_status 403 "$(logs_path "$APP" "$OTHER_TOKEN")"
check long_token_403 ws_status 403 "$(logs_path "$APP" "$(printf 'a%.0s' $(seq 300))")"
check own_log_token_101 ws_status 101 "$(logs_path "$APP" "$APP_TOKEN")"
check api_token_bearer_101 ws_status 101 "/apps/$APP/logs" "Authorization: Bearer $DYNOD_API_TOKEN"
check wrong_bearer_403 ws_status 403 "/apps/$APP/logs" "Authorization: Bearer nope"
check unknown_app_404 ws_status 404 "$(logs_path never-logged "$DYNOD_API_TOKEN")"
check unknown_app_wrong_token_403 ws_status 403 "$(logs_path never-logged nope)"
check foreign_origin_403 ws_status 403 "$(logs_path "$APP" "$APP_TOKEN")" "Origin: http://evil.example"
check null_origin_403 ws_status 403 "$(logs_path "$APP" "$APP_TOKEN")" "Origin: null"
check own_origin_101 ws_status 101 "$(logs_path "$APP" "$APP_TOKEN")" "Origin: http://127.0.0.1:$LOGS_PORT"
check localhost_origin_101 ws_status 101 "$(logs_path "$APP" "$APP_TOKEN")" "Origin: http://localhost:$LOGS_PORT"
check listed_origin_101 ws_status 101 "$(logs_path "$APP" "$APP_TOKEN")" "Origin: https://also.example"

# ---- bad paths and filters ---------------------------------------------------------

check n_zero_400 ws_status 400 "$(logs_path "$APP" "$APP_TOKEN" n=0)"
check n_1501_400 ws_status 400 "$(logs_path "$APP" "$APP_TOKEN" n=1501)"
check n_junk_400 ws_status 400 "$(logs_path "$APP" "$APP_TOKEN" n=5x)"
check bad_source_400 ws_status 400 "$(logs_path "$APP" "$APP_TOKEN" source=heroku)"
check bad_dyno_400 ws_status 400 "$(logs_path "$APP" "$APP_TOKEN" 'dyno=web%5B1%5D')"
check bad_ps_400 ws_status 400 "$(logs_path "$APP" "$APP_TOKEN" ps=web.1)"
check bad_tail_400 ws_status 400 "$(logs_path "$APP" "$APP_TOKEN" tail=yes)"
check unknown_param_400 ws_status 400 "$(logs_path "$APP" "$APP_TOKEN" app=$OTHER)"
check param_twice_400 ws_status 400 "$(logs_path "$APP" "$APP_TOKEN" "n=1&n=2")"
check trailing_junk_404 ws_status 404 "/apps/$APP/logs/more?token=$APP_TOKEN"
check second_app_name_404 ws_status 404 "/apps/$APP/$OTHER/logs?token=$APP_TOKEN"
check encoded_dots_404 ws_status 404 "/apps/%2e%2e/$OTHER/logs?token=$APP_TOKEN"
check double_encoded_400 ws_status 400 "/apps/%252e%252e/$OTHER/logs?token=$APP_TOKEN"
check bad_app_name_404 ws_status 404 "/apps/UPPER/logs?token=$DYNOD_API_TOKEN"
# libwebsockets resolves `..` and %2f before log-plex sees the path: the
# token is then checked against the app the resolved path names.
check dotdot_into_other_app_403 ws_status 403 "/apps/$APP/../$OTHER/logs?token=$APP_TOKEN"
check encoded_slash_into_other_app_403 ws_status 403 "/apps/$OTHER%2flogs?token=$APP_TOKEN"

# ---- filters and tail=0 -------------------------------------------------------------

filtered() {    # filtered NAME QUERY WANT_REGEX: history only, every line matches, some do
    ws_open "$1" read "$(logs_path "$APP" "$APP_TOKEN" "$2&tail=0")" || return 1
    wait_for 10 test -e "$T/$1.close" || return 1
    closed_with "$1" 1000 || return 1
    [ -s "$T/$1" ] || { echo "$1: no lines"; return 1; }
    if grep -vE "$3" "$T/$1"; then echo "$1: a line above does not match '$3'"; return 1; fi
}
check filter_source filtered f-source source=dynod '^\S+ dynod\['
check filter_dyno filtered f-dyno dyno=web.1 '^\S+ app\[web\.1\]: '
check filter_ps filtered f-ps ps=web '^\S+ [a-z]+\[web\.[0-9]+\]: '
check filter_combined filtered f-both 'source=app&ps=web&n=1' '^\S+ app\[web\.2\]: the last live line$'
n_lines() {
    ws_open f-n read "$(logs_path "$APP" "$APP_TOKEN" "n=2&tail=0")" || return 1
    wait_for 10 test -e "$T/f-n.close" || return 1
    [ "$(wc -l <"$T/f-n")" = 2 ] || { echo "$(wc -l <"$T/f-n") lines for n=2"; return 1; }
}
check history_n_lines n_lines

# ---- what the client sends --------------------------------------------------------

# libwebsockets 4.1 accepts an unmasked client frame (RFC 6455 wants the
# connection failed): log-plex reads it and ignores it like any client data.
unmasked() {
    ws_open unmasked unmasked "$(logs_path "$APP" "$APP_TOKEN" n=1)" || return 1
    emit "$APP" app web.3 "after the unmasked frame" || return 1
    wait_for 10 has unmasked 'after the unmasked frame$'
}
check unmasked_frame_harmless unmasked
check oversized_frame_closed_1009 eval 'ws_open big big "$(logs_path "$APP" "$APP_TOKEN")" &&
    wait_for 10 test -e "$T/big.close" && closed_with big 1009'
chatter() {
    ws_open chat chat "$(logs_path "$APP" "$APP_TOKEN" n=1)" || return 1
    emit "$APP" app web.3 "after the chatter" || return 1
    wait_for 10 has chat 'after the chatter$'
}
check client_chatter_ignored chatter

# ---- a slow reader among fast ones ------------------------------------------------

SLOW_LINES=40000
SLOW_STEP=2000
ends_with() {   # ends_with NAME TEXT: the last line of $T/NAME holds TEXT
    tail -c 4096 "$T/$1" 2>/dev/null | tail -n 1 | grep -qF -- "$2"
}
slow_among_fast() {
    ws_open fast1 read "$(logs_path "$APP" "$APP_TOKEN" "n=1&ps=burst")" || return 1
    ws_open fast2 read "$(logs_path "$APP" "$APP_TOKEN" "n=1&ps=burst")" || return 1
    ws_open slow slow "$(logs_path "$APP" "$APP_TOKEN" "n=1&ps=burst")" || return 1
    local pad
    pad=$(printf 'x%.0s' $(seq 250))
    # In steps the fast readers keep up with (each step waits for them),
    # while the slow one reads nothing.
    local from f
    for from in $(seq 1 "$SLOW_STEP" "$SLOW_LINES"); do
        local to=$((from + SLOW_STEP - 1))
        seq "$from" "$to" | sed "s/\$/ $pad/" | dynod log-emit --app "$APP" --source app --process burst.1 ||
            { echo "log-emit failed"; return 1; }
        for f in fast1 fast2; do
            wait_for 20 ends_with "$f" ": $to $pad" || return 1
        done
    done
    # log-plex answers while the slow one holds back.
    dyno status >/dev/null || { echo "dyno status failed during the burst"; return 1; }
    for f in fast1 fast2; do
        python3 - "$T/$f" "$SLOW_LINES" <<'PY' || return 1
import sys
nums = [int(l.split(": ", 1)[1].split()[0]) for l in open(sys.argv[1]) if "burst.1]: " in l]
if nums != list(range(1, int(sys.argv[2]) + 1)):
    sys.exit("%s: %d lines, not 1..%s in order" % (sys.argv[1], len(nums), sys.argv[2]))
PY
    done
    touch "$T/slow.go"
    emit "$APP" app burst.2 "after the burst" || return 1
    wait_for 30 has slow 'burst\.2\]: after the burst$' || return 1
    grep -qE '^\S+ dynod\[log-plex\]: Error L11 \(Tail buffer overflow\) -> This tail session dropped [0-9]+ messages since \S+$' \
        "$T/slow" || { echo "no L11 line for the slow reader"; return 1; }
    local got
    got=$(grep -c 'burst\.1\]' "$T/slow")
    [ "$got" -lt "$SLOW_LINES" ] || { echo "the slow reader got all $got lines"; return 1; }
    local dropped
    dropped=$(lpx_figure tail_lines_dropped) || return 1
    [ "$dropped" -gt 0 ] || { echo "status says $dropped lines dropped"; return 1; }
}
check slow_reader_among_fast slow_among_fast

# ---- history limit, the page ------------------------------------------------------

limit() {
    seq 1 1600 | sed 's/^/limit /' | dynod log-emit --app "$OTHER" --source app --process web.1 || return 1
    ws_open limit read "$(logs_path "$OTHER" "$OTHER_TOKEN" "n=1500&tail=0")" || return 1
    wait_for 10 test -e "$T/limit.close" || return 1
    [ "$(wc -l <"$T/limit")" = 1500 ] || { echo "$(wc -l <"$T/limit") lines"; return 1; }
    head -n 1 "$T/limit" | grep -q ': limit 101$' || { echo "first: $(head -n 1 "$T/limit")"; return 1; }
    tail -n 1 "$T/limit" | grep -q ': limit 1600$' || { echo "last: $(tail -n 1 "$T/limit")"; return 1; }
}
check history_keeps_1500 limit

page() {
    local url=http://127.0.0.1:$LOGS_PORT/apps/$APP
    curl -fsS -D "$T/page.head" -o "$T/page.html" "$url/" || return 1
    grep -qi '^content-type: text/html' "$T/page.head" || { echo "no html content type"; return 1; }
    grep -qi "^content-security-policy: .*script-src 'self'" "$T/page.head" || { echo "no CSP"; return 1; }
    grep -q '<script src="app.js">' "$T/page.html" || { echo "no script tag"; return 1; }
    ! grep -qE 'https?://' "$T/page.html" || { echo "the page names an external URL"; return 1; }
    curl -fsS "$url/app.js" | grep -q 'new WebSocket' || { echo "app.js not served"; return 1; }
    curl -fsS -o /dev/null "$url/style.css" || return 1
    [ "$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$url")" = "301 $url/" ] ||
        { echo "no redirect to $url/"; return 1; }
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/secret.txt")" = 404 ] || { echo "unknown file not 404"; return 1; }
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/logs?token=$APP_TOKEN")" = 400 ] ||
        { echo "/logs without upgrade not 400"; return 1; }
}
check page_served page

# ---- restart keeps history and tokens -------------------------------------------

restart() {
    local old
    old=$(sq pid log-plex) || return 1
    emit "$APP" app web.1 "just before the kill" || return 1
    # Flushed within 100 ms of arriving: wait until a reader sees it, then
    # a little more than one flush interval.
    wait_for 10 has live 'just before the kill$' || return 1
    sleep 0.3
    kill -KILL "$old" || return 1
    wait_for 20 sq restarted log-plex "$old" || return 1
    wait_for 10 ws_status 101 "$(logs_path "$APP" "$APP_TOKEN")" || return 1
    ws_open after read "$(logs_path "$APP" "$APP_TOKEN" "n=1500&tail=0")" || return 1
    wait_for 10 test -e "$T/after.close" || return 1
    has after 'burst\.2\]: after the burst$' && has after 'just before the kill$' || return 1
    [ "$(dyno logs:token -a "$APP")" = "$APP_TOKEN" ] || { echo "the log token changed"; return 1; }
    ws_open limit2 read "$(logs_path "$OTHER" "$OTHER_TOKEN" "n=1500&tail=0")" || return 1
    wait_for 10 test -e "$T/limit2.close" || return 1
    cmp -s "$T/limit" "$T/limit2" || { echo "the 1500 lines of $OTHER differ after the restart"; return 1; }
}
check restart_keeps_history_and_tokens restart

# ---- an app destroyed ---------------------------------------------------------------

destroyed() {
    ws_open gone read "$(logs_path "$OTHER" "$OTHER_TOKEN" n=1)" || return 1
    wait_for 10 has gone 'limit 1600$' || return 1
    dyno apps:destroy -a "$OTHER" --confirm "$OTHER" >/dev/null || return 1
    wait_for 10 test -e "$T/gone.close" || return 1
    closed_with gone 1001 || return 1
    ws_status 404 "$(logs_path "$OTHER" "$DYNOD_API_TOKEN")" || return 1
    ws_status 403 "$(logs_path "$OTHER" "$OTHER_TOKEN")"
}
check app_destroyed_closes_tails destroyed

finish
