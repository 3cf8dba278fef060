//  slugs - the slug cache: download, check, unpack once, prune
//
//  Owns: SUPDIR/slugs/<app>/<sha>/ (unpacked once per app+slug and shared
//  by every dyno of that app running it), the downloads in progress, the
//  unpacking children and the children removing trashed folders
//  (SUPDIR/slugs/.trash/). Accepts: the answers to its blob.get requests
//  (blob.chunk or error) and their silences, routed by fetch.c's request
//  table. Emits: blob.get to release-keeper through that table
//  (SUP_SLUG_CHUNK bytes each, SUP_SLUG_WINDOW outstanding per slug).
//
//  A slug is written to <sha>.tar.gz.part in order (chunks that come early
//  wait in memory), hashed on the way (SHA-256, OpenSSL EVP), renamed to
//  <sha>.tar.gz when whole and matching, then unpacked by a child process
//  (act_archive_extract into <sha>.tmp/, chown -R to the app's uid, rename
//  to <sha>/) so the actor's loop never waits on the disk; the tarball is
//  removed after. A <sha>/ folder that exists is whole: it is reused after
//  a restart. Trees are removed with sbx_fs_remove (never following
//  symlinks, on one file system), big ones in a child.

#ifndef SUP_SLUGS_H
#define SUP_SLUGS_H

#include "fetch.h"

#define SUP_SLUG_CHUNK      (MSG_MAX_SIZE - 64 * 1024)  // 1 MiB less room for the envelope
#define SUP_SLUG_WINDOW     4           // blob.get outstanding per slug

typedef struct sup_slugs sup_slugs_t;

//  A cache under `root` (SUPDIR/slugs) asking for bytes through `fetch`
//  (borrowed: it must outlive the cache). Caller owns result.
sup_slugs_t *sup_slugs_new (const char *root, sup_fetch_t *fetch);
//  Kills unpack children in flight, waits for removers, frees everything.
void sup_slugs_destroy (sup_slugs_t **self_p, act_t *act);

//  As sup_fetch_slug (fetch.h).
sup_fetch_status_t sup_slugs_get (sup_slugs_t *self, act_t *act, const char *app, const char *sha,
                                  int64_t size, uid_t uid, gid_t gid, const char **dir_p,
                                  char *why, size_t why_len);

//  `msg` answered the blob.get for [offset, offset + length) of the slug
//  `key` ("app/sha"); its request is already out of the table.
void sup_slugs_on_answer (sup_slugs_t *self, act_t *act, const char *key, int64_t offset,
                          int64_t length, const msg_t *msg);
//  That blob.get, sent `tries` times, was not answered in time: asks
//  again, or fails the slug after SUP_FETCH_TRIES.
void sup_slugs_on_silence (sup_slugs_t *self, act_t *act, const char *key, int64_t offset,
                           int64_t length, int tries);

//  Reaps unpacking children and removers that ended.
void sup_slugs_tick (sup_slugs_t *self, act_t *act);
//  When the tick should next run for the cache's own sake (INT64_MAX: no need).
int64_t sup_slugs_deadline (const sup_slugs_t *self);

//  Drops the slugs of `app` whose sha is not a key of `keep`, from memory
//  and from disk, also leftovers of a previous life.
void sup_slugs_prune (sup_slugs_t *self, act_t *act, const char *app, const json_t *keep);

#endif
