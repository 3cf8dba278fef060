//  brk - the dynod broker: routing, group commit and heartbeats
//
//  Owns the ROUTER socket (its loopback endpoint; zap.c adds the CURVE one),
//  the journal, the directory, the staged batch and each actor's
//  redelivery state. Single-threaded loop:
//
//      poll -> drain up to BRK_DRAIN_MAX frames:
//                  bad frame        -> count, `error` to sender, drop
//                  to broker        -> control.c handler table
//                  durable          -> seq, stage in the LevelDB batch
//                  otherwise        -> forward at once
//           -> commit the batch with one fsync, then ack each sender and
//              deliver each staged message (held until `delivered`)
//           -> heartbeats out, expire silent peers, resume redeliveries
//
//  Held messages an actor did not get when they were committed (it was not
//  live, or its queue was full) go out through brk_redeliver, at most
//  BRK_INFLIGHT_MAX unreleased per actor; the rest follow as its
//  `delivered` releases some, or at the next tick.

#include "broker_internal.h"
#include "../actors/common/act.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

//  Frames queued per connection, each way. ZeroMQ counts frames, not bytes,
//  so a slow peer may still pin up to this many times MSG_MAX_SIZE; twice
//  what bench-broker keeps in flight.
#define BRK_SNDHWM              100000
#define BRK_RCVHWM              100000
#define BRK_LINGER_MS           500     // to flush replies when stopping
//  Frames up to this much over MSG_MAX_SIZE still arrive and are refused
//  with a reason; larger ones cost the sender its connection.
#define BRK_MAXMSG_SLACK        1024
#define BRK_TICKS_PER_HEARTBEAT 4       // expiry checks per heartbeat interval
#define BRK_TOPIC_PREFIX        "topic:"

static const char *s_reject_names [] = {
    [BRK_REJ_MALFORMED]      = "malformed",
    [BRK_REJ_UNKNOWN_TYPE]   = "unknown_type",
    [BRK_REJ_TOO_BIG]        = "too_big",
    [BRK_REJ_MULTIPART]      = "multipart",
    [BRK_REJ_NOT_REGISTERED] = "not_registered",
    [BRK_REJ_SPOOFED]        = "spoofed",
    [BRK_REJ_AUTH]           = "auth",
    [BRK_REJ_SINGLETON]      = "singleton",
    [BRK_REJ_PEERS_FULL]     = "peers_full",
    [BRK_REJ_NO_ROUTE]       = "no_route",
    [BRK_REJ_HELD_FULL]      = "held_full",
    [BRK_REJ_BAD_CONTROL]    = "bad_control",
    [BRK_REJ_STORE]          = "store",
    [BRK_REJ_DURABLE_STREAM] = "durable_stream",
    [BRK_REJ_DURABLE_SECRET] = "durable_secret",
    [BRK_REJ_REPEAT] = "repeat",
    [BRK_REJ_KEY]            = "curve_key",
    [BRK_REJ_HANDSHAKE]      = "curve_handshake",
    [BRK_REJ_KEY_BINDING]    = "key_binding",
    [BRK_REJ_CLOCK]          = "clock_skew",
    [BRK_REJ_HOST_ID]        = "host_id",
};

_Static_assert (sizeof s_reject_names / sizeof s_reject_names [0] == BRK_REJ_COUNT,
                "every brk_reject_t needs a name");

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

int
brk_send_peer (brk_t *self, brk_peer_t *peer, const void *data, size_t len)
{
    int rc = brk_send_raw (self, peer->rid, peer->rid_len, data, len);
    if (rc == 0) {
        peer->msgs_out++;
        peer->last_sent = act_mono_ms ();
    }
    return rc;
}

//  The topic name in a `topic:NAME` address. Borrowed from `addr`.
static const char *
s_topic_name (const char *addr)
{
    return addr + sizeof BRK_TOPIC_PREFIX - 1;
}

