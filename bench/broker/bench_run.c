//  bch run - the measurements: pipelined throughput and round trips
//
//  Throughput: a sender thread pipelines `count` copies of a pre-encoded
//  ping (its id patched per message, so every message is distinct and the
//  sender's cost stays close to raw ZeroMQ's), at most BCH_WINDOW ahead of
//  the receiver. The receiver checks each frame is ours by comparing its
//  bytes past the id with the template; durable frames it also decodes for
//  the sequence number and answers with `delivered`, as act_dispatch does.
//  The durable sender decodes the broker's acks.
//
//  Round trips: the requester (the calling thread) encodes a fresh ping,
//  sends it and waits for the pong (and, when durable, the ack); the echo
//  thread decodes each request fully and builds its reply with msg_new, as
//  an actor would.

#include "bench.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#define BCH_HWM          200000     // as act_client sets on its DEALER
#define BCH_WHY_MAX      256

//  One throughput run, shared by its two threads.
typedef struct {
    bch_t *bench;
    bch_mode_t mode;
    const char *frame;              // the template for this mode
    void *tx_sock, *rx_sock;
    size_t count;
    uint64_t id_base;
    atomic_size_t received;         // written by the receiver only
    atomic_bool failed;
    atomic_int finished;            // threads done
    size_t acked;                   // sender only
    int64_t t_start, t_received, t_acked;
    char tx_why [BCH_WHY_MAX];      // each written by its own thread
    char rx_why [BCH_WHY_MAX];
    uint64_t rx_seq;                // receiver only: highest durable seq
    uint64_t rx_told;               // receiver only: highest told the broker
} s_run_t;

//  The echo side of round trips.
typedef struct {
    bch_t *bench;
    bch_mode_t mode;
    void *sock;
    bool failed;
    char why [BCH_WHY_MAX];
} s_echo_t;

static void
s_fail (s_run_t *run, char *why, const char *what)
{
    snprintf (why, BCH_WHY_MAX, "%s", what);
    atomic_store (&run->failed, true);
}

//  Text of an `error` reply, for failure reports.
static void
s_error_text (const void *data, size_t len, char *out, size_t out_len)
{
    msg_t *msg = msg_decode (data, len, MSG_DECODE_FULL, NULL);
    snprintf (out, out_len, "broker answered error %lld: %s",
              msg ? (long long) msg_int (msg, "code", 0) : 0LL,
              msg ? msg_str (msg, "reason", "?") : "?");
    msg_destroy (&msg);
}

static void
s_patch_id (char *id, uint64_t n)
{
    static const char hex [] = "0123456789abcdef";
    //  The first half stays random, the second half counts.
    for (int k = 0; k < 16; k++)
        id [16 + k] = hex [(n >> (60 - 4 * k)) & 15];
}

//  Heartbeats the broker when this client has been quiet a while, so a
//  receiver that only receives stays registered.
static void
s_keepalive (act_client_t *client, int64_t *last_ms)
{
    int64_t now = act_mono_ms ();
    if (now - *last_ms < BCH_KEEPALIVE_MS)
        return;
    msg_t *hb = act_client_msg_new (client, MSG_TYPE_HEARTBEAT, "broker");
    act_client_send (client, &hb);
    *last_ms = now;
}

static void
s_sleep_us (long us)
{
    struct timespec ts = { 0, us * 1000 };
    nanosleep (&ts, NULL);
}

//  Reads what the broker sent the sender: counts acks, fails on `error`.
static void
s_tx_poll (s_run_t *run, long timeout_ms)
{
    zmq_pollitem_t item = { run->tx_sock, 0, ZMQ_POLLIN, 0 };
    if (timeout_ms > 0 && zmq_poll (&item, 1, timeout_ms) <= 0)
        return;
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    while (zmq_msg_recv (&frame, run->tx_sock, ZMQ_DONTWAIT) >= 0) {
        msg_t *msg = msg_decode (zmq_msg_data (&frame), zmq_msg_size (&frame), MSG_DECODE_HEAD, NULL);
        if (msg && msg->type->id == MSG_TYPE_ACK && ++run->acked == run->count)
            run->t_acked = bch_now_ns ();
        else if (msg && msg->type->id == MSG_TYPE_ERROR) {
            s_error_text (zmq_msg_data (&frame), zmq_msg_size (&frame), run->tx_why, BCH_WHY_MAX);
            atomic_store (&run->failed, true);
        }
        msg_destroy (&msg);
    }
    zmq_msg_close (&frame);
}

