#!/usr/bin/env bash
# The backend keep-alive pool under a race: a dyno dies while the router
# is stopped, with a client's next request already sent, so the router
# sees the request (which takes the pooled connection) and the pooled
# connection's close in one batch of events. The router must neither
# crash nor act on the freed pool entry: it answers, and keeps serving.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

APPS=$(cd "$(dirname "$0")/../apps" && pwd) || bail "no tests/apps folder"
export DYNOD_BOOT_TIMEOUT_MS=20000
export DYNOD_ROUTER_WORKERS=1
export DYNOD_RESTART_BACKOFF_MS=0
HTTP_PORT=$(free_port)
start_up --http-port "$HTTP_PORT" || bail "dynod up did not get ready"
APP=pool-app
dyno apps:create "$APP" >/dev/null 2>"$T/create.err" || bail "apps:create: $(cat "$T/create.err")"
dyno deploy "$APPS/router-echo" -a "$APP" >"$T/deploy.out" 2>&1 || bail "deploy: $(tail -n 1 "$T/deploy.out")"
answers() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Host: $APP.localhost" "http://127.0.0.1:$HTTP_PORT/")" = 200 ]; }
wait_for 40 answers || bail "the app never answered"
ROUTER=$(child_pid router)
[ -n "$ROUTER" ] || bail "no router process"

dyno_pid() {    # the web dyno's process: the one whose environment has its PORT
    local port=$1 p
    for p in /proc/[0-9]*; do
        tr '\0' '\n' <"$p/environ" 2>/dev/null | grep -qx "PORT=$port" && { basename "$p"; return 0; }
    done
    return 1
}
for round in 1 2 3 4 5; do
    PORT=$(dyno ps -a "$APP" --json | python3 -c 'import json,sys
print([d for d in json.load(sys.stdin)["dynos"] if d["state"] == "up"][0]["port"])' 2>/dev/null)
    PID=$(dyno_pid "$PORT")
    [ -n "$PID" ] || bail "no dyno process for port $PORT"
    python3 "$(dirname "$0")/rtr_pool_race.py" "$ROUTER" "$HTTP_PORT" "$APP.localhost" "$PID" "$PORT" \
        >"$T/race$round.out" 2>&1
    check "race${round}_answered" grep -q '^HTTP/1.1 [0-9][0-9][0-9]' "$T/race$round.out"
    check "race${round}_router_alive" kill -0 "$ROUTER"
    check "race${round}_same_router" [ "$(child_pid router)" = "$ROUTER" ]
    check "race${round}_serves_again" wait_for 40 answers
done
finish
