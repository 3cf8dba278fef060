#!/usr/bin/env bash
# Relocation of the stateful actors (docs/relocation.md): `dynod up` runs the
# broker, a dyno-supervisor and a router; release-keeper, config-keeper,
# scheduler and log-plex run by hand as `dynod actor NAME` on "host a"
# (their own data dir, --instance host-a). State is made through the CLI
# (an app, a deploy, config vars, a formation, a log drain and log token),
# the four stop, and while they are away a config:set and a ps:scale are
# held by the broker. They start again on "host b": an EMPTY data dir and
# --instance host-b. Everything is back (apps:info, config, releases, the
# formation, drains and log token), each restored from the snapshot the
# broker kept, and the held changes are applied exactly once. Last, a
# second scheduler (host c) started while host b's is live is refused (and
# says so), and takes over, with the same state, once host b's stops.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

EXAMPLES=$(cd "$(dirname "$0")/../../examples" && pwd) || bail "no examples folder"
export DYNOD_BOOT_TIMEOUT_MS=20000
STATEFUL="release-keeper config-keeper scheduler log-plex"
start_up --actors dyno-supervisor,router || bail "dynod up did not get ready"
TOKEN=$(cat "$DATA/api-token") || bail "no API token in $DATA"
export DYNOD_LOGS_PORT
DYNOD_LOGS_PORT=$(free_port)
mkdir -p "$T/work" "$T/host-a" "$T/host-b" "$T/host-c" && cd "$T/work" || bail "cannot make dirs"

declare -A PIDS
start_host() {      # start_host HOST ACTOR...: each actor with --data $T/HOST --instance HOST
    local host=$1 a
    shift
    for a in "$@"; do
        DYNOD_API_TOKEN=$TOKEN spawn "$host-$a" "$DYNOD" actor "$a" --broker "$BROKER_EP" \
            --data "$T/$host" --instance "$host"
        PIDS[$host-$a]=$SPAWNED
    done
}
# instance_up NAME INSTANCE: NAME has one row in dyno status, up, as INSTANCE
instance_up() {
    [ "$(sq actor "$1" state)" = up ] && [ "$(sq actor "$1" instance)" = "$2" ] ||
        { echo "$1 is not up as $2: $(sq actor "$1" instance)"; return 1; }
}
all_up_on() {
    local a
    for a in $STATEFUL; do instance_up "$a" "$1" || return 1; done
}
stop_host() {       # stop_host HOST ACTOR...: SIGTERM, and each must exit
    local host=$1 a p
    shift
    for a in "$@"; do kill -TERM "${PIDS[$host-$a]}"; done
    for a in "$@"; do
        p=${PIDS[$host-$a]}
        wait_for 15 not_running "$p" || return 1
    done
}

# shellcheck disable=SC2086
start_host host-a $STATEFUL
wait_for 30 all_up_on host-a || bail "the stateful actors did not come up on host-a"

# ---- state, made through the CLI --------------------------------------------
APP=reloc-app
SYS_PORT=$(free_port)
DRAIN="syslog://127.0.0.1:$SYS_PORT"
dyno apps:create "$APP" >/dev/null 2>"$T/create.err" || bail "apps:create: $(cat "$T/create.err")"
dyno deploy "$EXAMPLES/shell-app" -a "$APP" >"$T/deploy.out" 2>&1 || bail "deploy: $(tail -n 1 "$T/deploy.out")"
dyno config:set FOO=bar LANG=fr -a "$APP" >/dev/null 2>"$T/set.err" || bail "config:set: $(cat "$T/set.err")"
dyno ps:scale web=2 -a "$APP" >/dev/null 2>"$T/scale.err" || bail "ps:scale: $(cat "$T/scale.err")"
dyno drains:add "$DRAIN" -a "$APP" >/dev/null 2>"$T/drain.err" || bail "drains:add: $(cat "$T/drain.err")"
dyno logs:token -a "$APP" >"$T/logtoken.a" 2>"$T/logtoken.err" || bail "logs:token: $(cat "$T/logtoken.err")"

views() {   # views PREFIX: what each stateful actor shows of the app, in PREFIX.*
    dyno apps:info -a "$APP" | grep -v '^Created' >"$1.info" &&
        dyno config --shell -a "$APP" >"$1.config" &&
        dyno releases -a "$APP" --json | python3 -c '
import json, sys
for r in json.load(sys.stdin)["releases"]:
    print(r["version"], r["description"])' >"$1.releases" &&
        dyno ps:scale -a "$APP" >"$1.formation" &&
        dyno drains -a "$APP" --json >"$1.drains" &&
        dyno logs:token -a "$APP" >"$1.logtoken"
}
# A second app whose config versions make config-keeper's snapshot larger
# than one snapshot.put part (512 KiB): it goes to the broker in parts.
BIG=reloc-big
dyno apps:create "$BIG" >/dev/null 2>"$T/create.err" || bail "apps:create: $(cat "$T/create.err")"
for i in $(seq 12); do
    dyno config:set "BLOB=$(head -c 45000 /dev/zero | tr '\0' "$(printf '\\%03o' $((97 + i)))")" -a "$BIG" \
        >/dev/null 2>"$T/big.err" || bail "config:set BLOB: $(cat "$T/big.err")"
