//  http - the router's HTTP/1.1 listener and proxy (its own thread)
//
//  This file owns the sockets: the listener, the epoll loop, reads and
//  writes, connects, and which events each socket waits for (reads pause
//  while RTR_BUF_HIGH bytes wait to be written the other way). What the
//  bytes mean is proxy.c's.

//  accept4 and pipe2 are GNU/Linux.
#define _GNU_SOURCE

#include "http.h"
#include "conn.h"
#include "../actors/common/act_base.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#define RTR_EVENTS      256
#define RTR_READ_MAX    (64 * 1024)

struct rtr_http {
    rtr_table_t *table;         // borrowed
    rtr_logq_t *logq;           // borrowed
    int port;
    int lfd, epfd, wakefd;
    pthread_t thread;
    atomic_bool stop;
    atomic_uint_fast64_t answered;
    //  The thread's own.
    uint64_t rng;
    uint64_t requests;
    rtr_conn_t **conns;         // owned: every open connection
    size_t conn_count, conn_cap;
};

//  --- buffers

void
rtr_buf_add (rtr_buf_t *self, const void *data, size_t len)
{
    if (self->off && self->off == self->len)
        self->off = self->len = 0;
    if (self->len + len > self->cap) {
        if (self->off) {        // reclaim what was consumed first
            memmove (self->data, self->data + self->off, self->len - self->off);
            self->len -= self->off;
            self->off = 0;
        }
        if (self->len + len > self->cap) {
            self->cap = (self->len + len) * 2 + 256;
            self->data = act_realloc (self->data, self->cap);
        }
    }
    if (len)
        memcpy (self->data + self->len, data, len);
    self->len += len;
}

void
rtr_buf_printf (rtr_buf_t *self, const char *fmt, ...)
{
    char small [512];
    va_list ap;
    va_start (ap, fmt);
    int n = vsnprintf (small, sizeof small, fmt, ap);
    va_end (ap);
    if (n < 0)
        return;
    if ((size_t) n < sizeof small) {
        rtr_buf_add (self, small, (size_t) n);
        return;
    }
    char *big = act_malloc ((size_t) n + 1);
    va_start (ap, fmt);
    vsnprintf (big, (size_t) n + 1, fmt, ap);
    va_end (ap);
    rtr_buf_add (self, big, (size_t) n);
    free (big);
}

size_t
rtr_buf_pending (const rtr_buf_t *self)
{
    return self->len - self->off;
}

void
rtr_buf_reset (rtr_buf_t *self)
{
    self->len = self->off = 0;
}

void
rtr_buf_release (rtr_buf_t *self)
{
    free (self->data);
    memset (self, 0, sizeof *self);
}

//  --- sockets

static void
s_events (rtr_http_t *self, int fd, uint32_t *have, uint32_t want, rtr_end_t *end)
{
    if (fd < 0 || *have == want)
        return;
    struct epoll_event ev = { .events = want, .data.ptr = end };
    epoll_ctl (self->epfd, EPOLL_CTL_MOD, fd, &ev);
    *have = want;
}

//  Sets what each socket waits for; marks the connection dead when it is
//  done.
static void
s_update (rtr_http_t *self, rtr_conn_t *conn)
{
    if (conn->close_after && rtr_buf_pending (&conn->cout) == 0 && conn->bfd < 0)
        conn->dead = true;      // the last answer is out
    if (conn->dead)
        return;
    uint32_t want = 0;
    if (!conn->req_done && !conn->close_after && rtr_buf_pending (&conn->bout) < RTR_BUF_HIGH)
        want |= EPOLLIN;
    if (rtr_buf_pending (&conn->cout))
        want |= EPOLLOUT;
    s_events (self, conn->cfd, &conn->cev, want, &conn->cend);
    if (conn->bfd >= 0) {
        want = 0;
        if (conn->connecting)
            want = EPOLLOUT;
        else {
            if (rtr_buf_pending (&conn->cout) < RTR_BUF_HIGH)
                want |= EPOLLIN;
            if (rtr_buf_pending (&conn->bout))
                want |= EPOLLOUT;
        }
        s_events (self, conn->bfd, &conn->bev, want, &conn->bend);
    }
}

//  Writes what is pending. Returns 0, or -1 when the peer is gone.
static int
s_write (int fd, rtr_buf_t *buf)
{
    while (rtr_buf_pending (buf)) {
        ssize_t n = send (fd, buf->data + buf->off, rtr_buf_pending (buf), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
        }
        buf->off += (size_t) n;
    }
    rtr_buf_reset (buf);
    return 0;
}

