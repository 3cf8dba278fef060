//  bench_tails - phases (b) and (c): fan-out to BLG_TAILS websocket tails
//
//  One generator thread emits BLG_RATE lines/s, paced on 1 ms ticks:
//  each tick sends the lines due so far in one piece (a log.batch to
//  log-plex for app BLG_APP_TAIL, or the raw lines, "\n"-ended, on the
//  Node peer's input socket). Each line's text starts `t=NS s=SEQ `: the
//  CLOCK_MONOTONIC ns at which its tick was sent and its sequence number
//  (0, 1, ...); the rest is blg_line_text's payload.
//
//  BLG_TAILS websocket clients, spread over BLG_TAIL_THREADS threads, are
//  connected before the generator starts. They are plain sockets on one
//  epoll per thread with a minimal RFC 6455 reader (the HTTP upgrade, then
//  unmasked server frames; TEXT payloads are split into lines as they
//  arrive; a ping is answered, a close ends the tail), not libwebsockets:
//  lws's client parses frames byte by byte, and on this 2-CPU machine the
//  measuring tool took 1.5 CPUs from the servers it measured. Every
//  server gets the same client. Lines emitted in the warm-up are ignored;
//  for each measured line a tail receives, the latency is the receive
//  time (CLOCK_MONOTONIC when the read that carried the line's end
//  returned) minus `t`, kept in a histogram (1 µs buckets under 100 ms,
//  1 ms buckets above). A tail's lost lines are the measured lines it
//  never received by the end (the generator's last tick plus
//  BLG_DRAIN_S).

//  Memory: the server's VmRSS before the tails connect and once they are
//  all open and idle (per tail = the difference / tails), then at the
//  start and the end of the measured window (growth over a steady stream).
//
//  Threads: the generator and the client threads are started and joined
//  here; each client thread owns its context, its tails and histogram;
//  the main thread reads the tails' counters only through atomics.

#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BLG_TICK_NS         1000000L    // the generator's pace
#define BLG_DRAIN_S         3.0         // after the last line, how long tails may take
#define BLG_OPEN_S          15.0        // all tails must be open by then
#define BLG_FINE_BUCKETS    100000      // 1 µs each: under 100 ms
#define BLG_COARSE_BUCKETS  100000      // 1 ms each: under 100 s
#define BLG_PENDING_MAX     4096        // bytes of a line cut between pieces
#define BLG_READ_MAX        (256 * 1024)    // bytes per read

typedef struct s_thread s_thread_t;

typedef struct {
    s_thread_t *thread;
    int fd;                         // owned by the thread; -1 until connected
    _Atomic uint64_t next_seq;      // lowest sequence number not yet seen
    _Atomic uint64_t count;         // measured lines received
    bool open;
    //  The frame reader.
    bool in_header;                 // reading a frame header, else a payload
    unsigned char hdr [10];
    size_t hdr_len;
    int opcode;                     // of the current frame
    uint64_t left;                  // payload bytes of the current frame to come
    unsigned char ctl [125];        // a control frame's payload
    size_t ctl_len;
    char pending [BLG_PENDING_MAX];
    size_t pending_len;
} s_tail_t;

struct s_thread {
    blg_tails_t *out;               // port, path (read only here)
    uint64_t first, total;          // measured sequence numbers: [first, total)
    int index;
    s_tail_t *tails;                // BLG_TAILS / threads of them
    int count;
    int epoll;                      // owned by the thread
    uint32_t *fine, *coarse;        // histograms, owned
    double max_ms;
    _Atomic int *opened;            // tails that opened, over all threads
    _Atomic int *failed;            // tails that failed or closed
    _Atomic bool *stop;
    char why [200];                 // the first failure
};

typedef struct {
    blg_sink_t *sink;
    uint64_t total;
    double start;                   // bcm_now () of its first tick
    _Atomic bool done;
    int rc;
    char why [200];
} s_generator_t;

// ---------------------------------------------------------------------------
//  Clients

