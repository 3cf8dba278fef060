//  act_seen - a bounded set of recently seen message ids
//
//  Owns the two generations' slot arrays.

#include "act_seen.h"

#include <stdlib.h>
#include <string.h>

void
act_seen_init (act_seen_t *self)
{
    for (int g = 0; g < 2; g++) {
        self->gen [g].ids = act_calloc (ACT_SEEN_SLOTS, sizeof *self->gen [g].ids);
        self->gen [g].values = NULL;
        self->gen [g].count = 0;
    }
    self->current = 0;
}

void
act_seen_release (act_seen_t *self)
{
    for (int g = 0; g < 2; g++) {
        free (self->gen [g].ids);
        free (self->gen [g].values);
        self->gen [g].ids = NULL;
        self->gen [g].values = NULL;
    }
}

//  FNV-1a over the id; ids are random, so any mix will do.
static size_t
s_hash (const char *id)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < MSG_ID_LEN && id [i]; i++)
        h = (h ^ (unsigned char) id [i]) * 1099511628211ULL;
    return (size_t) (h % ACT_SEEN_SLOTS);
}

//  The index of the slot holding `id`, or of the empty slot where it would
//  go. The table is never more than half full, so the probe always ends.
static size_t
s_slot (act_seen_gen_t *gen, const char *id)
{
    size_t i = s_hash (id);
    while (gen->ids [i][0] && strncmp (gen->ids [i], id, MSG_ID_LEN) != 0)
        i = (i + 1) % ACT_SEEN_SLOTS;
    return i;
}

//  The value in slot `i` of `gen` (0 when it has no values).
static uint64_t
s_value (const act_seen_gen_t *gen, size_t i)
{
    return gen->values ? gen->values [i] : 0;
}

bool
act_seen_put (act_seen_t *self, const char *id, uint64_t value, uint64_t *old_p)
{
    if (strnlen (id, MSG_ID_LEN + 1) != MSG_ID_LEN)
        return false;           // not an id the decoder would have let through
    act_seen_gen_t *current = &self->gen [self->current];
    act_seen_gen_t *previous = &self->gen [1 - self->current];
    size_t i = s_slot (previous, id);
    if (previous->ids [i][0]) {
        if (old_p)
            *old_p = s_value (previous, i);
        return true;
    }
    i = s_slot (current, id);
    if (current->ids [i][0]) {
        if (old_p)
            *old_p = s_value (current, i);
        return true;
    }
    if (current->count >= ACT_SEEN_GEN) {
        //  Retire the previous generation; the current one becomes it.
        memset (previous->ids, 0, ACT_SEEN_SLOTS * sizeof *previous->ids);
        if (previous->values)
            memset (previous->values, 0, ACT_SEEN_SLOTS * sizeof *previous->values);
        previous->count = 0;
        self->current = 1 - self->current;
        current = previous;
        i = s_slot (current, id);
    }
    memcpy (current->ids [i], id, MSG_ID_LEN);
    current->ids [i][MSG_ID_LEN] = 0;
    if (value && !current->values)
        current->values = act_calloc (ACT_SEEN_SLOTS, sizeof *current->values);
    if (current->values)
        current->values [i] = value;
    current->count++;
    return false;
}

bool
act_seen_get (act_seen_t *self, const char *id, uint64_t *value_p)
{
    if (strnlen (id, MSG_ID_LEN + 1) != MSG_ID_LEN)
        return false;
    for (int g = 0; g < 2; g++) {
        size_t i = s_slot (&self->gen [g], id);
        if (self->gen [g].ids [i][0]) {
            if (value_p)
                *value_p = s_value (&self->gen [g], i);
            return true;
        }
    }
    return false;
}

bool
act_seen_add (act_seen_t *self, const char *id)
{
    return act_seen_put (self, id, 0, NULL);
}
