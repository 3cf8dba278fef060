//  test_rel_acme - unit tests for release-keeper's ACME cryptography and
//  the router's HTTP-01 answers
//
//  Covers actors/release-keeper/acme_jws.h (base64url against RFC 4648's
//  vectors, the JWK thumbprint against RFC 7638 §3.1's example, key
//  authorizations, ES256 JWS signatures verified with OpenSSL, PEM round
//  trips), acme_csr.h (a CSR read back: names, key, signature; a chain's
//  facts) and router/challenges.h (publish, answer, withdraw, bounds).
//  The order itself runs against pebble in tests/integration/test_acme.sh.

#include "unit.h"
#include "../../actors/release-keeper/acme_csr.h"
#include "../../actors/release-keeper/acme_jws.h"
#include "../../router/challenges.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static void
test_rel_acme_b64url (void)
{
    static const char *plain [] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
    static const char *coded [] = { "", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy" };
    for (size_t i = 0; i < sizeof plain / sizeof plain [0]; i++) {
        char *out = rel_acme_b64url (plain [i], strlen (plain [i]));
        CHECK_STR_EQ (out, coded [i]);
        size_t len = 0;
        unsigned char *back = rel_acme_b64url_decode (out, &len);
        CHECK_NOT_NULL (back);
        CHECK_EQ (len, strlen (plain [i]));
        CHECK (memcmp (back, plain [i], len) == 0);
        free (back);
        free (out);
    }
    //  The two characters that differ from base64: 62 and 63.
    unsigned char bytes [] = { 0xfb, 0xff };
    char *out = rel_acme_b64url (bytes, sizeof bytes);
    CHECK_STR_EQ (out, "-_8");
    free (out);
    size_t len;
    CHECK_NULL (rel_acme_b64url_decode ("ab+c", &len));
    CHECK_NULL (rel_acme_b64url_decode ("a", &len));
}

static void
test_rel_acme_thumbprint_rfc7638 (void)
{
    //  RFC 7638 §3.1, with a member that is not part of the thumbprint.
    json_t *jwk = json_pack ("{s:s, s:s, s:s, s:s}", "kty", "RSA", "n",
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP"
        "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY"
        "368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0f"
        "M4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e", "AQAB", "alg", "RS256");
    char thumb [REL_ACME_THUMB_LEN + 1];
    CHECK_OK (rel_acme_thumbprint (jwk, thumb));
    CHECK_STR_EQ (thumb, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    json_decref (jwk);
    //  Not a key type with a defined thumbprint, or a member missing.
    jwk = json_pack ("{s:s, s:s}", "kty", "oct", "k", "abc");
    CHECK (rel_acme_thumbprint (jwk, thumb) < 0);
    json_decref (jwk);
    jwk = json_pack ("{s:s, s:s, s:s}", "kty", "EC", "crv", "P-256", "x", "abc");
    CHECK (rel_acme_thumbprint (jwk, thumb) < 0);
    json_decref (jwk);
}

static void
test_rel_acme_jwk_and_key_auth (void)
{
    EVP_PKEY *key = rel_acme_key_new ();
    CHECK_NOT_NULL (key);
    json_t *jwk = rel_acme_jwk (key);
    CHECK_NOT_NULL (jwk);
    CHECK_STR_EQ (json_string_value (json_object_get (jwk, "kty")), "EC");
    CHECK_STR_EQ (json_string_value (json_object_get (jwk, "crv")), "P-256");
    CHECK_EQ (strlen (json_string_value (json_object_get (jwk, "x"))), 43);
    CHECK_EQ (strlen (json_string_value (json_object_get (jwk, "y"))), 43);
    CHECK_EQ (json_object_size (jwk), 4);
    char thumb [REL_ACME_THUMB_LEN + 1];
    CHECK_OK (rel_acme_thumbprint (jwk, thumb));
    char *key_auth = rel_acme_key_auth (key, "tok-EN_1");
    char *expect = malloc (strlen (thumb) + 16);
    sprintf (expect, "tok-EN_1.%s", thumb);
    CHECK_STR_EQ (key_auth, expect);
    free (expect);
    free (key_auth);
    //  The PEM form gives back the same key (same JWK).
    char *pem = rel_acme_key_pem (key);
    CHECK_NOT_NULL (pem);
    CHECK (strstr (pem, "-----BEGIN PRIVATE KEY-----") != NULL);
    EVP_PKEY *again = rel_acme_key_from_pem (pem, strlen (pem));
    CHECK_NOT_NULL (again);
    json_t *jwk2 = rel_acme_jwk (again);
    CHECK (json_equal (jwk, jwk2));
    CHECK_NULL (rel_acme_key_from_pem ("not a key", 9));
    json_decref (jwk2);
    json_decref (jwk);
    OPENSSL_clear_free (pem, strlen (pem));
    EVP_PKEY_free (again);
    EVP_PKEY_free (key);
}

//  Decodes base64url field `name` of `jws` into a NUL-terminated string.
static char *
s_part (const json_t *jws, const char *name, size_t *len_p)
{
    size_t len = 0;
    unsigned char *raw = rel_acme_b64url_decode (json_string_value (json_object_get (jws, name)), &len);
    CHECK_NOT_NULL (raw);
    char *text = malloc (len + 1);
    memcpy (text, raw, len);
    text [len] = 0;
    free (raw);
    if (len_p)
        *len_p = len;
    return text;
}

//  Checks the ES256 signature of a flattened JWS with `key`'s public half.
static void
s_verify (const json_t *jws, EVP_PKEY *key)
{
    char *input = malloc (4096);
    snprintf (input, 4096, "%s.%s", json_string_value (json_object_get (jws, "protected")),
              json_string_value (json_object_get (jws, "payload")));
    size_t sig_len;
    char *sig = s_part (jws, "signature", &sig_len);
    CHECK_EQ (sig_len, 64);
    //  r | s back to DER for OpenSSL.
    ECDSA_SIG *ecdsa = ECDSA_SIG_new ();
    ECDSA_SIG_set0 (ecdsa, BN_bin2bn ((unsigned char *) sig, 32, NULL),
                    BN_bin2bn ((unsigned char *) sig + 32, 32, NULL));
    unsigned char *der = NULL;
    int der_len = i2d_ECDSA_SIG (ecdsa, &der);
    EVP_MD_CTX *md = EVP_MD_CTX_new ();
    CHECK (EVP_DigestVerifyInit (md, NULL, EVP_sha256 (), NULL, key) == 1);
    CHECK (EVP_DigestVerify (md, der, (size_t) der_len, (unsigned char *) input, strlen (input)) == 1);
    //  A changed byte of the signed input fails.
    input [0] ^= 1;
    CHECK (EVP_DigestVerifyInit (md, NULL, EVP_sha256 (), NULL, key) == 1);
    CHECK (EVP_DigestVerify (md, der, (size_t) der_len, (unsigned char *) input, strlen (input)) != 1);
    EVP_MD_CTX_free (md);
    OPENSSL_free (der);
    ECDSA_SIG_free (ecdsa);
    free (sig);
    free (input);
}

static void
test_rel_acme_jws_es256 (void)
{
    EVP_PKEY *key = rel_acme_key_new ();
    json_t *header = json_pack ("{s:s, s:s, s:s}", "nonce", "n0nce", "url",
                                "https://ca.test/new-order", "kid", "https://ca.test/acct/1");
    char *text = rel_acme_jws (key, header, "{\"identifiers\":[]}");
    CHECK_NOT_NULL (text);
    json_t *jws = json_loads (text, 0, NULL);
    CHECK_NOT_NULL (jws);
    CHECK_EQ (json_object_size (jws), 3);
    char *protected_hdr = s_part (jws, "protected", NULL);
    json_t *decoded = json_loads (protected_hdr, 0, NULL);
    CHECK_STR_EQ (json_string_value (json_object_get (decoded, "alg")), "ES256");
    CHECK_STR_EQ (json_string_value (json_object_get (decoded, "nonce")), "n0nce");
    CHECK_STR_EQ (json_string_value (json_object_get (decoded, "kid")), "https://ca.test/acct/1");
    CHECK_NULL (json_object_get (header, "alg"));          // the caller's header is not changed
    char *payload = s_part (jws, "payload", NULL);
    CHECK_STR_EQ (payload, "{\"identifiers\":[]}");
    s_verify (jws, key);
    free (payload);
    free (protected_hdr);
    json_decref (decoded);
    json_decref (jws);
    free (text);
    //  POST-as-GET: the empty payload.
    text = rel_acme_jws (key, header, NULL);
    jws = json_loads (text, 0, NULL);
    CHECK_STR_EQ (json_string_value (json_object_get (jws, "payload")), "");
    s_verify (jws, key);
    json_decref (jws);
    free (text);
    json_decref (header);
    EVP_PKEY_free (key);
}

static void
test_rel_acme_csr (void)
{
    EVP_PKEY *key = rel_acme_key_new ();
    const char *names [] = { "www.acme.test", "api.acme.test" };
    char *csr = rel_acme_csr (key, names, 2);
    CHECK_NOT_NULL (csr);
    CHECK (strpbrk (csr, "+/=") == NULL);
    size_t len;
    unsigned char *der = rel_acme_b64url_decode (csr, &len);
    const unsigned char *p = der;
    X509_REQ *req = d2i_X509_REQ (NULL, &p, (long) len);
    CHECK_NOT_NULL (req);
    CHECK (X509_REQ_verify (req, key) == 1);
    char cn [256];
    CHECK (X509_NAME_get_text_by_NID (X509_REQ_get_subject_name (req), NID_commonName, cn, sizeof cn) > 0);
    CHECK_STR_EQ (cn, "www.acme.test");
    STACK_OF (X509_EXTENSION) *exts = X509_REQ_get_extensions (req);
    GENERAL_NAMES *sans = X509V3_get_d2i (exts, NID_subject_alt_name, NULL, NULL);
    CHECK_NOT_NULL (sans);
    CHECK_EQ (sk_GENERAL_NAME_num (sans), 2);
    for (int i = 0; i < 2; i++) {
        GENERAL_NAME *gn = sk_GENERAL_NAME_value (sans, i);
        CHECK_EQ (gn->type, GEN_DNS);
        CHECK_STR_EQ ((const char *) ASN1_STRING_get0_data (gn->d.dNSName), names [i]);
    }
    CHECK_NULL (rel_acme_csr (key, names, 0));
    GENERAL_NAMES_free (sans);
    sk_X509_EXTENSION_pop_free (exts, X509_EXTENSION_free);
    X509_REQ_free (req);
    free (der);
    free (csr);
    EVP_PKEY_free (key);
}

//  A self-signed certificate for `key`, valid 1 day, as PEM (caller frees).
static char *
s_self_signed (EVP_PKEY *key, const char *issuer_cn)
{
    X509 *cert = X509_new ();
    X509_set_version (cert, 2);
    ASN1_INTEGER_set (X509_get_serialNumber (cert), 7);
    X509_gmtime_adj (X509_getm_notBefore (cert), 0);
    X509_gmtime_adj (X509_getm_notAfter (cert), 86400);
    X509_NAME *name = X509_get_subject_name (cert);
    X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_ASC, (const unsigned char *) issuer_cn, -1, -1, 0);
    X509_set_issuer_name (cert, name);
    X509_set_pubkey (cert, key);
    X509_sign (cert, key, EVP_sha256 ());
    BIO *bio = BIO_new (BIO_s_mem ());
    PEM_write_bio_X509 (bio, cert);
    char *data;
    long len = BIO_get_mem_data (bio, &data);
    char *pem = strndup (data, (size_t) len);
    BIO_free (bio);
    X509_free (cert);
    return pem;
}

static void
test_rel_acme_chain_facts (void)
{
    EVP_PKEY *key = rel_acme_key_new (), *other = rel_acme_key_new ();
    char *pem = s_self_signed (key, "Test Issuer");
    int64_t expires = 0;
    char issuer [64];
    CHECK_OK (rel_acme_chain_facts (pem, key, &expires, issuer, sizeof issuer));
    CHECK_STR_EQ (issuer, "Test Issuer");
    int64_t now_ms = (int64_t) time (NULL) * 1000;
    CHECK (expires > now_ms + 86000 * 1000LL && expires <= now_ms + 86401 * 1000LL);
    //  The leaf must hold the key the CSR was made with.
    CHECK (rel_acme_chain_facts (pem, other, &expires, issuer, sizeof issuer) < 0);
    CHECK (rel_acme_chain_facts ("no PEM here", key, &expires, issuer, sizeof issuer) < 0);
    free (pem);
    EVP_PKEY_free (key);
    EVP_PKEY_free (other);
}

static void
test_rtr_challenges (void)
{
    rtr_challenges_t *ch = rtr_challenges_new ();
    char out [128];
    CHECK_EQ (rtr_challenges_lookup (ch, "tok", 3, out, sizeof out), -1);
    json_t *add = json_pack ("{s:s, s:s}", "token", "tok", "key_auth", "tok.thumb");
    rtr_challenges_apply (ch, add);
    CHECK_EQ (rtr_challenges_lookup (ch, "tok", 3, out, sizeof out), 9);
    CHECK_STR_EQ (out, "tok.thumb");
    //  By length: a prefix or a longer token is another token.
    CHECK_EQ (rtr_challenges_lookup (ch, "to", 2, out, sizeof out), -1);
    CHECK_EQ (rtr_challenges_lookup (ch, "tok/x", 5, out, sizeof out), -1);
    CHECK_EQ (rtr_challenges_lookup (ch, "tok", 3, out, 9), -1);      // no room for the NUL
    //  Published again: replaced, not doubled; then withdrawn.
    json_t *again = json_pack ("{s:s, s:s}", "token", "tok", "key_auth", "tok.other");
    rtr_challenges_apply (ch, again);
    CHECK_EQ (rtr_challenges_lookup (ch, "tok", 3, out, sizeof out), 9);
    CHECK_STR_EQ (out, "tok.other");
    json_t *remove = json_pack ("{s:s, s:s, s:b}", "token", "tok", "key_auth", "", "remove", 1);
    rtr_challenges_apply (ch, remove);
    CHECK_EQ (rtr_challenges_lookup (ch, "tok", 3, out, sizeof out), -1);
    //  Bounded: the oldest go first.
    for (int i = 0; i < 1100; i++) {
        char token [16];
        snprintf (token, sizeof token, "t%d", i);
        json_t *one = json_pack ("{s:s, s:s}", "token", token, "key_auth", token);
        rtr_challenges_apply (ch, one);
        json_decref (one);
    }
    CHECK_EQ (rtr_challenges_lookup (ch, "t0", 2, out, sizeof out), -1);
    CHECK_EQ (rtr_challenges_lookup (ch, "t1099", 5, out, sizeof out), 5);
    json_decref (add);
    json_decref (again);
    json_decref (remove);
    rtr_challenges_destroy (&ch);
    CHECK_NULL (ch);
    rtr_challenges_destroy (&ch);
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_rel_acme_b64url),
    UNIT_TEST (test_rel_acme_thumbprint_rfc7638),
    UNIT_TEST (test_rel_acme_jwk_and_key_auth),
    UNIT_TEST (test_rel_acme_jws_es256),
    UNIT_TEST (test_rel_acme_csr),
    UNIT_TEST (test_rel_acme_chain_facts),
    UNIT_TEST (test_rtr_challenges),
};

UNIT_SUITE (unit_suite_rel_acme, s_tests);
