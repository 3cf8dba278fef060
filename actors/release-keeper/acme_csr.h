//  acme_csr - what an ACME order sends and gets back as X.509
//
//  The certificate signing request that finalizes an order (PKCS#10 with
//  the names in subjectAltName) and the facts release-keeper records of
//  the chain it downloads (the leaf's notAfter and issuer). OpenSSL.
//
//  Threading: no shared state; safe from any thread.

#ifndef REL_ACME_CSR_H
#define REL_ACME_CSR_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

//  A CSR for `domains` (n >= 1; the first also the subject's CN) signed
//  by `key`: its DER in base64url, as newOrder's finalize wants it.
//  Caller owns result; NULL on failure.
char *rel_acme_csr (EVP_PKEY *key, const char *const *domains, size_t n);

//  Reads the leaf (first certificate) of PEM chain `pem`: its notAfter in
//  ms since the epoch, its issuer's CN (or "" into `issuer`) and whether
//  it holds `key`'s public key. Returns 0, or -EINVAL when `pem` holds no
//  certificate or the leaf is not `key`'s.
int rel_acme_chain_facts (const char *pem, EVP_PKEY *key, int64_t *expires_ms, char *issuer,
                          size_t issuer_len);

#endif
