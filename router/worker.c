//  worker - one HTTP worker thread: its epoll loop, listeners, connections,
//  pool and deadlines
//
//  This file owns the sockets: the listeners, accepts, reads and writes
//  (through TLS on the HTTPS listener), backend connects and the pool,
//  and which events each socket waits for (reads pause while RTR_BUF_HIGH
//  bytes wait to be written the other way, and while a request waits for
//  its answer; a client that hangs up meanwhile is still seen through
//  EPOLLRDHUP). What the bytes mean is proxy.c's and reply.c's. Deadlines
//  are checked every RTR_TICK_MS over all of the worker's connections.

//  accept4 is GNU/Linux.
#define _GNU_SOURCE

#include "worker.h"
#include "pool.h"
#include "../actors/common/act_base.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
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
#define RTR_TICK_MS     20              // deadline granularity
#define RTR_SWEEP_MS    1000            // pool sweep period

struct rtr_worker {
    const rtr_shared_t *sh;     // borrowed
    int epfd, wakefd;
    rtr_end_t http_end, https_end, wake_end;
    pthread_t thread;
    bool started;
    atomic_bool stop;
    atomic_uint_fast64_t answered, clients, pooled;
    //  The thread's own.
    uint64_t rng;
    uint64_t requests;
    rtr_pool_t *pool;           // owned
    rtr_conn_t **conns;         // owned: every open client connection
    size_t conn_count, conn_cap;
    int64_t next_sweep;
};

//  --- the client side, plain or TLS

//  Reads client bytes: > 0 bytes, 0 for the end of the stream or a
//  failure, -1 for nothing now (the TLS layer may want EPOLLOUT).
static ssize_t
s_client_read (rtr_conn_t *conn, char *buf, size_t cap)
{
    if (!conn->tls) {
        ssize_t n = recv (conn->cfd, buf, cap, 0);
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -1 : 0;
        return n;
    }
    size_t got = 0;
    rtr_tls_io_t io = rtr_tls_read (conn->tls, buf, cap, &got);
    conn->tls_want_write = io == RTR_TLS_WANT_WRITE;
    if (io == RTR_TLS_OK)
        return got ? (ssize_t) got : -1;
    return io == RTR_TLS_WANT_READ || io == RTR_TLS_WANT_WRITE ? -1 : 0;
}

//  Writes what is pending to the client. Returns 0, or -1 when it is gone.
static int
s_client_flush (rtr_conn_t *conn)
{
    rtr_buf_t *buf = &conn->cout;
    while (rtr_buf_pending (buf)) {
        size_t put = 0;
        if (conn->tls) {
            rtr_tls_io_t io = rtr_tls_write (conn->tls, buf->data + buf->off,
                                             rtr_buf_pending (buf), &put);
            conn->tls_want_write = io == RTR_TLS_WANT_WRITE;
            if (io == RTR_TLS_WANT_READ || io == RTR_TLS_WANT_WRITE)
                return 0;
            if (io != RTR_TLS_OK)
                return -1;
        }
        else {
            ssize_t n = send (conn->cfd, buf->data + buf->off, rtr_buf_pending (buf), MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
            }
            put = (size_t) n;
        }
        buf->off += put;
        conn->m_activity = rtr_mono_ms ();
    }
    rtr_buf_reset (buf);
    return 0;
}

//  Writes what is pending to the backend. Returns 0, or -1 when it is gone.
static int
s_backend_flush (rtr_conn_t *conn)
{
    rtr_buf_t *buf = &conn->bout;
    while (rtr_buf_pending (buf)) {
        ssize_t n = send (conn->bfd, buf->data + buf->off, rtr_buf_pending (buf), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
        }
        buf->off += (size_t) n;
        conn->m_activity = rtr_mono_ms ();
    }
    rtr_buf_reset (buf);
    return 0;
}

//  --- events wanted
//
//  Interest changes lazily: a wanted event missing from the set is added
//  at once, but an unwanted one stays registered until it fires (it is
//  then noted in *ignored and removed). A keep-alive request cycle thus
//  costs no epoll_ctl on the client's socket: reads pause while the
//  answer is awaited, yet a well-behaved client sends nothing meanwhile.

