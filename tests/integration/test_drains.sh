#!/usr/bin/env bash
# Log drains against a real `dynod up` and real receivers on 127.0.0.1: a
# syslog drain into `socat` TCP-LISTEN (octet-counted framing parsed
# exactly, RFC 5424 fields, order, no line of another app); a syslog+tls
# drain into `socat OPENSSL-LISTEN` with a certificate made here (trusted
# through DYNOD_DRAIN_CA_FILE); an https drain into a python TLS server
# that fails the first POST with 500 (headers, body framing, the same
# Logplex-Frame-Id on the retry); a drain that is down receives its
# backlog when it comes up, after more than 1,024 lines starting with the
# L10 line; drains survive a SIGKILL of log-plex; apps:destroy removes
# them; bad URLs, a duplicate and a 6th drain refused with one line;
# `dyno drains --json`.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

command -v socat >/dev/null || bail "socat is not installed (scripts/deps.sh --test)"
command -v openssl >/dev/null || bail "openssl is not installed"

# A certificate for 127.0.0.1, trusted by log-plex as its drain CA.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$T/key.pem" -out "$T/cert.pem" \
    >/dev/null 2>&1 || bail "openssl req failed"
export DYNOD_DRAIN_CA_FILE=$T/cert.pem

start_up || bail "dynod up did not get ready"
mkdir -p "$T/top" && cd "$T/top" || bail "cannot enter $T/top"
APP=drain-app
OTHER=drain-other
DOWN=drain-down
for a in "$APP" "$OTHER" "$DOWN"; do
    dyno apps:create "$a" >/dev/null 2>&1 || bail "cannot create $a"
done

# frames FILE: parses FILE as octet-counted frames (`LEN SP MSG`, exactly,
# nothing left over) and prints each MSG on a line; fails on bad framing.
cat >"$T/frames.py" <<'PY'
import sys
data = open(sys.argv[1], 'rb').read()
pos, out = 0, []
while pos < len(data):
    sp = data.index(b' ', pos)
    n = data[pos:sp]
    if not n.isdigit() or n.startswith(b'0'):
        sys.exit('bad frame length %r at %d' % (n, pos))
    msg = data[sp + 1:sp + 1 + int(n)]
    if len(msg) != int(n):
        sys.exit('short frame at %d' % pos)
    if b'\n' in msg:
        sys.exit('a newline inside a frame at %d' % pos)
    out.append(msg.decode())
    pos = sp + 1 + int(n)
for m in out:
    print(m)
PY
frames() { python3 "$T/frames.py" "$1"; }

# rfc5424 FILE TOKEN SOURCE PROCESS TEXT...: FILE's frames carry exactly
# these texts, in this order, as RFC 5424 messages from SOURCE[PROCESS]
# with TOKEN as HOSTNAME.
rfc5424() {
    local file=$1 token=$2 source=$3 process=$4
    shift 4
    frames "$file" >"$file.msgs" || return 1
    python3 - "$file.msgs" "$token" "$source" "$process" "$@" <<'PY'
import re, sys
msgs = open(sys.argv[1]).read().splitlines()
token, source, process, want = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
rx = re.compile(r'^<190>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00) (\S+) (\S+) (\S+) - - (.*)$')
got = []
for m in msgs:
    r = rx.match(m)
    if not r:
        sys.exit('not an RFC 5424 line: %r' % m)
    if r.group(2) != token or r.group(3) != source or r.group(4) != process:
        sys.exit('wrong header: %r' % m)
    got.append(r.group(5))
if got != want:
    sys.exit('texts %r, wanted %r' % (got[:6], want[:6]))
PY
}

token_of() {    # token_of APP URL: the drain's token from `dyno drains --json`
    dyno drains -a "$1" --json | python3 -c '
import json, sys
for d in json.load(sys.stdin)["drains"]:
    if d["url"] == sys.argv[1]: print(d["token"])' "$2"
}

# ---- syslog over TCP ----------------------------------------------------------------

SYS_PORT=$(free_port)
spawn socat1 socat -u "TCP4-LISTEN:$SYS_PORT,bind=127.0.0.1,reuseaddr,fork" "OPEN:$T/syslog.out,creat,append"
SYS_URL=syslog://127.0.0.1:$SYS_PORT
listening() { ss -ltn "sport = :$1" | grep -q LISTEN; }
wait_for 10 listening "$SYS_PORT" || bail "socat did not listen"