//  One line of a tail: its `t=` and `s=`, latency and count.
static void
s_line (s_tail_t *tail, const char *line, size_t len, uint64_t now_ns)
{
    //  `t=` at the start of the text: of the line (Node), or after "]: ".
    const char *t = NULL;
    for (const char *p = line, *end = line + len; !t && p + 2 < end; p++) {
        p = memchr (p, 't', (size_t) (end - p - 2));
        if (!p)
            break;
        if (p [1] == '=' && (p == line || p [-1] == ' '))
            t = p;
    }
    if (!t)
        return;                     // not a generated line (history)
    char *end;
    uint64_t sent_ns = strtoull (t + 2, &end, 10);
    if (strncmp (end, " s=", 3) != 0)
        return;
    uint64_t seq = strtoull (end + 3, NULL, 10);
    s_thread_t *th = tail->thread;
    if (seq < atomic_load_explicit (&tail->next_seq, memory_order_relaxed))
        return;                     // a repeat
    atomic_store_explicit (&tail->next_seq, seq + 1, memory_order_relaxed);
    if (seq < th->first || seq >= th->total)
        return;
    atomic_fetch_add_explicit (&tail->count, 1, memory_order_relaxed);
    double us = now_ns > sent_ns ? (double) (now_ns - sent_ns) / 1e3 : 0;
    if (us < BLG_FINE_BUCKETS)
        th->fine [(size_t) us]++;
    else if (us / 1e3 < BLG_COARSE_BUCKETS)
        th->coarse [(size_t) (us / 1e3)]++;
    else
        th->coarse [BLG_COARSE_BUCKETS - 1]++;
    if (us / 1e3 > th->max_ms)
        th->max_ms = us / 1e3;
}

//  Bytes of a TEXT message (or its continuation), in pieces.
static void
s_receive (s_tail_t *tail, const char *data, size_t len, uint64_t now_ns)
{
    while (len) {
        const char *nl = memchr (data, '\n', len);
        size_t piece = nl ? (size_t) (nl - data) : len;
        if (tail->pending_len || !nl) {
            //  A line cut between pieces: gather it.
            size_t room = BLG_PENDING_MAX - tail->pending_len;
            size_t take = piece < room ? piece : room;
            memcpy (tail->pending + tail->pending_len, data, take);
            tail->pending_len += take;
            if (nl) {
                s_line (tail, tail->pending, tail->pending_len, now_ns);
                tail->pending_len = 0;
            }
        }
        else
            s_line (tail, data, piece, now_ns);
        data += piece + (nl ? 1 : 0);
        len -= piece + (nl ? 1 : 0);
    }
}

//  Marks `tail` failed with `why` (the thread's first failure is kept).
static void
s_fail (s_tail_t *tail, const char *why)
{
    s_thread_t *th = tail->thread;
    if (!th->why [0])
        snprintf (th->why, sizeof th->why, "%s", why);
    if (tail->open && tail->fd >= 0)
        epoll_ctl (th->epoll, EPOLL_CTL_DEL, tail->fd, NULL);
    tail->open = false;
    atomic_fetch_add (th->failed, 1);
}

//  A control frame's payload is complete: a close ends the tail, a ping
//  is answered (masked, as a client must).
static void
s_control (s_tail_t *tail)
{
    if (tail->opcode == 0x8) {
        if (!atomic_load (tail->thread->stop))
            s_fail (tail, "a tail was closed by the server");
        return;
    }
    if (tail->opcode != 0x9)
        return;
    unsigned char pong [6 + 125];
    pong [0] = 0x8a;
    pong [1] = (unsigned char) (0x80 | tail->ctl_len);
    memset (pong + 2, 0, 4);        // mask key 0: the payload as is
    memcpy (pong + 6, tail->ctl, tail->ctl_len);
    if (write (tail->fd, pong, 6 + tail->ctl_len) != (ssize_t) (6 + tail->ctl_len))
        s_fail (tail, "cannot answer a ping");
}

