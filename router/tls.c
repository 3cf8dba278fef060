//  tls - the HTTPS listener's TLS (see tls.h)
//
//  Owns one server SSL_CTX shared by every worker thread (so its session
//  cache is shared too: OpenSSL locks it), the certificate store (certs.c)
//  and the local CA (localca.c). The certificate is chosen per connection
//  in the servername callback, which OpenSSL calls on every ClientHello,
//  with or without SNI: an uploaded or ACM certificate for the name (exact,
//  then wildcard), else a leaf minted from the local CA for the name (for
//  `localhost` when the client sent no usable name), else the handshake
//  fails with `unrecognized_name`. Session tickets use keys OpenSSL makes
//  per context: random, in memory only, so a restarted router refuses old
//  tickets and makes a full handshake.
//
//  Every call clears the thread's OpenSSL error queue before it starts and
//  after it fails, keeping the reason in the connection: worker threads
//  handle many connections, and a stale error would be blamed on the next.

#include "tls.h"
#include "certs.h"
#include "localca.h"
#include "../actors/common/act_base.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

//  Mozilla's "intermediate" configuration (v5.7), ECDHE only: no RSA key
//  exchange, no CBC; TLS 1.3's three suites.
#define TLS_CIPHERS_12 "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
                       "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"  \
                       "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLS_SUITES_13  "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:" \
                       "TLS_CHACHA20_POLY1305_SHA256"
#define TLS_GROUPS     "X25519:P-256:P-384"
#define TLS_SESSION_ID_CTX   "dynod-router"
#define TLS_SESSION_CACHE    20480      // sessions kept for resumption by id
#define TLS_SESSION_TIMEOUT  3600       // s a session may be resumed for
#define TLS_DEFAULT_NAME     "localhost"
#define TLS_ERR_MAX          160

struct rtr_tls {
    SSL_CTX *ctx;               // owned
    rtr_certs_t *certs;         // owned
    rtr_localca_t *ca;          // owned; NULL: no minted certificates
    char *base_domain;          // owned: DYNOD_BASE_DOMAIN, or NULL
    atomic_uint_fast64_t handshakes;
    atomic_uint_fast64_t resumed;
};

struct rtr_tls_conn {
    SSL *ssl;                   // owned
    rtr_tls_t *tls;             // borrowed
    bool established;           // the handshake finished
    char err [TLS_ERR_MAX];
};

//  The SNI `sni` lower-cased without a trailing dot into `out`, or "" when
//  there is none or it is too long.
static void
s_sni_norm (const char *sni, char out [RTR_LOCALCA_NAME_MAX + 1])
{
    size_t len = sni ? strlen (sni) : 0;
    if (len && sni [len - 1] == '.')
        len--;
    if (len > RTR_LOCALCA_NAME_MAX)
        len = 0;
    for (size_t i = 0; i < len; i++)
        out [i] = (char) tolower ((unsigned char) sni [i]);
    out [len] = 0;
}

