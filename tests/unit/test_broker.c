//  test_broker - the broker's peers, routing and bad input, against real
//  peers on 127.0.0.1
//
//  Every test starts a broker child (support.h: brk_run on a free port with
//  its journal under the test's temp dir), waits for it by registering a
//  client, and drives it with act_client and with raw DEALER peers
//  (ut_raw_t) where a test must say hello as an actor, send bad input, or
//  stay silent: tokens, routing by address, name and topic, refusals
//  (no route, not registered, spoofed, singleton), malformed frames, and
//  heartbeat expiry. Durable delivery and the journal are in
//  test_broker_durable.c. Waits are deadlines on a condition (a message
//  arriving, a process exiting), never sleeps.

#include "support.h"

#include <msgpack.h>
#include <unistd.h>
#include <zmq.h>

#define FAST_HB_MS      100     // heartbeat for the expiry test

// ---------------------------------------------------------------------------
//  Tests

static void
test_hello_bad_token (void)
{
    ut_broker_t b;
    ut_broker_init (&b, 0);
    act_client_t *client = ut_client_new (&b, "cli");
    int rc = 0;
    act_client_t *bad = act_client_new (b.endpoint, "not-the-token", "cli", UT_WAIT_MS, &rc);
    CHECK_NULL (bad);
    CHECK_EQ (rc, ACT_EAUTH);
    bad = act_client_new (b.endpoint, "", "cli", UT_WAIT_MS, &rc);
    CHECK_NULL (bad);
    CHECK_EQ (rc, ACT_EAUTH);

    //  An actor with a bad token is refused too, and never listed.
    ut_raw_t *raw = ut_raw_new (&b);
    snprintf (raw->address, sizeof raw->address, "intruder@x");
    msg_t *hello = ut_raw_msg_new (raw, MSG_TYPE_HELLO, "broker");
    msg_set_str (hello, "name", "intruder");
    msg_set_str (hello, "instance", "x");
    msg_set_str (hello, "host", "localhost");
    msg_set_int (hello, "pid", getpid ());
    msg_set_str (hello, "role", "actor");
    msg_set_str (hello, "token", UT_TOKEN "-but-longer");
    ut_raw_send (raw, &hello);
    ut_raw_expect_error (raw, ACT_EAUTH);

    msg_t *status = ut_status (client);
    CHECK_EQ (ut_rejected (status, "auth"), 3);
    CHECK (!ut_status_lists (status, "intruder", "x"));
    CHECK_EQ (json_array_size (json_object_get (status->body, "peers")), 1);
    msg_destroy (&status);
    ut_raw_destroy (&raw);
    act_client_destroy (&client);
    ut_broker_stop (&b);
}

