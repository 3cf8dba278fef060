#!/usr/bin/env bash
# Releases reaching the dynos against a real `dynod up` (tests/apps/rollout-web,
# a web dyno that says which slug and config it runs, waits 2 s before it
# binds and logs its SIGTERM): a deploy gives every dyno a new incarnation
# serving the new slug; config:set restarts them with the new env; without
# preboot the old web dyno gets SIGTERM before the new one is up; a release
# phase that exits 1 keeps the old release (dynos unchanged, `releases`
# says failed, its output in the logs) and one that exits 0 runs before
# the new web dyno starts, and stays live across a scheduler restart; with preboot the old web dyno stays `up` and
# serving while the new one is `starting` and goes once it is up; a
# preboot whose new web dyno never binds, or never passes the health
# check, leaves the old release serving and the release failed;
# apps:destroy stops the app's dynos.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

APP_SRC=$(cd "$(dirname "$0")/../apps/rollout-web" && pwd) || bail "no tests/apps/rollout-web"
export DYNOD_BOOT_TIMEOUT_MS=30000
export DYNOD_PREBOOT_TIMEOUT_MS=9000
export DYNOD_STOP_TIMEOUT_MS=3000
export DYNOD_REPORT_MS=2000
start_up || bail "dynod up did not get ready"
mkdir -p "$T/work" && cd "$T/work" || bail "cannot enter $T/work"
APP=roll-app
dyno apps:create "$APP" >/dev/null 2>"$T/create.err" || bail "apps:create: $(cat "$T/create.err")"

# build LABEL [FILE[=CONTENT]...]: $T/src, a copy of the app whose VERSION
# file holds LABEL, with the marker files given; `release` adds the release
# phase to the Procfile.
build() {
    rm -rf "$T/src" && cp -r "$APP_SRC" "$T/src" && echo "$1" >"$T/src/VERSION" || return 1
    shift
    local f
    for f in "$@"; do
        case $f in
            release) echo 'release: ./release.sh' >>"$T/src/Procfile" ;;
            *=*) echo "${f#*=}" >"$T/src/${f%%=*}" ;;
            *) : >"$T/src/$f" ;;
        esac
    done
}
deploy() {  # deploy LABEL [FILE...]
    build "$@" || return 1
    dyno deploy "$T/src" -a "$APP" >"$T/deploy.out" 2>&1 || { tail -n 2 "$T/deploy.out"; return 1; }
}

