//  store - log-plex's history and log tokens on disk (LevelDB)
//
//  Owns a LevelDB under <data>/log-plex/. Keys:
//    `l` <app> NUL <slot: 2 bytes, big-endian>  ->  <seq: 8 bytes> <line>
//    `t` <app>                                  ->  <token>
//    `d` <app> NUL <url>                        ->  <drain token>
//  A line goes to slot `seq % slots`, so the newest `slots` lines of an
//  app overwrite the older ones and the store never holds more: no
//  trimming pass, and a restart finds at most `slots` lines per app, put
//  back in seq order.
//
//  Writes are staged and written by lpx_store_flush (log-plex flushes
//  every LPX_FLUSH_MS and when a batch grows big), with fsync: a crash of
//  the machine loses at most the lines of the last interval, a crash of
//  the process loses none that were flushed. Staged lines are held as
//  entry references and only the newest `slots` of each app are written,
//  so a burst costs LevelDB at most `slots` puts per app per flush.
//  Tokens are flushed at once.
//
//  Threading: every function is called on the actor thread. The store
//  owns one writer thread: lpx_store_flush_lines hands the staged lines
//  over and returns (LevelDB's write, ~1 ms per 1,000 lines, would
//  otherwise hold up the lines arriving meanwhile); every other write
//  first waits for the writer to finish, so writes land in call order.

#ifndef LPX_STORE_H
#define LPX_STORE_H

#include "entry.h"

#include <stddef.h>
#include <stdint.h>

typedef struct lpx_store lpx_store_t;

//  Opens (creating) the store in `dir` for `slots` lines per app. Returns
//  the store (caller owns result) or NULL with *rc set (ACT_ESTORE) and
//  the reason in `reason` (`reason_len` bytes).
lpx_store_t *lpx_store_open (const char *dir, size_t slots, int *rc, char *reason,
                             size_t reason_len);
//  Flushes what is staged, then closes. Accepts NULL.
void lpx_store_close (lpx_store_t **self_p);

//  Called by lpx_store_load for each stored line, per app in seq order
//  (the line is borrowed, valid during the call), and for each token.
typedef void (lpx_store_line_fn) (void *arg, const char *app, uint64_t seq, const char *line,
                                  size_t len);
typedef void (lpx_store_token_fn) (void *arg, const char *app, const char *token);
//  Reads everything back. Returns 0 or ACT_ESTORE.
int lpx_store_load (lpx_store_t *self, lpx_store_line_fn *line_fn, lpx_store_token_fn *token_fn,
                    void *arg);

//  Stages line `seq` of `app` (both borrowed). A staged line is written
//  at the next flush unless a newer line of its app took its slot since.
void lpx_store_put_line (lpx_store_t *self, const char *app, uint64_t seq, const char *line,
                         size_t len);
//  As lpx_store_put_line, for a line in `entry` (borrowed: the store takes
//  its own reference, held until the next flush), without a copy.
void lpx_store_put_entry (lpx_store_t *self, const char *app, uint64_t seq, lpx_entry_t *entry);
//  Stores `app`'s token now (flushes). Returns 0 or ACT_ESTORE.
int lpx_store_put_token (lpx_store_t *self, const char *app, const char *token);
//  Stages `app`'s token for the next lpx_store_flush (a restore stores
//  thousands in one write).
void lpx_store_stage_token (lpx_store_t *self, const char *app, const char *token);
//  Deletes `app`'s lines and token now (flushes). Returns 0 or ACT_ESTORE.
int lpx_store_drop_app (lpx_store_t *self, const char *app);

//  Drains (drain.h): stored and deleted now (flushes), so a drain.add is
//  answered only once it will survive a crash. Return 0 or ACT_ESTORE.
int lpx_store_put_drain (lpx_store_t *self, const char *app, const char *url,
                         const char *token);
int lpx_store_drop_drain (lpx_store_t *self, const char *app, const char *url);
//  Called by lpx_store_load_drains for each stored drain (all borrowed,
//  valid during the call).
typedef void (lpx_store_drain_fn) (void *arg, const char *app, const char *url,
                                   const char *token);
//  Reads the drains back. Returns 0 or ACT_ESTORE.
int lpx_store_load_drains (lpx_store_t *self, lpx_store_drain_fn *fn, void *arg);

//  Why the last failed call failed. Borrowed, valid until the next call.
const char *lpx_store_reason (const lpx_store_t *self);

//  Bytes staged and not written yet.
size_t lpx_store_staged (const lpx_store_t *self);
//  Writes what is staged, with fsync. Returns 0 or ACT_ESTORE (the staged
//  writes are dropped either way, so a broken disk does not grow memory).
int lpx_store_flush (lpx_store_t *self);
//  As lpx_store_flush, without the fsync and without waiting: the staged
//  lines go to the writer thread (a flush waits only while the writer has
//  an earlier one pending). The write survives log-plex dying once done
//  (the kernel has it), not the machine. For the periodic flush of lines.
//  Returns 0, or ACT_ESTORE for an earlier write that failed.
int lpx_store_flush_lines (lpx_store_t *self);

#endif
