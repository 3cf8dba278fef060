# shellcheck shell=bash
# lib.sh - shared helpers for the integration scripts (sourced, never run)
#
# Each script sources this file first. It gets:
#   - a temp dir $T, removed on exit, and an isolated environment
#     (XDG_CONFIG_HOME, XDG_DATA_HOME under $T; DYNOD_BROKER/DYNOD_API_TOKEN
#     unset) so nothing touches the user's dynod;
#   - `spawn NAME CMD...`: runs CMD in the background in its own process
#     group and session (stdout/stderr in $T/NAME.out/.err); the EXIT trap
#     kills every group spawned, and every descendant, so nothing is left;
#   - `free_port`, `wait_for TIMEOUT_S CMD...`, `holds SECONDS CMD...`;
#   - `check NAME CMD...`, `pass NAME`, `fail NAME WHY`, `bail WHY`, and
#     `finish` (the last line of every script), printing `ok NAME` or
#     `FAIL NAME: why`; the script exits non-zero when any case failed or it
#     stopped before `finish`;
#   - `start_up [ARGS...]`: `dynod up` on free ports with its own data dir
#     (run through the command in the array UP_PREFIX when that is set,
#     e.g. `setpriv ...` to run it as another user);
#     `start_broker NAME DATA PORT` / `start_actor NAME ACTOR`: standalone
#     processes for the scripts that drive the broker directly;
#   - `status_json FILE` and `sq QUERY ARGS...` to ask `dyno status --json`.
# Synchronisation is by polling a condition (ready lines, log lines, CLI
# answers) every 50 ms, never by a fixed sleep.

set -u

SCRIPT_NAME=$(basename "${BASH_SOURCE[1]:-$0}" .sh)
_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DYNOD_BIN=${DYNOD_BIN:-$_here/../../bin}
DYNOD_BIN=$(cd "$DYNOD_BIN" && pwd) || { echo "FAIL $SCRIPT_NAME: no DYNOD_BIN folder"; exit 1; }
DYNOD=$DYNOD_BIN/dynod
DYNO=$DYNOD_BIN/dyno
for _b in "$DYNOD" "$DYNO"; do
    [ -x "$_b" ] || { echo "FAIL $SCRIPT_NAME: $_b is not built (run make)"; exit 1; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/dynod-it-$SCRIPT_NAME.XXXXXX")
export XDG_CONFIG_HOME=$T/config
export XDG_DATA_HOME=$T/xdg-data
unset DYNOD_BROKER DYNOD_API_TOKEN DYNOD_HTTP_PORT DYNOD_HTTPS_PORT DYNOD_LOGS_PORT

# The script's own stdout/stderr, for the ok/FAIL lines and the EXIT trap
# (which may fire while a check has stdout redirected to a file).
exec 7>&1 8>&2

FAILURES=0
_finished=0
_groups=()          # process group (and session) leaders started by spawn
SPAWNED=            # pid of the last spawn

# ---- reporting --------------------------------------------------------------

pass() { echo "ok $1" >&7; }

fail() {    # fail NAME WHY
    echo "FAIL $1: $2" >&7
    FAILURES=$((FAILURES + 1))
}

bail() {    # bail WHY: a setup step failed; report it and stop the script
    fail "$SCRIPT_NAME" "$1"
    exit 1
}

check() {   # check NAME CMD...: ok when CMD succeeds; else FAIL with its last line
    local name=$1
    shift
    if "$@" >"$T/check.out" 2>&1; then
        pass "$name"
    else
        local why
        why=$(grep -v '^[[:space:]]*$' "$T/check.out" | tail -n 1)
        fail "$name" "${why:-'$*' failed}"
    fi
}

finish() { _finished=1; exit 0; }

# ---- time and polling -------------------------------------------------------

now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

wait_for() {    # wait_for TIMEOUT_S CMD...: polls CMD until it succeeds
    local deadline=$(($(now_ms) + $1 * 1000))
    shift
    while :; do
        "$@" >"$T/wait.out" 2>&1 && return 0
        [ "$(now_ms)" -ge "$deadline" ] && { cat "$T/wait.out" >&2; return 1; }
        sleep 0.05
    done
}

holds() {   # holds SECONDS CMD...: CMD succeeds on every poll for SECONDS
    local deadline=$(($(now_ms) + $1 * 1000))
    shift
    while [ "$(now_ms)" -lt "$deadline" ]; do
        "$@" >"$T/holds.out" 2>&1 || { cat "$T/holds.out" >&2; return 1; }
        sleep 0.05
    done
}

free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# ---- processes --------------------------------------------------------------

spawn() {   # spawn NAME CMD...: background, own process group; sets SPAWNED
    local name=$1
    shift
    # In a script (no job control) a background child is not a group
    # leader, so setsid does not fork: $! is the command's own pid.
    setsid "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null 7>&- 8>&- &
    SPAWNED=$!
    _groups+=("$SPAWNED")
}

alive() { kill -0 "$1" 2>/dev/null; }
dead() { ! kill -0 "$1" 2>/dev/null; }
# Not running: gone, or a zombie that whoever inherited it has not reaped.
not_running() { case $(ps -o stat= -p "$1" 2>/dev/null) in ''|Z*) return 0 ;; esac; return 1; }

