#!/usr/bin/env bash
# One-off dynos against a real `dynod up`: `dyno run` attached (stdout and
# stderr relayed, the remote exit status, stdin relayed byte for byte and
# closed, a Procfile type substituted, -e variables), `dyno run:detached`
# (its output in the app's logs under run.N), a missing command (127), and bad input: no command,
# an unknown size or app, each one line.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

EXAMPLES=$(cd "$(dirname "$0")/../../examples" && pwd) || bail "no examples folder"
start_up || bail "dynod up did not get ready"
mkdir -p "$T/work" && cd "$T/work" || bail "cannot enter $T/work"
dyno apps:create run-app >/dev/null 2>"$T/create.err" || bail "apps:create: $(cat "$T/create.err")"
dyno deploy "$EXAMPLES/shell-app" -a run-app >"$T/deploy.out" 2>&1 || bail "deploy: $(tail -n 1 "$T/deploy.out")"

# ---- attached ------------------------------------------------------------------
# The command is a bash script, as on Heroku: compound commands work.
dyno run -a run-app -- 'echo out; echo err >&2; exit 3' </dev/null >"$T/run.out" 2>"$T/run.err"
rc=$?
check run_status test "$rc" = 3
check run_stdout grep -qx out "$T/run.out"
check run_stderr grep -qx err "$T/run.err"
check run_banner grep -qE "^Running echo out; echo err >&2; exit 3 on ⬢ run-app\.\.\. up, run\.[0-9]{4}$" "$T/run.err"

# A command that does not exist: bash's 127 and its message come back.
dyno run -a run-app -- no-such-command-here </dev/null >/dev/null 2>"$T/missing.err"
rc=$?
check run_missing_status test "$rc" = 127
check run_missing_message grep -q 'no-such-command-here: command not found' "$T/missing.err"

# stdin: binary bytes through, then end of input.
head -c 100000 /dev/urandom >"$T/blob"
dyno run -a run-app -- cat <"$T/blob" >"$T/blob.out" 2>"$T/blob.err"
check run_stdin_binary cmp "$T/blob" "$T/blob.out"
printf 'a\nb\nc\n' | dyno run -a run-app -- wc -l >"$T/wc.out" 2>/dev/null
check run_stdin_eof grep -qx '3' "$T/wc.out"

dyno run -a run-app -e GREETING=hello -- 'echo $GREETING $DYNO' </dev/null >"$T/env.out" 2>/dev/null
check run_env grep -qE '^hello run\.[0-9]{4}$' "$T/env.out"

# ---- detached ------------------------------------------------------------------
dyno run:detached -a run-app -- 'echo detached-output' >"$T/det.out" 2>"$T/det.err"
check detached_banner grep -qE '^Running echo detached-output on ⬢ run-app\.\.\. done, run\.[0-9]{4} \(Standard-1X\)$' "$T/det.out"
dyno_name=$(grep -oE 'run\.[0-9]{4}' "$T/det.out" | head -n 1)
check detached_hint grep -qx "Run dyno logs --app run-app --dyno $dyno_name to view the output." "$T/det.out"
in_logs() { dyno logs -a run-app | grep -q "app\[$dyno_name\]: detached-output"; }
check detached_logs wait_for 20 in_logs
api_line() { dyno logs -a run-app | grep -q 'Starting process with command `echo detached-output` by'; }
check detached_api_line wait_for 10 api_line

# ---- bad input -----------------------------------------------------------------
one_line() {    # one_line CODE ARGS...
    local code=$1 rc
    shift
    dyno "$@" </dev/null >/dev/null 2>"$T/bad.err"
    rc=$?
    [ "$rc" = "$code" ] || { echo "exit $rc, not $code"; return 1; }
    [ "$(wc -l <"$T/bad.err")" = 1 ] || { echo "stderr: $(cat "$T/bad.err")"; return 1; }
}
check bad_no_command one_line 2 run -a run-app
check bad_size one_line 1 run -a run-app --size huge -- true
check bad_app one_line 1 run -a no-such-app -- true
check bad_env one_line 2 run -a run-app -e NOEQUALS -- true

finish
