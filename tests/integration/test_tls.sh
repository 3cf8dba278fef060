#!/usr/bin/env bash
# HTTPS through the router against a real `dynod up`: the local CA that
# `dynod up` creates (DATA/ca, its root copied next to the credentials as
# ca.pem) makes `curl --cacert ca.pem https://APP.localhost:PORT/` work;
# certificates uploaded with `dyno certs:add` for two custom domains are
# chosen by SNI (exact name and wildcard, checked with openssl s_client);
# bad pairs are refused with one line; TLS 1.0/1.1, CBC and RSA key
# exchange are refused; ALPN picks http/1.1 and ignores h2; sessions
# resume (ticket and session id); random bytes and truncated ClientHellos
# get nothing and leak no fd; after SIGKILLs of release-keeper and of the
# router, the certificate is kept and served again; certs:remove goes back
# to a minted certificate.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

APPS=$(cd "$(dirname "$0")/../apps" && pwd) || bail "no tests/apps folder"
export DYNOD_BOOT_TIMEOUT_MS=20000
# A stalled handshake is cut after this (the router's header timeout).
export DYNOD_ROUTER_HEADER_TIMEOUT_MS=2000
HTTP_PORT=$(free_port)
HTTPS_PORT=$(free_port)
start_up --http-port "$HTTP_PORT" --https-port "$HTTPS_PORT" || bail "dynod up did not get ready"
CA=$XDG_CONFIG_HOME/dynod/ca.pem
APP=tls-app
dyno apps:create "$APP" >/dev/null 2>"$T/create.err" || bail "apps:create: $(cat "$T/create.err")"
dyno deploy "$APPS/router-echo" -a "$APP" >"$T/deploy.out" 2>&1 || bail "deploy: $(tail -n 1 "$T/deploy.out")"

# ---- the local CA -------------------------------------------------------------
check ca_root_created [ -s "$DATA/ca/root.pem" ]
check ca_key_private [ "$(stat -c %a "$DATA/ca/root.key")" = 600 ]
check ca_copied_for_user cmp -s "$DATA/ca/root.pem" "$CA"
check ca_is_ca openssl x509 -in "$CA" -noout -checkend 86400
ca_subject() { openssl x509 -in "$CA" -noout -subject | grep -q 'dynod local CA'; }
check ca_named ca_subject

# curl resolves *.localhost itself: the URL users type.
https_ok() {
    curl -s --max-time 10 --cacert "$CA" "https://$APP.localhost:$HTTPS_PORT/hello" >"$T/https.json" &&
        grep -q '"dyno": "web.1"' "$T/https.json"
}
check https_localhost_verified wait_for 40 https_ok
proto_https() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); h={k.lower(): v for k, v in d["headers"]}; sys.exit(h.get("x-forwarded-proto") != "https")' "$T/https.json"; }
check forwarded_proto_https proto_https

# s_client NAME [ARGS...]: a handshake with SNI NAME (none for "-"); the
# output in $T/sc.out. Stdin closed: it says goodbye after the handshake.
s_client() {
    local name=$1
    shift
    local sni=(-servername "$name")
    [ "$name" = - ] && sni=(-noservername)
    timeout 10 openssl s_client -connect "127.0.0.1:$HTTPS_PORT" "${sni[@]}" "$@" </dev/null >"$T/sc.out" 2>&1
}
# served_cn NAME: the subject CN of the certificate served for SNI NAME
served_cn() {
    s_client "$1" >/dev/null
    openssl x509 -in "$T/sc.out" -noout -subject -nameopt multiline 2>/dev/null |
        sed -n 's/^ *commonName *= *//p'
}
# fails CMD...: CMD fails (check's CMD cannot be `! ...`)
fails() { ! "$@"; }
served_issuer() {
    s_client "$1" >/dev/null
    openssl x509 -in "$T/sc.out" -noout -issuer -nameopt multiline 2>/dev/null |
        sed -n 's/^ *commonName *= *//p'
}
check minted_for_app [ "$(served_cn "$APP.localhost")" = "$APP.localhost" ]
check minted_no_sni [ "$(served_cn -)" = localhost ]
check minted_issuer [ "$(served_issuer "$APP.localhost")" = "dynod local CA" ]
check minted_p256 grep -q 'Server Temp Key\|Peer signature type: ECDSA' "$T/sc.out"

