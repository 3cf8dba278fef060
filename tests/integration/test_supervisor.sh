#!/usr/bin/env bash
# The dyno-supervisor against a real `dynod up` without a scheduler: this
# script speaks for the scheduler (tests/tools/msg_tool.c registers as a
# `scheduler@...` client and sends dyno.assign) and watches the outcome in
# `dyno logs`. A deployed app's web dyno (python3 -m http.server $PORT)
# fetches and unpacks the slug from release-keeper (blob.get), becomes up
# once its port accepts, answers on it, and its output reaches the logs as
# app[web.1]; a worker that exits is restarted at once the first time and
# only after the back-off (DYNOD_RESTART_BACKOFF_MS=0,4000) the second; a
# web dyno that never binds its port is killed at its boot timeout (R10);
# a process that ignores SIGTERM is killed at DYNOD_STOP_TIMEOUT_MS (R12)
# once its dyno is unassigned; an assignment older than the applied one
# changes nothing; a dyno.assign not from the scheduler is refused; a
# malformed one is refused with a clear error. A blob.get for an unknown or
# malformed sha gets an error from release-keeper.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

MSG_TOOL=${MSG_TOOL:-}
for _t in "$DYNOD_BIN/../tests/msg-tool" "$DYNOD_BIN/../build/tests/msg-tool"; do
    [ -z "$MSG_TOOL" ] && [ -x "$_t" ] && MSG_TOOL=$_t
done
[ -x "$MSG_TOOL" ] || bail "no msg-tool (make build/tests/msg-tool)"

export DYNOD_STOP_TIMEOUT_MS=1500
export DYNOD_RESTART_BACKOFF_MS=0,4000
export DYNOD_REPORT_MS=1000
start_up --actors release-keeper,config-keeper,log-plex,dyno-supervisor || bail "dynod up did not get ready"

APP=sup-app
SRC=$T/src
mkdir -p "$SRC"
printf 'web: exec python3 -m http.server $PORT --bind 0.0.0.0\n' >"$SRC/Procfile"
printf '#!/bin/bash\ntrap "" TERM\necho ignoring TERM\nwhile :; do sleep 0.2; done\n' >"$SRC/ignore-term.sh"
printf '#!/bin/bash\necho boom\nexit 3\n' >"$SRC/crash.sh"
chmod +x "$SRC/ignore-term.sh" "$SRC/crash.sh"
dyno apps:create "$APP" >/dev/null 2>"$T/create.err" || bail "apps:create: $(cat "$T/create.err")"
dyno deploy "$SRC" -a "$APP" >/dev/null 2>"$T/deploy.err" || bail "deploy: $(cat "$T/deploy.err")"
dyno releases:info -a "$APP" --json >"$T/rel.json" || bail "releases:info failed"
jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }
BLOB=$(jget "$T/rel.json" 'd["slug"]["blob"]')
SIZE=$(jget "$T/rel.json" 'd["slug"]["size"]')
TOKEN_FILE=$DATA/api-token
[ -s "$TOKEN_FILE" ] || bail "no API token in $TOKEN_FILE"

# send NAME TO TYPE BODY [ARGS...]: one message through msg-tool (output in $T/send.out)
send() {
    local name=$1 to=$2 type=$3 body=$4
    shift 4
    timeout 20 "$MSG_TOOL" --broker "$BROKER_EP" --token-file "$TOKEN_FILE" --name "$name" --to "$to" \
        --type "$type" --body "$body" "$@" >"$T/send.out" 2>"$T/send.err"
}

# entry ID NAME COMMAND [EXTRA]: one dyno.assign entry
entry() {
    local type=${2%%.*}
    printf '{"id":"%s","name":"%s","type":"%s","command":"%s","size":"standard-1x","mem_mb":512,"procs_max":256,"release":1,"slug":{"blob":"%s","size":%s},"config_version":0,"env":{"TEST_MARK":"%s"}%s}' \
        "$1" "$2" "$type" "$3" "$BLOB" "$SIZE" "$T" "${4:-}"
}

# assign EPOCH ENTRY...: the whole set of the app's dynos
assign() {
    local epoch=$1 list=
    shift
    local e
    for e in "$@"; do list=${list:+$list,}$e; done
    send scheduler dyno-supervisor dyno.assign "{\"app\":\"$APP\",\"epoch\":$epoch,\"dynos\":[$list]}" --listen 300 ||
        { echo "msg-tool: $(cat "$T/send.err")"; return 1; }
    if grep -q '"type":"error"' "$T/send.out"; then echo "refused: $(cat "$T/send.out")"; return 1; fi
}

