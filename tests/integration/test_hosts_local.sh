#!/usr/bin/env bash
# Two hosts on one machine: `dynod up`'s dyno-supervisor plus a second one
# (`dynod actor dyno-supervisor --instance host-b` with its own data dir).
# web=4 spreads over both; a SIGKILLed supervisor's dynos die with it and
# start on the other host within the heartbeat timeout, under the same
# ids; once it is back there are no duplicates (each web.N once, up) and
# no orphans (the dyno processes running are exactly those `ps` lists); a
# SIGKILLed scheduler leaves the dynos running, and the one dynod up
# starts again adopts them (same ids, same processes, nothing restarted).
# The dynos are tests/apps/rollout-web, found by the HOSTS_MARK config var
# in their environment.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

APP_SRC=$(cd "$(dirname "$0")/../apps/rollout-web" && pwd) || bail "no tests/apps/rollout-web"
export DYNOD_BOOT_TIMEOUT_MS=30000
export DYNOD_STOP_TIMEOUT_MS=3000
export DYNOD_REPORT_MS=2000
export DYNOD_SUPERVISOR_MEM_MB=8192
start_up || bail "dynod up did not get ready"
mkdir -p "$T/work" && cd "$T/work" || bail "cannot enter $T/work"
TOKEN=$(cat "$DATA/api-token") || bail "no API token in $DATA"