# ---- protocol versions, ciphers, ALPN, resumption --------------------------------
s_client "$APP.localhost" -tls1_3
check tls13_ok grep -q 'Protocol *: TLSv1.3\|TLSv1.3, Cipher is' "$T/sc.out"
s_client "$APP.localhost" -tls1_2
check tls12_ok grep -q 'Protocol *: TLSv1.2' "$T/sc.out"
check tls12_ecdhe_gcm grep -q 'Cipher *: ECDHE-ECDSA-AES[0-9]*-GCM-SHA[0-9]*$\|Cipher *: ECDHE-ECDSA-CHACHA20-POLY1305$' "$T/sc.out"
refused() { ! s_client "$APP.localhost" "$@" || ! grep -q 'Cipher is [A-Z]' "$T/sc.out"; }
check tls11_refused refused -tls1_1 -cipher 'DEFAULT@SECLEVEL=0'
check tls10_refused refused -tls1 -cipher 'DEFAULT@SECLEVEL=0'
check cbc_refused refused -tls1_2 -cipher 'ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA'
check rsa_kx_refused refused -tls1_2 -cipher 'AES128-GCM-SHA256:AES256-GCM-SHA384'
s_client "$APP.localhost" -alpn http/1.1
check alpn_http11 grep -q 'ALPN protocol: http/1.1' "$T/sc.out"
s_client "$APP.localhost" -alpn h2
check alpn_h2_not_selected grep -q 'No ALPN negotiated' "$T/sc.out"

# Resumption: TLS 1.3 tickets (s_client reads them while the app answers),
# and TLS 1.2 without tickets (the server's session cache).
request() { printf 'GET / HTTP/1.1\r\nHost: %s.localhost\r\nConnection: close\r\n\r\n' "$APP"; }
resumes() {     # resumes ARGS...
    rm -f "$T/sess.pem"
    request | timeout 10 openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -servername "$APP.localhost" \
        -ign_eof -sess_out "$T/sess.pem" "$@" >"$T/r1.out" 2>&1
    [ -s "$T/sess.pem" ] || return 1
    request | timeout 10 openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -servername "$APP.localhost" \
        -ign_eof -sess_in "$T/sess.pem" "$@" >"$T/r2.out" 2>&1
    grep -q '^Reused' "$T/r2.out" && grep -q '^HTTP/1.1 200' "$T/r2.out"
}
check resumed_tls13_ticket resumes -tls1_3
check resumed_tls12_cache resumes -tls1_2 -no_ticket
resumed_counted() {
    status_json "$T/st.json" && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); r=[a for a in d["actors"] if a["name"] == "router"][0]; sys.exit(not r.get("detail", r).get("tls_resumed", 0) >= 2)' "$T/st.json"
}
check resumed_counted resumed_counted

# ---- uploaded certificates, by SNI ---------------------------------------------
ONE=www.tls-one.test
TWO=tls-two.test
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=$ONE" -addext "subjectAltName=DNS:$ONE" \
    -keyout "$T/one.key" -out "$T/one.pem" 2>/dev/null || bail "openssl req one"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 60 -subj "/CN=*.$TWO" \
    -addext "subjectAltName=DNS:*.$TWO" -keyout "$T/two.key" -out "$T/two.pem" 2>/dev/null || bail "openssl req two"
for d in "$ONE" "api.$TWO"; do
    dyno domains:add "$d" -a "$APP" >/dev/null 2>"$T/dom.err" || fail "domain_add_$d" "$(cat "$T/dom.err")"
done