# ---- views ------------------------------------------------------------------
ps_json() { dyno ps -a "$APP" --json >"$T/ps.json" 2>"$T/ps.err"; }
# pq EXPR: EXPR over the dynos of `dyno ps --json` (d: the answer, D: its dynos)
pq() {
    ps_json || return 1
    python3 -c 'import json,sys
d = json.load(open(sys.argv[1])); D = d["dynos"]
r = eval(sys.argv[2])
print(" ".join(map(str, r)) if isinstance(r, (list, tuple)) else r)' "$T/ps.json" "$1"
}
web_ids() { pq 'sorted(x["id"] for x in D if x["type"] == "web")'; }
all_ids() { pq 'sorted(x["id"] for x in D)'; }
# settled IDS...: exactly those dynos (by id), all up
all_up() { [ "$(pq 'all(x["state"] == "up" for x in D) and len(D) > 0')" = True ]; }
# renewed OLD_IDS N: N dynos, all up, none of OLD_IDS among them
renewed() {
    local old=$1 n=$2 id
    all_up || { echo "not all up: $(cat "$T/ps.json")"; return 1; }
    [ "$(pq 'len(D)')" = "$n" ] || { echo "not $n dynos: $(cat "$T/ps.json")"; return 1; }
    for id in $(all_ids); do
        case " $old " in *" $id "*) echo "$id still runs"; return 1 ;; esac
    done
}
web_port() { pq '[x.get("port", 0) for x in D if x["type"] == "web" and x["state"] == "up"][0]'; }
get() { curl -s --max-time 3 "http://127.0.0.1:$1/" ; }
# serves TEXT: the up web dyno answers with TEXT in its body
serves() {
    local port body
    port=$(web_port) || return 1
    body=$(get "$port") || { echo "no answer on $port"; return 1; }
    case $body in *"$1"*) return 0 ;; esac
    echo "answer on $port: $body"
    return 1
}
logs() { dyno logs -a "$APP" -n 1500 >"$T/logs.out" 2>"$T/logs.err"; }
logged() { logs && grep -qF -- "$1" "$T/logs.out"; }
# line_of TEXT [NTH]: line number of the NTH (default 1) log line with TEXT
line_of() { grep -nF -- "$1" "$T/logs.out" | sed -n "${2:-1}p" | cut -d: -f1; }
before() {  # before A B: A's first line comes before B's (in the last logs fetched)
    local a b
    a=$(line_of "$1") b=$(line_of "$2")
    [ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ] && return 0
    echo "'$1' (line ${a:-none}) not before '$2' (line ${b:-none})"
    return 1
}
newest_failed() { dyno releases -a "$APP" -n 1 | grep -q '(release failed)'; }
newest_ok() { ! dyno releases -a "$APP" -n 1 | grep -q '(release failed)'; }
# Dyno processes of this script: their environment holds ROLLOUT_MARK=$T.
marked() {
    local f out=
    for f in /proc/[0-9]*/environ; do
        tr '\0' '\n' <"$f" 2>/dev/null | grep -qx "ROLLOUT_MARK=$T" && { f=${f#/proc/}; out="$out ${f%/environ}"; }
    done
    echo "${out# }"
}
some_marked() { [ -n "$(marked)" ]; }
none_marked() { local m; m=$(marked); [ -z "$m" ] || { echo "still running: $m"; return 1; }; }

# ---- a deploy restarts every dyno on the new slug ---------------------------
deploy build-1 || bail "first deploy failed"
dyno ps:scale worker=1 -a "$APP" >/dev/null 2>&1 || bail "ps:scale worker=1 failed"
wait_for 40 renewed "" 2 || bail "web and worker did not come up"
check first_serves wait_for 10 serves "version=build-1 "
ids1=$(all_ids)
since1=$(pq 'sorted(x["since_ms"] for x in D)')
deploy build-2 || bail "second deploy failed"
check deploy_renews_all wait_for 40 renewed "$ids1" 2
check deploy_new_since test "$(pq 'sorted(x["since_ms"] for x in D)')" != "$since1"
check deploy_serves_new_slug wait_for 10 serves "version=build-2 "
# No preboot: the old web dyno had its SIGTERM before the new one listened.
check no_preboot_sigterm_first wait_for 10 eval 'logged "build-1 got SIGTERM" && before "build-1 got SIGTERM" "build-2 listening"'

# ---- config:set restarts with the new env -----------------------------------
ids2=$(all_ids)
dyno config:set GREETING=hello "ROLLOUT_MARK=$T" -a "$APP" >/dev/null 2>"$T/config.err" || bail "config:set: $(cat "$T/config.err")"
check config_renews_all wait_for 40 renewed "$ids2" 2
check config_new_env wait_for 10 serves "version=build-2 greeting=hello"

# ---- release phase ----------------------------------------------------------
ids3=$(all_ids)
deploy build-3 release RELEASE_EXIT=1 || bail "deploy of build-3 failed"
check release_fail_marked wait_for 30 newest_failed
check release_fail_output wait_for 10 logged "app[release.1]: release phase of build-3 exiting 1"
check release_fail_api_line logged "failed: release command exited with status 1"
unchanged() { [ "$(all_ids)" = "$1" ] && all_up; }
check release_fail_keeps_dynos holds 2 unchanged "$ids3"
check release_fail_old_serves serves "version=build-2 greeting=hello"

logs
starts=$(grep -cF 'Starting process with command `./web.py`' "$T/logs.out")
deploy build-4 release || bail "deploy of build-4 failed"
check release_ok_renews wait_for 40 renewed "$ids3" 2
check release_ok_serves wait_for 10 serves "version=build-4 "
check release_ok_not_failed newest_ok
# The release command ran (and ended) before the new web dyno started.
release_first() {
    logs || return 1
    local rel web
    rel=$(line_of "release phase of build-4 exiting 0")
    web=$(line_of 'Starting process with command `./web.py`' $((starts + 1)))
    [ -n "$rel" ] && [ -n "$web" ] && [ "$rel" -lt "$web" ] && return 0
    echo "release line ${rel:-none}, new web start line ${web:-none}"
    return 1
}
check release_ok_runs_first wait_for 10 release_first

# A scheduler restart changes nothing: the release the release phase let
# go live stays live (no second release phase, no dyno restarted).
ids4=$(all_ids)
procs4=$(marked)
sched=$(child_pid scheduler)
kill -KILL "$sched" || bail "cannot kill the scheduler"
check scheduler_restart wait_for 20 sq restarted scheduler "$sched"
# (ps lists the dynos again once the new scheduler settled: about 1 s)
kept() { unchanged "$ids4" && [ "$(marked)" = "$procs4" ]; }
check scheduler_restart_adopts wait_for 10 kept
check scheduler_restart_keeps_dynos holds 3 kept
one_release_phase() { logs && [ "$(grep -cF 'release phase of build-4' "$T/logs.out")" = 1 ]; }
check scheduler_restart_no_second_phase one_release_phase

# ---- preboot ----------------------------------------------------------------
dyno features:enable preboot -a "$APP" >/dev/null 2>&1 || bail "features:enable preboot failed"
old_web=$(web_ids)
old_port=$(web_port)
deploy build-5 || bail "deploy of build-5 failed"
# Polled through the deploy: seen = the old web dyno up (and answering) while
# the new one is starting; bad = a poll with no web dyno up.
overlap_seen=0 bad=
watch_preboot() {
    local state
    state=$(pq '" ".join("%s:%s" % (x["id"], x["state"]) for x in D if x["type"] == "web")') || return 1
    case " $state " in *" $old_web:up "*) ;; *" "*":up "*) ;; *) bad="no web dyno up: $state" ;; esac
    if [[ " $state " == *" $old_web:up "* && " $state " == *":starting "* ]]; then
        get "$old_port" | grep -q "version=build-4 " && overlap_seen=1
    fi
    # done once only new web dynos are listed, and up
    [[ " $state " != *" $old_web:"* && " $state " == *":up "* ]]
}
wait_for 40 watch_preboot
check preboot_old_up_while_new_starts test "$overlap_seen" = 1
check preboot_always_a_web_up test -z "$bad"
check preboot_serves_new wait_for 10 serves "version=build-5 "
check preboot_new_up_before_old_stops wait_for 10 eval 'logged "build-4 got SIGTERM" && before "build-5 listening" "build-4 got SIGTERM"'
check preboot_succeeded newest_ok

