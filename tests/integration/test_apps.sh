#!/usr/bin/env bash
# Apps against a real `dynod up`: apps:create with and without a name,
# duplicate and bad names refused with one line and nothing created, apps,
# apps:info by -a / DYNOD_APP / the directory recorded at create (and its
# subdirectories), apps:destroy only with a matching --confirm, unknown
# apps, --json output, and the apps surviving a SIGKILL of release-keeper
# (restored from the journal by the restarted actor).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

start_up || bail "dynod up did not get ready"
# Creates record the working directory: start in one no other case is under.
mkdir -p "$T/top" && cd "$T/top" || bail "cannot enter $T/top"
NAME_RE='^[a-z][a-z0-9-]{2,29}$'

listed() {      # listed NAME...: each NAME is in `dyno apps --json`
    dyno apps --json >"$T/list.json" 2>"$T/list.err" || { cat "$T/list.err"; return 1; }
    python3 - "$T/list.json" "$@" <<'PY'
import json, sys
names = [a["name"] for a in json.load(open(sys.argv[1]))["apps"]]
missing = [n for n in sys.argv[2:] if n not in names]
if missing:
    sys.exit("not listed: %s (apps: %s)" % (missing, names))
PY
}

count_is() {    # count_is N: `dyno apps --json` lists N apps
    local n
    n=$(dyno apps --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["apps"]))') || return 1
    [ "$n" = "$1" ] || { echo "$n apps, wanted $1"; return 1; }
}

# ---- create ----------------------------------------------------------------------

create_named() {
    run dyno apps:create alpha-1
    expect_rc 0 || return 1
    grep -qx 'Created app alpha-1' "$T/run.out" || { echo "stdout: $(cat "$T/run.out")"; return 1; }
}
check create_with_name create_named

create_random() {
    run dyno apps:create --json
    expect_rc 0 || return 1
    RANDOM_APP=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["name"])' "$T/run.out") ||
        { echo "bad json: $(cat "$T/run.out")"; return 1; }
    [[ $RANDOM_APP =~ $NAME_RE ]] || { echo "'$RANDOM_APP' is not a valid name"; return 1; }
    [[ $RANDOM_APP =~ ^[a-z]+-[a-z]+-[0-9]{4}$ ]] || { echo "'$RANDOM_APP' is not adjective-noun-NNNN"; return 1; }
}
RANDOM_APP=
create_random >"$T/random.out" 2>&1 && pass create_without_name_random_valid ||
    fail create_without_name_random_valid "$(tail -n 1 "$T/random.out")"

duplicate() {
    run dyno apps:create alpha-1
    expect_rc 1 && one_stderr_line || return 1
    grep -qx "dyno apps:create: app 'alpha-1' already exists" "$T/run.err" ||
        { echo "stderr: $(cat "$T/run.err")"; return 1; }
}
check duplicate_name_refused duplicate

bad_name() {    # bad_name [--] NAME: refused with one line naming it
    run dyno apps:create "$@"
    local name=${*: -1}
    [ "$RC" = 1 ] || { echo "exit status $RC for '$name'"; return 1; }
    one_stderr_line || return 1
    grep -qF "'$name' is not a valid app name" "$T/run.err" || { echo "stderr: $(cat "$T/run.err")"; return 1; }
}
check bad_name_uppercase bad_name A
check bad_name_too_short bad_name ab
check bad_name_leading_dash bad_name -- -ab
dash_option() {     # without `--`, -ab is an option apps:create does not take
    run dyno apps:create -ab
    expect_rc 2 && one_stderr_line
}
check leading_dash_without_double_dash_is_usage dash_option
check bad_name_31_chars bad_name "$(printf 'a%.0s' $(seq 31))"
check bad_name_underscore bad_name ab_c
long_utf8_name() {  # the reason is cut to fit, still naming the rule
    local name
    name=a$(printf 'é%.0s' $(seq 400))
    run dyno apps:create "$name"
    expect_rc 1 && one_stderr_line || return 1
    grep -q "^dyno apps:create: 'aé*" "$T/run.err" || { echo "stderr: $(head -c 200 "$T/run.err")"; return 1; }
}
check bad_name_long_utf8 long_utf8_name
check bad_names_created_nothing count_is 2
check apps_lists_both listed alpha-1 "$RANDOM_APP"

human_list() {
    run dyno apps
    expect_rc 0 || return 1
    grep -q '^alpha-1 ' "$T/run.out" && grep -q "^$RANDOM_APP " "$T/run.out" ||
        { echo "stdout: $(cat "$T/run.out")"; return 1; }
}
check apps_human_output human_list

# ---- info and app resolution -------------------------------------------------------

info_is() {     # info_is NAME ARGS...: `dyno apps:info ARGS --json` names NAME, 0 releases
    local want=$1
    shift
    run dyno apps:info --json "$@"
    expect_rc 0 || return 1
    python3 - "$T/run.out" "$want" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
if d["name"] != sys.argv[2] or d["releases"] != 0 or not isinstance(d["created_ms"], int) or "by" not in d:
    sys.exit("unexpected: %s" % d)
PY
}
check info_with_a info_is alpha-1 -a alpha-1
check info_with_long_app info_is alpha-1 --app=alpha-1
info_env() { DYNOD_APP=alpha-1 info_is alpha-1; }
check info_from_dynod_app info_env

