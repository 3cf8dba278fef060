//  replay - feeds an actor's journaled inputs into a fresh instance and
//  compares what it emits with what the journal recorded
//
//  The engine behind `dynod replay`, separate from its command line so that
//  tests can run it with a changed actor definition. Entries are added in
//  sequence order; `inputs` are the entries addressed to the actor (its
//  name, any instance of it, or a topic it subscribes to) within [from,
//  to]; the recorded `outputs` of an input are the durable messages the
//  actor sent whose `corr` is that input's id (replies and stream messages
//  are not journaled, so they cannot be compared; a durable message caused
//  by something outside the journal, e.g. a build, has no input to pair
//  with and is skipped). Outputs are compared on type, to, corr and body.

#ifndef DND_REPLAY_H
#define DND_REPLAY_H

#include "../actors/common/act.h"

typedef struct dnd_replay dnd_replay_t;

typedef struct {
    size_t inputs;              // inputs replayed
    size_t matched;             // outputs that matched
    uint64_t first_seq, last_seq;   // range of inputs replayed
    //  On a divergence: the input's seq, type and id, and the two outputs
    //  (NULL when one side has fewer). Owned by the result.
    uint64_t seq;
    char input [MSG_ADDR_MAX + 64];
    size_t index;               // which output of that input, from 0
    json_t *expected;
    json_t *got;
} dnd_replay_result_t;

//  Compares the inputs from `from` to `to` (0: no end). With `history`,
//  the inputs before `from` are replayed first, uncompared, to build the
//  state those start from (add entries from 1 then); without, the actor
//  starts empty at `from`. Caller owns result.
dnd_replay_t *dnd_replay_new (const act_def_t *def, uint64_t from, uint64_t to, bool history);
void dnd_replay_destroy (dnd_replay_t **self_p);
//  Adds one encoded journal entry. Returns false when it is unreadable
//  (it is skipped).
bool dnd_replay_add (dnd_replay_t *self, const void *data, size_t len);
//  Replays every input. Returns 0 when every output matched, 1 at the
//  first divergence (result says where). Free the result with
//  dnd_replay_result_release.
int dnd_replay_run (dnd_replay_t *self, dnd_replay_result_t *result);
void dnd_replay_result_release (dnd_replay_result_t *result);

#endif
