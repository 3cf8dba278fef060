//  logq - router log lines handed from the HTTP thread to the actor thread
//
//  The HTTP thread pushes lines (never blocks beyond a short mutex); the
//  actor thread is woken through a pipe (rtr_logq_fd) when 100 lines wait
//  or the oldest has waited 50 ms (the HTTP thread calls rtr_logq_tick),
//  then takes them all and sends one `log.batch` per app (source `dynod`,
//  process `router`). At most RTR_LOGQ_MAX lines wait; past that, new
//  lines are dropped and counted.

#ifndef RTR_LOGQ_H
#define RTR_LOGQ_H

#include "../actors/common/act.h"

#include <stddef.h>
#include <stdint.h>

#define RTR_LOGQ_BATCH      100         // lines that wake the actor at once
#define RTR_LOGQ_LINGER_MS  50          // ms the oldest line may wait
#define RTR_LOGQ_MAX        100000      // lines held at most

typedef struct rtr_logq rtr_logq_t;

//  Caller owns result; NULL when no pipe can be made.
rtr_logq_t *rtr_logq_new (void);
void rtr_logq_destroy (rtr_logq_t **self_p);

//  The pipe's read end, for act_watch_fd (borrowed).
int rtr_logq_fd (rtr_logq_t *self);

//  HTTP thread: queues one line for `app` (both borrowed, copied).
void rtr_logq_push (rtr_logq_t *self, const char *app, int64_t ts_us, const char *text);
//  HTTP thread: wakes the actor when the oldest line has lingered enough.
void rtr_logq_tick (rtr_logq_t *self, int64_t now_ms);

//  Actor thread: drains the pipe and sends every queued line as log.batch
//  messages, one per app.
void rtr_logq_send (rtr_logq_t *self, act_t *act);

//  Lines dropped because the queue was full.
uint64_t rtr_logq_dropped (rtr_logq_t *self);

#endif
