//  bench-router-tiny - the router benchmark's web dyno: a keep-alive
//  HTTP/1.1 server answering every request with a fixed 12-byte body
//
//  Usage: PORT=N bench-router-tiny [THREADS]
//
//  Deployed by bench-router as the app's `web` process (Procfile
//  `web: exec ./tiny`), so it runs as a real dyno behind the router, and
//  measured directly as the ceiling. Built so the backend is not the
//  bottleneck: THREADS (default: the online CPUs; TINY_THREADS in the
//  environment also sets it) threads, each with its own epoll and its own
//  SO_REUSEPORT listener on 127.0.0.1:$PORT, level-triggered, no
//  allocation per request. Requests are framed by their header end plus
//  Content-Length (bodies are read and dropped; chunked bodies are not
//  supported: answered 411 and closed); pipelined requests are answered in
//  order. HTTP/1.0 (the supervisor's health check) and `Connection: close`
//  close after the answer.
//
//  Owns its sockets and threads; exits on SIGTERM (default action).

#define _GNU_SOURCE                 // accept4, memmem

#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define TINY_BUF        16384       // per connection input; a request header must fit
#define TINY_EVENTS     256
#define TINY_MAX_FD     65536
#define TINY_THREADS    64

static const char s_ok [] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nhello world\n";
static const char s_ok_close [] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\nConnection: close\r\n\r\nhello world\n";
static const char s_411 [] =
    "HTTP/1.1 411 Length Required\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

typedef struct {
    int fd;
    size_t len;                     // bytes in buf
    size_t skip;                    // body bytes still to drop
    char buf [TINY_BUF];
} s_conn_t;

typedef struct {
    int port;
    int listener;
    int epoll;
    s_conn_t **conns;               // by fd, TINY_MAX_FD slots
} s_worker_t;

//  The value of header `name` (lowercase, with ':') in [head, end), or NULL.
static const char *
s_header (const char *head, const char *end, const char *name, size_t *len)
{
    size_t name_len = strlen (name);
    const char *line = memchr (head, '\n', (size_t) (end - head));
    while (line && line + 1 < end) {
        line++;
        const char *eol = memchr (line, '\n', (size_t) (end - line));
        if (!eol)
            break;
        if ((size_t) (eol - line) > name_len && strncasecmp (line, name, name_len) == 0) {
            const char *v = line + name_len;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            const char *ve = eol;
            while (ve > v && isspace ((unsigned char) ve [-1]))
                ve--;
            *len = (size_t) (ve - v);
            return v;
        }
        line = eol;
    }
    return NULL;
}

static bool
s_has_token (const char *v, size_t len, const char *token)
{
    size_t tl = strlen (token);
    for (size_t i = 0; i + tl <= len; i++)
        if (strncasecmp (v + i, token, tl) == 0)
            return true;
    return false;
}

static void
s_close (s_worker_t *self, s_conn_t *conn)
{
    epoll_ctl (self->epoll, EPOLL_CTL_DEL, conn->fd, NULL);
    close (conn->fd);
    self->conns [conn->fd] = NULL;
    free (conn);
}

//  Writes all of `data` (small: the socket buffer takes it; a short write
//  on a blocking-free socket is retried a few times, then the connection
//  is given up).
static int
s_send (int fd, const char *data, size_t len)
{
    for (int tries = 0; len && tries < 1000; tries++) {
        ssize_t n = send (fd, data, len, MSG_NOSIGNAL);
        if (n > 0) {
            data += n;
            len -= (size_t) n;
        }
        else if (n < 0 && errno != EAGAIN && errno != EINTR)
            return -1;
    }
    return len ? -1 : 0;
}

//  Answers every whole request in the buffer. Returns -1 to close.
static int
s_serve (s_conn_t *conn)
{
    char out [4096];
    size_t out_len = 0;
    size_t at = 0;
    int rc = 0;
    while (rc == 0) {
        if (conn->skip) {
            size_t n = conn->len - at < conn->skip ? conn->len - at : conn->skip;
            at += n;
            conn->skip -= n;
            if (conn->skip)
                break;
        }
        char *head = conn->buf + at;
        size_t avail = conn->len - at;
        char *end = avail >= 4 ? memmem (head, avail, "\r\n\r\n", 4) : NULL;
        if (!end) {
            if (avail == sizeof conn->buf)
                rc = -1;            // a header larger than the buffer
            break;
        }
        end += 4;
        size_t vlen;
        const char *v;
        bool close_after = false;
        const char *eol = memchr (head, '\n', (size_t) (end - head));
        if (eol && eol - head >= 9 && memcmp (eol - 9, "HTTP/1.0", 8) == 0) {
            v = s_header (head, end, "connection:", &vlen);
            close_after = !(v && s_has_token (v, vlen, "keep-alive"));
        }
        else if ((v = s_header (head, end, "connection:", &vlen)))
            close_after = s_has_token (v, vlen, "close");
        if (s_header (head, end, "transfer-encoding:", &vlen)) {
            memcpy (out + out_len, s_411, sizeof s_411 - 1);
            out_len += sizeof s_411 - 1;
            rc = -1;
            break;
        }
        if ((v = s_header (head, end, "content-length:", &vlen)))
            conn->skip = strtoull (v, NULL, 10);
        at = (size_t) (end - conn->buf);
        const char *answer = close_after ? s_ok_close : s_ok;
        size_t answer_len = close_after ? sizeof s_ok_close - 1 : sizeof s_ok - 1;
        if (out_len + answer_len > sizeof out) {
            if (s_send (conn->fd, out, out_len))
                return -1;
            out_len = 0;
        }
        memcpy (out + out_len, answer, answer_len);
        out_len += answer_len;
        if (close_after)
            rc = -1;
    }
    memmove (conn->buf, conn->buf + at, conn->len - at);
    conn->len -= at;
    if (out_len && s_send (conn->fd, out, out_len))
        return -1;
    return rc;
}

