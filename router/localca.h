//  localca - the local certificate authority: the root `dynod up` creates,
//  and the leaf certificates the router mints from it
//
//  The root is `root.pem` + `root.key` (0600) in one directory (DATA/ca):
//  EC P-256, self-signed, 10 years, named `dynod local CA`. A router loads
//  it and mints, on demand, one leaf per host name: EC P-256 (one key per
//  router process, shared by its leaves), SAN = the name, valid 90 days,
//  cached; a cached leaf within RTR_LOCALCA_RENEW_S of its end is minted
//  again. The cache holds at most RTR_LOCALCA_CACHE_MAX names (the least
//  recently used goes first), so clients inventing names cannot grow it.
//  Threading: rtr_localca_leaf may be called from any thread; the cache
//  has its own lock, held only for lookups and inserts, never while minting.

#ifndef RTR_LOCALCA_H
#define RTR_LOCALCA_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>

#define RTR_LOCALCA_NAME        "dynod local CA"
#define RTR_LOCALCA_ROOT_DAYS   3650
#define RTR_LOCALCA_LEAF_DAYS   90
#define RTR_LOCALCA_RENEW_S     (30 * 86400)    // re-mint when this little is left
#define RTR_LOCALCA_CACHE_MAX   1024
#define RTR_LOCALCA_NAME_MAX    253             // bytes of a DNS name

typedef struct rtr_localca rtr_localca_t;

//  Creates `dir` (0700) and the root in it unless `root.pem` is already
//  there. Sets *created when it made a new one. Returns 0, or a negative
//  code with a reason in `err`.
int rtr_localca_ensure (const char *dir, bool *created, char *err, size_t err_len);

//  Loads the root from `dir`. Caller owns result; NULL with a reason in
//  `err` when it is missing or unreadable.
rtr_localca_t *rtr_localca_new (const char *dir, char *err, size_t err_len);
void rtr_localca_destroy (rtr_localca_t **self_p);

//  True when `name` is a host name a leaf may be minted for: 1-253 bytes
//  of lower-case letters, digits, `-` and `.`, no empty label.
bool rtr_localca_name_ok (const char *name);

//  The leaf for `name` (which must pass rtr_localca_name_ok), minted now
//  or from the cache. Returns 0 with *cert and *key set (each up-ref'd:
//  the caller frees them with X509_free / EVP_PKEY_free), or -EINVAL /
//  -ENOMEM when OpenSSL failed.
int rtr_localca_leaf (rtr_localca_t *self, const char *name, X509 **cert, EVP_PKEY **key);

//  Leaves minted so far (for status and tests).
size_t rtr_localca_minted (rtr_localca_t *self);

#endif