static void
s_send_topic (brk_t *self, const char *topic, const void *data, size_t len)
{
    for (size_t i = 0; i < brk_directory_count (self->dir); i++) {
        brk_peer_t *peer = brk_directory_at (self->dir, i);
        if (brk_peer_subscribed (peer, topic))
            brk_send_peer (self, peer, data, len);
    }
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
    rc = peer ? brk_send_peer (self, peer, data, len) : brk_send_raw (self, rid, rid_len, data, len);
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
    s_send_topic (self, topic, data, len);
    free (data);
}

//  Which live peer a non-topic address goes to, or NULL.
static brk_peer_t *
s_resolve (brk_t *self, const char *to)
{
    return strchr (to, '@') ? brk_directory_by_address (self->dir, to)
                            : brk_directory_pick (self->dir, to);
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
    brk_flow_forget (self, address);
    if (!actor)
        return;
    brk_publish (self, &event, "actor.down");
    //  Messages it held for a name go to another live instance, if any.
    bool moved = false;
    for (size_t i = 0; i < brk_held_count (self->dir); i++) {
        brk_held_t *held = brk_held_at (self->dir, i);
        if (held->assigned && strcmp (held->assigned, address) == 0) {
            brk_held_assign (self->dir, held, NULL);
            moved = moved || strcmp (held->dest, name) == 0;
        }
    }
    brk_peer_t *other = moved ? brk_directory_other (self->dir, name, NULL) : NULL;
    if (other) {
        brk_flow_set (self, other->address, true);
        brk_redeliver (self, other);
    }
}

// ---------------------------------------------------------------------------
//  Forwarding, staging and group commit