logs() { dyno logs -a "$APP" -n 1500 >"$T/logs.out" 2>"$T/logs.err" || { cat "$T/logs.err"; return 1; }; }
has_log() {     # has_log TEXT...: every TEXT is (part of) a log line
    logs || return 1
    local t
    for t in "$@"; do
        grep -qF -- "$t" "$T/logs.out" || { echo "no log line with '$t'; last: $(tail -n 5 "$T/logs.out" | tr '\n' '|')"; return 1; }
    done
}
count_log() { logs >/dev/null 2>&1; grep -cF -- "$1" "$T/logs.out"; }
count_is() { local n; n=$(count_log "$1"); [ "$n" = "$2" ] || { echo "'$1' $n times, not $2"; return 1; }; }
count_at_least() { local n; n=$(count_log "$1"); [ "$n" -ge "$2" ] || { echo "'$1' $n times, not >= $2"; return 1; }; }

WEB="$(entry 00000000000000a1 web.1 'exec python3 -u -m http.server $PORT --bind 0.0.0.0')"

# ---- a web dyno from the deployed slug ----------------------------------------

web_up() {
    assign 1 "$WEB" || return 1
    wait_for 30 has_log 'dynod[web.1]: State changed from down to starting' \
        'dynod[web.1]: Starting process with command `exec python3 -u -m http.server $PORT --bind 0.0.0.0`' \
        'dynod[web.1]: State changed from starting to up'
}
check web_up web_up

web_answers() {
    wait_for 10 has_log 'app[web.1]: Serving HTTP on 0.0.0.0 port' || return 1
    local port
    port=$(grep -F 'app[web.1]: Serving HTTP on 0.0.0.0 port' "$T/logs.out" | tail -n 1 | sed 's/.*port \([0-9]*\).*/\1/')
    [ -n "$port" ] || { echo "no port in the log line"; return 1; }
    curl -sf "http://127.0.0.1:$port/Procfile" >"$T/page" || { echo "nothing on port $port"; return 1; }
    grep -q 'http.server' "$T/page" || { echo "unexpected page: $(head -c 200 "$T/page")"; return 1; }
    # The request line python prints on stderr reaches the logs too.
    wait_for 10 has_log 'app[web.1]:' '"GET /Procfile HTTP/1.1" 200'
}
check web_answers web_answers

slug_unpacked_once() {
    local dir=$DATA/dyno-supervisor
    local n
    n=$(find "$dir" -maxdepth 4 -type d -name "$BLOB" | wc -l)
    [ "$n" = 1 ] || { echo "$n unpacked copies of the slug under $dir"; return 1; }
    ! find "$dir" -name '*.part' | grep -q . || { echo "a .part file was left"; return 1; }
}
check slug_unpacked_once slug_unpacked_once

# ---- crash restart and back-off ------------------------------------------------

CRASH="$(entry 00000000000000b1 worker.1 './crash.sh')"

crash_backoff() {
    assign 2 "$WEB" "$CRASH" || return 1
    wait_for 10 count_at_least 'dynod[worker.1]: Process exited with status 3' 2 || return 1
    # The first restart came at once: two starts already.
    count_at_least 'dynod[worker.1]: Starting process with command' 2 || return 1
    has_log 'app[worker.1]: boom' 'dynod[worker.1]: State changed from up to crashed' \
        'dynod[worker.1]: State changed from crashed to starting' || return 1
    # The second restart waits the 4 s cool-off...
    holds 2 count_is 'dynod[worker.1]: Starting process with command' 2 || return 1
    # ...and then comes.
    wait_for 10 count_at_least 'dynod[worker.1]: Starting process with command' 3
}
check crash_backoff crash_backoff

# ---- boot timeout ---------------------------------------------------------------

NOBIND="$(entry 00000000000000c1 web.2 'exec sleep 1000' ',"boot_timeout_ms":1500')"

boot_timeout() {
    assign 3 "$WEB" "$NOBIND" || return 1
    wait_for 15 has_log 'dynod[web.2]: Error R10 (Boot timeout) -> Web process failed to bind to $PORT within 1.5 seconds of launch' \
        'dynod[web.2]: Stopping process with SIGKILL' 'dynod[web.2]: Process exited with status 137' \
        'dynod[web.2]: State changed from starting to crashed'
}
check boot_timeout boot_timeout

# ---- stop of a process that ignores SIGTERM -------------------------------------

