//  test_act - the actor runtime against a real broker, run with act_run in
//  forked children
//
//  The test actor (tester.h: `tester`, and `counter` with snapshot hooks)
//  runs against a broker child (support.h); the tests drive it through
//  act_client: status and ping answered by the runtime, stop by message and
//  by SIGTERM, act_request timeouts, reconnecting to a restarted broker, and
//  snapshot, restore and journal replay. test_act_fake.c covers what needs
//  a fake broker in its place. No zmq context is live in the test process
//  when it forks, so children inherit nothing of ours; waits are deadlines
//  on a condition.

#include "support.h"
#include "tester.h"

#include <signal.h>
#include <unistd.h>

#define HB_MS           200     // broker and actor agree on it
#define ASK_TIMEOUT_MS  300     // act_request deadline in the timeout test

// ---------------------------------------------------------------------------
//  Clients of the real broker

//  The client's next message of `type`. Unlike ut_client_expect, late
//  answers to earlier calls (replies of other types) are skipped. Caller
//  owns result.
static msg_t *
s_client_await (act_client_t *client, msg_type_id_t type)
{
    int64_t deadline = act_mono_ms () + UT_WAIT_MS;
    for (;;) {
        int rc = 0;
        int64_t left = deadline - act_mono_ms ();
        msg_t *msg = left > 0 ? act_client_recv (client, (int) left, &rc) : NULL;
        if (!msg)
            UNIT_FAIL ("%s: nothing arrived, expected '%s'", act_client_address (client),
                       msg_type_by_id (type)->name);
        if (msg->type->id == type)
            return msg;
        if (msg->type->kind != MSG_KIND_REPLY || msg->type->id == MSG_TYPE_ERROR)
            UNIT_FAIL ("%s: got '%s' (%s), expected '%s'", act_client_address (client),
                       msg->type->name, msg_str (msg, "reason", ""), msg_type_by_id (type)->name);
        msg_destroy (&msg);
    }
}

//  Asks `to` for its status until it answers: it may still be registering
//  or reconnecting. Caller owns result.
static msg_t *
s_actor_status (act_client_t *client, const char *to)
{
    int64_t deadline = act_mono_ms () + UT_WAIT_MS;
    for (;;) {
        msg_t *req = act_client_msg_new (client, MSG_TYPE_STATUS, to);
        msg_t *reply = NULL;
        int rc = act_client_call (client, &req, UT_TRY_MS, &reply);
        if (rc == 0) {
            CHECK_EQ (reply->type->id, MSG_TYPE_STATUS_REPLY);
            return reply;
        }
        msg_destroy (&reply);
        if ((rc != ACT_ENOROUTE && rc != ACT_ETIMEDOUT) || act_mono_ms () >= deadline)
            UNIT_FAIL ("%s does not answer status: %s", to, act_strerror (rc));
        if (rc == ACT_ENOROUTE)
            ut_nap ();              // refused at once: poll again shortly
    }
}

//  Polls `to`'s status until detail `key` reaches `want`; returns that
//  status (caller owns result). Fails if it goes past `want` or the
//  deadline passes.
static msg_t *
s_wait_detail (act_client_t *client, const char *to, const char *key, int64_t want)
{
    int64_t deadline = act_mono_ms () + UT_WAIT_MS;
    for (;;) {
        msg_t *status = s_actor_status (client, to);
        int64_t got = ut_detail_int (status, key);
        if (got == want)
            return status;
        msg_destroy (&status);
        if (got > want)
            UNIT_FAIL ("%s: detail %s is %lld, past %lld", to, key, (long long) got, (long long) want);
        if (act_mono_ms () >= deadline)
            UNIT_FAIL ("%s: detail %s stuck at %lld, want %lld", to, key, (long long) got, (long long) want);
        ut_nap ();
    }
}

//  Polls broker.status until `key` is `want`.
static void
s_wait_broker_int (act_client_t *client, const char *key, int64_t want)
{
    int64_t deadline = act_mono_ms () + UT_WAIT_MS;
    int64_t got;
    while ((got = ut_status_int (client, key)) != want) {
        if (act_mono_ms () >= deadline)
            UNIT_FAIL ("broker %s stuck at %lld, want %lld", key, (long long) got, (long long) want);
        ut_nap ();
    }
}

