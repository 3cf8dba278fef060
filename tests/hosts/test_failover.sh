#!/usr/bin/env bash
# Three hosts (network namespaces, tests/hosts/lib.sh): h1 runs the broker
# with a CURVE endpoint and all six actors, h2 and h3 join with their own
# keys as dyno-supervisor + router. Scenarios 1-4 of docs/testbed.md:
#   join      `dyno hosts` lists h1..h3; a remote CLI with an allowed key
#             talks CURVE to h1, one with an unknown key is refused;
#   scale     web=6 spreads 2/2/2, each dyno advertises its own host's
#             address, and every host's router reaches all six dynos;
#   kill      h2 SIGKILLed: its dynos run on h1/h3 within the heartbeat
#             timeout, ≥ 99% of a steady request loop through h3's router
#             succeeds meanwhile; h2 back: nothing runs twice, no orphans;
#   cut       h3's link down (its processes keep running): its dynos are
#             placed on h1/h2, ≥ 99% through h1's router; link up: h3's
#             stale copies are stopped, each dyno runs once, where ps says.
# A dyno process is found by HB_MARK=$T (a config var) in its environment.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

APP=$HB_APP
WEB6=web.1,web.2,web.3,web.4,web.5,web.6

t0=$(now_ms)
hb_three
echo "# bed: 3 hosts up in $(( ($(now_ms) - t0) / 1000 )) s (net $HB_NET.0/24, prefix $HB_P)"

# ---- 1. join ------------------------------------------------------------------
hosts_listed() {    # `dyno hosts` on h1 names h1, h2 and h3
    hdyno 1 hosts >"$T/hosts.out" 2>&1 || { cat "$T/hosts.out"; return 1; }
    local i
    for i in 1 2 3; do
        grep -qw "h$i" "$T/hosts.out" || { echo "no h$i in: $(tr '\n' '|' <"$T/hosts.out")"; return 1; }
    done
}
check join_hosts_listed wait_for 15 hosts_listed
host_actors() {     # host_actors HOST LIST: the host's row in `dyno hosts` names exactly these actors
    local got
    got=$(awk -v h="$1" '$1 == h { print $NF }' "$T/hosts.out")
    [ "$got" = "$2" ] || { echo "$1 runs '$got', wanted '$2'"; return 1; }
}
check join_hosts_h1_actors host_actors h1 broker,config-keeper,dyno-supervisor,log-plex,release-keeper,router,scheduler
check join_hosts_h2_actors host_actors h2 dyno-supervisor,router
check join_hosts_h3_actors host_actors h3 dyno-supervisor,router

# A CLI user on h3 with a key of their own: allowed as a client (no actors).
remote_cli() {      # remote_cli KEYFILE ARGS...: the CLI on h3 against h1's CURVE endpoint
    local key=$1
    shift
    DYNOD_BROKER=tcp://${HB_ADDR[1]}:$HB_PORT DYNOD_BROKER_KEY=${HB_KEY[1]} DYNOD_KEY_FILE=$key \
        DYNOD_API_TOKEN=$(cat "${HB_DATA[1]}/api-token") hdyno 3 "$@"
}
cli_key=$(hdynod 3 keys --out "$T/h3/cli.key") || fail join_cli_key "dynod keys --out failed"
# The broker picks up the allow-list's change on its own (no restart).
check join_cli_key_allowed_live hb_allow_live "$cli_key" h3 ""
check join_remote_cli_curve remote_cli "$T/h3/cli.key" ping broker --timeout 5
# A key the broker does not know: the CLI fails with one clear line (not
# killed by our 15 s bound), and the broker logs the refusal.
hdynod 3 keys --out "$T/h3/stranger.key" >/dev/null
refused() {
    HB_CLI_TIMEOUT=15 run remote_cli "$T/h3/stranger.key" ping broker --timeout 3
    case $RC in
        0) echo "an unknown key was let in"; return 1 ;;
        124|137) echo "the CLI with an unknown key hung until killed (15 s), no error"; return 1 ;;
    esac
    one_stderr_line
}
check join_unknown_cli_key_refused refused
check join_unknown_cli_key_logged grep -q "refused a CURVE connection from ${HB_ADDR[3]}: key .* is not on the allow-list" \
    "$T"/up-h1-1.err

