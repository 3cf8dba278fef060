#!/usr/bin/env bash
# dynod up as a supervisor, beyond restarts (test_restart.sh): its children
# die with it when it is SIGKILLed; giving up on the broker after the ready
# line stops everything with status 1; a child that cannot be forked is
# retried later and counts towards giving up.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

up_children() { ps -o pid= --ppid "$UP_PID" | tr -s ' \n' ' '; }

all_gone() {    # all_gone PID...: none of them is running
    local p left=
    for p in "$@"; do not_running "$p" || left="$left $p"; done
    [ -z "$left" ] || { echo "still running:$left"; return 1; }
}

# ---- SIGKILL of dynod up: the kernel stops its children ---------------------------

start_up || bail "dynod up did not start: $(tail -n 3 "$UP_ERR" | tr '\n' ' ')"
kids=$(up_children)
seven() {
    local n
    n=$(wc -w <<<"$kids")
    [ "$n" = 7 ] || { echo "dynod up has $n children: $kids"; return 1; }
}
check sigkill_up_has_seven_children seven

kill -KILL "$UP_PID"
# (bash reports the job "Killed" on stderr as it reaps it: not news here.)
wait_for 10 dead "$UP_PID" && { wait "$UP_PID"; } 2>/dev/null
rc=$?
if [ "$rc" = 137 ]; then pass sigkill_up_dies; else fail sigkill_up_dies "status $rc, wanted 137"; fi
# shellcheck disable=SC2086
check sigkill_up_children_exit wait_for 15 all_gone $kids
check sigkill_up_nothing_left test -z "$(leftovers)"

# ---- the broker given up on after the ready line -----------------------------------

start_up --max-restarts 1 --restart-window 60 ||
    bail "dynod up --max-restarts 1 did not start: $(tail -n 3 "$UP_ERR" | tr '\n' ' ')"
kids=$(up_children)

_new_broker() {     # OLD: dynod up runs a broker other than OLD
    local p
    p=$(child_pid broker)
    [ -n "$p" ] && [ "$p" != "$1" ]
}

broker_gives_up() {
    local first second
    first=$(child_pid broker)
    [ -n "$first" ] || { echo "no broker child"; return 1; }
    kill -9 "$first"
    wait_for 10 _new_broker "$first" || { echo "the broker was not restarted"; return 1; }
    second=$(child_pid broker)
    kill -9 "$second"
    wait_for 10 grep -q " error dynod gave up on broker: it died more than 1 times in 60 s" "$UP_ERR" ||
        { echo "no 'gave up on broker' log line"; return 1; }
    grep -q " error dynod no broker to run the actors against: stopping" "$UP_ERR" ||
        { echo "no 'stopping' log line"; return 1; }
}
check broker_give_up_logged broker_gives_up

if wait_for 20 dead "$UP_PID"; then
    wait "$UP_PID"
    rc=$?
    if [ "$rc" = 1 ]; then pass broker_give_up_exit_1; else fail broker_give_up_exit_1 "status $rc"; fi
else
    fail broker_give_up_exit_1 "dynod up still running 20 s after giving up on the broker"
fi
# shellcheck disable=SC2086
check broker_give_up_stops_actors all_gone $kids
check broker_give_up_nothing_left test -z "$(leftovers)"
check broker_give_up_ready_line_once test "$(wc -l <"$UP_OUT")" = 1

# ---- fork failure: logged, retried, counted ------------------------------------------
#
# RLIMIT_NPROC makes fork fail, but only for a user without CAP_SYS_RESOURCE
# and CAP_SYS_ADMIN: dynod up runs as an unprivileged uid, and that same uid
# lowers and raises the soft limit of the running dynod up with prlimit.

NPROC_UID=64999
as_user=(setpriv --reuid "$NPROC_UID" --regid "$NPROC_UID" --clear-groups)
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null || ! command -v prlimit >/dev/null ||
    ! "${as_user[@]}" test -x "$DYNOD"; then
    for c in fork_failure_retried fork_failure_gives_up; do
        echo "skip $c: needs root, setpriv, prlimit and a dynod other users can run (not counted)" >&7
    done
    finish
fi

# That user writes the data dir and a credentials file of its own under $T
# (the earlier cases left root's in $T/config); start_up's logs are opened
# by this shell (root).
chown "$NPROC_UID:$NPROC_UID" "$T"
export XDG_CONFIG_HOME=$T/config-uid$NPROC_UID
# shellcheck disable=SC2034 # read by start_up in lib.sh
UP_PREFIX=("${as_user[@]}")
start_up --max-restarts 4 --restart-window 60 ||
    bail "dynod up as uid $NPROC_UID did not start: $(tail -n 3 "$UP_ERR" | tr '\n' ' ')"
unset UP_PREFIX
# shellcheck disable=SC2086
wait_for 10 sq up $ALL_ACTORS || bail "the six actors are not up after the ready line"

# set_nproc N|orig: the soft limit of dynod up (its hard limit stays).
orig_nproc=$("${as_user[@]}" prlimit --pid "$UP_PID" --nproc --raw --noheadings -o SOFT | tr -d ' ')
set_nproc() {
    local v=$1
    [ "$v" = orig ] && v=$orig_nproc
    "${as_user[@]}" prlimit --pid "$UP_PID" --nproc="$v:"
}
retry_line() { echo " warn dynod $1 could not be started (fork: Resource temporarily unavailable), retrying in 1000 ms"; }

fork_retried() {    # fork fails once; once it can fork again the actor is back
    local old
    old=$(child_pid config-keeper)
    set_nproc 1 || return 1
    kill -9 "$old"
    wait_for 10 grep -qF "$(retry_line config-keeper)" "$UP_ERR" ||
        { set_nproc orig; echo "no 'could not be started' log line"; return 1; }
    [ -z "$(child_pid config-keeper)" ] || { echo "a config-keeper runs despite the failed fork"; return 1; }
    set_nproc orig || return 1
    wait_for 15 sq restarted config-keeper "$old" ||
        { echo "config-keeper did not come back once fork worked again"; return 1; }
}
check fork_failure_retried fork_retried

fork_gives_up() {   # a kill and 4 failed forks: more than --max-restarts 4 deaths
    set_nproc 1 || return 1
    kill -9 "$(child_pid log-plex)"
    wait_for 15 grep -q " error dynod gave up on log-plex: it died more than 4 times in 60 s (last could not be started (fork: " "$UP_ERR" ||
        { set_nproc orig; echo "no 'gave up on log-plex' log line"; return 1; }
    set_nproc orig || return 1
    local n
    n=$(grep -cF "$(retry_line log-plex)" "$UP_ERR")
    [ "$n" = 3 ] || { echo "$n fork retries logged, wanted 3"; return 1; }
    [ -z "$(child_pid log-plex)" ] || { echo "dynod up runs log-plex again"; return 1; }
    alive "$UP_PID" || { echo "dynod up exited"; return 1; }
}
check fork_failure_gives_up fork_gives_up

kill -TERM "$UP_PID"
wait_for 20 dead "$UP_PID" && wait "$UP_PID"
rc=$?
if [ "$rc" = 0 ]; then pass fork_failure_stops_cleanly; else fail fork_failure_stops_cleanly "status $rc after SIGTERM"; fi
check no_processes_left test -z "$(leftovers)"

finish