start_host_b() {    # the second supervisor; sets B_PID
    DYNOD_API_TOKEN=$TOKEN spawn "host-b$1" "$DYNOD" actor dyno-supervisor --broker "$BROKER_EP" \
        --data "$T/data-b" --instance host-b
    B_PID=$SPAWNED
}
mkdir -p "$T/data-b" || bail "cannot make $T/data-b"
start_host_b 0
B=dyno-supervisor@host-b
# Both supervisors are live in `dyno status` (two dyno-supervisor rows).
two_sups() {
    status_json "$T/st.json" || return 1
    [ "$(python3 -c 'import json,sys
print(sum(1 for a in json.load(open(sys.argv[1]))["actors"] if a["name"] == "dyno-supervisor" and a["state"] == "up"))' "$T/st.json")" = 2 ]
}
wait_for 20 two_sups || bail "the second supervisor did not come up"

APP=hosts-app
dyno apps:create "$APP" >/dev/null 2>"$T/create.err" || bail "apps:create: $(cat "$T/create.err")"
rm -rf "$T/src" && cp -r "$APP_SRC" "$T/src" && echo hosts >"$T/src/VERSION" && echo 0.2 >"$T/src/BOOT_SLEEP" ||
    bail "cannot copy the app"
dyno deploy "$T/src" -a "$APP" >"$T/deploy.out" 2>&1 || bail "deploy: $(tail -n 1 "$T/deploy.out")"
dyno config:set "HOSTS_MARK=$T" -a "$APP" >/dev/null 2>"$T/config.err" || bail "config:set: $(cat "$T/config.err")"

# ---- views ------------------------------------------------------------------
# pq EXPR: EXPR over `dyno ps --json` (D: its dynos), lists printed space-separated
pq() {
    dyno ps -a "$APP" --json >"$T/ps.json" 2>"$T/ps.err" || return 1
    python3 -c 'import json,sys
d = json.load(open(sys.argv[1])); D = d["dynos"]
r = eval(sys.argv[2])
print(" ".join(map(str, r)) if isinstance(r, (list, tuple)) else r)' "$T/ps.json" "$1"
}
# spread WANT: "N ALL_UP PER_SUP...": how many dynos, whether all are up, how many each supervisor has
# (sorted; e.g. "4 True 2 2", or "4 True 4" when one runs them all)
spread() {
    local want=$1 got
    got=$(pq '[len(D), all(x["state"] == "up" for x in D)] + sorted(__import__("collections").Counter(x["supervisor"] for x in D).values())') || return 1
    [ "$got" = "$want" ] || { echo "dynos, all up, per supervisor: $got (wanted $want); $(cat "$T/ps.json")"; return 1; }
}
ids() { pq 'sorted(x["id"] for x in D)'; }
names_ok() {    # each web.N (1..4) listed exactly once
    [ "$(pq 'sorted(x["name"] for x in D)')" = "web.1 web.2 web.3 web.4" ] || { echo "names: $(pq 'sorted(x["name"] for x in D)')"; return 1; }
}
# Dyno processes of this script (HOSTS_MARK=$T in their environment), as
# `pid:DYNO` pairs sorted by DYNO.
marked() {
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
marked_names() { marked | tr ' ' '\n' | cut -d: -f1 | grep . | tr '\n' ' '; }
no_orphans() {  # the marked processes are exactly web.1..web.4, once each
    local m
    m=$(marked_names)
    [ "$m" = "web.1 web.2 web.3 web.4 " ] || { echo "dyno processes: $(marked)"; return 1; }
}

# ---- web=4 spreads over both hosts ------------------------------------------
dyno ps:scale web=4 -a "$APP" >/dev/null 2>"$T/scale.err" || bail "ps:scale: $(cat "$T/scale.err")"
check spread_over_both wait_for 40 spread "4 True 2 2"
check spread_both_named eval "pq 'sorted(set(x[\"supervisor\"] for x in D))' | grep -q '$B'"
check spread_processes wait_for 10 no_orphans
dyno ps -a "$APP" >"$T/ps.txt" 2>&1
# The host column names each supervisor's instance (both hosts appear), then
# the web dyno's address.
ps_hosts() {
    [ "$(grep -cE '^web\.[1-4]: up .* on [^ ]+ \(127\.0\.0\.1:[0-9]+\)$' "$T/ps.txt")" = 4 ] \
    && grep -qE " on ${B#*@} \(" "$T/ps.txt" && [ "$(grep -vcE " on ${B#*@} \(|^===" "$T/ps.txt")" = 2 ] \
    || { cat "$T/ps.txt"; return 1; }
}
check ps_host_column ps_hosts

# ---- SIGKILL host-b: its dynos die with it and move to the other host -------
ids_before=$(ids)
on_b=$(_family "$B_PID")
b_dynos=
for p in $(marked); do
    case " $on_b " in *" ${p#*:} "*) b_dynos="$b_dynos ${p#*:}" ;; esac
done
check host_b_ran_two test "$(wc -w <<<"$b_dynos")" = 2
kill -KILL "$B_PID"
all_gone() { local p; for p in $b_dynos; do not_running "$p" || { echo "$p still runs"; return 1; }; done; }
check killed_dynos_die_with_it wait_for 5 all_gone
check failover_all_up_on_a wait_for 30 spread "4 True 4"
check failover_same_ids test "$(ids)" = "$ids_before"
check failover_processes wait_for 10 no_orphans

# ---- host-b back: no duplicates, no orphans ---------------------------------
start_host_b 1
check host_b_back wait_for 20 two_sups
# Its first report (empty: it swept what it had) is in once it was live a
# report period; then nothing moves and nothing runs twice.
stable() { spread "4 True 4" && names_ok && no_orphans && [ "$(ids)" = "$ids_before" ]; }
check back_no_duplicates holds 5 stable
check back_host_b_empty eval "! pq '[x[\"supervisor\"] for x in D]' | grep -q '$B'"

# ---- SIGKILL the scheduler: the dynos keep running and are adopted ----------
procs_before=$(marked)
sched=$(child_pid scheduler)
[ -n "$sched" ] || bail "no scheduler child of dynod up"
kill -KILL "$sched"
check scheduler_restarted wait_for 20 sq restarted scheduler "$sched"
check scheduler_dynos_kept test "$(marked)" = "$procs_before"
adopted() { spread "4 True 4" && [ "$(ids)" = "$ids_before" ]; }
check scheduler_adopts wait_for 20 adopted
check scheduler_nothing_restarted holds 5 eval 'adopted && [ "$(marked)" = "$procs_before" ]'

finish
