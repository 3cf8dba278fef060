//  drain - an app's log drains, each delivered by its own thread
//
//  A drain is a URL (drain_url.h) and a token `d.<uuid>`; an app has at
//  most LPX_DRAINS_PER_APP, log-plex at most LPX_DRAINS_MAX. Every line
//  an app gets after its drain was added is queued for the drain and sent
//  as RFC 5424 octet-counted frames: over TCP or TLS to a syslog drain (the
//  connection is kept open), in POSTs of up to LPX_DRAIN_BATCH frames to an
//  http(s) drain (`Content-Type: application/logplex-1`, `Logplex-Msg-Count`,
//  `Logplex-Frame-Id`, `Logplex-Drain-Token`; a 2xx answer delivers). A
//  failed delivery is retried after LPX_DRAIN_BACKOFF_MIN_MS, doubling to
//  LPX_DRAIN_BACKOFF_MAX_MS, with the same batch and the same Frame-Id
//  unless lines of that batch were dropped meanwhile. Past
//  LPX_DRAIN_LINES_MAX undelivered lines the oldest are dropped and
//  counted, and the next delivery starts with Logplex's L10 line
//  (`Error L10 (output buffer overflow): N messages dropped since TIME`).
//
//  TLS (syslog+tls and https) verifies the server's certificate and name
//  against the system CAs, or the CA file given as `ca_file`
//  (DYNOD_DRAIN_CA_FILE: tests, a private CA).
//
//  Threading and ownership: the set (lpx_drains_t) is the actor thread's:
//  every function below is called on it. Each drain's thread owns the
//  drain's connection (socket, OpenSSL session, curl handle) and back-off;
//  what the two share is the drain's queue of entry references (entry.h)
//  and its counters, under the drain's own mutex, held only to push or
//  take pointers (never during I/O), so a drain that is down or slow never
//  slows ingest: lpx_drains_push never blocks and never fails. A removed
//  drain is told to stop and retired; lpx_drains_reap (from the tick) joins
//  the threads that have ended, so the actor thread never waits on a
//  drain's I/O. lpx_drains_destroy stops and joins them all (each within
//  its I/O timeout, LPX_DRAIN_IO_MS).

#ifndef LPX_DRAIN_H
#define LPX_DRAIN_H

#include "drain_url.h"
#include "entry.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LPX_DRAINS_PER_APP          5
#define LPX_DRAINS_MAX              500         // over all apps (one thread each)
#define LPX_DRAIN_LINES_MAX         1024        // undelivered lines kept per drain
#define LPX_DRAIN_BATCH             500         // lines per POST / write
#define LPX_DRAIN_BACKOFF_MIN_MS    500
#define LPX_DRAIN_BACKOFF_MAX_MS    30000
#define LPX_DRAIN_CONNECT_MS        3000
#define LPX_DRAIN_IO_MS             5000

typedef struct lpx_drains lpx_drains_t;

//  No drains. `ca_file` (borrowed; NULL for the system CAs) is copied.
//  Caller owns result.
lpx_drains_t *lpx_drains_new (const char *ca_file);
//  Stops and joins every drain thread, drops their queues.
void lpx_drains_destroy (lpx_drains_t **self_p);

//  Adds a drain of `app` for `url` (checked: lpx_drain_url_parse) with
//  `token`, and starts its thread. All borrowed. Returns 0, -EINVAL (bad
//  URL), -EEXIST (the app has it), ACT_EFULL (the app has
//  LPX_DRAINS_PER_APP, or there are LPX_DRAINS_MAX), with why in `why`.
int lpx_drains_add (lpx_drains_t *self, const char *app, const char *url, const char *token,
                    char *why, size_t why_len);
//  Removes `app`'s drain for `url`. Returns 0 or -ENOENT.
int lpx_drains_remove (lpx_drains_t *self, const char *app, const char *url);
//  Removes all of `app`'s drains; returns how many.
size_t lpx_drains_drop_app (lpx_drains_t *self, const char *app);
//  How many drains `app` has.
size_t lpx_drains_count (const lpx_drains_t *self, const char *app);
//  `app`'s drains as `[{url, token}]`, sorted by URL. Caller owns result.
json_t *lpx_drains_list (const lpx_drains_t *self, const char *app);
//  Every drain as `[{app, url, token}]` (for log-plex's snapshot). Caller
//  owns result.
json_t *lpx_drains_all (const lpx_drains_t *self);

//  Queues `count` entries (borrowed: each drain takes its own reference)
//  for each of `app`'s drains. Cheap when the app has none.
void lpx_drains_push (lpx_drains_t *self, const char *app, lpx_entry_t **entries, size_t count);

//  Joins the threads of removed drains that have ended.
void lpx_drains_reap (lpx_drains_t *self);

//  Figures for status: drains, lines delivered, lines dropped.
void lpx_drains_figures (lpx_drains_t *self, size_t *drains_p, uint64_t *sent_p,
                         uint64_t *dropped_p);

#endif
