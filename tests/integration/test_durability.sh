#!/usr/bin/env bash
# Durability of config and releases (issue 3): 50 concurrent
# `dyno config:set KEYi=vi` against one app, started in 5 overlapping waves
# of 10, while config-keeper and release-keeper are SIGKILLed 12 times: in
# each wave one keeper as the wave starts and the other once the wave's
# first change is acknowledged (the rest in flight), and in the last wave
# both again while they restore. dynod up restarts them; they restore from
# snapshot + journal. Afterwards:
#   - every acknowledged change (`done, vN`, exit 0) is in `dyno config`,
#     and its vN is a release whose description names its key;
#   - `dyno releases` numbers 1..N with no gap or duplicate;
#   - every unacknowledged change is wholly there (key and its release) or
#     wholly absent (neither);
#   - one `Set KEYi config vars` release per var set, no other vars;
# then the same state, byte for byte, after a full stop and start of
# dynod up on the same data directory, and after a start on a copy of the
# data directory with the keepers' snapshots deleted (journal alone).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

N=50            # concurrent config:set clients
WAVES=5         # started in this many waves, one or two kills per wave
APP=durable-app

# Many kills in a short time: do not let dynod up give up on the keepers.
start_up --max-restarts 100 --restart-window 60 || bail "dynod up did not get ready"
wait_for 10 sq up config-keeper release-keeper || bail "the keepers are not up"
FIRST_DATA=$DATA

dyno apps:create "$APP" >/dev/null 2>"$T/create.err" || bail "apps:create: $(cat "$T/create.err")"
# config-keeper learns of the app from release-keeper's app.created.
wait_for 10 dyno config -a "$APP" || bail "config-keeper does not know '$APP'"

# ---- 50 concurrent config:set while the keepers are killed ------------------------------

mkdir -p "$T/cs"
client_pids=()
start_client() {    # start_client I: dyno config:set KEYi=vi in the background
    local i=$1
    (
        timeout -k 1 20 "$DYNO" config:set "KEY$i=v$i" -a "$APP" >"$T/cs/$i.out" 2>"$T/cs/$i.err" </dev/null
        echo $? >"$T/cs/$i.rc.tmp" && mv "$T/cs/$i.rc.tmp" "$T/cs/$i.rc"
    ) 7>&- 8>&- &
    client_pids+=($!)
}

