//  fetch - what a dyno needs before it starts: its slug and its config
//
//  Owns: the slug cache (SUPDIR/slugs/<app>/<sha>/, unpacked once per
//  app+slug and shared by every dyno of that app running it) and the
//  config vars cache (per app+version). Accepts: the answers to its
//  requests (blob.chunk, config.vars, error). Emits: blob.get to
//  release-keeper (SUP_SLUG_CHUNK bytes each, SUP_SLUG_WINDOW outstanding)
//  and config.get to config-keeper.
//
//  A slug is written to <sha>.tar.gz.part in order (chunks that come early
//  wait in memory), hashed on the way (SHA-256, OpenSSL EVP), renamed to
//  <sha>.tar.gz when whole and matching, then unpacked by a child process
//  (act_archive_extract into <sha>.tmp/, chown -R to the app's uid, rename
//  to <sha>/) so the actor's loop never waits on the disk; the tarball is
//  removed after. A <sha>/ folder that exists is whole: it is reused after
//  a restart. An unanswered request is asked again (the peer may be
//  restarting); an `error` answer fails the slug or config, and the dynos
//  waiting for it crash (their back-off then paces the next try).

#ifndef SUP_FETCH_H
#define SUP_FETCH_H

#include "../common/act.h"

#include <sys/types.h>

#define SUP_SLUG_CHUNK      (MSG_MAX_SIZE - 64 * 1024)  // 1 MiB less room for the envelope
#define SUP_SLUG_WINDOW     4           // blob.get outstanding per slug
#define SUP_FETCH_TIMEOUT_MS 10000      // a request unanswered this long is sent again

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

#endif
