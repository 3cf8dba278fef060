//  brt_handshakes - the router benchmark's TLS handshake client: new full
//  handshakes per second
//
//  See bench.h. `threads` threads, each with its own epoll, its own client
//  SSL_CTX (TLS 1.3 only, no verification, no session cache, no tickets
//  asked for) and `parallel` connections in flight: a non-blocking
//  connect, SSL_connect driven by EPOLLIN/EPOLLOUT, and once it returns 1
//  (the server's Finished verified, ours sent) SSL_shutdown (close_notify)
//  and close; then a new socket at once. A session is never reused, so
//  every handshake is a full one (ECDHE + the server's certificate
//  signature). The client closes first, so TIME_WAIT is on its side
//  (loopback reuses those ports: net.ipv4.tcp_tw_reuse). A handshake that
//  fails (or takes over 5 s) counts as failed. The figure is completed
//  handshakes / elapsed time; the client shares the machine with the
//  server, so it is comparable between servers measured the same way, not
//  an absolute capacity.

#include "bench.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BRT_HS_THREADS      64
#define BRT_HS_PARALLEL     256
#define BRT_HS_STALL_S      5.0

typedef struct {
    int fd;                         // -1 when the slot is free
    SSL *ssl;
    double started;
    bool connected;                 // the TCP connect finished
} s_slot_t;

typedef struct {
    int port;
    char sni [128];
    double until;
    int parallel;
    long done, failed;
    char error [120];               // the first failure's reason
    s_slot_t slots [BRT_HS_PARALLEL];
} s_thread_t;

static void
s_slot_close (s_thread_t *self, s_slot_t *slot, bool ok)
{
    if (slot->ssl) {
        if (ok)
            SSL_shutdown (slot->ssl);
        SSL_free (slot->ssl);
    }
    if (slot->fd >= 0)
        close (slot->fd);
    slot->fd = -1;
    slot->ssl = NULL;
    if (ok)
        self->done++;
    else
        self->failed++;
}

static void
s_fail_reason (s_thread_t *self, const char *what)
{
    if (self->error [0])
        return;
    unsigned long e = ERR_peek_last_error ();
    snprintf (self->error, sizeof self->error, "%s%s%s", what, e ? ": " : "", e ? ERR_reason_error_string (e) : "");
}

static int
s_slot_open (s_thread_t *self, s_slot_t *slot, SSL_CTX *ctx, int epoll, int index)
{
    slot->fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    slot->ssl = NULL;
    slot->connected = false;
    slot->started = bcm_now ();
    if (slot->fd < 0)
        return -1;
    int one = 1;
    setsockopt (slot->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) self->port),
                                .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    if (connect (slot->fd, (struct sockaddr *) &addr, sizeof addr) && errno != EINPROGRESS) {
        s_fail_reason (self, strerror (errno));
        close (slot->fd);
        slot->fd = -1;
        return -1;
    }
    slot->ssl = SSL_new (ctx);
    SSL_set_fd (slot->ssl, slot->fd);
    SSL_set_tlsext_host_name (slot->ssl, self->sni);
    SSL_set_connect_state (slot->ssl);
    struct epoll_event ev = { .events = EPOLLOUT, .data.u32 = (uint32_t) index };
    epoll_ctl (epoll, EPOLL_CTL_ADD, slot->fd, &ev);
    return 0;
}

//  Moves the handshake on. Returns 1 done, 0 waiting, -1 failed.
static int
s_slot_step (s_thread_t *self, s_slot_t *slot, int epoll, int index)
{
    if (!slot->connected) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt (slot->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
            s_fail_reason (self, strerror (err));
            return -1;
        }
        slot->connected = true;
    }
    int rc = SSL_do_handshake (slot->ssl);
    if (rc == 1)
        return 1;
    int why = SSL_get_error (slot->ssl, rc);
    struct epoll_event ev = { .data.u32 = (uint32_t) index };
    if (why == SSL_ERROR_WANT_READ)
        ev.events = EPOLLIN;
    else if (why == SSL_ERROR_WANT_WRITE)
        ev.events = EPOLLOUT;
    else {
        s_fail_reason (self, "handshake failed");
        ERR_clear_error ();
        return -1;
    }
    epoll_ctl (epoll, EPOLL_CTL_MOD, slot->fd, &ev);
    return 0;
}