//  As brk_send_peer, handing `frame` itself to ZeroMQ (no copy of the
//  bytes): on success it is left empty, on failure it is the caller's as
//  before.
static int
s_send_peer_frame (brk_t *self, brk_peer_t *peer, zmq_msg_t *frame)
{
    if (zmq_send (self->router, peer->rid, peer->rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0
    ||  zmq_msg_send (frame, self->router, ZMQ_DONTWAIT) < 0)
        return -errno;
    self->msgs_out++;
    peer->msgs_out++;
    peer->last_sent = act_mono_ms ();
    return 0;
}

static void
s_forward (brk_t *self, brk_peer_t *from, msg_t *msg, zmq_msg_t *frame)
{
    const void *data = zmq_msg_data (frame);
    size_t len = zmq_msg_size (frame);
    if (msg_addr_is_topic (msg->to)) {
        s_send_topic (self, s_topic_name (msg->to), data, len);
        return;
    }
    brk_peer_t *peer = s_resolve (self, msg->to);
    if (peer)
        s_send_peer_frame (self, peer, frame);
    else if (msg->type->kind == MSG_KIND_COMMAND)
        brk_reject (self, from->rid, from->rid_len, BRK_REJ_NO_ROUTE, msg->id, ACT_ENOROUTE,
                    "no live actor for that address", msg->type->name);
    else
        self->rejected [BRK_REJ_NO_ROUTE]++;    // replies to departed peers
}

//  Makes *stamped (initialised here, caller closes it) the journal copy of
//  `frame` with `seq` in it: the frame itself, stamped in place, when it
//  has msg_encode's canonical layout, else re-encoded, which can fail
//  (e.g. float32 values grow past the size limit). Returns 0 or the codec's
//  code.
static int
s_stamp (zmq_msg_t *frame, uint64_t seq, zmq_msg_t *stamped)
{
    zmq_msg_init (stamped);
    if (msg_stamp_seq (zmq_msg_data (frame), zmq_msg_size (frame), seq) == 0) {
        zmq_msg_move (stamped, frame);
        return 0;
    }
    msg_error_t err = { 0, "" };
    msg_t *full = msg_decode (zmq_msg_data (frame), zmq_msg_size (frame), MSG_DECODE_FULL, &err);
    if (!full)
        return err.code;
    full->seq = seq;
    char *data = NULL;
    size_t len = 0;
    int rc = msg_encode (full, &data, &len, &err);
    msg_destroy (&full);
    if (rc)
        return rc;
    zmq_msg_close (stamped);
    if (zmq_msg_init_size (stamped, len)) {
        rc = -errno;
        zmq_msg_init (stamped);
    }
    else
        memcpy (zmq_msg_data (stamped), data, len);
    free (data);
    return rc;
}

//  Holds `seq` for its destination until `delivered`. On failure the sender
//  is told and the refusal counted; the first is logged too.
static int
s_hold (brk_t *self, brk_peer_t *from, msg_t *msg, uint64_t seq)
{
    int rc = brk_held_push (self->dir, seq, msg->to);
    if (rc == 0) {
        if (self->held_full_warned && brk_held_count (self->dir) < BRK_HELD_MAX / 2)
            self->held_full_warned = false;
        return 0;
    }
    if (!self->held_full_warned)
        act_log_warn ("refusing durable messages: %zu are held, awaiting `delivered` (%s)",
                      brk_held_count (self->dir), act_strerror (rc));
    self->held_full_warned = true;
    brk_reject (self, from->rid, from->rid_len, BRK_REJ_HELD_FULL, msg->id, rc,
                "too many durable messages held; try again later", msg->type->name);
    return rc;
}

//  Refuses what must not be journaled. Returns true when `msg` may be.
static bool
s_journalable (brk_t *self, brk_peer_t *from, msg_t *msg, zmq_msg_t *stamped)
{
    if (msg->type->kind == MSG_KIND_STREAM) {
        brk_reject (self, from->rid, from->rid_len, BRK_REJ_DURABLE_STREAM, msg->id, ACT_EPROTO,
                    "stream messages are never journaled: send them without dur",
                    msg->type->name);
        return false;
    }
    if (msg_type_secret (msg->type)) {
        brk_reject (self, from->rid, from->rid_len, BRK_REJ_DURABLE_SECRET, msg->id, ACT_EPROTO,
                    "this message carries a secret and is never journaled: send it without dur",
                    msg->type->name);
        return false;
    }
    //  journal.read must be able to return any entry in one journal.batch.
    if (zmq_msg_size (stamped) > BRK_READ_BYTES_MAX) {
        char reason [80];
        snprintf (reason, sizeof reason, "durable messages are limited to %d bytes",
                  BRK_READ_BYTES_MAX);
        brk_reject (self, from->rid, from->rid_len, BRK_REJ_TOO_BIG, msg->id, MSG_ETOOBIG,
                    reason, msg->type->name);
        return false;
    }
    return true;
}

//  Journals a durable message in the next group commit. Anything refused is
//  neither staged nor given a seq.
static void
s_stage (brk_t *self, brk_peer_t *from, msg_t *msg, zmq_msg_t *frame)
{
    bool topic = msg_addr_is_topic (msg->to);
    uint64_t seq = brk_journal_head (self->journal) + 1;
    zmq_msg_t stamped;
    int rc = s_stamp (frame, seq, &stamped);
    if (rc) {
        zmq_msg_close (&stamped);
        brk_reject (self, from->rid, from->rid_len, BRK_REJ_TOO_BIG, msg->id, rc,
                    "cannot journal this message in canonical form", msg->type->name);
        return;
    }
    if (!s_journalable (self, from, msg, &stamped) || (!topic && s_hold (self, from, msg, seq))) {
        zmq_msg_close (&stamped);
        return;
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
}

//  Acks a committed message to its sender, reusing `ack` (borrowed: a
//  template whose id, addresses, time and seq are set here, so a batch's
//  acks cost one allocation), and delivers it: to a topic's subscribers,
//  else to the peer its address resolves to, which has it until
//  `delivered`. One it cannot have now goes out with brk_redeliver.
static void
s_deliver_staged (brk_t *self, brk_staged_t *st, msg_t *ack)
{
    brk_peer_t *sender = brk_directory_by_rid (self->dir, st->rid, st->rid_len);
    if (sender) {
        act_rng_id (&self->rng, ack->id);
        msg_set_to (ack, sender->address);
        msg_set_corr (ack, st->id);
        ack->ts = act_wall_ms ();
        json_integer_set (json_object_get (ack->body, "seq"), (json_int_t) st->seq);
        char *frame;
        size_t frame_len;
        if (msg_encode (ack, &frame, &frame_len, NULL) == 0) {
            brk_send_peer (self, sender, frame, frame_len);
            free (frame);
        }
    }
    const void *data = zmq_msg_data (&st->frame);
    size_t len = zmq_msg_size (&st->frame);
    if (msg_addr_is_topic (st->to)) {
        s_send_topic (self, s_topic_name (st->to), data, len);
        return;
    }
    brk_peer_t *peer = s_resolve (self, st->to);
    brk_held_t *held = peer ? brk_held_find (self->dir, st->seq) : NULL;
    if (!held)
        return;
    if (brk_send_peer (self, peer, data, len) == 0)
        brk_held_assign (self->dir, held, peer->address);
    else if (peer->actor)
        brk_flow_set (self, peer->address, true);
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
    msg_t *ack = brk_msg_new (self, MSG_TYPE_ACK, NULL);
    msg_set_int (ack, "seq", 0);
    for (size_t i = 0; i < self->staged_count; i++) {
        brk_staged_t *st = &self->staged [i];
        if (rc) {
            brk_held_release (self->dir, st->seq);
            brk_reject (self, st->rid, st->rid_len, BRK_REJ_STORE, st->id, ACT_ESTORE,
                        "the journal could not be written", NULL);
        }
        else {
            act_seen_put (&self->journaled, st->id, st->seq, NULL);
            s_deliver_staged (self, st, ack);
        }
        zmq_msg_close (&st->frame);
    }
    msg_destroy (&ack);
    self->staged_count = 0;
}

// ---------------------------------------------------------------------------
//  Input

//  A durable message whose id was journaled already (a sender's resend after
//  a lost ack, or an actor's follow-on sent again when it replays its
//  journal after a restart): acked with the sequence number it has, and
//  neither journaled nor delivered again.
static void
s_ack_repeat (brk_t *self, brk_peer_t *peer, const msg_t *msg, uint64_t seq)
{
    self->rejected [BRK_REJ_REPEAT]++;
    msg_t *ack = brk_msg_new (self, MSG_TYPE_ACK, peer->address);
    msg_set_corr (ack, msg->id);
    msg_set_int (ack, "seq", (int64_t) seq);
    brk_send_msg (self, peer->rid, peer->rid_len, &ack);
}

//  Handles one frame from connection `rid`.
static void
s_on_frame (brk_t *self, const void *rid, size_t rid_len, zmq_msg_t *frame)
{
    msg_error_t err = { 0, "" };
    const void *data = zmq_msg_data (frame);
    size_t len = zmq_msg_size (frame);
    brk_peer_t *peer = brk_directory_by_rid (self->dir, rid, rid_len);
    brk_zap_frame_key (self, frame);
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
    else if (peer && (strcmp (msg->from, peer->address) != 0 || strcmp (self->frame_key, peer->key) != 0)) {
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
        uint64_t seq;
        if (msg->durable && act_seen_get (&self->journaled, msg->id, &seq))
            s_ack_repeat (self, peer, msg, seq);
        else if (msg->durable)
            s_stage (self, peer, msg, frame);
        else
            s_forward (self, peer, msg, frame);
    }
    msg_destroy (&msg);
}

//  Receives and drops the remaining frames of a multipart message (ZeroMQ
//  hands them over together, so this does not wait).
static void
s_discard_rest (brk_t *self)
{
    bool more = true;
    while (more) {
        zmq_msg_t extra;
        zmq_msg_init (&extra);
        more = zmq_msg_recv (&extra, self->router, 0) >= 0 && zmq_msg_more (&extra);
        zmq_msg_close (&extra);
    }
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
        //  The routing id's frame came with the rest, so this does not
        //  wait; it fails only when ZeroMQ is shutting down.
        if (zmq_msg_recv (&frame, self->router, 0) < 0) {
            int err = errno;
            act_log_warn ("cannot receive a message after its routing id: %s", zmq_strerror (err));
            zmq_msg_close (&frame);
            zmq_msg_close (&rid);
            break;
        }
        self->msgs_in++;
        if (zmq_msg_more (&frame)) {
            //  One frame per message: swallow the rest and refuse it.
            s_discard_rest (self);
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
    brk_zap_tick (self);
    brk_resume_backlogs (self);
}

// ---------------------------------------------------------------------------
//  Start and stop

//  Loads one hold record. Records past BRK_HELD_MAX stay in the journal
//  (loaded after a later restart) and are counted as held_full; s_open
//  logs how many.
static bool
s_load_held (void *arg, uint64_t seq, const void *data, size_t len)
{
    brk_t *self = arg;
    char *dest = act_strndup (data, len);
    if (brk_held_push (self->dir, seq, dest))
        self->rejected [BRK_REJ_HELD_FULL]++;
    free (dest);
    return true;
}

//  Remembers the id of a journal entry (the newest ACT_SEEN_GEN are read at
//  start), so a repeat that arrives after a broker restart is known too.
static bool
s_load_id (void *arg, uint64_t seq, const void *data, size_t len)
{
    brk_t *self = arg;
    msg_error_t err;
    msg_t *msg = msg_decode (data, len, MSG_DECODE_HEAD, &err);
    if (msg)
        act_seen_put (&self->journaled, msg->id, seq, NULL);
    msg_destroy (&msg);
    return true;
}

static int
s_open_journal (brk_t *self)
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
    uint64_t head = brk_journal_head (self->journal);
    brk_journal_scan (self->journal, head > ACT_SEEN_GEN ? head - ACT_SEEN_GEN + 1 : 1,
                      s_load_id, self);
    uint64_t dropped = self->rejected [BRK_REJ_HELD_FULL];
    if (dropped)
        act_log_warn ("%llu held messages not loaded: at most %d are held",
                      (unsigned long long) dropped, BRK_HELD_MAX);
    snprintf (self->address, sizeof self->address, "broker@%.16s", brk_journal_instance (self->journal));
    return 0;
}

//  Logs a failed ZeroMQ call; returns -errno as captured by the caller.
static int
s_zmq_failed (int err, const char *what, const char *subject)
{
    act_log_error ("cannot %s '%s': %s", what, subject, zmq_strerror (err));
    return err > 0 ? -err : -EIO;
}

static int
s_open_router (brk_t *self)
{
    self->zctx = zmq_ctx_new ();
    if (!self->zctx)
        return s_zmq_failed (errno, "create", "zmq context");
    self->router = zmq_socket (self->zctx, ZMQ_ROUTER);
    if (!self->router)
        return s_zmq_failed (errno, "create", "router socket");
    int on = 1, sndhwm = BRK_SNDHWM, rcvhwm = BRK_RCVHWM, linger = BRK_LINGER_MS;
    int64_t maxmsg = MSG_MAX_SIZE + BRK_MAXMSG_SLACK;
    if (zmq_setsockopt (self->router, ZMQ_ROUTER_MANDATORY, &on, sizeof on)
    ||  zmq_setsockopt (self->router, ZMQ_SNDHWM, &sndhwm, sizeof sndhwm)
    ||  zmq_setsockopt (self->router, ZMQ_RCVHWM, &rcvhwm, sizeof rcvhwm)
    ||  zmq_setsockopt (self->router, ZMQ_LINGER, &linger, sizeof linger)
    ||  zmq_setsockopt (self->router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg))
        return s_zmq_failed (errno, "configure", "router socket");
    //  NULL security: only where no other host can reach it.
    if (!act_endpoint_is_loopback (self->cfg.endpoint)) {
        act_log_error ("cannot bind '%s' without CURVE: it is not loopback; use --listen for "
                       "other hosts", self->cfg.endpoint);
        return -EINVAL;
    }
    if (zmq_bind (self->router, self->cfg.endpoint))
        return s_zmq_failed (errno, "bind", self->cfg.endpoint);
    //  After the loopback bind: the CURVE options apply to later binds only.
    return brk_zap_open (self);
}

static void
s_close (brk_t *self)
{
    for (size_t i = 0; i < self->staged_count; i++)
        zmq_msg_close (&self->staged [i].frame);
    brk_zap_close (self);
    if (self->router)
        zmq_close (self->router);
    if (self->zctx)
        zmq_ctx_term (self->zctx);
    brk_vault_destroy (&self->vault);
    brk_journal_destroy (&self->journal);
    brk_directory_destroy (&self->dir);
    free (self->staged);
    act_seen_release (&self->journaled);
    free (self->flows);
}

static void
s_init (brk_t *self, const brk_config_t *cfg)
{
    memset (self, 0, sizeof *self);
    self->cfg = *cfg;
    if (!self->cfg.endpoint)
        self->cfg.endpoint = BRK_DEFAULT_ENDPOINT;
    if (!self->cfg.heartbeat_ms)
        self->cfg.heartbeat_ms = ACT_HEARTBEAT_MS;
    if (!self->cfg.liveness)
        self->cfg.liveness = ACT_LIVENESS;
    if (!self->cfg.max_clock_skew_ms)
        self->cfg.max_clock_skew_ms = BRK_CLOCK_SKEW_MS;
    gethostname (self->host, sizeof self->host - 1);
    act_rng_init (&self->rng, act_seed_from_os ());
    self->started_mono = act_mono_ms ();
    self->dir = brk_directory_new ();
    self->staged = act_calloc (BRK_DRAIN_MAX, sizeof *self->staged);
    act_seen_init (&self->journaled);
    self->flows = act_calloc (BRK_PEERS_MAX, sizeof *self->flows);
}

//  Polls the router and the signal pipe until a signal comes. Returns 0, or
//  -errno when polling failed.
static int
s_loop (brk_t *self, int sigfd)
{
    int64_t next_tick = act_mono_ms ();
    while (!self->stopping) {
        zmq_pollitem_t items [2 + BRK_ZAP_POLL_ITEMS] = {
            { self->router, 0, ZMQ_POLLIN, 0 },
            { NULL, sigfd, ZMQ_POLLIN, 0 },
        };
        size_t zap_items = brk_zap_poll_add (self, items + 2);
        long wait = (long) (next_tick - act_mono_ms ());
        if (zmq_poll (items, (int) (2 + zap_items), wait < 0 ? 0 : wait) < 0) {
            int err = errno;
            if (err != EINTR)
                return err > 0 ? -err : -EIO;
        }
        if (items [1].revents & ZMQ_POLLIN) {
            unsigned char b = 0;
            while (read (sigfd, &b, 1) == 1)
                ;
            act_log_info ("signal %d, stopping", b);
            self->stopping = true;
        }
        //  Handshakes wait on the ZAP handler: answer it first.
        brk_zap_on_poll (self, items + 2, zap_items);
        if (items [0].revents & ZMQ_POLLIN)
            s_drain (self);
        if (act_mono_ms () >= next_tick) {
            s_tick (self);
            next_tick = act_mono_ms () + self->cfg.heartbeat_ms / BRK_TICKS_PER_HEARTBEAT;
        }
    }
    return 0;
}

int
brk_run (const brk_config_t *cfg)
{
    brk_t self_storage;
    brk_t *self = &self_storage;
    s_init (self, cfg);
    int rc = s_open_journal (self);
    if (rc == 0)
        rc = s_open_router (self);
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
    rc = s_loop (self, sigfd);
    if (rc)
        act_log_error ("cannot poll the router: %s", zmq_strerror (-rc));
    s_commit (self);
    act_log_info ("stopped at journal head %llu", (unsigned long long) brk_journal_head (self->journal));
    s_close (self);
    return rc;
}
