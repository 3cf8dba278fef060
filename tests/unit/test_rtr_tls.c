//  test_rtr_tls - unit tests for the router's TLS (router/tls.h, certs.h,
//  localca.h)
//
//  Each test runs real handshakes over a non-blocking socketpair: the
//  server side through rtr_tls_*, the client an OpenSSL SSL made here,
//  both driven in turn until they finish. Covers minted certificates
//  verified against the local CA, SNI choosing uploaded certificates
//  (exact, wildcard one label deep, fallback), no SNI, TLS 1.1 and CBC /
//  RSA-key-exchange clients refused, ALPN, session resumption by ticket
//  and by session id, data both ways, garbage and truncated ClientHellos.

#include "unit.h"
#include "../../router/localca.h"
#include "../../router/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define DRIVE_TURNS 200

typedef struct {
    int fds [2];                // [0] server, [1] client
    rtr_tls_conn_t *srv;
    SSL *cli;
    rtr_tls_io_t srv_io;
    int cli_rc;                 // 1 done, 0 going, -1 failed
} pair_t;

//  The local CA in a fresh directory, and a router TLS on it.
static rtr_tls_t *
s_tls_with_ca (char *dir, size_t len)
{
    snprintf (dir, len, "%s/ca", unit_tmpdir ());
    bool created = false;
    char err [256];
    CHECK_OK (rtr_localca_ensure (dir, &created, err, sizeof err));
    CHECK (created);
    rtr_tls_t *tls = rtr_tls_new (dir, err, sizeof err);
    CHECK_NOT_NULL (tls);
    return tls;
}

//  A client context trusting `ca_dir`'s root (NULL: trusts nothing,
//  verifies nothing), TLS versions min..max (0: OpenSSL's).
static SSL_CTX *
s_client_ctx (const char *ca_dir, int min, int max)
{
    SSL_CTX *ctx = SSL_CTX_new (TLS_client_method ());
    CHECK_NOT_NULL (ctx);
    if (ca_dir) {
        char root [512];
        snprintf (root, sizeof root, "%s/root.pem", ca_dir);
        CHECK_EQ (SSL_CTX_load_verify_locations (ctx, root, NULL), 1);
        SSL_CTX_set_verify (ctx, SSL_VERIFY_PEER, NULL);
    }
    if (min)
        CHECK_EQ (SSL_CTX_set_min_proto_version (ctx, min), 1);
    if (max)
        CHECK_EQ (SSL_CTX_set_max_proto_version (ctx, max), 1);
    return ctx;
}

static void
s_pair_open (pair_t *p, rtr_tls_t *tls, SSL_CTX *cctx, const char *sni)
{
    signal (SIGPIPE, SIG_IGN);
    CHECK_OK (socketpair (AF_UNIX, SOCK_STREAM, 0, p->fds));
    for (int i = 0; i < 2; i++)
        fcntl (p->fds [i], F_SETFL, fcntl (p->fds [i], F_GETFL) | O_NONBLOCK);
    p->srv = rtr_tls_accept (tls, p->fds [0]);
    CHECK_NOT_NULL (p->srv);
    p->cli = SSL_new (cctx);
    CHECK_NOT_NULL (p->cli);
    SSL_set_fd (p->cli, p->fds [1]);
    SSL_set_connect_state (p->cli);
    if (sni) {
        SSL_set_tlsext_host_name (p->cli, sni);
        SSL_set1_host (p->cli, sni);
    }
    p->srv_io = RTR_TLS_WANT_READ;
    p->cli_rc = 0;
}

static void
s_pair_close (pair_t *p)
{
    rtr_tls_conn_free (&p->srv);
    CHECK_NULL (p->srv);
    SSL_free (p->cli);
    close (p->fds [0]);
    close (p->fds [1]);
}