//  An `actor.up` or `actor.down` event for the test actor. Caller owns
//  result.
static msg_t *
s_event_new (act_client_t *client, msg_type_id_t type, const char *to, const char *name, int64_t pid)
{
    msg_t *event = act_client_msg_new (client, type, to);
    msg_set_str (event, "name", name);
    msg_set_str (event, "instance", "i");
    msg_set_str (event, "host", "h");
    msg_set_int (event, "pid", pid);
    return event;
}

//  One durable actor.up to `to`; returns its sequence number.
static uint64_t
s_durable_up (act_client_t *client, const char *to)
{
    msg_t *event = s_event_new (client, MSG_TYPE_ACTOR_UP, to, "up", 0);
    uint64_t seq = 0;
    CHECK_OK (act_client_send_durable (client, &event, UT_WAIT_MS, &seq));
    return seq;
}

//  Makes the tester act_request a ping to `target`, waiting `timeout_ms`.
static void
s_ask (act_client_t *client, const char *to, const char *target, int timeout_ms)
{
    msg_t *event = s_event_new (client, MSG_TYPE_ACTOR_DOWN, to, target, timeout_ms);
    CHECK_OK (act_client_send (client, &event));
}

static void
s_send_stop (act_client_t *client, const char *to)
{
    msg_t *stop = act_client_msg_new (client, MSG_TYPE_STOP, to);
    CHECK_OK (act_client_send (client, &stop));
}

//  Starts a broker and the tester `tester@t1` on it, both with HB_MS
//  heartbeats, and returns a client of that broker. Caller owns result
//  (and reaps *pid_p).
static act_client_t *
s_tester_start (ut_broker_t *b, pid_t *pid_p)
{
    ut_broker_init (b, HB_MS);
    ut_actor_t a = { &ut_tester, b->endpoint, "t1", NULL, HB_MS, 0, false };
    *pid_p = ut_actor_start (&a);
    return ut_client_new (b, "cli");
}

// ---------------------------------------------------------------------------
//  Tests

static void
test_status_and_ping (void)
{
    ut_broker_t b;
    pid_t pid;
    act_client_t *client = s_tester_start (&b, &pid);

    msg_t *status = s_actor_status (client, "tester");
    CHECK_STR_EQ (status->from, "tester@t1");
    CHECK_STR_EQ (status->to, act_client_address (client));
    CHECK_STR_EQ (msg_str (status, "name", ""), "tester");
    CHECK_STR_EQ (msg_str (status, "instance", ""), "t1");
    CHECK_STR_EQ (msg_str (status, "host", ""), "unit-host");
    CHECK_STR_EQ (msg_str (status, "state", ""), "up");
    CHECK_EQ (msg_int (status, "pid", 0), pid);
    CHECK (msg_int (status, "uptime_ms", -1) >= 0);
    CHECK_EQ (msg_int (status, "last_seq", -1), 0);
    CHECK_EQ (ut_detail_int (status, "ups"), 0);
    //  At least welcome and this status in; hello and this reply out.
    int64_t msgs_in = msg_int (status, "msgs_in", 0);
    int64_t msgs_out = msg_int (status, "msgs_out", 0);
    CHECK (msgs_in >= 2);
    CHECK (msgs_out >= 2);
    msg_destroy (&status);

    //  ping, by name and by address, echoes any data.
    const char *targets [] = { "tester", "tester@t1" };
    for (size_t i = 0; i < 2; i++) {
        msg_t *ping = act_client_msg_new (client, MSG_TYPE_PING, targets [i]);
        json_t *data = json_pack ("{s:[i,s], s:b}", "n", (int) i, "x", "y", "ok", 1);
        msg_set_json (ping, "data", json_incref (data));
        msg_t *pong = NULL;
        CHECK_OK (act_client_call (client, &ping, UT_WAIT_MS, &pong));
        CHECK_EQ (pong->type->id, MSG_TYPE_PONG);
        CHECK_STR_EQ (pong->from, "tester@t1");
        CHECK (json_equal (json_object_get (pong->body, "data"), data));
        json_decref (data);
        msg_destroy (&pong);
    }
    //  The counters moved with that traffic.
    status = s_actor_status (client, "tester@t1");
    CHECK (msg_int (status, "msgs_in", 0) >= msgs_in + 3);
    CHECK (msg_int (status, "msgs_out", 0) >= msgs_out + 3);
    msg_destroy (&status);

    //  A reply nobody asked for has no handler: it is dropped unanswered
    //  (answers are never answered) and the actor carries on.
    msg_t *odd = act_client_msg_new (client, MSG_TYPE_STATUS_REPLY, "tester");
    msg_set_str (odd, "name", "x");
    msg_set_str (odd, "instance", "x");
    msg_set_str (odd, "host", "x");
    msg_set_int (odd, "pid", 1);
    msg_set_str (odd, "state", "up");
    msg_set_int (odd, "uptime_ms", 1);
    msg_set_int (odd, "msgs_in", 1);
    msg_set_int (odd, "msgs_out", 1);
    CHECK_OK (act_client_send (client, &odd));
    status = s_actor_status (client, "tester");
    msg_destroy (&status);

    s_send_stop (client, "tester");
    CHECK_EQ (ut_wait_exit (pid, UT_WAIT_MS), 0);
    act_client_destroy (&client);
    ut_broker_stop (&b);
}

