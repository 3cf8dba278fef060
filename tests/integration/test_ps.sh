#!/usr/bin/env bash
# Formation and scaling against a real `dynod up`: a deployed app gets the
# default formation (web=1), ps:scale in Heroku's grammar (web=3 worker+1,
# sizes, the no-argument form fed back in), ps lists the dynos its
# supervisor runs (grouped, states reaching `up`), ps:restart gives new
# incarnations, ps:stop brings a formation dyno back, ps:type and features,
# the API log lines; bad input (grammar, unknown type, size, app, more than
# 100 dynos, a dyno that is not there) refused with one line and nothing
# changed. The dynos are real processes run by the dyno-supervisor.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

EXAMPLES=$(cd "$(dirname "$0")/../../examples" && pwd) || bail "no examples folder"
export DYNOD_BOOT_TIMEOUT_MS=20000
start_up || bail "dynod up did not get ready"
mkdir -p "$T/work" && cd "$T/work" || bail "cannot enter $T/work"
dyno apps:create ps-app >/dev/null 2>"$T/create.err" || bail "apps:create: $(cat "$T/create.err")"
dyno deploy "$EXAMPLES/shell-app" -a ps-app >"$T/deploy.out" 2>&1 || bail "deploy: $(tail -n 1 "$T/deploy.out")"

jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

ps_json() { dyno ps -a ps-app --json >"$T/ps.json" 2>"$T/ps.err"; }
# count_state TYPE STATE: how many dynos of TYPE are in STATE
count_state() {
    ps_json || { echo -1; return; }
    jget "$T/ps.json" "len([x for x in d['dynos'] if x['type'] == '$1' and x['state'] == '$2'])"
}
n_up() { [ "$(count_state "$1" up)" = "$2" ]; }
ids() { ps_json && jget "$T/ps.json" "' '.join(sorted(x['id'] for x in d['dynos'] if x['type'] == '$1'))"; }

# ---- the default formation -----------------------------------------------------
formation_is() { [ "$(dyno ps:scale -a ps-app)" = "$1" ]; }
check default_formation formation_is "web=1:Standard-1X worker=0:Standard-1X"
check default_web_up wait_for 30 n_up web 1

# ---- scaling ------------------------------------------------------------------
dyno ps:scale web=3 worker+1 -a ps-app >"$T/scale.out" 2>"$T/scale.err"
check scale_output grep -qx 'Scaling dynos... done, now running web at 3:Standard-1X, worker at 1:Standard-1X' "$T/scale.out"
check scale_web_up wait_for 30 n_up web 3
check scale_worker_up wait_for 30 n_up worker 1
dyno ps -a ps-app >"$T/ps.txt" 2>&1
check ps_header grep -qx '=== web (Standard-1X): ./web.sh (3)' "$T/ps.txt"
check ps_line grep -qE '^web\.2: up [0-9]{4}/[0-9]{2}/[0-9]{2} [0-9:]{8} \+0000 \(~ [0-9a-z]+ ago\)' "$T/ps.txt"
roundtrip() {     # the no-argument output fed back in changes nothing
    local f
    f=$(dyno ps:scale -a ps-app) && [ "$f" = "web=3:Standard-1X worker=1:Standard-1X" ] || return 1
    # shellcheck disable=SC2086
    dyno ps:scale $f -a ps-app >/dev/null && formation_is "$f"
}
check scale_roundtrip roundtrip
logged() { dyno logs -a ps-app | grep -q "$1"; }
check scale_log wait_for 10 logged "Scale to web=3, worker=1 by"

dyno ps:scale web-2 -a ps-app >/dev/null 2>&1
n_of() { ps_json && [ "$(jget "$T/ps.json" "len([x for x in d['dynos'] if x['type'] == '$1'])")" = "$2" ]; }
check scale_down wait_for 30 n_of web 1

# ---- restart and stop ---------------------------------------------------------
before=$(ids web)
dyno ps:restart web -a ps-app >"$T/restart.out" 2>&1
check restart_output grep -qx 'Restarting web dynos on ⬢ ps-app... done' "$T/restart.out"
replaced() { n_of "$1" 1 && n_up "$1" 1 && [ "$(ids "$1")" != "$2" ]; }
check restart_new_ids wait_for 30 replaced web "$before"
before=$(ids worker)
dyno ps:stop worker.1 -a ps-app >"$T/stop.out" 2>&1
check stop_output grep -qx 'Stopping worker.1 dyno on ⬢ ps-app... done' "$T/stop.out"
check stop_comes_back wait_for 30 replaced worker "$before"
check restart_log wait_for 10 logged "Restart web by"
check stop_log wait_for 10 logged "Stop worker.1 by"

# ---- sizes and features -------------------------------------------------------
check ps_type dyno ps:type worker=standard-2x -a ps-app
type_shown() { dyno ps:type -a ps-app | grep -qE "^worker +Standard-2X +1$"; }
check ps_type_shown type_shown
check features_enable dyno features:enable preboot -a ps-app
feature_on() { dyno features -a ps-app | grep -q "^\[+\] preboot"; }
check features_list feature_on
check healthcheck_set dyno healthcheck:set /health -a ps-app

# ---- bad input: one line, nothing changed -------------------------------------
refused() {     # refused NAME CODE ARGS...: exit CODE, one line on stderr, formation unchanged
    local name=$1 code=$2 before rc
    shift 2
    before=$(dyno ps:scale -a ps-app)
    dyno "$@" >/dev/null 2>"$T/bad.err"
    rc=$?
    if [ "$rc" != "$code" ]; then fail "$name" "exit $rc, not $code"; return; fi
    if [ "$(wc -l <"$T/bad.err")" != 1 ]; then fail "$name" "stderr: $(cat "$T/bad.err")"; return; fi
    if [ "$(dyno ps:scale -a ps-app)" != "$before" ]; then fail "$name" "formation changed"; return; fi
    pass "$name"
}
refused bad_grammar 2 ps:scale web==3 -a ps-app
refused bad_grammar_mixed 2 ps:scale web=2 worker -a ps-app
refused bad_type 1 ps:scale clock=1 -a ps-app
refused bad_size 1 ps:scale web=1:huge -a ps-app
refused bad_total 1 ps:scale web=60 worker=41 -a ps-app
refused bad_quantity 2 ps:scale web=101 -a ps-app
refused bad_below_zero 1 ps:scale worker-5 -a ps-app
refused bad_dyno 1 ps:stop web.9 -a ps-app
refused bad_restart 1 ps:restart nope -a ps-app
refused bad_feature 1 features:enable spaces -a ps-app
refused bad_healthcheck 2 healthcheck:set health -a ps-app
refused bad_app 1 ps:scale web=1 -a no-such-app
no_app() { ! dyno ps -a no-such-app 2>/dev/null; }
check unknown_app_ps no_app

finish
