//  test_broker_durable - durable delivery and the journal, against real
//  peers on 127.0.0.1
//
//  A broker child (support.h) journals durable messages, acks them with
//  their sequence numbers, holds them for their actor until it says
//  `delivered` (cumulatively, per peer), hands them to another instance
//  when one leaves, keeps them across a restart, and serves the journal
//  with `journal.read`. Senders are act_clients, receivers raw DEALER peers
//  (ut_raw_t) so a test decides when each message counts as handled. Waits
//  are deadlines on a condition, never sleeps.

#include "support.h"

// ---------------------------------------------------------------------------
//  Tests

//  `peer` says it handled everything through `seq`; the broker, asked on
//  the same connection (so after the release), then holds `held`.
static void
s_delivered_leaves (ut_raw_t *peer, uint64_t seq, int64_t held)
{
    ut_raw_delivered (peer, seq);
    msg_t *status = ut_raw_status (peer);
    CHECK_EQ (msg_int (status, "held", -1), held);
    msg_destroy (&status);
}

static void
test_durable_ack_seq (void)
{
    ut_broker_t b;
    ut_broker_init (&b, 0);
    act_client_t *client = ut_client_new (&b, "cli");
    ut_raw_t *sink = ut_raw_actor (&b, "sink", "s", false, NULL);
    const char *data [] = { "first", "second", "third" };
    for (uint64_t i = 0; i < 3; i++)
        CHECK_EQ (ut_durable_ping (client, "sink", data [i]), i + 1);
    for (uint64_t i = 0; i < 3; i++)
        ut_raw_expect_ping (sink, data [i], i + 1);
    //  Held until the actor says it handled them.
    msg_t *status = ut_raw_status (sink);
    CHECK_EQ (msg_int (status, "held", -1), 3);
    CHECK_EQ (msg_int (status, "journal_head", -1), 3);
    msg_destroy (&status);
    for (uint64_t i = 1; i <= 3; i++)
        ut_raw_delivered (sink, i);
    status = ut_raw_status (sink);
    CHECK_EQ (msg_int (status, "held", -1), 0);
    msg_destroy (&status);
    CHECK_EQ (ut_durable_ping (client, "sink", "fourth"), 4);
    ut_raw_expect_ping (sink, "fourth", 4);
    ut_raw_destroy (&sink);
    act_client_destroy (&client);
    ut_broker_stop (&b);
}

static void
test_held_until_registered (void)
{
    ut_broker_t b;
    ut_broker_init (&b, 0);
    act_client_t *client = ut_client_new (&b, "cli");
    const char *data [] = { "one", "two", "three" };
    for (uint64_t i = 0; i < 3; i++)
        CHECK_EQ (ut_durable_ping (client, "keeper", data [i]), i + 1);
    CHECK_EQ (ut_status_int (client, "held"), 3);

    //  The first instance to register gets them all, in order.
    ut_raw_t *k1 = ut_raw_actor (&b, "keeper", "k1", false, NULL);
    for (uint64_t i = 0; i < 3; i++)
        ut_raw_expect_ping (k1, data [i], i + 1);
    //  A second instance gets none of what k1 holds.
    ut_raw_t *k2 = ut_raw_actor (&b, "keeper", "k2", false, NULL);
    ut_client_ping (client, "keeper@k2", "marker");
    ut_raw_expect_ping (k2, "marker", 0);

    //  k1 handles the first and leaves: the rest go to k2, in order.
    s_delivered_leaves (k1, 1, 2);
    ut_raw_bye (k1);
    for (uint64_t i = 1; i < 3; i++)
        ut_raw_expect_ping (k2, data [i], i + 1);
    ut_raw_delivered (k2, 2);
    s_delivered_leaves (k2, 3, 0);
    ut_raw_destroy (&k1);
    ut_raw_destroy (&k2);
    act_client_destroy (&client);
    ut_broker_stop (&b);
}