static int
s_on_servername (SSL *ssl, int *alert, void *arg)
{
    rtr_tls_t *self = arg;
    char name [RTR_LOCALCA_NAME_MAX + 1];
    s_sni_norm (SSL_get_servername (ssl, TLSEXT_NAMETYPE_host_name), name);
    rtr_cert_t *cert = *name ? rtr_certs_lookup (self->certs, name) : NULL;
    int ok = 0;
    if (cert) {
        ok = SSL_use_cert_and_key (ssl, rtr_cert_leaf (cert), rtr_cert_key (cert),
                                   rtr_cert_chain (cert), 1);
        rtr_cert_release (&cert);
    }
    else if (self->ca) {
        X509 *leaf = NULL;
        EVP_PKEY *key = NULL;
        const char *mint = rtr_localca_name_ok (name) ? name : TLS_DEFAULT_NAME;
        if (rtr_localca_leaf (self->ca, mint, &leaf, &key) == 0)
            ok = SSL_use_cert_and_key (ssl, leaf, key, NULL, 1);
        X509_free (leaf);
        EVP_PKEY_free (key);
    }
    else {
        *alert = SSL_AD_UNRECOGNIZED_NAME;
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    if (ok != 1) {
        *alert = SSL_AD_INTERNAL_ERROR;
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    return SSL_TLSEXT_ERR_OK;
}

//  ALPN: `http/1.1` when the client offers it; a client offering only
//  others (h2) gets no ALPN extension back, and speaks HTTP/1.1 or leaves.
static int
s_on_alpn (SSL *ssl, const unsigned char **out, unsigned char *out_len, const unsigned char *in,
           unsigned int in_len, void *arg)
{
    (void) ssl;
    (void) arg;
    static const unsigned char ours [] = "\x08http/1.1";
    unsigned char *chosen = NULL;
    unsigned char chosen_len = 0;
    if (SSL_select_next_proto (&chosen, &chosen_len, ours, sizeof ours - 1, in, in_len)
        != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = chosen;
    *out_len = chosen_len;
    return SSL_TLSEXT_ERR_OK;
}

//  Writes `what` and OpenSSL's first queued reason into `err`; clears the
//  queue.
static void
s_openssl_fail (char *err, size_t err_len, const char *what)
{
    unsigned long e = ERR_get_error ();
    const char *reason = e ? ERR_reason_error_string (e) : NULL;
    ERR_clear_error ();
    if (err && err_len)
        snprintf (err, err_len, "%s%s%s", what, reason ? ": " : "", reason ? reason : "");
}

static SSL_CTX *
s_ctx_new (rtr_tls_t *self, char *err, size_t err_len)
{
    SSL_CTX *ctx = SSL_CTX_new (TLS_server_method ());
    bool ok = ctx
           && SSL_CTX_set_min_proto_version (ctx, TLS1_2_VERSION)
           && SSL_CTX_set_cipher_list (ctx, TLS_CIPHERS_12)
           && SSL_CTX_set_ciphersuites (ctx, TLS_SUITES_13)
           && SSL_CTX_set1_groups_list (ctx, TLS_GROUPS)
           && SSL_CTX_set_session_id_context (ctx, (const unsigned char *) TLS_SESSION_ID_CTX,
                                              sizeof TLS_SESSION_ID_CTX - 1);
    if (!ok) {
        s_openssl_fail (err, err_len, "cannot set up the TLS context");
        SSL_CTX_free (ctx);
        return NULL;
    }
    //  Renegotiation is a CPU sink for attackers and HTTP/1.1 needs none.
    SSL_CTX_set_options (ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    //  write(2)-like: partial writes, and a retry may pass a moved buffer.
    //  Not SSL_MODE_RELEASE_BUFFERS: it frees and allocates ~34 KB of
    //  record buffers whenever a keep-alive connection goes quiet, that is
    //  once per request.
    SSL_CTX_set_mode (ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    //  One read(2) per burst of records, not two per record (header, then
    //  body); rtr_tls_pending then also counts what is read but not
    //  decrypted yet.
    SSL_CTX_set_read_ahead (ctx, 1);
    SSL_CTX_set_session_cache_mode (ctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size (ctx, TLS_SESSION_CACHE);
    SSL_CTX_set_timeout (ctx, TLS_SESSION_TIMEOUT);
    SSL_CTX_set_tlsext_servername_callback (ctx, s_on_servername);
    SSL_CTX_set_tlsext_servername_arg (ctx, self);
    SSL_CTX_set_alpn_select_cb (ctx, s_on_alpn, self);
    return ctx;
}

rtr_tls_t *
rtr_tls_new (const char *ca_dir, char *err, size_t err_len)
{
    rtr_tls_t *self = act_calloc (1, sizeof *self);
    atomic_init (&self->handshakes, 0);
    atomic_init (&self->resumed, 0);
    self->ctx = s_ctx_new (self, err, err_len);
    if (!self->ctx) {
        free (self);
        return NULL;
    }
    self->certs = rtr_certs_new ();
    const char *base = getenv ("DYNOD_BASE_DOMAIN");
    self->base_domain = base && *base ? act_strdup (base) : NULL;
    if (ca_dir && *ca_dir) {
        char *root = act_sprintf ("%s/root.pem", ca_dir);
        struct stat st;
        bool present = stat (root, &st) == 0;
        free (root);
        //  Present but unreadable is a broken setup, not "no CA".
        if (present && !(self->ca = rtr_localca_new (ca_dir, err, err_len))) {
            rtr_tls_destroy (&self);
            return NULL;
        }
    }
    return self;
}

void
rtr_tls_destroy (rtr_tls_t **self_p)
{
    rtr_tls_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    SSL_CTX_free (self->ctx);
    rtr_certs_destroy (&self->certs);
    rtr_localca_destroy (&self->ca);
    free (self->base_domain);
    free (self);
    *self_p = NULL;
}

void
rtr_tls_apply (rtr_tls_t *self, const json_t *route_app)
{
    const char *app = json_string_value (json_object_get (route_app, "app"));
    if (!app)
        return;
    bool destroyed = json_is_true (json_object_get (route_app, "destroyed"));
    rtr_certs_set_app (self->certs, app, destroyed ? NULL : json_object_get (route_app, "certs"),
                       json_object_get (route_app, "domains"), self->base_domain, NULL);
}

rtr_tls_conn_t *
rtr_tls_accept (rtr_tls_t *self, int fd)
{
    SSL *ssl = SSL_new (self->ctx);
    if (!ssl || SSL_set_fd (ssl, fd) != 1) {
        SSL_free (ssl);
        ERR_clear_error ();
        return NULL;
    }
    SSL_set_accept_state (ssl);
    rtr_tls_conn_t *conn = act_calloc (1, sizeof *conn);
    conn->ssl = ssl;
    conn->tls = self;
    return conn;
}

void
rtr_tls_conn_free (rtr_tls_conn_t **conn_p)
{
    rtr_tls_conn_t *conn = conn_p ? *conn_p : NULL;
    if (!conn)
        return;
    //  One try at close_notify; a full socket buffer just loses it.
    if (conn->established && !SSL_in_init (conn->ssl))
        SSL_shutdown (conn->ssl);
    ERR_clear_error ();
    SSL_free (conn->ssl);
    free (conn);
    *conn_p = NULL;
}

//  Maps a failed SSL call's `ret` (errno `sys_errno`, captured right after
//  it) to a result, keeping the reason in conn->err.
static rtr_tls_io_t
s_result (rtr_tls_conn_t *conn, int ret, int sys_errno, const char *op)
{
    int e = SSL_get_error (conn->ssl, ret);
    rtr_tls_io_t io = RTR_TLS_ERROR;
    switch (e) {
        case SSL_ERROR_WANT_READ:
            io = RTR_TLS_WANT_READ;
            break;
        case SSL_ERROR_WANT_WRITE:
            io = RTR_TLS_WANT_WRITE;
            break;
        case SSL_ERROR_ZERO_RETURN:
            io = RTR_TLS_CLOSED;
            break;
        case SSL_ERROR_SYSCALL:
            if (sys_errno == 0 && conn->established)
                io = RTR_TLS_CLOSED;        // EOF without close_notify: as HTTP clients do
            else
                snprintf (conn->err, sizeof conn->err, "%s: %s", op,
                          sys_errno ? strerror (sys_errno) : "the peer closed the connection");
            break;
        default: {
            unsigned long code = ERR_peek_error ();
            if (conn->established && ERR_GET_REASON (code) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
                io = RTR_TLS_CLOSED;
            else {
                const char *reason = code ? ERR_reason_error_string (code) : NULL;
                snprintf (conn->err, sizeof conn->err, "%s: %s", op, reason ? reason : "protocol error");
            }
        }
    }
    ERR_clear_error ();
    return io;
}

rtr_tls_io_t
rtr_tls_handshake (rtr_tls_conn_t *conn)
{
    if (conn->established)
        return RTR_TLS_OK;
    ERR_clear_error ();
    errno = 0;
    int ret = SSL_do_handshake (conn->ssl);
    int sys_errno = errno;
    if (ret == 1) {
        conn->established = true;
        atomic_fetch_add (&conn->tls->handshakes, 1);
        if (SSL_session_reused (conn->ssl))
            atomic_fetch_add (&conn->tls->resumed, 1);
        return RTR_TLS_OK;
    }
    return s_result (conn, ret, sys_errno, "handshake");
}

rtr_tls_io_t
rtr_tls_read (rtr_tls_conn_t *conn, void *buf, size_t cap, size_t *got)
{
    *got = 0;
    if (cap == 0)
        return RTR_TLS_OK;
    ERR_clear_error ();
    errno = 0;
    int ret = SSL_read_ex (conn->ssl, buf, cap, got);
    int sys_errno = errno;
    return ret == 1 ? RTR_TLS_OK : s_result (conn, ret, sys_errno, "read");
}

rtr_tls_io_t
rtr_tls_write (rtr_tls_conn_t *conn, const void *buf, size_t len, size_t *put)
{
    *put = 0;
    if (len == 0)
        return RTR_TLS_OK;
    ERR_clear_error ();
    errno = 0;
    int ret = SSL_write_ex (conn->ssl, buf, len, put);
    int sys_errno = errno;
    return ret == 1 ? RTR_TLS_OK : s_result (conn, ret, sys_errno, "write");
}

bool
rtr_tls_pending (rtr_tls_conn_t *conn)
{
    return SSL_has_pending (conn->ssl) == 1;
}

const char *
rtr_tls_sni (rtr_tls_conn_t *conn)
{
    return SSL_get_servername (conn->ssl, TLSEXT_NAMETYPE_host_name);
}

const char *
rtr_tls_error (rtr_tls_conn_t *conn)
{
    return conn->err;
}

uint64_t
rtr_tls_handshakes (rtr_tls_t *self)
{
    return atomic_load (&self->handshakes);
}

uint64_t
rtr_tls_resumed (rtr_tls_t *self)
{
    return atomic_load (&self->resumed);
}

size_t
rtr_tls_cert_names (rtr_tls_t *self)
{
    return rtr_certs_names (self->certs);
}

size_t
rtr_tls_minted (rtr_tls_t *self)
{
    return self->ca ? rtr_localca_minted (self->ca) : 0;
}
