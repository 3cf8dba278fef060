#!/usr/bin/env bash
# `dyno logs` against a real `dynod up`: lines injected with `dynod log-emit`
# as app[web.1], dynod[router], dynod[api] come back in Logplex's format,
# oldest first; -n bounds and the default of 100; each filter and their
# combinations; bad arguments refused with one line (exit 2); no colour when
# piped or with NO_COLOR, colour on a terminal; `--tail` printing the
# history, then new lines, until SIGINT (exit 0); a tail that outlives a
# SIGKILL of log-plex (its supervisor restarts it) and gets the lines
# emitted after, none twice; logs:token, and that token opening the tail
# (through the CLI, and from node's WebSocket when node is installed) while
# a wrong or another app's token is refused. And `dynod log-emit` itself:
# stdin streamed in batches by time while the pipe stays open, a last line
# without its newline, usage errors (exit 2), no broker (exit 3).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

LOGS_PORT=$(free_port)
start_up --logs-port "$LOGS_PORT" || bail "dynod up did not get ready"
export DYNOD_LOGS_PORT=$LOGS_PORT
mkdir -p "$T/top" && cd "$T/top" || bail "cannot enter $T/top"
APP=logs-app
OTHER=logs-other
dyno apps:create "$APP" >/dev/null 2>&1 || bail "cannot create $APP"
dyno apps:create "$OTHER" >/dev/null 2>&1 || bail "cannot create $OTHER"

emit() {    # emit SOURCE PROCESS TEXT...: lines for $APP
    local source=$1 process=$2
    shift 2
    dynod log-emit --app "$APP" --source "$source" --process "$process" "$@"
}

has_lines() {   # has_lines FILE PATTERN...: each (grep -E) matches a line of FILE
    local f=$1 p
    shift
    for p in "$@"; do
        grep -qE -- "$p" "$f" || { echo "no line matching '$p' in $f: $(tail -n 3 "$f" | tr '\n' '|')"; return 1; }
    done
}

logs_have() {   # logs_have PATTERN...: `dyno logs -n 1500` shows each
    dyno logs -a "$APP" -n 1500 >"$T/logs.out" 2>"$T/logs.err" || { cat "$T/logs.err"; return 1; }
    has_lines "$T/logs.out" "$@"
}

TS='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}\+00:00'

# ---- lines from every source --------------------------------------------------

emit app web.1 "web one first" "web one second" || bail "log-emit failed"
emit app web.2 "web two only" || bail "log-emit failed"
emit app worker.1 "worker one only" || bail "log-emit failed"
printf 'at=info method=GET path="/"\nat=info method=POST\n' | emit dynod router || bail "log-emit from stdin failed"
emit dynod api "Deploy abc by ann" || bail "log-emit failed"
wait_for 10 logs_have "Deploy abc by ann" || bail "the emitted lines never showed in dyno logs"

formatted() {
    run dyno logs -a "$APP"
    expect_rc 0 || return 1
    has_lines "$T/run.out" "^$TS app\[web\.1\]: web one first\$" "^$TS app\[web\.2\]: web two only\$" \
        "^$TS dynod\[router\]: at=info method=GET path=\"/\"\$" "^$TS dynod\[router\]: at=info method=POST\$" \
        "^$TS dynod\[api\]: Deploy abc by ann\$" || return 1
    # Every line is in the format; oldest first.
    local bad
    bad=$(grep -vE "^$TS (app|dynod)\[[^]]+\]: " "$T/run.out" | head -n 1)
    [ -z "$bad" ] || { echo "badly formatted: $bad"; return 1; }
    local a b
    a=$(grep -n 'web one first' "$T/run.out" | cut -d: -f1)
    b=$(grep -n 'Deploy abc by ann' "$T/run.out" | cut -d: -f1)
    [ "$a" -lt "$b" ] || { echo "not oldest first: line $a vs $b"; return 1; }
}
check lines_from_app_router_api_formatted formatted

