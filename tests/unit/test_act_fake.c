//  test_act_fake - the actor runtime against a fake broker
//
//  The test actor (tester.h) runs with act_run in a forked child, and a
//  fake broker (s_fake_t: a ROUTER socket the test drives by hand) stands
//  in the broker's place, to send exact redeliveries and to see every
//  outbound id: duplicates are handled once, and the same seed and inputs
//  give the same ids. The fake broker binds only after the child is forked,
//  so no zmq context of ours is live when it forks; waits are deadlines on
//  a condition.

#include "support.h"
#include "tester.h"

#include <zmq.h>

#define DET_HB_MS       100     // determinism runs: heartbeats come often

// ---------------------------------------------------------------------------
//  A fake broker: a ROUTER socket the test drives by hand

typedef struct {
    ut_wire_t wire;                     // rid: the actor's current connection
    int heartbeats;                     // received and answered
    bool rewelcome;                     // welcome repeated hellos unasked
} s_fake_t;

//  Binds `endpoint`. Caller owns result.
static s_fake_t *
s_fake_new (const char *endpoint)
{
    s_fake_t *self = act_calloc (1, sizeof *self);
    ut_wire_init (&self->wire, ZMQ_ROUTER, endpoint);
    return self;
}

static void
s_fake_destroy (s_fake_t **self_p)
{
    s_fake_t *self = *self_p;
    ut_wire_release (&self->wire);
    free (self);
    *self_p = NULL;
}

static void
s_fake_send_bytes (s_fake_t *self, const void *data, size_t len)
{
    ut_wire_send_bytes (&self->wire, data, len);
}

//  A message from the fake broker's side (id from its rng). Caller owns
//  result.
static msg_t *
s_fake_msg_new (s_fake_t *self, msg_type_id_t type, const char *from, const char *to)
{
    return ut_wire_msg_new (&self->wire, type, from, to);
}

static void
s_fake_send (s_fake_t *self, msg_t **msg_p)
{
    ut_wire_send (&self->wire, msg_p);
}

//  The actor's next message that is not a heartbeat (heartbeats are
//  answered, as a broker would), or NULL after `timeout_ms`. Remembers the
//  connection it came on. Caller owns result.
static void s_fake_welcome (s_fake_t *self, const msg_t *hello);

static msg_t *
s_fake_recv (s_fake_t *self, int timeout_ms)
{
    int64_t deadline = act_mono_ms () + timeout_ms;
    msg_t *msg;
    while ((msg = ut_wire_recv (&self->wire, deadline, "the actor"))) {
        if (self->rewelcome && msg->type->id == MSG_TYPE_HELLO) {
            //  It gave up waiting for our first welcome and said hello
            //  again on a new connection.
            s_fake_welcome (self, msg);
            msg_destroy (&msg);
            continue;
        }
        if (msg->type->id != MSG_TYPE_HEARTBEAT)
            return msg;
        self->heartbeats++;
        msg_t *hb = s_fake_msg_new (self, MSG_TYPE_HEARTBEAT, "broker@fake", msg->from);
        msg_destroy (&msg);
        s_fake_send (self, &hb);
    }
    return NULL;
}

//  The next message, of any type; fails the test when none arrives while
//  waiting for one of `type`.
static msg_t *
s_fake_expect_any (s_fake_t *self, msg_type_id_t type)
{
    msg_t *msg = s_fake_recv (self, UT_WAIT_MS);
    if (!msg)
        UNIT_FAIL ("fake broker: nothing arrived, expected '%s'", msg_type_by_id (type)->name);
    return msg;
}

static msg_t *
s_fake_expect (s_fake_t *self, msg_type_id_t type)
{
    msg_t *msg = s_fake_expect_any (self, type);
    if (msg->type->id != type)
        UNIT_FAIL ("fake broker: got '%s', expected '%s'", msg->type->name, msg_type_by_id (type)->name);
    return msg;
}