//  Starts the tester, waits until it answers, and returns a client that
//  watches actor.down.
static act_client_t *
s_watched_tester (ut_broker_t *b, pid_t *pid)
{
    act_client_t *client = s_tester_start (b, pid);
    ut_client_subscribe (client, "actor.down");
    msg_t *status = s_actor_status (client, "tester");
    msg_destroy (&status);
    return client;
}

//  The actor left cleanly: `bye` (not a heartbeat expiry), exit 0.
static void
s_expect_clean_exit (act_client_t *client, pid_t pid)
{
    msg_t *down = s_client_await (client, MSG_TYPE_ACTOR_DOWN);
    CHECK_STR_EQ (msg_str (down, "name", ""), "tester");
    CHECK_STR_EQ (msg_str (down, "instance", ""), "t1");
    CHECK_STR_EQ (msg_str (down, "reason", ""), "bye");
    CHECK_EQ (msg_int (down, "pid", 0), pid);
    msg_destroy (&down);
    CHECK_EQ (ut_wait_exit (pid, UT_WAIT_MS), 0);
}

static void
test_stop_message (void)
{
    ut_broker_t b;
    pid_t pid;
    act_client_t *client = s_watched_tester (&b, &pid);
    s_send_stop (client, "tester@t1");
    s_expect_clean_exit (client, pid);
    act_client_destroy (&client);
    ut_broker_stop (&b);
}

static void
test_sigterm (void)
{
    ut_broker_t b;
    pid_t pid;
    act_client_t *client = s_watched_tester (&b, &pid);
    CHECK_OK (kill (pid, SIGTERM));
    s_expect_clean_exit (client, pid);
    act_client_destroy (&client);
    ut_broker_stop (&b);
}