//  Waits until `progress` (received or acked) moves past `goal`; fails when
//  it stops moving for BCH_STALL_MS.
static int
s_tx_wait (s_run_t *run, bool for_acks, size_t goal)
{
    size_t last = SIZE_MAX;
    int64_t since = act_mono_ms ();
    int64_t hb = since;
    for (;;) {
        size_t now = for_acks ? run->acked : atomic_load (&run->received);
        if (now >= goal || atomic_load (&run->failed))
            return atomic_load (&run->failed) ? -1 : 0;
        if (now != last) {
            last = now;
            since = act_mono_ms ();
        }
        else if (act_mono_ms () - since > BCH_STALL_MS) {
            s_fail (run, run->tx_why, for_acks ? "acks stopped coming" : "the receiver stalled");
            return -1;
        }
        if (run->mode == BCH_RAW)
            s_sleep_us (50);
        else {
            s_tx_poll (run, 1);
            s_keepalive (run->bench->tx, &hb);
        }
    }
}

static void *
s_tx_main (void *arg)
{
    s_run_t *run = arg;
    bch_t *b = run->bench;
    char *buf = act_malloc (b->frame_len);
    memcpy (buf, run->frame, b->frame_len);
    run->t_start = bch_now_ns ();
    for (size_t i = 0; i < run->count && !atomic_load (&run->failed); i++) {
        size_t goal = i >= BCH_WINDOW ? i - BCH_WINDOW + 1 : 0;
        if (atomic_load_explicit (&run->received, memory_order_acquire) < goal
        &&  s_tx_wait (run, false, goal))
            break;
        s_patch_id (buf + b->id_off, run->id_base + i);
        if (zmq_send (run->tx_sock, buf, b->frame_len, 0) < 0) {
            s_fail (run, run->tx_why, zmq_strerror (errno));
            break;
        }
        //  Acks (and any error) are read as we go, as a real sender would.
        if (run->mode != BCH_RAW && (i & 63) == 63)
            s_tx_poll (run, 0);
    }
    if (run->mode == BCH_DURABLE && !atomic_load (&run->failed))
        s_tx_wait (run, true, run->count);
    free (buf);
    atomic_fetch_add (&run->finished, 1);
    return NULL;
}

//  Notes a durable frame's seq; s_rx_flush answers with one cumulative
//  `delivered` per batch, as act_dispatch and act_flush_delivered do.
static int
s_rx_delivered (s_run_t *run, const void *data, size_t len)
{
    msg_t *msg = msg_decode (data, len, MSG_DECODE_HEAD, NULL);
    if (!msg || !msg->seq) {
        msg_destroy (&msg);
        s_fail (run, run->rx_why, "durable message arrived without a sequence number");
        return -1;
    }
    if (msg->seq > run->rx_seq)
        run->rx_seq = msg->seq;
    msg_destroy (&msg);
    return 1;
}

static void
s_rx_flush (s_run_t *run)
{
    if (run->mode != BCH_DURABLE || run->rx_seq <= run->rx_told)
        return;
    msg_t *done = act_client_msg_new (run->bench->rx, MSG_TYPE_DELIVERED, "broker");
    msg_set_int (done, "seq", (int64_t) run->rx_seq);
    act_client_send (run->bench->rx, &done);
    run->rx_told = run->rx_seq;
}

//  1 when the frame is one of ours, 0 when it is something else (a
//  heartbeat), -1 on an `error`.
static int
s_rx_frame (s_run_t *run, zmq_msg_t *frame)
{
    if (run->mode == BCH_RAW)
        return 1;
    const char *data = zmq_msg_data (frame);
    size_t len = zmq_msg_size (frame);
    size_t tail = run->bench->id_off + MSG_ID_LEN;
    if (len == run->bench->frame_len && memcmp (data + tail, run->frame + tail, len - tail) == 0)
        return run->mode == BCH_DURABLE ? s_rx_delivered (run, data, len) : 1;
    msg_t *msg = msg_decode (data, len, MSG_DECODE_HEAD, NULL);
    int rc = 0;
    if (msg && msg->type->id == MSG_TYPE_ERROR) {
        s_error_text (data, len, run->rx_why, BCH_WHY_MAX);
        atomic_store (&run->failed, true);
        rc = -1;
    }
    msg_destroy (&msg);
    return rc;
}

