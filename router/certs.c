//  certs - the router's store of uploaded and ACM certificates (certs.h)
//
//  Owns an immutable table of entries sorted by name, then by expiry
//  (latest first), and the certificates they point at (reference counted,
//  so a handshake keeps one alive after an update dropped it). Only the
//  actor thread builds tables; the lock guards the pointer swap and the
//  readers' binary search.

#include "certs.h"
#include "../actors/common/act_pem.h"
#include "../actors/common/act_base.h"

#include <ctype.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct rtr_cert {
    atomic_int refs;
    X509 *leaf;                 // owned
    STACK_OF (X509) *chain;     // owned, with its certificates
    EVP_PKEY *key;              // owned
    int64_t not_after;          // seconds since the epoch
};

typedef struct {
    char *name;                 // owned; lower case, exact or `*.parent`
    char *app;                  // owned
    rtr_cert_t *cert;           // one reference
} certs_entry_t;

typedef struct {
    certs_entry_t *entries;
    size_t count;
} certs_table_t;

struct rtr_certs {
    pthread_mutex_t lock;       // guards `table` (the pointer)
    certs_table_t *table;       // owned; replaced whole, never changed
};

static rtr_cert_t *
s_cert_ref (rtr_cert_t *cert)
{
    atomic_fetch_add (&cert->refs, 1);
    return cert;
}

void
rtr_cert_release (rtr_cert_t **cert_p)
{
    rtr_cert_t *cert = cert_p ? *cert_p : NULL;
    if (!cert)
        return;
    *cert_p = NULL;
    if (atomic_fetch_sub (&cert->refs, 1) != 1)
        return;
    X509_free (cert->leaf);
    sk_X509_pop_free (cert->chain, X509_free);
    EVP_PKEY_free (cert->key);
    free (cert);
}

X509 *rtr_cert_leaf (rtr_cert_t *cert) { return cert->leaf; }
EVP_PKEY *rtr_cert_key (rtr_cert_t *cert) { return cert->key; }
STACK_OF (X509) *rtr_cert_chain (rtr_cert_t *cert) { return cert->chain; }

//  Parses one `route.app` certificate map. Caller owns result; NULL when
//  the PEM does not parse or the key does not match the leaf.
static rtr_cert_t *
s_cert_parse (const json_t *entry)
{
    const char *pem = json_string_value (json_object_get (entry, "cert"));
    const char *key_pem = json_string_value (json_object_get (entry, "key"));
    if (!pem || !key_pem)
        return NULL;
    rtr_cert_t *cert = act_calloc (1, sizeof *cert);
    atomic_init (&cert->refs, 1);
    cert->chain = sk_X509_new_null ();
    BIO *bio = BIO_new_mem_buf (pem, -1);
    X509 *x;
    while (bio && (x = PEM_read_bio_X509 (bio, NULL, act_pem_no_password, NULL)) != NULL) {
        if (!cert->leaf)
            cert->leaf = x;
        else if (!sk_X509_push (cert->chain, x))
            X509_free (x);
    }
    BIO_free (bio);
    bio = BIO_new_mem_buf (key_pem, -1);
    cert->key = bio ? PEM_read_bio_PrivateKey (bio, NULL, act_pem_no_password, NULL) : NULL;
    BIO_free (bio);
    bool ok = cert->leaf && cert->key && X509_check_private_key (cert->leaf, cert->key) == 1;
    struct tm tm;
    if (ok && ASN1_TIME_to_tm (X509_get0_notAfter (cert->leaf), &tm) == 1)
        cert->not_after = (int64_t) timegm (&tm);
    //  The last PEM read ends with a "no start line" error on the queue.
    ERR_clear_error ();
    if (!ok)
        rtr_cert_release (&cert);
    return cert;
}

//  `name` lower-cased without a trailing dot, or NULL when empty.
//  Caller owns result.
static char *
s_norm (const char *name)
{
    size_t len = strlen (name);
    if (len && name [len - 1] == '.')
        len--;
    if (!len)
        return NULL;
    char *out = act_malloc (len + 1);
    for (size_t i = 0; i < len; i++)
        out [i] = (char) tolower ((unsigned char) name [i]);
    out [len] = 0;
    return out;
}

static void
s_push (certs_table_t *table, size_t *cap, const char *name, const char *app, rtr_cert_t *cert)
{
    char *norm = s_norm (name);
    if (!norm)
        return;
    if (table->count == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        certs_entry_t *grown = act_calloc (*cap, sizeof *grown);
        if (table->count)
            memcpy (grown, table->entries, table->count * sizeof *grown);
        free (table->entries);
        table->entries = grown;
    }
    table->entries [table->count++] = (certs_entry_t) {
        .name = norm, .app = act_strdup (app), .cert = s_cert_ref (cert)
    };
}

