#!/usr/bin/env bash
# Dyno isolation and the dyno manager's errors end to end: a real `dynod up`,
# the scheduler placing real dynos of tests/apps/dyno-probe on the
# dyno-supervisor, watched through `dyno run`, `dyno ps` and `dyno logs`.
#
# - probes from inside a dyno (`dyno run`, piped): the app's own uid (not 0,
#   another one for another app), host name = dyno name, a /proc with only
#   its own pids, no data directory, no way into another app's dyno (its
#   slug, its /proc entries), nothing writable outside /app and /tmp, no
#   capabilities, no_new_privs; writes to /app gone after a restart;
# - a fork bomb stops at its size's process cap while another app's web
#   dyno keeps answering and the actors keep answering `dyno status`;
# - a memory hog on a tiny size (DYNOD_SIZES): R14, then R15 and a crash;
# - R10 (a web process that never binds $PORT), the crash back-off in `ps`
#   and the logs, R12 (SIGTERM ignored during ps:restart), the health check
#   (500 stays starting, 200 gets up), R16 (a `dyno run` client killed).
# Times are scaled down with the DYNOD_* settings; every wait is a poll.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

PROBE_APP=$(cd "$(dirname "$0")/../apps/dyno-probe" && pwd) || bail "no tests/apps/dyno-probe"

export DYNOD_SIZES="tiny=48/40"
export DYNOD_BOOT_TIMEOUT_MS=6000
export DYNOD_STOP_TIMEOUT_MS=1500
export DYNOD_RESTART_BACKOFF_MS=0,4000
export DYNOD_ATTACH_TIMEOUT_MS=6000       # above the CLI's 5 s keep-alive
export DYNOD_REPORT_MS=1000
start_up || bail "dynod up did not get ready"
mkdir -p "$T/work" && cd "$T/work" || bail "cannot enter $T/work"

# iso-a: the probes and the worker types; iso-b: another app (its web dyno
# answers 200 on /health); iso-c: a web that never binds; iso-d: a web
# whose /health answers 500.
for a in iso-a iso-b iso-c iso-d; do
    dyno apps:create "$a" >/dev/null 2>"$T/create.err" || bail "apps:create $a: $(cat "$T/create.err")"
done
dyno config:set WEB_MODE=nobind -a iso-c >/dev/null 2>"$T/cfg.err" || bail "config:set: $(cat "$T/cfg.err")"
dyno config:set HEALTH_CODE=500 -a iso-d >/dev/null 2>"$T/cfg.err" || bail "config:set: $(cat "$T/cfg.err")"
# set before the first release: iso-d's first web dyno has the check
dyno healthcheck:set /health -a iso-d >/dev/null 2>"$T/hc.err" || bail "healthcheck:set: $(cat "$T/hc.err")"
declare -A deploying
for a in iso-a iso-b iso-c iso-d; do
    dyno deploy "$PROBE_APP" -a "$a" >"$T/deploy-$a.out" 2>&1 &
    deploying[$a]=$!
done
for a in iso-a iso-b iso-c iso-d; do
    wait "${deploying[$a]}" || bail "deploy $a: $(tail -n 1 "$T/deploy-$a.out")"
done

jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }
ps_json() { dyno ps -a "$1" --json >"$T/ps-$1.json" 2>"$T/ps.err" || { cat "$T/ps.err"; return 1; }; }
state_of() {    # state_of APP DYNO: its state in `dyno ps` (or "none")
    ps_json "$1" >/dev/null || { echo error; return; }
    jget "$T/ps-$1.json" "([x['state'] for x in d['dynos'] if x['name'] == '$2'] or ['none'])[0]"
}
id_of() { ps_json "$1" >/dev/null && jget "$T/ps-$1.json" "([x['id'] for x in d['dynos'] if x['name'] == '$2'] or [''])[0]"; }
state_is() {    # state_is APP DYNO STATE
    local s
    s=$(state_of "$1" "$2")
    [ "$s" = "$3" ] || { echo "$1 $2 is $s, not $3"; return 1; }
}
health_is() {   # health_is APP CODE: its web.1 answers CODE on /health
    curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(web_port "$1")/health" >"$T/code" || true
    [ "$(cat "$T/code")" = "$2" ] || { echo "$1 /health answered $(cat "$T/code")"; return 1; }
}
not_up() {      # not_up APP DYNO: in any state but up
    local s
    s=$(state_of "$1" "$2")
    [ -n "$s" ] && [ "$s" != up ] || { echo "$1 $2 is '$s'"; return 1; }
}
logs() { dyno logs -a "$1" -n 1500 >"$T/logs-$1.out" 2>"$T/logs.err" || { cat "$T/logs.err"; return 1; }; }
has_log() {     # has_log APP TEXT...: every TEXT is (part of) a line of APP's logs
    local app=$1 t
    shift
    logs "$app" || return 1
    for t in "$@"; do
        grep -qF -- "$t" "$T/logs-$app.out" ||
            { echo "$app: no log line with '$t'; last: $(tail -n 4 "$T/logs-$app.out" | tr '\n' '|')"; return 1; }
    done
}
count_log() { logs "$1" >/dev/null 2>&1; grep -cF -- "$2" "$T/logs-$1.out"; }
# web_port APP: the port the app's web.1 last said it listens on
web_port() { logs "$1" >/dev/null && grep -F "app[web.1]: web: listening on" "$T/logs-$1.out" | tail -n 1 | awk '{print $NF}'; }

# The worker types start now and run while the probes do.
dyno ps:scale marker=1 stubborn=1 crash=1 hog=1:tiny -a iso-a >/dev/null 2>"$T/scale.err" ||
    bail "ps:scale: $(cat "$T/scale.err")"

# An attached one-off whose client stays alive past the attach timeout
# (its keep-alives keep it attached), killed later for R16.
spawn r16 "$DYNO" run -a iso-a -- 'sleep 100'
R16_CLI=$SPAWNED

# ---- isolation probes (one-offs, attached, piped) -----------------------------------

# probe APP COMMAND: runs it in a one-off of APP through sh -c; output in
# $T/probe.out (stdout) and $T/probe.err, status in PRC
probe() {
    dyno run -a "$1" -- "sh -c '$2'" </dev/null >"$T/probe.out" 2>"$T/probe.err"
    PRC=$?
}

uid_probe() {
    probe iso-a 'id -u; id -g' || true
    local ua ub
    ua=$(head -n 1 "$T/probe.out")
    [ "$PRC" = 0 ] && [ -n "$ua" ] && [ "$ua" != 0 ] || { echo "iso-a uid '$ua' (status $PRC)"; return 1; }
    [ "$(sed -n 2p "$T/probe.out")" = "$ua" ] || { echo "gid $(sed -n 2p "$T/probe.out") is not the uid $ua"; return 1; }
    probe iso-b 'id -u'
    ub=$(head -n 1 "$T/probe.out")
    [ -n "$ub" ] && [ "$ub" != 0 ] && [ "$ub" != "$ua" ] || { echo "iso-b uid '$ub', iso-a uid $ua"; return 1; }
}
check iso_uid_per_app uid_probe

hostname_probe() {
    probe iso-a hostname
    local name
    name=$(grep -oE 'run\.[0-9]{4}' "$T/probe.err" | head -n 1)
    [ -n "$name" ] && [ "$(cat "$T/probe.out")" = "$name" ] ||
        { echo "hostname '$(cat "$T/probe.out")', dyno '$name'"; return 1; }
}
check iso_hostname_is_dyno hostname_probe

proc_probe() {
    probe iso-a 'ls /proc | grep -E "^[0-9]+\$" | wc -l; cat /proc/1/cmdline | tr "\\0" " "; echo'
    local n
    n=$(head -n 1 "$T/probe.out")
    [ "$PRC" = 0 ] && [ -n "$n" ] && [ "$n" -ge 1 ] && [ "$n" -le 6 ] ||
        { echo "$n pids in /proc (status $PRC): $(tr '\n' ' ' <"$T/probe.out")"; return 1; }
}
check iso_proc_own_pids proc_probe

