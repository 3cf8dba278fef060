#!/usr/bin/env bash
# The router's timeouts and the H codes they raise, with small settings,
# against a real `dynod up` and the router-echo app: H12 (no first byte
# in time), H15 (the dyno goes quiet mid-response), H28 (a client stops
# sending its body), H27 (a client leaves before its answer), the header
# timeout (408) with 200 slow clients that do not delay a fast one, the
# keep-alive timeout, no fd leaked afterwards, a dyno refusing connects
# sidelined while the other answers (then H21 when none is left), H20
# while the app's only web dyno is still starting, and the connect timeout
# (tests/apps/hang-web: a dyno whose accept queue is full, so the kernel
# drops its SYNs): the hung dyno sidelined while the other answers, then
# H19 when none is left.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

APPS=$(cd "$(dirname "$0")/../apps" && pwd) || bail "no tests/apps folder"
export DYNOD_BOOT_TIMEOUT_MS=20000
export DYNOD_ROUTER_SERVICE_TIMEOUT_MS=2500
export DYNOD_ROUTER_IDLE_TIMEOUT_MS=1200
export DYNOD_ROUTER_HEADER_TIMEOUT_MS=1500
export DYNOD_ROUTER_KEEPALIVE_TIMEOUT_MS=1500
export DYNOD_ROUTER_POOL_IDLE_MS=1000
export DYNOD_ROUTER_BOOT_TIMEOUT_MS=1000
export DYNOD_ROUTER_CONNECT_TIMEOUT_MS=500
HTTP_PORT=$(free_port)
start_up --http-port "$HTTP_PORT" || bail "dynod up did not get ready"
APP=rtr-times
dyno apps:create "$APP" >/dev/null 2>"$T/create.err" || bail "apps:create: $(cat "$T/create.err")"
dyno deploy "$APPS/router-echo" -a "$APP" >"$T/deploy.out" 2>&1 || bail "deploy: $(tail -n 1 "$T/deploy.out")"

CLIENT="python3 $(dirname "$0")/rtr_client.py"
RAW="$CLIENT raw $HTTP_PORT"
H="Host: $APP.localhost"
get() {     # get PATH [CURL ARGS...]: the body into $T/body, prints the status
    local path=$1
    shift
    curl -s -o "$T/body" -w '%{http_code}' --max-time 10 -H "$H" "$@" "http://127.0.0.1:$HTTP_PORT$path"
}
answers() { [ "$(get /hello)" = 200 ]; }
check reaches_app wait_for 40 answers
logged() {  # logged LEVEL CODE DESC PATH STATUS [SOCK]
    local sock=${6:+sock=$6 }
    dyno logs -a "$APP" -n 300 | grep -qE "dynod\[router\]: at=$1 code=$2 desc=\"$3\" ${sock}method=[A-Z]+ path=\"$4\" host=$APP\.localhost .* status=$5 "
}
router_detail() {
    dyno status --json | python3 -c 'import json,sys
rows = [a for a in json.load(sys.stdin)["actors"] if a["name"] == "router"]
print(rows[0]["detail"][sys.argv[1]])' "$1"
}
ROUTER=$(child_pid router)
fds() { ls "/proc/$ROUTER/fd" | wc -l; }
quiet() { [ "$(router_detail clients)" = 0 ] && [ "$(router_detail pooled)" = 0 ]; }
wait_for 10 quiet
BASE_FDS=$(fds)

# H12: no first byte within the service timeout.
t0=$(now_ms)
check h12_503 [ "$(get '/sleep?ms=4000')" = 503 ]
check h12_in_time [ $(($(now_ms) - t0)) -lt 3500 ]
check h12_page grep -q H12 "$T/body"
check h12_log_line wait_for 10 logged error H12 "Request timeout" '/sleep\?ms=4000' 503

# H15: the head went out, then the dyno said nothing for the idle timeout.
t0=$(now_ms)
check h15_cut bash -c "! curl -s -o /dev/null --max-time 10 -H '$H' 'http://127.0.0.1:$HTTP_PORT/stall?ms=5000'"
check h15_in_time [ $(($(now_ms) - t0)) -lt 3500 ]
check h15_log_line wait_for 10 logged error H15 "Idle connection" '/stall\?ms=5000' 503

