#!/usr/bin/env bash
# The journal across a broker restart: durable pings get consecutive seqs,
# `dynod journal` reads through a running broker and straight from LevelDB
# once it stopped, and a restarted broker on the same data keeps its journal
# head, hands out the next seq and still holds what was held.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

DATA=$T/data
BROKER_PORT=$(free_port)
BROKER_EP=tcp://127.0.0.1:$BROKER_PORT
start_broker broker1 "$DATA" "$BROKER_PORT" ||
    bail "dynod broker printed no ready line: $(tail -n 3 "$T/broker1.err" | tr '\n' ' ')"
export DYNOD_BROKER=$BROKER_EP
DYNOD_API_TOKEN=$(cat "$DATA/api-token") || bail "the broker wrote no $DATA/api-token"
export DYNOD_API_TOKEN

start_actor ck1 config-keeper
ck=$SPAWNED
start_actor rk release-keeper
wait_for 15 sq up config-keeper release-keeper || bail "the actors did not register"

durable_seq() {     # durable_seq TARGET: prints the seq a durable ping got
    dyno ping "$1" --durable --timeout 10 --json >"$T/seq.json" || return 1
    python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[0]["seq"])' "$T/seq.json"
}

consecutive() {
    local got=
    got="$(durable_seq config-keeper) $(durable_seq release-keeper) $(durable_seq config-keeper)"
    [ "$got" = "1 2 3" ] || { echo "seqs '$got', wanted '1 2 3'"; return 1; }
}
check durable_seqs_consecutive consecutive
check journal_head_3 broker_is journal_head 3

# journal_is WANT [ARGS...]: `dynod journal --data $DATA ARGS` lists exactly the
# entries WANT ("seq:type:to ..."), in text and as --json (which must also
# carry seq, type, from and to, `from` being the CLI that pinged).
journal_is() {
    local want=$1
    shift
    run dynod journal --data "$DATA" "$@"
    expect_rc 0 || return 1
    local got
    got=$(awk '$5 == "->" { printf "%s%s:%s:%s", sep, $1, $3, $6; sep = " " }' "$T/run.out")
    [ "$got" = "$want" ] || { echo "text lists '$got', wanted '$want'"; return 1; }
    [ "$(wc -l <"$T/run.out")" = "$(wc -w <<<"$want")" ] ||
        { echo "text has extra lines: $(tr '\n' '|' <"$T/run.out")"; return 1; }
    run dynod journal --data "$DATA" --json "$@"
    expect_rc 0 || return 1
    python3 - "$T/run.out" "$want" <<'PY'
import json, sys
entries = json.load(open(sys.argv[1]))
if not isinstance(entries, list):
    sys.exit("--json is not an array")
got = []
for e in entries:
    for k in ("seq", "type", "from", "to"):
        if k not in e:
            sys.exit("entry without %s: %s" % (k, e))
    if not e["from"].startswith("cli@"):
        sys.exit("entry %d from %s" % (e["seq"], e["from"]))
    got.append("%d:%s:%s" % (e["seq"], e["type"], e["to"]))
if " ".join(got) != sys.argv[2]:
    sys.exit("--json lists '%s', wanted '%s'" % (" ".join(got), sys.argv[2]))
PY
}

FIRST3="1:ping:config-keeper 2:ping:release-keeper 3:ping:config-keeper"

# ---- while the broker runs: the journal is locked, read through the broker ------------

check journal_through_broker journal_is "$FIRST3" --broker "$BROKER_EP"
check journal_through_broker_filtered journal_is "2:ping:release-keeper 3:ping:config-keeper" \
    --broker "$BROKER_EP" --type ping --from 2

locked_other_broker() {     # proves it does not open LevelDB: no broker there, exit 3
    run dynod journal --data "$DATA" --broker "tcp://127.0.0.1:$(free_port)"
    expect_rc 3 && one_stderr_line || return 1
    grep -q 'locked' "$T/run.err" || { echo "unclear: $(cat "$T/run.err")"; return 1; }
}
check journal_locked_needs_broker locked_other_broker

# ---- broker stopped: read LevelDB directly ------------------------------------------------

stop_broker() {     # stop_broker PID: SIGTERM, exits 0
    kill -TERM "$1"
    wait_for 15 dead "$1" || { echo "broker still running after SIGTERM"; return 1; }
    wait "$1"
    local rc=$?
    [ "$rc" = 0 ] || { echo "broker exited with status $rc"; return 1; }
}
check broker_sigterm_exits_0 stop_broker "$BROKER_PID"

check journal_direct journal_is "$FIRST3"
check journal_direct_filtered journal_is "2:ping:release-keeper 3:ping:config-keeper" --type ping --from 2
check journal_direct_from journal_is "3:ping:config-keeper" --from 3
check journal_direct_other_type journal_is "" --type hello
check journal_direct_past_head journal_is "" --from 4

# ---- restart on the same data ---------------------------------------------------------------

start_broker broker2 "$DATA" "$BROKER_PORT" ||
    bail "the broker did not restart: $(tail -n 3 "$T/broker2.err" | tr '\n' ' ')"
check restart_ready_line_head_3 grep -q "^broker ready $BROKER_EP journal_head=3$" "$T/broker2.out"
check restart_actors_reregister wait_for 20 sq up config-keeper release-keeper
check restart_journal_head_unchanged broker_is journal_head 3
check restart_held_0 broker_is held 0

next_seq() {    # next_seq TARGET WANT
    local s
    s=$(durable_seq "$1") || return 1
    [ "$s" = "$2" ] || { echo "got seq $s, wanted $2"; return 1; }
}
check restart_next_seq_4 next_seq release-keeper 4
check restart_journal_through_broker journal_is "$FIRST3 4:ping:release-keeper" --broker "$BROKER_EP"

# ---- a held message survives a broker restart -------------------------------------------------

kill -TERM "$ck"
wait_for 15 dead "$ck" && wait "$ck"
wait_for 10 sq absent config-keeper || fail held_setup "config-keeper did not leave"
spawn ping "$DYNO" ping config-keeper --durable --timeout 30
ping_pid=$SPAWNED
check held_before_restart wait_for 10 broker_is held 1
check held_journaled_as_5 broker_is journal_head 5
# This CLI's connection goes away with the broker; what matters is the message.
kill -TERM "$ping_pid"
wait_for 10 dead "$ping_pid" && wait "$ping_pid"

check held_broker_sigterm_exits_0 stop_broker "$BROKER_PID"
check held_in_journal journal_is "5:ping:config-keeper" --from 5
start_broker broker3 "$DATA" "$BROKER_PORT" ||
    bail "the broker did not restart: $(tail -n 3 "$T/broker3.err" | tr '\n' ' ')"
check held_restart_ready_line grep -q "^broker ready $BROKER_EP journal_head=5$" "$T/broker3.out"
check held_after_restart wait_for 10 broker_is held 1
start_actor ck2 config-keeper
check held_delivered_to_returning_actor wait_for 15 broker_is held 0
check held_seen_by_actor wait_for 10 actor_seq config-keeper 5
check held_next_seq_6 next_seq config-keeper 6

finish