//  As s_fake_expect, skipping messages of type `skip` first.
static msg_t *
s_fake_expect_skipping (s_fake_t *self, msg_type_id_t type, msg_type_id_t skip)
{
    for (;;) {
        msg_t *msg = s_fake_expect_any (self, type);
        if (msg->type->id == type)
            return msg;
        if (msg->type->id != skip)
            UNIT_FAIL ("fake broker: got '%s', expected '%s'", msg->type->name,
                       msg_type_by_id (type)->name);
        msg_destroy (&msg);
    }
}

//  Answers `hello` on the connection it came from.
static void
s_fake_welcome (s_fake_t *self, const msg_t *hello)
{
    msg_t *welcome = s_fake_msg_new (self, MSG_TYPE_WELCOME, "broker@fake", hello->from);
    msg_set_corr (welcome, hello->id);
    msg_set_str (welcome, "broker", "fake");
    msg_set_int (welcome, "heartbeat_ms", ACT_HEARTBEAT_MS);
    msg_set_int (welcome, "liveness", ACT_LIVENESS);
    msg_set_int (welcome, "journal_head", 0);
    s_fake_send (self, &welcome);
}

//  Waits for the actor's hello, checks it and welcomes it.
static void
s_fake_accept (s_fake_t *self, const char *address)
{
    //  A `delivered` may come late: a duplicate durable message is answered
    //  again (cumulative, so harmless); anything else before hello fails.
    msg_t *hello = s_fake_expect_skipping (self, MSG_TYPE_HELLO, MSG_TYPE_DELIVERED);
    CHECK_STR_EQ (hello->from, address);
    CHECK_STR_EQ (hello->to, "broker");
    CHECK_STR_EQ (msg_str (hello, "role", ""), "actor");
    CHECK_STR_EQ (msg_str (hello, "token", ""), UT_TOKEN);
    CHECK_STR_EQ (msg_str (hello, "host", ""), "unit-host");
    s_fake_welcome (self, hello);
    msg_destroy (&hello);
}

//  An encoded actor.up for `to`, as the broker delivers it (seq 0: not
//  durable). Caller owns *data_p.
static void
s_fake_event (s_fake_t *self, const char *to, uint64_t seq, char **data_p, size_t *len_p)
{
    msg_t *event = s_fake_msg_new (self, MSG_TYPE_ACTOR_UP, "cli@fake", to);
    msg_set_str (event, "name", "up");
    msg_set_str (event, "instance", "i");
    msg_set_str (event, "host", "h");
    event->seq = seq;
    event->durable = seq != 0;
    CHECK_OK (msg_encode (event, data_p, len_p, NULL));
    msg_destroy (&event);
}

static void
s_fake_expect_delivered (s_fake_t *self, uint64_t seq)
{
    msg_t *done = s_fake_expect (self, MSG_TYPE_DELIVERED);
    CHECK_EQ (msg_int (done, "seq", 0), (int64_t) seq);
    CHECK_STR_EQ (done->to, "broker");
    msg_destroy (&done);
}

//  The actor's status through the fake broker. Caller owns result.
//  Asks for status. `delivered` may still come first (one per batch, and
//  a batch boundary depends on timing): each must say `delivered_seq`.
static msg_t *
s_fake_status_after (s_fake_t *self, const char *to, uint64_t delivered_seq)
{
    msg_t *req = s_fake_msg_new (self, MSG_TYPE_STATUS, "cli@fake", to);
    char id [MSG_ID_LEN + 1];
    memcpy (id, req->id, sizeof id);
    s_fake_send (self, &req);
    msg_t *reply = s_fake_recv (self, UT_WAIT_MS);
    while (reply && reply->type->id == MSG_TYPE_DELIVERED) {
        CHECK_EQ (msg_int (reply, "seq", 0), (int64_t) delivered_seq);
        msg_destroy (&reply);
        reply = s_fake_recv (self, UT_WAIT_MS);
    }
    if (!reply || reply->type->id != MSG_TYPE_STATUS_REPLY)
        UNIT_FAIL ("fake broker: expected 'status.reply', got '%s'", reply ? reply->type->name : "nothing");
    CHECK_STR_EQ (reply->corr, id);
    CHECK_STR_EQ (reply->to, "cli@fake");
    return reply;
}