human_info() {
    run dyno apps:info -a alpha-1
    expect_rc 0 || return 1
    grep -qx '=== alpha-1' "$T/run.out" && grep -q '^Created: ' "$T/run.out" &&
        grep -q '^By: ' "$T/run.out" && grep -qx 'Releases: 0' "$T/run.out" ||
        { echo "stdout: $(cat "$T/run.out")"; return 1; }
}
check info_human_output human_info

no_app() {
    run dyno apps:info
    expect_rc 2 && one_stderr_line || return 1
    grep -qx 'dyno apps:info: no app: pass -a APP, set DYNOD_APP, or run this in the directory of an app' \
        "$T/run.err" || { echo "stderr: $(cat "$T/run.err")"; return 1; }
}
mkdir -p "$T/elsewhere"
in_dir() {      # in_dir DIR CMD...: runs CMD with DIR as the working directory
    local dir=$1
    shift
    (cd "$dir" && "$@")
}
check no_app_resolved_exit_2 in_dir "$T/elsewhere" no_app

mkdir -p "$T/proj/sub/deeper"
dir_create() {
    run dyno apps:create beta-2
    expect_rc 0
}
check create_records_directory in_dir "$T/proj" dir_create
check recorded_file_mode_0600 test "$(stat -c %a "$XDG_CONFIG_HOME/dynod/apps.json")" = 600
check info_from_recorded_dir in_dir "$T/proj" info_is beta-2
check info_from_subdirectory in_dir "$T/proj/sub/deeper" info_is beta-2
check a_beats_recorded_dir in_dir "$T/proj" info_is alpha-1 -a alpha-1

unknown() {     # unknown CMD...: exit 1, one line saying the app does not exist
    run dyno "$@"
    expect_rc 1 && one_stderr_line || return 1
    grep -qF "app 'no-such-app' does not exist" "$T/run.err" || { echo "stderr: $(cat "$T/run.err")"; return 1; }
}
check info_unknown_app unknown apps:info -a no-such-app
check destroy_unknown_app unknown apps:destroy -a no-such-app --confirm no-such-app

# ---- destroy ------------------------------------------------------------------------

no_confirm() {
    run dyno apps:destroy -a alpha-1
    expect_rc 2 && one_stderr_line || return 1
    grep -qF 'pass --confirm alpha-1' "$T/run.err" || { echo "stderr: $(cat "$T/run.err")"; return 1; }
}
check destroy_without_confirm_refused no_confirm

wrong_confirm() {
    run dyno apps:destroy -a alpha-1 --confirm beta-2
    expect_rc 1 && one_stderr_line || return 1
    grep -qx "dyno apps:destroy: confirmation 'beta-2' does not match app 'alpha-1'" "$T/run.err" ||
        { echo "stderr: $(cat "$T/run.err")"; return 1; }
}
check destroy_wrong_confirm_refused wrong_confirm
check refused_destroys_kept_the_app listed alpha-1 beta-2

destroy() {
    run dyno apps:destroy -a alpha-1 --confirm alpha-1 --json
    expect_rc 0 || return 1
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(d["name"] != "alpha-1")' "$T/run.out" ||
        { echo "stdout: $(cat "$T/run.out")"; return 1; }
}
check destroy_with_confirm destroy
unknown_alpha() {
    run dyno apps:info -a alpha-1
    expect_rc 1 && one_stderr_line
}
check destroyed_app_is_unknown unknown_alpha
check two_apps_left count_is 2

destroy_recorded() {    # from the recorded directory, then the record is gone
    run dyno apps:create gamma-3
    expect_rc 0 || return 1
    run dyno apps:destroy --confirm gamma-3
    expect_rc 0 || return 1
    grep -q gamma-3 "$XDG_CONFIG_HOME/dynod/apps.json" && { echo "gamma-3 still recorded"; return 1; }
    return 0
}
mkdir -p "$T/proj3"
check destroy_from_recorded_dir in_dir "$T/proj3" destroy_recorded

# ---- durability: SIGKILL release-keeper ------------------------------------------------

dyno apps --json >"$T/before.json" || bail "dyno apps failed before the restart"
rk=$(sq pid release-keeper) || bail "no release-keeper pid in dyno status"
kill -KILL "$rk"
check release_keeper_restarted wait_for 20 sq restarted release-keeper "$rk"

same_apps() {
    dyno apps --json >"$T/after.json" || return 1
    cmp -s "$T/before.json" "$T/after.json" ||
        { echo "before: $(tr -d ' \n' <"$T/before.json") after: $(tr -d ' \n' <"$T/after.json")"; return 1; }
}
check apps_survive_sigkill_exactly wait_for 10 same_apps
check created_after_restart dyno apps:create delta-4
duplicate_beta() {
    run dyno apps:create beta-2
    expect_rc 1 && one_stderr_line
}
check duplicate_refused_after_restart duplicate_beta

# ---- help ----------------------------------------------------------------------------

help_ok() {
    local c
    for c in apps apps:create apps:info apps:destroy; do
        dyno "$c" --help | grep -q "^usage: dyno $c" || { echo "no usage line for $c"; return 1; }
    done
}
check help_for_each_command help_ok

finish