data_probe() {
    # The API token, the journals, the slugs: none of it is there.
    probe iso-a "cat $DATA/api-token; ls -A $DATA | wc -l; ls $DATA/dyno-supervisor"
    grep -q . "$DATA/api-token" || { echo "the host has no api-token to hide"; return 1; }
    if grep -qF "$(head -c 20 "$DATA/api-token")" "$T/probe.out"; then echo "the dyno read the API token"; return 1; fi
    [ "$(sed -n 1p "$T/probe.out")" = 0 ] || { echo "the data dir lists: $(cat "$T/probe.out")"; return 1; }
    # covered by an empty read-only tmpfs, even where nothing else hides it
    probe iso-a "grep -F \" $DATA \" /proc/self/mountinfo"
    grep -qE " $DATA [^ ]*ro[, ].* tmpfs " "$T/probe.out" ||
        { echo "no read-only tmpfs over $DATA: $(cat "$T/probe.out")"; return 1; }
}
check iso_no_data_dir data_probe

# Another app's running dyno: its slug, its work dir, its processes.
other_app_probe() {
    wait_for 30 state_is iso-b web.1 up || return 1
    local id slug pid
    id=$(id_of iso-b web.1)
    slug=$(find "$DATA/dyno-supervisor" -mindepth 4 -maxdepth 4 -path '*/slugs/iso-b/*' -type d | head -n 1)
    [ -n "$slug" ] && [ -f "$slug/Procfile" ] || { echo "no unpacked slug of iso-b on the host"; return 1; }
    # The host pid of iso-b's web process: in its dyno's cgroup, else the
    # newest python3 -u web.py of iso-b's uid.
    local procs
    procs=$(find /sys/fs/cgroup -maxdepth 5 -path "*/iso-b/$id/cgroup.procs" 2>/dev/null | head -n 1)
    if [ -n "$procs" ]; then
        pid=$(tail -n 1 "$procs")
    else
        pid=$(pgrep -f -n '^python3 -u web.py' -U "$(stat -c %u "$slug/Procfile")")
    fi
    [ -n "$pid" ] || { echo "no process of iso-b's web.1 on the host"; return 1; }
    probe iso-a "cat $slug/Procfile; ls $DATA/dyno-supervisor/*/dynos/$id; cat /proc/$pid/environ; ls /proc/$pid/root/app; echo end"
    [ "$(cat "$T/probe.out")" = end ] || { echo "iso-a saw iso-b's files: $(head -c 300 "$T/probe.out" | tr '\n' ' ')"; return 1; }
    # the same reads from the host do work (the probe could have succeeded)
    [ -r "/proc/$pid/environ" ] && grep -q web "$slug/Procfile"
}
check iso_other_app_hidden other_app_probe

write_probe() {
    probe iso-a 'for d in / /etc /usr /var /home /root; do touch $d/dyno-probe-w 2>/dev/null && echo "wrote $d"; done; touch /app/w /tmp/w /var/tmp/w /dev/shm/w && echo app-tmp-ok'
    [ "$(cat "$T/probe.out")" = app-tmp-ok ] || { echo "writes: $(tr '\n' ' ' <"$T/probe.out")"; return 1; }
    [ ! -e /etc/dyno-probe-w ] && [ ! -e /dyno-probe-w ] || { echo "a file appeared on the host"; return 1; }
}
check iso_writes_only_app_tmp write_probe

caps_probe() {
    probe iso-a 'grep -E "^(CapEff|CapPrm|CapBnd|CapAmb|NoNewPrivs):" /proc/self/status'
    grep -qx 'CapEff:	0000000000000000' "$T/probe.out" &&
        grep -qx 'CapPrm:	0000000000000000' "$T/probe.out" &&
        grep -qx 'CapBnd:	0000000000000000' "$T/probe.out" ||
        { echo "capabilities: $(tr '\n' ' ' <"$T/probe.out")"; return 1; }
}
check iso_no_capabilities caps_probe

nnp_probe() {
    probe iso-a 'grep NoNewPrivs /proc/self/status; su -c true root </dev/null >/dev/null 2>&1 && echo su-worked; echo done'
    grep -qx 'NoNewPrivs:	1' "$T/probe.out" || { echo "$(tr '\n' ' ' <"$T/probe.out")"; return 1; }
    ! grep -q su-worked "$T/probe.out" || { echo "su elevated"; return 1; }
}
check iso_no_new_privs nnp_probe

