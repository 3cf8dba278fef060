//  certs - the router's store of uploaded and ACM certificates, by name
//
//  Written by the actor thread (one app's certificates at a time, from
//  `route.app`), read by the worker threads during handshakes. An update
//  parses the PEM outside the lock, then swaps in a new sorted table of
//  (name, certificate) under the lock; a lookup holds the lock only for a
//  binary search and an up-ref. Names are exact (`www.example.com`) or
//  wildcards one label deep (`*.example.com`); a lookup tries the exact
//  name first. When certificates of two apps claim one name, the one that
//  expires last is served.

#ifndef RTR_CERTS_H
#define RTR_CERTS_H

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>

typedef struct rtr_certs rtr_certs_t;

//  One certificate as served: the leaf, the rest of the chain, the key.
//  Reference counted; the fields are immutable once made.
typedef struct rtr_cert rtr_cert_t;

//  Caller owns result.
rtr_certs_t *rtr_certs_new (void);
void rtr_certs_destroy (rtr_certs_t **self_p);

//  Replaces app `app`'s certificates with `certs` (borrowed; the array of
//  `route.app`: maps of `name`, `domains`, `cert`, `key`; NULL or empty
//  drops them). A certificate is served only for names the app owns: its
//  custom `domains` (borrowed array of strings, may be NULL) and its
//  default names `APP.localhost` and `APP.<base_domain>` (`base_domain`
//  NULL or "" for none) — whatever else the certificate names, so one app
//  cannot take over another's name by uploading a certificate for it.
//  Entries whose PEM does not parse or whose key does not match are
//  skipped and counted in *skipped (may be NULL). Actor thread only.
void rtr_certs_set_app (rtr_certs_t *self, const char *app, const json_t *certs,
                        const json_t *domains, const char *base_domain, size_t *skipped);

//  The certificate for `name` (lower case, no trailing dot): exact, then
//  `*.` + its parent. Returns a reference the caller gives back with
//  rtr_cert_release, or NULL.
rtr_cert_t *rtr_certs_lookup (rtr_certs_t *self, const char *name);

//  How many names the store holds (for status and tests).
size_t rtr_certs_names (rtr_certs_t *self);

//  Borrowed, valid while the caller holds its reference.
X509 *rtr_cert_leaf (rtr_cert_t *cert);
EVP_PKEY *rtr_cert_key (rtr_cert_t *cert);
//  The chain after the leaf (may be empty). Borrowed, as above.
STACK_OF (X509) *rtr_cert_chain (rtr_cert_t *cert);
void rtr_cert_release (rtr_cert_t **cert_p);

#endif
