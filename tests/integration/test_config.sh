#!/usr/bin/env bash
# Config vars against a real `dynod up`: config:set of several vars makes
# one config version and one release (answered by release-keeper's
# release.info), config / config:get / --shell / --json with awkward values
# (spaces, quotes, newlines, UTF-8, a byte that is not UTF-8), an `eval` of
# --shell giving back the exact bytes, config:unset (also of a name that is
# not set), bad names and oversized config refused with one line and
# nothing changed, unknown apps, app resolution, a rollback making an old
# config current again, the config surviving a SIGKILL of config-keeper,
# and --help for each command.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

start_up || bail "dynod up did not get ready"
mkdir -p "$T/top" && cd "$T/top" || bail "cannot enter $T/top"
APP=cfg-app
dyno apps:create "$APP" >/dev/null || bail "apps:create failed"

releases_are() {    # releases_are N: the app has N releases
    local n
    n=$(dyno apps:info -a "$APP" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["releases"])') ||
        return 1
    [ "$n" = "$1" ] || { echo "$n releases, wanted $1"; return 1; }
}

stdout_is() {       # stdout_is TEXT: after `run`, stdout is exactly TEXT (plus a newline)
    printf '%s\n' "$1" >"$T/want.out"
    cmp -s "$T/want.out" "$T/run.out" && return 0
    echo "stdout: $(head -c 300 "$T/run.out" | tr '\n' '|') wanted: $(tr '\n' '|' <"$T/want.out")"
    return 1
}

stderr_has() {      # stderr_has TEXT: after `run`, stderr holds TEXT
    grep -qF -- "$1" "$T/run.err" && return 0
    echo "stderr: $(head -c 300 "$T/run.err")"
    return 1
}

# ---- empty, then set --------------------------------------------------------------

empty_config() {
    run dyno config -a "$APP"
    expect_rc 0 && stdout_is "=== $APP Config Vars" || return 1
    run dyno config -a "$APP" --json
    expect_rc 0 && stdout_is "{}"
}
check empty_config_version_0 empty_config

set_one() {
    run dyno config:set FOO=bar -a "$APP"
    expect_rc 0 || return 1
    stdout_is "Setting FOO and restarting $APP... done, v1
FOO: bar" && releases_are 1
}
check set_one_var_makes_v1 set_one

set_many() {
    run dyno config:set A=1 LONGER_KEY=two B= -a "$APP"
    expect_rc 0 || return 1
    stdout_is "Setting A, LONGER_KEY, B and restarting $APP... done, v2
A:          1
LONGER_KEY: two
B:          " && releases_are 2 || return 1
    dyno releases -a "$APP" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
rels = d["releases"] if isinstance(d, dict) else d
top = rels[0]
if top["description"] != "Set A, LONGER_KEY, B config vars" or top["config_version"] != 2:
    sys.exit("newest release: %s" % top)'
}
check set_several_vars_one_release set_many

human_output() {    # keys sorted, values aligned after the longest key
    run dyno config -a "$APP"
    expect_rc 0 || return 1
    stdout_is "=== $APP Config Vars
A:          1
B:          
FOO:        bar
LONGER_KEY: two"
}
check config_human_sorted_aligned human_output

get_value() {
    run dyno config:get LONGER_KEY -a "$APP"
    expect_rc 0 && stdout_is "two" || return 1
    run dyno config:get B -a "$APP"
    expect_rc 0 && stdout_is ""
}
check config_get_prints_bare_value get_value

get_unset() {       # like Heroku: nothing printed, exit 0; --json: null
    run dyno config:get NOT_SET -a "$APP"
    expect_rc 0 || return 1
    [ ! -s "$T/run.out" ] || { echo "stdout: $(cat "$T/run.out")"; return 1; }
    run dyno config:get NOT_SET -a "$APP" --json
    expect_rc 0 && stdout_is "null" || return 1
    run dyno config:get FOO -a "$APP" --json
    expect_rc 0 && stdout_is '"bar"'
}
check config_get_unset_is_empty get_unset

# ---- awkward values ------------------------------------------------------------------

