#!/usr/bin/env bash
# dynod up and dyno status: ready line, the six actors, --help everywhere,
# usage errors, an unreachable broker, a wrong token, and a clean SIGTERM.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# ---- --help and usage errors (no broker needed) ------------------------------

help_ok() {     # help_ok CMD...: exit 0, usage on stdout, nothing on stderr
    run "$@" --help
    expect_rc 0 || return 1
    grep -q '^usage: ' "$T/run.out" || { echo "no usage line on stdout"; return 1; }
    [ ! -s "$T/run.err" ] || { echo "stderr: $(head -n 1 "$T/run.err")"; return 1; }
}

for cmd in "" up broker actor journal protocol; do
    check "help_dynod${cmd:+_$cmd}" help_ok dynod $cmd
done
for cmd in "" status ping; do
    check "help_dyno${cmd:+_$cmd}" help_ok dyno $cmd
done

usage_error() {     # usage_error CMD...: exit 2 and one line on stderr
    run timeout -k 1 3 "$@"
    expect_rc 2 && one_stderr_line
}

# Arguments that could start something still point at $T and a free port:
# {U} and {B} stand for those (left out of the case names), {T} for $T and
# {P} for the port.
P=$(free_port)
up_iso="--data $T/bad --broker-port $P"
broker_iso="--data $T/bad --endpoint tcp://127.0.0.1:$P"
while IFS= read -r line; do
    [ -z "$line" ] && continue
    name=$(sed 's/ {[UB]}//g; s/{T}/T/g; s/{P}/PORT/g' <<<"$line")
    line=${line//"{U}"/"$up_iso"}
    line=${line//"{B}"/"$broker_iso"}
    line=${line//"{T}"/"$T"}
    line=${line//"{P}"/"$P"}
    read -ra argv <<<"$line"
    argv[0]=$DYNOD_BIN/${argv[0]}
    case " ${argv[*]} " in      # never the default port or data dir
        *" up "*|*" broker "*) [[ " ${argv[*]} " == *" --data "* ]] || bail "unisolated: ${argv[*]}" ;;
    esac
    check "usage_error[$name]" usage_error "${argv[@]}"
done <<'EOF'
dynod frobnicate
dynod up {U} --bogus
dynod up {U} extra
dynod up --data {T}/bad --broker-port 0
dynod up --data {T}/bad --broker-port abc
dynod up {U} --max-restarts 0
dynod up {U} --restart-window 0
dynod up {U} --actors scheduler,nosuch
dynod up --data
dynod broker {B} --bogus
dynod broker {B} extra
dynod broker --data {T}/bad --port abc
dynod actor
dynod actor nosuch
dynod actor config-keeper router
dynod actor config-keeper --broker tcp://127.0.0.1:{P} --bogus
dynod journal --data {T}/bad --from abc
dynod journal --data {T}/bad --type nosuch
dynod journal --data {T}/bad extra
dynod journal --data {T}/bad --bogus
dynod protocol --bogus
dyno --bogus
dyno --broker
dyno frobnicate
dyno status extra
dyno status --bogus
dyno ping
dyno ping config-keeper router
dyno ping config-keeper --count 0
dyno ping config-keeper --timeout 0
dyno ping --bogus config-keeper
dyno ping foo@
EOF

# With no command at all both print their usage on stderr and exit 2.
no_command() {
    run "$@"
    expect_rc 2 && grep -q '^usage: ' "$T/run.err"
}
check no_command_dynod no_command "$DYNOD"
check no_command_dyno no_command "$DYNO"

# ---- no broker ----------------------------------------------------------------

no_broker() {   # exit 3 and one line that says the broker cannot be reached
    run dyno --broker "tcp://127.0.0.1:$(free_port)" --token nothing status
    expect_rc 3 && one_stderr_line || return 1
    grep -qi 'cannot reach' "$T/run.err" || { echo "unclear: $(cat "$T/run.err")"; return 1; }
}
check status_no_broker no_broker

no_token() {    # no credentials file and no token: exit 3, one line
    run dyno status
    expect_rc 3 && one_stderr_line || return 1
    grep -qi 'token' "$T/run.err" || { echo "unclear: $(cat "$T/run.err")"; return 1; }
}
check status_no_credentials no_token

# ---- dynod up -------------------------------------------------------------------

start_up || bail "dynod up did not start: $(tail -n 3 "$UP_ERR" | tr '\n' ' ')"

ready_line() {
    local n
    n=$(wc -l <"$UP_OUT")
    [ "$n" = 1 ] || { echo "stdout has $n lines: $(tr '\n' '|' <"$UP_OUT")"; return 1; }
    grep -q "^dynod ready: broker $BROKER_EP, 6 actors up" "$UP_OUT" ||
        { echo "unexpected: $(cat "$UP_OUT")"; return 1; }
}
check up_ready_line ready_line

credentials() {
    python3 - "$XDG_CONFIG_HOME/dynod/credentials" "$BROKER_EP" "$(cat "$DATA/api-token")" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
if c.get("broker") != sys.argv[2] or c.get("token") != sys.argv[3]:
    sys.exit("credentials hold %s" % c)
PY
}
check up_credentials credentials

# Actors register in any order; the ready line promises all six.
# shellcheck disable=SC2086
check status_json_all_up sq up $ALL_ACTORS

status_json_details() {
    status_json "$T/s.json" || return 1
    python3 - "$T/s.json" "$UP_PID" "$ALL_ACTORS" <<'PY'
import json, os, sys
d = json.load(open(sys.argv[1]))
up_pid, want = int(sys.argv[2]), sorted(sys.argv[3].split())
names = [a["name"] for a in d["actors"]]
if names != want:
    sys.exit("actors %s, wanted %s" % (names, want))
def parent(pid):
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])
for a in d["actors"] + [d["broker"]]:
    name = a.get("name", "broker")
    if not isinstance(a["pid"], int) or a["pid"] <= 0:
        sys.exit("%s: pid %r" % (name, a["pid"]))
    if parent(a["pid"]) != up_pid:
        sys.exit("%s: pid %d is not a child of dynod up (%d)" % (name, a["pid"], up_pid))
b = d["broker"]
if not isinstance(b.get("journal_head"), int) or b["journal_head"] < 0:
    sys.exit("broker journal_head %r" % b.get("journal_head"))
if b.get("held") != 0:
    sys.exit("broker held %r" % b.get("held"))
PY
}
check status_json_pids_and_journal_head status_json_details

status_table() {
    run dyno status
    expect_rc 0 || return 1
    local head a
    head=$(sq broker journal_head) || return 1
    grep -q "^broker  $BROKER_EP .* journal head $head " "$T/run.out" ||
        { echo "no broker line with journal head $head"; return 1; }
    for a in $ALL_ACTORS; do
        grep -Eq "^$a +[^ ]+ +[^ ]+ +[0-9]+ +up " "$T/run.out" ||
            { echo "$a is not shown up: $(tr '\n' '|' <"$T/run.out")"; return 1; }
    done
}
check status_table_all_up status_table

wrong_token() {
    run dyno --token wrong-token status
    expect_rc 3 && one_stderr_line || return 1
    grep -qi 'refused' "$T/run.err" || { echo "unclear: $(cat "$T/run.err")"; return 1; }
}
check status_wrong_token_refused wrong_token

wrong_token_env() {
    DYNOD_API_TOKEN=wrong-token run dyno status
    expect_rc 3 && one_stderr_line
}
check status_wrong_token_env_refused wrong_token_env

check ping_broker dyno ping broker
check ping_actor dyno ping scheduler

# Global options stop at the command ("+"); the command then parses its own,
# also after its operand.
ping_options_after_target() {
    run dyno ping scheduler --count 2
    expect_rc 0 || return 1
    [ "$(grep -c '^pong from scheduler@' "$T/run.out")" = 2 ] ||
        { echo "unexpected: $(tr '\n' '|' <"$T/run.out")"; return 1; }
}
check ping_options_after_target ping_options_after_target

global_options() {
    run dyno --broker "$BROKER_EP" --token "$(cat "$DATA/api-token")" --json status
    expect_rc 0 || return 1
    python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["actors"]))' "$T/run.out"
}
check global_options_before_command global_options

# ---- SIGTERM stops everything --------------------------------------------------

up_children=$(ps -o pid= --ppid "$UP_PID" | tr '\n' ' ')
kill -TERM "$UP_PID"
if wait_for 20 dead "$UP_PID"; then
    wait "$UP_PID"
    rc=$?
    if [ "$rc" = 0 ]; then pass sigterm_exit_0; else fail sigterm_exit_0 "dynod up exited with status $rc"; fi
else
    fail sigterm_exit_0 "dynod up still running 20 s after SIGTERM"
fi

no_children_left() {
    local p left=
    for p in $up_children; do alive "$p" && left="$left $p"; done
    [ -z "$left" ] || { echo "children still running:$left"; return 1; }
    [ -z "$(leftovers)" ] || { echo "still running: $(leftovers | tr '\n' '|')"; return 1; }
}
check sigterm_stops_every_child no_children_left
check ready_line_printed_once ready_line

# After the stop, the CLI finds no broker (credentials still point at it).
after_stop() {
    run dyno status
    expect_rc 3 && one_stderr_line
}
check status_after_stop_exit_3 after_stop

finish