add_syslog() {
    run dyno drains:add "$SYS_URL" -a "$APP"
    expect_rc 0 || return 1
    grep -qE "^Successfully added drain syslog://127\.0\.0\.1:$SYS_PORT to $APP  \(d\.[0-9a-f-]{36}\)\$" "$T/run.out" \
        || { echo "output: $(cat "$T/run.out")"; return 1; }
}
check drains_add_syslog add_syslog
SYS_TOKEN=$(token_of "$APP" "$SYS_URL")

dynod log-emit --app "$APP" --source app --process web.1 "one" "two  spaced" "three" >/dev/null || bail "log-emit failed"
dynod log-emit --app "$OTHER" --source app --process web.1 "other app secret" >/dev/null || bail "log-emit failed"
dynod log-emit --app "$APP" --source app --process web.1 "four" >/dev/null || bail "log-emit failed"
syslog_got() { rfc5424 "$T/syslog.out" "$SYS_TOKEN" app web.1 one "two  spaced" three four; }
check syslog_drain_frames_fields_order wait_for 15 syslog_got
check syslog_drain_no_other_app_lines bash -c "! grep -q 'other app secret' '$T/syslog.out'"

# ---- syslog over TLS ------------------------------------------------------------------

TLS_PORT=$(free_port)
spawn socat2 socat -u "OPENSSL-LISTEN:$TLS_PORT,bind=127.0.0.1,reuseaddr,fork,cert=$T/cert.pem,key=$T/key.pem,verify=0" \
    "OPEN:$T/tls.out,creat,append"
wait_for 10 listening "$TLS_PORT" || bail "socat did not listen"
TLS_URL=syslog+tls://127.0.0.1:$TLS_PORT
check drains_add_syslog_tls dyno drains:add "$TLS_URL" -a "$APP"
TLS_TOKEN=$(token_of "$APP" "$TLS_URL")
dynod log-emit --app "$APP" --source dynod --process router "at=info tls one" "at=info tls two" >/dev/null || bail "log-emit failed"
tls_got() { rfc5424 "$T/tls.out" "$TLS_TOKEN" dynod router "at=info tls one" "at=info tls two"; }
check syslog_tls_drain_frames wait_for 15 tls_got

# ---- https, the first POST failing --------------------------------------------------