//  `delivered` is cumulative in send order: it releases the named message
//  and everything sent to that peer before it, and nothing sent to another
//  peer.
static void
test_delivered_is_cumulative (void)
{
    ut_broker_t b;
    ut_broker_init (&b, 0);
    act_client_t *client = ut_client_new (&b, "cli");
    ut_raw_t *a = ut_raw_actor (&b, "worker", "a", false, NULL);
    ut_raw_t *z = ut_raw_actor (&b, "other", "z", false, NULL);
    CHECK_EQ (ut_durable_ping (client, "worker@a", "a1"), 1);
    CHECK_EQ (ut_durable_ping (client, "other@z", "z2"), 2);
    CHECK_EQ (ut_durable_ping (client, "worker@a", "a3"), 3);
    CHECK_EQ (ut_durable_ping (client, "worker@a", "a4"), 4);
    ut_raw_expect_ping (a, "a1", 1);
    ut_raw_expect_ping (z, "z2", 2);
    ut_raw_expect_ping (a, "a3", 3);
    ut_raw_expect_ping (a, "a4", 4);
    CHECK_EQ (ut_status_int (client, "held"), 4);
    //  Up to 3 from a: releases 1 and 3, not z's 2, not a's 4. Status is
    //  asked on the same connection, so it is answered after the release.
    s_delivered_leaves (a, 3, 2);
    //  z cannot release a's messages by naming one of them, nor its own.
    s_delivered_leaves (z, 4, 2);
    s_delivered_leaves (z, 2, 1);
    s_delivered_leaves (a, 4, 0);
    ut_raw_destroy (&a);
    ut_raw_destroy (&z);
    act_client_destroy (&client);
    ut_broker_stop (&b);
}

//  Messages for a name held by an instance that goes away move to another
//  instance, after what it was already sent: its `delivered` for an earlier
//  message does not release them before it has them.
static void
test_moved_messages_stay_held (void)
{
    ut_broker_t b;
    ut_broker_init (&b, 0);
    act_client_t *client = ut_client_new (&b, "cli");
    ut_raw_t *a = ut_raw_actor (&b, "sup", "a", false, NULL);
    ut_raw_t *z = ut_raw_actor (&b, "sup", "z", false, NULL);
    //  Name-addressed: the broker takes turns between the instances.
    for (int i = 1; i <= 4; i++) {
        char data [8];
        snprintf (data, sizeof data, "m%d", i);
        CHECK_EQ (ut_durable_ping (client, "sup", data), i);
    }
    //  Which instance got seq 1 depends on where the rotation stood.
    msg_t *got = ut_raw_expect (a, MSG_TYPE_PING);
    bool a_first = got->seq == 1;
    CHECK_EQ (got->seq, a_first ? 1 : 2);
    msg_destroy (&got);
    ut_raw_t *first = a_first ? a : z, *second = a_first ? z : a;
    if (a_first) {
        ut_raw_expect_ping (a, "m3", 3);
        ut_raw_expect_ping (z, "m2", 2);
        ut_raw_expect_ping (z, "m4", 4);
    }
    else {
        ut_raw_expect_ping (a, "m4", 4);
        ut_raw_expect_ping (z, "m1", 1);
        ut_raw_expect_ping (z, "m3", 3);
    }
    //  The instance that had 1 and 3 leaves without handling them.
    ut_raw_bye (first);
    //  The other gets 1 and 3 now, after 2 and 4.
    ut_raw_expect_ping (second, "m1", 1);
    ut_raw_expect_ping (second, "m3", 3);
    //  Its `delivered 4` (what it had been sent before them) leaves 1, 3.
    s_delivered_leaves (second, 4, 2);
    s_delivered_leaves (second, 3, 0);
    ut_raw_destroy (&a);
    ut_raw_destroy (&z);
    act_client_destroy (&client);
    ut_broker_stop (&b);
}

static void
test_held_survives_restart (void)
{
    ut_broker_t b;
    ut_broker_init (&b, 0);
    act_client_t *client = ut_client_new (&b, "cli");
    CHECK_EQ (ut_durable_ping (client, "later", "before-1"), 1);
    CHECK_EQ (ut_durable_ping (client, "later", "before-2"), 2);
    act_client_destroy (&client);
    ut_broker_stop (&b);

    ut_broker_start (&b);
    client = ut_client_new (&b, "cli");
    msg_t *status = ut_status (client);
    CHECK_EQ (msg_int (status, "journal_head", -1), 2);
    CHECK_EQ (msg_int (status, "held", -1), 2);
    msg_destroy (&status);
    CHECK_EQ (ut_durable_ping (client, "later", "after"), 3);

    ut_raw_t *later = ut_raw_actor (&b, "later", "l", false, NULL);
    ut_raw_expect_ping (later, "before-1", 1);
    ut_raw_expect_ping (later, "before-2", 2);
    ut_raw_expect_ping (later, "after", 3);
    for (uint64_t i = 1; i <= 3; i++)
        ut_raw_delivered (later, i);
    status = ut_raw_status (later);
    CHECK_EQ (msg_int (status, "held", -1), 0);
    msg_destroy (&status);
    ut_raw_destroy (&later);
    act_client_destroy (&client);
    ut_broker_stop (&b);

    //  The releases were journaled too: nothing comes back.
    ut_broker_start (&b);
    client = ut_client_new (&b, "cli");
    status = ut_status (client);
    CHECK_EQ (msg_int (status, "journal_head", -1), 3);
    CHECK_EQ (msg_int (status, "held", -1), 0);
    msg_destroy (&status);
    CHECK_EQ (ut_durable_ping (client, "topic:audit", "next"), 4);
    act_client_destroy (&client);
    ut_broker_stop (&b);
}

