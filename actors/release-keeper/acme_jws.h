//  acme_jws - the cryptography of ACME (RFC 8555) requests
//
//  Owns nothing between calls: base64url (RFC 4648 §5, no padding), EC
//  P-256 keys and their PEM form, the JWK of a public key (RFC 7517), its
//  thumbprint (RFC 7638) and key authorizations, and JWS signatures with
//  ES256 in the flattened JSON serialization (RFC 7515 §7.2.2) that ACME
//  requests carry. OpenSSL for the keys and signatures, jansson for JSON.
//
//  Threading: no shared state; safe from any thread.

#ifndef REL_ACME_JWS_H
#define REL_ACME_JWS_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stddef.h>

#define REL_ACME_THUMB_LEN  43          // base64url of a SHA-256 digest

//  Base64url of `len` bytes, without padding. Caller owns result.
char *rel_acme_b64url (const void *data, size_t len);
//  Decodes base64url (padding optional) into a new buffer (caller owns
//  it, *out_len set). Returns NULL when `text` is not base64url.
unsigned char *rel_acme_b64url_decode (const char *text, size_t *out_len);

//  A new EC P-256 key pair. Caller owns result (EVP_PKEY_free).
EVP_PKEY *rel_acme_key_new (void);
//  The private key as PKCS#8 PEM. Caller owns result and should wipe it
//  (OPENSSL_clear_free). NULL on failure.
char *rel_acme_key_pem (EVP_PKEY *key);
//  Parses a PEM private key. Caller owns result; NULL when it does not
//  parse.
EVP_PKEY *rel_acme_key_from_pem (const char *pem, size_t len);

//  The public JWK of an EC P-256 key: {"crv","kty","x","y"}. Caller owns
//  result; NULL for any other kind of key.
json_t *rel_acme_jwk (EVP_PKEY *key);
//  The RFC 7638 thumbprint of `jwk` (borrowed): SHA-256 of its required
//  members (EC: crv, kty, x, y; RSA: e, kty, n) in lexicographic order
//  without whitespace, base64url, into `out` (NUL-terminated). Returns 0,
//  or -EINVAL for a JWK of another kind or without those members.
int rel_acme_thumbprint (const json_t *jwk, char out [REL_ACME_THUMB_LEN + 1]);
//  The HTTP-01 key authorization TOKEN.THUMBPRINT for `key`'s account.
//  Caller owns result; NULL on failure.
char *rel_acme_key_auth (EVP_PKEY *key, const char *token);

//  A JWS in the flattened JSON serialization, signed ES256 by `key`:
//  {"protected": b64url(header), "payload": b64url(payload), "signature":
//  b64url(r || s)}. `header` (borrowed) gets "alg": "ES256" added on a
//  copy; `payload` NULL signs the empty payload of a POST-as-GET. Caller
//  owns result (a JSON text); NULL on failure.
char *rel_acme_jws (EVP_PKEY *key, const json_t *header, const char *payload);

#endif
