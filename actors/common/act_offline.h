//  act_offline - an actor run without a broker: `dynod replay` and tests
//
//  Creates the actor's state through its definition and dispatches
//  messages into it exactly as act_run would (duplicate drops, a journaled
//  message handled at its own timestamp, the runtime's own types), but
//  every message the actor sends is captured instead of going to a broker.
//  Single-threaded, like act_run.

#ifndef ACT_OFFLINE_H
#define ACT_OFFLINE_H

#include "act.h"

//  A fresh actor named `def->name@instance` with its rng seeded by `seed`.
//  Returns NULL when the address is not valid. Caller owns result.
act_t *act_offline_new (const act_def_t *def, const char *instance, uint64_t seed);
void act_offline_destroy (act_t **self_p);

//  Dispatches `msg` (borrowed) as a journal replay does. Sets *out_p to the
//  messages the actor sent while handling it, in order (caller owns the
//  array and each message; free with act_offline_free_out), and *count_p.
void act_offline_feed (act_t *self, msg_t *msg, msg_t ***out_p, size_t *count_p);
void act_offline_free_out (msg_t ***out_p, size_t count);

//  The actor's state (what def->create returned). Borrowed.
void *act_offline_state (act_t *self);

#endif