//  True when the leaf covers `name`: a host name by the usual rules (a
//  wildcard covers one label), a wildcard name only by that same wildcard
//  among its DNS names.
static bool
s_covers (rtr_cert_t *cert, const char *name)
{
    if (strncmp (name, "*.", 2) != 0)
        return X509_check_host (cert->leaf, name, strlen (name),
                                X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1;
    bool found = false;
    GENERAL_NAMES *sans = X509_get_ext_d2i (cert->leaf, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; !found && i < sk_GENERAL_NAME_num (sans); i++) {
        GENERAL_NAME *gn = sk_GENERAL_NAME_value (sans, i);
        if (gn->type != GEN_DNS)
            continue;
        const unsigned char *data = ASN1_STRING_get0_data (gn->d.dNSName);
        int len = ASN1_STRING_length (gn->d.dNSName);
        found = len > 0 && (size_t) len == strlen (name)
             && strncasecmp ((const char *) data, name, (size_t) len) == 0;
    }
    GENERAL_NAMES_free (sans);
    return found;
}

//  Pushes an entry for each name the app owns that the leaf covers.
static void
s_push_owned (certs_table_t *table, size_t *cap, const char *app, rtr_cert_t *cert,
              const json_t *domains, const char *base_domain)
{
    char name [300];
    snprintf (name, sizeof name, "%s.localhost", app);
    if (s_covers (cert, name))
        s_push (table, cap, name, app, cert);
    if (base_domain && *base_domain
    &&  snprintf (name, sizeof name, "%s.%s", app, base_domain) < (int) sizeof name
    &&  s_covers (cert, name))
        s_push (table, cap, name, app, cert);
    size_t i;
    json_t *domain;
    json_array_foreach (domains, i, domain)
        if (json_is_string (domain) && s_covers (cert, json_string_value (domain)))
            s_push (table, cap, json_string_value (domain), app, cert);
}

static int
s_by_name_then_expiry (const void *a, const void *b)
{
    const certs_entry_t *x = a, *y = b;
    int cmp = strcmp (x->name, y->name);
    if (cmp)
        return cmp;
    return x->cert->not_after > y->cert->not_after ? -1 : x->cert->not_after < y->cert->not_after;
}

static void
s_table_free (certs_table_t **table_p)
{
    certs_table_t *table = *table_p;
    if (!table)
        return;
    for (size_t i = 0; i < table->count; i++) {
        free (table->entries [i].name);
        free (table->entries [i].app);
        rtr_cert_release (&table->entries [i].cert);
    }
    free (table->entries);
    free (table);
    *table_p = NULL;
}

rtr_certs_t *
rtr_certs_new (void)
{
    rtr_certs_t *self = act_calloc (1, sizeof *self);
    pthread_mutex_init (&self->lock, NULL);
    self->table = act_calloc (1, sizeof *self->table);
    return self;
}

void
rtr_certs_destroy (rtr_certs_t **self_p)
{
    rtr_certs_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    s_table_free (&self->table);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

void
rtr_certs_set_app (rtr_certs_t *self, const char *app, const json_t *certs,
                   const json_t *domains, const char *base_domain, size_t *skipped)
{
    if (skipped)
        *skipped = 0;
    //  Only this (the actor) thread replaces the table, so reading the
    //  current one needs no lock.
    certs_table_t *old = self->table;
    certs_table_t *fresh = act_calloc (1, sizeof *fresh);
    size_t cap = 0;
    for (size_t i = 0; i < old->count; i++)
        if (strcmp (old->entries [i].app, app) != 0)
            s_push (fresh, &cap, old->entries [i].name, old->entries [i].app, old->entries [i].cert);
    size_t k;
    json_t *entry;
    json_array_foreach (certs, k, entry) {
        rtr_cert_t *cert = s_cert_parse (entry);
        if (!cert) {
            if (skipped)
                (*skipped)++;
            continue;
        }
        s_push_owned (fresh, &cap, app, cert, domains, base_domain);
        rtr_cert_release (&cert);       // the entries hold theirs
    }
    if (fresh->count)
        qsort (fresh->entries, fresh->count, sizeof *fresh->entries, s_by_name_then_expiry);
    pthread_mutex_lock (&self->lock);
    self->table = fresh;
    pthread_mutex_unlock (&self->lock);
    s_table_free (&old);
}

//  The first entry named `name`, or NULL. Lock held.
static certs_entry_t *
s_lower_bound (certs_table_t *table, const char *name)
{
    size_t lo = 0, hi = table->count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strcmp (table->entries [mid].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < table->count && strcmp (table->entries [lo].name, name) == 0
         ? &table->entries [lo] : NULL;
}

rtr_cert_t *
rtr_certs_lookup (rtr_certs_t *self, const char *name)
{
    char wild [300];
    const char *dot = strchr (name, '.');
    bool has_wild = dot && dot [1] && snprintf (wild, sizeof wild, "*%s", dot) < (int) sizeof wild;
    rtr_cert_t *found = NULL;
    pthread_mutex_lock (&self->lock);
    certs_entry_t *entry = s_lower_bound (self->table, name);
    if (!entry && has_wild)
        entry = s_lower_bound (self->table, wild);
    if (entry)
        found = s_cert_ref (entry->cert);
    pthread_mutex_unlock (&self->lock);
    return found;
}

size_t
rtr_certs_names (rtr_certs_t *self)
{
    pthread_mutex_lock (&self->lock);
    size_t n = self->table->count;
    pthread_mutex_unlock (&self->lock);
    return n;
}
