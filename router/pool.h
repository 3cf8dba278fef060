//  pool - one worker's idle keep-alive connections to dynos
//
//  Keyed by dyno id (a dyno that restarts gets a new id, so a connection
//  never reaches a dyno it was not opened to). At most RTR_POOL_PER_DYNO
//  idle connections per dyno and RTR_POOL_MAX in all; the oldest go first.
//  An idle connection stays in the worker's epoll set (its event data is
//  its rtr_end_t, kind RTR_END_POOLED while idle) so a dyno that closes it
//  is noticed at once (rtr_pool_drop). Swept when idle too long or when its
//  dyno left the routing table. Owned by one worker thread: no locks.

#ifndef RTR_POOL_H
#define RTR_POOL_H

#include "conn.h"
#include "table.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTR_POOL_PER_DYNO   64
#define RTR_POOL_MAX        1024

typedef struct rtr_pool rtr_pool_t;

//  `epfd` (borrowed) is the worker's epoll set. Caller owns result.
rtr_pool_t *rtr_pool_new (int epfd);
//  Closes every idle connection.
void rtr_pool_destroy (rtr_pool_t **self_p);

//  Every backend socket has one rtr_end_t for its whole life, made here
//  for a new socket `fd` (kind BACKEND; the caller sets its conn and adds
//  it to the epoll set with it as the event data), so handing it between
//  a request and the pool changes no event registration.
rtr_end_t *rtr_pool_socket (rtr_pool_t *self, int fd);
//  Closes a socket that is not idle in the pool; its end is freed by
//  rtr_pool_reap (events may still be queued for it).
void rtr_pool_discard (rtr_pool_t *self, rtr_end_t *end);
//  An idle connection to dyno `id` that is still open, taken out of the
//  pool (kind BACKEND; the caller sets its conn), with the events it is
//  registered for in *events; or NULL.
rtr_end_t *rtr_pool_take (rtr_pool_t *self, const char *id, uint32_t *events);
//  Gives the connected socket of `end` (registered for `events`) to dyno
//  `id` back; ownership passes to the pool, which may close it when full.
//  `now` on the monotonic clock.
void rtr_pool_put (rtr_pool_t *self, const char *id, rtr_end_t *end, uint32_t events,
                   int64_t now);
//  The idle connection `end` got `events`: the dyno closed it or sent
//  bytes it should not have; closes it (a stale writable event does not).
void rtr_pool_drop (rtr_pool_t *self, rtr_end_t *end, uint32_t events);
//  Closes connections idle longer than `idle_ms`, and those to dynos no
//  longer `up` in `table`.
void rtr_pool_sweep (rtr_pool_t *self, int64_t now, int idle_ms, rtr_table_t *table);
//  Frees the ends closed since the last call; the worker calls it once
//  every event of an epoll_wait batch was handled.
void rtr_pool_reap (rtr_pool_t *self);
//  Idle connections held.
size_t rtr_pool_size (rtr_pool_t *self);

#endif
