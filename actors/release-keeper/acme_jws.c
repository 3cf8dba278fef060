//  acme_jws - the cryptography of ACME (RFC 8555) requests
//
//  See acme_jws.h. ES256 signatures come out of OpenSSL DER-encoded
//  (ECDSA-Sig-Value); JWS wants the raw 32-byte r and s concatenated
//  (RFC 7518 §3.4), so they are converted here.

#include "acme_jws.h"
#include "../common/act_base.h"

#include <errno.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <string.h>

#define JWS_COORD_LEN   32              // bytes of a P-256 coordinate
#define JWS_POINT_LEN   (1 + 2 * JWS_COORD_LEN)     // 04 | X | Y

static const char s_alphabet [] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *
rel_acme_b64url (const void *data, size_t len)
{
    const unsigned char *in = data;
    char *out = act_malloc (len / 3 * 4 + 5);
    size_t o = 0, i = 0;
    for (; i + 2 < len; i += 3) {
        unsigned v = (unsigned) in [i] << 16 | (unsigned) in [i + 1] << 8 | in [i + 2];
        out [o++] = s_alphabet [v >> 18 & 63];
        out [o++] = s_alphabet [v >> 12 & 63];
        out [o++] = s_alphabet [v >> 6 & 63];
        out [o++] = s_alphabet [v & 63];
    }
    if (len - i == 1) {
        unsigned v = (unsigned) in [i] << 16;
        out [o++] = s_alphabet [v >> 18 & 63];
        out [o++] = s_alphabet [v >> 12 & 63];
    }
    else if (len - i == 2) {
        unsigned v = (unsigned) in [i] << 16 | (unsigned) in [i + 1] << 8;
        out [o++] = s_alphabet [v >> 18 & 63];
        out [o++] = s_alphabet [v >> 12 & 63];
        out [o++] = s_alphabet [v >> 6 & 63];
    }
    out [o] = 0;
    return out;
}

static int
s_b64_value (char c)
{
    const char *at = c ? strchr (s_alphabet, c) : NULL;
    return at ? (int) (at - s_alphabet) : -1;
}

unsigned char *
rel_acme_b64url_decode (const char *text, size_t *out_len)
{
    size_t len = strlen (text);
    while (len && text [len - 1] == '=')
        len--;
    if (len % 4 == 1)
        return NULL;
    unsigned char *out = act_malloc (len / 4 * 3 + 3);
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = s_b64_value (text [i]);
        if (v < 0) {
            free (out);
            return NULL;
        }
        acc = (acc << 6 | (unsigned) v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out [o++] = (unsigned char) (acc >> bits & 0xff);
        }
    }
    *out_len = o;
    return out;
}

EVP_PKEY *
rel_acme_key_new (void)
{
    return EVP_EC_gen ("P-256");
}

char *
rel_acme_key_pem (EVP_PKEY *key)
{
    BIO *bio = BIO_new (BIO_s_mem ());
    char *pem = NULL;
    if (bio && PEM_write_bio_PrivateKey (bio, key, NULL, NULL, 0, NULL, NULL) == 1) {
        char *data;
        long len = BIO_get_mem_data (bio, &data);
        pem = OPENSSL_malloc ((size_t) len + 1);
        if (pem) {
            memcpy (pem, data, (size_t) len);
            pem [len] = 0;
        }
    }
    //  The memory BIO held the key in clear too.
    if (bio) {
        char *data;
        long len = BIO_get_mem_data (bio, &data);
        OPENSSL_cleanse (data, (size_t) len);
    }
    BIO_free (bio);
    return pem;
}

EVP_PKEY *
rel_acme_key_from_pem (const char *pem, size_t len)
{
    BIO *bio = BIO_new_mem_buf (pem, (int) len);
    if (!bio)
        return NULL;
    EVP_PKEY *key = PEM_read_bio_PrivateKey (bio, NULL, NULL, NULL);
    BIO_free (bio);
    return key;
}

json_t *
rel_acme_jwk (EVP_PKEY *key)
{
    unsigned char point [JWS_POINT_LEN];
    size_t len = 0;
    char curve [32];
    if (EVP_PKEY_get_base_id (key) != EVP_PKEY_EC
        || !EVP_PKEY_get_utf8_string_param (key, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof curve,
                                            NULL)
        || strcmp (curve, "prime256v1") != 0
        || !EVP_PKEY_get_octet_string_param (key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point,
                                             &len)
        || len != JWS_POINT_LEN || point [0] != 4)
        return NULL;
    char *x = rel_acme_b64url (point + 1, JWS_COORD_LEN);
    char *y = rel_acme_b64url (point + 1 + JWS_COORD_LEN, JWS_COORD_LEN);
    json_t *jwk = json_pack ("{s:s, s:s, s:s, s:s}", "crv", "P-256", "kty", "EC", "x", x, "y", y);
    free (x);
    free (y);
    return jwk;
}