//  Runs both handshakes in turn until each side finished or failed.
static void
s_drive (pair_t *p)
{
    for (int turn = 0; turn < DRIVE_TURNS; turn++) {
        if (p->cli_rc == 0) {
            int rc = SSL_do_handshake (p->cli);
            int e = SSL_get_error (p->cli, rc);
            if (rc == 1)
                p->cli_rc = 1;
            else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                p->cli_rc = -1;
            ERR_clear_error ();
        }
        if (p->srv_io == RTR_TLS_WANT_READ || p->srv_io == RTR_TLS_WANT_WRITE)
            p->srv_io = rtr_tls_handshake (p->srv);
        bool srv_done = p->srv_io == RTR_TLS_OK || p->srv_io == RTR_TLS_ERROR
                     || p->srv_io == RTR_TLS_CLOSED;
        if (srv_done && p->cli_rc != 0)
            return;
        //  The server failed: the client saw the alert, or never will.
        if (p->srv_io == RTR_TLS_ERROR && turn > 4)
            return;
    }
}

//  The client reads what the server sent since (session tickets) without
//  blocking.
static void
s_client_drain (pair_t *p)
{
    char buf [64];
    size_t got;
    for (int i = 0; i < 4; i++)
        if (SSL_read_ex (p->cli, buf, sizeof buf, &got) != 1)
            ERR_clear_error ();
}

//  True when the peer certificate the client got has DNS name `name`.
static bool
s_peer_has_name (SSL *cli, const char *name)
{
    X509 *peer = SSL_get1_peer_certificate (cli);
    bool yes = peer && X509_check_host (peer, name, 0, 0, NULL) == 1;
    X509_free (peer);
    return yes;
}

