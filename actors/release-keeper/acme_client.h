//  acme_client - one ACME (RFC 8555) order, start to finish, blocking
//
//  Runs on a worker thread (acm.c), never on the actor's: directory,
//  nonce, newAccount (the same key finds the same account again, so no
//  account URL is kept), newOrder for every name, each authorization's
//  HTTP-01 challenge (published through `challenge` before the CA is told
//  to validate, and withdrawn after), finalize with a CSR for a fresh
//  EC P-256 key, and the certificate chain. libcurl over HTTPS (the
//  system's CAs plus `ca_file`); every request bounded in time and size,
//  abandoned when `*cancel` turns true.
//
//  Threading: everything it touches is its caller's or its own; several
//  orders may run at once on different threads.

#ifndef REL_ACME_CLIENT_H
#define REL_ACME_CLIENT_H

#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REL_ACME_ERROR_MAX  512         // bytes of a failure's reason, with NUL

//  Publishes (remove false) or withdraws (remove true) an HTTP-01 answer.
//  Called on the order's thread; `token` and `key_auth` are borrowed for
//  the call.
typedef void (rel_acme_challenge_fn) (void *arg, const char *token, const char *key_auth,
                                      bool remove);

typedef struct {
    const char *directory;              // the directory's https URL
    const char *ca_file;                // PEM CAs trusted besides the system's; or NULL
    const char *email;                  // account contact; or NULL
    EVP_PKEY *account;                  // the account key (borrowed)
    const char *const *domains;         // the names to certify (borrowed)
    size_t domain_count;
    rel_acme_challenge_fn *challenge;
    void *arg;
    //  When > 0: before asking the CA to validate, wait (up to a few
    //  seconds) until `http://127.0.0.1:PORT/.well-known/...` answers the
    //  key authorization, so the local router has it before the CA asks.
    int self_check_port;
    atomic_bool *cancel;                // borrowed; true: give up soon
} rel_acme_order_t;

typedef struct {
    char *chain;                        // PEM chain, leaf first (caller frees)
    EVP_PKEY *key;                      // the leaf's key (caller frees)
    int64_t expires_ms;                 // the leaf's notAfter
    char issuer [256];                  // the leaf's issuer CN
    char error [REL_ACME_ERROR_MAX];    // why it failed
} rel_acme_result_t;

//  Runs `order` to the end. Returns 0 with `result` filled, or a negative
//  code with result->error set to one line naming the step and the CA's
//  reason (`authorization for www.example.com failed: ...`).
int rel_acme_order_run (const rel_acme_order_t *order, rel_acme_result_t *result);

//  Frees what a result holds (the key wiped by OpenSSL).
void rel_acme_result_release (rel_acme_result_t *result);

#endif
