//  test_broker_limits - the broker's bounds: redelivery in flight per actor
//  (BRK_INFLIGHT_MAX) and the largest durable message (BRK_READ_BYTES_MAX).

#include "support.h"
#include "../../broker/broker.h"
#include "../../broker/broker_internal.h"

#include <stdlib.h>
#include <string.h>

#define N_HELD 25000

//  Sends `n` durable pings to `to` pipelined, then waits for all acks.
static void
s_feed (ut_raw_t *feeder, const char *to, int n)
{
    for (int i = 0; i < n; i++) {
        msg_t *ping = ut_raw_msg_new (feeder, MSG_TYPE_PING, to);
        ping->durable = true;
        msg_set_str (ping, "data", "x");
        ut_raw_send (feeder, &ping);
    }
    int acks = 0;
    while (acks < n) {
        msg_t *m = ut_raw_recv (feeder, UT_WAIT_MS);
        if (!m)
            UNIT_FAIL ("only %d acks", acks);
        if (m->type->id == MSG_TYPE_ERROR)
            UNIT_FAIL ("error: %s", msg_str (m, "reason", ""));
        if (m->type->id == MSG_TYPE_ACK)
            acks++;
        msg_destroy (&m);
    }
}

//  Counts pings until the status reply (asked on the same connection, so
//  everything the broker sent before comes first). Returns the count and
//  the last ping's seq; *held from the reply.
static int
s_count (ut_raw_t *peer, uint64_t *last, int64_t *held)
{
    msg_t *req = ut_raw_msg_new (peer, MSG_TYPE_BROKER_STATUS, "broker");
    ut_raw_send (peer, &req);
    int n = 0;
    for (;;) {
        msg_t *m = ut_raw_recv (peer, UT_WAIT_MS);
        if (!m)
            UNIT_FAIL ("no status reply");
        if (m->type->id == MSG_TYPE_BROKER_STATUS_REPLY) {
            *held = msg_int (m, "held", -1);
            msg_destroy (&m);
            return n;
        }
        CHECK_EQ (m->type->id, MSG_TYPE_PING);
        *last = m->seq;
        n++;
        msg_destroy (&m);
    }
}

static void
test_redeliver_bounded (void)
{
    ut_broker_t b;
    ut_broker_init (&b, 0);
    ut_raw_t *feeder = ut_raw_actor (&b, "feeder", "f", false, NULL);
    s_feed (feeder, "slow", N_HELD);
    ut_raw_t *s1 = ut_raw_actor (&b, "slow", "s1", false, NULL);
    uint64_t last = 0;
    int64_t held = 0;
    CHECK_EQ (s_count (s1, &last, &held), BRK_INFLIGHT_MAX);
    CHECK_EQ (held, N_HELD);
    CHECK_EQ (last, BRK_INFLIGHT_MAX);
    //  Nothing more until it releases some.
    CHECK_EQ (s_count (s1, &last, &held), 0);
    //  Releasing half lets half as many more out.
    ut_raw_delivered (s1, BRK_INFLIGHT_MAX / 2);
    CHECK_EQ (s_count (s1, &last, &held), BRK_INFLIGHT_MAX / 2);
    CHECK_EQ (held, N_HELD - BRK_INFLIGHT_MAX / 2);
    CHECK_EQ (last, BRK_INFLIGHT_MAX + BRK_INFLIGHT_MAX / 2);
    //  A second instance takes what nobody has, up to its own bound.
    ut_raw_t *s2 = ut_raw_actor (&b, "slow", "s2", false, NULL);
    int64_t h2;
    uint64_t last2 = 0;
    CHECK_EQ (s_count (s2, &last2, &h2), N_HELD - BRK_INFLIGHT_MAX - BRK_INFLIGHT_MAX / 2);
    CHECK_EQ (last2, N_HELD);
    //  s1 leaves: its 10000 go to s2, which has 10000 in flight: none yet.
    ut_raw_bye (s1);
    CHECK_EQ (s_count (s2, &last2, &h2), 0);
    CHECK_EQ (h2, 20000);
    ut_raw_delivered (s2, last2);
    CHECK_EQ (s_count (s2, &last2, &h2), BRK_INFLIGHT_MAX);
    CHECK_EQ (last2, 15000);
    CHECK_EQ (h2, 10000);
    ut_raw_delivered (s2, last2);
    CHECK_EQ (s_count (s2, &last2, &h2), 0);
    CHECK_EQ (h2, 0);
    ut_raw_destroy (&s1);
    ut_raw_destroy (&s2);
    ut_raw_destroy (&feeder);
    ut_broker_stop (&b);
}

static void
s_send_big (ut_raw_t *peer, const char *to, size_t size)
{
    msg_t *ping = ut_raw_msg_new (peer, MSG_TYPE_PING, to);
    ping->durable = true;
    char *data = malloc (size + 1);
    memset (data, 'a', size);
    data [size] = 0;
    msg_set_str (ping, "data", data);
    free (data);
    ut_raw_send (peer, &ping);
}

