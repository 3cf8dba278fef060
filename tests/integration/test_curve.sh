#!/usr/bin/env bash
# CURVE between hosts: `dynod up --listen` adds a CURVE endpoint guarded by
# the broker's ZAP handler and allow-list (docs/security.md). Checked: key
# files are 0600; an allowed host key registers its actor over CURVE
# (`dynod up --join --broker-key`, which writes broker_key into its
# credentials) and a CLI over CURVE gets answers; a key added while the
# broker runs is admitted without a restart; refused, each with a clear log
# line, a counter in the broker's `rejected` and nothing delivered: an
# unknown key (its durable ping is never journaled, its config:set never
# applied), NULL and PLAIN security against the CURVE endpoint, a valid key
# claiming another actor's name or another host, a host whose clock is two
# hours off (the actor runs under libfaketime), a host joining under a live
# host's name with another host id; a revoked key's live actor is dropped at
# once and cannot come back; no log holds a secret key or the API token;
# and the bytes of a CURVE connection, recorded by a relay, never show a
# config value sent through it (while the same relay in front of the NULL
# loopback endpoint does).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

LIBFAKETIME=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -n 1)
[ -n "$LIBFAKETIME" ] || bail "libfaketime is not installed (scripts/deps.sh --test)"
# A sanitizer build (make check) wants its runtime first among preloads.
LIBASAN=$(ldd "$DYNOD" | awk '/libasan/ { print $3 }')
FAKETIME_PRELOAD=${LIBASAN:+$LIBASAN:}$LIBFAKETIME

LISTEN_PORT=$(free_port)
LISTEN_EP=tcp://127.0.0.1:$LISTEN_PORT
start_up --listen "$LISTEN_EP" || bail "dynod up --listen did not get ready"
TOKEN=$(cat "$DATA/api-token") || bail "no API token in $DATA"
export DYNOD_API_TOKEN=$TOKEN
wait_for 10 grep -q "CURVE endpoint $LISTEN_EP" "$UP_ERR" || bail "the broker logged no CURVE endpoint"
BK=$(dynod keys --data "$DATA") || bail "dynod keys --data: no broker key"
broker_pid=$(child_pid broker)

# ---- keys -----------------------------------------------------------------
K2=$(dynod keys --data "$T/h2") || bail "dynod keys for h2"
K3=$(dynod keys --data "$T/h3") || bail "dynod keys for h3"
KC=$(dynod keys --out "$T/cli.key") || bail "dynod keys --out"
secret_of() { sed -n 's/^secret=//p' "$1"; }
mode_600() { local f; for f in "$@"; do [ "$(stat -c %a "$f")" = 600 ] || { echo "$f is $(stat -c %a "$f")"; return 1; }; done; }
dynod keys allow "$K2" --host h2 --actors dyno-supervisor --data "$DATA" || bail "keys allow h2"
check key_files_0600 mode_600 "$DATA/keys/host.key" "$T/h2/keys/host.key" "$T/cli.key" "$DATA/keys/allowed"
check keys_list eval "dynod keys list --data '$DATA' | grep -qxF '$K2 host=h2 actors=dyno-supervisor'"
run dynod keys allow "not-a-key" --host h2 --data "$DATA"
check keys_allow_bad_key eval 'expect_rc 2 && one_stderr_line'

# ---- views ----------------------------------------------------------------
# rejected REASON: the broker's rejected[REASON]
rejected() {
    status_json "$T/rj.json" || return 1
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["broker"]["rejected"].get(sys.argv[2], -1))' \
        "$T/rj.json" "$1"
}
rejected_above() {  # REASON N
    local v
    v=$(rejected "$1") || return 1
    [ "$v" -gt "$2" ] || { echo "rejected $1 is $v, not above $2"; return 1; }
}
# peer ADDRESS: listed by the broker and up
peer() {
    status_json "$T/peer.json" || return 1
    python3 -c 'import json,sys
a = [x for x in json.load(open(sys.argv[1]))["actors"] if x["name"] + "@" + x["instance"] == sys.argv[2]]
sys.exit(0 if a and a[0]["state"] == "up" else "%s: %s" % (sys.argv[2], a))' "$T/peer.json" "$1"
}
no_peer() { ! peer "$1" 2>/dev/null; }
journal_head() { sq broker journal_head; }
# A CLI over CURVE to the listen endpoint (through EP when given) with KEYFILE.
curve_dyno() {  # KEYFILE ARGS...
    local key=$1
    shift
    DYNOD_BROKER=${VIA:-$LISTEN_EP} DYNOD_BROKER_KEY=$BK DYNOD_KEY_FILE=$key dyno "$@"
}
logged() { grep -qF -- "$1" "$UP_ERR" || { echo "no log line: $1"; return 1; }; }
# The broker re-reads the allow-list within a tick of a change.
reloaded() { wait_for 5 logged "allow-list reloaded: $1 keys"; }

