//  certs - release-keeper's certificates: cert.add, cert.stored,
//  cert.remove, cert.list, and the certificates of `route.app`
//
//  Accepts: cert.add (not durable: it carries the key in clear), cert.stored
//           (durable, from release-keeper itself only), cert.remove
//           (durable), cert.list.
//  Emits:   cert.stored (durable, to itself), cert.info (answering cert.add
//           and cert.remove; cert.stored answers its sender, which for
//           cert.add is this actor's pending request), cert.list.reply,
//           API log lines; route.app through route.c.
//  State:   each app's `certs` in rel_state_t's apps (rel_state.h), with
//           the key sealed (seal.h) and base64-encoded there (the snapshot
//           is JSON text, which cannot hold raw bytes); rel_certs_t holds
//           the seal key (release-keeper's only one: acm.c borrows it
//           through rel_certs_seal) and the cert.add requests waiting for
//           their cert.stored, neither durable.
//
//  cert.add checks the pair (PEM parses, the key matches the leaf, the
//  leaf is not expired, the app exists), seals the key and sends the
//  result to itself as a durable cert.stored with act_request: the broker
//  journals it, delivers it back, its handler stores it and answers with
//  cert.info, and only then does the CLI get that cert.info. So a `dyno
//  certs:add` that succeeded is in the journal, and survives a SIGKILL of
//  release-keeper at any point after. The sealing (a random nonce) and the
//  trust check (the system's roots) are not deterministic, which is fine:
//  they happen in the handler of a message that is never journaled, and
//  only their result is.

#include "rel_state.h"
#include "../common/act_pem.h"
#include "apps.h"
#include "seal.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CERTS_ACTOR         "release-keeper"
#define CERTS_STORE_MS      10000   // for our own cert.stored to come back
#define CERTS_NAME_ATTEMPTS 64
#define CERTS_NAME_MAX      64
#define CERTS_WAITING_MAX   256     // cert.add requests waiting at once
#define CERTS_DOMAINS_MAX   100     // names one certificate may cover

struct rel_certs {
    rel_seal_t *seal;               // owned; NULL when it could not be opened
    char seal_err [256];            // why not
    msg_t *waiting [CERTS_WAITING_MAX];     // owned copies of cert.add requests
};

rel_certs_t *
rel_certs_new (act_t *act)
{
    rel_certs_t *self = act_calloc (1, sizeof *self);
    self->seal = rel_seal_new (act_data_dir (act), self->seal_err, sizeof self->seal_err);
    if (!self->seal)
        act_log_error ("cannot open the seal key: %s", self->seal_err);
    return self;
}

rel_seal_t *
rel_certs_seal (rel_certs_t *self, const char **err)
{
    if (err)
        *err = self->seal_err;
    return self->seal;
}

void
rel_certs_destroy (rel_certs_t **self_p)
{
    rel_certs_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    rel_seal_destroy (&self->seal);
    for (size_t i = 0; i < CERTS_WAITING_MAX; i++)
        msg_destroy (&self->waiting [i]);
    free (self);
    *self_p = NULL;
}

//  What cert.add learns from a certificate and key.
typedef struct {
    char *cert;                 // the chain re-encoded as PEM, leaf first
    char *key;                  // the key re-encoded as PKCS#8 PEM (wipe it)
    json_t *domains;            // the leaf's DNS names (else its CN)
    int64_t expires_ms;
    char issuer [256];          // issuer's CN (else the whole name)
    bool trusted;               // the chain verifies against the system's roots
} certs_pair_t;

static void
s_pair_release (certs_pair_t *pair)
{
    free (pair->cert);
    if (pair->key)
        OPENSSL_clear_free (pair->key, strlen (pair->key));
    json_decref (pair->domains);
    memset (pair, 0, sizeof *pair);
}

//  A memory BIO's contents as a new string (caller frees).
static char *
s_bio_text (BIO *bio)
{
    char *data = NULL;
    long len = BIO_get_mem_data (bio, &data);
    char *text = act_malloc ((size_t) (len > 0 ? len : 0) + 1);
    if (len > 0)
        memcpy (text, data, (size_t) len);
    text [len > 0 ? len : 0] = 0;
    return text;
}

static int64_t
s_time_ms (const ASN1_TIME *t)
{
    struct tm tm;
    if (ASN1_TIME_to_tm (t, &tm) != 1)
        return 0;
    return (int64_t) timegm (&tm) * 1000;
}