static void
test_durable_too_big (void)
{
    ut_broker_t b;
    ut_broker_init (&b, 0);
    ut_raw_t *sink = ut_raw_actor (&b, "sink", "s", false, NULL);
    ut_raw_t *feeder = ut_raw_actor (&b, "feeder", "f", false, NULL);
    s_send_big (feeder, "sink", BRK_READ_BYTES_MAX);      // plus envelope: over
    msg_t *err = ut_raw_expect (feeder, MSG_TYPE_ERROR);
    CHECK_EQ (msg_int (err, "code", 0), MSG_ETOOBIG);
    CHECK_STR_EQ (msg_str (err, "reason", ""), "durable messages are limited to 921600 bytes");
    msg_destroy (&err);
    s_send_big (feeder, "sink", BRK_READ_BYTES_MAX - 1000);
    msg_t *ack = ut_raw_expect (feeder, MSG_TYPE_ACK);
    CHECK_EQ (msg_int (ack, "seq", 0), 1);
    msg_destroy (&ack);
    msg_t *status = ut_raw_status (feeder);
    CHECK_EQ (ut_rejected (status, "too_big"), 1);
    CHECK_EQ (ut_rejected (status, "store"), 0);
    CHECK_EQ (ut_rejected (status, "durable_stream"), 0);
    msg_destroy (&status);
    msg_t *ping = ut_raw_expect (sink, MSG_TYPE_PING);
    CHECK_EQ (ping->seq, 1);
    msg_destroy (&ping);
    ut_raw_destroy (&sink);
    ut_raw_destroy (&feeder);
    ut_broker_stop (&b);
}

//  cert.add carries a private key in clear: sent durable it is refused,
//  so the key never reaches the journal; sent plain it is delivered.
static void
test_durable_secret_refused (void)
{
    ut_broker_t b;
    ut_broker_init (&b, 0);
    ut_raw_t *sink = ut_raw_actor (&b, "release-keeper", "s", false, NULL);
    ut_raw_t *feeder = ut_raw_actor (&b, "feeder", "f", false, NULL);
    for (int durable = 1; durable >= 0; durable--) {
        msg_t *add = ut_raw_msg_new (feeder, MSG_TYPE_CERT_ADD, "release-keeper");
        add->durable = durable;
        msg_set_str (add, "app", "a");
        msg_set_str (add, "cert", "-----BEGIN CERTIFICATE-----");
        msg_set_str (add, "key", "-----BEGIN PRIVATE KEY-----");
        ut_raw_send (feeder, &add);
    }
    msg_t *err = ut_raw_expect (feeder, MSG_TYPE_ERROR);
    CHECK_STR_EQ (msg_str (err, "reason", ""),
                  "this message carries a secret and is never journaled: send it without dur");
    msg_destroy (&err);
    msg_t *got = ut_raw_expect (sink, MSG_TYPE_CERT_ADD);
    CHECK (!got->durable);
    CHECK_EQ (got->seq, 0);
    msg_destroy (&got);
    msg_t *status = ut_raw_status (feeder);
    CHECK_EQ (ut_rejected (status, "durable_secret"), 1);
    CHECK_EQ (msg_int (status, "journal_head", -1), 0);
    msg_destroy (&status);
    ut_raw_destroy (&sink);
    ut_raw_destroy (&feeder);
    ut_broker_stop (&b);
}

//  route.app carries certificates' private keys: only actors named router
//  hear it. A client, or an actor of another name, subscribing is refused
//  and gets nothing published there.
static void
test_guarded_topic (void)
{
    ut_broker_t b;
    ut_broker_init (&b, 0);
    ut_raw_t *router = ut_raw_actor (&b, "router", "r", false, "route.app");
    ut_raw_t *spy = ut_raw_actor (&b, "spy", "s", false, "route.app");
    ut_raw_t *client = ut_raw_new (&b);
    msg_t *welcome = ut_raw_hello (client, "cli", "c", "client", false, "route.app");
    CHECK_EQ (welcome->type->id, MSG_TYPE_WELCOME);
    msg_destroy (&welcome);
    msg_t *sub = ut_raw_msg_new (spy, MSG_TYPE_SUBSCRIBE, "broker");
    msg_set_str (sub, "topic", "route.app");
    ut_raw_send (spy, &sub);
    ut_raw_expect_error (spy, MSG_EBODY);
    ut_raw_t *rk = ut_raw_actor (&b, "release-keeper", "k", false, NULL);
    msg_t *route = ut_raw_msg_new (rk, MSG_TYPE_ROUTE_APP, "topic:route.app");
    msg_set_str (route, "app", "a");
    ut_raw_send (rk, &route);
    msg_t *got = ut_raw_expect (router, MSG_TYPE_ROUTE_APP);
    msg_destroy (&got);
    got = ut_raw_recv (spy, 300);
    CHECK (got == NULL);
    msg_destroy (&got);
    got = ut_raw_recv (client, 300);
    CHECK (got == NULL);
    msg_destroy (&got);
    ut_raw_destroy (&rk);
    ut_raw_destroy (&client);
    ut_raw_destroy (&spy);
    ut_raw_destroy (&router);
    ut_broker_stop (&b);
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_guarded_topic),
    UNIT_TEST (test_redeliver_bounded),
    UNIT_TEST (test_durable_too_big),
    UNIT_TEST (test_durable_secret_refused),
};

UNIT_SUITE (unit_suite_broker_limits, s_tests);