# ---- an allowed host key registers its actor over CURVE --------------------
reloaded 1 || bail "the broker did not reload the allow-list"
mkdir -p "$T/config-h2"
spawn up-h2 env XDG_CONFIG_HOME="$T/config-h2" "$DYNOD" up --join "$LISTEN_EP" --broker-key "$BK" \
    --actors dyno-supervisor --host h2 --data "$T/h2"
check curve_actor_registers wait_for 20 peer dyno-supervisor@h2
check curve_actor_logged logged "actor dyno-supervisor@h2 up (pid"
check joined_credentials_broker_key eval "grep -qF '\"broker_key\": \"$BK\"' '$T/config-h2/dynod/credentials'"
check host_id_0600 mode_600 "$T/h2/host-id" "$DATA/host-id"

# ---- unknown key: refused at the handshake, nothing delivered --------------
dyno apps:create curveapp >/dev/null 2>"$T/apps.err" || bail "apps:create: $(cat "$T/apps.err")"
head0=$(journal_head) || bail "no journal head"
run curve_dyno "$T/cli.key" ping config-keeper --durable --timeout 3
check unknown_key_refused expect_rc 3
run curve_dyno "$T/cli.key" config:set -a curveapp "STRANGER=never-applied"
check unknown_key_config_refused expect_rc 3
check unknown_key_logged logged "key ${KC:0:8}... is not on the allow-list"
check unknown_key_counted rejected_above curve_key 0
check unknown_key_nothing_journaled test "$(journal_head)" = "$head0"
check unknown_key_nothing_applied eval "! dyno config -a curveapp | grep -q STRANGER"

# ---- a key added while the broker runs is admitted, no restart -------------
dynod keys allow "$KC" --host laptop --data "$DATA" || bail "keys allow cli"
check added_key_admitted wait_for 15 curve_dyno "$T/cli.key" ping config-keeper
check added_key_no_restart test "$(child_pid broker)" = "$broker_pid"
run curve_dyno "$T/cli.key" config:set -a curveapp "OVERCURVE=yes"
check curve_cli_config_set expect_rc 0
check curve_cli_config_get eval "[ \"\$(curve_dyno '$T/cli.key' config:get OVERCURVE -a curveapp)\" = yes ]"
check credentials_cli eval "XDG_CONFIG_HOME='$T/config-h2' DYNOD_KEY_FILE='$T/cli.key' timeout 30 '$DYNO' ping broker"

# ---- an allowed client key may neither pose as an actor nor read the journal ---
# Receivers trust the name in `from`: a client over CURVE named like an actor
# is refused at hello; and the journal (every app's config) is only for an
# actor's own entries over CURVE.
MSG_TOOL=
for _t in "$DYNOD_BIN/../tests/msg-tool" "$DYNOD_BIN/../build/tests/msg-tool"; do
    [ -z "$MSG_TOOL" ] && [ -x "$_t" ] && MSG_TOOL=$_t
