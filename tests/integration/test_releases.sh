#!/usr/bin/env bash
# Releases against a real `dynod up`: config:set making releases v1, v2, v3
# (numbered without gaps), `dyno releases` (order, format, -n),
# releases:info (vN or N, bad arguments refused as usage errors, missing
# releases refused), rollback by default and to vK (its output, the new
# release, and config-keeper making the old config vars current again),
# rollback to a missing release refused with nothing changed, unknown
# apps, --json and --help of each command, `dyno logs` showing the API
# lines in Logplex's format (-n, bad -n), the scheduler recording the
# newest release, and the history surviving a SIGKILL of release-keeper and
# of the scheduler (numbering goes on without a gap).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

start_up || bail "dynod up did not get ready"
mkdir -p "$T/top" && cd "$T/top" || bail "cannot enter $T/top"
export DYNOD_USER=tester
APP=rel-app
TIME_RE='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z'
LOG_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}\+00:00 dynod\[api\]: '

dyno apps:create "$APP" >/dev/null || bail "apps:create failed"

out_has() {     # out_has LINE...: each LINE is a whole line of $T/run.out
    local l
    for l in "$@"; do
        grep -qxF -- "$l" "$T/run.out" || { echo "no line '$l' in: $(tr '\n' '|' <"$T/run.out")"; return 1; }
    done
}

err_is() {      # err_is TEXT: stderr is the one line TEXT
    one_stderr_line || return 1
    grep -qxF -- "$1" "$T/run.err" || { echo "stderr: $(cat "$T/run.err")"; return 1; }
}

release_count() {   # release_count N: `dyno releases --json -n 1000` lists N releases
    local n
    n=$(dyno releases --json -n 1000 | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["releases"]))') ||
        return 1
    [ "$n" = "$1" ] || { echo "$n releases, wanted $1"; return 1; }
}

config_is() {   # config_is JSON: `dyno config --json` vars equal JSON
    dyno config --json >"$T/config.json" 2>"$T/config.err" || { cat "$T/config.err"; return 1; }
    python3 - "$T/config.json" "$1" <<'PY'
import json, sys
got = json.load(open(sys.argv[1]))
want = json.loads(sys.argv[2])
if got != want:
    sys.exit("config vars %s, wanted %s" % (got, want))
PY
}

# ---- before any release ------------------------------------------------------

no_releases() {
    run dyno releases
    expect_rc 0 && out_has "=== $APP Releases" "$APP has no releases yet."
}
check releases_none_yet no_releases

info_none() {
    run dyno releases:info
    expect_rc 1 && err_is "dyno releases:info: app '$APP' has no releases yet"
}
check releases_info_none_yet info_none

rollback_none() {
    run dyno rollback
    expect_rc 1 && err_is "dyno rollback: app '$APP' has no releases yet"
}
check rollback_none_yet rollback_none

# ---- config releases -----------------------------------------------------------

set_var() {     # set_var KEY=VALUE VERSION: config:set makes release vVERSION
    run dyno config:set "$1"
    expect_rc 0 || return 1
    grep -q "done, v$2\$" "$T/run.out" || { echo "stdout: $(tr '\n' '|' <"$T/run.out")"; return 1; }
}
check config_set_makes_v1 set_var FOO=one 1
check config_set_makes_v2 set_var BAR=two 2
check config_set_makes_v3 set_var FOO=three 3

list_format() {
    run dyno releases
    expect_rc 0 || return 1
    python3 - "$T/run.out" "$TIME_RE" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
want_head = "=== rel-app Releases - Current: v3"
if lines[0] != want_head:
    sys.exit("header %r, wanted %r" % (lines[0], want_head))
want = [("v3", "Set FOO config vars"), ("v2", "Set BAR config vars"), ("v1", "Set FOO config vars")]
rows = lines[1:]
if len(rows) != 3:
    sys.exit("%d rows: %r" % (len(rows), rows))
for row, (v, change) in zip(rows, want):
    if not re.fullmatch(r"%s  %s  tester  %s" % (v, re.escape(change), sys.argv[2]), row):
        sys.exit("row %r, wanted %s  %s  tester  <time>" % (row, v, change))
PY
}
check releases_newest_first_heroku_format list_format

list_num() {
    run dyno releases -n 2
    expect_rc 0 || return 1
    [ "$(grep -c '^v' "$T/run.out")" = 2 ] || { echo "rows: $(tr '\n' '|' <"$T/run.out")"; return 1; }
    grep -q '^v3 ' "$T/run.out" && grep -q '^v2 ' "$T/run.out"
}
check releases_num_limits_rows list_num

bad_num() {
    run dyno releases -n "$1"
    expect_rc 2 && one_stderr_line
}
check releases_num_zero_is_usage bad_num 0
check releases_num_word_is_usage bad_num x