static void
test_route_by_name_and_instance (void)
{
    ut_broker_t b;
    ut_broker_init (&b, 0);
    act_client_t *client = ut_client_new (&b, "cli");
    ut_client_subscribe (client, "actor.down");
    ut_raw_t *one = ut_raw_actor (&b, "svc", "one", false, NULL);
    ut_raw_t *two = ut_raw_actor (&b, "svc", "two", false, NULL);

    //  name@instance reaches exactly that peer, with the bytes as sent.
    ut_client_ping (client, "svc@two", "to-two");
    msg_t *got = ut_raw_expect (two, MSG_TYPE_PING);
    CHECK_STR_EQ (msg_str (got, "data", ""), "to-two");
    CHECK_STR_EQ (got->from, act_client_address (client));
    CHECK_STR_EQ (got->to, "svc@two");
    //  A reply addressed to the client's name@instance reaches it.
    msg_t *pong = ut_raw_msg_new (two, MSG_TYPE_PONG, got->from);
    msg_set_corr (pong, got->id);
    msg_set_str (pong, "data", "back");
    ut_raw_send (two, &pong);
    msg_t *back = ut_client_expect (client, MSG_TYPE_PONG);
    CHECK_STR_EQ (back->corr, got->id);
    CHECK_STR_EQ (back->from, "svc@two");
    CHECK_STR_EQ (msg_str (back, "data", ""), "back");
    msg_destroy (&back);
    msg_destroy (&got);
    //  The first thing `one` sees is its own message: `to-two` never came.
    ut_client_ping (client, "svc@one", "to-one");
    ut_raw_expect_ping (one, "to-one", 0);

    //  By name: one live instance each time, rotating between the two.
    ut_client_ping (client, "svc", "by-name-1");
    ut_client_ping (client, "svc", "by-name-2");
    msg_t *a = ut_raw_expect (one, MSG_TYPE_PING);
    msg_t *c = ut_raw_expect (two, MSG_TYPE_PING);
    CHECK_STR_EQ (a->to, "svc");
    CHECK_STR_EQ (c->to, "svc");
    CHECK (strcmp (msg_str (a, "data", ""), msg_str (c, "data", "")) != 0);
    msg_destroy (&a);
    msg_destroy (&c);

    //  When one instance leaves, the name goes to the other.
    ut_raw_bye (one);
    msg_t *down = ut_client_expect (client, MSG_TYPE_ACTOR_DOWN);
    CHECK_STR_EQ (msg_str (down, "instance", ""), "one");
    msg_destroy (&down);
    ut_raw_destroy (&one);
    ut_client_ping (client, "svc", "survivor");
    ut_raw_expect_ping (two, "survivor", 0);

    ut_raw_destroy (&two);
    act_client_destroy (&client);
    ut_broker_stop (&b);
}

static void
test_route_topic (void)
{
    ut_broker_t b;
    ut_broker_init (&b, 0);
    //  Two subscribers: a client through `subscribe`, an actor through its
    //  hello topics; a third peer is not subscribed.
    act_client_t *reader = ut_client_new (&b, "reader");
    ut_client_subscribe (reader, "news");
    ut_raw_t *listener = ut_raw_actor (&b, "listener", "l", false, "news");
    ut_raw_t *bystander = ut_raw_actor (&b, "bystander", "b", false, NULL);
    act_client_t *pub = ut_client_new (&b, "pub");

    ut_client_ping (pub, "topic:news", "extra");
    msg_t *got = ut_client_expect (reader, MSG_TYPE_PING);
    CHECK_STR_EQ (got->to, "topic:news");
    CHECK_STR_EQ (got->from, act_client_address (pub));
    CHECK_STR_EQ (msg_str (got, "data", ""), "extra");
    msg_destroy (&got);
    ut_raw_expect_ping (listener, "extra", 0);
    //  The bystander's first message is the one sent to it afterwards.
    ut_client_ping (pub, "bystander", "marker");
    ut_raw_expect_ping (bystander, "marker", 0);

    //  A durable publish is journaled, acked, then fanned out with its seq.
    uint64_t seq = ut_durable_ping (pub, "topic:news", "durable-extra");
    CHECK_EQ (seq, 1);
    got = ut_client_expect (reader, MSG_TYPE_PING);
    CHECK_EQ (got->seq, 1);
    CHECK_STR_EQ (msg_str (got, "data", ""), "durable-extra");
    msg_destroy (&got);
    ut_raw_expect_ping (listener, "durable-extra", 1);
    //  Topics are not held for anyone.
    CHECK_EQ (ut_status_int (pub, "held"), 0);

    //  A bad topic name is refused.
    msg_t *sub = act_client_msg_new (reader, MSG_TYPE_SUBSCRIBE, "broker");
    msg_set_str (sub, "topic", "Not A Topic");
    msg_t *reply = NULL;
    CHECK_EQ (act_client_call (reader, &sub, UT_WAIT_MS, &reply), MSG_EBODY);
    msg_destroy (&reply);
    CHECK_EQ (ut_status_rejected (reader, "bad_control"), 1);

    ut_raw_destroy (&listener);
    ut_raw_destroy (&bystander);
    act_client_destroy (&reader);
    act_client_destroy (&pub);
    ut_broker_stop (&b);
}