static void
test_request_timeout (void)
{
    //  The default heartbeat: `silent` below idles, and must stay
    //  registered while the test runs.
    ut_broker_t b;
    ut_broker_init (&b, 0);
    ut_actor_t a = { &ut_tester, b.endpoint, "t1", NULL, 0, 0, false };
    pid_t pid = ut_actor_start (&a);
    act_client_t *client = ut_client_new (&b, "cli");
    act_client_t *silent = ut_client_new (&b, "silent");
    msg_t *status = s_actor_status (client, "tester");
    msg_destroy (&status);

    //  A peer that never answers: the callback runs once, with ETIMEDOUT,
    //  no earlier than the deadline.
    s_ask (client, "tester", act_client_address (silent), ASK_TIMEOUT_MS);
    msg_t *ping = s_client_await (silent, MSG_TYPE_PING);
    int64_t asked_at = act_mono_ms ();
    CHECK_STR_EQ (ping->from, "tester@t1");
    status = s_wait_detail (client, "tester", "answered", 1);
    int64_t waited = act_mono_ms () - asked_at;
    CHECK_EQ (ut_detail_int (status, "asked"), 1);
    CHECK_EQ (ut_detail_int (status, "request_rc"), ACT_ETIMEDOUT);
    msg_destroy (&status);
    if (waited < ASK_TIMEOUT_MS * 3 / 4)
        UNIT_FAIL ("the request timed out after %lld ms, before its %d ms", (long long) waited,
                   ASK_TIMEOUT_MS);
    //  A late answer finds no request: the callback does not run again.
    //  Status asked on the same connection arrives after it.
    msg_t *pong = act_client_msg_new (silent, MSG_TYPE_PONG, ping->from);
    msg_set_corr (pong, ping->id);
    CHECK_OK (act_client_send (silent, &pong));
    msg_destroy (&ping);
    status = s_actor_status (silent, "tester");
    CHECK_EQ (ut_detail_int (status, "answered"), 1);
    CHECK_EQ (ut_detail_int (status, "request_rc"), ACT_ETIMEDOUT);
    msg_destroy (&status);

    //  No live actor: the broker's error ends the request at once.
    s_ask (client, "tester", "nobody", UT_WAIT_MS * 10);
    status = s_wait_detail (client, "tester", "answered", 2);
    CHECK_EQ (ut_detail_int (status, "request_rc"), ACT_ENOROUTE);
    msg_destroy (&status);
    //  And an answer in time.
    s_ask (client, "tester", "broker", UT_WAIT_MS);
    status = s_wait_detail (client, "tester", "answered", 3);
    CHECK_EQ (ut_detail_int (status, "request_rc"), 0);
    CHECK_EQ (strncmp (json_string_value (json_object_get (json_object_get (status->body, "detail"),
                                                           "request_from")), "broker@", 7), 0);
    msg_destroy (&status);

    s_send_stop (client, "tester");
    CHECK_EQ (ut_wait_exit (pid, UT_WAIT_MS), 0);
    act_client_destroy (&silent);
    act_client_destroy (&client);
    ut_broker_stop (&b);
}

static void
test_reconnect (void)
{
    ut_broker_t b;
    pid_t pid;
    act_client_t *client = s_tester_start (&b, &pid);
    msg_t *status = s_actor_status (client, "tester");
    msg_destroy (&status);
    act_client_destroy (&client);

    //  Twice, so the back-off is reset by a successful registration.
    for (int round = 0; round < 2; round++) {
        ut_broker_stop (&b);
        ut_broker_start (&b);
        client = ut_client_new (&b, "cli");
        status = s_actor_status (client, "tester");
        CHECK_EQ (msg_int (status, "pid", 0), pid);
        CHECK_STR_EQ (status->from, "tester@t1");
        msg_destroy (&status);
        act_client_destroy (&client);
    }
    client = ut_client_new (&b, "cli");
    s_send_stop (client, "tester");
    CHECK_EQ (ut_wait_exit (pid, UT_WAIT_MS), 0);
    act_client_destroy (&client);
    ut_broker_stop (&b);
}

//  Starts the counter and waits until it answers. Forks with no zmq
//  context of ours alive: *client_p is destroyed first and made again.
static pid_t
s_counter_start (const ut_actor_t *a, const ut_broker_t *b, act_client_t **client_p)
{
    act_client_destroy (client_p);
    pid_t pid = ut_actor_start (a);
    *client_p = ut_client_new (b, "cli");
    msg_t *status = s_actor_status (*client_p, "counter");
    msg_destroy (&status);
    return pid;
}