static void *
s_thread (void *arg)
{
    s_thread_t *self = arg;
    SSL_CTX *ctx = SSL_CTX_new (TLS_client_method ());
    int epoll = epoll_create1 (EPOLL_CLOEXEC);
    if (!ctx || epoll < 0) {
        snprintf (self->error, sizeof self->error, "cannot set up OpenSSL or epoll");
        SSL_CTX_free (ctx);
        return NULL;
    }
    SSL_CTX_set_min_proto_version (ctx, TLS1_3_VERSION);
    SSL_CTX_set_max_proto_version (ctx, TLS1_3_VERSION);
    SSL_CTX_set_verify (ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_session_cache_mode (ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options (ctx, SSL_OP_NO_TICKET);
    for (int i = 0; i < self->parallel; i++)
        if (s_slot_open (self, &self->slots [i], ctx, epoll, i))
            self->failed++;
    struct epoll_event events [BRT_HS_PARALLEL];
    double checked = bcm_now ();
    while (bcm_now () < self->until) {
        int n = epoll_wait (epoll, events, BRT_HS_PARALLEL, 50);
        for (int e = 0; e < n; e++) {
            int i = (int) events [e].data.u32;
            s_slot_t *slot = &self->slots [i];
            if (slot->fd < 0)
                continue;
            int rc = s_slot_step (self, slot, epoll, i);
            if (rc == 0)
                continue;
            s_slot_close (self, slot, rc == 1);
            if (bcm_now () < self->until && s_slot_open (self, slot, ctx, epoll, i))
                self->failed++;
        }
        //  Stalled handshakes and slots whose socket could not be opened.
        double now = bcm_now ();
        if (now - checked > 0.25 && now < self->until) {
            checked = now;
            for (int i = 0; i < self->parallel; i++) {
                s_slot_t *slot = &self->slots [i];
                if (slot->fd >= 0 && now - slot->started > BRT_HS_STALL_S) {
                    s_fail_reason (self, "a handshake stalled");
                    s_slot_close (self, slot, false);
                }
                if (slot->fd < 0 && s_slot_open (self, slot, ctx, epoll, i))
                    self->failed++;
            }
        }
    }
    for (int i = 0; i < self->parallel; i++)
        if (self->slots [i].fd >= 0) {
            SSL_free (self->slots [i].ssl);
            close (self->slots [i].fd);
        }
    close (epoll);
    SSL_CTX_free (ctx);
    return NULL;
}

void
brt_handshakes (int port, const char *sni, int seconds, int threads, int parallel, brt_hs_t *out)
{
    memset (out, 0, sizeof *out);
    if (threads < 1)
        threads = 1;
    if (threads > BRT_HS_THREADS)
        threads = BRT_HS_THREADS;
    if (parallel < 1)
        parallel = 1;
    if (parallel > BRT_HS_PARALLEL)
        parallel = BRT_HS_PARALLEL;
    s_thread_t *state = calloc ((size_t) threads, sizeof *state);
    pthread_t ids [BRT_HS_THREADS];
    if (!state) {
        snprintf (out->note, sizeof out->note, "out of memory");
        return;
    }
    double t0 = bcm_now ();
    int started = 0;
    for (int i = 0; i < threads; i++) {
        state [i].port = port;
        snprintf (state [i].sni, sizeof state [i].sni, "%s", sni);
        state [i].until = t0 + seconds;
        state [i].parallel = parallel;
        if (pthread_create (&ids [i], NULL, s_thread, &state [i]) == 0)
            started++;
        else
            break;
    }
    for (int i = 0; i < started; i++)
        pthread_join (ids [i], NULL);
    double elapsed = bcm_now () - t0;
    for (int i = 0; i < started; i++) {
        out->done += state [i].done;
        out->failed += state [i].failed;
        if (!out->note [0] && state [i].error [0])
            snprintf (out->note, sizeof out->note, "%s", state [i].error);
    }
    free (state);
    out->ran = started > 0 && out->done > 0;
    out->per_s = elapsed > 0 ? (double) out->done / elapsed : 0;
    if (!out->ran && !out->note [0])
        snprintf (out->note, sizeof out->note, "no handshake completed");
}