//  Nothing queued: waits a little, heartbeats, fails after BCH_STALL_MS.
static int
s_rx_idle (s_run_t *run, int64_t *idle_since, int64_t *hb)
{
    zmq_pollitem_t item = { run->rx_sock, 0, ZMQ_POLLIN, 0 };
    if (zmq_poll (&item, 1, 100) > 0) {
        *idle_since = 0;
        return 0;
    }
    int64_t now = act_mono_ms ();
    if (*idle_since == 0)
        *idle_since = now;
    if (run->mode != BCH_RAW)
        s_keepalive (run->bench->rx, hb);
    if (atomic_load (&run->failed))
        return -1;
    if (now - *idle_since > BCH_STALL_MS) {
        snprintf (run->rx_why, BCH_WHY_MAX, "lost messages: %zu of %zu arrived",
                  atomic_load (&run->received), run->count);
        atomic_store (&run->failed, true);
        return -1;
    }
    return 0;
}

static void *
s_rx_main (void *arg)
{
    s_run_t *run = arg;
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    int64_t idle_since = 0, hb = act_mono_ms ();
    size_t got = 0;
    while (got < run->count) {
        if (zmq_msg_recv (&frame, run->rx_sock, ZMQ_DONTWAIT) < 0) {
            s_rx_flush (run);
            if (s_rx_idle (run, &idle_since, &hb))
                break;
            continue;
        }
        int rc = s_rx_frame (run, &frame);
        if ((got & 1023) == 0)
            s_rx_flush (run);
        if (rc < 0)
            break;
        if (rc > 0)
            atomic_store_explicit (&run->received, ++got, memory_order_release);
        if (run->mode == BCH_ROUTED && (got & 4095) == 0)
            s_keepalive (run->bench->rx, &hb);
    }
    run->t_received = bch_now_ns ();
    s_rx_flush (run);
    zmq_msg_close (&frame);
    atomic_fetch_add (&run->finished, 1);
    return NULL;
}

int
bch_throughput (bch_t *self, bch_mode_t mode, size_t count, double *rate, char *why,
                size_t why_len)
{
    s_run_t *run = act_calloc (1, sizeof *run);
    run->bench = self;
    run->mode = mode;
    run->frame = mode == BCH_DURABLE ? self->durable : self->plain;
    run->tx_sock = mode == BCH_RAW ? self->push : act_client_socket (self->tx);
    run->rx_sock = mode == BCH_RAW ? self->pull : act_client_socket (self->rx);
    run->count = count;
    run->id_base = self->ids_used;
    self->ids_used += count;
    atomic_init (&run->received, 0);
    atomic_init (&run->failed, false);
    atomic_init (&run->finished, 0);
    pthread_t rx, tx;
    pthread_create (&rx, NULL, s_rx_main, run);
    pthread_create (&tx, NULL, s_tx_main, run);
    //  The raw peers leave the clients idle: keep them registered meanwhile.
    int64_t hb [2] = { 0, 0 };
    while (mode == BCH_RAW && atomic_load (&run->finished) < 2) {
        s_keepalive (self->tx, &hb [0]);
        s_keepalive (self->rx, &hb [1]);
        s_sleep_us (20000);
    }
    pthread_join (tx, NULL);
    pthread_join (rx, NULL);
    int rc = 0;
    if (atomic_load (&run->failed)) {
        snprintf (why, why_len, "%s", run->tx_why [0] ? run->tx_why : run->rx_why);
        rc = -1;
    }
    else {
        int64_t end = run->t_acked > run->t_received ? run->t_acked : run->t_received;
        *rate = (double) count * 1e9 / (double) (end - run->t_start);
    }
    free (run);
    bch_settle (self);
    return rc;
}

//  Answers one request: a pong to its sender (then `delivered` when it was
//  journaled, as act_dispatch orders them). Returns true on `stop`.
static bool
s_echo_reply (s_echo_t *echo, zmq_msg_t *frame)
{
    act_client_t *client = echo->bench->rx;
    msg_t *msg = msg_decode (zmq_msg_data (frame), zmq_msg_size (frame), MSG_DECODE_FULL, NULL);
    if (!msg)
        return false;
    bool stop = msg->type->id == MSG_TYPE_STOP;
    if (msg->type->id == MSG_TYPE_PING) {
        msg_t *pong = act_client_msg_new (client, MSG_TYPE_PONG, msg->from);
        msg_set_corr (pong, msg->id);
        act_client_send (client, &pong);
        if (msg->seq) {
            msg_t *done = act_client_msg_new (client, MSG_TYPE_DELIVERED, "broker");
            msg_set_int (done, "seq", (int64_t) msg->seq);
            act_client_send (client, &done);
        }
    }
    msg_destroy (&msg);
    return stop;
}

