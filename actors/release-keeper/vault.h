//  vault - release-keeper's blobs, copied to the broker and fetched back
//
//  So that release-keeper can move to another host (started there with an
//  empty data directory) and still serve every slug, roll back and build,
//  every blob of its store (blobs.h) is also kept by the broker's vault
//  (broker/vault.h):
//
//  copy:  a queue of local blobs the broker may not have yet: every blob
//         found in the store at start (an existing installation is copied
//         once; the broker answers a blob it has at once), each upload and
//         each built slug. One blob at a time, one part (at most
//         REL_VAULT_PART bytes) in flight: a probe (offset 0, no bytes)
//         first, then the parts in order, each sent when the broker's
//         vault.saved for the one before arrives (act_request with
//         REL_VAULT_TIMEOUT_MS). A timeout or an error starts the blob
//         again from offset 0 after a back-off (1 s doubling to 60 s).
//  fetch: a handler that needs blobs the store lacks (blob.get from a
//         supervisor, deploy.start's source and buildpacks) parks a copy
//         of its message with rel_vault_need and returns; the blobs are
//         fetched one at a time, part by part (vault.get, answered by
//         blob.chunk), through upload.h, so a fetched blob is stored only
//         whole and with the right SHA-256. Once none of a parked
//         message's blobs is being fetched any more (stored, or the vault
//         lacks it), its handler runs again and answers as usual.
//
//  Emits: vault.put and vault.get to the broker. Nothing here is durable
//  state or runs during a replay: what the broker holds is found out again
//  after a restart.

#ifndef REL_VAULT_H
#define REL_VAULT_H

#include "rel_state.h"

#define REL_VAULT_PART        (900 * 1024)  // bytes per vault.put / vault.get
#define REL_VAULT_TIMEOUT_MS  10000         // for the broker's answer to one part
#define REL_VAULT_BACKOFF_MS  1000          // first wait after a failed copy
#define REL_VAULT_BACKOFF_MAX 60000
#define REL_VAULT_FETCH_TRIES 3             // sends of one vault.get before giving up
#define REL_VAULT_FETCHES_MAX 64            // blobs waiting to be fetched
#define REL_VAULT_PARKED_MAX  256           // messages waiting for fetches

//  Opens the vault of the actor's store (inert without a data directory)
//  and queues every blob stored there for copying. Caller owns result.
rel_vault_t *rel_vault_new (act_t *act);
//  Frees the queues and the messages still parked (unanswered: their
//  senders time out as with any stop). Accepts NULL.
void rel_vault_destroy (rel_vault_t **self_p);

//  Queues stored blob `sha` to be copied to the broker (once).
void rel_vault_copy (rel_vault_t *self, const char *sha);

//  When any of the blobs in `shas` (a JSON array of strings; borrowed) is
//  missing from the store: queues fetches for them, keeps a copy of `msg`
//  and returns true (the handler returns 0 without answering); `fn` runs
//  with the copy once the fetches are over. Returns false when nothing is
//  missing, when fetching is not possible (no data directory, queues full,
//  replaying) and while `fn` runs again, so the handler goes on as usual.
bool rel_vault_need (rel_vault_t *self, const json_t *shas, const msg_t *msg, act_handler_fn *fn);

//  Starts copies and fetches; call from the actor's tick.
void rel_vault_tick (rel_state_t *state, act_t *act);

//  Adds the vault's figures (blobs queued, copied, fetched) to a status.
void rel_vault_status (const rel_vault_t *self, json_t *detail);

#endif