static void
test_no_route (void)
{
    ut_broker_t b;
    ut_broker_init (&b, 0);
    act_client_t *client = ut_client_new (&b, "cli");
    const char *targets [] = { "nobody", "nobody@there" };
    for (size_t i = 0; i < 2; i++) {
        msg_t *ping = ut_ping_new (client, targets [i], "anyone?");
        char id [MSG_ID_LEN + 1];
        memcpy (id, ping->id, sizeof id);
        msg_t *reply = NULL;
        CHECK_EQ (act_client_call (client, &ping, UT_WAIT_MS, &reply), ACT_ENOROUTE);
        CHECK_EQ (reply->type->id, MSG_TYPE_ERROR);
        CHECK_STR_EQ (reply->corr, id);
        CHECK_STR_EQ (msg_str (reply, "type", ""), "ping");
        msg_destroy (&reply);
    }
    //  Names route to actors only; a client is reachable by its address.
    act_client_t *lonely = ut_client_new (&b, "lonely");
    msg_t *ping = ut_ping_new (client, "lonely", "by-name");
    msg_t *reply = NULL;
    CHECK_EQ (act_client_call (client, &ping, UT_WAIT_MS, &reply), ACT_ENOROUTE);
    msg_destroy (&reply);
    ut_client_ping (client, act_client_address (lonely), "by-address");
    msg_t *got = ut_client_expect (lonely, MSG_TYPE_PING);
    CHECK_STR_EQ (msg_str (got, "data", ""), "by-address");
    msg_destroy (&got);
    //  A reply nobody can take is dropped and counted, not answered.
    msg_t *pong = act_client_msg_new (client, MSG_TYPE_PONG, "gone@away");
    CHECK_OK (act_client_send (client, &pong));
    CHECK_EQ (ut_status_rejected (client, "no_route"), 4);
    act_client_destroy (&lonely);
    act_client_destroy (&client);
    ut_broker_stop (&b);
}

static void
test_not_registered (void)
{
    ut_broker_t b;
    ut_broker_init (&b, 0);
    act_client_t *client = ut_client_new (&b, "cli");
    ut_raw_t *raw = ut_raw_new (&b);
    snprintf (raw->address, sizeof raw->address, "early@bird");
    const char *targets [] = { "broker", "cli" };
    for (size_t i = 0; i < 2; i++) {
        msg_t *ping = ut_raw_msg_new (raw, MSG_TYPE_PING, targets [i]);
        char id [MSG_ID_LEN + 1];
        memcpy (id, ping->id, sizeof id);
        ut_raw_send (raw, &ping);
        msg_t *err = ut_raw_expect (raw, MSG_TYPE_ERROR);
        CHECK_EQ (msg_int (err, "code", 0), ACT_ENOTREG);
        CHECK_STR_EQ (err->corr, id);
        msg_destroy (&err);
    }
    CHECK_EQ (ut_status_rejected (client, "not_registered"), 2);
    //  The same connection may still say hello and be served.
    msg_t *reply = ut_raw_hello (raw, "early", "bird", "actor", false, NULL);
    CHECK_EQ (reply->type->id, MSG_TYPE_WELCOME);
    msg_destroy (&reply);
    msg_t *ping = ut_raw_msg_new (raw, MSG_TYPE_PING, "broker");
    ut_raw_send (raw, &ping);
    msg_t *pong = ut_raw_expect (raw, MSG_TYPE_PONG);
    msg_destroy (&pong);
    ut_raw_destroy (&raw);
    act_client_destroy (&client);
    ut_broker_stop (&b);
}

