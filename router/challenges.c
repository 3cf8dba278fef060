//  challenges - ACME HTTP-01 challenges this router answers
//
//  See challenges.h. A small array under a mutex: challenges are few
//  (one per name of each order in flight) and short-lived, and a lookup
//  is only made for paths under RTR_CHALLENGE_PREFIX. Bounded: at most
//  RTR_CHALLENGES_MAX at once (the oldest is dropped for a new one), and
//  tokens and key authorizations of sane sizes only.

#include "challenges.h"
#include "../actors/common/act_base.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define RTR_CHALLENGES_MAX   1024
#define RTR_TOKEN_MAX        256        // bytes of a token (ACME's are 43)
#define RTR_KEY_AUTH_MAX     512        // bytes of a key authorization

typedef struct {
    char *token;
    char *key_auth;
} rtr_challenge_t;

struct rtr_challenges {
    pthread_mutex_t lock;
    rtr_challenge_t items [RTR_CHALLENGES_MAX];
    size_t count;                       // items [0 .. count) in use, oldest first
};

rtr_challenges_t *
rtr_challenges_new (void)
{
    rtr_challenges_t *self = act_calloc (1, sizeof *self);
    pthread_mutex_init (&self->lock, NULL);
    return self;
}

void
rtr_challenges_destroy (rtr_challenges_t **self_p)
{
    rtr_challenges_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->count; i++) {
        free (self->items [i].token);
        free (self->items [i].key_auth);
    }
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

//  The index of `token`, or -1. Under the lock.
static ssize_t
s_find (rtr_challenges_t *self, const char *token, size_t len)
{
    for (size_t i = 0; i < self->count; i++)
        if (strlen (self->items [i].token) == len && memcmp (self->items [i].token, token, len) == 0)
            return (ssize_t) i;
    return -1;
}

static void
s_remove_at (rtr_challenges_t *self, size_t i)
{
    free (self->items [i].token);
    free (self->items [i].key_auth);
    memmove (self->items + i, self->items + i + 1, (self->count - i - 1) * sizeof self->items [0]);
    self->count--;
}

void
rtr_challenges_apply (rtr_challenges_t *self, const json_t *acme_challenge)
{
    const char *token = json_string_value (json_object_get (acme_challenge, "token"));
    const char *key_auth = json_string_value (json_object_get (acme_challenge, "key_auth"));
    bool remove = json_is_true (json_object_get (acme_challenge, "remove"));
    if (!token || !*token || strlen (token) > RTR_TOKEN_MAX
        || (!remove && (!key_auth || strlen (key_auth) > RTR_KEY_AUTH_MAX)))
        return;
    pthread_mutex_lock (&self->lock);
    ssize_t at = s_find (self, token, strlen (token));
    if (at >= 0)
        s_remove_at (self, (size_t) at);
    if (!remove) {
        if (self->count == RTR_CHALLENGES_MAX)
            s_remove_at (self, 0);
        self->items [self->count].token = act_strdup (token);
        self->items [self->count].key_auth = act_strdup (key_auth);
        self->count++;
    }
    pthread_mutex_unlock (&self->lock);
}

ssize_t
rtr_challenges_lookup (rtr_challenges_t *self, const char *token, size_t token_len, char *out,
                       size_t cap)
{
    ssize_t result = -1;
    pthread_mutex_lock (&self->lock);
    ssize_t at = s_find (self, token, token_len);
    if (at >= 0) {
        size_t len = strlen (self->items [at].key_auth);
        if (len < cap) {
            memcpy (out, self->items [at].key_auth, len + 1);
            result = (ssize_t) len;
        }
    }
    pthread_mutex_unlock (&self->lock);
    return result;
}