info_v2() {     # info_v2 ARG: releases:info ARG shows v2
    run dyno releases:info "$1"
    expect_rc 0 || return 1
    out_has "=== Release v2" "Change:        Set BAR config vars" "By:            tester" \
        "Config:        version 2" "Slug:          none (nothing deployed yet)" "Process types: none" || return 1
    grep -Eqx "When:          $TIME_RE" "$T/run.out" || { echo "no When line"; return 1; }
}
check releases_info_v2 info_v2 v2
check releases_info_plain_number info_v2 2

info_current() {
    run dyno releases:info
    expect_rc 0 && out_has "=== Release v3" "Change:        Set FOO config vars"
}
check releases_info_default_current info_current

info_bad() {    # info_bad ARG...: a usage error with one line
    run dyno releases:info "$@"
    expect_rc 2 && one_stderr_line
}
check releases_info_vx_is_usage info_bad vx
check releases_info_zero_is_usage info_bad 0
check releases_info_v0_is_usage info_bad v0
check releases_info_negative_is_usage info_bad -- -1
check releases_info_two_args_is_usage info_bad v1 v2

info_missing() {
    run dyno releases:info v9
    expect_rc 1 && err_is "dyno releases:info: release v9 of app '$APP' does not exist"
}
check releases_info_missing_refused info_missing

# ---- rollback -----------------------------------------------------------------

rollback_default() {
    run dyno rollback
    expect_rc 0 || return 1
    out_has "Rolling back $APP to v2... done, v4" \
        "Rollback affects code and config vars; it doesn't add or remove addons." \
        "To undo, run: dyno rollback v3"
}
check rollback_default_to_previous rollback_default
check rollback_default_restores_config wait_for 10 config_is '{"FOO": "one", "BAR": "two"}'

rollback_v1() {
    run dyno rollback v1
    expect_rc 0 && out_has "Rolling back $APP to v1... done, v5" "To undo, run: dyno rollback v4"
}
check rollback_to_v1 rollback_v1
check rollback_v1_restores_config wait_for 10 config_is '{"FOO": "one"}'

info_rollback() {
    run dyno releases:info v5
    # config-keeper made v1's vars current again as config version 5.
    expect_rc 0 && out_has "Change:        Rollback to v1" "Config:        version 5"
}
check rollback_release_info info_rollback

rollback_missing() {
    run dyno rollback v9
    expect_rc 1 && err_is "dyno rollback: release v9 of app '$APP' does not exist" || return 1
    release_count 5 && config_is '{"FOO": "one"}'
}
check rollback_missing_refused_nothing_changed rollback_missing

rollback_bad_arg() {
    run dyno rollback vx
    expect_rc 2 && one_stderr_line && release_count 5
}
check rollback_bad_arg_is_usage rollback_bad_arg

rollback_json() {
    run dyno rollback 3 --json
    expect_rc 0 || return 1
    python3 - "$T/run.out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
want = {"app": "rel-app", "version": 6, "description": "Rollback to v3", "by": "tester",
        "config_version": 6, "current": True, "kind": "rollback", "rollback_to": 3}
bad = {k: d.get(k) for k in want if d.get(k) != want[k]}
if bad:
    sys.exit("fields %s, wanted %s" % (bad, want))
PY
}
check rollback_json rollback_json
check rollback_v3_restores_config wait_for 10 config_is '{"FOO": "three", "BAR": "two"}'

config_after_rollback() {   # a config change after rollbacks goes on from v6
    set_var BAZ=four 7 || return 1
    config_is '{"FOO": "three", "BAR": "two", "BAZ": "four"}'
}
check config_set_after_rollback_is_v7 config_after_rollback

# ---- unknown apps ------------------------------------------------------------------

unknown() {     # unknown CMD...: refused with one line naming the app
    run dyno "$@" -a nope
    expect_rc 1 && err_is "dyno $1: app 'nope' does not exist"
}
check releases_unknown_app unknown releases
check releases_info_unknown_app unknown releases:info
check rollback_unknown_app unknown rollback

# ---- --json and --help -------------------------------------------------------------

list_json() {
    run dyno releases --json
    expect_rc 0 || return 1
    python3 - "$T/run.out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
vs = [r["version"] for r in d["releases"]]
if d["app"] != "rel-app" or vs != [7, 6, 5, 4, 3, 2, 1]:
    sys.exit("app %s versions %s" % (d["app"], vs))
cur = [r["current"] for r in d["releases"]]
if cur != [True] + [False] * 6:
    sys.exit("current flags %s" % cur)
PY
}
check releases_json list_json

info_json() {
    run dyno releases:info v2 --json
    expect_rc 0 || return 1
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not (d["version"] == 2 and d["description"] == "Set BAR config vars" and d["current"] is False))' "$T/run.out" ||
        { echo "json: $(cat "$T/run.out")"; return 1; }
}
check releases_info_json info_json

