//  act_seen - a bounded set of recently seen message ids
//
//  Two generations of open-addressing hash sets: ids go into the current
//  one; when it holds ACT_SEEN_GEN ids it becomes the previous one and a
//  fresh set starts. A lookup checks both, so the last ACT_SEEN_GEN to
//  2 x ACT_SEEN_GEN ids are remembered, in constant time and memory. An id
//  may carry a value (the broker keeps the sequence number a durable
//  message was journaled under).

#ifndef ACT_SEEN_H
#define ACT_SEEN_H

#include "../../messages/msg.h"

#define ACT_SEEN_GEN    16384           // ids per generation
#define ACT_SEEN_SLOTS  (2 * ACT_SEEN_GEN)

typedef struct {
    char (*ids) [MSG_ID_LEN + 1];       // ACT_SEEN_SLOTS slots, "" = empty
    uint64_t *values;                   // ACT_SEEN_SLOTS, made on the first put
    size_t count;
} act_seen_gen_t;

typedef struct {
    act_seen_gen_t gen [2];
    int current;
} act_seen_t;

void act_seen_init (act_seen_t *self);
void act_seen_release (act_seen_t *self);
//  Adds `id` (MSG_ID_LEN hex characters). Returns true if it was already
//  there, false if it is new.
bool act_seen_add (act_seen_t *self, const char *id);
//  True when `id` is there, with the value it was put with in *value_p
//  (when not NULL); adds nothing.
bool act_seen_get (act_seen_t *self, const char *id, uint64_t *value_p);
//  As act_seen_add, keeping `value` with a new id; for one already there,
//  sets *old_p (when not NULL) to the value it was put with (0 when added
//  with act_seen_add).
bool act_seen_put (act_seen_t *self, const char *id, uint64_t value, uint64_t *old_p);

#endif
