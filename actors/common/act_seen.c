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
        self->gen [g].count = 0;
    }
    self->current = 0;
}

void
act_seen_release (act_seen_t *self)
{
    for (int g = 0; g < 2; g++) {
        free (self->gen [g].ids);
        self->gen [g].ids = NULL;
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

//  The slot holding `id`, or the empty slot where it would go. The table is
//  never more than half full, so the probe always ends.
static char *
s_slot (act_seen_gen_t *gen, const char *id)
{
    size_t i = s_hash (id);
    while (gen->ids [i][0] && strncmp (gen->ids [i], id, MSG_ID_LEN) != 0)
        i = (i + 1) % ACT_SEEN_SLOTS;
    return gen->ids [i];
}

bool
act_seen_add (act_seen_t *self, const char *id)
{
    if (strnlen (id, MSG_ID_LEN + 1) != MSG_ID_LEN)
        return false;           // not an id the decoder would have let through
    act_seen_gen_t *current = &self->gen [self->current];
    act_seen_gen_t *previous = &self->gen [1 - self->current];
    if (s_slot (previous, id) [0])
        return true;
    char *slot = s_slot (current, id);
    if (slot [0])
        return true;
    if (current->count >= ACT_SEEN_GEN) {
        //  Retire the previous generation; the current one becomes it.
        memset (previous->ids, 0, ACT_SEEN_SLOTS * sizeof *previous->ids);
        previous->count = 0;
        self->current = 1 - self->current;
        current = previous;
        slot = s_slot (current, id);
    }
    memcpy (slot, id, MSG_ID_LEN);
    slot [MSG_ID_LEN] = 0;
    current->count++;
    return false;
}