//  Sends `stop` to `to`: the actor must say bye and exit 0. Destroys the
//  fake broker.
static void
s_fake_stop (s_fake_t **self_p, const char *to, pid_t pid)
{
    msg_t *stop = s_fake_msg_new (*self_p, MSG_TYPE_STOP, "cli@fake", to);
    s_fake_send (*self_p, &stop);
    msg_t *bye = s_fake_expect (*self_p, MSG_TYPE_BYE);
    msg_destroy (&bye);
    CHECK_EQ (ut_wait_exit (pid, UT_WAIT_MS), 0);
    s_fake_destroy (self_p);
}

// ---------------------------------------------------------------------------
//  Tests

static void
test_duplicates_handled_once (void)
{
    int port = unit_free_port ();
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    ut_actor_t a = { &ut_tester, endpoint, "t1", NULL, 0, 0, false };
    pid_t pid = ut_actor_start (&a);
    s_fake_t *fake = s_fake_new (endpoint);
    s_fake_accept (fake, "tester@t1");

    //  A durable message delivered twice: handled once, and acknowledged
    //  (`delivered` is cumulative and sent once per batch, so the second
    //  copy is covered by the first answer or answered again).
    char *durable;
    size_t durable_len;
    s_fake_event (fake, "tester", 7, &durable, &durable_len);
    s_fake_send_bytes (fake, durable, durable_len);
    s_fake_send_bytes (fake, durable, durable_len);
    s_fake_expect_delivered (fake, 7);
    //  A plain message seen twice (same id): handled once, no delivered.
    char *plain;
    size_t plain_len;
    s_fake_event (fake, "tester", 0, &plain, &plain_len);
    s_fake_send_bytes (fake, plain, plain_len);
    s_fake_send_bytes (fake, plain, plain_len);
    msg_t *status = s_fake_status_after (fake, "tester@t1", 7);
    CHECK_EQ (ut_detail_int (status, "ups"), 2);
    CHECK_EQ (msg_int (status, "last_seq", 0), 7);
    msg_destroy (&status);

    //  The broker forgets the actor: it says hello again on a new
    //  connection, and the broker redelivers what it held, plus new work.
    unsigned char old_rid [256];
    size_t old_rid_len = fake->wire.rid_len;
    memcpy (old_rid, fake->wire.rid, old_rid_len);
    msg_t *err = s_fake_msg_new (fake, MSG_TYPE_ERROR, "broker@fake", "tester@t1");
    msg_set_int (err, "code", ACT_ENOTREG);
    msg_set_str (err, "reason", "say hello first");
    s_fake_send (fake, &err);
    s_fake_accept (fake, "tester@t1");
    CHECK (fake->wire.rid_len != old_rid_len || memcmp (fake->wire.rid, old_rid, old_rid_len) != 0);
    s_fake_send_bytes (fake, durable, durable_len);
    s_fake_send_bytes (fake, plain, plain_len);
    char *next;
    size_t next_len;
    s_fake_event (fake, "tester", 8, &next, &next_len);
    s_fake_send_bytes (fake, next, next_len);
    //  The redelivered 7 is acknowledged again (alone, or covered by 8).
    msg_t *done = s_fake_expect (fake, MSG_TYPE_DELIVERED);
    if (msg_int (done, "seq", 0) == 7) {
        msg_destroy (&done);
        done = s_fake_expect (fake, MSG_TYPE_DELIVERED);
    }
    CHECK_EQ (msg_int (done, "seq", 0), 8);
    msg_destroy (&done);
    status = s_fake_status_after (fake, "tester", 8);
    CHECK_EQ (ut_detail_int (status, "ups"), 3);
    CHECK_EQ (msg_int (status, "last_seq", 0), 8);
    msg_destroy (&status);

    //  A message moved here from another instance of the name has a lower
    //  seq than what this one handled: it is new (its id is), so handled,
    //  and `delivered` names it, the last one received.
    char *moved;
    size_t moved_len;
    s_fake_event (fake, "tester", 5, &moved, &moved_len);
    s_fake_send_bytes (fake, moved, moved_len);
    s_fake_expect_delivered (fake, 5);
    status = s_fake_status_after (fake, "tester", 5);
    CHECK_EQ (ut_detail_int (status, "ups"), 4);
    CHECK_EQ (msg_int (status, "last_seq", 0), 8);
    msg_destroy (&status);
    free (moved);
    free (durable);
    free (plain);
    free (next);

    //  stop: a bye, then a clean exit.
    s_fake_stop (&fake, "tester@t1", pid);
}

