#!/usr/bin/env bash
# The broker's vault of release-keeper's blobs, and release-keeper moving
# to an empty data directory. `dynod up` runs the broker and every actor
# but release-keeper, which runs on its own (`dynod actor release-keeper
# --data DIR1`). Two deploys of tests/apps/rollout-web (v1 `one`, v2
# `two`), web=1 serving `two`; a buildpack set on a second app. Every blob
# of DIR1's store (sources, the buildpack, slugs) is then kept whole in the
# broker's data dir under vault/sha256/ with the right SHA-256. Then
# release-keeper moves: stopped for good, started again with an EMPTY
# --data DIR2 and another --instance. It still has the apps and releases
# (the broker's snapshot or journal), and: a rollback to v1 serves `one`
# (the supervisor never had slug `one`: its blob.get makes release-keeper
# fetch the slug from the vault first, sha-checked into DIR2); a deploy of
# the buildpack app builds (the buildpack comes from the vault); what DIR2
# stores new is copied to the vault too, and a blob the vault lost is
# copied again when release-keeper starts. Refusals of corrupt or
# out-of-order vault.put parts are in the unit suite brk_vault.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

APP_SRC=$(cd "$(dirname "$0")/../apps/rollout-web" && pwd) || bail "no tests/apps/rollout-web"
EXAMPLES=$(cd "$(dirname "$0")/../../examples" && pwd) || bail "no examples folder"
export DYNOD_BOOT_TIMEOUT_MS=30000
export DYNOD_STOP_TIMEOUT_MS=3000
start_up --actors config-keeper,dyno-supervisor,log-plex,router,scheduler ||
    bail "dynod up did not get ready"
mkdir -p "$T/work" "$T/rk1" "$T/rk2" && cd "$T/work" || bail "cannot enter $T/work"
TOKEN=$(cat "$DATA/api-token") || bail "no API token in $DATA"
VAULT=$DATA/vault/sha256

start_rk() {    # start_rk NAME DIR INSTANCE: release-keeper on its own; sets RK_PID
    DYNOD_API_TOKEN=$TOKEN spawn "$1" "$DYNOD" actor release-keeper --broker "$BROKER_EP" \
        --data "$2" --instance "$3"
    RK_PID=$SPAWNED
}
rk_is() {   # rk_is INSTANCE: release-keeper is up as that instance
    sq up release-keeper && [ "$(sq actor release-keeper instance)" = "$1" ]
}
start_rk rk1 "$T/rk1" one
wait_for 20 rk_is one || bail "release-keeper did not come up"

jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }
APP=vault-app
BP_APP=vault-bp
for a in "$APP" "$BP_APP"; do
    dyno apps:create "$a" >/dev/null 2>"$T/create.err" || bail "apps:create $a: $(cat "$T/create.err")"
done
deploy_version() {  # deploy_version NAME: a deploy of rollout-web whose VERSION is NAME
    rm -rf "$T/src" && cp -r "$APP_SRC" "$T/src" && echo "$1" >"$T/src/VERSION" &&
        echo 0.2 >"$T/src/BOOT_SLEEP" || return 1
    # Incompressible bytes, so the slug takes several vault parts each way.
    head -c 2500000 /dev/urandom >"$T/src/noise.bin" || return 1
    dyno deploy "$T/src" -a "$APP" --json >"$T/deploy-$1.json" 2>"$T/deploy-$1.log" ||
        { tail -n 2 "$T/deploy-$1.log"; return 1; }
}
deploy_version one || bail "deploy one failed"
deploy_version two || bail "deploy two failed"
SLUG_ONE=$(jget "$T/deploy-one.json" 'd["slug"]["blob"]') || bail "no slug in deploy one"
dyno buildpacks:set "$EXAMPLES/buildpacks/shell" -a "$BP_APP" >"$T/bp-set.out" 2>&1 ||
    bail "buildpacks:set: $(tail -n 1 "$T/bp-set.out")"

# ---- web=1 serves `two` -------------------------------------------------------
pq() {  # pq EXPR: EXPR over `dyno ps --json` (D: its dynos)
    dyno ps -a "$APP" --json >"$T/ps.json" 2>"$T/ps.err" || return 1
    python3 -c 'import json,sys
D = json.load(open(sys.argv[1]))["dynos"]
print(eval(sys.argv[2]))' "$T/ps.json" "$1"
}
serves() {  # serves TEXT: the up web dyno answers with TEXT in its body
    local port body
    port=$(pq '[x.get("port", 0) for x in D if x["type"] == "web" and x["state"] == "up"][0]') || return 1
    body=$(curl -s --max-time 3 "http://127.0.0.1:$port/") || { echo "no answer on $port"; return 1; }
    case $body in *"$1"*) return 0 ;; esac
    echo "answer on $port: $body"
    return 1
}
dyno ps:scale web=1 -a "$APP" >/dev/null 2>"$T/scale.err" || bail "ps:scale: $(cat "$T/scale.err")"
check web_serves_two wait_for 40 serves "version=two"

