#!/usr/bin/env bash
# Websocket passthrough against a real `dynod up`: a node `ws` echo app
# (tests/apps/ws-echo, its node_modules/ws installed by npm into build/,
# cached there for reruns) answers 101 through the router, messages go
# both ways through the tunnel, a close from the app reaches the client,
# the router logs the upgrade (status 101), and a tunnel idle past the
# idle timeout is closed.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WS_DIR=$ROOT/build/ws-node
if [ ! -d "$WS_DIR/node_modules/ws" ]; then
    mkdir -p "$WS_DIR"
    timeout 120 npm install --no-audit --no-fund --prefix "$WS_DIR" --cache "$ROOT/build/npm-cache" \
        ws@8 >"$T/npm.out" 2>&1 || bail "npm cannot install ws: $(tail -n 1 "$T/npm.out")"
fi
command -v node >/dev/null || bail "no node"
cp -r "$ROOT/tests/apps/ws-echo" "$T/ws-echo"
cp -r "$WS_DIR/node_modules" "$T/ws-echo/node_modules"

export DYNOD_BOOT_TIMEOUT_MS=20000
export DYNOD_ROUTER_IDLE_TIMEOUT_MS=1500
HTTP_PORT=$(free_port)
start_up --http-port "$HTTP_PORT" || bail "dynod up did not get ready"
APP=rtr-ws
dyno apps:create "$APP" >/dev/null 2>"$T/create.err" || bail "apps:create: $(cat "$T/create.err")"
dyno deploy "$T/ws-echo" -a "$APP" >"$T/deploy.out" 2>&1 || bail "deploy: $(tail -n 1 "$T/deploy.out")"
answers() { curl -s --max-time 5 -H "Host: $APP.localhost" "http://127.0.0.1:$HTTP_PORT/" | grep -q '^ws-echo web.1$'; }
check reaches_app wait_for 40 answers

client() { NODE_PATH=$WS_DIR/node_modules timeout 20 node "$T/ws-echo/client.js" "ws://127.0.0.1:$HTTP_PORT/socket" "$APP.localhost" "$@"; }
client one two close >"$T/ws.out" 2>&1
check ws_greeting grep -qx 'hello http id' "$T/ws.out"
check ws_echo_one grep -qx 'echo:one' "$T/ws.out"
check ws_echo_two grep -qx 'echo:two' "$T/ws.out"
check ws_closed_by_app grep -qx 'closed 1000' "$T/ws.out"
big=$(printf 'x%.0s' $(seq 100000))
client "$big" close >"$T/big.out" 2>&1
check ws_big_message grep -qx "echo:$big" "$T/big.out"
logged() { dyno logs -a "$APP" -n 100 | grep -qE "dynod\[router\]: at=info method=GET path=\"/socket\" host=$APP\.localhost .* dyno=web\.1 .* status=101 "; }
check ws_log_line_101 wait_for 10 logged

# Idle past the idle timeout: the router closes the tunnel.
client one wait:4000 two >"$T/idle.out" 2>&1
check ws_idle_echo_one grep -qx 'echo:one' "$T/idle.out"
check ws_idle_closed bash -c "grep -q '^closed ' '$T/idle.out' && ! grep -qx 'echo:two' '$T/idle.out'"
check still_answers answers
finish