done
curve_tool() {  # NAME TO TYPE BODY: msg-tool over CURVE with the CLI's key (output in $T/tool.out)
    timeout 30 "$MSG_TOOL" --broker "$LISTEN_EP" --token-file "$DATA/api-token" --broker-key "$BK" \
        --key-file "$T/cli.key" --name "$1" --to "$2" --type "$3" --body "$4" --listen 3000 \
        --until error >"$T/tool.out" 2>&1
}
if [ -x "$MSG_TOOL" ]; then
    run curve_tool config-keeper release-keeper ping '{}'
    check client_as_actor_refused expect_rc 3
    check client_as_actor_logged logged "a client may not register as actor name 'config-keeper'"
    run curve_tool msg-tool broker journal.read '{"from": 1}'
    check journal_read_refused eval "grep -qF 'journal.read is only for an actor' '$T/tool.out' && ! grep -q journal.batch '$T/tool.out'"
    check journal_read_logged logged "refused journal.read from msg-tool@"
else
    fail client_as_actor_refused "no msg-tool (make build/tests/msg-tool)"
fi

# ---- NULL and PLAIN security against the CURVE endpoint --------------------
hs0=$(rejected curve_handshake)
run env DYNOD_BROKER="$LISTEN_EP" "$DYNO" ping broker
check null_refused expect_rc 3
check null_logged logged "refused a connection on $LISTEN_EP: no CURVE handshake"
# A PLAIN peer: a ZMTP 3.0 greeting that asks for PLAIN (raw bytes, no
# ZeroMQ library in python). The server's greeting names CURVE; once it has
# ours it hangs up.
plain_greeting() {
    python3 - "$LISTEN_PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"\xff" + b"\x00" * 8 + b"\x7f" + b"\x03")
got = b""
while len(got) < 64:
    d = s.recv(64 - len(got))
    if not d:
        break
    got += d
if b"CURVE" not in got:
    sys.exit("server greeting: %r" % got)
s.sendall(b"\x00" + b"PLAIN".ljust(20, b"\x00") + b"\x00" + b"\x00" * 31)
s.sendall(b"\x04\x1a\x05HELLO\x08Username\x00\x00\x00\x00\x08Password\x00\x00\x00\x00")
try:
    closed = s.recv(4096) == b""
except ConnectionResetError:
    closed = True
sys.exit(0 if closed else "the server answered a PLAIN hello")
PY
}
check plain_refused plain_greeting
check handshakes_counted wait_for 5 rejected_above curve_handshake "$((hs0 + 1))"

# ---- a valid key claiming another actor, or another host --------------------
bind0=$(rejected key_binding)
spawn pose-router "$DYNOD" actor router --join "$LISTEN_EP" --broker-key "$BK" --data "$T/h2" --host h2
check other_actor_refused wait_for 15 grep -qF "this key may not register actor 'router'" "$UP_ERR"
spawn pose-host "$DYNOD" actor dyno-supervisor --join "$LISTEN_EP" --broker-key "$BK" --data "$T/h2" \
    --host h9 --instance h9
check other_host_refused wait_for 15 grep -qF "this key is bound to host 'h2', not 'h9'" "$UP_ERR"
check binding_counted rejected_above key_binding "$((bind0 + 1))"
check binding_not_registered eval 'no_peer router@h2 && no_peer dyno-supervisor@h9'

# ---- a clock two hours off -------------------------------------------------
dynod keys allow "$K3" --host h3 --actors dyno-supervisor --data "$DATA" || bail "keys allow h3"
reloaded 3 || bail "the broker did not reload the allow-list"
clock0=$(rejected clock_skew)
spawn skewed env LD_PRELOAD="$FAKETIME_PRELOAD" FAKETIME=-2h DONT_FAKE_MONOTONIC=1 "$DYNOD" actor dyno-supervisor \
    --join "$LISTEN_EP" --broker-key "$BK" --data "$T/h3" --host h3
SKEWED=$SPAWNED
check clock_refused wait_for 15 grep -qE "refused hello from dyno-supervisor@h3 on 'h3': the sender's clock is [0-9]+ ms behind" "$UP_ERR"
check clock_counted rejected_above clock_skew "$clock0"
check clock_not_registered no_peer dyno-supervisor@h3
kill -TERM "$SKEWED"

# ---- a host joining under a live host's name, with another host id ---------
K2B=$(dynod keys --data "$T/h2b") || bail "dynod keys for h2b"
dynod keys allow "$K2B" --host h2 --actors dyno-supervisor --data "$DATA" || bail "keys allow h2b"
reloaded 4 || bail "the broker did not reload the allow-list"
hid0=$(rejected host_id)
spawn impostor "$DYNOD" actor dyno-supervisor --join "$LISTEN_EP" --broker-key "$BK" --data "$T/h2b" \
    --host h2 --instance h2-twin