static void
s_events (rtr_worker_t *self, int fd, uint32_t *have, uint32_t want, uint32_t *ignored,
          rtr_end_t *end)
{
    uint32_t missing = want & ~*have, stale = *have & ~want & *ignored;
    *ignored = 0;
    if (fd < 0 || (!missing && !stale))
        return;
    struct epoll_event ev = { .events = want, .data.ptr = end };
    epoll_ctl (self->epfd, EPOLL_CTL_MOD, fd, &ev);
    *have = want;
}

static bool
s_reading (const rtr_conn_t *conn)
{
    if (conn->close_after || rtr_buf_pending (&conn->bout) >= RTR_BUF_HIGH)
        return false;
    return conn->tunnel || !conn->req_done || (conn->tls && !conn->tls_ready);
}

//  Sets what each socket waits for; marks the connection dead when it is
//  done.
static void
s_update (rtr_worker_t *self, rtr_conn_t *conn)
{
    if (conn->close_after && rtr_buf_pending (&conn->cout) == 0 && conn->bfd < 0)
        conn->dead = true;      // the last answer is out
    if (conn->dead)
        return;
    uint32_t want = EPOLLRDHUP;
    if (s_reading (conn))
        want |= EPOLLIN;
    if (rtr_buf_pending (&conn->cout) || conn->tls_want_write)
        want |= EPOLLOUT;
    s_events (self, conn->cfd, &conn->cev, want, &conn->cign, &conn->cend);
    if (conn->bfd >= 0) {
        want = 0;
        if (conn->connecting)
            want = EPOLLOUT;
        else {
            //  EPOLLRDHUP too, as an idle pooled socket waits for: giving
            //  the socket back to the pool then changes nothing.
            if (rtr_buf_pending (&conn->cout) < RTR_BUF_HIGH)
                want |= EPOLLIN | EPOLLRDHUP;
            if (rtr_buf_pending (&conn->bout))
                want |= EPOLLOUT;
        }
        s_events (self, conn->bfd, &conn->bev, want, &conn->bign, conn->bend);
    }
}

//  --- the backend side, called by proxy.c and reply.c

int
rtr_worker_backend_open (rtr_conn_t *conn)
{
    rtr_worker_t *self = conn->worker;
    conn->m_connect = rtr_mono_ms ();
    //  A retry after a stale pooled connection takes a new one.
    uint32_t events = 0;
    rtr_end_t *end = conn->retried ? NULL : rtr_pool_take (self->pool, conn->be.id, &events);
    if (end) {
        end->conn = conn;
        conn->bend = end;
        conn->bfd = end->fd;
        conn->reused = true;
        conn->connecting = false;
        conn->connected = true;
        conn->bev = events;         // s_settle writes the request at once
        conn->bign = 0;
        return 0;
    }
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
    //  Even a connect that finished at once is reported through EPOLLOUT.
    conn->bend = rtr_pool_socket (self->pool, fd);
    conn->bend->conn = conn;
    conn->bfd = fd;
    conn->reused = false;
    conn->connecting = true;
    conn->connected = false;
    conn->bev = EPOLLOUT;
    conn->bign = 0;
    struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = conn->bend };
    epoll_ctl (self->epfd, EPOLL_CTL_ADD, fd, &ev);
    return 0;
}

void
rtr_worker_backend_done (rtr_conn_t *conn, bool reusable)
{
    if (conn->bfd < 0)
        return;
    rtr_pool_t *pool = conn->worker->pool;
    if (reusable && conn->connected && !conn->connecting)
        rtr_pool_put (pool, conn->be.id, conn->bend, conn->bev, rtr_mono_ms ());
    else
        rtr_pool_discard (pool, conn->bend);    // the fd leaves the epoll set with it
    conn->bend = NULL;
    conn->bfd = -1;
    conn->bev = 0;
    conn->connecting = conn->connected = false;
}

void
rtr_worker_sideline (rtr_conn_t *conn)
{
    rtr_table_sideline (conn->sh->table, conn->be.id, conn->sh->to.sideline);
}

void
rtr_worker_answered (rtr_conn_t *conn)
{
    conn->worker->requests++;
}

//  --- connections

static void
s_conn_destroy (rtr_worker_t *self, size_t index)
{
    rtr_conn_t *conn = self->conns [index];
    rtr_worker_backend_done (conn, false);
    if (conn->tls)
        rtr_tls_conn_free (&conn->tls);
    close (conn->cfd);
    rtr_proxy_release (conn);
    rtr_buf_release (&conn->cin);
    rtr_buf_release (&conn->bout);
    rtr_buf_release (&conn->cout);
    rtr_buf_release (&conn->replay);
    free (conn);
    self->conns [index] = self->conns [--self->conn_count];
}

