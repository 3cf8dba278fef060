//  acme_csr - what an ACME order sends and gets back as X.509
//
//  See acme_csr.h.

#include "acme_csr.h"
#include "acme_jws.h"
#include "../common/act_base.h"

#include <errno.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <time.h>

char *
rel_acme_csr (EVP_PKEY *key, const char *const *domains, size_t n)
{
    if (n == 0)
        return NULL;
    X509_REQ *req = X509_REQ_new ();
    X509_NAME *name = X509_NAME_new ();
    GENERAL_NAMES *sans = GENERAL_NAMES_new ();
    STACK_OF (X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null ();
    char *result = NULL;
    bool ok = req && name && sans && exts && X509_REQ_set_version (req, 0)
           && X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_ASC,
                                          (const unsigned char *) domains [0], -1, -1, 0)
           && X509_REQ_set_subject_name (req, name) && X509_REQ_set_pubkey (req, key);
    for (size_t i = 0; ok && i < n; i++) {
        GENERAL_NAME *gn = GENERAL_NAME_new ();
        ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new ();
        ok = gn && ia5 && ASN1_STRING_set (ia5, domains [i], (int) strlen (domains [i]));
        if (ok) {
            GENERAL_NAME_set0_value (gn, GEN_DNS, ia5);
            ok = sk_GENERAL_NAME_push (sans, gn) > 0;
        }
        else {
            GENERAL_NAME_free (gn);
            ASN1_IA5STRING_free (ia5);
        }
    }
    if (ok) {
        X509_EXTENSION *ext = X509V3_EXT_i2d (NID_subject_alt_name, 0, sans);
        ok = ext && sk_X509_EXTENSION_push (exts, ext) > 0;
        if (!ok)
            X509_EXTENSION_free (ext);
    }
    ok = ok && X509_REQ_add_extensions (req, exts) && X509_REQ_sign (req, key, EVP_sha256 ()) > 0;
    if (ok) {
        unsigned char *der = NULL;
        int len = i2d_X509_REQ (req, &der);
        if (len > 0)
            result = rel_acme_b64url (der, (size_t) len);
        OPENSSL_free (der);
    }
    sk_X509_EXTENSION_pop_free (exts, X509_EXTENSION_free);
    GENERAL_NAMES_free (sans);
    X509_NAME_free (name);
    X509_REQ_free (req);
    return result;
}

int
rel_acme_chain_facts (const char *pem, EVP_PKEY *key, int64_t *expires_ms, char *issuer,
                      size_t issuer_len)
{
    BIO *bio = BIO_new_mem_buf (pem, -1);
    X509 *leaf = bio ? PEM_read_bio_X509 (bio, NULL, NULL, NULL) : NULL;
    BIO_free (bio);
    if (!leaf)
        return -EINVAL;
    int rc = -EINVAL;
    struct tm tm;
    if (X509_check_private_key (leaf, key) == 1
        && ASN1_TIME_to_tm (X509_get0_notAfter (leaf), &tm) == 1) {
        *expires_ms = (int64_t) timegm (&tm) * 1000;
        issuer [0] = 0;
        X509_NAME_get_text_by_NID (X509_get_issuer_name (leaf), NID_commonName, issuer,
                                   (int) issuer_len);
        rc = 0;
    }
    X509_free (leaf);
    return rc;
}