//  Feeds `len` bytes of the server's stream (after the HTTP answer) to
//  the frame reader: server frames are unmasked; TEXT payloads go to
//  s_receive as they come.
static void
s_frames (s_tail_t *tail, const unsigned char *data, size_t len, uint64_t now_ns)
{
    while (len && tail->open) {
        if (tail->in_header) {
            //  Header bytes: 2, then 2 or 8 more for a long length.
            tail->hdr [tail->hdr_len++] = *data++;
            len--;
            if (tail->hdr_len < 2)
                continue;
            if (tail->hdr [1] & 0x80) {
                s_fail (tail, "the server sent a masked frame");
                return;
            }
            unsigned len7 = tail->hdr [1] & 0x7f;
            size_t need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0);
            if (tail->hdr_len < need)
                continue;
            uint64_t size = len7;
            if (len7 >= 126) {
                size = 0;
                for (size_t i = 2; i < need; i++)
                    size = size << 8 | tail->hdr [i];
            }
            tail->opcode = tail->hdr [0] & 0x0f;
            tail->left = size;
            tail->hdr_len = 0;
            tail->ctl_len = 0;
            if (tail->opcode >= 0x8 && size > 125) {
                s_fail (tail, "the server sent an oversized control frame");
                return;
            }
            if (size > 0)
                tail->in_header = false;
            else if (tail->opcode >= 0x8)
                s_control (tail);
            continue;
        }
        size_t take = tail->left < len ? (size_t) tail->left : len;
        if (tail->opcode >= 0x8) {
            memcpy (tail->ctl + tail->ctl_len, data, take);
            tail->ctl_len += take;
        }
        else
            s_receive (tail, (const char *) data, take, now_ns);
        data += take;
        len -= take;
        tail->left -= take;
        if (tail->left == 0) {
            tail->in_header = true;
            if (tail->opcode >= 0x8)
                s_control (tail);
        }
    }
}

//  Opens `tail`: a TCP connection, the HTTP upgrade, and whatever frames
//  came with the answer. Returns 0 or -1 (failed, counted).
static int
s_open (s_thread_t *th, s_tail_t *tail)
{
    tail->fd = blg_connect (th->out->port);
    if (tail->fd < 0) {
        s_fail (tail, "a tail could not connect");
        return -1;
    }
    char req [512];
    int n = snprintf (req, sizeof req,
                      "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Sec-WebSocket-Version: 13\r\n\r\n", th->out->path, th->out->port);
    if (n < 0 || (size_t) n >= sizeof req || write (tail->fd, req, (size_t) n) != n) {
        s_fail (tail, "a tail could not send its upgrade request");
        return -1;
    }
    //  The answer's head, then any frames already behind it.
    char head [4096];
    size_t used = 0;
    char *body = NULL;
    double deadline = bcm_now () + BLG_OPEN_S;
    while (!body && used < sizeof head - 1 && bcm_now () < deadline) {
        struct pollfd pfd = { tail->fd, POLLIN, 0 };
        if (poll (&pfd, 1, 100) <= 0)
            continue;
        ssize_t got = read (tail->fd, head + used, sizeof head - 1 - used);
        if (got <= 0)
            break;
        used += (size_t) got;
        head [used] = 0;
        body = strstr (head, "\r\n\r\n");
    }
    if (!body || strncmp (head, "HTTP/1.1 101", 12) != 0) {
        char why [200];
        snprintf (why, sizeof why, "a tail could not connect: %.*s", (int) strcspn (head, "\r\n"),
                  used ? head : "no answer");
        s_fail (tail, why);
        return -1;
    }
    body += 4;
    tail->open = true;
    tail->in_header = true;
    fcntl (tail->fd, F_SETFL, fcntl (tail->fd, F_GETFL) | O_NONBLOCK);
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tail };
    if (epoll_ctl (th->epoll, EPOLL_CTL_ADD, tail->fd, &ev)) {
        tail->open = false;
        s_fail (tail, "cannot watch a tail");
        return -1;
    }
    atomic_fetch_add (th->opened, 1);
    s_frames (tail, (const unsigned char *) body, used - (size_t) (body - head), bcm_now_ns ());
    return 0;
}