json_lines() {
    run dyno logs -a "$APP" --json -n 2
    expect_rc 0 || return 1
    python3 - "$T/run.out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["app"] == "logs-app", d
assert len(d["lines"]) == 2 and d["lines"][-1].endswith("dynod[api]: Deploy abc by ann"), d
PY
}
check json_output json_lines

# ---- -n -----------------------------------------------------------------------

count_is() {    # count_is N ARGS...: `dyno logs ARGS` prints N lines
    run dyno logs -a "$APP" "${@:2}"
    expect_rc 0 || return 1
    local n
    n=$(wc -l <"$T/run.out")
    [ "$n" = "$1" ] || { echo "$n lines for '${*:2}', wanted $1"; return 1; }
}
n_newest() {
    count_is 2 -n 2 || return 1
    has_lines "$T/run.out" "dynod\[router\]: at=info method=POST\$" "dynod\[api\]: Deploy abc by ann\$"
}
check n_two_newest n_newest
check n_one count_is 1 -n 1
check n_long_form count_is 3 --num 3

# ---- filters --------------------------------------------------------------------

only() {    # only PATTERN ARGS...: `dyno logs ARGS` prints lines, every one matching
    run dyno logs -a "$APP" "${@:2}"
    expect_rc 0 || return 1
    [ -s "$T/run.out" ] || { echo "no lines for '${*:2}'"; return 1; }
    local bad
    bad=$(grep -vE -- "$1" "$T/run.out" | head -n 1)
    [ -z "$bad" ] || { echo "'${*:2}' printed: $bad"; return 1; }
}
check filter_source_app only "^$TS app\[" -s app
check filter_source_dynod only "^$TS dynod\[" --source dynod
check filter_dyno only "^$TS app\[web\.1\]: " -d web.1
check filter_dyno_router only "^$TS dynod\[router\]: " --dyno router
check filter_process_type only "^$TS app\[web\.[12]\]: " -p web
both_web() {
    only "^$TS app\[web\.[12]\]: " -p web || return 1
    has_lines "$T/run.out" "web one first" "web two only"
}
check filter_process_type_every_dyno both_web
check filter_source_and_dyno only "^$TS dynod\[router\]: " -s dynod -d router
check filter_source_and_type only "^$TS app\[web\." -s app -p web
check filter_with_n count_is 1 -p web -n 1
check filter_none_match count_is 0 -s dynod -d web.1
check filter_type_other count_is 1 -p worker

# ---- bad arguments -----------------------------------------------------------------

usage() {   # usage ARGS...: exit 2, one line on stderr, nothing on stdout
    run dyno logs -a "$APP" "$@"
    expect_rc 2 && one_stderr_line || return 1
    [ ! -s "$T/run.out" ] || { echo "stdout: $(head -c 200 "$T/run.out")"; return 1; }
}
check usage_n_zero usage -n 0
check usage_n_too_big usage -n 1501
check usage_n_not_number usage -n ten
check usage_n_negative usage -n -5
check usage_bad_source usage -s heroku
check usage_bad_dyno usage -d 'web/1'
check usage_bad_process_type usage -p web.1
check usage_tail_json usage --tail --json
check usage_unknown_option usage --follow
check usage_operand usage extra

unknown_app() {
    run dyno logs -a no-such-app
    expect_rc 1 && one_stderr_line || return 1
    grep -q "no-such-app" "$T/run.err" || { echo "stderr: $(cat "$T/run.err")"; return 1; }
}
check unknown_app_one_line unknown_app

# ---- log-emit ------------------------------------------------------------------

emit_streams() {    # lines from a pipe that stays open go out by time, not at its end
    mkfifo "$T/fifo" || return 1
    dynod log-emit --app "$APP" --source app --process web.3 --batch-ms 20 <"$T/fifo" &
    local pid=$!
    exec 9>"$T/fifo"
    echo "streamed while open" >&9
    wait_for 10 logs_have "app\[web\.3\]: streamed while open\$" || { exec 9>&-; return 1; }
    alive "$pid" || { echo "log-emit ended before its input did"; exec 9>&-; return 1; }
    printf 'last\r\nno newline' >&9
    exec 9>&-
    wait "$pid" || { echo "log-emit exit status $?"; return 1; }
    wait_for 10 logs_have "app\[web\.3\]: last\$" "app\[web\.3\]: no newline\$"
}
check log_emit_streams_stdin_in_batches_by_time emit_streams

