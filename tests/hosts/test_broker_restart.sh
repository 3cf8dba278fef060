#!/usr/bin/env bash
# Broker restart across hosts (docs/testbed.md scenario 6). Three hosts as
# in test_failover; web=3 runs one dyno per host; a config:set loop on h1
# (tests/hosts/config_loop.sh) and a request loop through h3's router run
# throughout. The broker (a child of h1's dynod up) is stopped twice: once
# with SIGTERM, once with SIGKILL; dynod up starts it again each time. Then:
# every actor on every host registers again, the CLI works again, every
# config:set in flight got an answer or a clear error (none hung), every
# acknowledged change is in the config with exactly one release (nothing
# lost, nothing applied twice), the formation is untouched (the same dynos
# still run, once each), and ≥ 99% of the requests through h3's router
# succeeded (the routers keep routing while the broker is away).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

t0=$(now_ms)
hb_three
ALL="config-keeper@h1 dyno-supervisor@h1 log-plex@h1 release-keeper@h1 router@h1 scheduler@h1"
ALL="$ALL dyno-supervisor@h2 router@h2 dyno-supervisor@h3 router@h3"
registered() { hb_all_registered "$ALL"; }
wait_for 20 registered || bail "not every actor registered: $(cat "$T/wait.out")"
echo "# bed: 3 hosts up in $(( ($(now_ms) - t0) / 1000 )) s"

hdyno 1 apps:create "$HB_WL" >/dev/null 2>"$T/create.err" || bail "apps:create: $(cat "$T/create.err")"
hb_deploy_web 3
converged() { hb_view "$HB_APP" "$T" converged web 3; }
spread_1_1_1() { [ "$(hb_view "$HB_APP" "$T" spread)" = "h1=1 h2=1 h3=1" ]; }
check restart_setup_spread_1_1_1 spread_1_1_1
procs() {   # the dyno processes (name:pid) now
    hb_ps "$HB_APP" "$T/procs.json" >/dev/null || return 1
    python3 - "$T" <<'PY'
import os, sys
out = []
for pid in os.listdir("/proc"):
    try:
        env = open("/proc/%s/environ" % pid, "rb").read().split(b"\0")
    except OSError:
        continue
    if ("HB_MARK=" + sys.argv[1]).encode() in env:
        out.append("%s:%s" % (next((e[5:].decode() for e in env if e.startswith(b"DYNO=")), "?"), pid))
print(" ".join(sorted(out)))
PY
}
PROCS=$(procs)

hb_wl_start
hb_load 3 load
wait_for 30 hb_acked_min 3 || bail "the config:set loop does not run: $(tail -n 2 "$T/wl.err")"

broker_pid() { ps -o pid=,args= --ppid "${HB_UP_PID[1]}" | awk '$3 == "broker" { print $1 }'; }
new_broker() { local p; p=$(broker_pid); [ -n "$p" ] && [ "$p" != "$1" ]; }

for sig in TERM KILL; do
    old=$(broker_pid)
    [ -n "$old" ] || { fail "restart_${sig}_broker" "no broker child of h1's dynod up"; continue; }
    n_acked=$(hb_acked)
    t_stop=$(now_ms)
    kill -"$sig" "$old"
    check "restart_${sig}_broker_back" wait_for 20 new_broker "$old"
    if wait_for 30 registered; then
        pass "restart_${sig}_every_actor_on_every_host_back"
        echo "# SIG$sig: every actor registered again $(( $(now_ms) - t_stop )) ms after the signal"
    else
        fail "restart_${sig}_every_actor_on_every_host_back" "$(tail -n 1 "$T/wait.out")"
    fi
    check "restart_${sig}_cli_reconnects" wait_for 20 hdyno 1 ps -a "$HB_APP"
    check "restart_${sig}_workload_goes_on" wait_for 40 hb_acked_min $((n_acked + 5))
    echo "# SIG$sig: config:set acknowledged again $(( $(now_ms) - t_stop )) ms after the signal"
    check "restart_${sig}_config" hb_config_has_acked
    check "restart_${sig}_releases_once" hb_releases_once
    check "restart_${sig}_formation_untouched" eval 'converged && [ "$(procs)" = "$PROCS" ]'
done

hb_wl_stop || fail restart_loop_end "the config:set loop did not end"
hb_load_stop load
# In-flight requests got a reply or a clear error: none hung until the
# loop's 40 s bound killed it (exit 124/137), and each failure said why.
in_flight() {
    local hung
    hung=$(grep -cE 'rc=(124|137)$' "$T/wl.failed")
    [ "$hung" = 0 ] || { echo "$hung config:set hung until killed"; return 1; }
    [ "$(grep -c . "$T/wl.failed")" -le "$(grep -c . "$T/wl.err")" ] ||
        { echo "failed config:set without an error line: $(tr '\n' ' ' <"$T/wl.failed")"; return 1; }
}
echo "# workload: $(hb_acked) config:set acknowledged, $(grep -c . "$T/wl.failed") not ($(tr '\n' ' ' <"$T/wl.failed")): $(sort "$T/wl.err" | uniq -c | head -n 3 | tr '\n' ' ')"
check restart_in_flight_answered in_flight
check restart_end_config_all_acked hb_config_has_acked
check restart_end_releases_once hb_releases_once
check restart_end_requests_99pct hb_rate_ok load
check restart_end_hosts_listed eval 'hdyno 1 hosts | grep -cE "^h[123] " | grep -qx 3'
echo "# total $(( ($(now_ms) - t0) / 1000 )) s"

finish
