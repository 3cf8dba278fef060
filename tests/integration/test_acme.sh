#!/usr/bin/env bash
# Automated Certificate Management against Debian's pebble (a real ACME
# server, RFC 8555) on 127.0.0.1: pebble-challtestsrv answers every DNS
# name with 127.0.0.1, so pebble validates HTTP-01 on the router's HTTP
# port. An app with two custom domains and `certs:auto:enable` gets one
# certificate for both (certs:auto shows `Cert issued`, `dyno certs` lists
# it, https://www.acme.test reaches the app with pebble's root trusted);
# with a renewal window longer than pebble's lifetime a second certificate
# (new serial) is served without a restart; a domain whose DNS points
# elsewhere shows `Failed` with the CA's reason and is retried only after
# DYNOD_ACM_RETRY_S; disable stops it; after a kill -9 of release-keeper
# the policy orders again with the same account key; no private key in
# clear in the journal or snapshots; the ACME account key sealed, 0600.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

command -v pebble >/dev/null && command -v pebble-challtestsrv >/dev/null ||
    bail "pebble is not installed (scripts/deps.sh --test installs it)"
APPS=$(cd "$(dirname "$0")/../apps" && pwd) || bail "no tests/apps folder"
export DYNOD_BOOT_TIMEOUT_MS=20000
RETRY_S=3
HTTP_PORT=$(free_port)
HTTPS_PORT=$(free_port)
ACME_PORT=$(free_port)
MGMT_PORT=$(free_port)
DNS_PORT=$(free_port)
CTS_PORT=$(free_port)
ALPN_PORT=$(free_port)

# ---- pebble: its own HTTPS certificate from a throwaway CA ------------------
P=$T/pebble
mkdir -p "$P"
{
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/ca.key" \
        -out "$P/ca.pem" -days 2 -subj /CN=acme-test-ca &&
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/srv.key" \
            -out "$P/srv.csr" -subj /CN=localhost &&
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$P/ext" &&
        openssl x509 -req -in "$P/srv.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" -CAcreateserial \
            -out "$P/srv.pem" -days 2 -extfile "$P/ext"
} >"$P/openssl.log" 2>&1 || bail "openssl: $(tail -n 1 "$P/openssl.log")"
cat >"$P/pebble.json" <<EOF
{"pebble": {"listenAddress": "127.0.0.1:$ACME_PORT", "managementListenAddress": "127.0.0.1:$MGMT_PORT",
 "certificate": "$P/srv.pem", "privateKey": "$P/srv.key", "httpPort": $HTTP_PORT, "tlsPort": $ALPN_PORT,
 "ocspResponderURL": "", "externalAccountBindingRequired": false}}
EOF
spawn challtestsrv pebble-challtestsrv -defaultIPv4 127.0.0.1 -defaultIPv6 "" -dns01 "127.0.0.1:$DNS_PORT" \
    -http01 "" -https01 "" -tlsalpn01 "" -management "127.0.0.1:$CTS_PORT"
PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0 \
    spawn pebble pebble -config "$P/pebble.json" -dnsserver "127.0.0.1:$DNS_PORT"
directory_up() { curl -sf --cacert "$P/ca.pem" "https://127.0.0.1:$ACME_PORT/dir" | grep -q newOrder; }
wait_for 20 directory_up || bail "pebble's directory did not come up: $(tail -n 2 "$T/pebble.err")"
curl -sf --cacert "$P/ca.pem" "https://127.0.0.1:$MGMT_PORT/roots/0" >"$P/root.pem" ||
    bail "no root from pebble's management interface"
# The failing domain: its A record points where no router listens.
curl -sf -d '{"host": "bad.acme.test.", "addresses": ["127.0.0.2"]}' \
    "http://127.0.0.1:$CTS_PORT/add-a" >/dev/null || bail "challtestsrv refused the A record"

# ---- dynod ------------------------------------------------------------------
export DYNOD_ACME_DIRECTORY=https://127.0.0.1:$ACME_PORT/dir
export DYNOD_ACME_CA=$P/ca.pem
export DYNOD_ACME_EMAIL=ops@acme.test
export DYNOD_ACM_RETRY_S=$RETRY_S
# Longer than pebble's five years: every certificate is due at once, so a
# renewal follows each issuance after the retry delay.
export DYNOD_ACM_RENEW_BEFORE_S=315360000
start_up --http-port "$HTTP_PORT" --https-port "$HTTPS_PORT" || bail "dynod up did not get ready"
APP=acme-app
dyno apps:create "$APP" >/dev/null 2>"$T/create.err" || bail "apps:create: $(cat "$T/create.err")"
dyno deploy "$APPS/router-echo" -a "$APP" >"$T/deploy.out" 2>&1 || bail "deploy: $(tail -n 1 "$T/deploy.out")"
dyno domains:add www.acme.test -a "$APP" >"$T/dom.out" 2>&1 || bail "domains:add: $(tail -n 1 "$T/dom.out")"
dyno domains:add api.acme.test -a "$APP" >"$T/dom.out" 2>&1 || bail "domains:add: $(tail -n 1 "$T/dom.out")"