# A worker writes a marker into /app at each start and lists /app first.
marker_probe() {
    wait_for 30 has_log iso-a 'app[marker.1]: marker written' || return 1
    local before
    before=$(id_of iso-a marker.1)
    dyno ps:restart marker.1 -a iso-a >/dev/null 2>&1 || { echo "ps:restart failed"; return 1; }
    two_lives() { [ "$(count_log iso-a 'app[marker.1]: marker written')" -ge 2 ]; }
    wait_for 30 two_lives || { echo "no second life of marker.1"; return 1; }
    [ "$(id_of iso-a marker.1)" != "$before" ] || { echo "marker.1 kept its id"; return 1; }
    local listings
    listings=$(grep -F 'app[marker.1]: listing:' "$T/logs-iso-a.out")
    [ "$(echo "$listings" | wc -l)" -ge 2 ] && echo "$listings" | grep -q Procfile ||
        { echo "listings: $listings"; return 1; }
    if echo "$listings" | grep -q 'marker-'; then echo "a marker survived: $listings"; return 1; fi
}
check iso_app_writes_vanish marker_probe

# ---- crash back-off, R12 through the scheduler --------------------------------------

# crash.1 exits at once: restarted at once the first time, then crashed
# for the 4 s cool-off (DYNOD_RESTART_BACKOFF_MS=0,4000).
backoff_probe() {
    wait_for 30 has_log iso-a 'app[crash.1]: crashing now' || return 1
    # a new crash after the first is followed by the whole cool-off in ps
    local n
    n=$(count_log iso-a 'dynod[crash.1]: Process exited with status 3')
    one_more() { [ "$(count_log iso-a 'dynod[crash.1]: Process exited with status 3')" -gt "$n" ]; }
    wait_for 30 one_more || { echo "crash.1 crashed no more"; return 1; }
    holds 2 state_is iso-a crash.1 crashed || return 1
    # the timeline in the logs: restarted at once after the 1st crash, 4 s after the others
    restarted_twice() { [ "$(count_log iso-a 'dynod[crash.1]: State changed from crashed to starting')" -ge 3 ]; }
    wait_for 20 restarted_twice || { echo "fewer than 3 restarts"; return 1; }
    python3 - "$T/logs-iso-a.out" <<'PY'
import datetime, sys
def ms(line):
    t = datetime.datetime.fromisoformat(line.split()[0])
    return t.timestamp() * 1000
exits, starts = [], []
for line in open(sys.argv[1]):
    if "dynod[crash.1]: Process exited with status 3" in line:
        exits.append(ms(line))
    elif "dynod[crash.1]: State changed from crashed to starting" in line:
        starts.append(ms(line))
gaps = [s - e for e, s in zip(exits, starts)]
if len(gaps) < 3 or gaps[0] > 1000 or min(gaps[1:]) < 3900:
    sys.exit("cool-offs (ms) %s, wanted ~0 then >= 4000" % [round(g) for g in gaps])
PY
}
check backoff_in_ps_and_logs backoff_probe

r12_probe() {
    wait_for 30 state_is iso-a stubborn.1 up || return 1
    wait_for 10 has_log iso-a 'app[stubborn.1]: stubborn started' || return 1
    dyno ps:restart stubborn -a iso-a >/dev/null 2>&1 || { echo "ps:restart failed"; return 1; }
    wait_for 20 has_log iso-a 'dynod[stubborn.1]: Stopping all processes with SIGTERM' \
        'app[stubborn.1]: got SIGTERM, ignoring it' \
        'dynod[stubborn.1]: Error R12 (Exit timeout) -> Process failed to exit within 1.5 seconds of SIGTERM' \
        'dynod[stubborn.1]: Stopping process with SIGKILL' || return 1
    # the replacement runs (started as soon as SIGTERM went out)
    wait_for 20 state_is iso-a stubborn.1 up
}
check r12_on_restart r12_probe

# ---- R10, the health check ------------------------------------------------------------