# Kills are immediate (pids looked up beforehand) and each one records how
# many clients had started and finished at that moment, so the test can
# assert that kills landed while changes were in flight.
KILLS=0
STARTED=0
finished_count() { local f=("$T"/cs/*.rc); [ -e "${f[0]}" ] && echo ${#f[@]} || echo 0; }
kill_now() {    # kill_now PID NAME
    kill -KILL "$1" 2>/dev/null || return 0
    KILLS=$((KILLS + 1))
    echo "$2 $1 started=$STARTED finished=$(finished_count)" >>"$T/kills.log"
}
kill_keeper() {     # kill_keeper NAME: the current process of that keeper
    if [ "$1" = config-keeper ]; then kill_now "$ck" "$1"; ck_old=$ck; else kill_now "$rk" "$1"; rk_old=$rk; fi
}
_new_child() { local p; p=$(child_pid "$1"); [ -n "$p" ] && [ "$p" != "$2" ]; }
next_pid() {    # next_pid NAME OLD: waits for dynod up's replacement child, prints it
    wait_for 10 _new_child "$1" "$2" && child_pid "$1"
}
first_ack() {   # first_ack FIRST: spins (no sleep: the wave takes a few ms) until
                # client FIRST.. of this wave has finished, at most 5 s
    local deadline=$(($(now_ms) + 5000)) i
    while [ "$(now_ms)" -lt "$deadline" ]; do
        for ((i = $1; i < $1 + per; i++)); do [ -e "$T/cs/$i.rc" ] && return 0; done
    done
    return 1
}

per=$((N / WAVES))
ck=$(child_pid config-keeper)
rk=$(child_pid release-keeper)
[ -n "$ck" ] && [ -n "$rk" ] || bail "no keeper pids under dynod up"
for ((w = 0; w < WAVES; w++)); do
    first=$((w * per + 1))
    for ((i = first; i < first + per; i++)); do start_client "$i"; STARTED=$((STARTED + 1)); done
    # One keeper as the wave starts (its requests wait in the journal), the
    # other once the wave's first change is acknowledged (the rest in flight).
    if ((w % 2 == 0)); then a=config-keeper; b=release-keeper; else a=release-keeper; b=config-keeper; fi
    kill_keeper "$a"
    first_ack "$first"
    kill_keeper "$b"
    ck=$(next_pid config-keeper "$ck_old") || bail "config-keeper was not restarted"
    rk=$(next_pid release-keeper "$rk_old") || bail "release-keeper was not restarted"
    # Once more while restoring, in the last wave.
    ((w == WAVES - 1)) && kill_now "$ck" config-keeper && kill_now "$rk" release-keeper
done
for p in "${client_pids[@]}"; do wait "$p"; done

all_exited() {
    local i
    for ((i = 1; i <= N; i++)); do [ -e "$T/cs/$i.rc" ] || { echo "client $i left no status"; return 1; }; done
}
check all_clients_exited all_exited
killed_enough() { [ "$KILLS" -ge 10 ] || { echo "only $KILLS kills landed"; return 1; }; }
check keepers_killed_ten_times killed_enough
in_flight() {   # some kill found changes started and not yet answered
    awk '{ split($3, s, "="); split($4, f, "="); if (s[2] > f[2]) n++ } END { exit n ? 0 : 1 }' \
        "$T/kills.log" || { echo "no kill landed with changes in flight: $(tr '\n' '|' <"$T/kills.log")"; return 1; }
}
check kills_landed_with_changes_in_flight in_flight
wait_for 20 sq up config-keeper release-keeper || bail "the keepers did not come back after the kills"

# Acknowledged: exit 0 and `done, vN`. Written as `I VERSION` lines.
: >"$T/acked"
for ((i = 1; i <= N; i++)); do
    v=$(grep -o 'done, v[0-9]*' "$T/cs/$i.out" 2>/dev/null | head -n 1 | sed 's/done, v//')
    [ "$(cat "$T/cs/$i.rc")" = 0 ] && [ -n "$v" ] && echo "$i $v" >>"$T/acked"
done
some_acked() {  # the test means little if (almost) nothing was acknowledged
    local n
    n=$(wc -l <"$T/acked")
    [ "$n" -ge $((N / 2)) ] || { echo "only $n of $N changes acknowledged"; return 1; }
}
check most_changes_acknowledged some_acked

snap() {    # snap PREFIX: dyno config --json and dyno releases --json into PREFIX.config/.releases
    dyno config --json -a "$APP" >"$1.config" 2>"$1.err" &&
        dyno releases --json -n 1000 -a "$APP" >"$1.releases" 2>>"$1.err" ||
        { cat "$1.err"; return 1; }
}

# The verdict on a snapshot of the state (python: the rules of the issue).
verify() {  # verify PREFIX
    snap "$1" || return 1
    python3 - "$1" "$T/acked" "$N" <<'PY'
import json, re, sys
prefix, acked_path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
cfg = json.load(open(prefix + ".config"))
rel = json.load(open(prefix + ".releases"))
vars_ = cfg.get("vars", cfg) if isinstance(cfg, dict) else {}
cfg_version = cfg.get("version") if isinstance(cfg, dict) and "vars" in cfg else None
releases = rel.get("releases", rel) if isinstance(rel, dict) else rel
acked = dict((int(a), int(b)) for a, b in (l.split() for l in open(acked_path) if l.strip()))
errors = []
versions = sorted(r["version"] for r in releases)
if versions != list(range(1, len(versions) + 1)):
    errors.append("release versions are not 1..N: %s" % versions)
by_version = dict((r["version"], r) for r in releases)
set_re = re.compile(r"^Set (.*) config vars$")
def keys_of(desc):
    m = set_re.match(desc)
    return [k.strip() for k in m.group(1).replace(" and ", ", ").split(",")] if m else []
set_releases = [r for r in releases if keys_of(r["description"])]
released_keys = {}
for r in set_releases:
    for k in keys_of(r["description"]):
        released_keys.setdefault(k, []).append(r["version"])
for i in range(1, n + 1):
    key, val = "KEY%d" % i, "v%d" % i
    has_var = key in vars_
    rels = released_keys.get(key, [])
    if has_var and vars_[key] != val:
        errors.append("%s is %r, not %r" % (key, vars_[key], val))
    if len(rels) > 1:
        errors.append("%s released %d times: %s" % (key, len(rels), rels))
    if i in acked:
        v = acked[i]
        if not has_var:
            errors.append("acknowledged %s (v%d) is not in the config" % (key, v))
        r = by_version.get(v)
        if not r:
            errors.append("acknowledged v%d (%s) is not a release" % (v, key))
        elif key not in keys_of(r["description"]):
            errors.append("acknowledged v%d is %r, not a release of %s" % (v, r["description"], key))
    elif has_var != bool(rels):
        errors.append("unacknowledged %s is half there: in config %s, releases %s" % (key, has_var, rels))
extra = [k for k in vars_ if not re.match(r"^KEY\d+$", k)]
if extra:
    errors.append("unexpected vars: %s" % extra)
if len(set_releases) != len([k for k in vars_]):
    errors.append("%d Set releases for %d vars" % (len(set_releases), len(vars_)))
if cfg_version is not None and len(set_releases) != cfg_version:
    errors.append("%d Set releases for config version %d" % (len(set_releases), cfg_version))
if errors:
    sys.exit("; ".join(errors[:6]) + (" (+%d more)" % (len(errors) - 6) if len(errors) > 6 else ""))
print("ok: %d vars, %d releases, %d acknowledged" % (len(vars_), len(releases), len(acked)))
PY
}

# Unacknowledged changes that were journaled still finish after the
# restarts (re-sent release.create): wait until the state is consistent.
wait_for 20 verify "$T/after-kills" >/dev/null 2>&1
check state_after_kills_acknowledged_present_no_gaps_all_or_nothing verify "$T/after-kills"
grep -q '^ok' "$T/check.out" 2>/dev/null && echo "$SCRIPT_NAME: $(cat "$T/check.out")" >&2

# ---- restart of dynod up on the same data directory ---------------------------------------

stop_up() {
    kill -TERM "$UP_PID"
    wait_for 20 dead "$UP_PID" || return 1
    wait "$UP_PID" 2>/dev/null
    return 0
}

same_state() {  # same_state PREFIX: byte-identical to after-kills
    snap "$1" || return 1
    cmp -s "$T/after-kills.config" "$1.config" || { echo "config differs: $(diff "$T/after-kills.config" "$1.config" | head -n 4 | tr '\n' ' ')"; return 1; }
    cmp -s "$T/after-kills.releases" "$1.releases" || { echo "releases differ: $(diff "$T/after-kills.releases" "$1.releases" | head -n 4 | tr '\n' ' ')"; return 1; }
}

stop_up || bail "dynod up did not stop"
start_up --data "$FIRST_DATA" || bail "dynod up did not restart on '$FIRST_DATA'"
wait_for 10 sq up config-keeper release-keeper || bail "the keepers are not up after the restart"
wait_for 10 same_state "$T/restarted" >/dev/null 2>&1
check same_state_after_full_restart same_state "$T/restarted"

# ---- a fresh start on another data directory, without the local snapshots -------------------
# The keepers restore from the snapshots the broker kept (in its journal's
# LevelDB, copied too) plus the journal after them, as after a move to
# another host (test_relocate); rebuilding from the journal alone, with no
# snapshot anywhere, is what `dynod replay` checks (test_replay).

stop_up || bail "dynod up did not stop the second time"
snapshots_written() {
    [ -s "$FIRST_DATA/config-keeper.snapshot" ] && [ -s "$FIRST_DATA/release-keeper.snapshot" ] ||
        { echo "no keeper snapshots in $FIRST_DATA: $(ls "$FIRST_DATA" | tr '\n' ' ')"; return 1; }
}
check keepers_wrote_snapshots snapshots_written
COPY=$T/copy-data
cp -a "$FIRST_DATA" "$COPY" || bail "cannot copy the data directory"
rm -f "$COPY/config-keeper.snapshot" "$COPY/release-keeper.snapshot"
start_up --data "$COPY" || bail "dynod up did not start on the copy"
wait_for 10 sq up config-keeper release-keeper || bail "the keepers are not up on the copy"
wait_for 10 same_state "$T/journal-only" >/dev/null 2>&1
check same_state_on_a_copy_without_local_snapshots same_state "$T/journal-only"

finish