//  Reads the journal. Caller owns result.
static msg_t *
s_journal_read (act_client_t *client, int64_t from, int64_t limit, const char *type, const char *to)
{
    msg_t *req = act_client_msg_new (client, MSG_TYPE_JOURNAL_READ, "broker");
    msg_set_int (req, "from", from);
    if (limit)
        msg_set_int (req, "limit", limit);
    if (type)
        msg_set_str (req, "type", type);
    if (to)
        msg_set_str (req, "to", to);
    msg_t *batch = NULL;
    CHECK_OK (act_client_call (client, &req, UT_WAIT_MS, &batch));
    CHECK_EQ (batch->type->id, MSG_TYPE_JOURNAL_BATCH);
    return batch;
}

//  Checks a batch: its entries' seqs written as "1,2,3", next and head.
static void
s_check_batch (act_client_t *client, int64_t from, int64_t limit, const char *type, const char *to,
               const char *seqs, int64_t next)
{
    msg_t *batch = s_journal_read (client, from, limit, type, to);
    char got [256] = "";
    size_t len = 0;
    size_t i;
    json_t *entry;
    json_array_foreach (json_object_get (batch->body, "entries"), i, entry) {
        msg_error_t err;
        msg_t *m = msg_decode (json_string_value (entry), json_string_length (entry), MSG_DECODE_FULL, &err);
        if (!m)
            UNIT_FAIL ("journal entry %zu does not decode: %s", i, err.reason);
        CHECK (m->durable);
        if (type)
            CHECK_STR_EQ (m->type->name, type);
        len += (size_t) snprintf (got + len, sizeof got - len, "%s%llu", i ? "," : "",
                                  (unsigned long long) m->seq);
        msg_destroy (&m);
    }
    CHECK_STR_EQ (got, seqs);
    CHECK_EQ (msg_int (batch, "next", -1), next);
    CHECK_EQ (msg_int (batch, "head", -1), 5);
    msg_destroy (&batch);
}

