//  hub - what log-plex's two threads share: the apps, their rings and
//  tokens, and the hand-off queue of new lines
//
//  Threading: the actor thread (act_run) writes: it appends lines, sets
//  tokens, drops apps. The websocket thread (ws.c) reads: it checks
//  tokens, copies history, and takes the hand-off queue. One mutex guards
//  everything here; every call takes it for a short, bounded time (no I/O
//  inside), so neither thread can stall the other. Lines are shared by
//  reference (entry.h), so a history copy or a hand-off copies pointers,
//  not bytes.
//
//  The hand-off queue holds one item per appended batch, only while a
//  consumer is attached (lpx_hub_attach). It is bounded (LPX_HANDOFF_*):
//  past the bound the oldest items are dropped and their line count is
//  carried on the app's next item as `lost`, so the tails of that app
//  learn about the gap (ws.c turns it into their L11 notice).

#ifndef LPX_HUB_H
#define LPX_HUB_H

#include "entry.h"
#include "filter.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LPX_LINES_MAX           1500        // lines kept per app
#define LPX_APPS_MAX            10000       // apps with lines or a token
#define LPX_APP_MAX             30          // bytes of an app name
#define LPX_TOKEN_LEN           32          // hex characters of a log token
#define LPX_HANDOFF_LINES_MAX   200000      // lines waiting for the ws thread
#define LPX_HANDOFF_BYTES_MAX   (64u << 20)

//  Why lpx_hub_check refused (0 when it did not).
#define LPX_AUTH_MISSING    401
#define LPX_AUTH_WRONG      403
#define LPX_AUTH_NO_APP     404

typedef struct lpx_hub lpx_hub_t;

//  One item of the hand-off queue: a batch of new lines of one app, or the
//  news that the app is gone (`dropped`, no lines). Caller of
//  lpx_hub_take owns the list; free with lpx_handoff_destroy.
typedef struct lpx_handoff {
    struct lpx_handoff *next;
    char app [LPX_APP_MAX + 1];
    bool dropped;
    uint64_t lost;              // lines of this app dropped from the queue before
    size_t count;
    lpx_entry_t *entries [];    // one reference each
} lpx_handoff_t;

//  Frees a whole list (each item and its references). Accepts NULL.
void lpx_handoff_destroy (lpx_handoff_t **list_p);

//  True for an app name log-plex keeps: `[a-z][a-z0-9-]{2,29}` (the rule
//  release-keeper gives app names).
bool lpx_app_name_ok (const char *app);

//  An empty hub; `api_token` (borrowed; may be NULL: then only log tokens
//  open tails) is copied. Caller owns result.
lpx_hub_t *lpx_hub_new (const char *api_token);
void lpx_hub_destroy (lpx_hub_t **self_p);

//  --- Actor thread --------------------------------------------------------

//  Appends `count` entries (the caller's reference to each passes to the
//  hub, on success and failure) to `app`'s ring, making the app on first
//  use, and queues them for the consumer. Sets *first_seq_p to the
//  sequence number of the first (the rest follow, one each). Returns 0 or
//  ACT_EFULL when there are LPX_APPS_MAX apps already (nothing kept).
int lpx_hub_append (lpx_hub_t *self, const char *app, lpx_entry_t **entries, size_t count,
                    uint64_t *first_seq_p);
//  Puts a stored line back at start: `seq` must grow per app. Takes over
//  the reference to `entry`. Nothing is queued. Returns 0 or ACT_EFULL.
int lpx_hub_load (lpx_hub_t *self, const char *app, uint64_t seq, lpx_entry_t *entry);
//  Copies `app`'s log token into `token` (LPX_TOKEN_LEN + 1 bytes).
//  Returns true when it has one.
bool lpx_hub_token (lpx_hub_t *self, const char *app, char *token);
//  Sets `app`'s log token (making the app). Returns 0 or ACT_EFULL.
int lpx_hub_token_set (lpx_hub_t *self, const char *app, const char *token);
//  Every app's log token as `{app: token}` (apps without one left out).
//  Caller owns result.
json_t *lpx_hub_tokens (lpx_hub_t *self);
//  Forgets `app` (lines and token) and queues the news. Returns true when
//  it was known.
bool lpx_hub_drop (lpx_hub_t *self, const char *app);

//  --- Either thread ------------------------------------------------------

//  The newest `n` lines of `app` that pass `filter` and fit in `budget`
//  bytes (counting `overhead` more per line), oldest first, into `out`
//  (room for n; the caller owns one reference to each). Returns how many;
//  *known_p says whether the app is known.
size_t lpx_hub_history (lpx_hub_t *self, const char *app, const lpx_filter_t *filter, size_t n,
                        size_t budget, size_t overhead, lpx_entry_t **out, bool *known_p);

//  Figures for the status hook: apps, bytes held, hand-off lines dropped.
void lpx_hub_figures (lpx_hub_t *self, size_t *apps_p, size_t *bytes_p, uint64_t *lost_p);

//  --- Websocket thread -----------------------------------------------------

//  Checks `token` (NULL when the request had none) for reading `app`'s
//  logs: the API token or the app's log token. Returns 0 or
//  LPX_AUTH_MISSING / LPX_AUTH_WRONG / LPX_AUTH_NO_APP (a valid token for
//  an app log-plex knows nothing of). Compares in constant time.
int lpx_hub_check (lpx_hub_t *self, const char *app, const char *token);

//  Attaches the consumer: from now on appends are queued, and `wake`
//  (called on the actor thread, outside the lock) tells it there is work,
//  once until its next take (a burst of appends costs one wake). NULL
//  detaches and empties the queue.
void lpx_hub_attach (lpx_hub_t *self, void (*wake) (void *arg), void *arg);

//  Takes the whole hand-off queue, oldest first (caller owns the list),
//  or NULL when empty.
lpx_handoff_t *lpx_hub_take (lpx_hub_t *self);

//  Takes the hand-off queue as lpx_hub_take and, in the same locked
//  moment, copies `app`'s history as lpx_hub_history: so every line is
//  either in the history or in a later hand-off, never both, never
//  neither.
lpx_handoff_t *lpx_hub_take_with_history (lpx_hub_t *self, const char *app,
                                          const lpx_filter_t *filter, size_t n, size_t budget,
                                          size_t overhead, lpx_entry_t **out, size_t *count_p);

#endif
