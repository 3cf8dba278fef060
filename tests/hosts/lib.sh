# shellcheck shell=bash
# lib.sh - the multi-host test bed: "hosts" on one machine (sourced, never run)
#
# On top of tests/integration/lib.sh (temp dir $T, spawn, wait_for, holds,
# check/pass/fail/bail/finish), it builds hosts out of network namespaces:
#   - `hb_net N`: N namespaces ${HB_P}h1..hN (HB_P unique to this run), each
#     with `lo` up and an `eth0` (a veth whose root-side end, also named
#     ${HB_P}hI, is a port of the bridge ${HB_P}br) at HB_NET.I, HB_NET being
#     a /24 picked at random from 10.200-250.x.0 among those the machine does
#     not use. The root namespace gets no address: every test process runs
#     inside a host.
#   - each host I has its own data dir HB_DATA[I], HOME and XDG dirs, and its
#     own UTS namespace with hostname hI (so `dyno-supervisor@hI`); processes
#     enter it with `nsenter --net` (not `ip netns exec`, which remounts /sys
#     and so hides the cgroup mounts the supervisor needs).
#   - `hb_spawn I NAME CMD...`, `hb_in I CMD...`, `hdyno I ARGS...` (the CLI
#     on host I, bounded by a timeout);
#   - `hb_keys I`, `hb_allow I ACTORS` / `hb_allow_live KEY HOST ACTORS`
#     (waits for the running broker to reload its allow-list), `hb_up_broker`,
#     `hb_up_join I [ACTORS]` (the issue's `dynod up --listen / --join
#     --broker-key` commands), `hb_three` (the usual 3-host bed);
#   - faults: `hb_kill I` (SIGKILL every process in the namespace),
#     `hb_cut I` / `hb_heal I` (the root-side veth down / up);
#   - views: `hb_view` (tests/hosts/view.py: formation converged, each dyno
#     once, and the dyno processes on each host exactly those `dyno ps` says),
#     `hb_registered`, `hb_up_on`, `hb_capacity_known`;
#   - workloads: a request loop (`hb_load`, load.py) and a config:set loop
#     (`hb_wl_start`, config_loop.sh) with their checks (`hb_rate_ok`,
#     `hb_config_has_acked`, `hb_releases_once`), `hb_deploy_web N`.
# The EXIT trap stops every process, then kills whatever still runs in the
# namespaces and deletes them, the veths and the bridge, also when a case
# failed or the script was killed by its timeout; a run SIGKILLed before
# its trap ran is swept by the next (its prefix is kept in HB_RUNS).

_hb_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HB_HERE=$_hb_here
# shellcheck source=../integration/lib.sh
. "$_hb_here/../integration/lib.sh"
SCRIPT_NAME=$(basename "$0" .sh)

HB_VIEW=$_hb_here/view.py
HB_LOAD=$_hb_here/load.py
HB_P=
HB_N=0
HB_NET=
HB_PORT=7700                # every host's broker port (each has its own loopback)
HB_APP=hb-app               # the web app of the workloads
HB_WL=hb-wl                 # the app the config:set loop changes
export DYNOD_BOOT_TIMEOUT_MS=30000 DYNOD_STOP_TIMEOUT_MS=3000 DYNOD_REPORT_MS=2000 DYNOD_SUPERVISOR_MEM_MB=8192
declare -a HB_DATA HB_ADDR HB_KEY

[ "$(id -u)" = 0 ] || bail "the host test bed needs root (network namespaces)"
for _c in ip nsenter unshare curl; do
    command -v "$_c" >/dev/null || bail "no '$_c' (scripts/deps.sh --test)"
done

# ---- network ----------------------------------------------------------------

_hb_pick_net() {    # a /24 in 10.200-250.x.0 that no address or route of the machine touches
    local used a b
    used=$(ip -4 -o addr show; ip -4 route show table all)
    for _ in $(seq 50); do
        a=$((200 + RANDOM % 51))
        b=$((RANDOM % 256))
        grep -qE "(^|[^0-9])10\.$a\.$b\.|10\.$a\.0\.0/16|10\.0\.0\.0/8" <<<"$used" && continue
        HB_NET=10.$a.$b
        return 0
    done
    return 1
}

