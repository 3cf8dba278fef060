#!/usr/bin/env bash
# The router's first slice against a real `dynod up`: a request for
# APP.localhost reaches one of the app's web dynos (an echo app that
# answers with the headers it got), with X-Forwarded-*, X-Request-Start,
# X-Request-Id and Via added and hop-by-hop headers gone; web=2 spreads
# requests over both dynos; client keep-alive; web=0 answers 503 with H14
# in the app's logs; an unknown app 404; a request the parser refuses 400
# with no backend contact; one dynod[router] log line per request.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

APPS=$(cd "$(dirname "$0")/../apps" && pwd) || bail "no tests/apps folder"
export DYNOD_BOOT_TIMEOUT_MS=20000
HTTP_PORT=$(free_port)
start_up --http-port "$HTTP_PORT" || bail "dynod up did not get ready"
APP=rtr-app
dyno apps:create "$APP" >/dev/null 2>"$T/create.err" || bail "apps:create: $(cat "$T/create.err")"
dyno deploy "$APPS/router-echo" -a "$APP" >"$T/deploy.out" 2>&1 || bail "deploy: $(tail -n 1 "$T/deploy.out")"

jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }
# get FILE [CURL ARGS...]: the body into FILE, prints the status
get() {
    local out=$1
    shift
    curl -s -o "$out" -w '%{http_code}' --max-time 10 -H "Host: $APP.localhost" "$@" \
        "http://127.0.0.1:$HTTP_PORT/hello?x=1"
}
answers() { [ "$(get "$T/body.json")" = 200 ]; }
check reaches_app wait_for 40 answers
header() {      # header NAME: the value the app got (last one)
    jget "$T/body.json" "[v for k, v in d['headers'] if k.lower() == '$1'.lower()][-1]"
}
# curl resolves *.localhost itself: the URL users type.
by_name() { curl -s --max-time 10 "http://$APP.localhost:$HTTP_PORT/" | grep -q '"dyno": "web.1"'; }
check by_localhost_name by_name
get "$T/body.json" >/dev/null
check path_kept [ "$(jget "$T/body.json" "d['path']")" = "/hello?x=1" ]
check host_kept [ "$(header host)" = "$APP.localhost" ]
check via [ "$(header via)" = "1.1 dynod" ]
check forwarded_for [ "$(header x-forwarded-for)" = "127.0.0.1" ]
check forwarded_proto [ "$(header x-forwarded-proto)" = "http" ]
check forwarded_port [ "$(header x-forwarded-port)" = "$HTTP_PORT" ]
start_ok() { local s; s=$(header x-request-start); [ $(($(now_ms) - s)) -lt 60000 ] && [ "$s" -le "$(now_ms)" ]; }
check request_start_ms start_ok
check request_id_new header x-request-id
is_uuid() { [[ $(header x-request-id) =~ ^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]]; }
check request_id_uuid is_uuid

get "$T/body.json" -H 'X-Request-Id: abc-123/+=' -H 'X-Forwarded-For: 10.1.2.3' \
    -H 'Keep-Alive: timeout=5' -H 'Connection: close, X-Secret' -H 'X-Secret: s' >/dev/null
check request_id_kept [ "$(header x-request-id)" = "abc-123/+=" ]
check forwarded_for_appended [ "$(header x-forwarded-for)" = "10.1.2.3, 127.0.0.1" ]
no_header() { ! jget "$T/body.json" "[k for k, v in d['headers']]" | grep -qi "'$1'"; }
check hop_keep_alive_stripped no_header keep-alive
check hop_connection_named_stripped no_header x-secret
long=$(printf 'a%.0s' $(seq 201))
get "$T/body.json" -H "X-Request-Id: $long" >/dev/null
check request_id_too_long [ "$(header x-request-id)" != "$long" ]
get "$T/body.json" -H 'X-Request-Id: bad id!' >/dev/null
check request_id_bad_chars [ "$(header x-request-id)" != "bad id!" ]

# A body, with Content-Length and chunked.
get "$T/body.json" --data-binary 'name=dyno' >/dev/null
check post_body [ "$(jget "$T/body.json" "d['body']")" = "name=dyno" ]
get "$T/body.json" -H 'Transfer-Encoding: chunked' --data-binary 'chunked-body' >/dev/null
check chunked_body [ "$(jget "$T/body.json" "d['body']")" = "chunked-body" ]

# Keep-alive: two requests on one connection.
curl -s -v --max-time 10 -H "Host: $APP.localhost" "http://127.0.0.1:$HTTP_PORT/a" \
    "http://127.0.0.1:$HTTP_PORT/b" >"$T/ka.out" 2>"$T/ka.err"
check keep_alive grep -q 'Re-using existing connection' "$T/ka.err"
check keep_alive_both [ "$(grep -c '"dyno"' "$T/ka.out")" = 2 ]

# ---- the router log line ----------------------------------------------------
router_ok() {
    dyno logs -a "$APP" -n 200 >"$T/logs.txt" 2>&1 &&
        grep -E 'dynod\[router\]: at=info method=GET path="/hello\?x=1" host=rtr-app\.localhost request_id=[0-9a-f-]{36} fwd="127\.0\.0\.1" dyno=web\.1 connect=[0-9]+ms service=[0-9]+ms status=200 bytes=[0-9]+ protocol=http$' "$T/logs.txt"
}
check log_line_200 wait_for 10 router_ok
logged_id() { dyno logs -a "$APP" -n 200 | grep -q 'dynod\[router\]: .*request_id=abc-123/+= '; }
check log_line_request_id wait_for 10 logged_id