done
dyno config --shell -a "$BIG" >"$T/a.big" || bail "config of $BIG"
views "$T/a" || bail "cannot read the state on host-a"
check state_made eval "grep -q FOO= '$T/a.config' && grep -q '^web=2' '$T/a.formation' && grep -q '$SYS_PORT' '$T/a.drains'"

# ---- the four stop; changes wait at the broker meanwhile --------------------
# shellcheck disable=SC2086
check host_a_stops stop_host host-a $STATEFUL
check snapshots_sent_at_stop eval "for a in $STATEFUL; do [ -s '$T/host-a/'\$a.snapshot ] || exit 1; done"
check big_snapshot_in_parts test "$(stat -c %s "$T/host-a/config-keeper.snapshot")" -gt $((512 * 1024))
spawn held-set "$DYNO" config:set BAR=baz -a "$APP"
HELD_SET=$SPAWNED
spawn held-scale "$DYNO" ps:scale worker=1 -a "$APP"
HELD_SCALE=$SPAWNED
held_two() { [ "$(sq broker held)" -ge 2 ]; }
check changes_held_while_away wait_for 10 held_two

# ---- host b: empty data dir, another instance --------------------------------
# shellcheck disable=SC2086
start_host host-b $STATEFUL
check all_up_on_host_b wait_for 30 all_up_on host-b
for a in $STATEFUL; do
    check "${a}_restored_from_broker" wait_for 10 grep -q "restored the broker's snapshot" "$T/host-b-$a.err"
done
wait "$HELD_SET"
check held_config_set_answered test $? = 0
wait "$HELD_SCALE"
check held_scale_answered test $? = 0

views "$T/b" || fail views_on_host_b "cannot read the state on host-b"
# The same app, with one release more (BAR's).
info_after() {
    sed 's/^Releases: 2$/Releases: 3/' "$T/a.info" | cmp -s - "$T/b.info" ||
        { echo "apps:info: $(tr '\n' ' ' <"$T/b.info") (was $(tr '\n' ' ' <"$T/a.info"))"; return 1; }
}
check apps_info_moved info_after
check drains_moved cmp "$T/a.drains" "$T/b.drains"
check big_config_moved eval 'dyno config --shell -a "$BIG" | cmp -s - "$T/a.big"'
check log_token_moved cmp "$T/a.logtoken" "$T/b.logtoken"
config_after() {    # the old vars, and BAR, once
    grep -qx "FOO='bar'" "$T/b.config" && grep -qx "LANG='fr'" "$T/b.config" &&
        grep -qx "BAR='baz'" "$T/b.config" && [ "$(wc -l <"$T/b.config")" = 3 ] ||
        { echo "config on host-b: $(tr '\n' ' ' <"$T/b.config")"; return 1; }
}
check config_moved_and_held_change config_after
releases_after() {  # host-a's releases plus exactly one for BAR
    local n
    n=$(grep -c "BAR" "$T/b.releases")
    [ "$n" = 1 ] || { echo "$n releases mention BAR: $(tr '\n' ' ' <"$T/b.releases")"; return 1; }
    grep -v BAR "$T/b.releases" | cmp -s - "$T/a.releases" ||
        { echo "releases differ: $(tr '\n' ' ' <"$T/b.releases") vs $(tr '\n' ' ' <"$T/a.releases")"; return 1; }
}
check releases_moved_once releases_after
check formation_moved_and_held_scale grep -q "^web=2:.* worker=1:" "$T/b.formation"
# Nothing moves later: the held change is not applied a second time.
stable() {
    views "$T/c" && cmp -s "$T/b.config" "$T/c.config" && cmp -s "$T/b.releases" "$T/c.releases" &&
        cmp -s "$T/b.formation" "$T/c.formation"
}
check held_changes_applied_once holds 3 stable

# ---- a second singleton is refused, and takes over once the first stops -----
start_host host-c scheduler
C_SCHED=${PIDS[host-c-scheduler]}
check second_instance_refused wait_for 10 grep -q "singleton 'scheduler' is already live as scheduler@host-b" "$T/host-c-scheduler.err"
check first_instance_kept holds 2 instance_up scheduler host-b
check second_instance_waits alive "$C_SCHED"
check host_b_scheduler_stops stop_host host-b scheduler
check second_instance_takes_over wait_for 20 instance_up scheduler host-c
formation_c() { [ "$(dyno ps:scale -a "$APP")" = "$(cat "$T/b.formation")" ]; }
check takeover_has_the_state wait_for 10 formation_c

finish