static void *
s_echo_main (void *arg)
{
    s_echo_t *echo = arg;
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    int64_t hb = act_mono_ms (), idle_since = act_mono_ms ();
    for (;;) {
        zmq_pollitem_t item = { echo->sock, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, BCH_KEEPALIVE_MS) <= 0) {
            if (echo->mode != BCH_RAW)
                s_keepalive (echo->bench->rx, &hb);
            if (act_mono_ms () - idle_since > 2 * BCH_STALL_MS) {
                snprintf (echo->why, sizeof echo->why, "the echo heard nothing for %d ms",
                          2 * BCH_STALL_MS);
                echo->failed = true;
                break;
            }
            continue;
        }
        if (zmq_msg_recv (&frame, echo->sock, ZMQ_DONTWAIT) < 0)
            continue;
        idle_since = act_mono_ms ();
        if (echo->mode == BCH_RAW) {
            if (zmq_msg_size (&frame) == 0)
                break;
            zmq_send (echo->sock, zmq_msg_data (&frame), zmq_msg_size (&frame), 0);
        }
        else if (s_echo_reply (echo, &frame))
            break;
    }
    zmq_msg_close (&frame);
    return NULL;
}

//  Reads one frame for the requester; marks the reply or the ack for `id`.
static int
s_trip_recv (bch_t *self, void *sock, const char *id, bool *replied, bool *acked, char *why,
             size_t why_len)
{
    zmq_pollitem_t item = { sock, 0, ZMQ_POLLIN, 0 };
    if (zmq_poll (&item, 1, BCH_STALL_MS) <= 0) {
        snprintf (why, why_len, "no reply within %d ms", BCH_STALL_MS);
        return -1;
    }
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    int rc = 0;
    if (zmq_msg_recv (&frame, sock, ZMQ_DONTWAIT) >= 0) {
        if (sock == self->ping) {
            *replied = true;
            zmq_msg_close (&frame);
            return 0;
        }
        msg_t *msg = msg_decode (zmq_msg_data (&frame), zmq_msg_size (&frame), MSG_DECODE_FULL, NULL);
        if (msg && strcmp (msg->corr, id) == 0) {
            if (msg->type->id == MSG_TYPE_ACK)
                *acked = true;
            else if (msg->type->id == MSG_TYPE_PONG)
                *replied = true;
            else if (msg->type->id == MSG_TYPE_ERROR) {
                s_error_text (zmq_msg_data (&frame), zmq_msg_size (&frame), why, why_len);
                rc = -1;
            }
        }
        msg_destroy (&msg);
    }
    zmq_msg_close (&frame);
    return rc;
}

//  One round trip; *ns is send -> reply (and ack when durable).
static int
s_trip (bch_t *self, bch_mode_t mode, int64_t *ns, char *why, size_t why_len)
{
    char id [MSG_ID_LEN + 1] = "";
    char *data = self->plain;
    size_t len = self->frame_len;
    void *sock = self->ping;
    if (mode != BCH_RAW) {
        msg_t *req = act_client_msg_new (self->tx, MSG_TYPE_PING, act_client_address (self->rx));
        req->durable = mode == BCH_DURABLE;
        memcpy (id, req->id, sizeof id);
        msg_encode (req, &data, &len, NULL);
        msg_destroy (&req);
        sock = act_client_socket (self->tx);
    }
    int64_t t0 = bch_now_ns ();
    int rc = zmq_send (sock, data, len, 0) < 0 ? -1 : 0;
    if (rc)
        snprintf (why, why_len, "cannot send: %s", zmq_strerror (errno));
    if (mode != BCH_RAW)
        free (data);
    bool replied = false, acked = mode != BCH_DURABLE;
    while (rc == 0 && !(replied && acked))
        rc = s_trip_recv (self, sock, id, &replied, &acked, why, why_len);
    *ns = bch_now_ns () - t0;
    return rc;
}

