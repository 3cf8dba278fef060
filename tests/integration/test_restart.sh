#!/usr/bin/env bash
# dynod up restarts what dies: each of the six actors after `kill -9`, the
# broker (the actors re-register by themselves), and gives up on an actor
# that dies more than --max-restarts times in --restart-window seconds.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

start_up || bail "dynod up did not start: $(tail -n 3 "$UP_ERR" | tr '\n' ' ')"
# shellcheck disable=SC2086
wait_for 10 sq up $ALL_ACTORS || bail "the six actors are not up after the ready line"

# ---- kill -9 of each actor, one after the other ---------------------------------

kill_actor() {  # kill_actor NAME: kill -9, comes back under a new pid, shown up
    local name=$1 old new
    old=$(sq pid "$name") || return 1
    [ "$(child_pid "$name")" = "$old" ] ||
        { echo "$name: dyno status says pid $old, dynod up's child is $(child_pid "$name")"; return 1; }
    kill -9 "$old"
    wait_for 15 sq restarted "$name" "$old" || { echo "$name did not come back up after kill -9 of $old"; return 1; }
    new=$(sq pid "$name") || return 1
    [ "$(child_pid "$name")" = "$new" ] ||
        { echo "$name: new pid $new is not dynod up's child ($(child_pid "$name"))"; return 1; }
    grep -q " warn dynod $name killed by signal 9, restarting" "$UP_ERR" ||
        { echo "no 'killed by signal 9, restarting' log line for $name"; return 1; }
}
for a in $ALL_ACTORS; do
    check "kill9_restarts_$a" kill_actor "$a"
done
# shellcheck disable=SC2086
check all_up_after_actor_kills sq up $ALL_ACTORS

# ---- kill -9 of the broker ----------------------------------------------------------

actor_pids() {  # NAME=PID for every actor, sorted
    local a
    for a in $ALL_ACTORS; do echo "$a=$(sq pid "$a")"; done
}

kill_broker() {
    local old before after
    old=$(sq broker pid) || return 1
    [ "$(child_pid broker)" = "$old" ] || { echo "broker pid $old is not dynod up's child"; return 1; }
    before=$(actor_pids) || return 1
    kill -9 "$old"
    wait_for 15 _broker_replaced "$old" || { echo "no new broker after kill -9 of $old"; return 1; }
    # shellcheck disable=SC2086
    wait_for 20 sq up $ALL_ACTORS || { echo "the actors did not re-register"; return 1; }
    # They re-registered by themselves: same processes, not restarted ones.
    after=$(actor_pids) || return 1
    [ "$before" = "$after" ] || { echo "actor pids changed: ${before//$'\n'/ } -> ${after//$'\n'/ }"; return 1; }
    grep -q " warn dynod broker killed by signal 9, restarting" "$UP_ERR" ||
        { echo "no 'broker killed by signal 9, restarting' log line"; return 1; }
}
_broker_replaced() {    # OLD: dyno status answers from a broker with another pid
    local pid
    pid=$(sq broker pid) || return 1
    [ "$pid" != "$1" ] && [ "$pid" = "$(child_pid broker)" ]
}
check kill9_broker_restarted_actors_reregister kill_broker
check dynod_up_still_running alive "$UP_PID"
one_ready_line() {  # restarts do not print the ready line again
    local n
    n=$(wc -l <"$UP_OUT")
    [ "$n" = 1 ] || { echo "stdout has $n lines: $(tr '\n' '|' <"$UP_OUT")"; return 1; }
}
check ready_line_once_after_restarts one_ready_line

kill -TERM "$UP_PID"
wait_for 20 dead "$UP_PID" && wait "$UP_PID"
rc=$?
if [ "$rc" = 0 ]; then pass first_up_stops_cleanly; else fail first_up_stops_cleanly "status $rc after SIGTERM"; fi

# ---- give up after --max-restarts deaths in --restart-window --------------------------

start_up --max-restarts 2 --restart-window 60 ||
    bail "dynod up --max-restarts 2 did not start: $(tail -n 3 "$UP_ERR" | tr '\n' ' ')"
# shellcheck disable=SC2086
wait_for 10 sq up $ALL_ACTORS || bail "the six actors are not up after the ready line"

victim=log-plex
others=$(tr ' ' '\n' <<<"$ALL_ACTORS" | grep -vx "$victim" | tr '\n' ' ')
others_before=$(for a in $others; do echo "$a=$(sq pid "$a")"; done)

_new_child() {  # NAME OLD: dynod up runs NAME under a pid other than OLD
    local p
    p=$(child_pid "$1")
    [ -n "$p" ] && [ "$p" != "$2" ]
}

give_up() {
    local i pid=
    for i in 1 2 3; do
        wait_for 10 _new_child "$victim" "${pid:-0}" || { echo "kill $i: no $victim child to kill"; return 1; }
        pid=$(child_pid "$victim")
        kill -9 "$pid"
    done
    wait_for 10 grep -q " error dynod gave up on $victim: it died more than 2 times in 60 s" "$UP_ERR" ||
        { echo "no 'gave up on $victim' log line"; return 1; }
    local n
    n=$(grep -c " warn dynod $victim killed by signal 9, restarting" "$UP_ERR")
    [ "$n" = 2 ] || { echo "$n restarts logged, wanted 2"; return 1; }
}
check give_up_logged give_up

no_victim_process() {
    [ -z "$(child_pid "$victim")" ] || { echo "dynod up runs $victim again: $(child_pid "$victim")"; return 1; }
}
check give_up_no_process no_victim_process
# A peer killed by signal is dropped by the broker after missed heartbeats.
check give_up_absent_from_status wait_for 15 sq absent "$victim"
check give_up_stays_absent holds 3 sq absent "$victim"

others_unchanged() {
    # shellcheck disable=SC2086
    sq up $others || return 1
    local now
    now=$(for a in $others; do echo "$a=$(sq pid "$a")"; done)
    [ "$now" = "$others_before" ] || { echo "pids changed: ${others_before//$'\n'/ } -> ${now//$'\n'/ }"; return 1; }
}
check give_up_others_still_run others_unchanged
check give_up_dynod_up_still_running alive "$UP_PID"
check give_up_broker_answers dyno ping broker

kill -TERM "$UP_PID"
wait_for 20 dead "$UP_PID" && wait "$UP_PID"
rc=$?
if [ "$rc" = 0 ]; then pass give_up_stops_cleanly; else fail give_up_stops_cleanly "status $rc after SIGTERM"; fi
check no_processes_left test -z "$(leftovers)"

finish