//  A durable message the actor sends is kept until the broker acks it:
//  sent again, same id, after a reconnect; not after the ack. The ack
//  itself is taken quietly (no `error` back).
static void
test_durable_send_until_acked (void)
{
    int port = unit_free_port ();
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    ut_actor_t a = { &ut_tester, endpoint, "t1", NULL, 0, 0, false };
    pid_t pid = ut_actor_start (&a);
    s_fake_t *fake = s_fake_new (endpoint);
    s_fake_accept (fake, "tester@t1");

    msg_t *trigger = s_fake_msg_new (fake, MSG_TYPE_ACTOR_DOWN, "broker@fake", "tester@t1");
    msg_set_str (trigger, "name", "send-durable");
    msg_set_str (trigger, "instance", "x");
    msg_set_str (trigger, "host", "h");
    s_fake_send (fake, &trigger);
    msg_t *sent = s_fake_expect (fake, MSG_TYPE_PING);
    CHECK (sent->durable);
    CHECK_STR_EQ (sent->to, "sink");
    char id [MSG_ID_LEN + 1];
    memcpy (id, sent->id, sizeof id);
    msg_destroy (&sent);

    //  No ack, and the broker forgets the actor: the ping comes again.
    msg_t *err = s_fake_msg_new (fake, MSG_TYPE_ERROR, "broker@fake", "tester@t1");
    msg_set_int (err, "code", ACT_ENOTREG);
    msg_set_str (err, "reason", "say hello first");
    s_fake_send (fake, &err);
    s_fake_accept (fake, "tester@t1");
    sent = s_fake_expect (fake, MSG_TYPE_PING);
    CHECK_STR_EQ (sent->id, id);
    msg_destroy (&sent);

    //  Acked: taken quietly, and not sent after the next reconnect.
    msg_t *ack = s_fake_msg_new (fake, MSG_TYPE_ACK, "broker@fake", "tester@t1");
    msg_set_corr (ack, id);
    msg_set_int (ack, "seq", 1);
    s_fake_send (fake, &ack);
    err = s_fake_msg_new (fake, MSG_TYPE_ERROR, "broker@fake", "tester@t1");
    msg_set_int (err, "code", ACT_ENOTREG);
    msg_set_str (err, "reason", "say hello first");
    s_fake_send (fake, &err);
    s_fake_accept (fake, "tester@t1");
    //  The first thing after the welcome answers this status: no ping, no
    //  error about the ack.
    msg_t *status = s_fake_status_after (fake, "tester@t1", 0);
    msg_destroy (&status);
    s_fake_stop (&fake, "tester@t1", pid);
}

#define DET_OUTPUTS 3