V_SPACES='  two  spaces  '
V_QUOTES=$'it\'s "quoted" \'\' $HOME `x` \\n'
V_NL=$'line one\nline two\n'
V_UTF8='héllo ✓ 日本'
V_BIN=$'a\xff\xfeb\x01\x7f'
awkward_set() {
    run dyno config:set "SPACES=$V_SPACES" "QUOTES=$V_QUOTES" "NL=$V_NL" "UTF8=$V_UTF8" \
        "BIN=$V_BIN" "EQ=a=b=c" -a "$APP"
    expect_rc 0 && releases_are 3
}
check set_awkward_values awkward_set

same_bytes() {      # same_bytes NAME WANT FILE: FILE holds exactly WANT
    printf '%s' "$2" >"$T/want.bytes"
    cmp -s "$T/want.bytes" "$3" && return 0
    echo "$1: got $(od -c "$3" | head -n 3 | tr '\n' ' ') wanted $(od -c "$T/want.bytes" | head -n 3 | tr '\n' ' ')"
    return 1
}

get_exact() {       # config:get prints each value's bytes and one newline
    local k v
    for k in SPACES QUOTES NL UTF8 BIN EQ; do
        case $k in
            SPACES) v=$V_SPACES ;; QUOTES) v=$V_QUOTES ;; NL) v=$V_NL ;;
            UTF8) v=$V_UTF8 ;; BIN) v=$V_BIN ;; EQ) v=a=b=c ;;
        esac
        dyno config:get "$k" -a "$APP" >"$T/get.bytes" || return 1
        same_bytes "$k" "$v"$'\n' "$T/get.bytes" || return 1
    done
}
check config_get_exact_bytes get_exact

shell_round_trip() {    # eval of --shell gives back every value exactly
    dyno config --shell -a "$APP" >"$T/shell.txt" || return 1
    (
        unset SPACES QUOTES NL UTF8 BIN EQ FOO
        eval "$(cat "$T/shell.txt")" || exit 1
        same_bytes SPACES "$V_SPACES" <(printf '%s' "$SPACES") &&
            same_bytes QUOTES "$V_QUOTES" <(printf '%s' "$QUOTES") &&
            same_bytes NL "$V_NL" <(printf '%s' "$NL") &&
            same_bytes UTF8 "$V_UTF8" <(printf '%s' "$UTF8") &&
            same_bytes BIN "$V_BIN" <(printf '%s' "$BIN") &&
            same_bytes EQ "a=b=c" <(printf '%s' "$EQ") &&
            same_bytes FOO "bar" <(printf '%s' "$FOO")
    )
}
check shell_eval_round_trip shell_round_trip

shell_get() {
    dyno config:get QUOTES --shell -a "$APP" >"$T/get.sh" || return 1
    ( unset QUOTES; eval "$(cat "$T/get.sh")" && same_bytes QUOTES "$V_QUOTES" <(printf '%s' "$QUOTES") )
}
check config_get_shell_round_trip shell_get

json_forms() {
    run dyno config -a "$APP" --json
    expect_rc 0 || return 1
    python3 - "$T/run.out" "$V_UTF8" "$V_NL" <<'PY' || return 1
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
want = {"FOO": "bar", "A": "1", "B": "", "UTF8": sys.argv[2], "NL": sys.argv[3], "EQ": "a=b=c"}
for k, v in want.items():
    if d.get(k) != v:
        sys.exit("%s: %r, wanted %r" % (k, d.get(k), v))
# Bytes that are not UTF-8 show as U+FFFD, the rest as they are.
if d["BIN"] != "a\ufffd\ufffdb\x01\x7f":
    sys.exit("BIN: %r" % d["BIN"])
PY
    run dyno config:get UTF8 -a "$APP" --json
    expect_rc 0 && python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1])) != sys.argv[2])' \
        "$T/run.out" "$V_UTF8"
}
check json_output_forms json_forms

# ---- unset -------------------------------------------------------------------------

unset_two() {
    run dyno config:unset A LONGER_KEY -a "$APP"
    expect_rc 0 && stdout_is "Unsetting A, LONGER_KEY and restarting $APP... done, v4" || return 1
    run dyno config:get A -a "$APP"
    expect_rc 0 && [ ! -s "$T/run.out" ] || { echo "A still set: $(cat "$T/run.out")"; return 1; }
    releases_are 4
}
check unset_two_vars_one_release unset_two

