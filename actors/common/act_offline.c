//  act_offline - an actor run without a broker: `dynod replay` and tests
//
//  The act_t is the one act_run uses, with `offline` set: act_send_internal
//  then appends each message to `capture` instead of encoding it for a
//  socket, and no socket is ever opened.

#include "act_offline.h"
#include "act_internal.h"

#include <stdlib.h>
#include <string.h>

act_t *
act_offline_new (const act_def_t *def, const char *instance, uint64_t seed)
{
    act_t *self = act_calloc (1, sizeof *self);
    act_config_t cfg = { .instance = instance, .host = instance, .seed = seed ? seed : 1 };
    if (act_init (self, def, &cfg)) {
        act_release (self);
        free (self);
        return NULL;
    }
    self->offline = true;
    self->state = def->create ? def->create (self) : NULL;
    return self;
}

void
act_offline_destroy (act_t **self_p)
{
    if (!*self_p)
        return;
    act_release (*self_p);
    free (*self_p);
    *self_p = NULL;
}

void
act_offline_feed (act_t *self, msg_t *msg, msg_t ***out_p, size_t *count_p)
{
    self->replaying = true;
    act_dispatch (self, msg);
    self->replaying = false;
    *out_p = self->capture;
    *count_p = self->capture_len;
    self->capture = NULL;
    self->capture_len = self->capture_cap = 0;
}

void
act_offline_free_out (msg_t ***out_p, size_t count)
{
    for (size_t i = 0; i < count; i++)
        msg_destroy (&(*out_p) [i]);
    free (*out_p);
    *out_p = NULL;
}

void *
act_offline_state (act_t *self)
{
    return self->state;
}