# H28: a client that stops sending its body.
printf 'POST /body HTTP/1.1\r\n%s\r\nContent-Length: 10\r\n\r\nabc' "$H" | timeout 10 $RAW 6 >"$T/h28.out"
check h28_closed [ ! -s "$T/h28.out" ]
check h28_log_line wait_for 10 logged warning H28 "Client Connection Idle" /body 499 client

# H27: the client leaves before its answer.
curl -s -o /dev/null --max-time 0.5 -H "$H" "http://127.0.0.1:$HTTP_PORT/sleep?ms=1500"
check h27_log_line wait_for 10 logged warning H27 "Client Request Interrupted" '/sleep\?ms=1500' 499 client

# The header timeout: an incomplete head gets 408 and the connection closes.
printf 'GET /slow HTTP/1.1\r\n%s\r\nX-Slow: 1' "$H" | timeout 10 $RAW 6 >"$T/408.out"
check header_timeout_408 grep -q '^HTTP/1.1 408 Request Timeout' "$T/408.out"
check header_timeout_log_line wait_for 10 logged warning H28 "Client Connection Idle" /slow 408 client

# Keep-alive timeout: an idle client between requests is closed.
t0=$(now_ms)
printf 'GET /hello HTTP/1.1\r\n%s\r\n\r\n' "$H" | timeout 10 $RAW 8 >"$T/ka.out"
took=$(($(now_ms) - t0))
check keepalive_answered grep -q '^HTTP/1.1 200' "$T/ka.out"
check keepalive_closed [ "$took" -ge 1400 ] && [ "$took" -lt 6000 ]

# Slowloris: 200 clients trickling heads do not delay a fast one, and are
# all cut at the header timeout.
spawn slow $CLIENT slow "$HTTP_PORT" 200 "$APP.localhost" "$T/slow.txt"
opened() { grep -q opened "$T/slow.txt" 2>/dev/null; }
check slow_opened wait_for 20 opened
t0=$(now_ms)
check fast_client_served [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 -H "$H" "http://127.0.0.1:$HTTP_PORT/hello")" = 200 ]
check fast_client_fast [ $(($(now_ms) - t0)) -lt 1000 ]
all_cut() { grep -q '^408 200 closed 200$' "$T/slow.txt"; }
check slow_all_408 wait_for 20 all_cut

# Nothing leaked: the router's fds come back to where they were.
fds_back() { [ "$(fds)" -le "$BASE_FDS" ]; }
check fds_baseline wait_for 15 fds_back

# A dyno that refuses connects is sidelined; the other answers meanwhile.
dyno ps:scale web=2 -a "$APP" >/dev/null 2>"$T/scale.err" || fail scale_web_2 "$(cat "$T/scale.err")"
two_up() { [ "$(router_detail web_dynos_up)" = 2 ]; }
check two_up wait_for 40 two_up
get /unlisten >/dev/null
unlistened() { [ "$(dyno logs -a "$APP" -n 300 | grep -c 'router-echo stopped listening')" -ge "$1" ]; }
check unlistened wait_for 10 unlistened 1
ok20() { local i; for i in $(seq 20); do [ "$(get /hello)" = 200 ] || return 1; done; }
check refused_dyno_skipped ok20
check refused_dyno_sidelined [ "$(router_detail sidelined)" -ge 1 ]
check no_h21_while_one_answers bash -c "! dyno logs -a $APP -n 300 | grep -q 'code=H21'"
# The other one too: nothing answers now.
get /unlisten >/dev/null
check unlistened_both wait_for 10 unlistened 2
is_h21() { [ "$(get /hello)" = 503 ] && logged error H21 "Backend connection refused" /hello 503; }
check h21_when_all_refuse wait_for 20 is_h21