hb_ns() { echo "${HB_P}h$1"; }

# Each run records its prefix in HB_RUNS/PREFIX (its shell's pid): a run
# killed before its EXIT trap (SIGKILL) is swept by the next one.
HB_RUNS=/run/dynod-testbed

_hb_sweep() {   # removes the namespaces, veths and bridge of runs whose shell is gone
    local f p i ns
    for f in "$HB_RUNS"/dy*; do
        [ -e "$f" ] || continue
        p=$(basename "$f")
        alive "$(cat "$f")" && continue
        for i in $(seq 9); do
            ns=${p}h$i
            [ -e "/run/netns/$ns" ] || continue
            for _ in 1 2 3; do ip netns pids "$ns" | xargs -r kill -KILL 2>/dev/null; done
            ip netns del "$ns" 2>/dev/null
            ip link del "$ns" 2>/dev/null
        done
        ip link del "${p}br" 2>/dev/null
        rm -f "$f"
    done
}

hb_net() {      # hb_net N: the bridge and N hosts
    local i ns
    mkdir -p "$HB_RUNS" && _hb_sweep
    for _ in $(seq 20); do
        HB_P=dy$(printf '%04x' $((RANDOM % 65536)))
        [ -e "$HB_RUNS/$HB_P" ] || ip link show "${HB_P}br" >/dev/null 2>&1 || [ -e "/run/netns/${HB_P}h1" ] || break
    done
    echo $$ >"$HB_RUNS/$HB_P"
    _hb_pick_net || bail "no free 10.200-250.x.0/24"
    ip link add "${HB_P}br" type bridge || bail "cannot create bridge ${HB_P}br"
    ip link set "${HB_P}br" up || bail "cannot bring ${HB_P}br up"
    for i in $(seq "$1"); do
        ns=$(hb_ns "$i")
        HB_N=$i
        ip netns add "$ns" || bail "cannot create namespace $ns"
        ip link add "$ns" type veth peer name eth0 netns "$ns" || bail "cannot create veth $ns"
        ip link set "$ns" master "${HB_P}br" up || bail "cannot plug $ns into ${HB_P}br"
        ip -n "$ns" link set lo up && ip -n "$ns" addr add "$HB_NET.$i/24" dev eth0 \
            && ip -n "$ns" link set eth0 up || bail "cannot configure $ns"
        HB_ADDR[i]=$HB_NET.$i
        HB_DATA[i]=$T/h$i/data
        mkdir -p "$T/h$i/data" "$T/h$i/home" "$T/h$i/config" "$T/h$i/share" "$T/h$i/work" ||
            bail "cannot make $T/h$i"
    done
    # Every host reaches every other (the bridge forwards at once: no STP).
    for i in $(seq 2 "$1"); do
        wait_for 10 hb_reach 1 "$i" || bail "h1 cannot reach h$i over ${HB_P}br"
    done
}

hb_reach() {    # hb_reach I J: a TCP connect from host I to host J's port 9 is refused (not lost)
    hb_in "$1" python3 -c 'import socket, sys
s = socket.socket(); s.settimeout(1)
try:
    s.connect((sys.argv[1], 9))
except ConnectionRefusedError:
    sys.exit(0)
except OSError as e:
    sys.exit(str(e))' "${HB_ADDR[$2]}"
}

# ---- processes in a host ----------------------------------------------------

_hb_cmd() {     # sets HB_CMD: the prefix that runs a command as host I
    local i=$1
    HB_CMD=(nsenter "--net=/run/netns/$(hb_ns "$i")" unshare --uts
            env "HOME=$T/h$i/home" "XDG_CONFIG_HOME=$T/h$i/config" "XDG_DATA_HOME=$T/h$i/share"
            sh -c 'hostname "$0" && cd "$1" && shift && exec "$@"' "h$i" "$T/h$i/work")
}

hb_in() {       # hb_in I CMD...: runs CMD as host I (foreground)
    local i=$1
    shift
    _hb_cmd "$i"
    "${HB_CMD[@]}" "$@"
}

hb_spawn() {    # hb_spawn I NAME CMD...: spawn, as host I; sets SPAWNED
    local i=$1 name=$2
    shift 2
    _hb_cmd "$i"
    spawn "$name" "${HB_CMD[@]}" "$@"
}

