//  pool - one worker's idle keep-alive connections to dynos
//
//  Keyed by dyno id (a dyno that restarts gets a new id, so a connection
//  never reaches a dyno it was not opened to). At most RTR_POOL_PER_DYNO
//  idle connections per dyno and RTR_POOL_MAX in all; the oldest go first.
//  An idle connection stays in the worker's epoll set (its event data is
//  the entry's rtr_end_t, kind RTR_END_POOLED) so a dyno that closes it is
//  noticed at once (rtr_pool_drop). Swept when idle too long or when its
//  dyno left the routing table. Owned by one worker thread: no locks.

#ifndef RTR_POOL_H
#define RTR_POOL_H

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

//  An idle connection to dyno `id` that is still open, taken out of the
//  pool (still in the epoll set: the caller changes its event data), or -1.
int rtr_pool_take (rtr_pool_t *self, const char *id);
//  Gives connected socket `fd` to dyno `id` back (ownership passes to the
//  pool, which may close it when full). `now` on the monotonic clock.
void rtr_pool_put (rtr_pool_t *self, const char *id, int fd, int64_t now);
//  The idle connection whose event data is `end` got an event: the dyno
//  closed it or sent bytes it should not have. Closes it.
void rtr_pool_drop (rtr_pool_t *self, void *end);
//  Closes connections idle longer than `idle_ms`, and those to dynos no
//  longer `up` in `table`.
void rtr_pool_sweep (rtr_pool_t *self, int64_t now, int idle_ms, rtr_table_t *table);
//  Frees the entries taken or closed since the last call; the worker calls
//  it once every event of an epoll_wait batch was handled.
void rtr_pool_reap (rtr_pool_t *self);
//  Idle connections held.
size_t rtr_pool_size (rtr_pool_t *self);

#endif