# Bad pairs: one line each, exit 1, nothing stored.
add_err() {     # add_err CERT KEY PATTERN
    dyno certs:add "$1" "$2" -a "$APP" >"$T/add.out" 2>"$T/add.err"
    local rc=$?
    [ $rc = 1 ] && [ "$(wc -l <"$T/add.err")" = 1 ] && grep -q "$3" "$T/add.err"
}
check add_key_mismatch add_err "$T/one.pem" "$T/two.key" 'does not match'
check add_not_pem add_err "$T/one.key" "$T/one.key" 'no PEM certificate'
check add_no_key add_err "$T/one.pem" "$T/one.pem" 'no PEM private key'
check add_missing_file add_err "$T/nope.pem" "$T/one.key" "cannot read"
# An expired certificate, made with `openssl ca` (req -x509 cannot backdate).
mkdir -p "$T/oldca" && : >"$T/oldca/index.txt" && echo 01 >"$T/oldca/serial"
printf '[ca]\ndefault_ca=d\n[d]\ndatabase=%s/oldca/index.txt\nserial=%s/oldca/serial\nnew_certs_dir=%s/oldca\ndefault_md=sha256\npolicy=p\n[p]\ncommonName=supplied\n' \
    "$T" "$T" "$T" >"$T/oldca/ca.cnf"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=old.tls-one.test" \
    -keyout "$T/old.key" -out "$T/old.csr" 2>/dev/null &&
    openssl ca -batch -config "$T/oldca/ca.cnf" -selfsign -keyfile "$T/old.key" -in "$T/old.csr" \
        -out "$T/old.pem" -startdate 20200101000000Z -enddate 20200201000000Z >/dev/null 2>&1 ||
    bail "openssl ca for an expired certificate"
check add_expired add_err "$T/old.pem" "$T/old.key" 'expired on 2020-02-01'
no_certs() { dyno certs -a "$APP" | grep -q 'has no SSL certificates'; }
check nothing_stored no_certs
check add_unknown_app_refused fails dyno certs:add "$T/one.pem" "$T/one.key" -a no-such-app

dyno certs:add "$T/one.pem" "$T/one.key" -a "$APP" >"$T/add1.out" 2>"$T/add1.err" || fail add_one "$(cat "$T/add1.err")"
check add_one_done grep -q "Adding SSL certificate to .* $APP... done" "$T/add1.out"
check add_one_names grep -q "Common Name(s): $ONE" "$T/add1.out"
dyno certs:add "$T/two.pem" "$T/two.key" -a "$APP" --json >"$T/add2.json" 2>"$T/add2.err" || fail add_two "$(cat "$T/add2.err")"
NAME_ONE=$(sed -n "s/.*now served by SNI certificate \(.*\)\.$/\1/p" "$T/add1.out")
NAME_TWO=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["name"])' "$T/add2.json")
check cert_names_given [ -n "$NAME_ONE" ] && [ -n "$NAME_TWO" ] && [ "$NAME_ONE" != "$NAME_TWO" ]
# The same certificate again: the same one, nothing new.
dyno certs:add "$T/one.pem" "$T/one.key" -a "$APP" >"$T/add1b.out" 2>&1
check add_same_again grep -q "now served by SNI certificate $NAME_ONE\.$" "$T/add1b.out"
dyno certs -a "$APP" >"$T/certs.out" 2>&1
check table_header grep -qE '^Name +Endpoint +Common Name\(s\) +Expires +Trusted +Type$' "$T/certs.out"
check table_one grep -qE "^$NAME_ONE +\(SNI\) +$ONE +[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} UTC +False +SNI$" "$T/certs.out"
check table_two grep -qE "^$NAME_TWO +\(SNI\) +\*\.$TWO " "$T/certs.out"
check table_two_rows [ "$(grep -c ' SNI$' "$T/certs.out")" = 2 ]
dyno certs:info "$NAME_TWO" -a "$APP" >"$T/info.out" 2>&1
check info_names grep -q "Common Name(s): \*\.$TWO" "$T/info.out"
check info_unknown fails dyno certs:info nope -a "$APP"
# The key is sealed at rest: neither the journal nor a snapshot holds it.
key_body=$(sed -n '2p' "$T/one.key")
check key_not_at_rest fails grep -rqF "$key_body" "$DATA"