emit_usage() {  # emit_usage ARGS...: exit 2, one line
    run dynod log-emit "$@"
    expect_rc 2 && one_stderr_line
}
check log_emit_needs_app emit_usage --source app --process web.1 x
check log_emit_needs_process emit_usage --app "$APP" --source app x
check log_emit_bad_source emit_usage --app "$APP" --source heroku --process web.1 x
check log_emit_bad_batch emit_usage --app "$APP" --source app --process web.1 --batch 0 x
emit_no_broker() {
    run dynod log-emit --broker "tcp://127.0.0.1:$(free_port)" --app "$APP" --source app --process web.1 x
    expect_rc 3 && one_stderr_line
}
check log_emit_no_broker_exit_3 emit_no_broker

# ---- the default of 100 ---------------------------------------------------------------

seq 1 150 | sed 's/^/bulk line /' | emit app web.1 || bail "log-emit of 150 lines failed"
wait_for 10 logs_have "bulk line 150\$" || bail "the bulk lines never showed"
default_100() {
    count_is 100 || return 1
    tail -n 1 "$T/run.out" | grep -q 'bulk line 150$' || { echo "last: $(tail -n 1 "$T/run.out")"; return 1; }
    head -n 1 "$T/run.out" | grep -q 'bulk line 51$' || { echo "first: $(head -n 1 "$T/run.out")"; return 1; }
}
check default_is_100_newest default_100
n_max() {
    run dyno logs -a "$APP" -n 1500
    expect_rc 0 || return 1
    local n
    n=$(wc -l <"$T/run.out")
    [ "$n" -gt 157 ] || { echo "$n lines for -n 1500"; return 1; }
    has_lines "$T/run.out" "web one first\$" "bulk line 1\$" "bulk line 150\$"
}
check n_1500_prints_all n_max

# ---- colour ---------------------------------------------------------------------------------

no_colour_piped() {
    dyno logs -a "$APP" -n 20 | cat >"$T/piped.out" || return 1
    [ -s "$T/piped.out" ] || { echo "nothing printed"; return 1; }
    ! grep -q $'\033' "$T/piped.out" || { echo "escape codes in piped output"; return 1; }
}
check no_colour_when_piped no_colour_piped

on_terminal() {     # on_terminal FILE ENV... -- ARGS...: dyno logs ARGS on a pseudo-terminal
    local f=$1 envs=()
    shift
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    env "${envs[@]}" script -qec "$DYNO logs -a $APP $*" /dev/null </dev/null >"$f" 2>&1
}
colour_tty() {
    command -v script >/dev/null || { echo "no script(1) for a terminal"; return 1; }
    on_terminal "$T/tty.out" -u NO_COLOR -- -n 1500 || return 1
    grep -q $'\033\\[35mdynod\\[router\\]:\033\\[0m at=info' "$T/tty.out" ||
        { echo "dynod lines not magenta on a terminal: $(grep -m 1 router "$T/tty.out" | cat -v)"; return 1; }
    grep -q $'\033\\[36mapp\\[web\\.1\\]:\033\\[0m web one first' "$T/tty.out" ||
        { echo "app lines not cyan on a terminal: $(grep -m 1 'web one first' "$T/tty.out" | cat -v)"; return 1; }
    on_terminal "$T/tty2.out" NO_COLOR=1 -- -n 5 || return 1
    [ -s "$T/tty2.out" ] || { echo "nothing printed with NO_COLOR"; return 1; }
    ! grep -q $'\033' "$T/tty2.out" || { echo "colour despite NO_COLOR"; return 1; }
}
check colour_on_terminal_not_with_NO_COLOR colour_tty

# ---- --tail ------------------------------------------------------------------------------------

count_of() {    # count_of FILE PATTERN: lines of FILE matching PATTERN (grep -E)
    grep -cE -- "$2" "$1"
}
once_each() {   # once_each FILE: no line printed twice
    local dup
    dup=$(sort "$1" | uniq -d | head -n 1)
    [ -z "$dup" ] || { echo "printed twice: $dup"; return 1; }
}