static void
s_accept (rtr_worker_t *self, rtr_end_t *listener)
{
    while (true) {
        struct sockaddr_storage peer;
        socklen_t plen = sizeof peer;
        int fd = accept4 (listener->fd, (struct sockaddr *) &peer, &plen,
                          SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;             // EAGAIN, or out of fds: try at the next event
        rtr_conn_t *conn = act_calloc (1, sizeof *conn);
        conn->worker = self;
        conn->sh = self->sh;
        conn->rng = &self->rng;
        conn->https = listener->https;
        conn->listen_port = listener->https ? self->sh->https_port : self->sh->http_port;
        conn->cfd = fd;
        conn->bfd = -1;
        conn->cend = (rtr_end_t) { .kind = RTR_END_CLIENT, .conn = conn };
        conn->m_idle = conn->m_activity = conn->m_client = rtr_mono_ms ();
        if (peer.ss_family == AF_INET)
            inet_ntop (AF_INET, &((struct sockaddr_in *) &peer)->sin_addr, conn->fwd, sizeof conn->fwd);
        else
        if (peer.ss_family == AF_INET6)
            inet_ntop (AF_INET6, &((struct sockaddr_in6 *) &peer)->sin6_addr, conn->fwd, sizeof conn->fwd);
        if (listener->https) {
            conn->tls = rtr_tls_accept (self->sh->tls, fd);
            if (!conn->tls) {
                close (fd);
                free (conn);
                continue;
            }
        }
        rtr_proxy_init (conn);
        conn->cev = EPOLLIN | EPOLLRDHUP;
        struct epoll_event ev = { .events = conn->cev, .data.ptr = &conn->cend };
        epoll_ctl (self->epfd, EPOLL_CTL_ADD, fd, &ev);
        if (self->conn_count == self->conn_cap) {
            self->conn_cap = self->conn_cap ? self->conn_cap * 2 : 64;
            self->conns = act_realloc (self->conns, self->conn_cap * sizeof *self->conns);
        }
        self->conns [self->conn_count++] = conn;
    }
}

//  Reads what the client sent (everything TLS has decrypted, too).
static void
s_client_read_all (rtr_conn_t *conn)
{
    char buf [RTR_READ_MAX];
    do {
        ssize_t n = s_client_read (conn, buf, sizeof buf);
        if (n < 0)
            return;
        if (n == 0) {
            rtr_proxy_client_gone (conn);
            return;
        }
        conn->m_client = conn->m_activity = rtr_mono_ms ();
        if (conn->tunnel)
            rtr_buf_add (&conn->bout, buf, (size_t) n);
        else {
            rtr_buf_add (&conn->cin, buf, (size_t) n);
            rtr_proxy_client_data (conn);
        }
    } while (!conn->dead && conn->tls && s_reading (conn) && rtr_tls_pending (conn->tls));
}

static void
s_client_event (rtr_conn_t *conn, uint32_t events)
{
    if (conn->tls && !conn->tls_ready) {
        rtr_tls_io_t io = rtr_tls_handshake (conn->tls);
        conn->tls_want_write = io == RTR_TLS_WANT_WRITE;
        if (io == RTR_TLS_CLOSED || io == RTR_TLS_ERROR) {
            conn->dead = true;  // no request yet: nothing to log
            return;
        }
        if (io != RTR_TLS_OK)
            return;
        conn->tls_ready = true;
        events |= EPOLLIN;      // the client may have sent its request already
    }
    if (s_reading (conn) && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
        s_client_read_all (conn);
    else {
        if (events & EPOLLIN)
            conn->cign |= EPOLLIN;
        if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
            rtr_proxy_client_gone (conn);
    }
    if (!conn->dead && (events & EPOLLOUT)) {
        if (!rtr_buf_pending (&conn->cout) && !conn->tls_want_write)
            conn->cign |= EPOLLOUT;
        else
        if (s_client_flush (conn))
            rtr_proxy_client_gone (conn);
    }
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
        conn->connected = err == 0;
        conn->m_activity = rtr_mono_ms ();
        rtr_proxy_connected (conn, err);
        if (conn->dead || !conn->connected)
            return;
    }
    if ((events & EPOLLOUT) && !rtr_buf_pending (&conn->bout))
        conn->bign |= EPOLLOUT;
    else
    if ((events & EPOLLOUT) && s_backend_flush (conn)) {
        if (!(conn->reused && !conn->res_started && rtr_proxy_replay (conn)))
            rtr_buf_reset (&conn->bout);    // the dyno stopped reading: its answer decides
        return;
    }
    if ((events & EPOLLIN) && rtr_buf_pending (&conn->cout) >= RTR_BUF_HIGH
    &&  !(events & (EPOLLHUP | EPOLLERR))) {
        conn->bign |= EPOLLIN;  // the client is slow: the dyno waits
        return;
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        char buf [RTR_READ_MAX];
        ssize_t n = recv (conn->bfd, buf, sizeof buf, 0);
        if (n > 0) {
            conn->m_activity = rtr_mono_ms ();
            if (conn->tunnel)
                rtr_buf_add (&conn->cout, buf, (size_t) n);
            else
                rtr_reply_backend_data (conn, buf, (size_t) n);
        }
        else
        if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            if (conn->reused && !conn->res_started && !conn->tunnel && rtr_proxy_replay (conn))
                return;         // a stale pooled connection: sent again on a new one
            if (conn->tunnel) {
                rtr_worker_backend_done (conn, false);
                conn->close_after = true;
            }
            else
                rtr_reply_backend_data (conn, NULL, 0);
        }
    }
}

