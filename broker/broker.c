//  brk - the dynod broker: routing, group commit and heartbeats
//
//  Owns the ROUTER socket, the journal, the directory and the staged batch.
//  Single-threaded loop:
//
//      poll -> drain up to BRK_DRAIN_MAX frames:
//                  bad frame        -> count, `error` to sender, drop
//                  to broker        -> control.c handler table
//                  durable          -> seq, stage in the LevelDB batch
//                  otherwise        -> forward at once
//           -> commit the batch with one fsync, then ack each sender and
//              deliver each staged message (held until `delivered`)
//           -> heartbeats out, expire silent peers

#include "broker_internal.h"
#include "../actors/common/act.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *s_reject_names [BRK_REJ_COUNT] = {
    "malformed", "unknown_type", "too_big", "multipart", "not_registered", "spoofed",
    "auth", "singleton", "peers_full", "no_route", "held_full", "bad_control",
};

const char *brk_reject_name (brk_reject_t why) { return s_reject_names [why]; }

int
brk_send_raw (brk_t *self, const void *rid, size_t rid_len, const void *data, size_t len)
{
    if (zmq_send (self->router, rid, rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -errno;
    if (zmq_send (self->router, data, len, ZMQ_DONTWAIT) < 0)
        return -errno;
    self->msgs_out++;
    return 0;
}

static int
s_send_peer (brk_t *self, brk_peer_t *peer, const void *data, size_t len)
{
    int rc = brk_send_raw (self, peer->rid, peer->rid_len, data, len);
    if (rc == 0) {
        peer->msgs_out++;
        peer->last_sent = act_mono_ms ();
    }
    return rc;
}

msg_t *
brk_msg_new (brk_t *self, msg_type_id_t type, const char *to)
{
    return msg_new_addressed (type, &self->rng, self->address, to, act_wall_ms ());
}

int
brk_send_msg (brk_t *self, const void *rid, size_t rid_len, msg_t **msg_p)
{
    char *data;
    size_t len;
    int rc = msg_encode (*msg_p, &data, &len, NULL);
    msg_destroy (msg_p);
    if (rc)
        return rc;
    brk_peer_t *peer = brk_directory_by_rid (self->dir, rid, rid_len);
    rc = peer ? s_send_peer (self, peer, data, len) : brk_send_raw (self, rid, rid_len, data, len);
    free (data);
    return rc;
}

void
brk_reject (brk_t *self, const void *rid, size_t rid_len, brk_reject_t why,
            const char *corr, int code, const char *reason, const char *type)
{
    self->rejected [why]++;
    act_log_debug ("rejected input: %s (%s)", brk_reject_name (why), reason);
    brk_peer_t *peer = brk_directory_by_rid (self->dir, rid, rid_len);
    msg_t *err = brk_msg_new (self, MSG_TYPE_ERROR, peer ? peer->address : "unknown@peer");
    if (corr)
        msg_set_corr (err, corr);
    msg_set_int (err, "code", code);
    msg_set_str (err, "reason", reason);
    if (type)
        msg_set_str (err, "type", type);
    brk_send_msg (self, rid, rid_len, &err);
}

void
brk_publish (brk_t *self, msg_t **msg_p, const char *topic)
{
    char *data;
    size_t len;
    int rc = msg_encode (*msg_p, &data, &len, NULL);
    msg_destroy (msg_p);
    if (rc)
        return;
    for (size_t i = 0; i < brk_directory_count (self->dir); i++) {
        brk_peer_t *peer = brk_directory_at (self->dir, i);
        if (brk_peer_subscribed (peer, topic))
            s_send_peer (self, peer, data, len);
    }
    free (data);
}

//  Which live peer a non-topic address goes to, or NULL.
static brk_peer_t *
s_resolve (brk_t *self, const char *to)
{
    return strchr (to, '@') ? brk_directory_by_address (self->dir, to)
                            : brk_directory_pick (self->dir, to);
}

static void
s_deliver_held (brk_t *self, brk_peer_t *peer, brk_held_t *held)
{
    char *data;
    size_t len;
    if (brk_journal_get (self->journal, held->seq, &data, &len))
        return;
    if (s_send_peer (self, peer, data, len) == 0)
        brk_held_assign (self->dir, held, peer->address);
    free (data);
}

void
brk_redeliver (brk_t *self, brk_peer_t *peer)
{
    for (size_t i = 0; i < brk_held_count (self->dir); i++) {
        brk_held_t *held = brk_held_at (self->dir, i);
        //  Not with a live peer already (this one included: it has it), and
        //  addressed to this peer or to its bare name.
        bool free_now = !held->assigned || !brk_directory_by_address (self->dir, held->assigned);
        if (free_now && (strcmp (held->dest, peer->address) == 0 || strcmp (held->dest, peer->name) == 0))
            s_deliver_held (self, peer, held);
    }
}

void
brk_peer_drop (brk_t *self, brk_peer_t *peer, const char *reason)
{
    bool actor = peer->actor;
    char name [MSG_ADDR_MAX], address [MSG_ADDR_MAX];
    snprintf (name, sizeof name, "%s", peer->name);
    snprintf (address, sizeof address, "%s", peer->address);
    msg_t *event = NULL;
    if (actor) {
        act_log_info ("actor %s down (%s)", address, reason);
        event = brk_msg_new (self, MSG_TYPE_ACTOR_DOWN, "topic:actor.down");
        msg_set_str (event, "name", peer->name);
        msg_set_str (event, "instance", peer->instance);
        msg_set_str (event, "host", peer->host);
        msg_set_int (event, "pid", peer->pid);
        msg_set_str (event, "reason", reason);
    }
    brk_directory_remove (self->dir, peer);
    if (!actor)
        return;
    brk_publish (self, &event, "actor.down");
    //  Messages it held for a name go to another live instance, if any.
    brk_peer_t *other = brk_directory_other (self->dir, name, NULL);
    for (size_t i = 0; i < brk_held_count (self->dir); i++) {
        brk_held_t *held = brk_held_at (self->dir, i);
        if (held->assigned && strcmp (held->assigned, address) == 0) {
            brk_held_assign (self->dir, held, NULL);
            if (other && strcmp (held->dest, name) == 0)
                s_deliver_held (self, other, held);
        }
    }
}

static void
s_forward (brk_t *self, brk_peer_t *from, msg_t *msg, zmq_msg_t *frame)
{
    const void *data = zmq_msg_data (frame);
    size_t len = zmq_msg_size (frame);
    if (msg_addr_is_topic (msg->to)) {
        for (size_t i = 0; i < brk_directory_count (self->dir); i++) {
            brk_peer_t *peer = brk_directory_at (self->dir, i);
            if (brk_peer_subscribed (peer, msg->to + 6))
                s_send_peer (self, peer, data, len);
        }
        return;
    }
    brk_peer_t *peer = s_resolve (self, msg->to);
    if (peer)
        s_send_peer (self, peer, data, len);
    else if (msg->type->kind == MSG_KIND_COMMAND)
        brk_reject (self, from->rid, from->rid_len, BRK_REJ_NO_ROUTE, msg->id, ACT_ENOROUTE,
                    "no live actor for that address", msg->type->name);
    else
        self->rejected [BRK_REJ_NO_ROUTE]++;    // replies to departed peers
}

static void
s_stage (brk_t *self, brk_peer_t *from, msg_t *msg, zmq_msg_t *frame)
{
    bool topic = msg_addr_is_topic (msg->to);
    if (!topic && brk_held_count (self->dir) >= BRK_HELD_MAX) {
        brk_reject (self, from->rid, from->rid_len, BRK_REJ_HELD_FULL, msg->id, ACT_EFULL,
                    "too many durable messages held; try again later", msg->type->name);
        return;
    }
    //  The seq goes into the frame in place; a frame in another encoder's
    //  layout is re-encoded with it, which can fail (e.g. float32 values
    //  grow past the size limit): then nothing is staged or consumed.
    uint64_t seq = brk_journal_head (self->journal) + 1;
    zmq_msg_t stamped;
    zmq_msg_init (&stamped);
    if (msg_stamp_seq (zmq_msg_data (frame), zmq_msg_size (frame), seq) == 0)
        zmq_msg_move (&stamped, frame);
    else {
        msg_error_t err = { 0, "" };
        msg_t *full = msg_decode (zmq_msg_data (frame), zmq_msg_size (frame), MSG_DECODE_FULL, &err);
        char *data = NULL;
        size_t len = 0;
        int rc = full ? 0 : err.code;
        if (full) {
            full->seq = seq;
            rc = msg_encode (full, &data, &len, &err);
        }
        msg_destroy (&full);
        if (rc) {
            zmq_msg_close (&stamped);
            brk_reject (self, from->rid, from->rid_len, BRK_REJ_TOO_BIG, msg->id, rc,
                        "cannot journal this message in canonical form", msg->type->name);
            return;
        }
        zmq_msg_init_size (&stamped, len);
        memcpy (zmq_msg_data (&stamped), data, len);
        free (data);
    }
    brk_journal_next_seq (self->journal);
    brk_staged_t *st = &self->staged [self->staged_count++];
    zmq_msg_init (&st->frame);
    zmq_msg_move (&st->frame, &stamped);
    zmq_msg_close (&stamped);
    st->seq = seq;
    memcpy (st->rid, from->rid, from->rid_len);
    st->rid_len = from->rid_len;
    memcpy (st->id, msg->id, sizeof st->id);
    memcpy (st->to, msg->to, sizeof st->to);
    brk_journal_stage (self->journal, seq, zmq_msg_data (&st->frame), zmq_msg_size (&st->frame),
                       topic ? NULL : msg->to);
    if (!topic)
        brk_held_push (self->dir, seq, msg->to);
}

//  Commits the staged batch with one fsync, then acks and delivers.
static void
s_commit (brk_t *self)
{
    if (!brk_journal_has_staged (self->journal))
        return;
    char reason [256];
    bool durable = self->staged_count > 0;
    int rc = brk_journal_commit (self->journal, durable && !self->cfg.no_sync, reason, sizeof reason);
    if (rc)
        act_log_error ("%s", reason);
    for (size_t i = 0; i < self->staged_count; i++) {
        brk_staged_t *st = &self->staged [i];
        if (rc) {
            brk_held_release (self->dir, st->seq);
            brk_reject (self, st->rid, st->rid_len, BRK_REJ_MALFORMED, st->id, ACT_ESTORE,
                        "the journal could not be written", NULL);
            zmq_msg_close (&st->frame);
            continue;
        }
        brk_peer_t *sender = brk_directory_by_rid (self->dir, st->rid, st->rid_len);
        if (sender) {
            msg_t *ack = brk_msg_new (self, MSG_TYPE_ACK, sender->address);
            msg_set_corr (ack, st->id);
            msg_set_int (ack, "seq", (int64_t) st->seq);
            brk_send_msg (self, st->rid, st->rid_len, &ack);
        }
        const void *data = zmq_msg_data (&st->frame);
        size_t len = zmq_msg_size (&st->frame);
        if (msg_addr_is_topic (st->to)) {
            for (size_t p = 0; p < brk_directory_count (self->dir); p++) {
                brk_peer_t *peer = brk_directory_at (self->dir, p);
                if (brk_peer_subscribed (peer, st->to + 6))
                    s_send_peer (self, peer, data, len);
            }
        }
        else {
            brk_peer_t *peer = s_resolve (self, st->to);
            brk_held_t *held = peer ? brk_held_find (self->dir, st->seq) : NULL;
            if (held && s_send_peer (self, peer, data, len) == 0)
                brk_held_assign (self->dir, held, peer->address);
        }
        zmq_msg_close (&st->frame);
    }
    self->staged_count = 0;
}

//  Handles one frame from connection `rid`.
static void
s_on_frame (brk_t *self, const void *rid, size_t rid_len, zmq_msg_t *frame)
{
    msg_error_t err = { 0, "" };
    const void *data = zmq_msg_data (frame);
    size_t len = zmq_msg_size (frame);
    brk_peer_t *peer = brk_directory_by_rid (self->dir, rid, rid_len);
    msg_t *msg = msg_decode (data, len, MSG_DECODE_BROKER, &err);
    if (!msg) {
        brk_reject_t why = err.code == MSG_EBADTYPE ? BRK_REJ_UNKNOWN_TYPE
                         : err.code == MSG_ETOOBIG ? BRK_REJ_TOO_BIG : BRK_REJ_MALFORMED;
        brk_reject (self, rid, rid_len, why, NULL, err.code, err.reason, NULL);
        return;
    }
    if (!peer && msg->type->id != MSG_TYPE_HELLO) {
        brk_reject (self, rid, rid_len, BRK_REJ_NOT_REGISTERED, msg->id, ACT_ENOTREG,
                    "say hello first", msg->type->name);
    }
    else if (peer && strcmp (msg->from, peer->address) != 0) {
        brk_reject (self, rid, rid_len, BRK_REJ_SPOOFED, msg->id, ACT_ESPOOF,
                    "sender address is not the one this connection registered", msg->type->name);
    }
    else if (msg->body) {
        //  Decoded with its body: one of the broker's own (control) messages.
        if (peer) {
            peer->msgs_in++;
            peer->last_seen = act_mono_ms ();
        }
        brk_control (self, peer, rid, rid_len, msg);
    }
    else {
        peer->msgs_in++;
        peer->last_seen = act_mono_ms ();
        if (msg->durable)
            s_stage (self, peer, msg, frame);
        else
            s_forward (self, peer, msg, frame);
    }
    msg_destroy (&msg);
}

//  Receives up to BRK_DRAIN_MAX messages without blocking.
static void
s_drain (brk_t *self)
{
    for (int n = 0; n < BRK_DRAIN_MAX && self->staged_count < BRK_DRAIN_MAX; n++) {
        zmq_msg_t rid, frame;
        zmq_msg_init (&rid);
        if (zmq_msg_recv (&rid, self->router, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&rid);
            break;
        }
        zmq_msg_init (&frame);
        zmq_msg_recv (&frame, self->router, 0);
        self->msgs_in++;
        if (zmq_msg_more (&frame)) {
            //  One frame per message: swallow the rest and refuse it.
            zmq_msg_t extra;
            zmq_msg_init (&extra);
            while (zmq_msg_more (&frame) || zmq_msg_more (&extra)) {
                zmq_msg_close (&extra);
                zmq_msg_init (&extra);
                if (zmq_msg_recv (&extra, self->router, 0) < 0 || !zmq_msg_more (&extra))
                    break;
                zmq_msg_close (&frame);
                zmq_msg_init (&frame);
            }
            zmq_msg_close (&extra);
            brk_reject (self, zmq_msg_data (&rid), zmq_msg_size (&rid), BRK_REJ_MULTIPART, NULL,
                        MSG_EMALFORMED, "a message must be exactly one frame", NULL);
        }
        else if (zmq_msg_size (&rid) <= BRK_RID_MAX)
            s_on_frame (self, zmq_msg_data (&rid), zmq_msg_size (&rid), &frame);
        zmq_msg_close (&frame);
        zmq_msg_close (&rid);
    }
    s_commit (self);
}

static void
s_tick (brk_t *self)
{
    int64_t now = act_mono_ms ();
    int64_t dead_after = (int64_t) self->cfg.heartbeat_ms * self->cfg.liveness;
    for (size_t i = 0; i < brk_directory_count (self->dir); ) {
        brk_peer_t *peer = brk_directory_at (self->dir, i);
        if (now - peer->last_seen > dead_after) {
            brk_peer_drop (self, peer, "heartbeat");
            continue;           // swap-remove put another peer at i
        }
        if (now - peer->last_sent >= self->cfg.heartbeat_ms) {
            msg_t *hb = brk_msg_new (self, MSG_TYPE_HEARTBEAT, peer->address);
            brk_send_msg (self, peer->rid, peer->rid_len, &hb);
        }
        i++;
    }
}

static bool
s_load_held (void *arg, uint64_t seq, const void *data, size_t len)
{
    brk_t *self = arg;
    char *dest = act_strndup (data, len);
    brk_held_push (self->dir, seq, dest);
    free (dest);
    return true;
}

static int
s_open (brk_t *self)
{
    char path [4096], reason [512];
    snprintf (path, sizeof path, "%s/journal", self->cfg.data_dir);
    int rc = act_mkdir_p (self->cfg.data_dir, 0700);
    if (rc) {
        act_log_error ("cannot create '%s': %s", self->cfg.data_dir, act_strerror (rc));
        return rc;
    }
    self->journal = brk_journal_open (path, true, reason, sizeof reason);
    if (!self->journal) {
        act_log_error ("%s", reason);
        return ACT_ESTORE;
    }
    brk_journal_scan_held (self->journal, s_load_held, self);
    snprintf (self->address, sizeof self->address, "broker@%.16s", brk_journal_instance (self->journal));
    self->zctx = zmq_ctx_new ();
    self->router = zmq_socket (self->zctx, ZMQ_ROUTER);
    int on = 1, hwm = 1000000, linger = 500;
    zmq_setsockopt (self->router, ZMQ_ROUTER_MANDATORY, &on, sizeof on);
    zmq_setsockopt (self->router, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt (self->router, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt (self->router, ZMQ_LINGER, &linger, sizeof linger);
    int64_t maxmsg = MSG_MAX_SIZE + 1024;
    zmq_setsockopt (self->router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    if (zmq_bind (self->router, self->cfg.endpoint)) {
        act_log_error ("cannot bind '%s': %s", self->cfg.endpoint, zmq_strerror (errno));
        return -errno;
    }
    return 0;
}

static void
s_close (brk_t *self)
{
    for (size_t i = 0; i < self->staged_count; i++)
        zmq_msg_close (&self->staged [i].frame);
    if (self->router)
        zmq_close (self->router);
    if (self->zctx)
        zmq_ctx_term (self->zctx);
    brk_journal_destroy (&self->journal);
    brk_directory_destroy (&self->dir);
    free (self->staged);
}

int
brk_run (const brk_config_t *cfg)
{
    brk_t self_storage;
    brk_t *self = &self_storage;
    memset (self, 0, sizeof *self);
    self->cfg = *cfg;
    if (!self->cfg.endpoint)
        self->cfg.endpoint = BRK_DEFAULT_ENDPOINT;
    if (!self->cfg.heartbeat_ms)
        self->cfg.heartbeat_ms = ACT_HEARTBEAT_MS;
    if (!self->cfg.liveness)
        self->cfg.liveness = ACT_LIVENESS;
    gethostname (self->host, sizeof self->host - 1);
    act_rng_init (&self->rng, act_seed_from_os ());
    self->started_mono = act_mono_ms ();
    self->dir = brk_directory_new ();
    self->staged = act_calloc (BRK_DRAIN_MAX, sizeof *self->staged);
    int rc = s_open (self);
    if (rc) {
        s_close (self);
        return rc;
    }
    int sigfd = act_signal_fd ();
    printf ("broker ready %s journal_head=%llu\n", self->cfg.endpoint,
            (unsigned long long) brk_journal_head (self->journal));
    fflush (stdout);
    act_log_info ("listening on %s, journal head %llu, %zu held", self->cfg.endpoint,
                  (unsigned long long) brk_journal_head (self->journal), brk_held_count (self->dir));
    int64_t next_tick = act_mono_ms ();
    while (!self->stopping) {
        zmq_pollitem_t items [2] = {
            { self->router, 0, ZMQ_POLLIN, 0 },
            { NULL, sigfd, ZMQ_POLLIN, 0 },
        };
        long wait = (long) (next_tick - act_mono_ms ());
        if (zmq_poll (items, 2, wait < 0 ? 0 : wait) < 0 && errno != EINTR)
            break;
        if (items [1].revents & ZMQ_POLLIN) {
            unsigned char b;
            while (read (sigfd, &b, 1) == 1)
                ;
            act_log_info ("signal %d, stopping", b);
            self->stopping = true;
        }
        if (items [0].revents & ZMQ_POLLIN)
            s_drain (self);
        if (act_mono_ms () >= next_tick) {
            s_tick (self);
            next_tick = act_mono_ms () + self->cfg.heartbeat_ms / 4;
        }
    }
    s_commit (self);
    act_log_info ("stopped at journal head %llu", (unsigned long long) brk_journal_head (self->journal));
    s_close (self);
    return 0;
}
