//  fetch - what a dyno needs before it starts: its slug and its config
//
//  Owns: the table of requests in flight (blob.get for the slug cache,
//  config.get for itself), the config vars cache (per app+version) and the
//  slug cache (slugs.h, which does the slug work). Accepts: the answers to
//  its requests (blob.chunk, config.vars, error). Emits: blob.get to
//  release-keeper (for slugs.c) and config.get to config-keeper.
//
//  An unanswered request is asked again (the peer may be restarting); an
//  `error` answer fails the slug or config, and the dynos waiting for it
//  crash (their back-off then paces the next try).

#ifndef SUP_FETCH_H
#define SUP_FETCH_H

#include "../common/act.h"

#include <sys/types.h>

#define SUP_FETCH_TIMEOUT_MS 10000      // a request unanswered this long is sent again
#define SUP_FETCH_TRIES     6           // sends of one request before giving up
#define SUP_FETCH_HOLD_MS   1000        // a failure is told to every asker this long
#define SUP_FETCH_WHY_LEN   320

typedef enum { SUP_FETCH_PENDING, SUP_FETCH_READY, SUP_FETCH_FAILED } sup_fetch_status_t;

typedef struct sup_fetch sup_fetch_t;

//  A cache under `slug_root` (SUPDIR/slugs). Caller owns result.
sup_fetch_t *sup_fetch_new (const char *slug_root);
//  Kills unpack children in flight and frees everything.
void sup_fetch_destroy (sup_fetch_t **self_p, act_t *act);

//  The unpacked slug `sha` of `app`, owned by uid:gid. READY with *dir_p
//  (borrowed, valid until sup_fetch_prune drops it); PENDING after
//  starting or continuing the fetch; FAILED with why (once: the next call
//  starts again).
sup_fetch_status_t sup_fetch_slug (sup_fetch_t *self, act_t *act, const char *app, const char *sha,
                                   int64_t size, uid_t uid, gid_t gid, const char **dir_p,
                                   char *why, size_t why_len);

//  The config vars of `app` at `version` (0: none set, an empty map).
//  READY with *vars_p (borrowed, valid until sup_fetch_prune); PENDING;
//  FAILED with why (once).
sup_fetch_status_t sup_fetch_config (sup_fetch_t *self, act_t *act, const char *app, int64_t version,
                                     const json_t **vars_p, char *why, size_t why_len);

//  Handles a blob.chunk, config.vars or error answering one of ours.
//  Returns true when `msg` was one.
bool sup_fetch_on_reply (sup_fetch_t *self, act_t *act, const msg_t *msg);

//  Asks again what was not answered in time; reaps removal children.
void sup_fetch_tick (sup_fetch_t *self, act_t *act, int64_t mono);
int64_t sup_fetch_deadline (const sup_fetch_t *self);

//  Drops what `app` no longer uses: slugs whose sha is not a key of
//  `slugs`, and config versions not a key of `versions` (decimal keys),
//  from memory and (slugs) from disk, also leftovers of a previous life.
void sup_fetch_prune (sup_fetch_t *self, act_t *act, const char *app, const json_t *slugs,
                      const json_t *versions);

//  For the slug cache (slugs.c): the request table.
//  Sends blob.get for [offset, offset + length) of `sha`, remembered under
//  `key` ("app/sha") as sent `tries` times; the answer or its silence goes
//  to sup_slugs_on_answer / sup_slugs_on_silence.
void sup_fetch_ask_blob (sup_fetch_t *self, act_t *act, const char *key, const char *app,
                         const char *sha, int64_t offset, int64_t length, int tries);
//  How many blob.get for `key` are in flight.
int sup_fetch_asked (const sup_fetch_t *self, const char *key);
//  Forgets the blob.get for `key` in flight (their answers are ignored).
void sup_fetch_forget (sup_fetch_t *self, const char *key);

#endif
