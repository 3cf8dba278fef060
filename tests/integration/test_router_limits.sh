#!/usr/bin/env bash
# The router's limits and strict parsing, HTTP/1.0 clients and its
# keep-alive pool to dynos, against a real `dynod up` and the router-echo
# app: every refused request gets its status and the dyno never sees it
# (its request counter does not move); HTTP/1.0 gets close-delimited
# answers unless it asked for keep-alive; a dyno connection is reused
# across client connections, a stale one is retried for a GET and not for
# a POST (H13).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

APPS=$(cd "$(dirname "$0")/../apps" && pwd) || bail "no tests/apps folder"
export DYNOD_BOOT_TIMEOUT_MS=20000
export DYNOD_ROUTER_WORKERS=1           # one pool, so reuse is certain
HTTP_PORT=$(free_port)
start_up --http-port "$HTTP_PORT" || bail "dynod up did not get ready"
APP=rtr-limits
dyno apps:create "$APP" >/dev/null 2>"$T/create.err" || bail "apps:create: $(cat "$T/create.err")"
dyno deploy "$APPS/router-echo" -a "$APP" >"$T/deploy.out" 2>&1 || bail "deploy: $(tail -n 1 "$T/deploy.out")"

RAW="python3 $(dirname "$0")/rtr_client.py raw $HTTP_PORT"
H="Host: $APP.localhost"
jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }
get() {     # get PATH [CURL ARGS...]: the body into $T/body, prints the status
    local path=$1
    shift
    curl -s -o "$T/body" -w '%{http_code}' --max-time 10 -H "$H" "$@" "http://127.0.0.1:$HTTP_PORT$path"
}
answers() { [ "$(get /hello)" = 200 ]; }
check reaches_app wait_for 40 answers
count() { get /count >/dev/null && jget "$T/body" "d['count']"; }
status_of() { printf '%b' "$1" | timeout 10 $RAW 2 | head -n 1 | tr -d '\r'; }
refused() {     # refused NAME STATUS REQUEST: the status, and no dyno contact
    local before after got
    before=$(count)
    got=$(status_of "$3")
    after=$(count)
    if [ "$got" = "HTTP/1.1 $2" ] && [ "$before" = "$after" ]; then pass "$1"
    else fail "$1" "got '$got', dyno count $before -> $after"; fi
}
long() { printf "%${2}s" | tr ' ' "$1"; }

refused request_line_414 "414 URI Too Long" "GET /$(long a 8200) HTTP/1.1\r\n$H\r\n\r\n"
refused header_line_431 "431 Request Header Fields Too Large" "GET / HTTP/1.1\r\n$H\r\nX-Long: $(long a 8300)\r\n\r\n"
refused header_name_431 "431 Request Header Fields Too Large" "GET / HTTP/1.1\r\n$H\r\n$(long A 1001): x\r\n\r\n"
many=$(for i in $(seq 1001); do printf 'X-H%d: v\\r\\n' "$i"; done)
refused headers_1001_431 "431 Request Header Fields Too Large" "GET / HTTP/1.1\r\n$H\r\n$many\r\n"
refused bare_cr_400 "400 Bad Request" "GET / HTTP/1.1\r\n$H\r\nX-A: a\rb\r\n\r\n"
refused nul_400 "400 Bad Request" "GET / HTTP/1.1\r\n$H\r\nX-A: a\x00b\r\n\r\n"
refused obs_fold_400 "400 Bad Request" "GET / HTTP/1.1\r\n$H\r\nX-A: a\r\n b\r\n\r\n"
refused bare_lf_400 "400 Bad Request" "GET / HTTP/1.1\n$H\n\n"
refused space_before_colon_400 "400 Bad Request" "GET / HTTP/1.1\r\n$H\r\nX-A : a\r\n\r\n"
refused te_not_chunked_400 "400 Bad Request" "POST / HTTP/1.1\r\n$H\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"
refused cl_and_te_400 "400 Bad Request" "POST / HTTP/1.1\r\n$H\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n$H\r\n\r\n"
refused two_lengths_400 "400 Bad Request" "POST / HTTP/1.1\r\n$H\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"
refused expect_417 "417 Expectation Failed" "POST / HTTP/1.1\r\n$H\r\nExpect: magic\r\nContent-Length: 0\r\n\r\n"
refused connect_400 "400 Bad Request" "CONNECT $APP.localhost:80 HTTP/1.1\r\n$H\r\n\r\n"
refused http10_no_host_400 "400 Bad Request" "GET / HTTP/1.0\r\n\r\n"
refused two_hosts_400 "400 Bad Request" "GET / HTTP/1.1\r\n$H\r\n$H\r\n\r\n"
refused two_te_400 "400 Bad Request" "POST / HTTP/1.1\r\n$H\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n"
refused absolute_other_host_400 "400 Bad Request" "GET http://other.localhost/abs HTTP/1.1\r\n$H\r\n\r\n"
refused host_port_junk_404 "404 Not Found" "GET / HTTP/1.1\r\n$H:1 status=999\r\n\r\n"
# An absolute-form target naming the same host reaches the dyno in origin-form.
printf 'GET http://%s.localhost:%s/abs?q=1 HTTP/1.1\r\n%s\r\n\r\n' "$APP" "$HTTP_PORT" "$H" | timeout 10 $RAW 2 >"$T/abs.out"
check absolute_same_host_origin_form grep -q '"path": "/abs?q=1"' "$T/abs.out"
# Twenty 8,000-byte headers: each within the limits, 160 KB in all (over
# libhttp-parser's own 80 KB default): forwarded.
python3 -c 'import sys
sys.stdout.write("GET /hello HTTP/1.1\r\n%s\r\n" % sys.argv[1]
                 + "".join("X-Big%d: %s\r\n" % (i, "b" * 8000) for i in range(20)) + "\r\n")' "$H" >"$T/big_head.req"
