//  challenges - ACME HTTP-01 challenges this router answers
//
//  Written by the actor thread (from `acme.challenge` events), read by the
//  HTTP worker threads under a lock. A request on the HTTP listener for
//  `/.well-known/acme-challenge/TOKEN`, whatever its Host, is answered 200
//  `text/plain` with TOKEN's key authorization when it is known, 404
//  otherwise; it never reaches a dyno.

#ifndef RTR_CHALLENGES_H
#define RTR_CHALLENGES_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

#define RTR_CHALLENGE_PREFIX "/.well-known/acme-challenge/"

typedef struct rtr_challenges rtr_challenges_t;

//  Caller owns result.
rtr_challenges_t *rtr_challenges_new (void);
void rtr_challenges_destroy (rtr_challenges_t **self_p);

//  Applies one `acme.challenge` body (borrowed).
void rtr_challenges_apply (rtr_challenges_t *self, const json_t *acme_challenge);

//  Copies TOKEN's key authorization into `out` (NUL-terminated) and
//  returns its length, or -1 when TOKEN is not known or does not fit.
ssize_t rtr_challenges_lookup (rtr_challenges_t *self, const char *token, size_t token_len,
                               char *out, size_t cap);

#endif