spawn tail1 "$DYNO" logs -a "$APP" --tail -n 3
TAIL1=$SPAWNED
tail_history() {
    wait_for 10 has_lines "$T/tail1.out" "bulk line 150\$" || return 1
    local n
    n=$(wc -l <"$T/tail1.out")
    [ "$n" = 3 ] || { echo "$n history lines, wanted 3"; return 1; }
    has_lines "$T/tail1.out" "bulk line 148\$"
}
check tail_prints_history tail_history
tail_live() {
    emit app web.1 "live one" "live two" || return 1
    emit dynod router "live router" || return 1
    wait_for 10 has_lines "$T/tail1.out" "^$TS app\[web\.1\]: live one\$" "live two\$" \
        "^$TS dynod\[router\]: live router\$" || return 1
    ! grep -q $'\033' "$T/tail1.out" || { echo "colour in a file"; return 1; }
    once_each "$T/tail1.out"
}
check tail_prints_new_lines tail_live
tail_filtered() {
    spawn tailf "$DYNO" logs -a "$APP" -t -s app -p web -n 1
    local pid=$SPAWNED
    wait_for 10 has_lines "$T/tailf.out" "live two\$" || return 1
    emit dynod router "filtered out router" || return 1
    emit app worker.1 "filtered out worker" || return 1
    emit app web.2 "filtered in web two" || return 1
    wait_for 10 has_lines "$T/tailf.out" "app\[web\.2\]: filtered in web two\$" || return 1
    ! grep -q "filtered out" "$T/tailf.out" || { echo "a filtered line came: $(grep 'filtered out' "$T/tailf.out")"; return 1; }
    kill -INT "$pid"
    wait "$pid"
}
check tail_with_filters tail_filtered
tail_sigint() {
    kill -INT "$TAIL1"
    wait "$TAIL1"
    local rc=$?
    [ "$rc" = 0 ] || { echo "exit status $rc after SIGINT"; return 1; }
    [ ! -s "$T/tail1.err" ] || { echo "stderr: $(head -c 200 "$T/tail1.err")"; return 1; }
}
check tail_sigint_exits_0 tail_sigint

tail_into_head() {  # the reader of the pipe goes away: the tail ends, exit 0
    ( timeout 20 "$DYNO" logs -a "$APP" -t -n 3 | head -n 1 >"$T/head.out"
      echo "${PIPESTATUS[0]}" >"$T/head.rc" ) &
    wait_for 10 test -s "$T/head.out" || return 1
    # The next line written after head is gone meets EPIPE; emit until then.
    ended() { [ -s "$T/head.rc" ] || { emit app web.1 "for a gone reader"; return 1; }; }
    wait_for 10 ended || { echo "the tail went on writing to a closed pipe"; return 1; }
    [ "$(cat "$T/head.rc")" = 0 ] || { echo "exit status $(cat "$T/head.rc")"; return 1; }
}
check tail_ends_when_the_pipe_closes tail_into_head

tail_unknown_app() {
    run timeout 10 "$DYNO" logs -a no-such-app --tail
    expect_rc 1 && one_stderr_line
}
check tail_unknown_app_one_line tail_unknown_app

# ---- reconnect after log-plex is SIGKILLed ---------------------------------------------------