r10_probe() {
    wait_for 30 has_log iso-c 'app[web.1]: web: not binding $PORT' || return 1
    state_is iso-c web.1 starting || return 1
    wait_for 20 has_log iso-c \
        'dynod[web.1]: Error R10 (Boot timeout) -> Web process failed to bind to $PORT within 6 seconds of launch' \
        'dynod[web.1]: Stopping process with SIGKILL' || return 1
    # a crash: restarted at once (the first cool-off is 0), R10 again
    wait_for 10 has_log iso-c 'dynod[web.1]: State changed from starting to crashed' \
        'dynod[web.1]: State changed from crashed to starting' || return 1
    ! has_log iso-c 'dynod[web.1]: State changed from starting to up' >/dev/null || { echo "iso-c got up"; return 1; }
}
check r10_boot_timeout r10_probe

health_probe() {
    # iso-d answers 500 on /health: its port accepts but it never gets up
    wait_for 30 has_log iso-d 'app[web.1]: web: listening on' || return 1
    # (asked again if it was between a boot timeout and its restart)
    wait_for 10 health_is iso-d 500 || return 1
    # Never up while its port answers 500 (it may reach its boot timeout
    # within these 2 s on a loaded machine: crashed is fine, up is not).
    holds 2 not_up iso-d web.1 || return 1
    ! has_log iso-d 'dynod[web.1]: State changed from starting to up' >/dev/null || { echo "iso-d got up"; return 1; }
    wait_for 20 has_log iso-d 'dynod[web.1]: Error R10 (Boot timeout) -> Web process failed to pass its health check on /health' || return 1
    # iso-b answers 200: with the same check its new web dyno gets up
    dyno healthcheck:set /health -a iso-b >/dev/null 2>&1 || { echo "healthcheck:set iso-b failed"; return 1; }
    local before
    before=$(id_of iso-b web.1)
    dyno ps:restart web -a iso-b >/dev/null 2>&1 || { echo "ps:restart failed"; return 1; }
    new_up() { [ "$(id_of iso-b web.1)" != "$before" ] && state_is iso-b web.1 up; }
    wait_for 20 new_up
}
check healthcheck_500_starting_200_up health_probe

# ---- R16: an attached client that goes silent --------------------------------------

r16_probe() {
    local name t0 took
    got_name() { grep -qE 'run\.[0-9]{4}' "$T/r16.err"; }
    wait_for 20 got_name || { echo "no banner: $(cat "$T/r16.err")"; return 1; }
    name=$(grep -oE 'run\.[0-9]{4}' "$T/r16.err" | head -n 1)
    wait_for 20 state_is iso-a "$name" up || return 1
    # alive for longer than DYNOD_ATTACH_TIMEOUT_MS with its client: no R16
    wait_for 20 has_log iso-a "dynod[$name]: State changed from starting to up" || return 1
    up_for() {
        python3 - "$T/logs-iso-a.out" "dynod[$name]: State changed from starting to up" <<'PY'
import datetime, sys, time
line = [l for l in open(sys.argv[1]) if sys.argv[2] in l][0]
up = datetime.datetime.fromisoformat(line.split()[0]).timestamp()
sys.exit(0 if time.time() - up >= 7.5 else "up for %.1f s" % (time.time() - up))
PY
    }
    wait_for 20 up_for || return 1
    ! has_log iso-a "dynod[$name]: Error R16" >/dev/null || { echo "R16 with its client alive"; return 1; }
    alive "$R16_CLI" || { echo "dyno run ended: $(cat "$T/r16.err")"; return 1; }
    # the client goes silent
    kill -9 "$R16_CLI"
    t0=$(now_ms)
    wait_for 20 has_log iso-a "dynod[$name]: Client connection closed. Sending SIGHUP to all processes" \
        "dynod[$name]: Error R16 (Detached)" || return 1
    took=$(($(now_ms) - t0))
    # at most DYNOD_ATTACH_TIMEOUT_MS (6 s) after its last keep-alive, plus polling
    [ "$took" -le 8500 ] || { echo "R16 $took ms after the client died"; return 1; }
    # SIGHUP ends sleep: the one-off is over and gone from ps
    wait_for 15 state_is iso-a "$name" none
}
check r16_detached r16_probe