# A release whose web dyno never binds: the old keeps serving, it failed.
old_web=$(web_ids)
deploy build-6 NO_BIND || bail "deploy of build-6 failed"
check preboot_timeout_failed wait_for 30 newest_failed
check preboot_timeout_old_kept wait_for 10 eval '[ "$(web_ids)" = "$old_web" ] && all_up'
check preboot_timeout_old_serves serves "version=build-5 "

# Health check: a new web dyno that answers 500 never counts as up.
dyno healthcheck:set /health -a "$APP" >/dev/null 2>&1 || bail "healthcheck:set failed"
old_web=$(web_ids)
deploy build-7 HEALTH_FAIL || bail "deploy of build-7 failed"
new_listening() { logged "build-7 listening"; }
check healthcheck_new_listens wait_for 20 new_listening
new_starting() { [ "$(pq 'sorted(x["state"] for x in D if x["type"] == "web")')" = "starting up" ]; }
check healthcheck_new_not_up new_starting
check healthcheck_failed wait_for 30 newest_failed
check healthcheck_old_kept wait_for 10 eval '[ "$(web_ids)" = "$old_web" ] && all_up'
check healthcheck_old_serves serves "version=build-5 "

# ---- apps:destroy stops the dynos -------------------------------------------
check destroy_had_dynos some_marked
dyno apps:destroy -a "$APP" --confirm "$APP" >/dev/null 2>"$T/destroy.err" || fail destroy "$(cat "$T/destroy.err")"
check destroy_stops_dynos wait_for 20 none_marked

finish
