#!/usr/bin/env bash
# Custom domains and maintenance mode against a real `dynod up` with a base
# domain: `dyno domains` (default domains first, then Heroku's table),
# domains:add (Heroku's wording, a DNS target unique per domain, the same
# answer when repeated, any case), refusals that change nothing (invalid
# names, default domains, a domain another app has — never naming it, one
# the app does not have, usage errors), domains:remove, domains:clear,
# maintenance / maintenance:on / maintenance:off, the API log lines,
# domains and maintenance surviving a SIGKILL of release-keeper, and
# app destroy freeing a domain for another app. Routing: a custom domain
# (and a wildcard) reaches the app through the router, is 404 once
# removed, maintenance answers 503 with the maintenance page and an
# `at=info code=H80` router line and 200 again once off, an app never
# deployed answers 503 H81, and a router killed with -9 learns the domains
# again from release-keeper.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

APPS=$(cd "$(dirname "$0")/../apps" && pwd) || bail "no tests/apps folder"
export DYNOD_BOOT_TIMEOUT_MS=20000
export DYNOD_BASE_DOMAIN=dynod.test
export DYNOD_USER=dana
HTTP_PORT=$(free_port)
start_up --http-port "$HTTP_PORT" || bail "dynod up did not get ready"
APP=dom-app
OTHER=dom-other
BLANK=dom-blank
for a in "$APP" "$OTHER" "$BLANK"; do
    dyno apps:create "$a" >/dev/null 2>"$T/create.err" || bail "apps:create $a: $(cat "$T/create.err")"
done
dyno deploy "$APPS/router-echo" -a "$APP" >"$T/deploy.out" 2>&1 || bail "deploy: $(tail -n 1 "$T/deploy.out")"

MARK=$(printf '\xe2\xac\xa2')       # ⬢

# ---- listing and adding ----------------------------------------------------------

defaults_only() {
    run dyno domains -a "$APP"
    expect_rc 0 || return 1
    printf '=== %s %s Default Domains\n%s.localhost\n%s.dynod.test\n' "$MARK" "$APP" "$APP" "$APP" >"$T/want"
    diff "$T/want" "$T/run.out"
}
check list_defaults_only defaults_only

run dyno domains:add www.example.test -a "$APP"
check add_exit_0 expect_rc 0
TARGET=$(sed -n 's/^Configure your app.s DNS provider to point to the DNS Target \(.*\)\.$/\1/p' "$T/run.out")
add_wording() {
    [ "$(head -n 1 "$T/run.out")" = "Adding www.example.test to $MARK $APP... done" ] &&
        [ "$(wc -l <"$T/run.out")" = 2 ] && [[ $TARGET =~ ^[a-z]+-[a-z]+-[0-9a-f]{12}\.dynod\.test$ ]] ||
        { cat "$T/run.out"; return 1; }
}
check add_wording add_wording

same_target() {     # same_target HOST: adding it again answers the same record
    run dyno domains:add "$1" -a "$APP"
    expect_rc 0 || return 1
    grep -q "to point to the DNS Target $TARGET\.\$" "$T/run.out" || { cat "$T/run.out"; return 1; }
}
check add_repeat_same_target same_target www.example.test
check add_any_case_same_record same_target WWW.Example.TEST

run dyno domains:add api.example.test -a "$APP"
TARGET2=$(sed -n 's/.*DNS Target \(.*\)\.$/\1/p' "$T/run.out")
check second_target_differs [ -n "$TARGET2" ] && [ "$TARGET2" != "$TARGET" ]
run dyno domains:add example.test -a "$APP"
check add_root_domain expect_rc 0
run dyno domains:add '*.wild.test' -a "$APP"
check add_wildcard expect_rc 0

table() {
    run dyno domains -a "$APP"
    expect_rc 0 || return 1
    python3 - "$T/run.out" "$APP" "$TARGET" "$MARK" <<'PY'
import sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
app, target, mark = sys.argv[2], sys.argv[3], sys.argv[4]
want_head = ["=== %s %s Default Domains" % (mark, app), app + ".localhost", app + ".dynod.test", "",
             "=== %s %s Custom Domains" % (mark, app)]
if lines[:5] != want_head:
    sys.exit("head: %r" % lines[:5])
cols = lines[5].split("  ")
if not lines[5].startswith("Domain Name ") or "DNS Record Type" not in lines[5] or not lines[5].endswith("DNS Target"):
    sys.exit("table header: %r" % lines[5])
rows = [l.split() for l in lines[6:] if l]
names = [r[0] for r in rows]
if names != ["*.wild.test", "api.example.test", "example.test", "www.example.test"]:
    sys.exit("rows: %r" % names)
www = [l for l in lines if l.startswith("www.example.test ")][0]
if not www.endswith("CNAME            " + target) and not (" CNAME " in www and www.endswith(target)):
    sys.exit("www row: %r" % www)
root = [l for l in lines if l.startswith("example.test ")][0]
if "ALIAS or ANAME" not in root:
    sys.exit("root row: %r" % root)
PY
}
check list_table table