int
rel_acme_thumbprint (const json_t *jwk, char out [REL_ACME_THUMB_LEN + 1])
{
    //  The members each key type requires, in lexicographic order
    //  (RFC 7638 §3.2); all their values are strings.
    static const char *ec [] = { "crv", "kty", "x", "y", NULL };
    static const char *rsa [] = { "e", "kty", "n", NULL };
    const char *kty = json_string_value (json_object_get (jwk, "kty"));
    const char **names = !kty ? NULL : strcmp (kty, "EC") == 0 ? ec : strcmp (kty, "RSA") == 0 ? rsa : NULL;
    if (!names)
        return -EINVAL;
    //  Built by hand rather than with json_dumps so the bytes are exactly
    //  the canonical form whatever jansson's escaping choices.
    size_t cap = 16, len = 0;
    for (size_t i = 0; names [i]; i++) {
        const char *value = json_string_value (json_object_get (jwk, names [i]));
        if (!value || strpbrk (value, "\"\\"))
            return -EINVAL;
        cap += strlen (names [i]) + strlen (value) + 6;
    }
    char *text = act_malloc (cap);
    text [len++] = '{';
    for (size_t i = 0; names [i]; i++)
        len += (size_t) snprintf (text + len, cap - len, "%s\"%s\":\"%s\"", i ? "," : "",
                                  names [i], json_string_value (json_object_get (jwk, names [i])));
    text [len++] = '}';
    unsigned char digest [SHA256_DIGEST_LENGTH];
    SHA256 ((const unsigned char *) text, len, digest);
    free (text);
    char *b64 = rel_acme_b64url (digest, sizeof digest);
    memcpy (out, b64, REL_ACME_THUMB_LEN + 1);
    free (b64);
    return 0;
}

char *
rel_acme_key_auth (EVP_PKEY *key, const char *token)
{
    json_t *jwk = rel_acme_jwk (key);
    char thumb [REL_ACME_THUMB_LEN + 1];
    int rc = jwk ? rel_acme_thumbprint (jwk, thumb) : -EINVAL;
    json_decref (jwk);
    return rc ? NULL : act_sprintf ("%s.%s", token, thumb);
}

//  Signs `data` with SHA-256 and returns the raw r | s (64 bytes) in `sig`.
static int
s_sign_es256 (EVP_PKEY *key, const char *data, size_t len, unsigned char sig [2 * JWS_COORD_LEN])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new ();
    unsigned char der [128];
    size_t der_len = sizeof der;
    int rc = -EINVAL;
    if (md && EVP_DigestSignInit (md, NULL, EVP_sha256 (), NULL, key) == 1
        && EVP_DigestSign (md, der, &der_len, (const unsigned char *) data, len) == 1) {
        const unsigned char *p = der;
        ECDSA_SIG *ecdsa = d2i_ECDSA_SIG (NULL, &p, (long) der_len);
        const BIGNUM *r, *s;
        if (ecdsa) {
            ECDSA_SIG_get0 (ecdsa, &r, &s);
            if (BN_bn2binpad (r, sig, JWS_COORD_LEN) == JWS_COORD_LEN
                && BN_bn2binpad (s, sig + JWS_COORD_LEN, JWS_COORD_LEN) == JWS_COORD_LEN)
                rc = 0;
            ECDSA_SIG_free (ecdsa);
        }
    }
    EVP_MD_CTX_free (md);
    return rc;
}

char *
rel_acme_jws (EVP_PKEY *key, const json_t *header, const char *payload)
{
    json_t *protected_hdr = json_deep_copy (header);
    json_object_set_new (protected_hdr, "alg", json_string ("ES256"));
    char *header_text = json_dumps (protected_hdr, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref (protected_hdr);
    if (!header_text)
        return NULL;
    char *h64 = rel_acme_b64url (header_text, strlen (header_text));
    free (header_text);
    char *p64 = rel_acme_b64url (payload ? payload : "", payload ? strlen (payload) : 0);
    char *input = act_sprintf ("%s.%s", h64, p64);
    unsigned char sig [2 * JWS_COORD_LEN];
    char *result = NULL;
    if (s_sign_es256 (key, input, strlen (input), sig) == 0) {
        char *s64 = rel_acme_b64url (sig, sizeof sig);
        json_t *jws = json_pack ("{s:s, s:s, s:s}", "protected", h64, "payload", p64,
                                 "signature", s64);
        result = json_dumps (jws, JSON_COMPACT);
        json_decref (jws);
        free (s64);
    }
    free (input);
    free (h64);
    free (p64);
    return result;
}