hdyno() {       # hdyno I ARGS...: the CLI on host I (its credentials), bounded (HB_CLI_TIMEOUT, 30 s)
    local i=$1
    shift
    _hb_cmd "$i"
    timeout -k 2 "${HB_CLI_TIMEOUT:-30}" "${HB_CMD[@]}" "$DYNO" "$@"
}

hdynod() {      # hdynod I ARGS...: `dynod` on host I, bounded
    local i=$1
    shift
    _hb_cmd "$i"
    timeout -k 2 30 "${HB_CMD[@]}" "$DYNOD" "$@"
}

hb_pids() { ip netns pids "$(hb_ns "$1")" 2>/dev/null; }

hb_kill() {     # hb_kill I: SIGKILL every process of host I (until none is left)
    local p left
    for _ in $(seq 100); do
        left=$(hb_pids "$1")
        [ -z "$left" ] && return 0
        for p in $left; do kill -KILL "$p" 2>/dev/null; done
        sleep 0.05
    done
    echo "h$1 still runs: $left"
    return 1
}

hb_cut() { ip link set "$(hb_ns "$1")" down; }      # the host's cable out: nothing in, nothing out
hb_heal() { ip link set "$(hb_ns "$1")" up; }

# ---- dynod on the hosts ------------------------------------------------------

hb_keys() {     # hb_keys I: host I's key pair (dynod keys); sets HB_KEY[I]
    local k
    k=$(hdynod "$1" keys --data "${HB_DATA[$1]}" 2>"$T/keys$1.err") ||
        { echo "dynod keys on h$1: $(tail -n 1 "$T/keys$1.err")"; return 1; }
    [[ $k =~ ^[!-~]{40}$ ]] || { echo "dynod keys on h$1 printed '$k', not a Z85 key"; return 1; }
    HB_KEY[$1]=$k
}

hb_allow() {    # hb_allow I ACTORS: h1's broker admits host I's key as hI for ACTORS (a,b; may be empty)
    hb_allow_live "${HB_KEY[$1]}" "h$1" "$2"
}

hb_allow_key() {    # hb_allow_key KEY HOST ACTORS: `dynod keys allow` on h1
    # `--` first: a Z85 key may begin with '-'.
    hdynod 1 keys allow --host "$2" ${3:+--actors "$3"} --data "${HB_DATA[1]}" -- "$1" >/dev/null
}

# hb_allow_live KEY HOST ACTORS: the same, then waits until h1's running
# broker says it reloaded the allow-list (it watches the file)
hb_allow_live() {
    local n
    n=$(grep -c 'allow-list reloaded' "$T"/up-h1-*.err 2>/dev/null | awk -F: '{ s += $NF } END { print s + 0 }')
    hb_allow_key "$@" || return 1
    wait_for 10 _hb_reloaded "$n"
}
_hb_reloaded() {
    [ "$(grep -c 'allow-list reloaded' "$T"/up-h1-*.err 2>/dev/null | awk -F: '{ s += $NF } END { print s + 0 }')" -gt "$1" ]
}

_hb_ready() {   # _hb_ready PID FILE: the ready line, or the process is gone
    grep -q '^dynod ready:' "$2" || dead "$1"
}

_hb_wait_up() {     # _hb_wait_up I NAME: waits for `dynod up`'s ready line
    wait_for 40 _hb_ready "$SPAWNED" "$T/$2.out"
    grep -q '^dynod ready:' "$T/$2.out" && return 0
    echo "dynod up on h$1 printed no ready line: $(tail -n 3 "$T/$2.err" | tr '\n' ' ')" >&2
    return 1
}

HB_UP_PID=()    # dynod up's pid per host
_hb_up_n=0

hb_up_broker() {    # h1: the broker (CURVE on HB_ADDR[1]) and all six actors
    hb_keys 1 || return 1
    _hb_up_n=$((_hb_up_n + 1))
    hb_spawn 1 "up-h1-$_hb_up_n" "$DYNOD" up --data "${HB_DATA[1]}" --listen "tcp://${HB_ADDR[1]}:$HB_PORT" \
        --advertise "${HB_ADDR[1]}" --router-addr 0.0.0.0 "$@"
    HB_UP_PID[1]=$SPAWNED
    _hb_wait_up 1 "up-h1-$_hb_up_n"
}

