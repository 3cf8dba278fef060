//  ring - a bounded buffer of log lines, oldest dropped first
//
//  log-plex keeps one ring per app: the newest `capacity` lines, each an
//  entry (entry.h) the ring holds one reference to. Lines are byte strings
//  (no NUL inside: log-plex escapes control characters before it pushes
//  them). `total` counts every line ever pushed. Not thread-safe: hub.c
//  guards the rings with its mutex.

#ifndef LPX_RING_H
#define LPX_RING_H

#include "entry.h"

#include <stddef.h>
#include <stdint.h>

typedef struct lpx_ring lpx_ring_t;

//  An empty ring holding at most `capacity` (>= 1) lines. Caller owns
//  result.
lpx_ring_t *lpx_ring_new (size_t capacity);
void lpx_ring_destroy (lpx_ring_t **self_p);

//  Appends a copy of the `len` bytes at `line` (borrowed), dropping the
//  oldest line when the ring is full.
void lpx_ring_push (lpx_ring_t *self, const char *line, size_t len);

//  Appends `entry`, taking over the caller's reference to it (the ring owns
//  it now), dropping the oldest line when the ring is full.
void lpx_ring_push_entry (lpx_ring_t *self, lpx_entry_t *entry);

//  Lines held now (<= capacity).
size_t lpx_ring_count (const lpx_ring_t *self);
size_t lpx_ring_capacity (const lpx_ring_t *self);
//  Lines ever pushed.
uint64_t lpx_ring_total (const lpx_ring_t *self);
//  Bytes of the lines held now.
size_t lpx_ring_bytes (const lpx_ring_t *self);

//  Line `i` of those held, 0 the oldest, with its length in *len_p (may be
//  NULL); NULL when i >= count. Borrowed, valid until the next push. The
//  line is NUL-terminated.
const char *lpx_ring_get (const lpx_ring_t *self, size_t i, size_t *len_p);
//  The entry of line `i` as above, or NULL. Borrowed, valid until the next
//  push (take a reference to keep it).
lpx_entry_t *lpx_ring_entry (const lpx_ring_t *self, size_t i);

#endif
