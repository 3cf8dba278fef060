//  tail - the queue of lines one tail session has yet to send
//
//  A bounded FIFO of entry references (entry.h). Pushing never blocks and
//  never fails: past `max_lines` lines or `max_bytes` bytes the oldest
//  undelivered lines are dropped and counted, and the next fill starts
//  with Logplex's L11 line saying how many were dropped since when. Used
//  by the websocket thread only (one per session), so not locked.

#ifndef LPX_TAIL_H
#define LPX_TAIL_H

#include "entry.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LPX_TAIL_LINES_MAX  10000           // lines a tail may hold back
#define LPX_TAIL_BYTES_MAX  (4u << 20)      // and bytes

typedef struct lpx_tail lpx_tail_t;

//  An empty queue. Caller owns result.
lpx_tail_t *lpx_tail_new (size_t max_lines, size_t max_bytes);
void lpx_tail_destroy (lpx_tail_t **self_p);

//  Queues `entry`, taking over the caller's reference. `now_us` (wall
//  time) dates the first drop of a run of drops.
void lpx_tail_push (lpx_tail_t *self, lpx_entry_t *entry, int64_t now_us);
//  Counts `count` lines this tail lost before they reached it, as drops.
void lpx_tail_lost (lpx_tail_t *self, uint64_t count, int64_t now_us);

//  True when a fill would write something.
bool lpx_tail_pending (const lpx_tail_t *self);
//  Lines dropped over this tail's life.
uint64_t lpx_tail_dropped (const lpx_tail_t *self);

//  Writes into `buf` (`cap` bytes) the drop notice if one is due, then as
//  many whole queued lines as fit, each followed by "\n", and removes
//  them. A line longer than `cap` alone is cut (never happens when cap >=
//  LPX_LINE_MAX + 1). `now_us` dates the notice. Returns the bytes
//  written.
size_t lpx_tail_fill (lpx_tail_t *self, char *buf, size_t cap, int64_t now_us);

#endif