help_of() {     # help_of CMD: --help prints its usage on stdout, exit 0
    run dyno "$1" --help
    expect_rc 0 && grep -q "^usage: dyno $1 " "$T/run.out"
}
check releases_help help_of releases
check releases_info_help help_of releases:info
check rollback_help help_of rollback
check logs_help help_of logs

# ---- logs ------------------------------------------------------------------------

logs_api() {
    run dyno logs
    expect_rc 0 || return 1
    python3 - "$T/run.out" "$LOG_RE" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
for l in lines:
    if not re.match(sys.argv[2], l):
        sys.exit("not in Logplex format: %r" % l)
texts = [re.sub(sys.argv[2], "", l) for l in lines]
want = ["Create app by tester", "Set FOO config vars by tester", "Release v1 created by tester",
        "Release v2 created by tester", "Release v3 created by tester",
        "Rollback to v2 by tester", "Rollback to v1 by tester", "Rollback to v3 by tester",
        "Release v4 created by tester", "Release v6 created by tester",
        "Set BAZ config vars by tester", "Release v7 created by tester"]
missing = [w for w in want if w not in texts]
if missing:
    sys.exit("missing %s in %s" % (missing, texts))
# Oldest first.
if texts.index("Release v1 created by tester") > texts.index("Rollback to v1 by tester"):
    sys.exit("not oldest first: %s" % texts)
PY
}
check logs_show_api_lines wait_for 10 logs_api

logs_num() {
    run dyno logs -n 2
    expect_rc 0 || return 1
    [ "$(wc -l <"$T/run.out")" = 2 ] || { echo "$(wc -l <"$T/run.out") lines"; return 1; }
    tail -n 1 "$T/run.out" | grep -q 'dynod\[api\]: Release v7 created by tester$'
}
check logs_num_newest logs_num

logs_bad_num() {
    run dyno logs -n "$1"
    expect_rc 2 && one_stderr_line
}
check logs_num_zero_is_usage logs_bad_num 0
check logs_num_over_1500_is_usage logs_bad_num 1501
check logs_num_word_is_usage logs_bad_num ten

logs_json() {
    run dyno logs --json -n 3
    expect_rc 0 || return 1
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not (d["app"] == "rel-app" and len(d["lines"]) == 3))' "$T/run.out" ||
        { echo "json: $(cat "$T/run.out")"; return 1; }
}
check logs_json logs_json

logs_other_app() {  # an app that does not exist: one line, exit 1
    run dyno logs -a quiet-app
    expect_rc 1 && one_stderr_line && grep -q "app 'quiet-app' does not exist" "$T/run.err"
}
check logs_unknown_app_refused logs_other_app

# ---- the scheduler ---------------------------------------------------------------

scheduler_has() {   # scheduler_has VERSION: the scheduler recorded rel-app at VERSION
    status_json "$T/st.json" || return 1
    python3 - "$T/st.json" "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
rows = [a for a in d["actors"] if a["name"] == "scheduler"]
if len(rows) != 1:
    sys.exit("%d scheduler rows" % len(rows))
det = rows[0].get("detail", {})
if det.get("apps") != 1 or det.get("versions", {}).get("rel-app") != int(sys.argv[2]):
    sys.exit("scheduler detail %s" % det)
PY
}
check scheduler_records_release wait_for 10 scheduler_has 7

# ---- durability: SIGKILL release-keeper, then the scheduler ----------------------------

dyno releases --json -n 1000 >"$T/before.json" || bail "dyno releases failed before the restart"
rk=$(sq pid release-keeper) || bail "no release-keeper pid in dyno status"
kill -KILL "$rk"
check release_keeper_restarted wait_for 20 sq restarted release-keeper "$rk"

same_releases() {
    dyno releases --json -n 1000 >"$T/after.json" || return 1
    cmp -s "$T/before.json" "$T/after.json" ||
        { echo "before: $(tr -d ' \n' <"$T/before.json" | head -c 300) after: $(tr -d ' \n' <"$T/after.json" | head -c 300)"; return 1; }
}
check releases_survive_sigkill_exactly wait_for 10 same_releases
check numbering_goes_on_after_restart set_var QUX=five 8
check rollback_after_restart wait_for 10 sh -c "$DYNO rollback -a $APP v7 | grep -qx 'Rolling back $APP to v7... done, v9'"
check config_after_restart_rollback wait_for 10 config_is '{"FOO": "three", "BAR": "two", "BAZ": "four"}'

sk=$(sq pid scheduler) || bail "no scheduler pid in dyno status"
kill -KILL "$sk"
check scheduler_restarted wait_for 20 sq restarted scheduler "$sk"
check scheduler_keeps_release_after_sigkill wait_for 10 scheduler_has 9

finish