static void
test_spoofed_sender (void)
{
    ut_broker_t b;
    ut_broker_init (&b, 0);
    act_client_t *client = ut_client_new (&b, "cli");
    ut_raw_t *victim = ut_raw_actor (&b, "victim", "v", false, NULL);
    const char *claims [] = { "victim@v", "other@elsewhere" };
    for (size_t i = 0; i < 2; i++) {
        msg_t *ping = ut_ping_new (client, "victim", "forged");
        msg_set_from (ping, claims [i]);
        msg_t *reply = NULL;
        CHECK_EQ (act_client_call (client, &ping, UT_WAIT_MS, &reply), ACT_ESPOOF);
        msg_destroy (&reply);
    }
    //  The victim never saw the forged pings: its first message is this one.
    ut_client_ping (client, "victim", "genuine");
    msg_t *got = ut_raw_expect (victim, MSG_TYPE_PING);
    CHECK_STR_EQ (msg_str (got, "data", ""), "genuine");
    CHECK_STR_EQ (got->from, act_client_address (client));
    msg_destroy (&got);
    //  A registered connection cannot hello as someone else either.
    msg_t *hello = act_client_msg_new (client, MSG_TYPE_HELLO, "broker");
    msg_set_from (hello, "victim@v");
    msg_set_str (hello, "name", "victim");
    msg_set_str (hello, "instance", "v");
    msg_set_str (hello, "host", "h");
    msg_set_int (hello, "pid", 1);
    msg_set_str (hello, "role", "actor");
    msg_set_str (hello, "token", UT_TOKEN);
    msg_t *reply = NULL;
    CHECK_EQ (act_client_call (client, &hello, UT_WAIT_MS, &reply), ACT_ESPOOF);
    msg_destroy (&reply);
    msg_t *status = ut_status (client);
    CHECK_EQ (ut_rejected (status, "spoofed"), 3);
    CHECK (ut_status_lists (status, "victim", "v"));
    msg_destroy (&status);
    ut_raw_destroy (&victim);
    act_client_destroy (&client);
    ut_broker_stop (&b);
}

//  An envelope the codec would accept but for its type name.
static void
s_send_unknown_type (ut_raw_t *raw)
{
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    char id [MSG_ID_LEN + 1];
    act_rng_id (&raw->wire.rng, id);
    const char *strs [][2] = {
        { "id", id }, { "type", "no.such.type" }, { "from", raw->address },
        { "to", "broker" }, { "corr", "" },
    };
    msgpack_pack_map (&pk, 10);
    msgpack_pack_str_with_body (&pk, "v", 1);
    msgpack_pack_int (&pk, MSG_VERSION);
    msgpack_pack_str_with_body (&pk, "seq", 3);
    msgpack_pack_uint64 (&pk, 0);
    for (size_t i = 0; i < sizeof strs / sizeof strs [0]; i++) {
        msgpack_pack_str_with_body (&pk, strs [i][0], strlen (strs [i][0]));
        msgpack_pack_str_with_body (&pk, strs [i][1], strlen (strs [i][1]));
    }
    msgpack_pack_str_with_body (&pk, "ts", 2);
    msgpack_pack_int64 (&pk, act_wall_ms ());
    msgpack_pack_str_with_body (&pk, "dur", 3);
    msgpack_pack_false (&pk);
    msgpack_pack_str_with_body (&pk, "body", 4);
    msgpack_pack_map (&pk, 0);
    ut_raw_send_bytes (raw, sbuf.data, sbuf.size);
    msgpack_sbuffer_destroy (&sbuf);
}