static void *
s_client_thread (void *arg)
{
    s_thread_t *th = arg;
    th->epoll = epoll_create1 (EPOLL_CLOEXEC);
    if (th->epoll < 0) {
        snprintf (th->why, sizeof th->why, "cannot create an epoll instance");
        atomic_fetch_add (th->failed, th->count);
        return NULL;
    }
    for (int i = 0; i < th->count; i++) {
        th->tails [i].fd = -1;
        s_open (th, &th->tails [i]);
    }
    size_t cap = BLG_READ_MAX;
    unsigned char *buf = act_malloc (cap);
    struct epoll_event events [BLG_TAILS];
    while (!atomic_load (th->stop)) {
        int n = epoll_wait (th->epoll, events, BLG_TAILS, 50);
        for (int i = 0; i < n; i++) {
            s_tail_t *tail = events [i].data.ptr;
            ssize_t got = read (tail->fd, buf, cap);
            if (got > 0)
                s_frames (tail, buf, (size_t) got, bcm_now_ns ());
            else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
                if (!atomic_load (th->stop))
                    s_fail (tail, "a tail was closed by the server");
                else if (tail->open) {
                    epoll_ctl (th->epoll, EPOLL_CTL_DEL, tail->fd, NULL);
                    tail->open = false;
                }
            }
        }
    }
    free (buf);
    for (int i = 0; i < th->count; i++)
        if (th->tails [i].fd >= 0)
            close (th->tails [i].fd);
    close (th->epoll);
    return NULL;
}

// ---------------------------------------------------------------------------
//  Generator

static int
s_sink_send (blg_sink_t *sink, const char *lines, size_t len, size_t count)
{
    if (!sink->client) {
        while (len) {
            ssize_t n = write (sink->fd, lines, len);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return -1;
            lines += n;
            len -= (size_t) n;
        }
        return 0;
    }
    msg_t *batch = act_client_msg_new (sink->client, MSG_TYPE_LOG_BATCH, "log-plex");
    msg_logbatch_t packed = { 0 };
    int64_t ts = act_wall_us ();
    for (size_t i = 0; i < count; i++) {
        const char *nl = memchr (lines, '\n', len);
        size_t one = (size_t) (nl - lines);
        msg_logbatch_add (&packed, ts, "app", "web.1", lines, one);
        lines += one + 1;
        len -= one + 1;
    }
    msg_set_str (batch, "app", BLG_APP_TAIL);
    msg_set_json (batch, "lines", msg_logbatch_take (&packed));
    msg_logbatch_release (&packed);
    return act_client_send (sink->client, &batch) ? -1 : 0;
}