emit dynod router "before the kill" || bail "log-emit failed"
wait_for 10 logs_have "before the kill\$" || bail "the line before the kill never showed"
spawn tail2 "$DYNO" logs -a "$APP" --tail -n 5
TAIL2=$SPAWNED
wait_for 10 has_lines "$T/tail2.out" "before the kill\$" || bail "the second tail printed no history"
reconnect() {
    local old
    old=$(child_pid log-plex)
    [ -n "$old" ] || { echo "no log-plex child"; return 1; }
    kill -KILL "$old"
    wait_for 10 has_lines "$T/tail2.err" "lost the connection to log-plex" || return 1
    wait_for 20 sq restarted log-plex "$old" || return 1
    wait_for 10 has_lines "$T/tail2.err" "reconnected" || return 1
    emit app web.1 "after restart one" || return 1
    emit dynod api "after restart api" || return 1
    wait_for 10 has_lines "$T/tail2.out" "app\[web\.1\]: after restart one\$" \
        "dynod\[api\]: after restart api\$" || return 1
    alive "$TAIL2" || { echo "the tail stopped"; return 1; }
    once_each "$T/tail2.out"
}
check tail_reconnects_after_log_plex_sigkill reconnect
tail2_stop() {
    kill -INT "$TAIL2"
    wait "$TAIL2"
    local rc=$?
    [ "$rc" = 0 ] || { echo "exit status $rc after SIGINT"; return 1; }
}
check tail_after_reconnect_sigint_exits_0 tail2_stop

# ---- logs:token ------------------------------------------------------------------------------------

token_shape() {
    run dyno logs:token -a "$APP"
    expect_rc 0 || return 1
    LOG_TOKEN=$(cat "$T/run.out")
    [[ $LOG_TOKEN =~ ^[A-Za-z0-9_-]{16,}$ ]] || { echo "not a token: '$LOG_TOKEN'"; return 1; }
    [ "$(wc -l <"$T/run.out")" = 1 ] || { echo "more than one line"; return 1; }
    run dyno logs:token -a "$APP" --json
    expect_rc 0 || return 1
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["app"]==sys.argv[2] and d["token"]==sys.argv[3], d' \
        "$T/run.out" "$APP" "$LOG_TOKEN" || return 1
    run dyno logs:token -a "$OTHER"
    expect_rc 0 || return 1
    OTHER_TOKEN=$(cat "$T/run.out")
    [ -n "$OTHER_TOKEN" ] && [ "$OTHER_TOKEN" != "$LOG_TOKEN" ] || { echo "same token for two apps"; return 1; }
}
LOG_TOKEN=
OTHER_TOKEN=
check logs_token_prints_a_token token_shape

token_tail() {
    spawn tail3 "$DYNO" logs -a "$APP" --tail -n 2 --token "$LOG_TOKEN"
    local pid=$SPAWNED
    wait_for 10 has_lines "$T/tail3.out" "after restart api\$" || return 1
    kill -INT "$pid"
    wait "$pid"
}
check logs_token_opens_the_tail token_tail
token_refused() {   # token_refused TOKEN: the tail exits 1 with one line
    run timeout 10 "$DYNO" logs -a "$APP" --tail --token "$1"
    expect_rc 1 && one_stderr_line || return 1
    grep -q "refused" "$T/run.err" || { echo "stderr: $(cat "$T/run.err")"; return 1; }
}
check tail_wrong_token_refused token_refused "wrong-$LOG_TOKEN"
check tail_other_apps_token_refused token_refused "$OTHER_TOKEN"

if command -v node >/dev/null && node --experimental-websocket -e 'process.exit(typeof WebSocket === "function" ? 0 : 1)' 2>/dev/null; then
    node_ws() {     # node_ws TOKEN: node's WebSocket gets a line of $APP
        timeout 15 node --experimental-websocket -e '
const [port, app, token] = process.argv.slice(1);
const ws = new WebSocket(`ws://127.0.0.1:${port}/apps/${app}/logs?token=${encodeURIComponent(token)}&n=1`);
ws.onmessage = (e) => { process.stdout.write(String(e.data)); process.exit(0); };
ws.onerror = () => { console.error("refused"); process.exit(1); };
' "$LOGS_PORT" "$APP" "$1" 2>/dev/null
    }
    node_accepts() {
        node_ws "$LOG_TOKEN" >"$T/node.out" || { echo "node's WebSocket was refused"; return 1; }
        has_lines "$T/node.out" "after restart api\$"
    }
    check node_websocket_with_logs_token node_accepts
    node_refused() { ! node_ws "$OTHER_TOKEN" >"$T/node.out"; }
    check node_websocket_other_apps_token_refused node_refused
else
    echo "# node with WebSocket not installed: the browser-style websocket check is skipped" >&7
fi

finish
