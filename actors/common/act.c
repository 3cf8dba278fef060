//  act - the runtime every actor runs on
//
//  Owns the act_t of one running actor: its broker socket, hold queue,
//  outstanding requests, duplicate filter and counters. The actor's own
//  state is created and destroyed through the definition's hooks.
//
//  Connection state machine (one row per state, events across):
//
//      state        | welcome       | silence > liveness  | error ENOTREG
//      -------------+---------------+---------------------+--------------
//      DISCONNECTED | -             | -                   | -
//      HELLO_SENT   | -> READY      | -> DISCONNECTED     | -> DISCONNECTED
//      READY        | (ignored)     | -> DISCONNECTED     | -> DISCONNECTED
//
//  DISCONNECTED opens a new socket and sends hello once its back-off ends.

#include "act.h"
#include "act_internal.h"
#include "../../messages/msg_pack.h"
#include "../../messages/msg_logbatch.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

//  The signal self-pipe: the one file-scope mutable value allowed.
static int s_signal_pipe [2] = { -1, -1 };

static void
s_on_signal (int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char) sig;
    ssize_t rc = write (s_signal_pipe [1], &b, 1);
    (void) rc;
    errno = saved;
}

int
act_signal_fd (void)
{
    if (s_signal_pipe [0] >= 0)
        return s_signal_pipe [0];
    if (pipe (s_signal_pipe))
        return -errno;
    for (int i = 0; i < 2; i++) {
        fcntl (s_signal_pipe [i], F_SETFL, O_NONBLOCK);
        fcntl (s_signal_pipe [i], F_SETFD, FD_CLOEXEC);
    }
    struct sigaction sa;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset (&sa.sa_mask);
    sigaction (SIGTERM, &sa, NULL);
    sigaction (SIGINT, &sa, NULL);
    signal (SIGPIPE, SIG_IGN);
    return s_signal_pipe [0];
}

void
act_signal_watch (int sig)
{
    act_signal_fd ();
    struct sigaction sa;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigemptyset (&sa.sa_mask);
    sigaction (sig, &sa, NULL);
}

int64_t act_now (act_t *self) { return self->clock->now_ms (self->clock); }
act_rng_t *act_rng (act_t *self) { return &self->rng; }
const char *act_address (act_t *self) { return self->address; }
void act_stop (act_t *self) { self->stopping = true; }
const char *act_data_dir (act_t *self) { return self->cfg.data_dir; }

bool
act_msg_from_actor (const msg_t *msg, const char *name)
{
    size_t n = strlen (name);
    return strncmp (msg->from, name, n) == 0 && msg->from [n] == '@';
}
bool act_replaying (act_t *self) { return self->replaying; }

_Static_assert (ACT_POLLIN == ZMQ_POLLIN && ACT_POLLOUT == ZMQ_POLLOUT && ACT_POLLERR == ZMQ_POLLERR,
                "act's poll bits are zmq_poll's");

static int
s_watch_add (act_t *self, act_watch_t watch)
{
    if (self->watch_count >= ACT_WATCH_MAX)
        return ACT_EFULL;
    if (self->watch_count == self->watch_cap) {
        self->watch_cap = self->watch_cap ? self->watch_cap * 2 : 16;
        self->watches = act_realloc (self->watches, self->watch_cap * sizeof *self->watches);
    }
    self->watches [self->watch_count++] = watch;
    return 0;
}

int
act_watch_fd (act_t *self, int fd, act_fd_fn *fn, void *arg)
{
    return s_watch_add (self, (act_watch_t) { fd, ACT_POLLIN, fn, NULL, arg });
}

int
act_poll_fd (act_t *self, int fd, short events, act_poll_fn *fn, void *arg)
{
    return s_watch_add (self, (act_watch_t) { fd, events, NULL, fn, arg });
}

int
act_poll_events (act_t *self, int fd, short events)
{
    for (size_t i = 0; i < self->watch_count; i++)
        if (self->watches [i].fd == fd) {
            self->watches [i].events = events;
            return 0;
        }
    return ACT_ENOTFOUND;
}