json_list() {
    dyno domains -a "$APP" --json >"$T/list.json" || return 1
    python3 - "$T/list.json" "$APP" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
kinds = [x["kind"] for x in d["domains"]]
assert d["app"] == sys.argv[2], d
assert kinds == ["default", "default", "custom", "custom", "custom", "custom"], kinds
targets = [x["dns_target"] for x in d["domains"] if x["kind"] == "custom"]
assert len(set(targets)) == 4, targets
assert all(x["created_ms"] > 0 for x in d["domains"] if x["kind"] == "custom")
PY
}
check list_json json_list

# ---- refusals change nothing -------------------------------------------------------

refused() {     # refused APP HOST TEXT: exit 1, one stderr line containing TEXT
    run dyno domains:add "$2" -a "$1"
    expect_rc 1 && one_stderr_line || return 1
    grep -qF -- "$3" "$T/run.err" || { echo "stderr: $(cat "$T/run.err")"; return 1; }
}
check taken_by_other_app refused "$OTHER" www.example.test \
    "dyno domains:add: www.example.test is already in use by another app"
check taken_names_no_app eval "! grep -q '$APP' '$T/run.err'"
check taken_any_case refused "$OTHER" WWW.EXAMPLE.TEST "already in use by another app"
for bad in bad_name.test example a..b.test '*.test' 'x.*.example.test' 'example.test.' \
           '1.2.3.4' "$(printf 'a%.0s' $(seq 64)).example.test"; do
    check "invalid_${bad//[^a-z0-9]/_}" refused "$APP" "$bad" "is not a valid domain name"
done
check default_local_refused refused "$APP" "$APP.localhost" "is a default domain name and cannot be added"
check default_base_refused refused "$APP" "$OTHER.dynod.test" "is a default domain name and cannot be added"
run dyno domains:remove "$APP.localhost" -a "$APP"
check default_remove_refused expect_rc 1
run dyno domains:remove nothere.example.test -a "$APP"
check remove_unknown_refused grep -q "nothere.example.test is not a domain of $APP" "$T/run.err"
run dyno domains:add www.example.test -a no-such-app
check add_unknown_app expect_rc 1
run dyno domains:add -a "$APP"
check add_no_host_usage expect_rc 2
run dyno domains:add a.example.test b.example.test -a "$APP"
check add_two_hosts_usage expect_rc 2
custom_count() { [ "$(dyno domains -a "$APP" --json | grep -c '"kind": "custom"')" = "$1" ]; }
check refusals_changed_nothing custom_count 4

# ---- maintenance -------------------------------------------------------------------

run dyno maintenance -a "$APP"
check maintenance_off_at_first [ "$(cat "$T/run.out")" = off ]
run dyno maintenance:on -a "$APP"
check maintenance_on_wording [ "$(cat "$T/run.out")" = "Enabling maintenance mode for $MARK $APP... done" ]
run dyno maintenance -a "$APP"
check maintenance_shows_on [ "$(cat "$T/run.out")" = on ]
info_maintenance() { dyno apps:info -a "$APP" --json | grep -q '"maintenance": true'; }
check app_info_maintenance info_maintenance
run dyno maintenance:on -a no-such-app
check maintenance_unknown_app expect_rc 1

api_lines() {
    dyno logs -a "$APP" -n 300 >"$T/logs.txt" 2>&1 || return 1
    grep -q 'dynod\[api\]: Add www.example.test domain by dana$' "$T/logs.txt" &&
        grep -q 'dynod\[api\]: Add \*.wild.test domain by dana$' "$T/logs.txt" &&
        grep -q 'dynod\[api\]: Enable maintenance mode by dana$' "$T/logs.txt" &&
        [ "$(grep -c 'Add www.example.test domain' "$T/logs.txt")" = 1 ]
}
check api_log_lines wait_for 10 api_lines

