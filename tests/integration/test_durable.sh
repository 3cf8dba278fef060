#!/usr/bin/env bash
# Durable delivery with a standalone broker and standalone actors: a durable
# ping to a stopped actor is journaled, held by the broker, and delivered
# when the actor comes back; a plain ping to a stopped actor fails fast;
# `dyno status` shows each actor's last applied seq.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

DATA=$T/data
BROKER_PORT=$(free_port)
BROKER_EP=tcp://127.0.0.1:$BROKER_PORT
start_broker broker "$DATA" "$BROKER_PORT" ||
    bail "dynod broker printed no ready line: $(tail -n 3 "$T/broker.err" | tr '\n' ' ')"
check broker_ready_line grep -q "^broker ready $BROKER_EP journal_head=0$" "$T/broker.out"

export DYNOD_BROKER=$BROKER_EP
DYNOD_API_TOKEN=$(cat "$DATA/api-token") || bail "the broker wrote no $DATA/api-token"
export DYNOD_API_TOKEN

start_actor ck1 config-keeper
ck=$SPAWNED
start_actor rk release-keeper
check actors_registered wait_for 15 sq up config-keeper release-keeper

live_durable() {    # a durable ping to a live actor is journaled and answered
    run dyno ping config-keeper --durable --timeout 10
    expect_rc 0 || return 1
    grep -q '^pong from config-keeper@.*(journaled as seq 1)$' "$T/run.out" ||
        { echo "unexpected: $(cat "$T/run.out")"; return 1; }
}
check durable_ping_live_actor live_durable
check held_zero_after_live_ping broker_is held 0

# ---- stop config-keeper ------------------------------------------------------------

kill -TERM "$ck"
stopped() {
    wait_for 15 dead "$ck" || { echo "config-keeper still running after SIGTERM"; return 1; }
    wait "$ck"
    local rc=$?
    [ "$rc" = 0 ] || { echo "config-keeper exited with status $rc"; return 1; }
    wait_for 10 sq absent config-keeper
}
check actor_sigterm_exits_0_and_leaves stopped

fails_fast() {  # a plain ping to a down actor: exit 1 well before --timeout
    local t0 ms
    t0=$(now_ms)
    run dyno ping config-keeper --timeout 15
    ms=$(($(now_ms) - t0))
    expect_rc 1 && one_stderr_line || return 1
    [ "$ms" -lt 5000 ] || { echo "took $ms ms (timeout 15 s)"; return 1; }
}
check plain_ping_to_down_actor_fails_fast fails_fast
check plain_ping_journals_nothing broker_is journal_head 1

# ---- durable ping while it is down ---------------------------------------------------

spawn ping "$DYNO" ping config-keeper --durable --timeout 30
ping_pid=$SPAWNED
check durable_ping_held wait_for 10 broker_is held 1
check durable_ping_journaled broker_is journal_head 2
check durable_ping_waits alive "$ping_pid"
check other_actor_unaffected dyno ping release-keeper

start_actor ck2 config-keeper
delivered() {
    wait_for 20 dead "$ping_pid" || { echo "the durable ping did not finish after the restart"; return 1; }
    wait "$ping_pid"
    local rc=$?
    [ "$rc" = 0 ] || { echo "ping exited with status $rc: $(cat "$T/ping.err")"; return 1; }
    grep -q '^pong from config-keeper@.*(journaled as seq 2)$' "$T/ping.out" ||
        { echo "unexpected: $(cat "$T/ping.out")"; return 1; }
}
check durable_ping_delivered_after_restart delivered
check held_back_to_zero wait_for 10 broker_is held 0
check config_keeper_up_again sq up config-keeper release-keeper
check journal_head_still_2 broker_is journal_head 2
check restarted_actor_saw_seq_2 actor_seq config-keeper 2

table_last_seq() {  # the text table's LAST SEQ column, after MSGS OUT
    run dyno status
    expect_rc 0 || return 1
    grep -Eq '^ACTOR .* MSGS OUT +LAST SEQ$' "$T/run.out" ||
        { echo "no LAST SEQ column: $(grep '^ACTOR' "$T/run.out")"; return 1; }
    grep -Eq '^config-keeper .* [0-9]+ +2$' "$T/run.out" ||
        { echo "config-keeper's LAST SEQ is not 2: $(grep '^config-keeper' "$T/run.out")"; return 1; }
    grep -Eq '^release-keeper .* [0-9]+ +0$' "$T/run.out" ||
        { echo "release-keeper's LAST SEQ is not 0: $(grep '^release-keeper' "$T/run.out")"; return 1; }
}
check status_table_last_seq table_last_seq

finish