# H20: the only web dyno is still starting when the boot timeout ends.
dyno ps:scale web=0 -a "$APP" >/dev/null 2>"$T/scale.err" || fail scale_web_0 "$(cat "$T/scale.err")"
none_up() { [ "$(router_detail web_dynos_up)" = 0 ]; }
check none_up wait_for 40 none_up
dyno config:set ROUTER_ECHO_BOOT_DELAY_MS=6000 -a "$APP" >/dev/null 2>"$T/config.err" || fail config_set "$(cat "$T/config.err")"
dyno ps:scale web=1 -a "$APP" >/dev/null 2>"$T/scale.err" || fail scale_web_1 "$(cat "$T/scale.err")"
is_h20() { [ "$(get /boot)" = 503 ] && logged error H20 "App boot timeout" /boot 503; }
check h20_while_starting wait_for 20 is_h20
check answers_once_up wait_for 40 answers

# The connect timeout: a dyno that accepts nothing and whose accept queue is
# full (connects neither complete nor are refused) is sidelined after 500 ms
# and the request goes to the other dyno; with both hung, H19.
HANG=rtr-hang
dyno apps:create "$HANG" >/dev/null 2>"$T/create.err" || bail "apps:create: $(cat "$T/create.err")"
dyno deploy "$APPS/hang-web" -a "$HANG" >"$T/deploy.out" 2>&1 || bail "deploy: $(tail -n 1 "$T/deploy.out")"
dyno ps:scale web=2 -a "$HANG" >/dev/null 2>"$T/scale.err" || fail scale_hang_web_2 "$(cat "$T/scale.err")"
hget() {    # hget PATH: the body into $T/hbody, prints the status
    curl -s -o "$T/hbody" -w '%{http_code}' --max-time 10 -H "Host: $HANG.localhost" "http://127.0.0.1:$HTTP_PORT$1"
}
dynos_seen() {  # both web dynos answered
    local seen="" i
    for i in $(seq 20); do
        [ "$(hget /)" = 200 ] && seen="$seen $(cut -d' ' -f1 "$T/hbody")"
    done
    [ "$(echo "$seen" | tr ' ' '\n' | sort -u | grep -c .)" = 2 ]
}
check hang_app_two_answer wait_for 40 dynos_seen
hung() { [ "$(dyno logs -a "$HANG" -n 300 | grep -c 'hang-web stopped accepting')" -ge "$1" ]; }
[ "$(hget /hang)" = 200 ] || fail hang_first "no answer to /hang"
HUNG=$(cut -d' ' -f1 "$T/hbody")
check hang_first wait_for 10 hung 1
# 20 requests all answered by the other dyno; the one that tried the hung
# dyno first waited for the connect timeout (500 ms), not more.
t_max=0 other_only=1
for i in $(seq 20); do
    t0=$(now_ms)
    [ "$(hget /)" = 200 ] && ! grep -q "^$HUNG " "$T/hbody" || other_only=0
    t=$(($(now_ms) - t0))
    [ "$t" -gt "$t_max" ] && t_max=$t
done
check connect_timeout_other_answers [ "$other_only" = 1 ]
check connect_timeout_hung_sidelined [ "$(router_detail sidelined)" -ge 1 ]
between() { [ "$1" -ge "$2" ] && [ "$1" -lt "$3" ]; }
check connect_timeout_retry_in_time between "$t_max" 450 2000
check no_h19_while_one_answers bash -c "! dyno logs -a $HANG -n 300 | grep -q 'code=H19'"
# The other one too: every connect hangs now.
[ "$(hget /hang)" = 200 ] || fail hang_second "no answer to /hang"
check hang_second wait_for 10 hung 2
t0=$(now_ms)
check h19_503 [ "$(hget /)" = 503 ]
check h19_in_time [ $(($(now_ms) - t0)) -lt 2500 ]
check h19_page grep -q H19 "$T/hbody"
h19_logged() {
    dyno logs -a "$HANG" -n 300 | grep -qE "dynod\[router\]: at=error code=H19 desc=\"Backend connection timeout\" method=GET path=\"/\" host=$HANG\.localhost .* status=503 "
}
check h19_log_line wait_for 10 h19_logged
finish