static void
test_journal_read (void)
{
    ut_broker_t b;
    ut_broker_init (&b, 0);
    act_client_t *client = ut_client_new (&b, "cli");
    //  seq 1 ping->alpha, 2 status->beta, 3 ping->beta@x, 4 ping->topic,
    //  5 status->alpha
    CHECK_EQ (ut_durable_ping (client, "alpha", "1"), 1);
    msg_t *st = act_client_msg_new (client, MSG_TYPE_STATUS, "beta");
    uint64_t seq = 0;
    CHECK_OK (act_client_send_durable (client, &st, UT_WAIT_MS, &seq));
    CHECK_EQ (seq, 2);
    CHECK_EQ (ut_durable_ping (client, "beta@x", "3"), 3);
    CHECK_EQ (ut_durable_ping (client, "topic:news", "4"), 4);
    st = act_client_msg_new (client, MSG_TYPE_STATUS, "alpha");
    CHECK_OK (act_client_send_durable (client, &st, UT_WAIT_MS, &seq));
    CHECK_EQ (seq, 5);
    //  Non-durable traffic is not journaled.
    msg_t *reply = NULL;
    msg_t *ping = ut_ping_new (client, "broker", "not journaled");
    CHECK_OK (act_client_call (client, &ping, UT_WAIT_MS, &reply));
    msg_destroy (&reply);

    s_check_batch (client, 1, 0, NULL, NULL, "1,2,3,4,5", 6);
    s_check_batch (client, 0, 0, NULL, NULL, "1,2,3,4,5", 6);
    s_check_batch (client, 2, 2, NULL, NULL, "2,3", 4);
    s_check_batch (client, 4, 2, NULL, NULL, "4,5", 6);
    s_check_batch (client, 1, 0, "ping", NULL, "1,3,4", 6);
    s_check_batch (client, 1, 0, "status", NULL, "2,5", 6);
    s_check_batch (client, 1, 1, "status", NULL, "2", 3);
    s_check_batch (client, 1, 0, NULL, "beta", "2,3", 6);
    //  An instance gets what was sent to it and to its bare name, not what
    //  was sent to another instance.
    s_check_batch (client, 1, 0, NULL, "beta@x", "2,3", 6);
    s_check_batch (client, 1, 0, NULL, "beta@y", "2", 6);
    s_check_batch (client, 1, 0, NULL, "alpha", "1,5", 6);
    s_check_batch (client, 1, 0, NULL, "topic:news", "4", 6);
    s_check_batch (client, 1, 0, "ping", "alpha", "1", 6);
    s_check_batch (client, 1, 0, NULL, "gamma", "", 6);
    s_check_batch (client, 6, 0, NULL, NULL, "", 6);
    s_check_batch (client, 100, 0, NULL, NULL, "", 6);

    //  The entry is the message as delivered: seq stamped, body intact.
    msg_t *batch = s_journal_read (client, 3, 1, NULL, NULL);
    json_t *entry = json_array_get (json_object_get (batch->body, "entries"), 0);
    msg_t *m = msg_decode (json_string_value (entry), json_string_length (entry), MSG_DECODE_FULL, NULL);
    CHECK_NOT_NULL (m);
    CHECK_STR_EQ (m->to, "beta@x");
    CHECK_STR_EQ (m->from, act_client_address (client));
    CHECK_STR_EQ (msg_str (m, "data", ""), "3");
    msg_destroy (&m);
    msg_destroy (&batch);
    act_client_destroy (&client);
    ut_broker_stop (&b);
}

//  The same durable message twice (a sender's resend, an actor's follow-on
//  sent again on a replay): the second is acked with the first's sequence
//  number, and neither journaled nor delivered again; it is still known
//  after a broker restart.
static void
test_durable_repeat_journaled_once (void)
{
    ut_broker_t b;
    ut_broker_init (&b, 0);
    act_client_t *client = ut_client_new (&b, "cli");
    ut_raw_t *sink = ut_raw_actor (&b, "sink", "s", false, NULL);
    msg_t *ping = ut_ping_new (client, "sink", "once");
    msg_t *again = msg_dup (ping);
    msg_t *third = msg_dup (ping);
    uint64_t seq = 0, seq2 = 0, seq3 = 0;
    CHECK_OK (act_client_send_durable (client, &ping, UT_WAIT_MS, &seq));
    CHECK_EQ (seq, 1);
    ut_raw_expect_ping (sink, "once", 1);
    CHECK_OK (act_client_send_durable (client, &again, UT_WAIT_MS, &seq2));
    CHECK_EQ (seq2, 1);
    CHECK_EQ (ut_status_rejected (client, "repeat"), 1);
    CHECK_EQ (ut_status_int (client, "journal_head"), 1);
    //  Not delivered again: the next thing the sink gets is the marker.
    CHECK_EQ (ut_durable_ping (client, "sink", "marker"), 2);
    ut_raw_expect_ping (sink, "marker", 2);
    ut_raw_delivered (sink, 2);
    ut_raw_destroy (&sink);
    act_client_destroy (&client);
    ut_broker_stop (&b);
    ut_broker_start (&b);
    client = ut_client_new (&b, "cli");
    msg_set_from (third, act_client_address (client));
    CHECK_OK (act_client_send_durable (client, &third, UT_WAIT_MS, &seq3));
    CHECK_EQ (seq3, 1);
    CHECK_EQ (ut_status_int (client, "journal_head"), 2);
    act_client_destroy (&client);
    ut_broker_stop (&b);
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_durable_ack_seq),
    UNIT_TEST (test_durable_repeat_journaled_once),
    UNIT_TEST (test_held_until_registered),
    UNIT_TEST (test_delivered_is_cumulative),
    UNIT_TEST (test_moved_messages_stay_held),
    UNIT_TEST (test_held_survives_restart),
    UNIT_TEST (test_journal_read),
};

UNIT_SUITE (unit_suite_broker_durable, s_tests);