static void *
s_generator (void *arg)
{
    s_generator_t *g = arg;
    size_t cap = 1 << 20;
    char *buf = act_malloc (cap);
    char payload [256];
    struct timespec next;
    clock_gettime (CLOCK_MONOTONIC, &next);
    g->start = bcm_now ();
    uint64_t sent = 0;
    while (sent < g->total && g->rc == 0) {
        next.tv_nsec += BLG_TICK_NS;
        if (next.tv_nsec >= 1000000000L) {
            next.tv_nsec -= 1000000000L;
            next.tv_sec++;
        }
        clock_nanosleep (CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
        uint64_t due = (uint64_t) ((bcm_now () - g->start) * BLG_RATE) + 1;
        if (due > g->total)
            due = g->total;
        size_t len = 0, count = 0;
        uint64_t now_ns = bcm_now_ns ();
        for (; sent < due && len + 512 < cap; sent++, count++) {
            size_t plen = blg_line_text (payload, sizeof payload, 0, sent);
            len += (size_t) snprintf (buf + len, cap - len, "t=%llu s=%llu %.*s\n",
                                      (unsigned long long) now_ns, (unsigned long long) sent,
                                      (int) plen, payload);
        }
        if (count && s_sink_send (g->sink, buf, len, count)) {
            snprintf (g->why, sizeof g->why, "the generator cannot send: %s", strerror (errno));
            g->rc = -1;
        }
    }
    free (buf);
    atomic_store (&g->done, true);
    return NULL;
}

// ---------------------------------------------------------------------------
//  The run

static double
s_percentile (const uint64_t *fine, const uint64_t *coarse, uint64_t total, double p)
{
    uint64_t rank = (uint64_t) ((p * (double) total + 99.999) / 100.0), seen = 0;
    if (rank == 0)
        rank = 1;
    for (size_t i = 0; i < BLG_FINE_BUCKETS; i++)
        if ((seen += fine [i]) >= rank)
            return ((double) i + 0.5) / 1e3;
    for (size_t i = 0; i < BLG_COARSE_BUCKETS; i++)
        if ((seen += coarse [i]) >= rank)
            return (double) i + 0.5;
    return 0;
}

//  Waits until `cond` holds for the counters, up to `seconds`.
static uint64_t
s_sum_count (s_tail_t *tails)
{
    uint64_t sum = 0;
    for (int i = 0; i < BLG_TAILS; i++)
        sum += atomic_load_explicit (&tails [i].count, memory_order_relaxed);
    return sum;
}

int
blg_tails_run (blg_t *self, blg_sink_t *sink, pid_t server, blg_tails_t *out, char *why,
               size_t why_len)
{
    (void) self;
    uint64_t first = (uint64_t) (out->warmup_s * BLG_RATE);
    uint64_t total = first + (uint64_t) (out->measure_s * BLG_RATE);
    s_tail_t *tails = act_malloc (BLG_TAILS * sizeof *tails);
    memset (tails, 0, BLG_TAILS * sizeof *tails);
    s_thread_t threads [BLG_TAIL_THREADS];
    pthread_t ids [BLG_TAIL_THREADS];
    memset (threads, 0, sizeof threads);
    _Atomic int opened = 0, failed = 0;
    _Atomic bool stop = false;
    out->rss_start_kb = out->rss_end_kb = -1;
    long rss_none = bcm_rss_kb (server);
    int started = 0, rc = 0;
    for (; started < BLG_TAIL_THREADS; started++) {
        s_thread_t *th = &threads [started];
        th->out = out;
        th->first = first;
        th->total = total;
        th->index = started;
        th->count = BLG_TAILS / BLG_TAIL_THREADS + (started < BLG_TAILS % BLG_TAIL_THREADS);
        th->tails = tails + started * (BLG_TAILS / BLG_TAIL_THREADS)
                  + (started < BLG_TAILS % BLG_TAIL_THREADS ? started : BLG_TAILS % BLG_TAIL_THREADS);
        for (int i = 0; i < th->count; i++)
            th->tails [i].thread = th;
        th->fine = act_malloc (BLG_FINE_BUCKETS * sizeof *th->fine);
        th->coarse = act_malloc (BLG_COARSE_BUCKETS * sizeof *th->coarse);
        memset (th->fine, 0, BLG_FINE_BUCKETS * sizeof *th->fine);
        memset (th->coarse, 0, BLG_COARSE_BUCKETS * sizeof *th->coarse);
        th->opened = &opened;
        th->failed = &failed;
        th->stop = &stop;
        if (pthread_create (&ids [started], NULL, s_client_thread, th)) {
            free (th->fine);
            free (th->coarse);
            snprintf (why, why_len, "cannot start client thread %d", started);
            rc = -1;
            break;
        }
    }
    //  All open, then idle a moment for the memory figure.
    double deadline = bcm_now () + BLG_OPEN_S;
    while (rc == 0 && atomic_load (&opened) < BLG_TAILS && !atomic_load (&failed)
       &&  bcm_now () < deadline)
        bcm_sleep_ms (10);
    out->connected = atomic_load (&opened);
    if (rc == 0 && out->connected < BLG_TAILS) {
        snprintf (why, why_len, "%d of %d tails opened: %s", out->connected, BLG_TAILS,
                  threads [0].why [0] ? threads [0].why : threads [BLG_TAIL_THREADS - 1].why);
        rc = -1;
    }
    if (rc == 0) {
        bcm_sleep_ms (1000);
        long rss_idle = bcm_rss_kb (server);
        out->per_tail_kb = rss_none >= 0 && rss_idle >= 0 ? (double) (rss_idle - rss_none) / BLG_TAILS : -1;
    }
    s_generator_t gen = { .sink = sink, .total = total };
    pthread_t gen_id;
    bool gen_started = false;
    double cpu0 = 0;
    if (rc == 0) {
        if (pthread_create (&gen_id, NULL, s_generator, &gen)) {
            snprintf (why, why_len, "cannot start the generator");
            rc = -1;
        }
        else
            gen_started = true;
    }
    if (gen_started) {
        //  The window's edges, from here: the generator paces itself.
        while (!atomic_load (&gen.done) && (gen.start == 0 || bcm_now () < gen.start + out->warmup_s))
            bcm_sleep_ms (1);
        out->rss_start_kb = bcm_rss_kb (server);
        cpu0 = bcm_cpu_s (server);
        //  VmRSS along the window, to tell a climb from a step.
        double next = bcm_now () + BLG_RSS_EVERY_S;
        while (!atomic_load (&gen.done)) {
            bcm_sleep_ms (20);
            if (bcm_now () >= next && out->rss_traced < BLG_RSS_TRACE) {
                out->rss_trace_kb [out->rss_traced++] = bcm_rss_kb (server);
                next += BLG_RSS_EVERY_S;
            }
        }
        pthread_join (gen_id, NULL);
        out->rss_end_kb = bcm_rss_kb (server);
        out->cpu_s = bcm_cpu_s (server) - cpu0;
        if (gen.rc) {
            snprintf (why, why_len, "%s", gen.why);
            rc = -1;
        }
        //  Let the tails catch up.
        uint64_t want = (total - first) * BLG_TAILS;
        double until = bcm_now () + BLG_DRAIN_S;
        while (s_sum_count (tails) < want && bcm_now () < until)
            bcm_sleep_ms (10);
    }
    atomic_store (&stop, true);
    for (int i = 0; i < started; i++)
        pthread_join (ids [i], NULL);
    //  Merge.
    uint64_t *fine = act_malloc (BLG_FINE_BUCKETS * sizeof *fine);
    uint64_t *coarse = act_malloc (BLG_COARSE_BUCKETS * sizeof *coarse);
    memset (fine, 0, BLG_FINE_BUCKETS * sizeof *fine);
    memset (coarse, 0, BLG_COARSE_BUCKETS * sizeof *coarse);
    out->max_ms = 0;
    for (int t = 0; t < started; t++) {
        for (size_t i = 0; i < BLG_FINE_BUCKETS; i++)
            fine [i] += threads [t].fine [i];
        for (size_t i = 0; i < BLG_COARSE_BUCKETS; i++)
            coarse [i] += threads [t].coarse [i];
        if (threads [t].max_ms > out->max_ms)
            out->max_ms = threads [t].max_ms;
        free (threads [t].fine);
        free (threads [t].coarse);
    }
    out->expected = total - first;
    out->received = s_sum_count (tails);
    out->lost = out->expected * BLG_TAILS - out->received;
    out->per_tail_rate = (double) out->received / BLG_TAILS / out->measure_s;
    out->p50_ms = s_percentile (fine, coarse, out->received, 50);
    out->p99_ms = s_percentile (fine, coarse, out->received, 99);
    free (fine);
    free (coarse);
    free (tails);
    return rc;
}
