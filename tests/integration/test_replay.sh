#!/usr/bin/env bash
# `dynod replay`: every recorded fixture in tests/journals/ replays into
# release-keeper, config-keeper and the scheduler with every output matched;
# a journal recorded now from a live `dynod up` replays while the broker
# holds its lock (read through the broker) and after it stopped, with the
# same figures; a tampered journal entry is reported as a divergence at its
# sequence number; bad arguments give one line and exit 2. (A deliberately
# changed handler is caught in tests/unit/test_replay.c.)
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
export DYNOD_LOG_LEVEL=warn
JOURNALS=$(cd "$(dirname "$0")/../journals" && pwd)

matched() {     # matched ACTOR DIR [MIN]: replay exits 0 with >= MIN outputs matched
    run "$DYNOD" replay --journal "$2" --actor "$1"
    expect_rc 0 || return 1
    local n
    n=$(sed -n 's/.*, \([0-9]*\) outputs matched$/\1/p' "$T/run.out")
    [ -n "$n" ] && [ "$n" -ge "${3:-0}" ] && return 0
    echo "output: $(cat "$T/run.out")"
    return 1
}

for fx in "$JOURNALS"/*/journal; do
    [ -d "$fx" ] || continue
    name=$(basename "$(dirname "$fx")")
    # LevelDB writes into a journal it opens: replay a copy.
    cp -r "$fx" "$T/fx-$name"
    check "fixture_${name}_release_keeper" matched release-keeper "$T/fx-$name" 1
    check "fixture_${name}_config_keeper" matched config-keeper "$T/fx-$name" 1
    check "fixture_${name}_scheduler" matched scheduler "$T/fx-$name"
done

start_up || bail "dynod up did not get ready"
export DYNOD_BROKER=$BROKER_EP
mkdir -p "$T/work" && cd "$T/work" || bail "no work dir"
dyno apps:create replay-live >/dev/null || bail "apps:create failed"
dyno config:set A=1 B=2 -a replay-live >/dev/null || bail "config:set failed"
dyno config:unset A -a replay-live >/dev/null || bail "config:unset failed"
dyno rollback -a replay-live >/dev/null || bail "rollback failed"

check live_through_broker matched release-keeper "$DATA" 4
cp "$T/run.out" "$T/live.out"
check live_config_keeper matched config-keeper "$DATA" 2
kill -TERM "$UP_PID"
wait_for 20 dead "$UP_PID" || bail "dynod up did not stop"
check stopped_from_dir matched release-keeper "$DATA" 4
check same_figures_both_ways cmp -s "$T/live.out" "$T/run.out"

# Comparing from the first config.set: with the history before it replayed
# first (the default) everything matches; with --no-history the app.created
# before it is left out, config-keeper refuses the change and emits no
# release.create, which the journal recorded, so the replay diverges at
# exactly that input.
first_set=$("$DYNOD" journal --data "$DATA" --type config.set --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["seq"])')
diverges_without_history() {
    run "$DYNOD" replay --journal "$DATA" --actor config-keeper --from "$first_set" --no-history
    expect_rc 1 || return 1
    grep -q "^replay config-keeper: divergence at seq $first_set " "$T/run.out" || {
        echo "output: $(cat "$T/run.out")"; return 1; }
    grep -q '^  expected: ' "$T/run.out" && grep -q '^  got: ' "$T/run.out"
}
from_with_history() {
    run "$DYNOD" replay --journal "$DATA" --actor config-keeper --from "$first_set"
    expect_rc 0 && grep -q "(seq $first_set\.\." "$T/run.out" || { cat "$T/run.out"; return 1; }
}
check from_replays_history_first from_with_history
check divergence_reported_at_seq diverges_without_history

bad() {     # bad WANT ARGS...: exit WANT with one line on stderr
    local want=$1; shift
    run "$DYNOD" replay "$@"
    expect_rc "$want" && one_stderr_line
}
check unknown_actor bad 2 --journal "$DATA" --actor nobody
check missing_actor bad 2 --journal "$DATA"
check bad_from bad 2 --journal "$DATA" --actor config-keeper --from abc
check to_before_from bad 2 --journal "$DATA" --actor config-keeper --from 9 --to 3
check no_journal bad 1 --journal "$T/nowhere" --actor config-keeper
check help_prints_usage sh -c "\"$DYNOD\" replay --help | grep -q \"^usage: dynod replay\""
finish