# ---- 2. deploy and scale across hosts -----------------------------------------
t_scale=$(now_ms)
hb_deploy_web 6
converged() { hb_view "$APP" "$T" converged web 6 "${HB_ADDR[@]}"; }
check scale_converged converged
echo "# deployed, web=6 up on 3 hosts in $(( ($(now_ms) - t_scale) / 1000 )) s"
spread_is() {
    local got
    got=$(hb_view "$APP" "$T" spread) || return 1
    [ "$got" = "$1" ] || { echo "spread $got, wanted $1"; return 1; }
}
check scale_spread_2_2_2 spread_is "h1=2 h2=2 h3=2"

reaches_all() {     # reaches_all I: host I's router answered from all six dynos, nothing failed
    hb_load "$1" "reach$1" --until-dynos "$WEB6" --max 400 --timeout 10
    wait_for 60 dead "$LOAD_PID" || return 1
    [ "$(hb_lq "reach$1" 'sorted(s["dynos"]) == "'"$WEB6"'".split(",") and s["fail"] == 0')" = True ] ||
        { echo "through h$1's router: $(cat "$T/reach$1.json")"; return 1; }
}
for i in 1 2 3; do
    check "scale_router_h${i}_reaches_all" reaches_all "$i"
done

# ---- 3. kill a host -----------------------------------------------------------
hb_load 3 load-kill
wait_for 20 hb_load_min load-kill 50 || fail kill_load "the request loop through h3 does not run"
t_kill=$(now_ms)
check kill_h2 hb_kill 2
placed_without() { hb_view "$APP" "$T" placed web 6 "$@"; }
if wait_for 30 placed_without h2; then
    pass kill_h2_dynos_placed_elsewhere
    echo "# failover: h2's dynos up on h1/h3 $(( $(now_ms) - t_kill )) ms after the SIGKILL"
else
    fail kill_h2_dynos_placed_elsewhere "$(tail -n 1 "$T/wait.out")"
fi
check kill_converged wait_for 20 converged
check kill_spread_3_0_3 spread_is "h1=3 h2=0 h3=3"
n=$(hb_lq load-kill 's["ok"] + s["fail"]')
wait_for 20 hb_load_min load-kill $((n + 100))
hb_load_stop load-kill
check kill_99pct_through_h3 hb_rate_ok load-kill

hb_up_join 2 || fail kill_h2_back "h2's dynod up did not get ready again"
check kill_back_hosts_listed wait_for 15 hosts_listed
check kill_back_no_duplicates holds 6 converged
check kill_back_h2_empty hb_view "$APP" "$T" none_on h2

# ---- 4. cut a host's link, then heal ------------------------------------------
hb_load 1 load-cut
wait_for 20 hb_load_min load-cut 50 || fail cut_load "the request loop through h1 does not run"
t_cut=$(now_ms)
check cut_h3 hb_cut 3
if wait_for 30 placed_without h3; then
    pass cut_h3_dynos_placed_elsewhere
    echo "# partition: h3's dynos up on h1/h2 $(( $(now_ms) - t_cut )) ms after the cut"
else
    fail cut_h3_dynos_placed_elsewhere "$(tail -n 1 "$T/wait.out")"
fi
n=$(hb_lq load-cut 's["ok"] + s["fail"]')
wait_for 30 hb_load_min load-cut $((n + 100))
hb_load_stop load-cut
check cut_99pct_through_h1 hb_rate_ok load-cut

t_heal=$(now_ms)
check heal_h3 hb_heal 3
if wait_for 30 converged; then
    pass heal_duplicates_stopped
    echo "# heal: converged $(( $(now_ms) - t_heal )) ms after the link came back"
else
    fail heal_duplicates_stopped "$(tail -n 1 "$T/wait.out")"
fi
check heal_stays_converged holds 5 converged
check heal_hosts_listed wait_for 15 hosts_listed
echo "# total $(( ($(now_ms) - t0) / 1000 )) s"

finish