//  The leaf's DNS names in subjectAltName, lower case; its CN when it has
//  none. Caller owns result.
static json_t *
s_domains (X509 *leaf)
{
    json_t *list = json_array ();
    GENERAL_NAMES *sans = X509_get_ext_d2i (leaf, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; i < sk_GENERAL_NAME_num (sans); i++) {
        GENERAL_NAME *gn = sk_GENERAL_NAME_value (sans, i);
        if (gn->type != GEN_DNS)
            continue;
        int len = ASN1_STRING_length (gn->d.dNSName);
        const unsigned char *data = ASN1_STRING_get0_data (gn->d.dNSName);
        char name [256];
        if (len <= 0 || len >= (int) sizeof name || memchr (data, 0, (size_t) len))
            continue;
        for (int k = 0; k < len; k++)
            name [k] = (char) (data [k] >= 'A' && data [k] <= 'Z' ? data [k] + 32 : data [k]);
        name [len] = 0;
        json_array_append_new (list, json_string (name));
    }
    GENERAL_NAMES_free (sans);
    char cn [256];
    if (json_array_size (list) == 0
    &&  X509_NAME_get_text_by_NID (X509_get_subject_name (leaf), NID_commonName, cn, sizeof cn) > 0) {
        for (char *c = cn; *c; c++)
            *c = (char) (*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
        json_array_append_new (list, json_string (cn));
    }
    return list;
}

static bool
s_trusted (X509 *leaf, STACK_OF (X509) *chain)
{
    X509_STORE *store = X509_STORE_new ();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new ();
    bool ok = store && ctx && X509_STORE_set_default_paths (store) == 1
           && X509_STORE_CTX_init (ctx, store, leaf, chain) == 1
           && X509_verify_cert (ctx) == 1;
    X509_STORE_CTX_free (ctx);
    X509_STORE_free (store);
    return ok;
}

//  Checks a certificate chain and key (PEM) at `now_ms` into `pair`.
//  Returns 0, or -EINVAL with one line on why in `why`.
static int
s_inspect (const char *cert_pem, const char *key_pem, int64_t now_ms, certs_pair_t *pair,
           char *why, size_t why_len)
{
    memset (pair, 0, sizeof *pair);
    STACK_OF (X509) *chain = sk_X509_new_null ();
    X509 *leaf = NULL, *x;
    BIO *in = BIO_new_mem_buf (cert_pem, -1);
    BIO *out = BIO_new (BIO_s_mem ());
    while ((x = PEM_read_bio_X509 (in, NULL, act_pem_no_password, NULL)) != NULL) {
        PEM_write_bio_X509 (out, x);
        if (!leaf)
            leaf = x;
        else if (!sk_X509_push (chain, x))
            X509_free (x);
    }
    BIO_free (in);
    in = BIO_new_mem_buf (key_pem, -1);
    EVP_PKEY *key = PEM_read_bio_PrivateKey (in, NULL, act_pem_no_password, NULL);
    BIO_free (in);
    ERR_clear_error ();
    int rc = -EINVAL;
    if (!leaf)
        snprintf (why, why_len, "the certificate file holds no PEM certificate");
    else if (!key)
        snprintf (why, why_len, "the key file holds no PEM private key (or one with a passphrase)");
    else if (X509_check_private_key (leaf, key) != 1)
        snprintf (why, why_len, "the private key does not match the certificate");
    else if ((pair->expires_ms = s_time_ms (X509_get0_notAfter (leaf))) <= now_ms) {
        char when [32];
        time_t t = (time_t) (pair->expires_ms / 1000);
        strftime (when, sizeof when, "%Y-%m-%d %H:%M UTC", gmtime (&t));
        snprintf (why, why_len, "the certificate expired on %s", when);
    }
    else if (json_array_size (pair->domains = s_domains (leaf)) == 0)
        snprintf (why, why_len, "the certificate names no domain (no DNS subjectAltName or CN)");
    else if (json_array_size (pair->domains) > CERTS_DOMAINS_MAX)
        snprintf (why, why_len, "the certificate names more than %d domains", CERTS_DOMAINS_MAX);
    else
        rc = 0;
    ERR_clear_error ();
    if (rc == 0) {
        pair->cert = s_bio_text (out);
        BIO *k = BIO_new (BIO_s_mem ());
        PEM_write_bio_PrivateKey (k, key, NULL, NULL, 0, NULL, NULL);
        pair->key = s_bio_text (k);
        BIO_free_all (k);
        X509_NAME *issuer = X509_get_issuer_name (leaf);
        if (X509_NAME_get_text_by_NID (issuer, NID_commonName, pair->issuer,
                                       sizeof pair->issuer) <= 0)
            X509_NAME_oneline (issuer, pair->issuer, sizeof pair->issuer);
        pair->trusted = s_trusted (leaf, chain);
        ERR_clear_error ();
    }
    BIO_free (out);
    X509_free (leaf);
    sk_X509_pop_free (chain, X509_free);
    EVP_PKEY_free (key);
    if (rc)
        s_pair_release (pair);
    return rc;
}

//  The public view of a stored certificate: cert.info's fields. Caller
//  owns result.
static json_t *
s_view (const char *app, const json_t *cert)
{
    json_t *view = json_pack ("{s:s, s:O, s:O, s:O, s:s}", "app", app,
                              "name", json_object_get (cert, "name"),
                              "domains", json_object_get (cert, "domains"),
                              "expires_ms", json_object_get (cert, "expires_ms"), "type", "SNI");
    const char *keys [] = { "issuer", "auto", "trusted" };
    for (size_t i = 0; i < sizeof keys / sizeof keys [0]; i++)
        if (json_object_get (cert, keys [i]))
            json_object_set (view, keys [i], json_object_get (cert, keys [i]));
    return view;
}

static int
s_reply_view (act_t *act, const msg_t *req, const char *app, const json_t *cert)
{
    msg_t *reply = act_msg_new (act, MSG_TYPE_CERT_INFO, NULL);
    json_decref (reply->body);
    reply->body = s_view (app, cert);
    return act_reply (act, req, &reply);
}

//  The app's certificate named `name`, its index in *at. Borrowed.
static json_t *
s_find (json_t *app, const char *name, size_t *at)
{
    size_t i;
    json_t *cert;
    json_array_foreach (json_object_get (app, "certs"), i, cert)
        if (strcmp (json_string_value (json_object_get (cert, "name")), name) == 0) {
            if (at)
                *at = i;
            return cert;
        }
    return NULL;
}

//  The app's certificate whose chain is `pem`, or NULL. Borrowed.
static json_t *
s_find_pem (json_t *app, const char *pem)
{
    size_t i;
    json_t *cert;
    json_array_foreach (json_object_get (app, "certs"), i, cert)
        if (strcmp (json_string_value (json_object_get (cert, "cert")), pem) == 0)
            return cert;
    return NULL;
}

//  The answer to our cert.stored came back (or did not): answers the
//  cert.add waiting in `arg`.
static void
s_on_stored (void *state, act_t *act, const msg_t *reply, int rc, void *arg)
{
    rel_state_t *self = state;
    msg_t **slot = arg;
    msg_t *req = *slot;
    *slot = NULL;
    if (!req)
        return;
    if (rc || !reply || reply->type->id != MSG_TYPE_CERT_INFO)
        act_reply_error (act, req, rc ? rc : ACT_EPROTO, "the certificate was not stored: %s",
                         reply ? msg_str (reply, "reason", act_strerror (rc)) : act_strerror (rc));
    else {
        msg_t *info = act_msg_new (act, MSG_TYPE_CERT_INFO, NULL);
        json_decref (info->body);
        info->body = json_deep_copy (reply->body);
        act_reply (act, req, &info);
    }
    msg_destroy (&req);
    (void) self;
}

//  A free slot for a waiting cert.add, or NULL.
static msg_t **
s_waiting_slot (rel_certs_t *self)
{
    for (size_t i = 0; i < CERTS_WAITING_MAX; i++)
        if (!self->waiting [i])
            return &self->waiting [i];
    return NULL;
}

//  A certificate name free in `app`, derived from the request id (so the
//  same cert.add would pick the same one).
static void
s_new_name (json_t *app, const msg_t *msg, char *name, size_t len)
{
    uint64_t seed = rel_app_seed_from_id (msg->id);
    for (unsigned attempt = 0; attempt < CERTS_NAME_ATTEMPTS; attempt++) {
        rel_app_name_random (seed, attempt, name, len);
        if (!s_find (app, name, NULL))
            return;
    }
    snprintf (name, len, "cert-%.12s", msg->id);
}

int
rel_on_cert_add (void *state, act_t *act, msg_t *msg)
{
    rel_state_t *self = state;
    const char *name = msg_str (msg, "app", "");
    json_t *app = rel_app (self, name);
    if (!app)
        return act_reply_error (act, msg, ACT_ENOTFOUND, "app '%s' does not exist", name);
    if (!self->certs->seal)
        return act_reply_error (act, msg, -EIO, "cannot seal keys: %s", self->certs->seal_err);
    certs_pair_t pair;
    char why [160];
    if (s_inspect (msg_str (msg, "cert", ""), msg_str (msg, "key", ""), act_now (act), &pair,
                   why, sizeof why))
        return act_reply_error (act, msg, -EINVAL, "%s", why);
    json_t *same = s_find_pem (app, pair.cert);
    if (same) {
        s_pair_release (&pair);
        return s_reply_view (act, msg, name, same);
    }
    msg_t **slot = s_waiting_slot (self->certs);
    char *sealed = NULL;
    size_t sealed_len = 0;
    int rc = slot ? rel_seal_close (self->certs->seal, name, pair.key, strlen (pair.key), &sealed,
                                    &sealed_len)
                  : -EBUSY;
    if (rc) {
        s_pair_release (&pair);
        return act_reply_error (act, msg, rc, "cannot store the certificate: %s", act_strerror (rc));
    }
    char cert_name [CERTS_NAME_MAX];
    s_new_name (app, msg, cert_name, sizeof cert_name);
    msg_t *stored = act_msg_follow (act, MSG_TYPE_CERT_STORED, CERTS_ACTOR, msg);
    stored->durable = true;
    msg_set_str (stored, "app", name);
    msg_set_str (stored, "name", cert_name);
    msg_set_str (stored, "cert", pair.cert);
    msg_set_json (stored, "key_sealed", json_stringn_nocheck (sealed, sealed_len));
    msg_set_json (stored, "domains", json_incref (pair.domains));
    msg_set_int (stored, "expires_ms", pair.expires_ms);
    msg_set_str (stored, "issuer", pair.issuer);
    msg_set_json (stored, "trusted", json_boolean (pair.trusted));
    msg_set_str (stored, "by", msg_str (msg, "by", ""));
    free (sealed);
    s_pair_release (&pair);
    *slot = msg_dup (msg);
    rc = act_request (act, &stored, CERTS_STORE_MS, s_on_stored, slot);
    if (rc) {
        msg_destroy (slot);
        return act_reply_error (act, msg, rc, "cannot store the certificate: %s", act_strerror (rc));
    }
    return 0;
}

//  Base64 of `len` bytes. Caller owns result.
static char *
s_b64 (const char *data, size_t len)
{
    char *out = act_malloc (4 * ((len + 2) / 3) + 1);
    EVP_EncodeBlock ((unsigned char *) out, (const unsigned char *) data, (int) len);
    return out;
}

//  Decodes base64 `text` into a new buffer (caller frees), or NULL.
static unsigned char *
s_unb64 (const char *text, size_t *len)
{
    size_t n = strlen (text);
    if (n == 0 || n % 4)
        return NULL;
    unsigned char *out = act_malloc (n / 4 * 3 + 1);
    int got = EVP_DecodeBlock (out, (const unsigned char *) text, (int) n);
    if (got < 0) {
        free (out);
        return NULL;
    }
    //  EVP_DecodeBlock counts the padding as data.
    size_t pad = (text [n - 1] == '=') + (text [n - 2] == '=');
    *len = (size_t) got - pad;
    return out;
}

int
rel_on_cert_stored (void *state, act_t *act, msg_t *msg)
{
    rel_state_t *self = state;
    if (!act_msg_from_actor (msg, CERTS_ACTOR))
        return act_reply_error (act, msg, -EPERM, "only release-keeper stores certificates");
    const char *name = msg_str (msg, "app", "");
    json_t *app = rel_app (self, name);
    if (!app)
        return act_reply_error (act, msg, ACT_ENOTFOUND, "app '%s' does not exist", name);
    json_t *sealed = json_object_get (msg->body, "key_sealed");
    char *key_b64 = s_b64 (json_string_value (sealed), json_string_length (sealed));
    bool automatic = json_is_true (json_object_get (msg->body, "auto"));
    json_t *record = json_pack ("{s:s, s:s, s:s, s:O, s:I, s:b, s:s, s:I}",
                                "name", msg_str (msg, "name", ""), "cert", msg_str (msg, "cert", ""),
                                "key_sealed", key_b64,
                                "domains", json_object_get (msg->body, "domains"),
                                "expires_ms", (json_int_t) msg_int (msg, "expires_ms", 0),
                                "auto", automatic, "by", msg_str (msg, "by", ""),
                                "added_ms", (json_int_t) act_now (act));
    free (key_b64);
    const char *keys [] = { "issuer", "trusted" };
    for (size_t i = 0; i < sizeof keys / sizeof keys [0]; i++)
        if (json_object_get (msg->body, keys [i]))
            json_object_set (record, keys [i], json_object_get (msg->body, keys [i]));
    json_t *certs = json_object_get (app, "certs");
    if (!certs)
        json_object_set_new (app, "certs", certs = json_array ());
    size_t at;
    json_t *old = s_find (app, msg_str (msg, "name", ""), &at);
    //  A repeat (a replay re-sent it, or the same order twice): nothing
    //  changes, apart from when it was added.
    json_t *probe = json_deep_copy (record);
    if (old)
        json_object_set (probe, "added_ms", json_object_get (old, "added_ms"));
    bool same = old && json_equal (old, probe);
    json_decref (probe);
    if (!same) {
        if (old)
            json_array_set (certs, at, record);
        else
            json_array_append (certs, record);
        act_log_info ("stored certificate '%s' of app '%s'", msg_str (msg, "name", ""), name);
        act_emit_log (act, name, "api", "%s SSL certificate %s by %s", old ? "Update" : "Add",
                      msg_str (msg, "name", ""), msg_str (msg, "by", "unknown"));
        rel_route_publish (self, act, name);
    }
    int rc = 0;
    //  ACM's cert.stored is a plain send: nobody waits for an answer.
    if (!automatic)
        rc = s_reply_view (act, msg, name, same ? old : record);
    json_decref (record);
    return rc;
}

int
rel_on_cert_remove (void *state, act_t *act, msg_t *msg)
{
    rel_state_t *self = state;
    const char *name = msg_str (msg, "app", ""), *cert_name = msg_str (msg, "name", "");
    json_t *app = rel_app (self, name);
    if (!app)
        return act_reply_error (act, msg, ACT_ENOTFOUND, "app '%s' does not exist", name);
    size_t at;
    json_t *cert = s_find (app, cert_name, &at);
    if (!cert)
        return act_reply_error (act, msg, ACT_ENOTFOUND, "app '%s' has no certificate '%s'", name,
                                cert_name);
    json_incref (cert);
    json_array_remove (json_object_get (app, "certs"), at);
    act_log_info ("removed certificate '%s' of app '%s'", cert_name, name);
    act_emit_log (act, name, "api", "Remove SSL certificate %s by %s", cert_name,
                  msg_str (msg, "by", "unknown"));
    rel_route_publish (self, act, name);
    int rc = s_reply_view (act, msg, name, cert);
    json_decref (cert);
    return rc;
}

int
rel_on_cert_list (void *state, act_t *act, msg_t *msg)
{
    rel_state_t *self = state;
    const char *name = msg_str (msg, "app", "");
    json_t *app = rel_app (self, name);
    if (!app)
        return act_reply_error (act, msg, ACT_ENOTFOUND, "app '%s' does not exist", name);
    json_t *list = json_array ();
    size_t i;
    json_t *cert;
    json_array_foreach (json_object_get (app, "certs"), i, cert)
        json_array_append_new (list, s_view (name, cert));
    msg_t *reply = act_msg_new (act, MSG_TYPE_CERT_LIST_REPLY, NULL);
    msg_set_str (reply, "app", name);
    msg_set_json (reply, "certs", list);
    return act_reply (act, msg, &reply);
}

json_t *
rel_certs_route (rel_state_t *self, const char *app_name, const json_t *app)
{
    json_t *list = json_array ();
    size_t i;
    json_t *cert;
    json_array_foreach (json_object_get (app, "certs"), i, cert) {
        const char *name = json_string_value (json_object_get (cert, "name"));
        const char *b64 = json_string_value (json_object_get (cert, "key_sealed"));
        size_t sealed_len = 0, key_len = 0;
        unsigned char *sealed = b64 ? s_unb64 (b64, &sealed_len) : NULL;
        char *key = NULL;
        int rc = !self->certs->seal || !sealed ? -EINVAL
               : rel_seal_open (self->certs->seal, app_name, sealed, sealed_len, &key, &key_len);
        free (sealed);
        if (rc) {
            act_log_warn ("cannot open the key of certificate '%s' of app '%s': %s", name,
                          app_name, act_strerror (rc));
            continue;
        }
        json_array_append_new (list, json_pack ("{s:s, s:O, s:O, s:s, s:O}", "name", name,
                                                "domains", json_object_get (cert, "domains"),
                                                "cert", json_object_get (cert, "cert"),
                                                "key", key,
                                                "expires_ms", json_object_get (cert, "expires_ms")));
        OPENSSL_clear_free (key, key_len);
    }
    return list;
}