//  True when `watch` is still registered (an earlier callback in the same
//  turn may have removed it).
static bool
s_watched (act_t *self, const act_watch_t *watch)
{
    for (size_t i = 0; i < self->watch_count; i++)
        if (self->watches [i].fd == watch->fd && self->watches [i].fn == watch->fn
        &&  self->watches [i].poll_fn == watch->poll_fn && self->watches [i].arg == watch->arg)
            return true;
    return false;
}

void
act_unwatch_fd (act_t *self, int fd)
{
    for (size_t i = 0; i < self->watch_count; i++)
        if (self->watches [i].fd == fd) {
            self->watches [i] = self->watches [--self->watch_count];
            return;
        }
}

static msg_t *
s_msg_new (act_t *self, act_rng_t *ids, msg_type_id_t type, const char *to)
{
    return msg_new_addressed (type, ids, self->address, to, act_now (self));
}

msg_t *
act_msg_new (act_t *self, msg_type_id_t type, const char *to)
{
    return s_msg_new (self, &self->rng, type, to);
}

#define FOLLOW_FNV_OFFSET 0xcbf29ce484222325ULL     // FNV-1a, 64-bit
#define FOLLOW_FNV_PRIME  0x100000001b3ULL

msg_t *
act_msg_follow (act_t *self, msg_type_id_t type, const char *to, const msg_t *cause)
{
    msg_t *msg = s_msg_new (self, &self->rng, type, to);
    uint64_t hash = FOLLOW_FNV_OFFSET;
    for (const char *p = cause->id; *p; p++)
        hash = (hash ^ (unsigned char) *p) * FOLLOW_FNV_PRIME;
    act_rng_t ids;
    act_rng_init (&ids, hash + self->follow_n++);
    char id [MSG_ID_LEN + 1];
    act_rng_id (&ids, id);
    msg_set_id (msg, id);
    msg_set_corr (msg, cause->id);
    return msg;
}

msg_t *
act_control_msg_new (act_t *self, msg_type_id_t type, const char *to)
{
    return s_msg_new (self, &self->control, type, to);
}

//  Puts an encoded frame on the wire, or in the hold queue before welcome.
static int
s_send_frame (act_t *self, char *data, size_t len, bool control)
{
    if (self->conn == ACT_CONN_READY || (control && self->sock)) {
        int rc = zmq_send (self->sock, data, len, ZMQ_DONTWAIT);
        free (data);
        if (rc < 0)
            return -errno;
        self->msgs_out++;
        self->last_send = act_mono_ms ();
        return 0;
    }
    if (self->outq_len >= ACT_OUTQ_MAX) {
        free (data);
        return ACT_EFULL;
    }
    self->outq [self->outq_len].data = data;
    self->outq [self->outq_len].len = len;
    self->outq_len++;
    return 0;
}

int
act_send_frame (act_t *self, char *data, size_t len)
{
    return s_send_frame (self, data, len, false);
}

int
act_send_internal (act_t *self, msg_t **msg_p, bool control)
{
    msg_t *msg = *msg_p;
    *msg_p = NULL;
    if (self->offline) {
        if (self->capture_len == self->capture_cap) {
            self->capture_cap = self->capture_cap ? self->capture_cap * 2 : 16;
            self->capture = act_realloc (self->capture, self->capture_cap * sizeof *self->capture);
        }
        self->capture [self->capture_len++] = msg;
        return 0;
    }
    //  Replies and stream messages were sent when the message was first
    //  handled; durable follow-ons go again, in case they never reached the
    //  broker (receivers drop them by id, or apply them idempotently).
    if (self->replaying && !msg->durable && !control) {
        msg_destroy (&msg);
        return 0;
    }
    char *data;
    size_t len;
    //  An encoding failure is returned: a handler's caller logs it.
    int rc = msg_encode (msg, &data, &len, NULL);
    bool durable = msg->durable && !control;
    if (rc == 0 && durable) {
        //  Kept until acked; before welcome it goes out with the resend.
        rc = act_durable_track (self, msg->id, data, len);
        if (rc == 0 && self->conn == ACT_CONN_READY)
            rc = s_send_frame (self, data, len, false);
        else
            free (data);
    }
    else if (rc == 0)
        rc = s_send_frame (self, data, len, control);
    msg_destroy (&msg);
    return rc;
}