# ---- every blob of the store is kept by the broker, sha-checked -------------
# in_vault STORE: each blob under STORE is in the vault, whole (its sha256
# is its name)
in_vault() {
    local f sha n=0
    for f in "$1"/release-keeper/blobs/sha256/*/*; do
        [ -f "$f" ] || continue
        sha=$(basename "$f")
        [ -f "$VAULT/${sha:0:2}/$sha" ] || { echo "blob $sha not in the vault"; return 1; }
        [ "$(sha256sum <"$VAULT/${sha:0:2}/$sha" | cut -d' ' -f1)" = "$sha" ] ||
            { echo "vault blob $sha has other bytes"; return 1; }
        n=$((n + 1))
    done
    [ "$n" -ge 3 ] || { echo "only $n blobs in $1"; return 1; }
}
check vault_has_every_blob wait_for 20 in_vault "$T/rk1"
check vault_has_slug_one test -f "$VAULT/${SLUG_ONE:0:2}/$SLUG_ONE"
check vault_no_partial_files eval '[ -z "$(ls -A "$DATA/vault/tmp" 2>/dev/null)" ]'

# ---- release-keeper moves to an empty data directory -------------------------
kill -TERM "$RK_PID"
wait_for 10 not_running "$RK_PID" || bail "release-keeper did not stop"
start_rk rk2 "$T/rk2" two
check moved_up wait_for 30 rk_is two
release_count() {   # release_count N: APP has N releases
    local n
    n=$(dyno releases -a "$APP" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["releases"]))') ||
        return 1
    [ "$n" = "$1" ] || { echo "$n releases, wanted $1"; return 1; }
}
check moved_keeps_releases wait_for 20 release_count 2
check moved_store_empty eval '[ -z "$(ls -A "$T/rk2/release-keeper/blobs/sha256" 2>/dev/null)" ]'

# A rollback to v1: the supervisor has only slug `two` (it pruned `one` once
# v2 ran), so it asks for slug `one`, which release-keeper fetches from the
# vault before it answers.
not_cached_one() {
    local d
    for d in "$DATA"/dyno-supervisor/*/slugs/"$APP"/"$SLUG_ONE"; do
        [ -e "$d" ] && { echo "the supervisor still has slug one: $d"; return 1; }
    done
    return 0
}
check supervisor_lacks_slug_one wait_for 20 not_cached_one
dyno rollback v1 -a "$APP" >"$T/rollback.out" 2>&1 || fail rollback_done "$(tail -n 1 "$T/rollback.out")"
check rollback_serves_one wait_for 60 serves "version=one"
fetched_one() {
    local f=$T/rk2/release-keeper/blobs/sha256/${SLUG_ONE:0:2}/$SLUG_ONE
    [ -f "$f" ] && [ "$(sha256sum <"$f" | cut -d' ' -f1)" = "$SLUG_ONE" ] && grep -q "fetched blob ${SLUG_ONE:0:12}" "$T/rk2.err"
}
check rollback_slug_fetched fetched_one

# A build whose buildpack is only in the vault.
bp_deploy() {
    dyno deploy "$EXAMPLES/shell-app" -a "$BP_APP" --json >"$T/bp.json" 2>"$T/bp.log" ||
        { tail -n 2 "$T/bp.log"; return 1; }
    grep -qx -- '-----> Shell buildpack: preparing scripts' "$T/bp.log" ||
        { echo "no buildpack output: $(head -c 300 "$T/bp.log")"; return 1; }
}
check build_with_vault_buildpack bp_deploy
check build_buildpack_fetched eval '[ "$(grep -c "fetched blob" "$T/rk2.err")" -ge 2 ]'
check moved_copies_new_blobs wait_for 20 in_vault "$T/rk2"

# ---- blobs found in the store at start are copied (an installation from ----
# before the vault, or a vault that lost one)
NEW_SLUG=$(jget "$T/bp.json" 'd["slug"]["blob"]') || bail "no slug in the buildpack deploy"
kill -TERM "$RK_PID"
wait_for 10 not_running "$RK_PID" || bail "release-keeper did not stop"
rm -f "$VAULT/${NEW_SLUG:0:2}/$NEW_SLUG"
start_rk rk2b "$T/rk2" two
check start_copies_store wait_for 20 in_vault "$T/rk2"

finish