IGNORE="$(entry 00000000000000d1 worker.2 './ignore-term.sh')"

stop_r12() {
    assign 4 "$WEB" "$IGNORE" || return 1
    wait_for 15 has_log 'app[worker.2]: ignoring TERM' 'dynod[worker.2]: State changed from starting to up' || return 1
    # The crashing worker and web.2 are gone from the set: stopped.
    has_log 'dynod[worker.1]: State changed from' || return 1
    assign 5 "$WEB" || return 1
    wait_for 15 has_log 'dynod[worker.2]: Stopping all processes with SIGTERM' \
        'dynod[worker.2]: Error R12 (Exit timeout) -> Process failed to exit within 1.5 seconds of SIGTERM' \
        'dynod[worker.2]: Process exited with status 137' 'dynod[worker.2]: State changed from up to down'
}
check stop_r12 stop_r12

# ---- assignments that change nothing ---------------------------------------------

stale_epoch() {
    # Epoch 4 < 5: ignored, worker.2 does not come back.
    assign 4 "$WEB" "$IGNORE" || return 1
    holds 1 count_is 'dynod[worker.2]: Starting process with command' 1
}
check stale_epoch stale_epoch

not_from_scheduler() {
    send msg-tool dyno-supervisor dyno.assign "{\"app\":\"$APP\",\"epoch\":9,\"dynos\":[]}" --until error --listen 5000 ||
        { echo "no error: $(cat "$T/send.out" "$T/send.err")"; return 1; }
    grep -q 'only the scheduler assigns dynos' "$T/send.out" || { echo "$(cat "$T/send.out")"; return 1; }
    holds 1 has_log 'app[web.1]: Serving HTTP' || return 1
    # No dyno was killed by another's end (each supervisor has its own cgroups).
    count_is 'dynod[web.1]: Process exited' 0 || return 1
    count_is 'dynod[web.1]: Stopping all processes with SIGTERM' 0
}
check not_from_scheduler not_from_scheduler

malformed_assign() {
    send scheduler dyno-supervisor dyno.assign \
        "{\"app\":\"$APP\",\"epoch\":10,\"dynos\":[{\"id\":\"xyz\",\"name\":\"web.1\",\"type\":\"web\",\"command\":\"x\",\"mem_mb\":512,\"release\":1}]}" \
        --until error --listen 5000 || { echo "no error: $(cat "$T/send.out" "$T/send.err")"; return 1; }
    grep -q 'a dyno id must be 16 hex digits' "$T/send.out" || { echo "$(cat "$T/send.out")"; return 1; }
    count_is 'dynod[web.1]: Stopping all processes with SIGTERM' 0
}
check malformed_assign malformed_assign

blob_get_errors() {
    send msg-tool release-keeper blob.get '{"blob":"nothex","offset":0}' --until error --listen 5000 &&
        grep -q 'is not a SHA-256' "$T/send.out" || { echo "bad sha: $(cat "$T/send.out")"; return 1; }
    send msg-tool release-keeper blob.get "{\"blob\":\"$(printf '0%.0s' $(seq 64))\",\"offset\":0}" --until error --listen 5000 &&
        grep -q 'no blob' "$T/send.out" || { echo "unknown blob: $(cat "$T/send.out")"; return 1; }
    send msg-tool release-keeper blob.get "{\"blob\":\"$BLOB\",\"offset\":$((SIZE + 1))}" --until error --listen 5000 &&
        grep -q 'past the end' "$T/send.out" || { echo "offset: $(cat "$T/send.out")"; return 1; }
    send msg-tool release-keeper blob.get "{\"blob\":\"$BLOB\",\"offset\":0,\"length\":10}" --until blob.chunk --listen 5000 &&
        grep -q "\"size\":$SIZE" "$T/send.out" || { echo "chunk: $(cat "$T/send.out")"; return 1; }
}
check blob_get_errors blob_get_errors

# ---- everything unassigned: stopped, nothing left ----------------------------------

all_stopped() {
    assign 11 || return 1
    wait_for 15 has_log 'dynod[web.1]: State changed from up to down' || return 1
    wait_for 10 _no_dyno_procs
}
_no_dyno_procs() {     # no process has this run's TEST_MARK in its environment
    local p left=
    for p in /proc/[0-9]*; do
        tr '\0' '\n' <"$p/environ" 2>/dev/null | grep -qxF "TEST_MARK=$T" && left="$left ${p#/proc/}"
    done
    [ -z "$left" ] || { echo "dyno processes left:$left"; return 1; }
}
check all_stopped all_stopped

finish