static void
test_bad_input (void)
{
    ut_broker_t b;
    ut_broker_init (&b, 0);
    act_client_t *client = ut_client_new (&b, "cli");
    ut_raw_t *raw = ut_raw_new (&b);

    //  Garbage of several shapes: each gets an error and counts as malformed.
    msg_t *valid = ut_raw_msg_new (raw, MSG_TYPE_PING, "broker");
    char *encoded;
    size_t encoded_len;
    CHECK_OK (msg_encode (valid, &encoded, &encoded_len, NULL));
    msg_destroy (&valid);
    struct {
        const void *data;
        size_t len;
        int code;
    } garbage [] = {
        { "\xc1\xc1 not msgpack", 14, MSG_EMALFORMED },
        { "", 0, MSG_EMALFORMED },
        { "\x2a", 1, MSG_ENOTMAP },
        { encoded, encoded_len / 2, MSG_EMALFORMED },
    };
    size_t garbage_count = sizeof garbage / sizeof garbage [0];
    for (size_t i = 0; i < garbage_count; i++) {
        ut_raw_send_bytes (raw, garbage [i].data, garbage [i].len);
        ut_raw_expect_error (raw, garbage [i].code);
    }
    free (encoded);
    //  Over the size limit (but under the socket's): too_big.
    size_t big_len = MSG_MAX_SIZE + 16;
    char *big = act_calloc (1, big_len);
    ut_raw_send_bytes (raw, big, big_len);
    free (big);
    ut_raw_expect_error (raw, MSG_ETOOBIG);
    //  Two and three frames: refused whole, the connection stays usable.
    CHECK_EQ (zmq_send (raw->wire.sock, "a", 1, ZMQ_SNDMORE), 1);
    CHECK_EQ (zmq_send (raw->wire.sock, "b", 1, 0), 1);
    ut_raw_expect_error (raw, MSG_EMALFORMED);
    CHECK_EQ (zmq_send (raw->wire.sock, "a", 1, ZMQ_SNDMORE), 1);
    CHECK_EQ (zmq_send (raw->wire.sock, "b", 1, ZMQ_SNDMORE), 1);
    CHECK_EQ (zmq_send (raw->wire.sock, "c", 1, 0), 1);
    ut_raw_expect_error (raw, MSG_EMALFORMED);
    s_send_unknown_type (raw);
    ut_raw_expect_error (raw, MSG_EBADTYPE);

    msg_t *status = ut_status (client);
    CHECK_EQ (ut_rejected (status, "malformed"), (int64_t) garbage_count);
    CHECK_EQ (ut_rejected (status, "too_big"), 1);
    CHECK_EQ (ut_rejected (status, "multipart"), 2);
    CHECK_EQ (ut_rejected (status, "unknown_type"), 1);
    msg_destroy (&status);

    //  The broker keeps serving, that very connection included; a
    //  registered peer's garbage is answered and counted the same way.
    msg_t *reply = ut_raw_hello (raw, "sturdy", "s", "actor", false, NULL);
    CHECK_EQ (reply->type->id, MSG_TYPE_WELCOME);
    msg_destroy (&reply);
    ut_raw_send_bytes (raw, "\xc1", 1);
    ut_raw_expect_error (raw, MSG_EMALFORMED);
    s_send_unknown_type (raw);
    ut_raw_expect_error (raw, MSG_EBADTYPE);
    ut_client_ping (client, "sturdy", "still-there");
    ut_raw_expect_ping (raw, "still-there", 0);
    status = ut_raw_status (raw);
    CHECK_EQ (ut_rejected (status, "malformed"), (int64_t) garbage_count + 1);
    CHECK_EQ (ut_rejected (status, "unknown_type"), 2);
    CHECK (ut_status_lists (status, "sturdy", "s"));
    msg_destroy (&status);
    ut_raw_destroy (&raw);
    act_client_destroy (&client);
    ut_broker_stop (&b);
}