static void
s_accept (s_worker_t *self)
{
    for (;;) {
        int fd = accept4 (self->listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        s_conn_t *conn = fd < TINY_MAX_FD ? malloc (sizeof *conn) : NULL;
        if (!conn) {
            close (fd);
            continue;
        }
        int one = 1;
        setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn->fd = fd;
        conn->len = conn->skip = 0;
        self->conns [fd] = conn;
        struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.fd = fd };
        epoll_ctl (self->epoll, EPOLL_CTL_ADD, fd, &ev);
    }
}

static void
s_readable (s_worker_t *self, s_conn_t *conn)
{
    ssize_t n = recv (conn->fd, conn->buf + conn->len, sizeof conn->buf - conn->len, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        s_close (self, conn);
        return;
    }
    if (n > 0) {
        conn->len += (size_t) n;
        if (s_serve (conn))
            s_close (self, conn);
    }
}

static void *
s_worker (void *arg)
{
    s_worker_t *self = arg;
    struct epoll_event events [TINY_EVENTS];
    for (;;) {
        int n = epoll_wait (self->epoll, events, TINY_EVENTS, -1);
        for (int i = 0; i < n; i++) {
            int fd = events [i].data.fd;
            if (fd == self->listener)
                s_accept (self);
            else if (self->conns [fd])
                s_readable (self, self->conns [fd]);
        }
    }
    return NULL;
}

static int
s_listen (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port),
                                .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    if (fd < 0
    ||  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one)
    ||  setsockopt (fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one)
    ||  bind (fd, (struct sockaddr *) &addr, sizeof addr)
    ||  listen (fd, 4096)) {
        if (fd >= 0)
            close (fd);
        return -1;
    }
    return fd;
}

int
main (int argc, char **argv)
{
    const char *port_env = getenv ("PORT");
    int port = port_env ? atoi (port_env) : 0;
    if (port <= 0 || port > 65535 || argc > 2) {
        fprintf (stderr, "usage: PORT=N bench-router-tiny [THREADS]\n");
        return 2;
    }
    long threads = sysconf (_SC_NPROCESSORS_ONLN);
    if (getenv ("TINY_THREADS"))
        threads = atol (getenv ("TINY_THREADS"));
    if (argc == 2)
        threads = atol (argv [1]);
    if (threads < 1)
        threads = 1;
    if (threads > TINY_THREADS)
        threads = TINY_THREADS;
    signal (SIGPIPE, SIG_IGN);
    static s_worker_t workers [TINY_THREADS];
    for (long i = 0; i < threads; i++) {
        s_worker_t *w = &workers [i];
        w->port = port;
        w->listener = s_listen (port);
        w->epoll = epoll_create1 (EPOLL_CLOEXEC);
        w->conns = calloc (TINY_MAX_FD, sizeof *w->conns);
        if (w->listener < 0 || w->epoll < 0 || !w->conns) {
            fprintf (stderr, "bench-router-tiny: cannot listen on 127.0.0.1:%d: %s\n", port, strerror (errno));
            return 1;
        }
        struct epoll_event ev = { .events = EPOLLIN, .data.fd = w->listener };
        epoll_ctl (w->epoll, EPOLL_CTL_ADD, w->listener, &ev);
    }
    printf ("bench-router-tiny: %ld threads on 127.0.0.1:%d\n", threads, port);
    fflush (stdout);
    for (long i = 1; i < threads; i++) {
        pthread_t thread;
        if (pthread_create (&thread, NULL, s_worker, &workers [i])) {
            fprintf (stderr, "bench-router-tiny: cannot start a thread\n");
            return 1;
        }
    }
    s_worker (&workers [0]);
    return 0;
}