timeout 10 $RAW 2 <"$T/big_head.req" >"$T/big_head.out"
check head_160k_forwarded grep -q '^HTTP/1.1 200' "$T/big_head.out"
# A dyno answering with a header over 512 KB: 502, H25.
check big_response_header_502 [ "$(get /bigheader)" = 502 ]
logged() { dyno logs -a "$APP" -n 300 | grep -qE "dynod\[router\]: at=error code=$1 desc=\"$2\" method=[A-Z]+ path=\"[^\"]*\" host=$APP\.localhost .* status=$3 "; }
check h26_log_line wait_for 10 logged H26 "Request Error" 400
check h25_log_line wait_for 10 logged H25 "HTTP Restriction" 431
check h25_response_log_line wait_for 10 logged H25 "HTTP Restriction" 502
check still_serving answers

# ---- HTTP/1.0 -----------------------------------------------------------------
printf 'GET /hello HTTP/1.0\r\n%s\r\n\r\n' "$H" | timeout 10 $RAW 5 >"$T/h10.out"
check http10_close grep -q '^Connection: close' "$T/h10.out"
check http10_body grep -q '"dyno": "web.1"' "$T/h10.out"
printf 'GET /chunked HTTP/1.0\r\n%s\r\n\r\n' "$H" | timeout 10 $RAW 5 >"$T/h10c.out"
check http10_no_chunked bash -c "! grep -qi '^Transfer-Encoding' '$T/h10c.out'"
check http10_raw_body grep -q '^hello world$' <(tail -c 11 "$T/h10c.out"; echo)
printf 'GET /a HTTP/1.0\r\n%s\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n%s\r\n\r\n' "$H" "$H" |
    timeout 10 $RAW 5 >"$T/h10ka.out"
check http10_keep_alive_asked grep -q '^Connection: keep-alive' "$T/h10ka.out"
check http10_keep_alive_two [ "$(grep -c '^HTTP/1.1 200' "$T/h10ka.out")" = 2 ]
check http11_chunked_kept bash -c "printf 'GET /chunked HTTP/1.1\r\n%s\r\nConnection: close\r\n\r\n' '$H' | timeout 10 $RAW 5 | grep -qi '^Transfer-Encoding: chunked'"

# ---- the keep-alive pool to dynos ----------------------------------------------
for i in 1 2 3 4 5; do get /hello >/dev/null; done
check pool_reuses [ "$(jget "$T/body" "d['on_conn']")" -ge 2 ]
# Connection: close from the client does not close the dyno's connection.
get /hello -H 'Connection: close' >/dev/null
get /hello >/dev/null
check pool_reuses_after_client_close [ "$(jget "$T/body" "d['on_conn']")" -ge 2 ]
get /arm-stale >/dev/null
check stale_get_retried [ "$(get /hello)" = 200 ]
check stale_get_fresh [ "$(jget "$T/body" "d['on_conn']")" = 1 ]
get /hello >/dev/null
get /arm-stale >/dev/null
check stale_post_not_retried [ "$(get /hello --data-binary x)" = 503 ]
check stale_post_h13 wait_for 10 logged H13 "Connection closed without response" 503
check pool_after_stale answers
finish
