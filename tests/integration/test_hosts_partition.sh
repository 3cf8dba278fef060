#!/usr/bin/env bash
# A host cut off, not dead: `dynod up` (host A: broker, every actor, its
# router listening on DYNOD_ROUTER_ADDR=127.0.0.2) plus a second
# supervisor, host B (`dynod actor dyno-supervisor --instance host-b
# --host host-b`, advertising DYNOD_ADVERTISE_HOST=127.0.0.3). web=4
# spreads 2/2; `dyno hosts` lists both hosts. Then B's supervisor is
# frozen (SIGSTOP) for longer than the heartbeat timeout: the broker drops
# it while its dynos keep running. Asserted: its dynos come up on A
# within the heartbeat timeout and a few seconds' boot; the router forgets
# B's dynos (no connection to their ports while traffic flows); a steady
# request loop through the router succeeds >= 99% over the whole failover.
# After SIGCONT (same address, same host) B registers again, its copies of
# the replaced dynos are stopped, and the formation converges: each web.N
# once, up, on A, and the dyno processes running are exactly those.
# Also: a router given a DYNOD_ROUTER_ADDR that is not an IPv4 address
# says so in one line and does not listen.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

APP_SRC=$(cd "$(dirname "$0")/../apps/rollout-web" && pwd) || bail "no tests/apps/rollout-web"
export DYNOD_BOOT_TIMEOUT_MS=30000
export DYNOD_STOP_TIMEOUT_MS=3000
export DYNOD_REPORT_MS=2000
export DYNOD_SUPERVISOR_MEM_MB=8192
export DYNOD_ROUTER_ADDR=127.0.0.2
HEARTBEAT_TIMEOUT_S=3       # the broker drops a peer silent for 3 x 1 s
start_up || bail "dynod up did not get ready"
mkdir -p "$T/work" && cd "$T/work" || bail "cannot enter $T/work"
TOKEN=$(cat "$DATA/api-token") || bail "no API token in $DATA"
HTTP_PORT=$(sq actor router detail | python3 -c 'import ast,sys; print(ast.literal_eval(sys.stdin.read())["http_port"])') ||
    bail "no router http_port in dyno status"

mkdir -p "$T/data-b" || bail "cannot make $T/data-b"
DYNOD_API_TOKEN=$TOKEN DYNOD_ADVERTISE_HOST=127.0.0.3 spawn host-b "$DYNOD" actor dyno-supervisor \
    --broker "$BROKER_EP" --data "$T/data-b" --instance host-b --host host-b