run dyno certs:auto -a "$APP"
check auto_off_by_default grep -q 'Automatic Certificate Management is disabled on acme-app' "$T/run.out"
run dyno certs:auto:enable -a nope-app
check enable_unknown_app expect_rc 1
check enable_unknown_app_says grep -q "app 'nope-app' does not exist" "$T/run.err"
run dyno certs:auto:enable -a "$APP" extra
check enable_extra_arg expect_rc 2
run dyno certs:auto:enable -a "$APP"
check enable expect_rc 0
check enable_says grep -qx 'Enabling Automatic Certificate Management... done' "$T/run.out"

# ---- issuance ---------------------------------------------------------------
issued() {
    dyno certs:auto -a "$APP" >"$T/auto.out" 2>&1 &&
        grep -Eq '^www\.acme\.test +Cert issued ' "$T/auto.out" &&
        grep -Eq '^api\.acme\.test +Cert issued ' "$T/auto.out"
}
check certs_auto_issued wait_for 60 issued
check certs_auto_enabled_header grep -q 'Automatic Certificate Management is enabled on acme-app' "$T/auto.out"
check certs_auto_details grep -q 'Issuer: *Pebble Intermediate CA' "$T/auto.out"
dyno certs:auto -a "$APP" --json >"$T/auto.json" 2>&1
json_ok() { python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
assert d["acm"] is True, d
s = {r["hostname"]: r["status"] for r in d["domains"]}
assert s == {"api.acme.test": "issued", "www.acme.test": "issued"}, s' "$T/auto.json"; }
check certs_auto_json json_ok
certs_listed() {
    dyno certs -a "$APP" >"$T/certs.out" 2>&1 && grep -q 'www.acme.test' "$T/certs.out" &&
        grep -q 'api.acme.test' "$T/certs.out"
}
check certs_lists_acm_cert wait_for 10 certs_listed
logged() { dyno logs -a "$APP" -n 500 >"$T/logs.txt" 2>&1 && grep -q "$1" "$T/logs.txt"; }
check log_enable wait_for 10 logged 'dynod\[api\]: Enable ACM by '
check log_ordering wait_for 10 logged 'dynod\[api\]: Ordering a certificate for api.acme.test,www.acme.test by acm'
check log_issued wait_for 10 logged 'dynod\[api\]: Certificate issued for api.acme.test,www.acme.test by acm'

# The challenge path never reaches a dyno: an unknown token is 404.
code=$(curl -s -o "$T/chal.out" -w '%{http_code}' --max-time 10 -H 'Host: www.acme.test' \
    "http://127.0.0.1:$HTTP_PORT/.well-known/acme-challenge/no-such-token")
check challenge_unknown_404 [ "$code" = 404 ]

# ---- served over HTTPS, trusted through pebble's root -----------------------
https_ok() {
    curl -sS --max-time 10 --resolve "www.acme.test:$HTTPS_PORT:127.0.0.1" --cacert "$P/root.pem" \
        "https://www.acme.test:$HTTPS_PORT/" >"$T/https.out" 2>"$T/https.err" &&
        grep -q '"dyno": "web.1"' "$T/https.out" ||
        { echo "curl: $(cat "$T/https.err") $(head -c 200 "$T/https.out")"; return 1; }
}
check https_reaches_app wait_for 20 https_ok
serial() {     # the serial the router serves for www.acme.test
    openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -servername www.acme.test </dev/null 2>/dev/null |
        openssl x509 -noout -serial 2>/dev/null
}
FIRST=$(serial)
check served_serial [ -n "$FIRST" ]

# ---- renewal: a new certificate served without a restart --------------------
renewed() { s=$(serial) && [ -n "$s" ] && [ "$s" != "$FIRST" ]; }
check renewal_served wait_for 60 renewed
check renewal_https_still_ok https_ok
two_issued() { dyno logs -a "$APP" -n 500 | grep -c 'Certificate issued for api.acme.test,www.acme.test' | grep -qv '^[01]$'; }
check renewal_logged wait_for 10 two_issued

# ---- a failed validation: Failed, the CA's reason, no hot loop --------------
BAD=acme-bad
dyno apps:create "$BAD" >/dev/null 2>&1 || bail "apps:create $BAD"
dyno domains:add bad.acme.test -a "$BAD" >/dev/null 2>&1 || bail "domains:add bad.acme.test"
BAD_START=$(now_ms)
dyno certs:auto:enable -a "$BAD" >/dev/null 2>&1 || bail "certs:auto:enable $BAD"
failed() {
    dyno certs:auto -a "$BAD" >"$T/bad.out" 2>&1 && grep -Eq '^bad\.acme\.test +Failed ' "$T/bad.out"
}
check failed_status wait_for 30 failed
check failed_reason grep -q '=== bad.acme.test failed: authorization for bad.acme.test failed: .*127.0.0.2' "$T/bad.out"
attempts() { dyno logs -a "$BAD" -n 500 2>/dev/null | grep -c 'Ordering a certificate for bad.acme.test'; }
# It tries again after the back-off, not at once, and not never.
retried() { [ "$(attempts)" -ge 2 ]; }
check failed_retried wait_for $((RETRY_S * 4)) retried
not_hot() {
    local n elapsed
    n=$(attempts)
    elapsed=$(($(now_ms) - BAD_START))
    [ "$n" -le $((elapsed / (RETRY_S * 1000) + 1)) ] || { echo "$n orders in $elapsed ms"; return 1; }
}
check failed_backoff not_hot
check failed_logged grep -q 'dynod\[api\]: Certificate order for bad.acme.test failed: ' \
    <(dyno logs -a "$BAD" -n 500)
check failed_other_app_fine issued

# ---- disable ----------------------------------------------------------------
run dyno certs:auto:disable -a "$BAD"
check disable expect_rc 0
check disable_says grep -qx 'Disabling Automatic Certificate Management... done' "$T/run.out"
run dyno certs:auto -a "$BAD"
check disabled_shown grep -q 'Automatic Certificate Management is disabled on acme-bad' "$T/run.out"
N=$(attempts)
stopped() { [ "$(attempts)" = "$N" ]; }
check disabled_no_more_orders holds $((RETRY_S + 2)) stopped

# ---- a restart of release-keeper: orders are not durable, the account is --
# An order in flight dies with the process; once back, the policy orders
# what is due again, with the same account key (made once, kept sealed).
ACCOUNT=$(find "$DATA" -name acme-account.key | head -n 1)
ACCOUNT_SUM=$(sha256sum "${ACCOUNT:-/dev/null}" | cut -d' ' -f1)
issued_count() { dyno logs -a "$APP" -n 1500 2>/dev/null | grep -c 'Certificate issued for api.acme.test,www.acme.test'; }
RK=$(sq pid release-keeper)
kill -9 "$RK"
check rk_restarted wait_for 20 sq restarted release-keeper "$RK"
BEFORE=$(issued_count)
more_issued() { [ "$(issued_count)" -gt "$BEFORE" ]; }
check issued_after_restart wait_for 60 more_issued
check account_key_unchanged [ "$(sha256sum "${ACCOUNT:-/dev/null}" | cut -d' ' -f1)" = "$ACCOUNT_SUM" ]
check https_after_restart https_ok

# ---- keys at rest -----------------------------------------------------------
# The journal and snapshots hold the certificate (a positive control: they
# are the files that would hold a key) but no private key in clear, PEM or
# base64 of PEM. (DATA/ca holds the local CA's own key: not looked at.)
AT_REST=$T/at-rest.list
find "$DATA" \( -path '*/journal/*' -o -name '*.snapshot' \) -type f >"$AT_REST"
check journal_found [ -s "$AT_REST" ]
in_rest() { xargs -d '\n' grep -lF -- "$1" <"$AT_REST" | grep -q .; }
check journal_holds_acm_cert in_rest 'Pebble Intermediate CA'
LEAF=$(openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -servername www.acme.test </dev/null 2>/dev/null |
    openssl x509 2>/dev/null | sed -n 2p)
check served_leaf_in_journal in_rest "${LEAF:-no-leaf}"
check no_clear_key_at_rest bash -c "! xargs -d '\n' grep -lE 'PRIVATE KEY|LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0t|LS0tLS1CRUdJTiBFQyBQUklWQVRF' <'$AT_REST' | grep -q ."
check account_key_kept [ -n "$ACCOUNT" ]
check account_key_0600 [ "$(stat -c %a "${ACCOUNT:-/nonexistent}" 2>/dev/null)" = 600 ]
check no_key_in_logs bash -c "! grep -rq 'PRIVATE KEY' '$T'/*.out '$T'/*.err"

finish