static void
test_singleton (void)
{
    ut_broker_t b;
    ut_broker_init (&b, 0);
    act_client_t *watcher = ut_client_new (&b, "watcher");
    ut_client_subscribe (watcher, "actor.down");
    ut_raw_t *first = ut_raw_actor (&b, "solo", "a", true, NULL);

    //  A second instance is refused while the first is live, whether or
    //  not it claims to be a singleton itself.
    ut_raw_t *second = ut_raw_new (&b);
    for (int claim = 1; claim >= 0; claim--) {
        msg_t *reply = ut_raw_hello (second, "solo", "b", "actor", claim, NULL);
        CHECK_EQ (reply->type->id, MSG_TYPE_ERROR);
        CHECK_EQ (msg_int (reply, "code", 0), ACT_EREFUSED);
        CHECK_NOT_NULL (strstr (msg_str (reply, "reason", ""), "solo@a"));
        msg_destroy (&reply);
    }
    //  A client may share the name: singletons are about actors.
    act_client_t *namesake = ut_client_new (&b, "solo");
    act_client_destroy (&namesake);

    //  The same address again is the same actor reconnecting: it replaces
    //  the old connection.
    ut_raw_t *again = ut_raw_actor (&b, "solo", "a", true, NULL);
    msg_t *down = ut_client_expect (watcher, MSG_TYPE_ACTOR_DOWN);
    CHECK_STR_EQ (msg_str (down, "instance", ""), "a");
    CHECK_STR_EQ (msg_str (down, "reason", ""), "replaced");
    msg_destroy (&down);

    //  Once it has left, another instance may take the name.
    ut_raw_bye (again);
    down = ut_client_expect (watcher, MSG_TYPE_ACTOR_DOWN);
    CHECK_STR_EQ (msg_str (down, "instance", ""), "a");
    CHECK_STR_EQ (msg_str (down, "reason", ""), "bye");
    msg_destroy (&down);
    msg_t *reply = ut_raw_hello (second, "solo", "b", "actor", true, NULL);
    CHECK_EQ (reply->type->id, MSG_TYPE_WELCOME);
    msg_destroy (&reply);

    msg_t *status = ut_status (watcher);
    CHECK_EQ (ut_rejected (status, "singleton"), 2);
    CHECK (ut_status_lists (status, "solo", "b"));
    CHECK (!ut_status_lists (status, "solo", "a"));
    msg_destroy (&status);
    ut_raw_destroy (&first);
    ut_raw_destroy (&again);
    ut_raw_destroy (&second);
    act_client_destroy (&watcher);
    ut_broker_stop (&b);
}

static void
test_heartbeat_expiry (void)
{
    ut_broker_t b;
    ut_broker_init (&b, FAST_HB_MS);
    //  The watcher waits far longer than three intervals in recv: it must
    //  heartbeat at the broker's pace to stay registered.
    act_client_t *watcher = ut_client_new (&b, "watcher");
    ut_client_subscribe (watcher, "actor.down");
    ut_raw_t *quiet = ut_raw_actor (&b, "quiet", "q", false, NULL);
    int64_t since = act_mono_ms ();
    msg_t *down = ut_client_expect (watcher, MSG_TYPE_ACTOR_DOWN);
    int64_t after = act_mono_ms () - since;
    CHECK_STR_EQ (msg_str (down, "name", ""), "quiet");
    CHECK_STR_EQ (msg_str (down, "instance", ""), "q");
    CHECK_STR_EQ (msg_str (down, "reason", ""), "heartbeat");
    CHECK_EQ (msg_int (down, "pid", 0), getpid ());
    msg_destroy (&down);
    //  Liveness is 3 intervals, checked every quarter interval.
    if (after < 2 * FAST_HB_MS || after > 10 * FAST_HB_MS)
        UNIT_FAIL ("dropped after %lld ms, expected about %d", (long long) after, 3 * FAST_HB_MS);

    msg_t *status = ut_status (watcher);
    CHECK (!ut_status_lists (status, "quiet", "q"));
    CHECK (ut_status_lists (status, "watcher", strchr (act_client_address (watcher), '@') + 1));
    msg_destroy (&status);
    //  The dropped peer is told so when it speaks again.
    msg_t *ping = ut_raw_msg_new (quiet, MSG_TYPE_PING, "broker");
    ut_raw_send (quiet, &ping);
    ut_raw_expect_error (quiet, ACT_ENOTREG);
    ut_raw_destroy (&quiet);
    act_client_destroy (&watcher);
    ut_broker_stop (&b);
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_hello_bad_token),
    UNIT_TEST (test_route_by_name_and_instance),
    UNIT_TEST (test_route_topic),
    UNIT_TEST (test_no_route),
    UNIT_TEST (test_not_registered),
    UNIT_TEST (test_spoofed_sender),
    UNIT_TEST (test_bad_input),
    UNIT_TEST (test_singleton),
    UNIT_TEST (test_heartbeat_expiry),
};

UNIT_SUITE (unit_suite_broker, s_tests);