int
act_send (act_t *self, msg_t **msg_p)
{
    return act_send_internal (self, msg_p, false);
}

int
act_reply (act_t *self, const msg_t *request, msg_t **reply_p)
{
    msg_set_to (*reply_p, request->from);
    msg_set_corr (*reply_p, request->id);
    return act_send (self, reply_p);
}

int
act_request (act_t *self, msg_t **msg_p, int timeout_ms, act_reply_fn *fn, void *arg)
{
    if (self->request_count >= ACT_REQUEST_MAX) {
        msg_destroy (msg_p);
        return ACT_EFULL;
    }
    act_pending_t *p = &self->requests [self->request_count++];
    memcpy (p->id, (*msg_p)->id, sizeof p->id);
    p->deadline = act_mono_ms () + timeout_ms;
    p->fn = fn;
    p->arg = arg;
    int rc = act_send (self, msg_p);
    if (rc)
        self->request_count--;
    return rc;
}

//  Finds and removes the request `corr` answers; returns false if none.
static bool
s_take_request (act_t *self, const char *corr, act_pending_t *out)
{
    for (size_t i = 0; i < self->request_count; i++)
        if (strcmp (self->requests [i].id, corr) == 0) {
            *out = self->requests [i];
            self->requests [i] = self->requests [--self->request_count];
            return true;
        }
    return false;
}

static void
s_expire_requests (act_t *self, int64_t now)
{
    for (size_t i = 0; i < self->request_count; ) {
        if (self->requests [i].deadline <= now) {
            act_pending_t p = self->requests [i];
            self->requests [i] = self->requests [--self->request_count];
            p.fn (self->state, self, NULL, ACT_ETIMEDOUT, p.arg);
        }
        else
            i++;
    }
}

static void
s_close_socket (act_t *self)
{
    if (self->sock) {
        zmq_close (self->sock);
        self->sock = NULL;
    }
    self->conn = ACT_CONN_DISCONNECTED;
}

static void
s_schedule_reconnect (act_t *self, const char *why)
{
    act_log_warn ("lost the broker (%s), reconnecting in %d ms", why, self->backoff_ms);
    s_close_socket (self);
    //  The broker re-sends what it held; a mark from the old connection
    //  could release those before they are handled.
    self->delivered_dirty = false;
    self->next_connect = act_mono_ms () + self->backoff_ms;
    //  Exponential back-off with jitter, capped.
    int next = self->backoff_ms * 2 + (int) (act_rng_next (&self->jitter) % 100);
    self->backoff_ms = next > ACT_BACKOFF_MAX_MS ? ACT_BACKOFF_MAX_MS : next;
}

