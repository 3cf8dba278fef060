#!/usr/bin/env bash
# Several routers at once, as with one per host: a second router
# (`dynod actor router --instance r2`, its own ports) started after the app
# exists learns the whole picture from the supervisors (dyno states) and
# release-keeper (domains, maintenance); then both routers follow every
# change: a custom domain added, maintenance on and off, the app scaled to
# zero and back. A router that restarts learns it all again.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

APPS=$(cd "$(dirname "$0")/../apps" && pwd) || bail "no tests/apps folder"
export DYNOD_BOOT_TIMEOUT_MS=20000
export DYNOD_STOP_TIMEOUT_MS=3000
P1=$(free_port)
start_up --http-port "$P1" || bail "dynod up did not get ready"
TOKEN=$(cat "$DATA/api-token") || bail "no API token in $DATA"
APP=many-app
dyno apps:create "$APP" >/dev/null 2>"$T/create.err" || bail "apps:create: $(cat "$T/create.err")"
dyno deploy "$APPS/router-echo" -a "$APP" >"$T/deploy.out" 2>&1 || bail "deploy: $(tail -n 1 "$T/deploy.out")"
dyno domains:add www.many.test -a "$APP" >/dev/null 2>"$T/dom.err" || bail "domains:add: $(cat "$T/dom.err")"

# status PORT HOST: the HTTP status a GET / for HOST gets from the router on PORT
status() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Host: $2" "http://127.0.0.1:$1/"; }
is() { [ "$(status "$1" "$2")" = "$3" ]; }
wait_for 40 is "$P1" "$APP.localhost" 200 || bail "the first router never reached the app"

P2=$(free_port)
P2S=$(free_port)
start_r2() {
    DYNOD_API_TOKEN=$TOKEN DYNOD_HTTP_PORT=$P2 DYNOD_HTTPS_PORT=$P2S \
        spawn "r2-$1" "$DYNOD" actor router --broker "$BROKER_EP" --instance r2
    R2_PID=$SPAWNED
}
start_r2 0
check second_router_learns_dynos wait_for 20 is "$P2" "$APP.localhost" 200
check second_router_learns_domains wait_for 20 is "$P2" www.many.test 200
check unknown_host_404_on_both sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: nope.test' http://127.0.0.1:$P2/)\" = 404 ] && [ \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: nope.test' http://127.0.0.1:$P1/)\" = 404 ]"

dyno domains:add api.many.test -a "$APP" >/dev/null 2>&1
check new_domain_on_first wait_for 10 is "$P1" api.many.test 200
check new_domain_on_second wait_for 10 is "$P2" api.many.test 200

dyno maintenance:on -a "$APP" >/dev/null 2>&1
check maintenance_on_first wait_for 10 is "$P1" "$APP.localhost" 503
check maintenance_on_second wait_for 10 is "$P2" www.many.test 503
dyno maintenance:off -a "$APP" >/dev/null 2>&1
check maintenance_off_both wait_for 10 sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: $APP.localhost' http://127.0.0.1:$P1/)\" = 200 ] && [ \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: $APP.localhost' http://127.0.0.1:$P2/)\" = 200 ]"

# Scaled to zero: both routers stop sending to the dyno (H14, 503).
dyno ps:scale web=0 -a "$APP" >/dev/null 2>&1
check scaled_down_first wait_for 20 is "$P1" "$APP.localhost" 503
check scaled_down_second wait_for 20 is "$P2" "$APP.localhost" 503
dyno ps:scale web=1 -a "$APP" >/dev/null 2>&1
check scaled_up_second wait_for 40 is "$P2" "$APP.localhost" 200

# The second router restarts: it learns everything again.
kill -9 "$R2_PID" 2>/dev/null
wait "$R2_PID" 2>/dev/null
start_r2 1
check restarted_router_learns_dynos wait_for 20 is "$P2" "$APP.localhost" 200
check restarted_router_learns_domains wait_for 20 is "$P2" api.many.test 200
finish