//  Writes what the last event produced, reads what TLS holds decrypted,
//  then sets the events to wait for.
static void
s_settle (rtr_worker_t *self, rtr_conn_t *conn)
{
    //  A loop, not recursion: pipelined requests answered by the router
    //  itself could otherwise nest a call per request.
    while (!conn->dead && conn->resume) {
        conn->resume = false;
        rtr_proxy_client_data (conn);
    }
    if (!conn->dead && conn->bfd >= 0 && conn->connected && rtr_buf_pending (&conn->bout)
    &&  s_backend_flush (conn)) {
        if (!(conn->reused && !conn->res_started && rtr_proxy_replay (conn)))
            rtr_buf_reset (&conn->bout);
    }
    if (!conn->dead && rtr_buf_pending (&conn->cout) && s_client_flush (conn))
        rtr_proxy_client_gone (conn);
    if (!conn->dead && conn->tls && conn->tls_ready && s_reading (conn)
    &&  rtr_tls_pending (conn->tls))
        s_client_read_all (conn);
    if (!conn->dead && rtr_buf_pending (&conn->cout) && s_client_flush (conn))
        rtr_proxy_client_gone (conn);
    s_update (self, conn);
}

static void
s_tick (rtr_worker_t *self, int64_t now)
{
    for (size_t i = 0; i < self->conn_count; i++) {
        rtr_conn_t *conn = self->conns [i];
        if (conn->dead)
            continue;
        rtr_reply_tick (conn, now);
        s_settle (self, conn);
    }
    if (now >= self->next_sweep) {
        rtr_pool_sweep (self->pool, now, self->sh->to.pool_idle, self->sh->table);
        self->next_sweep = now + RTR_SWEEP_MS;
    }
}

static void
s_loop (rtr_worker_t *self)
{
    struct epoll_event events [RTR_EVENTS];
    int64_t next_tick = 0;
    while (!atomic_load (&self->stop)) {
        int n = epoll_wait (self->epfd, events, RTR_EVENTS, RTR_TICK_MS);
        for (int i = 0; i < n; i++) {
            rtr_end_t *end = events [i].data.ptr;
            if (end->kind == RTR_END_LISTEN) {
                s_accept (self, end);
                continue;
            }
            if (end->kind == RTR_END_WAKE)
                continue;       // woken to stop
            if (end->kind == RTR_END_DEAD)
                continue;       // a backend socket closed earlier in this batch
            if (end->kind == RTR_END_POOLED) {
                rtr_pool_drop (self->pool, end, events [i].events);
                continue;
            }
            rtr_conn_t *conn = end->conn;
            if (conn->dead)
                continue;
            if (end->kind == RTR_END_BACKEND) {
                if (end == conn->bend)
                    s_backend_event (conn, events [i].events);
            }
            else
                s_client_event (conn, events [i].events);
            s_settle (self, conn);
        }
        int64_t now = rtr_mono_ms ();
        if (now >= next_tick) {
            s_tick (self, now);
            next_tick = now + RTR_TICK_MS;
        }
        rtr_pool_reap (self->pool);
        for (size_t i = 0; i < self->conn_count; )
            if (self->conns [i]->dead)
                s_conn_destroy (self, i);
            else
                i++;
        atomic_store (&self->answered, self->requests);
        atomic_store (&self->clients, self->conn_count);
        atomic_store (&self->pooled, rtr_pool_size (self->pool));
        rtr_logq_tick (self->sh->logq, act_wall_ms ());
    }
}