static void
s_connect (act_t *self)
{
    self->sock = zmq_socket (self->zctx, ZMQ_DEALER);
    int hwm = 200000, linger = 2000;
    zmq_setsockopt (self->sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt (self->sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt (self->sock, ZMQ_LINGER, &linger, sizeof linger);
    //  Never without it: the hello carries the API token.
    if (self->cfg.curve && act_curve_client_apply (self->sock, self->cfg.curve) != 0) {
        act_log_error ("cannot set up CURVE: %s", zmq_strerror (errno));
        s_schedule_reconnect (self, "no CURVE");
        return;
    }
    if (zmq_connect (self->sock, self->cfg.broker)) {
        act_log_error ("cannot connect to '%s': %s", self->cfg.broker, zmq_strerror (errno));
        s_schedule_reconnect (self, "connect failed");
        return;
    }
    msg_t *hello = act_control_msg_new (self, MSG_TYPE_HELLO, "broker");
    msg_set_str (hello, "name", self->def->name);
    msg_set_str (hello, "instance", self->cfg.instance);
    msg_set_str (hello, "host", self->cfg.host);
    if (self->cfg.host_id)
        msg_set_str (hello, "host_id", self->cfg.host_id);
    //  The host's real clock, not an injected one: the broker compares it
    //  with its own.
    hello->ts = act_wall_ms ();
    msg_set_int (hello, "pid", getpid ());
    msg_set_str (hello, "role", "actor");
    msg_set_str (hello, "token", self->cfg.token ? self->cfg.token : "");
    msg_set_bool (hello, "singleton", self->def->singleton);
    msg_set_int (hello, "started", self->started_wall);
    json_t *topics = json_array ();
    for (const char *const *t = self->def->topics; t && *t; t++)
        json_array_append_new (topics, json_string (*t));
    msg_set_json (hello, "topics", topics);
    self->conn = ACT_CONN_HELLO_SENT;
    self->last_recv = act_mono_ms ();
    act_send_internal (self, &hello, true);
}

static void
s_flush_outq (act_t *self)
{
    size_t n = self->outq_len;
    self->outq_len = 0;
    for (size_t i = 0; i < n; i++)
        s_send_frame (self, self->outq [i].data, self->outq [i].len, false);
}

//  Formats into `out` (`size` bytes). Text cut short ends before the
//  character the cut fell in, and anything not valid UTF-8 ends it too, so
//  it can go out as a str field (the encoder refuses invalid UTF-8).
static void
s_vformat_utf8 (char *out, size_t size, const char *fmt, va_list ap)
{
    vsnprintf (out, size, fmt, ap);
    out [msg_utf8_prefix (out, strlen (out))] = 0;
}

int
act_reply_error (act_t *self, const msg_t *request, int code, const char *fmt, ...)
{
    char reason [ACT_REASON_MAX];
    va_list ap;
    va_start (ap, fmt);
    s_vformat_utf8 (reason, sizeof reason, fmt, ap);
    va_end (ap);
    msg_t *err = act_msg_new (self, MSG_TYPE_ERROR, NULL);
    msg_set_int (err, "code", code);
    msg_set_str (err, "reason", reason);
    msg_set_str (err, "type", request->type->name);
    return act_reply (self, request, &err);
}

int
act_emit_log (act_t *self, const char *app, const char *process, const char *fmt, ...)
{
    char text [ACT_REASON_MAX];
    va_list ap;
    va_start (ap, fmt);
    s_vformat_utf8 (text, sizeof text, fmt, ap);
    va_end (ap);
    msg_t *batch = act_msg_new (self, MSG_TYPE_LOG_BATCH, "log-plex");
    msg_set_str (batch, "app", app);
    msg_logbatch_t lines = { 0 };
    int rc = msg_logbatch_add (&lines, act_now (self) * 1000, "dynod", process, text,
                               strlen (text));
    if (rc == 0)
        msg_set_json (batch, "lines", msg_logbatch_take (&lines));
    msg_logbatch_release (&lines);
    if (rc) {
        msg_destroy (&batch);
        return rc;
    }
    return act_send (self, &batch);
}

static void
s_send_error (act_t *self, const msg_t *to, int code)
{
    if (to->type->kind != MSG_KIND_COMMAND)
        return;                 // never answer an answer or a control: no error storms
    act_reply_error (self, to, code, "%s", act_strerror (code));
}

static int
s_on_status (act_t *self, msg_t *msg)
{
    msg_t *reply = act_msg_new (self, MSG_TYPE_STATUS_REPLY, NULL);
    msg_set_str (reply, "name", self->def->name);
    msg_set_str (reply, "instance", self->cfg.instance);
    msg_set_str (reply, "host", self->cfg.host);
    msg_set_int (reply, "pid", getpid ());
    msg_set_str (reply, "state", self->stopping ? "stopping" : "up");
    msg_set_int (reply, "uptime_ms", act_mono_ms () - self->started_mono);
    msg_set_int (reply, "msgs_in", (int64_t) self->msgs_in);
    msg_set_int (reply, "msgs_out", (int64_t) self->msgs_out + 1);
    msg_set_int (reply, "last_seq", (int64_t) self->last_seq);
    json_t *detail = json_object ();
    if (self->def->status)
        self->def->status (self->state, detail);
    msg_set_json (reply, "detail", detail);
    return act_reply (self, msg, &reply);
}

static int
s_on_ping (act_t *self, msg_t *msg)
{
    msg_t *pong = act_msg_new (self, MSG_TYPE_PONG, NULL);
    json_t *data = json_object_get (msg->body, "data");
    if (data)
        msg_set_json (pong, "data", json_incref (data));
    return act_reply (self, msg, &pong);
}

//  Control traffic the runtime handles itself. Returns true when consumed.
static bool
s_on_runtime (act_t *self, msg_t *msg)
{
    switch (msg->type->id) {
        case MSG_TYPE_WELCOME:
            if (self->conn == ACT_CONN_HELLO_SENT) {
                self->conn = ACT_CONN_READY;
                self->backoff_ms = ACT_BACKOFF_MIN_MS;
                //  The broker drops peers silent for `liveness` of its own
                //  intervals: keep to its pace when it is faster than ours.
                int64_t hb = msg_int (msg, "heartbeat_ms", 0);
                if (hb > 0 && hb < self->cfg.heartbeat_ms)
                    self->cfg.heartbeat_ms = (int) hb;
                act_log_info ("registered with broker as %s", self->address);
                //  Sequence numbers belong to one journal: after the broker
                //  starts on a new one, what we applied says nothing of it.
                const char *journal = msg_str (msg, "broker", "");
                if (self->broker_id [0] && strcmp (self->broker_id, journal) != 0) {
                    act_log_warn ("the broker's journal changed (%s, was %s): sequence numbers start again",
                                  journal, self->broker_id);
                    self->restored_seq = 0;
                    self->last_seq = 0;
                    self->snap.due = true;      // the broker's copy is of the old one
                }
                snprintf (self->broker_id, sizeof self->broker_id, "%s", journal);
                act_restore_start (self);
                act_durable_resend (self);
                s_flush_outq (self);
            }
            return true;
        case MSG_TYPE_HEARTBEAT:
            return true;
        case MSG_TYPE_ACK:
            act_durable_on_ack (self, msg->corr);
            return true;
        case MSG_TYPE_ERROR:
            if (msg_int (msg, "code", 0) == ACT_ENOTREG || self->conn == ACT_CONN_HELLO_SENT) {
                act_log_warn ("broker refused us: %s", msg_str (msg, "reason", "?"));
                s_schedule_reconnect (self, "refused");
                return true;
            }
            //  An error answering one of our requests (or a snapshot's).
            return act_snapshot_on_reply (self, msg);
        case MSG_TYPE_SNAPSHOT_SAVED:
        case MSG_TYPE_SNAPSHOT_PART:
            return act_snapshot_on_reply (self, msg);
        case MSG_TYPE_JOURNAL_BATCH:
            return act_restore_on_batch (self, msg);
        case MSG_TYPE_STATUS:
            s_on_status (self, msg);
            return true;
        case MSG_TYPE_PING:
            s_on_ping (self, msg);
            return true;
        case MSG_TYPE_STOP:
            act_log_info ("stop requested by %s", msg->from);
            self->stopping = true;
            return true;
        default:
            return false;
    }
}

//  Calls the actor's handler for `msg`; a failure is logged and answered
//  with an `error`.
static void
s_route (act_t *self, msg_t *msg)
{
    act_handler_fn *fn = NULL;
    for (size_t i = 0; i < self->def->route_count; i++)
        if (self->def->routes [i].type == msg->type->id)
            fn = self->def->routes [i].fn;
    int rc = fn ? fn (self->state, self, msg) : ACT_ENOROUTE;
    if (rc) {
        if (!fn)
            act_log_warn ("no handler for '%s' from %s", msg->type->name, msg->from);
        else
            act_log_warn ("handling '%s' from %s failed: %s", msg->type->name,
                          msg->from, act_strerror (rc));
        s_send_error (self, msg, rc);
    }
}

void
act_dispatch (act_t *self, msg_t *msg)
{
    //  Durable messages arrive in sequence order per destination, so one
    //  watermark drops every redelivery; others are filtered by id.
    //  Repeats are dropped by id (a redelivery, or a sender's resend after
    //  a lost ack); what a restored snapshot already holds, by seq.
    bool duplicate = act_seen_add (&self->seen, msg->id);
    if (msg->seq && msg->seq <= self->restored_seq)
        duplicate = true;
    //  A journaled message is handled at its own timestamp, live as on a
    //  replay (which can only know the recorded one), so that act_now, and
    //  the state handlers derive from it, come out the same both times.
    bool pinned = msg->seq != 0;
    if (pinned) {
        act_clock_fixed_init (&self->replay_clock, msg->ts);
        self->clock = &self->replay_clock;
    }
    self->follow_n = 0;
    if (!duplicate && !s_on_runtime (self, msg)) {
        act_pending_t pending;
        if (msg->corr [0] && s_take_request (self, msg->corr, &pending)) {
            int rc = msg->type->id == MSG_TYPE_ERROR ? (int) msg_int (msg, "code", ACT_EPROTO) : 0;
            pending.fn (self->state, self, msg, rc, pending.arg);
        }
        else
            s_route (self, msg);
    }
    if (pinned)
        self->clock = self->cfg.clock;
    if (msg->seq) {
        if (!duplicate && msg->seq > self->last_seq)
            self->last_seq = msg->seq;
        act_durable_received (self, msg);
        if (!duplicate)
            act_snapshot_maybe (self);
    }
}


static void
s_recv_all (act_t *self)
{
    //  Bounded so timers and signals are looked at under load.
    for (int n = 0; n < 1000 && self->sock; n++) {
        zmq_msg_t frame;
        zmq_msg_init (&frame);
        if (zmq_msg_recv (&frame, self->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&frame);
            break;
        }
        self->msgs_in++;
        self->last_recv = act_mono_ms ();
        msg_error_t err;
        msg_t *msg = msg_decode (zmq_msg_data (&frame), zmq_msg_size (&frame), MSG_DECODE_FULL, &err);
        zmq_msg_close (&frame);
        if (!msg) {
            act_log_warn ("dropped a malformed message from the broker: %s", err.reason);
            continue;
        }
        if (act_restore_hold (self, &msg))
            continue;
        act_dispatch (self, msg);
        msg_destroy (&msg);
    }
    act_flush_delivered (self);
}

static void
s_tick (act_t *self)
{
    int64_t now = act_mono_ms ();
    if (self->conn == ACT_CONN_DISCONNECTED && now >= self->next_connect)
        s_connect (self);
    if (self->conn != ACT_CONN_DISCONNECTED
    &&  now - self->last_recv > (int64_t) self->cfg.heartbeat_ms * self->cfg.liveness) {
        s_schedule_reconnect (self, "heartbeat timeout");
        return;
    }
    if (self->conn == ACT_CONN_READY && now - self->last_send >= self->cfg.heartbeat_ms) {
        msg_t *hb = act_control_msg_new (self, MSG_TYPE_HEARTBEAT, "broker");
        act_send_internal (self, &hb, true);
    }
    s_expire_requests (self, now);
}

int
act_init (act_t *self, const act_def_t *def, const act_config_t *cfg)
{
    self->def = def;
    self->cfg = *cfg;
    if (!self->cfg.host) {
        gethostname (self->hostname, sizeof self->hostname - 1);
        self->cfg.host = self->hostname;
    }
    if (!self->cfg.instance)
        self->cfg.instance = self->cfg.host;
    if (!self->cfg.clock)
        self->cfg.clock = act_clock_real ();
    if (!self->cfg.heartbeat_ms)
        self->cfg.heartbeat_ms = ACT_HEARTBEAT_MS;
    if (!self->cfg.liveness)
        self->cfg.liveness = ACT_LIVENESS;
    self->clock = self->cfg.clock;
    uint64_t seed = self->cfg.seed ? self->cfg.seed : act_seed_from_os ();
    act_rng_init (&self->rng, seed);
    //  From the same seed, so a seeded run is reproducible, but a stream of
    //  its own (see act_control_msg_new).
    act_rng_t mix;
    act_rng_init (&mix, ~seed);
    act_rng_init (&self->control, act_rng_next (&mix));
    act_rng_init (&self->jitter, act_seed_from_os ());
    int n = snprintf (self->address, sizeof self->address, "%s@%s", def->name, self->cfg.instance);
    char name [MSG_ADDR_MAX], instance [MSG_ADDR_MAX];
    if (n < 0 || (size_t) n >= sizeof self->address
    ||  msg_addr_split (self->address, name, instance) || !instance [0])
        return MSG_EADDR;
    self->backoff_ms = ACT_BACKOFF_MIN_MS;
    self->started_mono = act_mono_ms ();
    self->started_wall = act_wall_ms ();
    self->zctx = zmq_ctx_new ();
    self->outq = act_calloc (ACT_OUTQ_MAX, sizeof *self->outq);
    act_seen_init (&self->seen);
    self->requests = act_calloc (ACT_REQUEST_MAX, sizeof *self->requests);
    return 0;
}

void
act_release (act_t *self)
{
    //  The actor's destroy first: it may still unwatch fds or send.
    if (self->state && self->def->destroy)
        self->def->destroy (&self->state);
    free (self->watches);
    for (size_t i = 0; i < self->capture_len; i++)
        msg_destroy (&self->capture [i]);
    free (self->capture);
    for (size_t i = 0; i < self->outq_len; i++)
        free (self->outq [i].data);
    for (size_t i = 0; i < self->restore_held_len; i++)
        msg_destroy (&self->restore_held [i]);
    free (self->restore_held);
    act_snapshot_release (self);
    free (self->outq);
    free (self->requests);
    act_seen_release (&self->seen);
    act_durable_release (self);
    s_close_socket (self);
    zmq_ctx_term (self->zctx);
}

int
act_run (const act_def_t *def, const act_config_t *cfg)
{
    act_t self_storage;
    act_t *self = &self_storage;
    memset (self, 0, sizeof *self);
    int rc = act_init (self, def, cfg);
    if (rc) {
        act_log_error ("bad actor address '%s@%s'", def->name, cfg->instance ? cfg->instance : "(host)");
        return rc;
    }
    int sigfd = act_signal_fd ();
    self->state = def->create ? def->create (self) : NULL;
    rc = act_restore_load (self);
    if (rc) {
        act_release (self);
        return rc;
    }
    s_connect (self);
    while (!self->stopping) {
        //  Watched fds follow at 2 whether or not there is a socket; a
        //  callback may add or remove watches, so this turn works on a copy.
        size_t watched = self->watch_count;
        act_watch_t *watches = act_malloc ((watched + 1) * sizeof *watches);
        if (watched)
            memcpy (watches, self->watches, watched * sizeof *watches);
        zmq_pollitem_t *items = act_calloc (2 + watched, sizeof *items);
        items [0] = (zmq_pollitem_t) { NULL, sigfd, ZMQ_POLLIN, 0 };
        items [1] = self->sock ? (zmq_pollitem_t) { self->sock, 0, ZMQ_POLLIN, 0 }
                               : (zmq_pollitem_t) { NULL, -1, 0, 0 };
        int count = self->sock ? 2 : 1;
        for (size_t i = 0; i < watched; i++)
            items [2 + i] = (zmq_pollitem_t) { NULL, watches [i].fd, watches [i].events, 0 };
        if (zmq_poll (items, 2 + (int) watched, self->cfg.heartbeat_ms / 4) < 0 && errno != EINTR) {
            free (items);
            free (watches);
            break;
        }
        for (size_t i = 0; i < watched; i++) {
            short revents = items [2 + i].revents;
            if (!revents || !s_watched (self, &watches [i]))
                continue;
            if (watches [i].poll_fn)
                watches [i].poll_fn (self->state, self, watches [i].fd, revents, watches [i].arg);
            else if (revents & (ZMQ_POLLIN | ZMQ_POLLERR))
                watches [i].fn (self->state, self, watches [i].fd, watches [i].arg);
        }
        bool sock_ready = count == 2 && (items [1].revents & ZMQ_POLLIN);
        bool signalled = items [0].revents & ZMQ_POLLIN;
        free (items);
        free (watches);
        if (signalled) {
            unsigned char b;
            while (read (sigfd, &b, 1) == 1)
                ;
            act_log_info ("signal %d, stopping", b);
            self->stopping = true;
        }
        if (sock_ready)
            s_recv_all (self);
        if (!self->stopping)
            s_tick (self);
        //  Not on the empty state a restore has yet to fill.
        if (!self->stopping && self->def->tick && !act_snapshot_pending (self))
            self->def->tick (self->state, self);
    }
    act_snapshot_write (self);
    if (self->conn == ACT_CONN_READY) {
        msg_t *bye = act_control_msg_new (self, MSG_TYPE_BYE, "broker");
        act_send_internal (self, &bye, true);
    }
    act_log_info ("stopped");
    act_release (self);
    return 0;
}
