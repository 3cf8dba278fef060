#!/usr/bin/env bash
# Daily cycling, time-scaled: with DYNOD_CYCLE_MS=3000 (and up to 1 s of
# jitter) a web dyno that has been up that long logs `Cycling`, gets
# SIGTERM, and comes back up on its own (a new process, the same formation);
# a one-off dyno is cycled too, and ends.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

EXAMPLES=$(cd "$(dirname "$0")/../../examples" && pwd) || bail "no examples folder"
export DYNOD_CYCLE_MS=3000 DYNOD_CYCLE_JITTER_MS=1000
start_up || bail "dynod up did not get ready"
mkdir -p "$T/work" && cd "$T/work" || bail "cannot enter $T/work"
dyno apps:create cycle-app >/dev/null 2>"$T/create.err" || bail "apps:create: $(cat "$T/create.err")"
dyno deploy "$EXAMPLES/shell-app" -a cycle-app >"$T/deploy.out" 2>&1 || bail "deploy: $(tail -n 1 "$T/deploy.out")"

logs() { dyno logs -a cycle-app -n 1500 2>/dev/null; }
web_up() { dyno ps -a cycle-app 2>/dev/null | grep -q '^web\.1: up'; }
check web_up_first wait_for 30 web_up
cycled() { logs | grep -q 'dynod\[web\.1\]: Cycling$'; }
check cycling_line wait_for 20 cycled
sigterm_after() { logs | grep -A3 'dynod\[web\.1\]: Cycling$' | grep -q 'dynod\[web\.1\]: Stopping all processes with SIGTERM$'; }
check cycling_sigterm sigterm_after
# Up again after the cycle: a `State changed ... to up` after the Cycling line.
up_again() { logs | sed -n '/dynod\[web\.1\]: Cycling$/,$p' | grep -q 'dynod\[web\.1\]: State changed from .* to up$'; }
check cycling_back_up wait_for 20 up_again

# One-off dynos are cycled too (as on Heroku): one that runs past the
# period gets `Cycling` and SIGTERM, and ends (143) without a restart.
dyno run -a cycle-app -- 'sleep 30; echo not-cycled' </dev/null >"$T/run.out" 2>"$T/run.err"
rc=$?
check oneoff_cycled_status test "$rc" = 143
check oneoff_cycled_output eval '! grep -q not-cycled "$T/run.out"'
run_cycle() { logs | grep -qE 'dynod\[run\.[0-9]+\]: Cycling$'; }
check oneoff_cycling_line wait_for 10 run_cycle

finish