static void *
s_run (void *arg)
{
    s_loop (arg);
    return NULL;
}

//  A listening socket on `host`:`port` (host an IPv4 address; NULL:
//  127.0.0.1) that other workers share.
static int
s_listen (const char *host, int port, int *err)
{
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port),
                                .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    if (host && inet_pton (AF_INET, host, &addr.sin_addr) != 1) {
        *err = -EINVAL;
        return -1;
    }
    int one = 1;
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0
    ||  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one)
    ||  setsockopt (fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one)
    ||  bind (fd, (struct sockaddr *) &addr, sizeof addr)
    ||  listen (fd, 1024)) {
        *err = -errno;
        if (fd >= 0)
            close (fd);
        return -1;
    }
    return fd;
}

rtr_worker_t *
rtr_worker_new (const rtr_shared_t *sh, int *err)
{
    rtr_worker_t *self = act_calloc (1, sizeof *self);
    self->sh = sh;
    self->http_end = (rtr_end_t) { .kind = RTR_END_LISTEN, .fd = -1 };
    self->https_end = (rtr_end_t) { .kind = RTR_END_LISTEN, .fd = -1, .https = true };
    self->wake_end = (rtr_end_t) { .kind = RTR_END_WAKE };
    self->epfd = epoll_create1 (EPOLL_CLOEXEC);
    self->wakefd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (getrandom (&self->rng, sizeof self->rng, 0) != (ssize_t) sizeof self->rng || !self->rng)
        self->rng = (uint64_t) act_wall_us () | 1;
    int rc = 0;
    if (self->epfd < 0 || self->wakefd < 0)
        rc = -errno;
    if (!rc)
        self->http_end.fd = s_listen (sh->listen_addr, sh->http_port, &rc);
    if (!rc && sh->tls)
        self->https_end.fd = s_listen (sh->listen_addr, sh->https_port, &rc);
    if (!rc) {
        self->pool = rtr_pool_new (self->epfd);
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &self->http_end };
        epoll_ctl (self->epfd, EPOLL_CTL_ADD, self->http_end.fd, &ev);
        if (self->https_end.fd >= 0) {
            ev.data.ptr = &self->https_end;
            epoll_ctl (self->epfd, EPOLL_CTL_ADD, self->https_end.fd, &ev);
        }
        ev.data.ptr = &self->wake_end;
        epoll_ctl (self->epfd, EPOLL_CTL_ADD, self->wakefd, &ev);
        if (pthread_create (&self->thread, NULL, s_run, self))
            rc = -EAGAIN;
        else
            self->started = true;
    }
    if (rc) {
        *err = rc;
        rtr_worker_destroy (&self);
        return NULL;
    }
    return self;
}

void
rtr_worker_destroy (rtr_worker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    rtr_worker_t *self = *self_p;
    if (self->started) {
        atomic_store (&self->stop, true);
        uint64_t one = 1;
        ssize_t rc = write (self->wakefd, &one, sizeof one);
        (void) rc;
        pthread_join (self->thread, NULL);
    }
    while (self->conn_count)
        s_conn_destroy (self, 0);
    free (self->conns);
    rtr_pool_destroy (&self->pool);
    if (self->http_end.fd >= 0)
        close (self->http_end.fd);
    if (self->https_end.fd >= 0)
        close (self->https_end.fd);
    if (self->epfd >= 0)
        close (self->epfd);
    if (self->wakefd >= 0)
        close (self->wakefd);
    free (self);
    *self_p = NULL;
}

uint64_t
rtr_worker_requests (rtr_worker_t *self)
{
    return atomic_load (&self->answered);
}

uint64_t
rtr_worker_clients (rtr_worker_t *self)
{
    return atomic_load (&self->clients);
}

uint64_t
rtr_worker_pooled (rtr_worker_t *self)
{
    return atomic_load (&self->pooled);
}