# Uploaded ones are self-signed: issued by their own CN, not the local CA.
served_one() { [ "$(served_issuer "$ONE")" = "$ONE" ]; }
check sni_exact wait_for 20 served_one
served_two() { [ "$(served_issuer "api.$TWO")" = "*.$TWO" ]; }
check sni_wildcard wait_for 20 served_two
check sni_wildcard_one_label_only [ "$(served_issuer "a.b.$TWO")" = "dynod local CA" ]
check sni_no_cert_minted [ "$(served_cn "other.tls-three.test")" = other.tls-three.test ]
custom_ok() {
    curl -s --max-time 10 --cacert "$T/one.pem" --resolve "$ONE:$HTTPS_PORT:127.0.0.1" \
        "https://$ONE:$HTTPS_PORT/" | grep -q '"dyno": "web.1"'
}
check https_custom_domain_verified wait_for 20 custom_ok

# ---- garbage on the TLS port ------------------------------------------------------
RPID=$(child_pid router)
# The router's fds, less its pooled keep-alive connections to dynos (which
# come and go with traffic).
fds() {
    local n pooled
    n=$(ls "/proc/$RPID/fd" 2>/dev/null | wc -l)
    status_json "$T/fd.json" || return 1
    pooled=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); r=[a for a in d["actors"] if a["name"] == "router"][0]; print(r.get("detail", r).get("pooled", 0))' "$T/fd.json")
    echo $((n - pooled))
}
base=$(fds)
head -c 4096 /dev/urandom | timeout 5 socat -u - "TCP:127.0.0.1:$HTTPS_PORT" 2>/dev/null
printf 'GET / HTTP/1.1\r\nHost: %s.localhost\r\n\r\n' "$APP" | timeout 5 socat - "TCP:127.0.0.1:$HTTPS_PORT" >"$T/plain.out" 2>/dev/null
check plain_http_gets_no_http fails grep -q '^HTTP/1.1 200' "$T/plain.out"
# A real ClientHello cut short: once closed at once, once left hanging.
cat >"$T/cut.py" <<'PY'
import socket, ssl, sys
ctx = ssl.create_default_context()
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
obj = ctx.wrap_bio(inc, out, server_hostname="cut.localhost")
try:
    obj.do_handshake()
except ssl.SSLWantReadError:
    pass
hello = out.read()
for cut in (len(hello) // 2, 5, 3):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(hello[:cut])
    s.close()
# Hanging: the router must cut it (header timeout) with nothing sent back
# but at most an alert.
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(hello[: len(hello) // 2])
s.settimeout(15)
got = s.recv(100)
sys.exit(0 if got == b"" or got[:1] == b"\x15" else 1)
PY
check truncated_hello_cut timeout 20 python3 "$T/cut.py" "$HTTPS_PORT"
check good_after_garbage https_ok
fds_back() { local n; n=$(fds) && [ "$n" -le "$base" ]; }
check fds_back_to_baseline wait_for 20 fds_back

# ---- restarts: the certificate is kept and served again ------------------------------
old_rk=$(child_pid release-keeper)
kill -9 "$old_rk" 2>/dev/null || fail rk_kill "no release-keeper process"
new_rk() { local p; p=$(child_pid release-keeper); [ -n "$p" ] && [ "$p" != "$old_rk" ]; }
check rk_restarted wait_for 20 new_rk
kept() { dyno certs -a "$APP" 2>/dev/null | grep -q "^$NAME_ONE "; }
check cert_kept_after_rk_kill wait_for 20 kept
old_router=$(child_pid router)
kill -9 "$old_router" 2>/dev/null || fail router_kill "no router process"
new_router() { local p; p=$(child_pid router); [ -n "$p" ] && [ "$p" != "$old_router" ]; }
check router_restarted wait_for 20 new_router
check sni_served_after_restarts wait_for 20 served_one

# ---- removal ---------------------------------------------------------------------
dyno certs:remove "$NAME_ONE" -a "$APP" >"$T/rm.out" 2>&1 || fail remove "$(cat "$T/rm.out")"
check remove_says grep -q "Removing SSL certificate $NAME_ONE from .* $APP... done" "$T/rm.out"
check remove_unknown fails dyno certs:remove "$NAME_ONE" -a "$APP"
minted_again() { [ "$(served_issuer "$ONE")" = "dynod local CA" ]; }
check removed_falls_back_to_minted wait_for 20 minted_again
check other_cert_stays served_two
finish