int
rtr_http_connect (rtr_conn_t *conn)
{
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) conn->be.port) };
    if (inet_pton (AF_INET, conn->be.host, &addr.sin_addr) != 1)
        return EINVAL;
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    if (connect (fd, (struct sockaddr *) &addr, sizeof addr) && errno != EINPROGRESS) {
        int err = errno;
        close (fd);
        return err;
    }
    conn->bfd = fd;
    conn->connecting = true;
    conn->bev = 0;
    return 0;
}

void
rtr_http_backend_close (rtr_conn_t *conn)
{
    if (conn->bfd >= 0)
        close (conn->bfd);      // leaves the epoll set with it
    conn->bfd = -1;
    conn->bev = 0;
    conn->connecting = conn->connected = false;
}

//  Registers a backend socket rtr_http_connect opened during proxy work.
static void
s_register_backend (rtr_http_t *self, rtr_conn_t *conn)
{
    if (conn->bfd >= 0 && conn->bev == 0) {
        struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = &conn->bend };
        epoll_ctl (self->epfd, EPOLL_CTL_ADD, conn->bfd, &ev);
        conn->bev = EPOLLOUT;
    }
}

static void
s_conn_destroy (rtr_http_t *self, size_t index)
{
    rtr_conn_t *conn = self->conns [index];
    rtr_http_backend_close (conn);
    close (conn->cfd);
    rtr_proxy_release (conn);
    rtr_buf_release (&conn->cin);
    rtr_buf_release (&conn->bout);
    rtr_buf_release (&conn->cout);
    free (conn);
    self->conns [index] = self->conns [--self->conn_count];
}

static void
s_accept (rtr_http_t *self)
{
    while (true) {
        struct sockaddr_storage peer;
        socklen_t plen = sizeof peer;
        int fd = accept4 (self->lfd, (struct sockaddr *) &peer, &plen,
                          SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;             // EAGAIN, or out of fds: try at the next event
        rtr_conn_t *conn = act_calloc (1, sizeof *conn);
        conn->table = self->table;
        conn->logq = self->logq;
        conn->rng = &self->rng;
        conn->requests = &self->requests;
        conn->listen_port = self->port;
        conn->cfd = fd;
        conn->bfd = -1;
        conn->cend = (rtr_end_t) { conn, false };
        conn->bend = (rtr_end_t) { conn, true };
        if (peer.ss_family == AF_INET)
            inet_ntop (AF_INET, &((struct sockaddr_in *) &peer)->sin_addr, conn->fwd, sizeof conn->fwd);
        else
        if (peer.ss_family == AF_INET6)
            inet_ntop (AF_INET6, &((struct sockaddr_in6 *) &peer)->sin6_addr, conn->fwd, sizeof conn->fwd);
        rtr_proxy_init (conn);
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &conn->cend };
        epoll_ctl (self->epfd, EPOLL_CTL_ADD, fd, &ev);
        conn->cev = EPOLLIN;
        if (self->conn_count == self->conn_cap) {
            self->conn_cap = self->conn_cap ? self->conn_cap * 2 : 64;
            self->conns = act_realloc (self->conns, self->conn_cap * sizeof *self->conns);
        }
        self->conns [self->conn_count++] = conn;
    }
}

static void
s_client_event (rtr_conn_t *conn, uint32_t events)
{
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        char buf [RTR_READ_MAX];
        ssize_t n = recv (conn->cfd, buf, sizeof buf, 0);
        if (n > 0) {
            rtr_buf_add (&conn->cin, buf, (size_t) n);
            rtr_proxy_client_data (conn);
        }
        else
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            conn->dead = true;  // the client left
    }
    if (!conn->dead && (events & EPOLLOUT) && s_write (conn->cfd, &conn->cout))
        conn->dead = true;
}

