//  logs - batches the dynos' log lines for log-plex
//
//  Owns: per app, the lines not sent yet. Accepts: lines (the dynos'
//  output as source `app`, the supervisor's own as source `dynod`; the
//  process is the dyno name). Emits: `log.batch` to log-plex, one per app,
//  when a batch holds SUP_LOG_BATCH lines or its first line has waited
//  SUP_LOG_WAIT_MS, whichever comes first (sup_logs_flush from the tick).

#ifndef SUP_LOGS_H
#define SUP_LOGS_H

#include "../common/act.h"

#define SUP_LOG_BATCH       100         // lines per log.batch
#define SUP_LOG_WAIT_MS     50          // the first line of a batch waits at most this
#define SUP_LOG_BYTES       (512 * 1024) // text bytes per batch, well under MSG_MAX_SIZE

typedef struct sup_logs sup_logs_t;

//  Caller owns result.
sup_logs_t *sup_logs_new (void);
void sup_logs_destroy (sup_logs_t **self_p);

//  Adds one line (`len` bytes, any bytes) stamped `ts` (wall ms); `mono`
//  is the monotonic ms it came at. Sends the app's batch when full.
void sup_logs_add (sup_logs_t *self, act_t *act, const char *app, const char *source,
                   const char *process, const char *text, size_t len, int64_t ts, int64_t mono);

//  Sends every batch whose first line has waited SUP_LOG_WAIT_MS by
//  `mono`, or every batch with `force`.
void sup_logs_flush (sup_logs_t *self, act_t *act, int64_t mono, bool force);

//  When sup_logs_flush next has something to send, or INT64_MAX.
int64_t sup_logs_deadline (const sup_logs_t *self);

#endif