//  A self-signed certificate for `names` (SAN) with a new key (RSA when
//  `rsa`), as PEM strings (caller frees both).
static void
s_self_signed (const char *names, bool rsa, int days, char **cert_pem, char **key_pem)
{
    EVP_PKEY *key = rsa ? EVP_RSA_gen (2048) : EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");
    CHECK_NOT_NULL (key);
    X509 *x = X509_new ();
    X509_set_version (x, 2);
    ASN1_INTEGER_set (X509_get_serialNumber (x), 42);
    X509_NAME *n = X509_get_subject_name (x);
    X509_NAME_add_entry_by_txt (n, "CN", MBSTRING_ASC, (const unsigned char *) "test", -1, -1, 0);
    X509_set_issuer_name (x, n);
    X509_gmtime_adj (X509_getm_notBefore (x), -3600);
    X509_time_adj_ex (X509_getm_notAfter (x), days, 0, NULL);
    X509_set_pubkey (x, key);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb (&ctx);
    X509V3_set_ctx (&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid (NULL, &ctx, NID_subject_alt_name, names);
    CHECK_NOT_NULL (ext);
    X509_add_ext (x, ext, -1);
    X509_EXTENSION_free (ext);
    CHECK (X509_sign (x, key, EVP_sha256 ()) > 0);
    BIO *b = BIO_new (BIO_s_mem ());
    PEM_write_bio_X509 (b, x);
    char *data;
    long len = BIO_get_mem_data (b, &data);
    *cert_pem = strndup (data, (size_t) len);
    BIO_free (b);
    b = BIO_new (BIO_s_mem ());
    PEM_write_bio_PrivateKey (b, key, NULL, NULL, 0, NULL, NULL);
    len = BIO_get_mem_data (b, &data);
    *key_pem = strndup (data, (size_t) len);
    BIO_free (b);
    X509_free (x);
    EVP_PKEY_free (key);
}

static void
test_rtr_tls_minted_verifies (void)
{
    char dir [512];
    rtr_tls_t *tls = s_tls_with_ca (dir, sizeof dir);
    SSL_CTX *cctx = s_client_ctx (dir, 0, 0);
    pair_t p;
    s_pair_open (&p, tls, cctx, "myapp.localhost");
    s_drive (&p);
    CHECK_EQ (p.srv_io, RTR_TLS_OK);
    CHECK_EQ (p.cli_rc, 1);
    CHECK_EQ (SSL_get_verify_result (p.cli), X509_V_OK);
    CHECK (s_peer_has_name (p.cli, "myapp.localhost"));
    CHECK_STR_EQ (rtr_tls_sni (p.srv), "myapp.localhost");
    CHECK (SSL_version (p.cli) == TLS1_3_VERSION);
    //  Bytes both ways.
    size_t n;
    CHECK_EQ (SSL_write_ex (p.cli, "GET / HTTP/1.1\r\n", 16, &n), 1);
    char buf [64];
    CHECK_EQ (rtr_tls_read (p.srv, buf, sizeof buf, &n), RTR_TLS_OK);
    CHECK_EQ (n, 16);
    CHECK (memcmp (buf, "GET / HTTP/1.1\r\n", 16) == 0);
    CHECK (!rtr_tls_pending (p.srv));
    CHECK_EQ (rtr_tls_read (p.srv, buf, sizeof buf, &n), RTR_TLS_WANT_READ);
    CHECK_EQ (rtr_tls_write (p.srv, "HTTP/1.1 200 OK\r\n", 17, &n), RTR_TLS_OK);
    CHECK_EQ (n, 17);
    CHECK_EQ (SSL_read_ex (p.cli, buf, sizeof buf, &n), 1);
    CHECK_EQ (n, 17);
    //  The client closes cleanly: the server sees CLOSED.
    SSL_shutdown (p.cli);
    CHECK_EQ (rtr_tls_read (p.srv, buf, sizeof buf, &n), RTR_TLS_CLOSED);
    s_pair_close (&p);
    //  A second connection for the same name gets the cached leaf.
    s_pair_open (&p, tls, cctx, "myapp.localhost");
    s_drive (&p);
    CHECK_EQ (p.srv_io, RTR_TLS_OK);
    s_pair_close (&p);
    CHECK_EQ (rtr_tls_minted (tls), 1);
    CHECK_EQ (rtr_tls_handshakes (tls), 2);
    SSL_CTX_free (cctx);
    rtr_tls_destroy (&tls);
    CHECK_NULL (tls);
}

static void
test_rtr_tls_no_sni_localhost (void)
{
    char dir [512];
    rtr_tls_t *tls = s_tls_with_ca (dir, sizeof dir);
    SSL_CTX *cctx = s_client_ctx (dir, 0, 0);
    pair_t p;
    s_pair_open (&p, tls, cctx, NULL);
    s_drive (&p);
    CHECK_EQ (p.srv_io, RTR_TLS_OK);
    CHECK_EQ (SSL_get_verify_result (p.cli), X509_V_OK);
    CHECK (s_peer_has_name (p.cli, "localhost"));
    CHECK_NULL (rtr_tls_sni (p.srv));
    s_pair_close (&p);
    //  A name no leaf may be minted for gets localhost's too (a client
    //  that checks no name: the name it sent is not on it).
    SSL_CTX_free (cctx);
    cctx = s_client_ctx (NULL, 0, 0);
    s_pair_open (&p, tls, cctx, "bad_name.localhost");
    s_drive (&p);
    CHECK_EQ (p.srv_io, RTR_TLS_OK);
    CHECK (s_peer_has_name (p.cli, "localhost"));
    s_pair_close (&p);
    SSL_CTX_free (cctx);
    rtr_tls_destroy (&tls);
}

//  A route.app body giving `app` the custom `domains` (the reference is
//  stolen) and one certificate.
static json_t *
s_route_app (const char *app, const char *cert, const char *key, json_t *domains)
{
    return json_pack ("{s:s, s:o, s:[{s:s, s:[], s:s, s:s, s:I}]}", "app", app, "domains", domains,
                      "certs", "name", "c1", "domains", "cert", cert, "key", key, "expires_ms",
                      (json_int_t) 0);
}

static void
test_rtr_tls_sni_uploaded (void)
{
    char dir [512];
    rtr_tls_t *tls = s_tls_with_ca (dir, sizeof dir);
    char *cert_a, *key_a, *cert_b, *key_b;
    s_self_signed ("DNS:www.example.com", true, 30, &cert_a, &key_a);
    s_self_signed ("DNS:*.example.org", false, 30, &cert_b, &key_b);
    json_t *ra = s_route_app ("app-a", cert_a, key_a, json_pack ("[s]", "www.example.com"));
    //  A wildcard domain: served by the certificate's same wildcard.
    json_t *rb = s_route_app ("app-b", cert_b, key_b, json_pack ("[s]", "*.example.org"));
    rtr_tls_apply (tls, ra);
    rtr_tls_apply (tls, rb);
    CHECK_EQ (rtr_tls_cert_names (tls), 2);
    //  A pair that does not match is skipped, the app's others stay.
    json_t *bad = s_route_app ("app-c", cert_a, key_b, json_pack ("[s]", "c.example.com"));
    rtr_tls_apply (tls, bad);
    CHECK_EQ (rtr_tls_cert_names (tls), 2);
    //  A good pair for a name app-d does not own is not served for it:
    //  one app cannot take over another's name.
    json_t *thief = s_route_app ("app-d", cert_a, key_a, json_pack ("[s]", "d.example.net"));
    rtr_tls_apply (tls, thief);
    CHECK_EQ (rtr_tls_cert_names (tls), 2);
    json_decref (thief);

    SSL_CTX *cctx = s_client_ctx (NULL, 0, 0);
    struct { const char *sni, *served_name; int version; } cases [] = {
        { "www.example.com", "www.example.com", TLS1_3_VERSION },       // exact, RSA
        { "api.example.org", "api.example.org", TLS1_3_VERSION },       // wildcard
        { "api.example.org", "api.example.org", TLS1_2_VERSION },       // ECDSA on 1.2
        { "www.example.com", "www.example.com", TLS1_2_VERSION },       // RSA on 1.2
        { "a.b.example.org", "a.b.example.org", TLS1_3_VERSION },       // too deep: minted
        { "example.org", "example.org", TLS1_3_VERSION },               // the parent: minted
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        SSL_CTX *vctx = s_client_ctx (NULL, cases [i].version, cases [i].version);
        pair_t p;
        s_pair_open (&p, tls, vctx, cases [i].sni);
        s_drive (&p);
        CHECK_EQ (p.srv_io, RTR_TLS_OK);
        CHECK (s_peer_has_name (p.cli, cases [i].served_name));
        CHECK_EQ (SSL_version (p.cli), cases [i].version);
        X509 *peer = SSL_get1_peer_certificate (p.cli);
        X509_NAME *issuer = X509_get_issuer_name (peer);
        char cn [64] = "";
        X509_NAME_get_text_by_NID (issuer, NID_commonName, cn, sizeof cn);
        //  Uploaded ones are self-signed "test"; the rest come from the CA.
        CHECK_STR_EQ (cn, i < 4 ? "test" : RTR_LOCALCA_NAME);
        X509_free (peer);
        s_pair_close (&p);
        SSL_CTX_free (vctx);
    }
    //  The app is destroyed: its certificate goes, a minted one is served.
    json_t *gone = json_pack ("{s:s, s:b}", "app", "app-a", "destroyed", true);
    rtr_tls_apply (tls, gone);
    CHECK_EQ (rtr_tls_cert_names (tls), 1);
    pair_t p;
    s_pair_open (&p, tls, cctx, "www.example.com");
    s_drive (&p);
    CHECK_EQ (p.srv_io, RTR_TLS_OK);
    X509 *peer = SSL_get1_peer_certificate (p.cli);
    char cn [64] = "";
    X509_NAME_get_text_by_NID (X509_get_issuer_name (peer), NID_commonName, cn, sizeof cn);
    CHECK_STR_EQ (cn, RTR_LOCALCA_NAME);
    X509_free (peer);
    s_pair_close (&p);
    json_decref (ra);
    json_decref (rb);
    json_decref (bad);
    json_decref (gone);
    free (cert_a);
    free (key_a);
    free (cert_b);
    free (key_b);
    SSL_CTX_free (cctx);
    rtr_tls_destroy (&tls);
}

//  Expects the server to refuse a client made by `setup`.
static void
s_expect_refused (rtr_tls_t *tls, SSL_CTX *cctx)
{
    pair_t p;
    s_pair_open (&p, tls, cctx, "x.localhost");
    s_drive (&p);
    CHECK_EQ (p.srv_io, RTR_TLS_ERROR);
    CHECK (p.cli_rc != 1);
    CHECK (*rtr_tls_error (p.srv));
    s_pair_close (&p);
}

static void
test_rtr_tls_refuses_old_and_weak (void)
{
    char dir [512];
    rtr_tls_t *tls = s_tls_with_ca (dir, sizeof dir);
    //  TLS 1.1 and 1.0 (the client allowed to offer them at all).
    for (int v = TLS1_VERSION; v <= TLS1_1_VERSION; v++) {
        SSL_CTX *cctx = s_client_ctx (NULL, v, v);
        CHECK_EQ (SSL_CTX_set_cipher_list (cctx, "DEFAULT:@SECLEVEL=0"), 1);
        s_expect_refused (tls, cctx);
        SSL_CTX_free (cctx);
    }
    //  TLS 1.2 with only CBC, or only RSA key exchange.
    const char *weak [] = { "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA", "AES128-GCM-SHA256" };
    for (size_t i = 0; i < 2; i++) {
        SSL_CTX *cctx = s_client_ctx (NULL, TLS1_2_VERSION, TLS1_2_VERSION);
        CHECK_EQ (SSL_CTX_set_cipher_list (cctx, weak [i]), 1);
        s_expect_refused (tls, cctx);
        SSL_CTX_free (cctx);
    }
    CHECK_EQ (rtr_tls_handshakes (tls), 0);
    rtr_tls_destroy (&tls);
}

static void
test_rtr_tls_no_ca_no_cert (void)
{
    char err [256] = "";
    rtr_tls_t *tls = rtr_tls_new (NULL, err, sizeof err);
    CHECK_NOT_NULL (tls);
    SSL_CTX *cctx = s_client_ctx (NULL, 0, 0);
    s_expect_refused (tls, cctx);
    SSL_CTX_free (cctx);
    rtr_tls_destroy (&tls);
    //  A CA directory without a root: no minting, no failure.
    tls = rtr_tls_new (unit_tmpdir (), err, sizeof err);
    CHECK_NOT_NULL (tls);
    rtr_tls_destroy (&tls);
}

//  The ALPN protocol the client got ("" for none) after offering `offer`.
static void
s_alpn (rtr_tls_t *tls, const unsigned char *offer, unsigned len, char *out, size_t cap)
{
    SSL_CTX *cctx = s_client_ctx (NULL, 0, 0);
    CHECK_EQ (SSL_CTX_set_alpn_protos (cctx, offer, len), 0);
    pair_t p;
    s_pair_open (&p, tls, cctx, "a.localhost");
    s_drive (&p);
    CHECK_EQ (p.srv_io, RTR_TLS_OK);
    const unsigned char *proto;
    unsigned plen;
    SSL_get0_alpn_selected (p.cli, &proto, &plen);
    snprintf (out, cap, "%.*s", (int) plen, proto ? (const char *) proto : "");
    s_pair_close (&p);
    SSL_CTX_free (cctx);
}

static void
test_rtr_tls_alpn (void)
{
    char dir [512], got [32];
    rtr_tls_t *tls = s_tls_with_ca (dir, sizeof dir);
    s_alpn (tls, (const unsigned char *) "\x02h2\x08http/1.1", 12, got, sizeof got);
    CHECK_STR_EQ (got, "http/1.1");
    s_alpn (tls, (const unsigned char *) "\x02h2", 3, got, sizeof got);
    CHECK_STR_EQ (got, "");
    rtr_tls_destroy (&tls);
}

//  Connects twice, the second time offering the first's session.
static void
s_resume (rtr_tls_t *tls, SSL_CTX *cctx)
{
    pair_t p;
    s_pair_open (&p, tls, cctx, "r.localhost");
    s_drive (&p);
    CHECK_EQ (p.srv_io, RTR_TLS_OK);
    s_client_drain (&p);
    SSL_SESSION *sess = SSL_get1_session (p.cli);
    CHECK_NOT_NULL (sess);
    CHECK (SSL_SESSION_is_resumable (sess));
    CHECK (!SSL_session_reused (p.cli));
    //  Freed without close_notify, a session is no longer resumable.
    SSL_shutdown (p.cli);
    s_pair_close (&p);
    s_pair_open (&p, tls, cctx, "r.localhost");
    SSL_set_session (p.cli, sess);
    s_drive (&p);
    CHECK_EQ (p.srv_io, RTR_TLS_OK);
    if (!SSL_session_reused (p.cli))
        UNIT_FAIL ("not resumed with %s", SSL_get_version (p.cli));
    s_pair_close (&p);
    SSL_SESSION_free (sess);
}

static void
test_rtr_tls_resumption (void)
{
    char dir [512];
    rtr_tls_t *tls = s_tls_with_ca (dir, sizeof dir);
    //  TLS 1.3 tickets.
    SSL_CTX *cctx = s_client_ctx (dir, 0, 0);
    s_resume (tls, cctx);
    SSL_CTX_free (cctx);
    CHECK_EQ (rtr_tls_resumed (tls), 1);
    //  TLS 1.2 without tickets: the server's session cache.
    cctx = s_client_ctx (dir, TLS1_2_VERSION, TLS1_2_VERSION);
    SSL_CTX_set_options (cctx, SSL_OP_NO_TICKET);
    s_resume (tls, cctx);
    SSL_CTX_free (cctx);
    CHECK_EQ (rtr_tls_resumed (tls), 2);
    CHECK_EQ (rtr_tls_handshakes (tls), 4);
    rtr_tls_destroy (&tls);
}

//  Feeds `len` bytes to a new server connection, then closes the client
//  end when `close_after`; returns what the handshake says.
static rtr_tls_io_t
s_feed (rtr_tls_t *tls, const void *bytes, size_t len, bool close_after)
{
    int fds [2];
    CHECK_OK (socketpair (AF_UNIX, SOCK_STREAM, 0, fds));
    fcntl (fds [0], F_SETFL, fcntl (fds [0], F_GETFL) | O_NONBLOCK);
    rtr_tls_conn_t *srv = rtr_tls_accept (tls, fds [0]);
    CHECK_EQ (write (fds [1], bytes, len), (ssize_t) len);
    if (close_after)
        close (fds [1]);
    rtr_tls_io_t io = RTR_TLS_WANT_READ;
    for (int i = 0; i < 4 && io == RTR_TLS_WANT_READ; i++)
        io = rtr_tls_handshake (srv);
    if (io == RTR_TLS_ERROR)
        CHECK (*rtr_tls_error (srv));
    rtr_tls_conn_free (&srv);
    close (fds [0]);
    if (!close_after)
        close (fds [1]);
    return io;
}

static void
test_rtr_tls_garbage (void)
{
    char dir [512];
    rtr_tls_t *tls = s_tls_with_ca (dir, sizeof dir);
    unsigned char junk [4096];
    for (size_t i = 0; i < sizeof junk; i++)
        junk [i] = (unsigned char) (i * 131 + 7);
    CHECK_EQ (s_feed (tls, junk, sizeof junk, false), RTR_TLS_ERROR);
    CHECK_EQ (s_feed (tls, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 27, false), RTR_TLS_ERROR);
    //  A real ClientHello, cut in half.
    SSL_CTX *cctx = s_client_ctx (NULL, 0, 0);
    pair_t p;
    s_pair_open (&p, tls, cctx, "cut.localhost");
    CHECK (SSL_do_handshake (p.cli) != 1);
    ERR_clear_error ();
    unsigned char hello [4096];
    ssize_t n = read (p.fds [0], hello, sizeof hello);
    CHECK (n > 100);
    s_pair_close (&p);
    SSL_CTX_free (cctx);
    CHECK_EQ (s_feed (tls, hello, (size_t) n / 2, false), RTR_TLS_WANT_READ);
    CHECK_EQ (s_feed (tls, hello, (size_t) n / 2, true), RTR_TLS_ERROR);
    CHECK_EQ (s_feed (tls, hello, 3, true), RTR_TLS_ERROR);
    CHECK_EQ (s_feed (tls, "", 0, true), RTR_TLS_ERROR);
    //  And the whole of it still works afterwards.
    cctx = s_client_ctx (dir, 0, 0);
    s_pair_open (&p, tls, cctx, "after.localhost");
    s_drive (&p);
    CHECK_EQ (p.srv_io, RTR_TLS_OK);
    s_pair_close (&p);
    SSL_CTX_free (cctx);
    CHECK_EQ (ERR_peek_error (), 0);
    rtr_tls_destroy (&tls);
}

static void
test_rtr_localca_cache (void)
{
    char dir [512];
    snprintf (dir, sizeof dir, "%s/ca", unit_tmpdir ());
    bool created;
    char err [256];
    CHECK_OK (rtr_localca_ensure (dir, &created, err, sizeof err));
    CHECK (created);
    //  A second call keeps the root.
    CHECK_OK (rtr_localca_ensure (dir, &created, err, sizeof err));
    CHECK (!created);
    char key_path [600];
    snprintf (key_path, sizeof key_path, "%s/root.key", dir);
    struct stat st;
    CHECK_OK (stat (key_path, &st));
    CHECK_EQ (st.st_mode & 0777, 0600);
    rtr_localca_t *ca = rtr_localca_new (dir, err, sizeof err);
    CHECK_NOT_NULL (ca);
    X509 *a1, *a2, *b;
    EVP_PKEY *k1, *k2, *k3;
    CHECK_OK (rtr_localca_leaf (ca, "a.localhost", &a1, &k1));
    CHECK_OK (rtr_localca_leaf (ca, "a.localhost", &a2, &k2));
    CHECK_OK (rtr_localca_leaf (ca, "b.localhost", &b, &k3));
    CHECK (a1 == a2);
    CHECK (X509_cmp (a1, b) != 0);
    CHECK_EQ (rtr_localca_minted (ca), 2);
    //  90 days, P-256.
    int days, secs;
    CHECK_EQ (ASN1_TIME_diff (&days, &secs, X509_get0_notBefore (a1), X509_get0_notAfter (a1)), 1);
    CHECK (days >= RTR_LOCALCA_LEAF_DAYS && days <= RTR_LOCALCA_LEAF_DAYS + 1);
    CHECK_EQ (EVP_PKEY_get_bits (k1), 256);
    CHECK_EQ (rtr_localca_leaf (ca, "Bad Name", &b, &k3), -EINVAL);
    X509_free (a1);
    X509_free (a2);
    X509_free (b);
    EVP_PKEY_free (k1);
    EVP_PKEY_free (k2);
    EVP_PKEY_free (k3);
    CHECK (rtr_localca_name_ok ("x.y-z.localhost"));
    CHECK (!rtr_localca_name_ok ("x..localhost"));
    CHECK (!rtr_localca_name_ok (".x"));
    CHECK (!rtr_localca_name_ok ("x."));
    CHECK (!rtr_localca_name_ok ("*.x"));
    CHECK (!rtr_localca_name_ok (""));
    rtr_localca_destroy (&ca);
    CHECK_NULL (ca);
    //  A damaged root is an error, not "no CA".
    char pem [600];
    snprintf (pem, sizeof pem, "%s/root.pem", dir);
    FILE *f = fopen (pem, "w");
    fputs ("junk\n", f);
    fclose (f);
    CHECK_NULL (rtr_tls_new (dir, err, sizeof err));
    CHECK (strstr (err, "cannot load the local CA") != NULL);
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_rtr_tls_minted_verifies),
    UNIT_TEST (test_rtr_tls_no_sni_localhost),
    UNIT_TEST (test_rtr_tls_sni_uploaded),
    UNIT_TEST (test_rtr_tls_refuses_old_and_weak),
    UNIT_TEST (test_rtr_tls_no_ca_no_cert),
    UNIT_TEST (test_rtr_tls_alpn),
    UNIT_TEST (test_rtr_tls_resumption),
    UNIT_TEST (test_rtr_tls_garbage),
    UNIT_TEST (test_rtr_localca_cache),
};

UNIT_SUITE (unit_suite_rtr_tls, s_tests);