B_PID=$SPAWNED
B=dyno-supervisor@host-b
sups_up() {     # sups_up N: N dyno-supervisor rows, up, in `dyno status`
    status_json "$T/st.json" || return 1
    local n
    n=$(python3 -c 'import json,sys
print(sum(1 for a in json.load(open(sys.argv[1]))["actors"] if a["name"] == "dyno-supervisor" and a["state"] == "up"))' "$T/st.json")
    [ "$n" = "$1" ] || { echo "$n supervisors up, wanted $1"; return 1; }
}
wait_for 20 sups_up 2 || bail "the second supervisor did not come up"

APP=part-app
dyno apps:create "$APP" >/dev/null 2>"$T/create.err" || bail "apps:create: $(cat "$T/create.err")"
rm -rf "$T/src" && cp -r "$APP_SRC" "$T/src" && echo part >"$T/src/VERSION" && echo 0.2 >"$T/src/BOOT_SLEEP" ||
    bail "cannot copy the app"
dyno deploy "$T/src" -a "$APP" >"$T/deploy.out" 2>&1 || bail "deploy: $(tail -n 1 "$T/deploy.out")"
dyno config:set "HOSTS_MARK=$T" -a "$APP" >/dev/null 2>"$T/config.err" || bail "config:set: $(cat "$T/config.err")"

# ---- views (as in test_hosts_local.sh) --------------------------------------
pq() {  # pq EXPR: EXPR over `dyno ps --json` (D: its dynos)
    dyno ps -a "$APP" --json >"$T/ps.json" 2>"$T/ps.err" || return 1
    python3 -c 'import json,sys
d = json.load(open(sys.argv[1])); D = d["dynos"]
r = eval(sys.argv[2])
print(" ".join(map(str, r)) if isinstance(r, (list, tuple)) else r)' "$T/ps.json" "$1"
}
spread() {  # spread "N ALL_UP PER_SUP...", e.g. "4 True 2 2"
    local got
    got=$(pq '[len(D), all(x["state"] == "up" for x in D)] + sorted(__import__("collections").Counter(x["supervisor"] for x in D).values())') || return 1
    [ "$got" = "$1" ] || { echo "dynos, all up, per supervisor: $got (wanted $1); $(cat "$T/ps.json")"; return 1; }
}
ids() { pq 'sorted(x["id"] for x in D)'; }
names_ok() {
    [ "$(pq 'sorted(x["name"] for x in D)')" = "web.1 web.2 web.3 web.4" ] || { echo "names: $(pq 'sorted(x["name"] for x in D)')"; return 1; }
}
marked() {  # the dyno processes of this script, as DYNO:pid sorted by DYNO
    local f pid env out=
    for f in /proc/[0-9]*/environ; do
        env=$(tr '\0' '\n' <"$f" 2>/dev/null) || continue
        grep -qx "HOSTS_MARK=$T" <<<"$env" || continue
        pid=${f#/proc/}
        pid=${pid%/environ}
        not_running "$pid" && continue
        out="$out $(grep -m1 '^DYNO=' <<<"$env" | cut -d= -f2):$pid"
    done
    tr ' ' '\n' <<<"$out" | grep . | sort | tr '\n' ' '
}
no_orphans() {
    local m
    m=$(marked | tr ' ' '\n' | cut -d: -f1 | grep . | tr '\n' ' ')
    [ "$m" = "web.1 web.2 web.3 web.4 " ] || { echo "dyno processes: $(marked)"; return 1; }
}
router_up() {   # router_up N: the router has N web dynos up
    local n
    n=$(sq actor router detail | python3 -c 'import ast,sys; print(ast.literal_eval(sys.stdin.read())["web_dynos_up"])') || return 1
    [ "$n" = "$1" ] || { echo "router has $n web dynos up, wanted $1"; return 1; }
}
get() { curl -s --max-time 5 -H "Host: $APP.localhost" "http://$1:$HTTP_PORT/"; }

# ---- web=4 over both hosts; the addresses; dyno hosts ------------------------
dyno ps:scale web=4 -a "$APP" >/dev/null 2>"$T/scale.err" || bail "ps:scale: $(cat "$T/scale.err")"
check spread_over_both wait_for 40 spread "4 True 2 2"
check router_knows_four wait_for 10 router_up 4
b_addrs() { pq '[ "%s:%s" % (x["host"], x["port"]) for x in D if x["supervisor"] == "'"$B"'"]'; }
check advertised_address eval '[ "$(b_addrs | tr " " "\n" | grep -c "^127\.0\.0\.3:[0-9]*$")" = 2 ]'
check a_address_default eval '[ "$(pq "[x[\"host\"] for x in D if x[\"supervisor\"] != \"'"$B"'\"]")" = "127.0.0.1 127.0.0.1" ]'
check router_on_router_addr eval 'get 127.0.0.2 | grep -q "^version=part "'
check router_not_on_loopback_1 eval '! get 127.0.0.1'
# Every dyno answers through the router, B's through 127.0.0.3 too.
all_served() {
    local seen= i
    for i in $(seq 40); do seen="$seen $(get 127.0.0.2 | sed -n 's/.*dyno=\(web\.[0-9]\).*/\1/p')"; done
    for i in 1 2 3 4; do grep -q "web\.$i" <<<"$seen" || { echo "web.$i never answered: $seen"; return 1; }; done
}
check router_reaches_both wait_for 10 all_served

dyno hosts >"$T/hosts.txt" 2>"$T/hosts.err"
check hosts_exit_0 test $? = 0
hosts_table() {     # a header and one row per host; host-b: its supervisor, 2 dynos, 2 x 512 MB used
    # (an actor whose instance is its host's name is shown by name alone)
    head -n 1 "$T/hosts.txt" | grep -qE '^HOST +DYNOS +MEMORY USED/FREE +LAST HEARTBEAT +ACTORS$' &&
    [ "$(wc -l <"$T/hosts.txt")" = 3 ] &&
    grep -qE '^host-b +2 +1024/7168 MB +[0-9]+s ago +dyno-supervisor$' "$T/hosts.txt" &&
    grep -vE '^(HOST|host-b) ' "$T/hosts.txt" |
        grep -qE ' 2 +1024/7168 MB +[0-9]+s ago +broker,config-keeper,dyno-supervisor,log-plex,release-keeper,router,scheduler$' ||
    { cat "$T/hosts.txt"; return 1; }
}
check hosts_table hosts_table
hosts_json() {
    dyno hosts --json >"$T/hosts.json" || return 1
    python3 -c 'import json,sys
h = {r["host"]: r for r in json.load(open(sys.argv[1]))["hosts"]}
assert len(h) == 2, h
b = h["host-b"]
assert b["dynos"] == 2 and b["capacity_mb"] == 8192 and b["used_mb"] == 1024 and b["free_mb"] == 7168, b
assert [s["supervisor"] for s in b["supervisors"]] == ["dyno-supervisor@host-b"], b
assert 0 <= b["last_heartbeat_ms"] < 3000, b
a = [r for n, r in h.items() if n != "host-b"][0]
assert a["dynos"] == 2 and sorted(x["name"] for x in a["actors"]) == ["broker", "config-keeper", "dyno-supervisor", "log-plex", "release-keeper", "router", "scheduler"], a
' "$T/hosts.json"
}
check hosts_json hosts_json
run dyno hosts --bogus
check hosts_bad_option eval 'expect_rc 2 && one_stderr_line'

# ---- cut host B off: SIGSTOP its supervisor (its dynos keep running) --------
ids_before=$(ids)
b_ports=$(b_addrs | tr ' ' '\n' | cut -d: -f2 | tr '\n' ' ')
b_dynos=$(pq '[x["name"] for x in D if x["supervisor"] == "'"$B"'"]')
[ "$(wc -w <<<"$b_ports")" = 2 ] || bail "host B should run two web dynos: $b_ports"
procs_b=$(marked)

# The request loop: GET / through the router, one after another, counting
# 200s with the app's body and the rest, until $T/loop.stop appears.
python3 - "$HTTP_PORT" "$APP.localhost" "$T/loop.stop" "$T/loop.count" <<'PY' >"$T/loop.out" 2>&1 &
import http.client, os, sys, time
port, host, stop, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ok = bad = 0
def save():
    with open(out + ".tmp", "w") as f:
        f.write("%d %d\n" % (ok, bad))
    os.replace(out + ".tmp", out)
while not os.path.exists(stop):
    try:
        c = http.client.HTTPConnection("127.0.0.2", port, timeout=10)
        c.request("GET", "/", headers={"Host": host})
        r = c.getresponse()
        body = r.read()
        c.close()
        if r.status == 200 and body.startswith(b"version=part "):
            ok += 1
        else:
            bad += 1
            print("status", r.status, body[:80], flush=True)
    except Exception as e:
        bad += 1
        print("error", e, flush=True)
    save()
    time.sleep(0.01)
save()
PY
LOOP_PID=$!
loop_ok() { [ -s "$T/loop.count" ] && [ "$(cut -d' ' -f1 "$T/loop.count")" -ge "$1" ]; }
wait_for 10 loop_ok 20 || bail "the request loop does not get answers: $(tail -n 2 "$T/loop.out")"

cut_at=$(now_ms)
kill -STOP "$B_PID" || bail "cannot SIGSTOP host B's supervisor"
check partition_dropped wait_for $((HEARTBEAT_TIMEOUT_S + 3)) sups_up 1
# Its dynos keep running: the same processes.
still_run() { local p; for p in $procs_b; do not_running "${p#*:}" && { echo "${p%:*} (${p#*:}) stopped"; return 1; }; done; return 0; }
check partition_dynos_run still_run
# The router forgets B's dynos at once and no request goes to them: no
# connection from the router to their ports while the loop runs.
check partition_router_forgot wait_for 5 grep -q "forgot 2 web dynos of $B" "$UP_ERR"
no_conn_to_b() {
    local p n
    for p in $b_ports; do
        n=$(ss -Htn state established "( dport = :$p )" | wc -l)
        [ "$n" = 0 ] || { echo "$n connections to host B's port $p"; return 1; }
    done
}
check partition_no_traffic_to_b holds 3 no_conn_to_b
# B's dynos come up on A, under the same ids, within the heartbeat timeout
# plus their boot.
check failover_all_up_on_a wait_for 20 spread "4 True 4"
failover_s=$((($(now_ms) - cut_at) / 1000))
check failover_within_bound test "$failover_s" -le $((HEARTBEAT_TIMEOUT_S + 10))
check failover_same_ids test "$(ids)" = "$ids_before"
check failover_router_four wait_for 10 router_up 4
check failover_no_traffic_to_b holds 2 no_conn_to_b

# ---- heal: SIGCONT; B registers again; its duplicates are stopped ----------
kill -CONT "$B_PID" || bail "cannot SIGCONT host B's supervisor"
check heal_b_back wait_for 20 sups_up 2
# B still ran its two dynos, replaced on A meanwhile: they are stopped, and
# what runs is each web.N once, up, on A, the same ids as before.
converged() { spread "4 True 4" && names_ok && no_orphans && [ "$(ids)" = "$ids_before" ]; }
check heal_converged wait_for 20 converged
check heal_b_copies_stopped grep -qE "'$APP' epoch [0-9]+: 0 to start, 2 to stop" "$T/host-b.err"
check heal_stable holds 5 converged
check heal_b_empty eval "! pq '[x[\"supervisor\"] for x in D]' | grep -q '$B'"
check heal_router_four wait_for 10 router_up 4
hosts_after() {
    dyno hosts --json >"$T/hosts2.json" || return 1
    python3 -c 'import json,sys
h = {r["host"]: r for r in json.load(open(sys.argv[1]))["hosts"]}
assert h["host-b"]["dynos"] == 0 and h["host-b"]["used_mb"] == 0, h["host-b"]
assert sum(r["dynos"] for r in h.values()) == 4, h
' "$T/hosts2.json"
}
check heal_hosts_view wait_for 10 hosts_after

# ---- the request loop over the whole failover and heal -----------------------
touch "$T/loop.stop"
wait "$LOOP_PID"
read -r n_ok n_bad <"$T/loop.count"
echo "requests: $n_ok ok, $n_bad failed; failover ${failover_s}s; b dynos were $b_dynos" >&2
check traffic_99_percent test $((n_ok * 100)) -ge $(((n_ok + n_bad) * 99))
check traffic_many_requests test "$n_ok" -ge 100

# ---- a router with a bad DYNOD_ROUTER_ADDR ----------------------------------
mkdir -p "$T/data-r" || bail "cannot make $T/data-r"
DYNOD_API_TOKEN=$TOKEN DYNOD_ROUTER_ADDR=not-an-address DYNOD_HTTP_PORT=$(free_port) \
    spawn bad-router "$DYNOD" actor router --broker "$BROKER_EP" --data "$T/data-r" --instance bad-router
bad_router_said() { grep -q "not listening: DYNOD_ROUTER_ADDR 'not-an-address' is not an IPv4 address" "$T/bad-router.err"; }
check bad_router_addr_error wait_for 10 bad_router_said
bad_router_idle() {
    status_json "$T/st3.json" && python3 -c 'import json,sys
r = [a for a in json.load(open(sys.argv[1]))["actors"] if a["instance"] == "bad-router"]
assert r and r[0]["detail"]["listening"] is False, r' "$T/st3.json"
}
check bad_router_addr_not_listening wait_for 10 bad_router_idle

finish