unset_absent() {    # like Heroku: not an error, still a release
    run dyno config:unset NEVER_SET -a "$APP"
    expect_rc 0 && stdout_is "Unsetting NEVER_SET and restarting $APP... done, v5" && releases_are 5
}
check unset_absent_var_still_releases unset_absent

unset_json() {
    run dyno config:unset B -a "$APP" --json
    expect_rc 0 || return 1
    python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
if d["version"] != 6 or d["description"] != "Remove B config vars" or d["config_version"] != 6:
    sys.exit("release.info: %s" % d)' "$T/run.out"
}
check unset_json_prints_release unset_json

# ---- refusals: nothing changes ---------------------------------------------------------

dyno config -a "$APP" --json >"$T/before.json" || bail "dyno config failed"
unchanged() {
    dyno config -a "$APP" --json >"$T/now.json" || return 1
    cmp -s "$T/before.json" "$T/now.json" || { echo "config changed: $(tr -d ' \n' <"$T/now.json")"; return 1; }
    releases_are 6
}

bad_key() {     # bad_key KEY RULE: refused with one line naming KEY and RULE
    run dyno config:set GOOD=1 "$1=x" -a "$APP"
    expect_rc 1 && one_stderr_line || return 1
    stderr_has "dyno config:set: '$1' is not a valid config var name: $2" || return 1
    run dyno config:unset "$1" -a "$APP"
    expect_rc 1 && one_stderr_line && stderr_has "'$1' is not a valid config var name: $2" &&
        unchanged
}
check bad_key_leading_digit bad_key 1ABC "it must start with a letter or '_'"
check bad_key_dash bad_key A-B "only letters, digits and '_' are allowed"
check bad_key_double_underscore bad_key __X "names starting with '__' are reserved"
check bad_key_dynod_prefix bad_key DYNOD_X "names starting with 'DYNOD_' are reserved for dynod"
check bad_key_empty bad_key "" "it is empty"

no_equals() {
    run dyno config:set GOOD=1 NOEQUALS -a "$APP"
    expect_rc 2 && one_stderr_line && stderr_has "'NOEQUALS' is not KEY=VALUE" && unchanged
}
check set_argument_without_equals_is_usage no_equals

no_args() {
    run dyno config:set -a "$APP"
    expect_rc 2 && one_stderr_line || return 1
    run dyno config:unset -a "$APP"
    expect_rc 2 && one_stderr_line || return 1
    run dyno config:get -a "$APP"
    expect_rc 2 && one_stderr_line
}
check commands_without_arguments_are_usage no_args

oversized() {
    local big
    big=$(head -c 70000 /dev/zero | tr '\0' x)
    run dyno config:set "BIG=$big" -a "$APP"
    expect_rc 1 && one_stderr_line || return 1
    stderr_has "over the limit of 65536 (keys + values)" && unchanged
}
check oversized_config_refused oversized

lowercase_ok() {    # only the pattern matters: lowercase names are valid
    run dyno config:set lower_case=yes -a "$APP"
    expect_rc 0 && stdout_is "Setting lower_case and restarting $APP... done, v7
lower_case: yes"
}
check lowercase_key_accepted lowercase_ok

unknown() {     # unknown CMD...: exit 1, one line saying the app does not exist
    run dyno "$@"
    expect_rc 1 && one_stderr_line && stderr_has "app 'no-such-app' does not exist"
}
check config_unknown_app unknown config -a no-such-app
check config_get_unknown_app unknown config:get FOO -a no-such-app
check config_set_unknown_app unknown config:set FOO=1 -a no-such-app
check config_unset_unknown_app unknown config:unset FOO -a no-such-app

no_app() {
    run dyno config
    expect_rc 2 && one_stderr_line && stderr_has "no app: pass -a APP"
}
mkdir -p "$T/elsewhere"
in_dir() {      # in_dir DIR CMD...: runs CMD with DIR as the working directory
    local dir=$1
    shift
    (cd "$dir" && "$@")
}
check no_app_resolved_exit_2 in_dir "$T/elsewhere" no_app