cat >"$T/https.py" <<'PY'
import http.server, json, ssl, sys
port, cert, key, log, fails = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
state = {'n': 0}
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
        state['n'] += 1
        status = 500 if state['n'] <= fails else 204
        with open(log, 'a') as f:
            f.write(json.dumps({'status': status, 'path': self.path,
                                'headers': {k.lower(): v for k, v in self.headers.items()},
                                'body': body.decode()}) + '\n')
        self.send_response(status)
        self.send_header('Content-Length', '0')
        self.end_headers()
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(('127.0.0.1', port), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print('listening', flush=True)
srv.serve_forever()
PY
HTTPS_PORT=$(free_port)
spawn https python3 "$T/https.py" "$HTTPS_PORT" "$T/cert.pem" "$T/key.pem" "$T/https.log" 1
wait_for 10 grep -q listening "$T/https.out" || bail "the https receiver did not start"
HTTPS_URL=https://127.0.0.1:$HTTPS_PORT/logs
check drains_add_https dyno drains:add "$HTTPS_URL" -a "$APP"
HTTPS_TOKEN=$(token_of "$APP" "$HTTPS_URL")
dynod log-emit --app "$APP" --source app --process worker.1 "h1" "h2" "h3" >/dev/null || bail "log-emit failed"
https_posts() {
    [ -f "$T/https.log" ] && grep -q '"status": 204' "$T/https.log"
}
https_check() {
    python3 - "$T/https.log" "$HTTPS_TOKEN" <<'PY'
import json, re, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
token = sys.argv[2]
if [r['status'] for r in reqs][:2] != [500, 204]:
    sys.exit('statuses %r' % [r['status'] for r in reqs])
a, b = reqs[0], reqs[1]
for r in (a, b):
    h = r['headers']
    if h.get('content-type') != 'application/logplex-1':
        sys.exit('content-type %r' % h.get('content-type'))
    if h.get('logplex-drain-token') != token:
        sys.exit('drain token %r, wanted %r' % (h.get('logplex-drain-token'), token))
    if r['path'] != '/logs':
        sys.exit('path %r' % r['path'])
    body, pos, msgs = r['body'].encode(), 0, []
    while pos < len(body):
        sp = body.index(b' ', pos)
        n = int(body[pos:sp])
        msgs.append(body[sp + 1:sp + 1 + n].decode())
        pos = sp + 1 + n
    if pos != len(body):
        sys.exit('body framing')
    if int(h.get('logplex-msg-count', -1)) != len(msgs):
        sys.exit('Logplex-Msg-Count %r for %d frames' % (h.get('logplex-msg-count'), len(msgs)))
    texts = [re.match(r'^<190>1 \S+ (\S+) app worker\.1 - - (.*)$', m) for m in msgs]
    if not all(texts) or [t.group(2) for t in texts] != ['h1', 'h2', 'h3'] or texts[0].group(1) != token:
        sys.exit('messages %r' % msgs)
if not re.match(r'^[0-9a-f-]{36}$', a['headers'].get('logplex-frame-id', '')):
    sys.exit('frame id %r' % a['headers'].get('logplex-frame-id'))
if a['headers']['logplex-frame-id'] != b['headers']['logplex-frame-id']:
    sys.exit('the retry has another Frame-Id')
PY
}
check https_drain_retry_same_frame_id wait_for 20 https_posts
check https_drain_headers_and_body https_check

# ---- a drain that is down, then up: the backlog, L10 first ---------------------------------

DOWN_PORT=$(free_port)
DOWN_URL=syslog://127.0.0.1:$DOWN_PORT
check drains_add_down_receiver dyno drains:add "$DOWN_URL" -a "$DOWN"
DOWN_TOKEN=$(token_of "$DOWN" "$DOWN_URL")
seq 1 1100 | sed 's/^/line /' | dynod log-emit --app "$DOWN" --source app --process web.1 >/dev/null \
    || bail "log-emit failed"
lpx_figure() {  # lpx_figure NAME: log-plex's status detail figure NAME
    dyno status --json | python3 -c '
import json, sys
rows = [a for a in json.load(sys.stdin)["actors"] if a["name"] == "log-plex"]
print(rows[0]["detail"][sys.argv[1]])' "$1"
}
dropped_76() { [ "$(lpx_figure drain_lines_dropped)" = 76 ]; }
wait_for 20 dropped_76 || bail "log-plex never counted 76 lines dropped for the down drain"
spawn socat3 socat -u "TCP4-LISTEN:$DOWN_PORT,bind=127.0.0.1,reuseaddr,fork" "OPEN:$T/down.out,creat,append"
down_got() {
    frames "$T/down.out" >"$T/down.msgs" 2>/dev/null || return 1
    [ "$(wc -l <"$T/down.msgs")" -ge 1025 ]
}
down_check() {
    python3 - "$T/down.msgs" "$DOWN_TOKEN" <<'PY'
import re, sys
msgs = open(sys.argv[1]).read().splitlines()
token = sys.argv[2]
l10 = re.match(r'^<190>1 \S+ (\S+) dynod log-plex - - Error L10 \(output buffer overflow\): 76 messages '
               r'dropped since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$', msgs[0])
if not l10 or l10.group(1) != token:
    sys.exit('first message is not the L10 line: %r' % msgs[0])
texts = [m.split(' - - ', 1)[1] for m in msgs[1:]]
want = ['line %d' % i for i in range(77, 1101)]
if texts != want:
    sys.exit('backlog %r ... %r (%d), wanted line 77 .. line 1100' % (texts[:2], texts[-2:], len(texts)))
PY
}
check down_drain_gets_backlog wait_for 60 down_got
check down_drain_l10_first_then_newest_1024 down_check
check status_counts_drain_lines bash -c "[ \"\$1\" -ge 1030 ]" _ "$(lpx_figure drain_lines_sent)"

# ---- refusals ------------------------------------------------------------------------------

refused() {     # refused WANT_RC ARGS...: refused with one line on stderr
    local want=$1
    shift
    run dyno "$@"
    expect_rc "$want" || return 1
    one_stderr_line
}
check refuse_bad_scheme refused 1 drains:add ftp://127.0.0.1:21 -a "$APP"
check refuse_syslog_no_port refused 1 drains:add syslog://127.0.0.1 -a "$APP"
check refuse_syslog_credentials refused 1 drains:add syslog://u:p@127.0.0.1:514 -a "$APP"
check refuse_syslog_path refused 1 drains:add syslog://127.0.0.1:514/x -a "$APP"
check refuse_bad_port refused 1 drains:add syslog://127.0.0.1:99999 -a "$APP"
check refuse_http_not_loopback refused 1 drains:add http://example.com/logs -a "$APP"
check refuse_bad_host refused 1 drains:add "https://exa_mple.com/" -a "$APP"
check refuse_too_long refused 1 drains:add "https://127.0.0.1/$(head -c 600 /dev/zero | tr '\0' a)" -a "$APP"
check refuse_duplicate refused 1 drains:add "$SYS_URL" -a "$APP"
check refuse_no_url refused 2 drains:add -a "$APP"
check refuse_remove_unknown refused 1 drains:remove syslog://127.0.0.1:1 -a "$APP"
sixth() {
    dyno drains:add "http://127.0.0.1:1/five" -a "$APP" >/dev/null || return 1
    dyno drains:add "http://localhost:1/four" -a "$APP" >/dev/null || return 1
    refused 1 drains:add "http://127.0.0.1:1/six" -a "$APP" || return 1
    grep -q "5 drains" "$T/run.err" || { echo "stderr: $(cat "$T/run.err")"; return 1; }
}
check refuse_sixth_drain sixth
nothing_changed() {
    [ "$(dyno drains -a "$APP" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["drains"]))')" = 5 ]
}
check refusals_change_nothing nothing_changed

list_json() {
    run dyno drains -a "$APP" --json
    expect_rc 0 || return 1
    python3 - "$T/run.out" "$APP" <<'PY'
import json, re, sys
j = json.load(open(sys.argv[1]))
urls = [d['url'] for d in j['drains']]
if j['app'] != sys.argv[2] or urls != sorted(urls) or len(urls) != 5:
    sys.exit('bad list %r' % j)
if not all(re.match(r'^d\.[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$', d['token']) for d in j['drains']):
    sys.exit('bad tokens %r' % j)
PY
}
check drains_list_json list_json
list_text() {
    run dyno drains -a "$APP"
    expect_rc 0 || return 1
    grep -qF "$SYS_URL  ($SYS_TOKEN)" "$T/run.out" || { echo "output: $(cat "$T/run.out")"; return 1; }
}
check drains_list_text list_text

# ---- remove ---------------------------------------------------------------------------------

remove_one() {
    run dyno drains:remove "http://127.0.0.1:1/five" -a "$APP"
    expect_rc 0 || return 1
    grep -q "^Successfully removed drain http://127.0.0.1:1/five from $APP" "$T/run.out" || return 1
    ! dyno drains -a "$APP" | grep -q "/five"
}
check drains_remove remove_one

# ---- survive a SIGKILL of log-plex -----------------------------------------------------

dyno drains -a "$APP" --json >"$T/before.json" || bail "drains failed"
survive() {
    local old
    old=$(child_pid log-plex)
    [ -n "$old" ] || { echo "no log-plex child"; return 1; }
    kill -KILL "$old"
    wait_for 20 sq restarted log-plex "$old" || return 1
    dyno drains -a "$APP" --json >"$T/after.json" || return 1
    cmp -s "$T/before.json" "$T/after.json" || { echo "drains changed: $(cat "$T/after.json")"; return 1; }
    dynod log-emit --app "$APP" --source app --process web.1 "after the kill" >/dev/null || return 1
    wait_for 15 grep -q "$SYS_TOKEN app web.1 - - after the kill" "$T/syslog.out"
}
check drains_survive_log_plex_sigkill survive

# ---- app destroy removes them ---------------------------------------------------------

no_drains() { dyno drains -a "$APP" | grep -q "^$APP has no drains\.\$"; }
destroyed() {
    dyno apps:destroy -a "$APP" --confirm "$APP" >/dev/null 2>&1 || { echo "destroy failed"; return 1; }
    dyno apps:create "$APP" >/dev/null 2>&1 || { echo "create failed"; return 1; }
    wait_for 10 no_drains || { echo "drains left: $(dyno drains -a "$APP")"; return 1; }
    local old
    old=$(child_pid log-plex)
    kill -KILL "$old"
    wait_for 20 sq restarted log-plex "$old" || return 1
    no_drains || { echo "drains back after restart"; return 1; }
}
check app_destroy_removes_drains destroyed

finish
