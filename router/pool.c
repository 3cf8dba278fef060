//  pool - one worker's idle keep-alive connections to dynos
//
//  A doubly linked list, newest first: take scans for the dyno's newest
//  entry, sweep walks from the oldest. A worker holds tens of dynos'
//  connections, so linear scans are cheap next to a syscall.

//  MSG_DONTWAIT is a GNU/BSD extension.
#define _GNU_SOURCE

#include "pool.h"
#include "conn.h"
#include "../actors/common/act_base.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct rtr_idle rtr_idle_t;
struct rtr_idle {
    rtr_end_t end;              // first: the epoll data points here
    char id [RTR_ID_MAX];
    int64_t since;
    uint32_t events;            // registered while idle
    bool linked;                // in the idle list
    rtr_idle_t *prev, *next;
};

struct rtr_pool {
    int epfd;
    rtr_idle_t *head, *tail;    // newest first
    size_t count;
    //  Sockets closed during this round of events: freed by rtr_pool_reap
    //  once the round is over, since an event still queued in the same
    //  epoll_wait batch may point at one (it reads DEAD).
    rtr_idle_t *gone;
};

//  What an idle connection waits for: the dyno closing it, or sending
//  what it should not.
#define RTR_IDLE_EVENTS (EPOLLIN | EPOLLRDHUP)

rtr_pool_t *
rtr_pool_new (int epfd)
{
    rtr_pool_t *self = act_calloc (1, sizeof *self);
    self->epfd = epfd;
    return self;
}

static void
s_unlink (rtr_pool_t *self, rtr_idle_t *idle)
{
    if (!idle->linked)
        return;
    if (idle->prev)
        idle->prev->next = idle->next;
    else
        self->head = idle->next;
    if (idle->next)
        idle->next->prev = idle->prev;
    else
        self->tail = idle->prev;
    idle->prev = idle->next = NULL;
    idle->linked = false;
    self->count--;
}

//  Closes the socket (it leaves the epoll set with it) and marks the
//  entry dead; freed by rtr_pool_reap.
static void
s_close (rtr_pool_t *self, rtr_idle_t *idle)
{
    s_unlink (self, idle);
    close (idle->end.fd);
    idle->end.kind = RTR_END_DEAD;
    idle->end.fd = -1;
    idle->end.conn = NULL;
    idle->next = self->gone;
    self->gone = idle;
}

void
rtr_pool_reap (rtr_pool_t *self)
{
    while (self->gone) {
        rtr_idle_t *next = self->gone->next;
        free (self->gone);
        self->gone = next;
    }
}

void
rtr_pool_destroy (rtr_pool_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    rtr_pool_t *self = *self_p;
    while (self->head)
        s_close (self, self->head);
    rtr_pool_reap (self);
    free (self);
    *self_p = NULL;
}

//  True when the dyno has neither closed the connection nor sent anything.
static bool
s_quiet (int fd)
{
    char c;
    ssize_t n = recv (fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

rtr_end_t *
rtr_pool_socket (rtr_pool_t *self, int fd)
{
    (void) self;
    rtr_idle_t *idle = act_calloc (1, sizeof *idle);
    idle->end = (rtr_end_t) { .kind = RTR_END_BACKEND, .fd = fd };
    return &idle->end;
}

void
rtr_pool_discard (rtr_pool_t *self, rtr_end_t *end)
{
    s_close (self, (rtr_idle_t *) end);
}

rtr_end_t *
rtr_pool_take (rtr_pool_t *self, const char *id, uint32_t *events)
{
    for (rtr_idle_t *idle = self->head, *next; idle; idle = next) {
        next = idle->next;
        if (strcmp (idle->id, id) != 0)
            continue;
        if (!s_quiet (idle->end.fd)) {
            s_close (self, idle);
            continue;
        }
        s_unlink (self, idle);
        idle->end.kind = RTR_END_BACKEND;
        *events = idle->events;
        return &idle->end;
    }
    return NULL;
}

void
rtr_pool_put (rtr_pool_t *self, const char *id, rtr_end_t *end, uint32_t events, int64_t now)
{
    rtr_idle_t *idle = (rtr_idle_t *) end;
    size_t same = 0;
    rtr_idle_t *oldest_same = NULL;
    for (rtr_idle_t *it = self->head; it; it = it->next)
        if (strcmp (it->id, id) == 0) {
            same++;
            oldest_same = it;
        }
    if (same >= RTR_POOL_PER_DYNO)
        s_close (self, oldest_same);
    else
    if (self->count >= RTR_POOL_MAX)
        s_close (self, self->tail);
    idle->end.kind = RTR_END_POOLED;
    idle->end.conn = NULL;
    snprintf (idle->id, sizeof idle->id, "%s", id);
    idle->since = now;
    idle->events = events;
    if (events != RTR_IDLE_EVENTS) {
        struct epoll_event ev = { .events = RTR_IDLE_EVENTS, .data.ptr = &idle->end };
        if (epoll_ctl (self->epfd, EPOLL_CTL_MOD, idle->end.fd, &ev)) {
            s_close (self, idle);
            return;
        }
        idle->events = RTR_IDLE_EVENTS;
    }
    idle->next = self->head;
    if (self->head)
        self->head->prev = idle;
    else
        self->tail = idle;
    self->head = idle;
    idle->linked = true;
    self->count++;
}

void
rtr_pool_drop (rtr_pool_t *self, rtr_end_t *end, uint32_t events)
{
    rtr_idle_t *idle = (rtr_idle_t *) end;
    //  A writable event queued while a request still used the socket is
    //  stale; the dyno closing it or talking out of turn is not.
    if (idle->end.kind == RTR_END_POOLED
    &&  (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
        s_close (self, idle);
}

void
rtr_pool_sweep (rtr_pool_t *self, int64_t now, int idle_ms, rtr_table_t *table)
{
    for (rtr_idle_t *idle = self->tail, *prev; idle; idle = prev) {
        prev = idle->prev;
        if (now - idle->since >= idle_ms || !rtr_table_is_up (table, idle->id))
            s_close (self, idle);
    }
}

size_t
rtr_pool_size (rtr_pool_t *self)
{
    return self->count;
}
