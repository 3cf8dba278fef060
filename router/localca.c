//  localca - the local certificate authority (see localca.h)
//
//  Owns the root certificate and key, the leaf key and the leaf cache (a
//  sorted array under a mutex). Minting happens outside the lock, so a
//  handshake that needs a new leaf never stalls others that hit the cache.

#include "localca.h"
#include "../actors/common/act_pem.h"
#include "../actors/common/act_base.h"

#include <errno.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define LCA_SERIAL_BYTES    16
#define LCA_BACKDATE_S      3600        // notBefore an hour back: clock skew

typedef struct {
    char name [RTR_LOCALCA_NAME_MAX + 1];
    X509 *cert;                 // owned
    time_t not_after;
    uint64_t used;              // LRU clock value of the last use
} lca_leaf_t;

struct rtr_localca {
    X509 *root;                 // owned
    EVP_PKEY *root_key;         // owned
    EVP_PKEY *leaf_key;         // owned; shared by every leaf
    pthread_mutex_t lock;       // guards the fields below
    lca_leaf_t *leaves;         // sorted by name, RTR_LOCALCA_CACHE_MAX slots
    size_t count;
    uint64_t clock;
    size_t minted;
};

//  Writes `what` and OpenSSL's first queued reason into `err`, and clears
//  the thread's error queue.
static void
s_fail (char *err, size_t err_len, const char *what)
{
    unsigned long e = ERR_get_error ();
    char reason [160] = "";
    if (e)
        ERR_error_string_n (e, reason, sizeof reason);
    ERR_clear_error ();
    if (err && err_len)
        snprintf (err, err_len, "%s%s%s", what, *reason ? ": " : "", reason);
}

static EVP_PKEY *
s_p256 (void)
{
    return EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");
}