# ---- memory: R14, then R15 ------------------------------------------------------------

hog_probe() {
    wait_for 30 has_log iso-a 'dynod[hog.1]: Error R14 (Memory quota exceeded)' || return 1
    grep -qE 'dynod\[hog\.1\]: Process running mem=[0-9]+M\(1[0-9][0-9]\.[0-9]%\)' "$T/logs-iso-a.out" ||
        { echo "no 'Process running mem=' line over 100%"; return 1; }
    # R15 at the hard limit (2 x 48 MB: the kernel kills it there, or the
    # supervisor just before), then its exit, a crash
    wait_for 30 has_log iso-a 'dynod[hog.1]: Error R15 (Memory quota vastly exceeded)' || return 1
    wait_for 10 has_log iso-a 'dynod[hog.1]: Process exited with status 137' \
        'dynod[hog.1]: State changed from up to crashed' || return 1
    grep -A3 -F 'dynod[hog.1]: Error R15' "$T/logs-iso-a.out" | grep -qF 'dynod[hog.1]: Process exited with status 137' ||
        { echo "no exit right after R15"; return 1; }
    grep -B1 -F 'dynod[hog.1]: Error R15' "$T/logs-iso-a.out" | grep -qE 'Process running mem=[0-9]+M\((19[0-9]|2[0-9][0-9])\.[0-9]%\)' ||
        { echo "no 'Process running mem=' line at ~200% before R15"; return 1; }
}
check memory_r14_r15 hog_probe

# ---- the fork bomb --------------------------------------------------------------------

bomb_probe() {
    local port
    port=$(web_port iso-b)
    [ -n "$port" ] || { echo "no port for iso-b's web.1"; return 1; }
    dyno ps:scale bomb=1:tiny -a iso-a >/dev/null 2>&1 || { echo "ps:scale bomb failed"; return 1; }
    wait_for 30 has_log iso-a 'app[bomb.1]: bomb started' || return 1
    wait_for 30 has_log iso-a 'fork: retry: Resource temporarily unavailable' || return 1
    # the dyno's cgroup has a cap of 40 processes, and the bomb hit it
    local id cg
    id=$(id_of iso-a bomb.1)
    cg=$(find /sys/fs/cgroup/pids /sys/fs/cgroup -maxdepth 3 -type d -path "*/iso-a/$id" 2>/dev/null | head -n 1)
    if [ -z "$cg" ] && { [ -d /sys/fs/cgroup/pids ] || [ -f /sys/fs/cgroup/cgroup.controllers ]; }; then
        echo "no pids cgroup for bomb.1 ($id)"
        return 1
    fi
    if [ -n "$cg" ]; then
        [ "$(cat "$cg/pids.max")" = 40 ] || { echo "pids.max $(cat "$cg/pids.max")"; return 1; }
        grep -q '^max [1-9]' "$cg/pids.events" || { echo "pids.events: $(cat "$cg/pids.events")"; return 1; }
    fi
    # meanwhile: another app's web dyno answers, the actors answer, a one-off runs
    answers() { curl -sf -m 5 "http://127.0.0.1:$port/" | grep -q 'hello from'; }
    holds 2 answers || { echo "iso-b's web.1 on $port stopped answering"; return 1; }
    dyno status >/dev/null 2>&1 || { echo "dyno status failed"; return 1; }
    sq up scheduler dyno-supervisor log-plex || return 1
    probe iso-b 'echo forked fine'
    grep -qx 'forked fine' "$T/probe.out" || { echo "a one-off of iso-b: $(cat "$T/probe.err")"; return 1; }
    # and scaling it away kills the lot
    dyno ps:scale bomb=0 -a iso-a >/dev/null 2>&1 || { echo "ps:scale bomb=0 failed"; return 1; }
    wait_for 20 state_is iso-a bomb.1 none || return 1
    if [ -n "$cg" ]; then wait_for 20 test ! -d "$cg" || { echo "its cgroup $cg is still there"; return 1; }; fi
}
check fork_bomb_contained bomb_probe

finish