check same_name_refused wait_for 15 grep -qF "host 'h2' is live with another host id" "$UP_ERR"
check same_name_counted rejected_above host_id "$hid0"
check same_name_original_kept holds 2 peer dyno-supervisor@h2
check same_name_not_registered no_peer dyno-supervisor@h2-twin

# ---- revoking a key drops its live actor at once; it cannot come back ------
dynod keys revoke "$K2" --data "$DATA" || bail "keys revoke"
check revoked_dropped wait_for 5 no_peer dyno-supervisor@h2
check revoked_logged wait_for 5 logged "dropped dyno-supervisor@h2 (key ${K2:0:8}...): its key was revoked"
check revoked_stays_out holds 4 no_peer dyno-supervisor@h2
run dynod keys revoke "$K2" --data "$DATA"
check revoke_twice_refused eval 'expect_rc 1 && one_stderr_line'

# ---- the bytes on the wire ---------------------------------------------------
cat >"$T/relay.py" <<'PY'
# relay.py LISTEN_PORT TARGET_PORT FILE: forwards TCP on loopback, records
# every byte both ways into FILE
import socket, sys, threading
lport, tport, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
out = open(path, "ab", buffering=0)
lock = threading.Lock()
def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            with lock:
                out.write(d)
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", lport))
srv.listen(16)
print("relay ready", flush=True)
while True:
    c, _ = srv.accept()
    u = socket.create_connection(("127.0.0.1", tport))
    threading.Thread(target=pipe, args=(c, u), daemon=True).start()
    threading.Thread(target=pipe, args=(u, c), daemon=True).start()
PY
RELAY_C=$(free_port)
RELAY_N=$(free_port)
spawn relay-curve python3 "$T/relay.py" "$RELAY_C" "$LISTEN_PORT" "$T/wire-curve.bin"
spawn relay-null python3 "$T/relay.py" "$RELAY_N" "$BROKER_PORT" "$T/wire-null.bin"
wait_for 10 grep -q "relay ready" "$T/relay-curve.out" || bail "relay-curve did not start"
wait_for 10 grep -q "relay ready" "$T/relay-null.out" || bail "relay-null did not start"
MARK_C=SECRETVALUE-curve-$RANDOM$RANDOM
MARK_N=SECRETVALUE-null-$RANDOM$RANDOM
VIA=tcp://127.0.0.1:$RELAY_C run curve_dyno "$T/cli.key" config:set -a curveapp "WIRE_C=$MARK_C"
check wire_curve_set expect_rc 0
run env DYNOD_BROKER="tcp://127.0.0.1:$RELAY_N" "$DYNO" config:set -a curveapp "WIRE_N=$MARK_N"
check wire_null_set expect_rc 0
check wire_curve_applied eval "[ \"\$(dyno config:get WIRE_C -a curveapp)\" = '$MARK_C' ]"
in_file() { python3 -c 'import sys; sys.exit(0 if sys.argv[1].encode() in open(sys.argv[2], "rb").read() else 1)' "$@"; }
check wire_curve_recorded test -s "$T/wire-curve.bin"
check wire_curve_no_clear_text eval "! in_file '$MARK_C' '$T/wire-curve.bin'"
check wire_null_control in_file "$MARK_N" "$T/wire-null.bin"

# ---- no secret in any log ----------------------------------------------------
no_secrets() {
    local s f
    for s in "$TOKEN" "$(secret_of "$DATA/keys/host.key")" "$(secret_of "$T/h2/keys/host.key")" \
             "$(secret_of "$T/h3/keys/host.key")" "$(secret_of "$T/h2b/keys/host.key")" "$(secret_of "$T/cli.key")"; do
        [ -n "$s" ] || { echo "an empty secret"; return 1; }
        for f in "$T"/*.err "$T"/*.out; do
            grep -qF -- "$s" "$f" && { echo "a secret in $f"; return 1; }
        done
    done
    return 0
}
check no_secrets_in_logs no_secrets

finish