//  Waits until the counter shows `ups` with every durable message handled
//  (the broker holds none), then checks nothing was counted twice.
static void
s_counter_settled (act_client_t *client, int64_t ups)
{
    msg_t *status = s_wait_detail (client, "counter", "ups", ups);
    msg_destroy (&status);
    s_wait_broker_int (client, "held", 0);
    status = s_actor_status (client, "counter");
    CHECK_EQ (ut_detail_int (status, "ups"), ups);
    CHECK_EQ (msg_int (status, "last_seq", 0), ups);
    msg_destroy (&status);
}

static void
test_snapshot_restore (void)
{
    ut_broker_t b;
    ut_broker_init (&b, HB_MS);
    char data [600];
    snprintf (data, sizeof data, "%s/counter", unit_tmpdir ());
    CHECK_OK (act_mkdir_p (data, 0700));
    ut_actor_t a = { &ut_counter, b.endpoint, "c1", data, HB_MS, 0, false };
    act_client_t *client = NULL;
    pid_t pid = s_counter_start (&a, &b, &client);

    //  Three while it runs; it stops and saves its state.
    for (uint64_t i = 1; i <= 3; i++)
        CHECK_EQ (s_durable_up (client, "counter"), i);
    s_counter_settled (client, 3);
    s_send_stop (client, "counter");
    CHECK_EQ (ut_wait_exit (pid, UT_WAIT_MS), 0);
    char path [700], *text = NULL;
    snprintf (path, sizeof path, "%s/counter.snapshot", data);
    CHECK_OK (act_read_file (path, &text, NULL));
    json_t *snap = json_loads (text, 0, NULL);
    free (text);
    CHECK_NOT_NULL (snap);
    CHECK_EQ (json_integer_value (json_object_get (snap, "seq")), 3);
    CHECK_EQ (json_integer_value (json_object_get (json_object_get (snap, "state"), "ups")), 3);
    json_decref (snap);

    //  Two more while it is down: held. At start it restores the snapshot,
    //  replays them from the journal, and drops the broker's redelivery of
    //  the same two as duplicates.
    CHECK_EQ (s_durable_up (client, "counter"), 4);
    CHECK_EQ (s_durable_up (client, "counter"), 5);
    CHECK_EQ (ut_status_int (client, "held"), 2);
    pid = s_counter_start (&a, &b, &client);
    s_counter_settled (client, 5);

    //  Two more live, then a crash: no snapshot at exit, and the periodic
    //  one (every 2 messages) may predate what it handled. The next start
    //  replays everything after that snapshot, including the one sent while
    //  it was down, each counted once.
    CHECK_EQ (s_durable_up (client, "counter"), 6);
    CHECK_EQ (s_durable_up (client, "counter"), 7);
    s_counter_settled (client, 7);
    CHECK_OK (kill (pid, SIGKILL));
    CHECK_EQ (ut_wait_exit (pid, UT_WAIT_MS), 128 + SIGKILL);
    CHECK_EQ (s_durable_up (client, "counter"), 8);
    pid = s_counter_start (&a, &b, &client);
    s_counter_settled (client, 8);

    //  The broker comes back on a new journal: its sequence numbers start
    //  again at 1, below the snapshot's 8, and must not be taken for
    //  messages already applied.
    act_client_destroy (&client);
    ut_broker_stop (&b);
    snprintf (b.data, sizeof b.data, "%s/broker-new", unit_tmpdir ());
    ut_broker_start (&b);
    client = ut_client_new (&b, "cli");
    msg_t *status = s_actor_status (client, "counter");
    msg_destroy (&status);
    CHECK_EQ (s_durable_up (client, "counter"), 1);
    status = s_wait_detail (client, "counter", "ups", 9);
    msg_destroy (&status);
    s_wait_broker_int (client, "held", 0);

    s_send_stop (client, "counter");
    CHECK_EQ (ut_wait_exit (pid, UT_WAIT_MS), 0);
    act_client_destroy (&client);
    ut_broker_stop (&b);
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_status_and_ping),
    UNIT_TEST (test_stop_message),
    UNIT_TEST (test_sigterm),
    UNIT_TEST (test_request_timeout),
    UNIT_TEST (test_reconnect),
    UNIT_TEST (test_snapshot_restore),
};

UNIT_SUITE (unit_suite_act, s_tests);