# Every pid in the given process groups, and all their descendants.
_family() {
    ps -e -o pid=,ppid=,pgid= | python3 -c '
import sys
roots = set(int(a) for a in sys.argv[1:])
rows = [tuple(int(x) for x in line.split()) for line in sys.stdin if line.strip()]
found = set(p for p, pp, g in rows if g in roots or p in roots)
grew = True
while grew:
    grew = False
    for p, pp, g in rows:
        if pp in found and p not in found:
            found.add(p)
            grew = True
print(" ".join(str(p) for p in sorted(found)))
' "$@"
}

_live_family() {    # live (non-zombie) members of _family
    local p out=
    for p in $(_family "$@"); do
        [ "$p" = "$$" ] && continue
        case $(ps -o stat= -p "$p" 2>/dev/null) in
            ''|Z*) ;;
            *) out="$out $p" ;;
        esac
    done
    echo "${out# }"
}

_kill_all() {
    [ ${#_groups[@]} -eq 0 ] && return 0
    local pids p
    pids=$(_live_family "${_groups[@]}")
    [ -z "$pids" ] && return 0
    for p in $pids; do kill -TERM "$p" 2>/dev/null; done
    for _ in $(seq 100); do                   # up to 5 s for a clean stop
        pids=$(_live_family "${_groups[@]}")
        [ -z "$pids" ] && return 0
        sleep 0.05
    done
    echo "$SCRIPT_NAME: SIGKILL to $pids after 5 s" >&2
    for p in $pids; do kill -KILL "$p" 2>/dev/null; done
    for p in $(_family "${_groups[@]}"); do kill -KILL "$p" 2>/dev/null; done
}

# Processes of this script still running: anything whose command line
# names our temp dir (every dynod child gets --data under $T).
leftovers() {
    ps -e -o pid=,stat=,args= | awk -v t="$T/" 'index($0, t) && $2 !~ /^Z/ && $3 !~ /^(ps|awk)$/'
}

_cleanup() {
    local rc=$?
    trap - EXIT TERM INT
    exec 1>&7 2>&8
    _kill_all
    if [ "$_finished" != 1 ]; then
        echo "FAIL $SCRIPT_NAME: stopped before its last case (status $rc)"
        FAILURES=$((FAILURES + 1))
    fi
    if [ "$FAILURES" -gt 0 ]; then
        local f
        for f in "$T"/*.err; do
            [ -s "$f" ] || continue
            echo "--- $(basename "$f") (last 25 lines)" >&2
            tail -n 25 "$f" >&2
        done
    fi
    if [ -n "${DYNOD_TEST_KEEP:-}" ]; then
        echo "$SCRIPT_NAME: kept $T" >&2
    else
        rm -rf "$T"
    fi
    [ "$FAILURES" -gt 0 ] && exit 1
    exit 0
}
trap _cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# ---- dynod and dyno ---------------------------------------------------------

# The CLI, bounded so that a hang fails a case instead of the whole part.
dyno() { timeout -k 2 30 "$DYNO" "$@"; }
dynod() { timeout -k 2 30 "$DYNOD" "$@"; }

# shellcheck disable=SC2034 # used by the scripts
ALL_ACTORS="config-keeper dyno-supervisor log-plex release-keeper router scheduler"

start_up() {    # start_up [ARGS...]: sets UP_PID UP_OUT UP_ERR DATA BROKER_PORT BROKER_EP
    local n=${_up_count:-0}
    _up_count=$((n + 1))
    DATA=$T/data$n
    BROKER_PORT=$(free_port)
    BROKER_EP=tcp://127.0.0.1:$BROKER_PORT
    spawn "up$n" ${UP_PREFIX[@]+"${UP_PREFIX[@]}"} "$DYNOD" up --data "$DATA" --broker-port "$BROKER_PORT" \
        --http-port "$(free_port)" --https-port "$(free_port)" --logs-port "$(free_port)" "$@"
    UP_PID=$SPAWNED
    UP_OUT=$T/up$n.out
    UP_ERR=$T/up$n.err
    wait_for 40 _ready_or_dead "$UP_PID" '^dynod ready:' "$UP_OUT"
    grep -q '^dynod ready:' "$UP_OUT" && return 0
    echo "dynod up printed no ready line: $(tail -n 2 "$UP_ERR" | tr '\n' ' ')" >&2
    return 1
}

_ready_or_dead() {  # PID PATTERN FILE
    grep -q "$2" "$3" || dead "$1"
}

start_broker() {    # start_broker NAME DATA PORT: sets BROKER_PID; waits for the ready line
    spawn "$1" "$DYNOD" broker --data "$2" --endpoint "tcp://127.0.0.1:$3"
    BROKER_PID=$SPAWNED
    wait_for 20 _ready_or_dead "$BROKER_PID" '^broker ready ' "$T/$1.out"
    grep -q '^broker ready ' "$T/$1.out"
}

start_actor() {     # start_actor NAME ACTOR: against $BROKER_EP and $DATA; sets SPAWNED
    spawn "$1" "$DYNOD" actor "$2" --broker "$BROKER_EP" --data "$DATA"
}

# Pid of the child of dynod up ($UP_PID) running actor NAME (or `broker`).
child_pid() {
    ps -o pid=,args= --ppid "$UP_PID" | awk -v n="$1" '
        n == "broker" && $3 == "broker" { print $1 }
        $3 == "actor" && $4 == n { print $1 }'
}

status_json() {     # status_json FILE: `dyno status --json` into FILE
    dyno status --json >"$1" 2>"$1.err" || { cat "$1.err" >&2; return 1; }
}

# sq QUERY ARGS...: fetches `dyno status --json` and answers QUERY.
#   up NAME...            each named actor has exactly one row, state up, pid > 0
#   restarted NAME PID    one row for NAME, state up, pid neither 0 nor PID
#   absent NAME           no row for NAME
#   pid NAME              prints the pid of NAME's row
#   broker FIELD          prints broker.FIELD
#   actor NAME FIELD      prints FIELD of NAME's row
sq() {
    status_json "$T/sq.json" || return 1
    python3 - "$T/sq.json" "$@" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
q, args = sys.argv[2], sys.argv[3:]
rows = {}
for a in d["actors"]:
    rows.setdefault(a["name"], []).append(a)
def one(name):
    r = rows.get(name, [])
    if len(r) != 1:
        sys.exit("%s: %d rows in dyno status" % (name, len(r)))
    return r[0]
if q == "up":
    for n in args:
        a = one(n)
        if a["state"] != "up" or not a["pid"]:
            sys.exit("%s: state %s pid %s" % (n, a["state"], a["pid"]))
elif q == "restarted":
    a = one(args[0])
    if a["state"] != "up" or a["pid"] in (0, int(args[1])):
        sys.exit("%s: state %s pid %s (old pid %s)" % (args[0], a["state"], a["pid"], args[1]))
elif q == "absent":
    if args[0] in rows:
        sys.exit("%s still listed: %s" % (args[0], rows[args[0]]))
elif q == "pid":
    print(one(args[0])["pid"])
elif q == "broker":
    print(d["broker"][args[0]])
elif q == "actor":
    print(one(args[0])[args[1]])
else:
    sys.exit("sq: unknown query " + q)
PY
}

broker_is() {   # broker_is FIELD VALUE: dyno status --json broker.FIELD == VALUE
    local v
    v=$(sq broker "$1") || return 1
    [ "$v" = "$2" ] || { echo "broker $1 is $v, not $2" >&2; return 1; }
}

actor_seq() {   # actor_seq NAME SEQ: the actor reports SEQ as its last journaled message
    local v
    v=$(sq actor "$1" last_seq) || return 1
    [ "$v" = "$2" ] || { echo "$1 last_seq is $v, not $2"; return 1; }
}

# Runs CMD with stdout/stderr in $T/run.out/.err; RC holds its exit status.
run() {
    "$@" >"$T/run.out" 2>"$T/run.err" </dev/null
    RC=$?
}

expect_rc() {   # expect_rc WANT: after `run`
    [ "$RC" = "$1" ] && return 0
    echo "exit status $RC, wanted $1; stderr: $(head -c 300 "$T/run.err" | tr '\n' ' ')"
    return 1
}

one_stderr_line() {     # after `run`: stderr is exactly one non-empty line
    local n
    n=$(wc -l <"$T/run.err")
    [ "$n" = 1 ] && [ -n "$(tr -d '[:space:]' <"$T/run.err")" ] && return 0
    echo "stderr has $n lines: $(head -c 300 "$T/run.err" | tr '\n' '|')"
    return 1
}