# ---- two web dynos both get requests ----------------------------------------
dyno ps:scale web=2 -a "$APP" >/dev/null 2>"$T/scale.err" || fail scale_web_2 "$(cat "$T/scale.err")"
both_seen() {
    local seen="" i
    for i in $(seq 20); do
        [ "$(get "$T/b.json")" = 200 ] || continue
        seen="$seen $(jget "$T/b.json" "d['dyno']")"
    done
    echo "$seen" | grep -q 'web\.1' && echo "$seen" | grep -q 'web\.2'
}
check spread_over_two wait_for 40 both_seen

# ---- errors ------------------------------------------------------------------
check unknown_app_404 [ "$(curl -s -o "$T/404.html" -w '%{http_code}' -H 'Host: nope.localhost' "http://127.0.0.1:$HTTP_PORT/")" = 404 ]
check other_host_404 [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: example.com' "http://127.0.0.1:$HTTP_PORT/")" = 404 ]
RAW="python3 $(dirname "$0")/rtr_client.py raw $HTTP_PORT"
status_of() { printf '%b' "$1" | timeout 10 $RAW | head -n 1 | tr -d '\r'; }
check dup_content_length_400 [ "$(status_of "GET / HTTP/1.1\r\nHost: $APP.localhost\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")" = "HTTP/1.1 400 Bad Request" ]
check cl_and_chunked_400 [ "$(status_of "POST / HTTP/1.1\r\nHost: $APP.localhost\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")" = "HTTP/1.1 400 Bad Request" ]
check no_host_400 [ "$(status_of "GET / HTTP/1.1\r\n\r\n")" = "HTTP/1.1 400 Bad Request" ]
check two_hosts_400 [ "$(status_of "GET / HTTP/1.1\r\nHost: $APP.localhost\r\nHost: x.localhost\r\n\r\n")" = "HTTP/1.1 400 Bad Request" ]
check bad_chunk_400 [ "$(status_of "POST / HTTP/1.1\r\nHost: $APP.localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")" = "HTTP/1.1 400 Bad Request" ]
# Pipelined: the second request waits for the first answer, both answered.
two=$(printf 'GET /p1 HTTP/1.1\r\nHost: %s.localhost\r\n\r\nGET /p2 HTTP/1.1\r\nHost: %s.localhost\r\nConnection: close\r\n\r\n' "$APP" "$APP" |
      timeout 10 $RAW | grep -c '^HTTP/1.1 200')
check pipelined_two_answers [ "$two" = 2 ]

# A dyno that misbehaves: the H code, status 503, a log line.
status_path() { curl -s -o "$T/err.html" -w '%{http_code}' --max-time 10 -H "Host: $APP.localhost" "http://127.0.0.1:$HTTP_PORT$1"; }
check h13_503 [ "$(status_path /close)" = 503 ]
check h17_503 [ "$(status_path /noreason)" = 503 ]
cut_short() { ! curl -s -o /dev/null --max-time 10 -H "Host: $APP.localhost" "http://127.0.0.1:$HTTP_PORT/cut"; }
check h18_client_cut cut_short
code_logged() { dyno logs -a "$APP" -n 300 | grep -qE "dynod\[router\]: at=error code=$1 desc=\"$2\" (sock=backend )?method=GET path=\"$3\" .* dyno=web\.[12] "; }
check h13_log_line wait_for 10 code_logged H13 "Connection closed without response" /close
check h17_log_line wait_for 10 code_logged H17 "Poorly formatted HTTP response" /noreason
check h18_log_line wait_for 10 code_logged H18 "Server Request Interrupted" /cut

dyno ps:scale web=0 -a "$APP" >/dev/null 2>"$T/scale.err" || fail scale_web_0 "$(cat "$T/scale.err")"
# While the dyno stops, a request may still meet it (H13, H21): wait for
# the table to say none is running, then H14.
is_503() { [ "$(get "$T/503.html")" = 503 ] && grep -q H14 "$T/503.html"; }
check no_web_503 wait_for 40 is_503
check error_page grep -q 'Application Error' "$T/503.html"
h14_logged() {
    dyno logs -a "$APP" -n 200 | grep -E 'dynod\[router\]: at=error code=H14 desc="No web processes running" method=GET path="/hello\?x=1" host=rtr-app\.localhost request_id=[0-9a-f-]{36} fwd="127\.0\.0\.1" dyno= connect= service= status=503 bytes= protocol=http$'
}
check h14_log_line wait_for 10 h14_logged

# Every web dyno crashed: H10.
dyno ps:scale web=1 -a "$APP" >/dev/null 2>"$T/scale.err" || fail scale_web_1 "$(cat "$T/scale.err")"
check back_up wait_for 40 answers

# A router SIGKILLed (dynod up starts a new one) learns the running dynos
# from the supervisors when it comes up: no dyno changes state meanwhile.
old_router=$(child_pid router)
kill -9 "$old_router" 2>/dev/null || fail router_kill "no router process"
new_router() { local p; p=$(child_pid router); [ -n "$p" ] && [ "$p" != "$old_router" ]; }
check router_restarted wait_for 20 new_router
check router_relearns wait_for 20 answers
dyno config:set ROUTER_ECHO_CRASH=1 -a "$APP" >/dev/null 2>"$T/config.err" || fail config_set "$(cat "$T/config.err")"
is_h10() { [ "$(get "$T/h10.html")" = 503 ] && dyno logs -a "$APP" -n 300 | grep -q 'dynod\[router\]: at=error code=H10 desc="App crashed"'; }
check crashed_h10 wait_for 40 is_h10

check router_alive curl -s -o /dev/null --max-time 5 -H 'Host: nope.localhost' "http://127.0.0.1:$HTTP_PORT/"
finish