//  One run of the tester with `seed` and a fixed clock against a fake
//  broker: the ids (and timestamps) of what it sends for the same inputs.
//  `heartbeats_first` heartbeats pass before the inputs, so runs differ in
//  timing but not in input. (At least one: the actor heartbeats only once
//  registered, so its heartbeat names the connection it settled on.)
static void
s_recorded_run (uint64_t seed, int heartbeats_first, char ids [DET_OUTPUTS][MSG_ID_LEN + 1])
{
    int port = unit_free_port ();
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    ut_actor_t a = { &ut_tester, endpoint, "d1", NULL, DET_HB_MS, seed, true };
    pid_t pid = ut_actor_start (&a);
    s_fake_t *fake = s_fake_new (endpoint);
    s_fake_accept (fake, "tester@d1");
    fake->rewelcome = true;
    int64_t deadline = act_mono_ms () + UT_WAIT_MS;
    while (fake->heartbeats < heartbeats_first) {
        msg_t *other = s_fake_recv (fake, DET_HB_MS);
        if (other)
            UNIT_FAIL ("unexpected '%s' while waiting for heartbeats", other->type->name);
        if (act_mono_ms () >= deadline)
            UNIT_FAIL ("only %d heartbeats came", fake->heartbeats);
    }
    //  Inputs with fixed ids: ping, a request-making event, ping.
    const char *input_ids [] = {
        "00000000000000000000000000000001", "00000000000000000000000000000002",
        "00000000000000000000000000000003",
    };
    for (size_t i = 0; i < 3; i++) {
        msg_t *in;
        if (i == 1) {
            in = s_fake_msg_new (fake, MSG_TYPE_ACTOR_DOWN, "cli@fake", "tester");
            msg_set_str (in, "name", "target");
            msg_set_str (in, "instance", "i");
            msg_set_str (in, "host", "h");
            msg_set_int (in, "pid", UT_WAIT_MS * 10);
        }
        else
            in = s_fake_msg_new (fake, MSG_TYPE_PING, "cli@fake", "tester");
        msg_set_id (in, input_ids [i]);
        s_fake_send (fake, &in);
        msg_t *out = s_fake_expect (fake, i == 1 ? MSG_TYPE_PING : MSG_TYPE_PONG);
        CHECK_EQ (out->ts, UT_FIXED_NOW_MS);
        if (i != 1)
            CHECK_STR_EQ (out->corr, input_ids [i]);
        memcpy (ids [i], out->id, MSG_ID_LEN + 1);
        msg_destroy (&out);
    }
    s_fake_stop (&fake, "tester", pid);
}

static void
test_deterministic_ids (void)
{
    //  The source itself: same seed, same ids; 32 lowercase hex each.
    act_rng_t r1, r2, r3;
    act_rng_init (&r1, 42);
    act_rng_init (&r2, 42);
    act_rng_init (&r3, 43);
    for (int i = 0; i < 100; i++) {
        char a [MSG_ID_LEN + 1], b [MSG_ID_LEN + 1], c [MSG_ID_LEN + 1];
        act_rng_id (&r1, a);
        act_rng_id (&r2, b);
        act_rng_id (&r3, c);
        CHECK_STR_EQ (a, b);
        CHECK (strcmp (a, c) != 0);
        CHECK_EQ (strlen (a), MSG_ID_LEN);
        CHECK_EQ (strspn (a, "0123456789abcdef"), MSG_ID_LEN);
    }

    //  A running actor: the same seed and inputs give the same ids, however
    //  many heartbeats timing put in between; another seed gives others.
    char first [DET_OUTPUTS][MSG_ID_LEN + 1], second [DET_OUTPUTS][MSG_ID_LEN + 1];
    char other [DET_OUTPUTS][MSG_ID_LEN + 1];
    s_recorded_run (0x5eed, 1, first);
    s_recorded_run (0x5eed, 4, second);
    s_recorded_run (0x5eee, 1, other);
    for (int i = 0; i < DET_OUTPUTS; i++) {
        CHECK_STR_EQ (first [i], second [i]);
        CHECK (strcmp (first [i], other [i]) != 0);
    }
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_duplicates_handled_once),
    UNIT_TEST (test_durable_send_until_acked),
    UNIT_TEST (test_deterministic_ids),
};

UNIT_SUITE (unit_suite_act_fake, s_tests);