hb_up_join() {      # hb_up_join I [ACTORS]: host I joins h1 (keys made and allowed first)
    local i=$1 actors=${2:-dyno-supervisor,router}
    if [ -z "${HB_KEY[$i]:-}" ]; then
        hb_keys "$i" && hb_allow "$i" "$actors" || return 1
    fi
    # The hosts share h1's API token, as a user copies it to each machine.
    install -m 0600 "${HB_DATA[1]}/api-token" "${HB_DATA[$i]}/api-token" || return 1
    _hb_up_n=$((_hb_up_n + 1))
    hb_spawn "$i" "up-h$i-$_hb_up_n" "$DYNOD" up --join "tcp://${HB_ADDR[1]}:$HB_PORT" \
        --broker-key "${HB_KEY[1]}" --actors "$actors" --advertise "${HB_ADDR[$i]}" \
        --router-addr 0.0.0.0 --data "${HB_DATA[$i]}"
    HB_UP_PID[i]=$SPAWNED
    _hb_wait_up "$i" "up-h$i-$_hb_up_n" || return 1
    # Its ready line counts names, which h1's actors of the same names
    # satisfy too: wait for this host's own.
    local a spec=
    for a in ${actors//,/ }; do spec="$spec $a@h$i"; done
    wait_for 20 hb_registered $spec || { cat "$T/wait.out" >&2; return 1; }
}

hb_registered() {   # hb_registered NAME@HOST...: each is an up row of `dyno status --json`
    hdyno 1 status --json >"$T/st.json" 2>"$T/st.err" || { cat "$T/st.err"; return 1; }
    python3 -c 'import json, sys
got = set("%s@%s" % (a["name"], a["host"]) for a in json.load(open(sys.argv[1]))["actors"] if a["state"] == "up")
missing = [x for x in sys.argv[2:] if x not in got]
if missing:
    sys.exit("not registered: " + " ".join(missing))' "$T/st.json" "$@"
}

# Which pieces of issue 7 this dynod has; a scenario that needs a missing
# one says so in its FAIL line.
hb_has_flag() {     # hb_has_flag SUBCOMMAND FLAG
    "$DYNOD" "$1" --help 2>&1 | grep -q -- "$2"
}

hb_require_flags() {    # bails unless `dynod up` has the multi-host flags
    local f missing=
    for f in --listen --broker-key --advertise --router-addr; do
        hb_has_flag up "$f" || missing="$missing $f"
    done
    "$DYNOD" keys --help >/dev/null 2>&1 || missing="$missing keys"
    [ -z "$missing" ] || bail "dynod has no${missing} yet (issue 7 part A: CURVE, keys and the dynod up flags)"
}

hb_three() {    # the usual bed: 3 hosts, h1 the broker and all actors, h2 and h3 joined
    hb_require_flags
    hb_net "${1:-3}"
    hb_up_broker || bail "h1's dynod up did not get ready"
    local i
    for i in $(seq 2 "$HB_N"); do
        hb_up_join "$i" || bail "h$i did not join"
    done
    wait_for 20 hb_capacity_known || bail "the scheduler does not know every host: $(cat "$T/wait.out")"
}

# hb_capacity_known: `dyno hosts` shows every host's free memory (the
# scheduler heard from its supervisor, so it places dynos there)
hb_capacity_known() {
    hdyno 1 hosts >"$T/hosts.out" 2>&1 || { cat "$T/hosts.out"; return 1; }
    local i
    for i in $(seq "$HB_N"); do
        awk -v h="h$i" '$1 == h && $3 ~ /^[0-9]+\/[0-9]+$/ { ok = 1 } END { exit !ok }' "$T/hosts.out" ||
            { echo "h$i: $(grep "^h$i " "$T/hosts.out")"; return 1; }
    done
}

# ---- views -------------------------------------------------------------------

hb_ps() {       # hb_ps APP FILE: `dyno ps --json` (run on h1) into FILE
    hdyno 1 ps -a "$1" --json >"$2" 2>"$2.err" || { cat "$2.err"; return 1; }
}

# hb_view APP MARK QUERY ARGS: view.py over `dyno ps --json` and the processes
# of this machine (see view.py for the queries).
hb_view() {
    local app=$1 mark=$2
    shift 2
    hb_ps "$app" "$T/view.json" || return 1
    local maps=() i
    for i in $(seq "$HB_N"); do
        maps+=("h$i=$(stat -L -c %i "/run/netns/$(hb_ns "$i")")")
    done
    python3 "$HB_VIEW" "$T/view.json" "$mark" "${maps[*]}" "$@"
}

# hb_status_row NAME: "STATE HOST" of the actor's one row in `dyno status --json` (on h1)
hb_status_row() {
    hdyno 1 status --json >"$T/st.json" 2>"$T/st.err" || { cat "$T/st.err"; return 1; }
    python3 -c 'import json, sys
rows = [a for a in json.load(open(sys.argv[1]))["actors"] if a["name"] == sys.argv[2]]
if len(rows) != 1:
    sys.exit("%d rows for %s: %s" % (len(rows), sys.argv[2], rows))
print(rows[0]["state"], rows[0]["host"])' "$T/st.json" "$1"
}

hb_up_on() {    # hb_up_on NAME HOST: the actor is up, registered from HOST
    local r
    r=$(hb_status_row "$1") || { echo "$r"; return 1; }
    [ "$r" = "up $2" ] || { echo "$1: $r, wanted up on $2"; return 1; }
}

# hb_all_registered SPEC: `dyno status --json` lists exactly these up actors,
# SPEC being "NAME@HOST ..." (sorted or not)
hb_all_registered() {
    hdyno 1 status --json >"$T/st.json" 2>"$T/st.err" || { cat "$T/st.err"; return 1; }
    python3 -c 'import json, sys
got = sorted("%s@%s" % (a["name"], a["host"]) for a in json.load(open(sys.argv[1]))["actors"] if a["state"] == "up")
if got != sorted(sys.argv[2].split()):
    sys.exit("up: %s" % " ".join(got))' "$T/st.json" "$1"
}

# ---- workloads ---------------------------------------------------------------
# A request loop (load.py) through host I's router to app HB_APP:
# `hb_load I NAME [load.py options]` starts it (sets LOAD_PID), `hb_lq NAME
# EXPR` evaluates EXPR over its counts (s), `hb_load_min NAME N` holds once
# it sent N requests, `hb_load_stop NAME` ends it, `hb_rate_ok NAME` holds
# when ≥ 99% of its requests succeeded (and prints the counts as a # line).
hb_load() {
    local i=$1 name=$2
    shift 2
    rm -f "$T/$name.json" "$T/$name.json.stop"
    hb_spawn "$i" "$name" python3 "$HB_LOAD" "http://${HB_ADDR[$i]}:8080/" "$HB_APP.localhost" "$T/$name.json" "$@"
    LOAD_PID=$SPAWNED
}
hb_lq() {
    python3 -c 'import json, sys
s = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$T/$1.json" "$2"
}
hb_load_min() { [ "$(hb_lq "$1" "s['ok'] + s['fail'] >= $2")" = True ]; }
_hb_load_done() { [ "$(hb_lq "$1" 's["done"]')" = True ]; }
hb_load_stop() {
    touch "$T/$1.json.stop"
    wait_for 30 _hb_load_done "$1"
}
hb_rate_ok() {
    local r
    r=$(hb_lq "$1" '"%d ok %d failed %s at %s" % (s["ok"], s["fail"], s["reasons"], s["failed_at"][:5])')
    echo "# $1: $r" >&7
    [ "$(hb_lq "$1" 's["ok"] >= 0.99 * (s["ok"] + s["fail"]) and s["ok"] > 0')" = True ] || { echo "$r"; return 1; }
}

# A config:set loop (config_loop.sh) on app HB_WL, run on h1: `hb_wl_start`,
# `hb_acked` (how many were acknowledged), `hb_acked_min N`, `hb_wl_stop`;
# `hb_config_has_acked`: every WL_i=vi acknowledged so far is in the
# config; `hb_releases_once`: the app's releases are v1..vN, one per
# change, none twice, one for each acknowledged change.
hb_wl_start() { DYNO=$DYNO hb_spawn 1 config-loop bash "$_hb_here/config_loop.sh" "$HB_WL" "$T/wl"; }
hb_acked() { grep -c . "$T/wl.acked" 2>/dev/null || echo 0; }
hb_acked_min() { [ "$(hb_acked)" -ge "$1" ] || { echo "$(hb_acked) config:set acknowledged, waiting for $1"; return 1; }; }
hb_wl_stop() { touch "$T/wl.stop"; wait_for 60 test -e "$T/wl.done"; }
hb_config_has_acked() {
    cp "$T/wl.acked" "$T/wl.acked.now"
    hdyno 1 config -a "$HB_WL" --json >"$T/cfg.json" 2>"$T/cfg.err" || { cat "$T/cfg.err"; return 1; }
    python3 -c 'import json, sys
cfg = json.load(open(sys.argv[1]))
acked = [l.strip().split("=", 1) for l in open(sys.argv[2]) if l.strip()]
lost = [k for k, v in acked if cfg.get(k) != v]
if lost:
    sys.exit("acknowledged but not in the config: " + " ".join(lost))' "$T/cfg.json" "$T/wl.acked.now"
}
hb_releases_once() {
    cp "$T/wl.acked" "$T/wl.acked.now"
    hdyno 1 releases -a "$HB_WL" --json -n 100000 >"$T/rel.json" 2>"$T/rel.err" || { cat "$T/rel.err"; return 1; }
    python3 -c 'import json, sys, re
rels = json.load(open(sys.argv[1]))["releases"]
vs = sorted(r["version"] for r in rels)
if vs != list(range(1, len(vs) + 1)):
    sys.exit("release versions %s" % vs)
keys = [k for r in rels for k in re.findall(r"WL_[0-9]+", r.get("description", ""))]
twice = sorted(set(k for k in keys if keys.count(k) > 1))
acked = [l.split("=")[0] for l in open(sys.argv[2]) if l.strip()]
missing = [k for k in acked if k not in keys]
if twice or missing:
    sys.exit("released twice: %s; acknowledged without a release: %s" % (twice, missing))' "$T/rel.json" "$T/wl.acked.now"
}

# hb_deploy_web N: creates HB_APP, deploys tests/apps/rollout-web to it with
# HB_MARK=$T and scales web=N; waits until they run (bails otherwise)
hb_deploy_web() {
    local src=$T/h1/work/src
    hdyno 1 apps:create "$HB_APP" >/dev/null 2>"$T/create.err" || bail "apps:create: $(cat "$T/create.err")"
    cp -r "$_hb_here/../apps/rollout-web" "$src" && echo hb >"$src/VERSION" && echo 0.2 >"$src/BOOT_SLEEP" ||
        bail "cannot copy tests/apps/rollout-web"
    hdyno 1 deploy "$src" -a "$HB_APP" >"$T/deploy.out" 2>&1 || bail "deploy: $(tail -n 1 "$T/deploy.out")"
    hdyno 1 config:set "HB_MARK=$T" -a "$HB_APP" >/dev/null 2>"$T/config.err" ||
        bail "config:set: $(cat "$T/config.err")"
    hdyno 1 ps:scale "web=$1" -a "$HB_APP" >/dev/null 2>"$T/scale.err" || bail "ps:scale: $(cat "$T/scale.err")"
    wait_for 60 hb_view "$HB_APP" "$T" converged web "$1" || bail "web=$1 did not come up: $(cat "$T/wait.out")"
}

# ---- teardown ----------------------------------------------------------------

_hb_teardown() {
    _kill_all
    local i
    for i in $(seq "$HB_N"); do
        hb_kill "$i" >/dev/null
        ip netns del "$(hb_ns "$i")" 2>/dev/null
        ip link del "$(hb_ns "$i")" 2>/dev/null
    done
    [ -n "$HB_P" ] && ip link del "${HB_P}br" 2>/dev/null && rm -f "$HB_RUNS/$HB_P"
    return 0
}

_hb_exit() {
    local rc=$?
    trap - EXIT
    _hb_teardown
    (exit "$rc")
    _cleanup
}
trap _hb_exit EXIT