static void
s_backend_event (rtr_conn_t *conn, uint32_t events)
{
    if (conn->connecting) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt (conn->bfd, SOL_SOCKET, SO_ERROR, &err, &len))
            err = errno;
        conn->connecting = false;
        if (err == 0)
            conn->connected = true;
        rtr_proxy_connected (conn, err);
        if (conn->dead || !conn->connected)
            return;
    }
    if ((events & EPOLLOUT) && s_write (conn->bfd, &conn->bout))
        rtr_buf_reset (&conn->bout);    // the dyno stopped reading: its answer decides
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        char buf [RTR_READ_MAX];
        ssize_t n = recv (conn->bfd, buf, sizeof buf, 0);
        if (n > 0)
            rtr_proxy_backend_data (conn, buf, (size_t) n);
        else
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            rtr_proxy_backend_data (conn, NULL, 0);
    }
}

static void
s_loop (rtr_http_t *self)
{
    struct epoll_event events [RTR_EVENTS];
    while (!atomic_load (&self->stop)) {
        int n = epoll_wait (self->epfd, events, RTR_EVENTS, RTR_LOGQ_LINGER_MS);
        for (int i = 0; i < n; i++) {
            rtr_end_t *end = events [i].data.ptr;
            if (end == NULL) {
                s_accept (self);
                continue;
            }
            if (end == (rtr_end_t *) self)
                continue;       // woken to stop
            rtr_conn_t *conn = end->conn;
            if (conn->dead)
                continue;
            if (end->backend) {
                if (conn->bfd >= 0)
                    s_backend_event (conn, events [i].events);
            }
            else
                s_client_event (conn, events [i].events);
            s_register_backend (self, conn);
            //  Write what the event produced before waiting again.
            if (!conn->dead && conn->bfd >= 0 && conn->connected && rtr_buf_pending (&conn->bout)
            &&  s_write (conn->bfd, &conn->bout))
                rtr_buf_reset (&conn->bout);
            if (!conn->dead && rtr_buf_pending (&conn->cout) && s_write (conn->cfd, &conn->cout))
                conn->dead = true;
            s_update (self, conn);
        }
        for (size_t i = 0; i < self->conn_count; )
            if (self->conns [i]->dead)
                s_conn_destroy (self, i);
            else
                i++;
        atomic_store (&self->answered, self->requests);
        rtr_logq_tick (self->logq, act_wall_ms ());
    }
}

static void *
s_run (void *arg)
{
    s_loop (arg);
    return NULL;
}

rtr_http_t *
rtr_http_new (rtr_table_t *table, rtr_logq_t *logq, int port, int *err)
{
    rtr_http_t *self = act_calloc (1, sizeof *self);
    self->table = table;
    self->logq = logq;
    self->port = port;
    self->lfd = self->epfd = self->wakefd = -1;
    if (getrandom (&self->rng, sizeof self->rng, 0) != (ssize_t) sizeof self->rng || !self->rng)
        self->rng = (uint64_t) act_wall_us () | 1;
    int rc = 0;
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port),
                                .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    int one = 1;
    self->lfd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (self->lfd < 0
    ||  setsockopt (self->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one)
    ||  bind (self->lfd, (struct sockaddr *) &addr, sizeof addr)
    ||  listen (self->lfd, 1024))
        rc = -errno;
    if (!rc) {
        self->epfd = epoll_create1 (EPOLL_CLOEXEC);
        self->wakefd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (self->epfd < 0 || self->wakefd < 0)
            rc = -errno;
    }
    if (!rc) {
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
        epoll_ctl (self->epfd, EPOLL_CTL_ADD, self->lfd, &ev);
        ev.data.ptr = self;
        epoll_ctl (self->epfd, EPOLL_CTL_ADD, self->wakefd, &ev);
        if (pthread_create (&self->thread, NULL, s_run, self))
            rc = -EAGAIN;
    }
    if (rc) {
        if (self->lfd >= 0)
            close (self->lfd);
        if (self->epfd >= 0)
            close (self->epfd);
        if (self->wakefd >= 0)
            close (self->wakefd);
        free (self);
        *err = rc;
        return NULL;
    }
    return self;
}

void
rtr_http_destroy (rtr_http_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    rtr_http_t *self = *self_p;
    atomic_store (&self->stop, true);
    uint64_t one = 1;
    ssize_t rc = write (self->wakefd, &one, sizeof one);
    (void) rc;
    pthread_join (self->thread, NULL);
    while (self->conn_count)
        s_conn_destroy (self, 0);
    free (self->conns);
    close (self->lfd);
    close (self->epfd);
    close (self->wakefd);
    free (self);
    *self_p = NULL;
}

uint64_t
rtr_http_requests (rtr_http_t *self)
{
    return atomic_load (&self->answered);
}