static int
s_cmp_i64 (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

//  Nearest-rank percentile of sorted samples, in microseconds.
static double
s_rank_us (const int64_t *sorted, size_t n, size_t pct)
{
    size_t rank = (n * pct + 99) / 100;
    return (double) sorted [rank ? rank - 1 : 0] / 1e3;
}

int
bch_round_trips (bch_t *self, bch_mode_t mode, size_t warmup, size_t count, bch_lat_t *lat,
                 char *why, size_t why_len)
{
    s_echo_t echo = { .bench = self, .mode = mode };
    echo.sock = mode == BCH_RAW ? self->pong : act_client_socket (self->rx);
    pthread_t thread;
    pthread_create (&thread, NULL, s_echo_main, &echo);
    int64_t *samples = act_calloc (count, sizeof *samples);
    int rc = 0;
    int64_t hb [2] = { 0, 0 };
    for (size_t i = 0; i < warmup + count && rc == 0; i++) {
        int64_t ns;
        rc = s_trip (self, mode, &ns, why, why_len);
        if (i >= warmup)
            samples [i - warmup] = ns;
        if (mode == BCH_RAW && (i & 1023) == 0) {
            s_keepalive (self->tx, &hb [0]);
            s_keepalive (self->rx, &hb [1]);
        }
    }
    if (mode == BCH_RAW)
        zmq_send (self->ping, "", 0, 0);
    else {
        msg_t *stop = act_client_msg_new (self->tx, MSG_TYPE_STOP, act_client_address (self->rx));
        act_client_send (self->tx, &stop);
    }
    pthread_join (thread, NULL);
    if (rc == 0 && echo.failed) {
        snprintf (why, why_len, "%s", echo.why);
        rc = -1;
    }
    if (rc == 0) {
        qsort (samples, count, sizeof *samples, s_cmp_i64);
        lat->p50 = s_rank_us (samples, count, 50);
        lat->p99 = s_rank_us (samples, count, 99);
        lat->max = (double) samples [count - 1] / 1e3;
        lat->count = count;
    }
    free (samples);
    bch_settle (self);
    return rc;
}

void
bch_settle (bch_t *self)
{
    void *socks [2] = { act_client_socket (self->tx), act_client_socket (self->rx) };
    int64_t hb [2] = { 0, 0 };
    for (int quiet = 0; quiet < 2;) {
        s_keepalive (self->tx, &hb [0]);
        s_keepalive (self->rx, &hb [1]);
        zmq_pollitem_t items [2] = {
            { socks [0], 0, ZMQ_POLLIN, 0 },
            { socks [1], 0, ZMQ_POLLIN, 0 },
        };
        if (zmq_poll (items, 2, 50) <= 0) {
            quiet++;
            continue;
        }
        quiet = 0;
        for (int i = 0; i < 2; i++) {
            zmq_msg_t frame;
            zmq_msg_init (&frame);
            while (zmq_msg_recv (&frame, socks [i], ZMQ_DONTWAIT) >= 0)
                ;
            zmq_msg_close (&frame);
        }
    }
}

static void *
s_raw_socket (void *ctx, int type, const char *bind_or_connect, bool bind)
{
    void *sock = zmq_socket (ctx, type);
    int hwm = BCH_HWM, linger = 0;
    zmq_setsockopt (sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt (sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt (sock, ZMQ_LINGER, &linger, sizeof linger);
    if ((bind ? zmq_bind (sock, bind_or_connect) : zmq_connect (sock, bind_or_connect)) != 0) {
        zmq_close (sock);
        return NULL;
    }
    return sock;
}

//  Binds `type` in context [1] on an ephemeral port and connects `peer_type`
//  from context [0] to it.
static int
s_raw_pair (bch_t *self, int type, int peer_type, void **bound, void **connected)
{
    char endpoint [256];
    size_t len = sizeof endpoint;
    *bound = s_raw_socket (self->raw_ctx [1], type, "tcp://127.0.0.1:*", true);
    if (!*bound || zmq_getsockopt (*bound, ZMQ_LAST_ENDPOINT, endpoint, &len))
        return -1;
    *connected = s_raw_socket (self->raw_ctx [0], peer_type, endpoint, false);
    return *connected ? 0 : -1;
}

int
bch_raw_open (bch_t *self, char *why, size_t why_len)
{
    self->raw_ctx [0] = zmq_ctx_new ();
    self->raw_ctx [1] = zmq_ctx_new ();
    if (s_raw_pair (self, ZMQ_PULL, ZMQ_PUSH, &self->pull, &self->push)
    ||  s_raw_pair (self, ZMQ_DEALER, ZMQ_DEALER, &self->pong, &self->ping)) {
        snprintf (why, why_len, "cannot open raw sockets: %s", zmq_strerror (errno));
        return -1;
    }
    return 0;
}

void
bch_raw_close (bch_t *self)
{
    void **socks [] = { &self->push, &self->pull, &self->ping, &self->pong };
    for (size_t i = 0; i < sizeof socks / sizeof socks [0]; i++)
        if (*socks [i]) {
            zmq_close (*socks [i]);
            *socks [i] = NULL;
        }
    for (int i = 0; i < 2; i++)
        if (self->raw_ctx [i]) {
            zmq_ctx_term (self->raw_ctx [i]);
            self->raw_ctx [i] = NULL;
        }
}
