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
    rtr_idle_t *prev, *next;
};

struct rtr_pool {
    int epfd;
    rtr_idle_t *head, *tail;    // newest first
    size_t count;
    //  Entries taken or closed during this round of events: freed by
    //  rtr_pool_reap once the round is over, since an event still queued
    //  in the same epoll_wait batch may point at one (it reads DEAD).
    rtr_idle_t *gone;
};

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
    if (idle->prev)
        idle->prev->next = idle->next;
    else
        self->head = idle->next;
    if (idle->next)
        idle->next->prev = idle->prev;
    else
        self->tail = idle->prev;
    self->count--;
}

//  Unlinks and marks dead; freed by rtr_pool_reap.
static void
s_bury (rtr_pool_t *self, rtr_idle_t *idle)
{
    s_unlink (self, idle);
    idle->end.kind = RTR_END_DEAD;
    idle->end.fd = -1;
    idle->next = self->gone;
    self->gone = idle;
}

//  Closes (the fd leaves the epoll set with it).
static void
s_close (rtr_pool_t *self, rtr_idle_t *idle)
{
    close (idle->end.fd);
    s_bury (self, idle);
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

int
rtr_pool_take (rtr_pool_t *self, const char *id)
{
    for (rtr_idle_t *idle = self->head, *next; idle; idle = next) {
        next = idle->next;
        if (strcmp (idle->id, id) != 0)
            continue;
        if (!s_quiet (idle->end.fd)) {
            s_close (self, idle);
            continue;
        }
        int fd = idle->end.fd;
        s_bury (self, idle);
        return fd;
    }
    return -1;
}

void
rtr_pool_put (rtr_pool_t *self, const char *id, int fd, int64_t now)
{
    size_t same = 0;
    rtr_idle_t *oldest_same = NULL;
    for (rtr_idle_t *idle = self->head; idle; idle = idle->next)
        if (strcmp (idle->id, id) == 0) {
            same++;
            oldest_same = idle;
        }
    if (same >= RTR_POOL_PER_DYNO)
        s_close (self, oldest_same);
    else
    if (self->count >= RTR_POOL_MAX)
        s_close (self, self->tail);
    rtr_idle_t *idle = act_calloc (1, sizeof *idle);
    idle->end = (rtr_end_t) { .kind = RTR_END_POOLED, .fd = fd };
    snprintf (idle->id, sizeof idle->id, "%s", id);
    idle->since = now;
    struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = &idle->end };
    if (epoll_ctl (self->epfd, EPOLL_CTL_MOD, fd, &ev)) {
        close (fd);
        free (idle);
        return;
    }
    idle->next = self->head;
    if (self->head)
        self->head->prev = idle;
    else
        self->tail = idle;
    self->head = idle;
    self->count++;
}

void
rtr_pool_drop (rtr_pool_t *self, void *end)
{
    rtr_idle_t *idle = end;
    if (idle->end.kind == RTR_END_POOLED)
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