resolve() {     # DYNOD_APP, and the directory apps:create recorded
    DYNOD_APP=$APP dyno config:get FOO >"$T/env.out" || return 1
    same_bytes DYNOD_APP $'bar\n' "$T/env.out" || return 1
    dyno config:get FOO >"$T/dir.out" || return 1
    same_bytes recorded_dir $'bar\n' "$T/dir.out"
}
check app_from_env_and_directory resolve

# ---- rollback: an old config is current again ------------------------------------------

only_foo() {
    run dyno config -a "$APP" --json
    expect_rc 0 && stdout_is '{
  "FOO": "bar"
}'
}
rollback_config() {
    dyno rollback v1 -a "$APP" >/dev/null || return 1
    # config.rollback reaches config-keeper as a durable follow-on.
    wait_for 10 only_foo || return 1
    # The next change builds on the rolled-back config.
    run dyno config:set AFTER=1 -a "$APP"
    expect_rc 0 && stdout_is "Setting AFTER and restarting $APP... done, v9
AFTER: 1" || return 1
    run dyno config -a "$APP"
    stdout_is "=== $APP Config Vars
AFTER: 1
FOO:   bar"
}
check rollback_restores_old_config rollback_config

# ---- durability: SIGKILL config-keeper -------------------------------------------------

dyno config:set "BIN=$V_BIN" "NL=$V_NL" -a "$APP" >/dev/null || bail "config:set before the kill failed"
dyno config --shell -a "$APP" >"$T/before.sh" || bail "dyno config failed before the kill"
ck=$(sq pid config-keeper) || bail "no config-keeper pid in dyno status"
kill -KILL "$ck"
check config_keeper_restarted wait_for 20 sq restarted config-keeper "$ck"

same_config() {
    dyno config --shell -a "$APP" >"$T/after.sh" || return 1
    cmp -s "$T/before.sh" "$T/after.sh" || { echo "after: $(od -c "$T/after.sh" | head -n 4 | tr '\n' ' ')"; return 1; }
}
check config_survives_sigkill_exactly wait_for 10 same_config

after_restart() {   # versions go on where they were: v11 is the next release
    run dyno config:set NEXT=1 -a "$APP"
    expect_rc 0 && head -n 1 "$T/run.out" | grep -qx "Setting NEXT and restarting $APP... done, v11" ||
        { echo "stdout: $(cat "$T/run.out")"; return 1; }
}
check set_after_restart_continues after_restart

# A clean stop writes a snapshot (values that are not UTF-8 as {"b64":...});
# the restarted actor restores from it.
ck=$(sq pid config-keeper) || bail "no config-keeper pid in dyno status"
dyno config --shell -a "$APP" >"$T/before.sh" || bail "dyno config failed before the stop"
kill -TERM "$ck"
check config_keeper_restarted_after_term wait_for 20 sq restarted config-keeper "$ck"
snapshot_written() {
    local f
    f=$(find "$DATA" -name config-keeper.snapshot | head -n 1)
    [ -n "$f" ] || { echo "no config-keeper.snapshot under $DATA"; return 1; }
    grep -q '"b64"' "$f" || { echo "no b64 value in $f"; return 1; }
}
check snapshot_holds_b64_value snapshot_written
check config_restored_from_snapshot wait_for 10 same_config

status_figures() {
    local detail
    detail=$(sq actor config-keeper detail) || return 1
    python3 -c '
import ast, sys
d = ast.literal_eval(sys.argv[1])
if d.get("apps") != 1 or d.get("config_versions") != 11:
    sys.exit("detail: %s" % d)' "$detail"
}
check status_counts_apps_and_versions status_figures

# app.destroyed / app.created reach config-keeper as durable events from
# release-keeper, so the empty config shows once they are applied.
dyno apps:destroy -a "$APP" --confirm "$APP" >/dev/null || bail "apps:destroy failed"
dyno apps:create "$APP" >/dev/null || bail "apps:create again failed"
empty_again() {
    run dyno config -a "$APP" --json
    expect_rc 0 && stdout_is "{}"
}
check destroy_and_recreate_starts_empty wait_for 10 empty_again

# ---- help ----------------------------------------------------------------------------

help_ok() {
    local c
    for c in config config:get config:set config:unset; do
        dyno "$c" --help | grep -q "^usage: dyno $c" || { echo "no usage line for $c"; return 1; }
    done
}
check help_for_each_command help_ok

finish