# ---- durability: SIGKILL release-keeper --------------------------------------------

dyno domains -a "$APP" --json >"$T/before.json" || bail "domains failed before the restart"
rk=$(sq pid release-keeper) || bail "no release-keeper pid in dyno status"
kill -KILL "$rk"
check release_keeper_restarted wait_for 20 sq restarted release-keeper "$rk"
same_domains() {
    dyno domains -a "$APP" --json >"$T/after.json" 2>&1 || return 1
    cmp -s "$T/before.json" "$T/after.json" || { echo "after: $(tr -d ' \n' <"$T/after.json")"; return 1; }
}
check domains_survive_sigkill wait_for 10 same_domains
check maintenance_survives_sigkill [ "$(dyno maintenance -a "$APP")" = on ]
check taken_after_restart refused "$OTHER" www.example.test "already in use by another app"

# ---- routing -----------------------------------------------------------------------

# status HOST [PATH]: the status of a request with that Host; body in $T/body
status() {
    curl -s -o "$T/body" -w '%{http_code}' --max-time 10 -H "Host: $1" "http://127.0.0.1:$HTTP_PORT${2:-/}"
}
is_status() { [ "$(status "$1")" = "$2" ] || { echo "$1: $(status "$1"), wanted $2"; return 1; }; }
router_line() {     # router_line PATTERN: a dynod[router] line of $APP's logs matches
    dyno logs -a "$1" -n 300 | grep -qE "dynod\[router\]: $2"
}

check maintenance_503 wait_for 30 is_status www.example.test 503
check maintenance_page grep -qi maintenance "$T/body"
check maintenance_on_default_name is_status "$APP.localhost" 503
check maintenance_h80_line wait_for 10 router_line "$APP" 'at=info code=H80 .*host=www\.example\.test'
run dyno maintenance:off -a "$APP"
check maintenance_off_wording [ "$(cat "$T/run.out")" = "Disabling maintenance mode for $MARK $APP... done" ]
check custom_domain_reaches_app wait_for 40 is_status www.example.test 200
check custom_domain_any_case_port is_status WWW.Example.Test:80 200
check default_base_domain_reaches_app is_status "$APP.dynod.test" 200
check wildcard_reaches_app is_status a.wild.test 200
check wildcard_one_label_deep is_status a.b.wild.test 404
check unknown_domain_404 is_status nobody.example.test 404
check never_deployed_h81 wait_for 10 is_status "$BLANK.localhost" 503
check never_deployed_h81_line wait_for 10 router_line "$BLANK" 'at=info code=H81 '

# A router killed with -9 comes back knowing nothing; release-keeper tells it.
rp=$(sq pid router) || bail "no router pid in dyno status"
kill -KILL "$rp"
check router_restarted wait_for 20 sq restarted router "$rp"
check domain_after_router_restart wait_for 40 is_status www.example.test 200

run dyno domains:remove www.example.test -a "$APP"
check remove_wording [ "$(cat "$T/run.out")" = "Removing www.example.test from $MARK $APP... done" ]
check removed_domain_404 wait_for 10 is_status www.example.test 404
check removed_not_listed eval "! dyno domains -a '$APP' | grep -q '^www.example.test '"
remove_line() { dyno logs -a "$APP" -n 300 | grep -q 'dynod\[api\]: Remove www.example.test domain by dana$'; }
check remove_api_line wait_for 10 remove_line

# ---- destroy frees the domains; clear ----------------------------------------------

run dyno domains:clear -a "$APP"
check clear_exit_0 expect_rc 0
check clear_left_none custom_count 0
dyno domains:add api.example.test -a "$APP" >/dev/null 2>&1 || fail re_add "could not add api.example.test again"
dyno apps:destroy -a "$APP" --confirm "$APP" >/dev/null 2>"$T/destroy.err" || fail destroy "$(cat "$T/destroy.err")"
free_after_destroy() {
    run dyno domains:add api.example.test -a "$OTHER"
    expect_rc 0
}
check destroy_frees_domain free_after_destroy
check moved_domain_routes_to_new_owner wait_for 10 is_status api.example.test 503

# ---- help --------------------------------------------------------------------------

help_ok() {
    local c
    for c in domains domains:add domains:remove domains:clear maintenance maintenance:on maintenance:off; do
        dyno "$c" --help | grep -q "^usage: dyno $c" || { echo "no usage line for $c"; return 1; }
    done
}
check help_for_each_command help_ok

finish
