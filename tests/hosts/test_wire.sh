#!/usr/bin/env bash
# No config value in clear between hosts (docs/testbed.md scenario 7).
# Three hosts as in test_failover, web=3 (one dyno per host). While
# tests/hosts/capture.py records every TCP frame on the hosts' veths (the
# wire between them), a CLI on h3 (its own key, CURVE to h1's broker) sets
# a config var to a random marker; the dynos on h2 and h3 get it in their
# environment (so it did cross the wire, to config-keeper on h1 and back to
# each supervisor), yet no reassembled connection holds the marker. Two
# controls keep the assertion honest: a request through h1's router from
# h3 carrying another marker in a header is found in the capture (the
# capture sees clear payloads), and the broker connections (port 7700)
# carried traffic while the capture ran.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

t0=$(now_ms)
hb_three
hb_deploy_web 3
[ "$(hb_view "$HB_APP" "$T" spread)" = "h1=1 h2=1 h3=1" ] || fail wire_setup_spread "$(hb_view "$HB_APP" "$T" spread)"

cli_key=$(hdynod 3 keys --out "$T/h3/cli.key") && hb_allow_live "$cli_key" h3 "" || bail "cannot allow a CLI key for h3"
remote_cli() {  # the CLI on h3 against h1's CURVE endpoint
    DYNOD_BROKER=tcp://${HB_ADDR[1]}:$HB_PORT DYNOD_BROKER_KEY=${HB_KEY[1]} DYNOD_KEY_FILE=$T/h3/cli.key \
        DYNOD_API_TOKEN=$(cat "${HB_DATA[1]}/api-token") hdyno 3 "$@"
}
MARK=cfgmark$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
CTRL=ctrlmark$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')

spawn capture python3 "$HB_HERE/capture.py" "$T/cap" "$(hb_ns 1)" "$(hb_ns 2)" "$(hb_ns 3)"
wait_for 10 test -e "$T/cap.ready" || bail "the capture did not start: $(cat "$T/capture.err")"

# Control: a header through h1's router from h3, in clear HTTP.
check wire_control_request hb_in 3 curl -sf -o /dev/null -m 10 -H "Host: $HB_APP.localhost" -H "X-Probe: $CTRL" \
    "http://${HB_ADDR[1]}:8080/"
check wire_config_set_over_curve remote_cli config:set "CFG_MARK=$MARK" -a "$HB_APP"
# dynos_have HOST...: a dyno of this run on each HOST has CFG_MARK=$MARK in its environment
dynos_have() {
    local h p env ino found
    for h in "$@"; do
        ino=$(stat -L -c %i "/run/netns/$(hb_ns "${h#h}")")
        found=
        for p in $(hb_pids "${h#h}"); do
            env=$(tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null) || continue
            grep -qx "HB_MARK=$T" <<<"$env" && grep -qx "CFG_MARK=$MARK" <<<"$env" &&
                [ "$(stat -L -c %i "/proc/$p/ns/net")" = "$ino" ] && found=$p
        done
        [ -n "$found" ] || { echo "no dyno on $h has the new config yet"; return 1; }
    done
}
check wire_config_reached_h2_h3 wait_for 60 dynos_have h2 h3
touch "$T/cap.stop"
wait_for 20 test -e "$T/cap" || bail "the capture did not finish: $(cat "$T/capture.err")"
echo "# capture: $(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["frames"], "frames,", len(s["flows"]), "connections,", sum(s["flows"].values()), "payload bytes")' "$T/cap")"

found_in() { grep -laF "$1" "$T"/cap.d/*.bin 2>/dev/null; }
check wire_control_seen_in_clear eval '[ -n "$(found_in "$CTRL")" ]'
broker_traffic() {
    python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))
n = sum(v for k, v in s["flows"].items() if k.endswith("_7700") or "_7700-" in k)
if n < 1000:
    sys.exit("only %d payload bytes on the broker connections" % n)
print(n)' "$T/cap"
}
check wire_broker_traffic_captured broker_traffic
no_mark() {
    local hit
    hit=$(found_in "$MARK")
    [ -z "$hit" ] || { echo "the config value is in clear in $(basename -a $hit | tr '\n' ' ')"; return 1; }
}
check wire_no_config_value_in_clear no_mark
echo "# total $(( ($(now_ms) - t0) / 1000 )) s"

finish