static int
s_add_ext (X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb (&ctx);
    X509V3_set_ctx (&ctx, issuer ? issuer : cert, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid (NULL, &ctx, nid, value);
    if (!ext)
        return -EINVAL;
    int ok = X509_add_ext (cert, ext, -1);
    X509_EXTENSION_free (ext);
    return ok ? 0 : -ENOMEM;
}

static int
s_serial (X509 *cert)
{
    unsigned char bytes [LCA_SERIAL_BYTES];
    if (RAND_bytes (bytes, sizeof bytes) != 1)
        return -EIO;
    bytes [0] &= 0x7f;          // positive
    bytes [0] |= 0x01;          // and never zero
    BIGNUM *bn = BN_bin2bn (bytes, sizeof bytes, NULL);
    int ok = bn && BN_to_ASN1_INTEGER (bn, X509_get_serialNumber (cert)) != NULL;
    BN_free (bn);
    return ok ? 0 : -ENOMEM;
}

//  A new certificate for `pub` named CN=`cn`, signed by `sign_key` as
//  `issuer` (NULL: self-signed), valid from an hour ago for `days`.
//  `exts` lists nid, value pairs ending with 0. Caller owns result.
static X509 *
s_cert_new (const char *cn, EVP_PKEY *pub, X509 *issuer, EVP_PKEY *sign_key, int days,
            const int *nids, const char *const *values)
{
    X509 *cert = X509_new ();
    X509_NAME *subject = X509_NAME_new ();
    bool ok = cert && subject
           && X509_set_version (cert, 2)
           && s_serial (cert) == 0
           && X509_NAME_add_entry_by_txt (subject, "CN", MBSTRING_UTF8,
                                          (const unsigned char *) cn, -1, -1, 0)
           && (issuer || X509_NAME_add_entry_by_txt (subject, "O", MBSTRING_UTF8,
                                                     (const unsigned char *) "dynod", -1, -1, 0))
           && X509_set_subject_name (cert, subject)
           && X509_set_issuer_name (cert, issuer ? X509_get_subject_name (issuer) : subject)
           && X509_gmtime_adj (X509_getm_notBefore (cert), -LCA_BACKDATE_S)
           && X509_time_adj_ex (X509_getm_notAfter (cert), days, 0, NULL)
           && X509_set_pubkey (cert, pub);
    for (size_t i = 0; ok && nids [i]; i++)
        ok = s_add_ext (cert, issuer, nids [i], values [i]) == 0;
    ok = ok && X509_sign (cert, sign_key, EVP_sha256 ()) > 0;
    X509_NAME_free (subject);
    if (!ok)
        X509_free (cert);
    return ok ? cert : NULL;
}

//  Writes `pkey` (private) or `cert` as PEM to `path` with `mode`.
static int
s_write_pem (const char *path, X509 *cert, EVP_PKEY *pkey, int mode)
{
    BIO *bio = BIO_new (BIO_s_mem ());
    if (!bio)
        return -ENOMEM;
    int ok = cert ? PEM_write_bio_X509 (bio, cert)
                  : PEM_write_bio_PrivateKey (bio, pkey, NULL, NULL, 0, NULL, NULL);
    char *data = NULL;
    long len = BIO_get_mem_data (bio, &data);
    int rc = ok && len > 0 ? act_write_file (path, data, (size_t) len, mode) : -ENOMEM;
    BIO_free (bio);
    return rc;
}

int
rtr_localca_ensure (const char *dir, bool *created, char *err, size_t err_len)
{
    *created = false;
    char *pem = act_sprintf ("%s/root.pem", dir);
    char *key_path = act_sprintf ("%s/root.key", dir);
    struct stat st;
    int rc = 0;
    if (stat (pem, &st) == 0)
        goto done;
    rc = act_mkdir_p (dir, 0700);
    if (rc) {
        snprintf (err, err_len, "cannot create '%s': %s", dir, strerror (-rc));
        goto done;
    }
    EVP_PKEY *key = s_p256 ();
    static const int nids [] = { NID_basic_constraints, NID_key_usage,
                                 NID_subject_key_identifier, 0 };
    static const char *const values [] = { "critical,CA:TRUE,pathlen:0",
                                           "critical,keyCertSign,cRLSign", "hash" };
    X509 *root = key ? s_cert_new (RTR_LOCALCA_NAME, key, NULL, key, RTR_LOCALCA_ROOT_DAYS,
                                   nids, values) : NULL;
    if (!root) {
        s_fail (err, err_len, "cannot make the local CA");
        rc = -EINVAL;
    }
    //  The key first: root.pem present means the pair is complete.
    else if ((rc = s_write_pem (key_path, NULL, key, 0600)) != 0
         ||  (rc = s_write_pem (pem, root, NULL, 0644)) != 0)
        snprintf (err, err_len, "cannot write the local CA in '%s': %s", dir, strerror (-rc));
    else
        *created = true;
    X509_free (root);
    EVP_PKEY_free (key);
done:
    free (pem);
    free (key_path);
    return rc;
}

rtr_localca_t *
rtr_localca_new (const char *dir, char *err, size_t err_len)
{
    char *pem = act_sprintf ("%s/root.pem", dir);
    char *key_path = act_sprintf ("%s/root.key", dir);
    BIO *pem_bio = BIO_new_file (pem, "r");
    BIO *key_bio = BIO_new_file (key_path, "r");
    X509 *root = pem_bio ? PEM_read_bio_X509 (pem_bio, NULL, act_pem_no_password, NULL) : NULL;
    EVP_PKEY *key = key_bio ? PEM_read_bio_PrivateKey (key_bio, NULL, act_pem_no_password, NULL) : NULL;
    BIO_free (pem_bio);
    BIO_free (key_bio);
    rtr_localca_t *self = NULL;
    if (!root || !key || X509_check_private_key (root, key) != 1) {
        char what [512];
        snprintf (what, sizeof what, "cannot load the local CA from '%s'", dir);
        s_fail (err, err_len, what);
    }
    else {
        self = act_calloc (1, sizeof *self);
        self->root = root;
        self->root_key = key;
        self->leaf_key = s_p256 ();
        self->leaves = act_calloc (RTR_LOCALCA_CACHE_MAX, sizeof *self->leaves);
        pthread_mutex_init (&self->lock, NULL);
        root = NULL;
        key = NULL;
        if (!self->leaf_key) {
            s_fail (err, err_len, "cannot make the leaf key");
            rtr_localca_destroy (&self);
        }
    }
    X509_free (root);
    EVP_PKEY_free (key);
    free (pem);
    free (key_path);
    return self;
}

void
rtr_localca_destroy (rtr_localca_t **self_p)
{
    rtr_localca_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    for (size_t i = 0; i < self->count; i++)
        X509_free (self->leaves [i].cert);
    free (self->leaves);
    pthread_mutex_destroy (&self->lock);
    X509_free (self->root);
    EVP_PKEY_free (self->root_key);
    EVP_PKEY_free (self->leaf_key);
    free (self);
    *self_p = NULL;
}

bool
rtr_localca_name_ok (const char *name)
{
    size_t len = strlen (name), label = 0;
    if (len == 0 || len > RTR_LOCALCA_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name [i];
        if (c == '.') {
            if (label == 0)
                return false;
            label = 0;
        }
        else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')
            label++;
        else
            return false;
        if (label > 63)
            return false;
    }
    return label > 0;
}

//  The slot of `name`, or where it would go (*found false). Lock held.
static size_t
s_find (rtr_localca_t *self, const char *name, bool *found)
{
    size_t lo = 0, hi = self->count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int cmp = strcmp (self->leaves [mid].name, name);
        if (cmp == 0) {
            *found = true;
            return mid;
        }
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static void
s_evict_oldest (rtr_localca_t *self)
{
    size_t oldest = 0;
    for (size_t i = 1; i < self->count; i++)
        if (self->leaves [i].used < self->leaves [oldest].used)
            oldest = i;
    X509_free (self->leaves [oldest].cert);
    memmove (&self->leaves [oldest], &self->leaves [oldest + 1],
             (self->count - oldest - 1) * sizeof *self->leaves);
    self->count--;
}

//  Puts `cert` (ownership passes here) in the cache as `name`'s leaf.
//  Lock held.
static void
s_insert (rtr_localca_t *self, const char *name, X509 *cert, time_t not_after)
{
    bool found;
    size_t at = s_find (self, name, &found);
    if (!found && self->count == RTR_LOCALCA_CACHE_MAX) {
        s_evict_oldest (self);
        at = s_find (self, name, &found);
    }
    if (found)
        X509_free (self->leaves [at].cert);
    else {
        memmove (&self->leaves [at + 1], &self->leaves [at],
                 (self->count - at) * sizeof *self->leaves);
        self->count++;
        snprintf (self->leaves [at].name, sizeof self->leaves [at].name, "%s", name);
    }
    self->leaves [at].cert = cert;
    self->leaves [at].not_after = not_after;
    self->leaves [at].used = ++self->clock;
}

//  A new leaf for `name`. Caller owns result.
static X509 *
s_mint (rtr_localca_t *self, const char *name)
{
    char san [RTR_LOCALCA_NAME_MAX + 8];
    snprintf (san, sizeof san, "DNS:%s", name);
    const int nids [] = { NID_basic_constraints, NID_key_usage, NID_ext_key_usage,
                          NID_subject_alt_name, NID_subject_key_identifier,
                          NID_authority_key_identifier, 0 };
    const char *const values [] = { "critical,CA:FALSE", "critical,digitalSignature",
                                    "serverAuth", san, "hash", "keyid:always" };
    return s_cert_new (name, self->leaf_key, self->root, self->root_key, RTR_LOCALCA_LEAF_DAYS,
                       nids, values);
}

int
rtr_localca_leaf (rtr_localca_t *self, const char *name, X509 **cert, EVP_PKEY **key)
{
    if (!rtr_localca_name_ok (name))
        return -EINVAL;
    time_t now = time (NULL);
    bool found;
    pthread_mutex_lock (&self->lock);
    size_t at = s_find (self, name, &found);
    if (found && self->leaves [at].not_after - RTR_LOCALCA_RENEW_S > now) {
        *cert = self->leaves [at].cert;
        X509_up_ref (*cert);
        self->leaves [at].used = ++self->clock;
        pthread_mutex_unlock (&self->lock);
        EVP_PKEY_up_ref (self->leaf_key);
        *key = self->leaf_key;
        return 0;
    }
    pthread_mutex_unlock (&self->lock);

    X509 *fresh = s_mint (self, name);
    if (!fresh) {
        ERR_clear_error ();
        return -ENOMEM;
    }
    time_t not_after = now + (time_t) RTR_LOCALCA_LEAF_DAYS * 86400;
    X509_up_ref (fresh);        // one for the cache, one for the caller
    pthread_mutex_lock (&self->lock);
    s_insert (self, name, fresh, not_after);
    self->minted++;
    pthread_mutex_unlock (&self->lock);
    EVP_PKEY_up_ref (self->leaf_key);
    *cert = fresh;
    *key = self->leaf_key;
    return 0;
}

size_t
rtr_localca_minted (rtr_localca_t *self)
{
    pthread_mutex_lock (&self->lock);
    size_t n = self->minted;
    pthread_mutex_unlock (&self->lock);
    return n;
}
