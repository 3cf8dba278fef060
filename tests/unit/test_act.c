//  test_act - the actor runtime, run with act_run in forked children
//
//  The test actor (`tester`, and `counter` with snapshot hooks) counts the
//  `actor.up` events it handles and, for each `actor.down` it gets, sends an
//  act_request `ping` to the address in the event's `name`, waiting `pid`
//  ms; its status `detail` shows the counts and the last request's outcome.
//  (`ping`, `status` and `stop` are answered by the runtime itself, so the
//  durable messages a test counts are `actor.up` events.)
//
//  Most tests run it against a real broker child; the dedupe and
//  determinism tests put a fake broker (a ROUTER socket the test drives) in
//  its place, to send exact redeliveries and to see every outbound id. No
//  zmq context is live in the test process when it forks, so children
//  inherit nothing of ours; waits are deadlines on a condition.

#include "unit.h"
#include "../../actors/common/act.h"
#include "../../actors/common/act_client.h"
#include "../../broker/broker.h"
#include "../../messages/msg.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define TOKEN           "unit-act-token"
#define WAIT_MS         5000    // deadline for anything that should happen
#define TRY_MS          500     // one act_client_new or status attempt
#define HB_MS           200     // broker and actor agree on it
#define DET_HB_MS       100     // determinism runs: heartbeats come often
#define ASK_TIMEOUT_MS  300     // act_request deadline in the timeout test
#define FIXED_NOW_MS    1700000000000LL
#define POLL_NAP_NS     (10 * 1000 * 1000)

// ---------------------------------------------------------------------------
//  The test actor

typedef struct {
    int64_t ups;                        // actor.up events handled
    int64_t asked;                      // requests sent
    int64_t answered;                   // request callbacks run
    int64_t request_rc;                 // rc of the last callback
    char request_from [MSG_ADDR_MAX];   // who answered it
} s_tester_t;

static void *
s_tester_create (act_t *act)
{
    (void) act;
    return act_calloc (1, sizeof (s_tester_t));
}

static void
s_tester_destroy (void **state_p)
{
    free (*state_p);
    *state_p = NULL;
}

static int
s_on_actor_up (void *state, act_t *act, msg_t *msg)
{
    (void) act;
    (void) msg;
    s_tester_t *self = state;
    self->ups++;
    return 0;
}

static void
s_on_answer (void *state, act_t *act, const msg_t *reply, int rc, void *arg)
{
    (void) act;
    (void) arg;
    s_tester_t *self = state;
    self->answered++;
    self->request_rc = rc;
    snprintf (self->request_from, sizeof self->request_from, "%s", reply ? reply->from : "");
}

static int
s_on_actor_down (void *state, act_t *act, msg_t *msg)
{
    s_tester_t *self = state;
    msg_t *ping = act_msg_new (act, MSG_TYPE_PING, msg_str (msg, "name", ""));
    self->asked++;
    return act_request (act, &ping, (int) msg_int (msg, "pid", 0), s_on_answer, NULL);
}

static void
s_tester_status (void *state, json_t *detail)
{
    s_tester_t *self = state;
    json_object_set_new (detail, "ups", json_integer (self->ups));
    json_object_set_new (detail, "asked", json_integer (self->asked));
    json_object_set_new (detail, "answered", json_integer (self->answered));
    json_object_set_new (detail, "request_rc", json_integer (self->request_rc));
    json_object_set_new (detail, "request_from", json_string (self->request_from));
}

static json_t *
s_tester_snapshot (void *state)
{
    s_tester_t *self = state;
    return json_pack ("{s:I}", "ups", (json_int_t) self->ups);
}

static int
s_tester_restore (void *state, const json_t *snapshot)
{
    s_tester_t *self = state;
    json_t *ups = json_object_get (snapshot, "ups");
    if (!json_is_integer (ups))
        return ACT_EPROTO;
    self->ups = json_integer_value (ups);
    return 0;
}

static const act_route_t s_routes [] = {
    { MSG_TYPE_ACTOR_UP,   s_on_actor_up },
    { MSG_TYPE_ACTOR_DOWN, s_on_actor_down },
};

static const act_def_t s_tester = {
    .name = "tester",
    .routes = s_routes,
    .route_count = sizeof s_routes / sizeof s_routes [0],
    .create = s_tester_create,
    .destroy = s_tester_destroy,
    .status = s_tester_status,
};

//  The same actor, stateful: snapshots every 2 durable messages and at stop.
static const act_def_t s_counter = {
    .name = "counter",
    .routes = s_routes,
    .route_count = sizeof s_routes / sizeof s_routes [0],
    .create = s_tester_create,
    .destroy = s_tester_destroy,
    .status = s_tester_status,
    .snapshot = s_tester_snapshot,
    .restore = s_tester_restore,
    .snapshot_every = 2,
};

// ---------------------------------------------------------------------------
//  Processes

//  Waits for `pid` to exit. Returns its exit status, 128 + the signal that
//  killed it, or -1 when it was still running at the deadline (then it is
//  killed and reaped).
static int
s_wait_exit (pid_t pid, int timeout_ms)
{
    int64_t deadline = act_mono_ms () + timeout_ms;
    for (;;) {
        int status = 0;
        pid_t done = waitpid (pid, &status, WNOHANG);
        if (done == pid)
            return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
        if (done < 0)
            return -1;
        if (act_mono_ms () >= deadline) {
            kill (pid, SIGKILL);
            waitpid (pid, &status, 0);
            return -1;
        }
        //  Polling the exit condition, not waiting for time to pass.
        struct timespec nap = { 0, POLL_NAP_NS };
        nanosleep (&nap, NULL);
    }
}

static void
s_nap (void)
{
    struct timespec nap = { 0, POLL_NAP_NS };
    nanosleep (&nap, NULL);
}

//  In a forked child: stdout carries the runner's results; logs stay on
//  stderr, at `error` level unless DYNOD_LOG_LEVEL says otherwise.
static void
s_child_stdio (const char *ident)
{
    int fd = open ("/dev/null", O_WRONLY);
    if (fd >= 0) {
        dup2 (fd, STDOUT_FILENO);
        close (fd);
    }
    setenv ("DYNOD_LOG_LEVEL", "error", 0);
    act_log_init (ident);
}

typedef struct {
    pid_t pid;
    char endpoint [64];
    char data [512];
    int heartbeat_ms;
} s_broker_t;

static void
s_broker_start (s_broker_t *b)
{
    pid_t pid = fork ();
    CHECK (pid >= 0);
    if (pid == 0) {
        s_child_stdio ("broker");
        brk_config_t cfg = {
            .endpoint = b->endpoint,
            .data_dir = b->data,
            .token = TOKEN,
            .heartbeat_ms = b->heartbeat_ms,
        };
        exit (brk_run (&cfg) == 0 ? 0 : 1);
    }
    b->pid = pid;
}

static void
s_broker_init (s_broker_t *b, int heartbeat_ms)
{
    memset (b, 0, sizeof *b);
    int port = unit_free_port ();
    CHECK (port > 0);
    snprintf (b->endpoint, sizeof b->endpoint, "tcp://127.0.0.1:%d", port);
    snprintf (b->data, sizeof b->data, "%s/broker", unit_tmpdir ());
    b->heartbeat_ms = heartbeat_ms;
    s_broker_start (b);
}

static void
s_broker_stop (s_broker_t *b)
{
    CHECK_OK (kill (b->pid, SIGTERM));
    CHECK_EQ (s_wait_exit (b->pid, WAIT_MS), 0);
    b->pid = 0;
}

typedef struct {
    const act_def_t *def;
    const char *endpoint;
    const char *instance;
    const char *data_dir;               // NULL: no snapshots
    int heartbeat_ms;                   // 0: the runtime's default
    uint64_t seed;                      // 0: from the OS
    bool fixed_clock;                   // act_now answers FIXED_NOW_MS
} s_actor_t;

static pid_t
s_actor_start (const s_actor_t *a)
{
    pid_t pid = fork ();
    CHECK (pid >= 0);
    if (pid == 0) {
        s_child_stdio (a->def->name);
        act_clock_t clock;
        act_clock_fixed_init (&clock, FIXED_NOW_MS);
        act_config_t cfg = {
            .broker = a->endpoint,
            .instance = a->instance,
            .host = "unit-host",
            .token = TOKEN,
            .data_dir = a->data_dir,
            .clock = a->fixed_clock ? &clock : NULL,
            .seed = a->seed,
            .heartbeat_ms = a->heartbeat_ms,
            .liveness = 0,
        };
        exit (act_run (a->def, &cfg) == 0 ? 0 : 1);
    }
    return pid;
}

// ---------------------------------------------------------------------------
//  Clients of the real broker

static act_client_t *
s_client (const s_broker_t *b, const char *name)
{
    int64_t deadline = act_mono_ms () + WAIT_MS;
    for (;;) {
        int rc = 0;
        act_client_t *client = act_client_new (b->endpoint, TOKEN, name, TRY_MS, &rc);
        if (client)
            return client;
        if (rc != ACT_ETIMEDOUT || act_mono_ms () >= deadline)
            UNIT_FAIL ("cannot register '%s' at %s: %s", name, b->endpoint, act_strerror (rc));
    }
}

//  The client's next message of `type`. Late answers to earlier calls
//  (replies of other types) are skipped. Caller owns result.
static msg_t *
s_client_expect (act_client_t *client, msg_type_id_t type)
{
    int64_t deadline = act_mono_ms () + WAIT_MS;
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

static void
s_subscribe (act_client_t *client, const char *topic)
{
    msg_t *sub = act_client_msg_new (client, MSG_TYPE_SUBSCRIBE, "broker");
    msg_set_str (sub, "topic", topic);
    CHECK_OK (act_client_send (client, &sub));
    //  Answered on the same connection, so after the subscribe was applied.
    msg_t *ping = act_client_msg_new (client, MSG_TYPE_PING, "broker");
    msg_t *pong = NULL;
    CHECK_OK (act_client_call (client, &ping, WAIT_MS, &pong));
    msg_destroy (&pong);
}

//  Asks `to` for its status until it answers: it may still be registering
//  or reconnecting. Caller owns result.
static msg_t *
s_actor_status (act_client_t *client, const char *to)
{
    int64_t deadline = act_mono_ms () + WAIT_MS;
    for (;;) {
        msg_t *req = act_client_msg_new (client, MSG_TYPE_STATUS, to);
        msg_t *reply = NULL;
        int rc = act_client_call (client, &req, TRY_MS, &reply);
        if (rc == 0) {
            CHECK_EQ (reply->type->id, MSG_TYPE_STATUS_REPLY);
            return reply;
        }
        msg_destroy (&reply);
        if ((rc != ACT_ENOROUTE && rc != ACT_ETIMEDOUT) || act_mono_ms () >= deadline)
            UNIT_FAIL ("%s does not answer status: %s", to, act_strerror (rc));
        if (rc == ACT_ENOROUTE)
            s_nap ();               // refused at once: poll again shortly
    }
}

static int64_t
s_detail_int (const msg_t *status, const char *key)
{
    json_t *value = json_object_get (json_object_get (status->body, "detail"), key);
    if (!json_is_integer (value))
        UNIT_FAIL ("status detail has no integer '%s'", key);
    return json_integer_value (value);
}

//  Polls `to`'s status until detail `key` reaches `want`; returns that
//  status (caller owns result). Fails if it goes past `want` or the
//  deadline passes.
static msg_t *
s_wait_detail (act_client_t *client, const char *to, const char *key, int64_t want)
{
    int64_t deadline = act_mono_ms () + WAIT_MS;
    for (;;) {
        msg_t *status = s_actor_status (client, to);
        int64_t got = s_detail_int (status, key);
        if (got == want)
            return status;
        msg_destroy (&status);
        if (got > want)
            UNIT_FAIL ("%s: detail %s is %lld, past %lld", to, key, (long long) got, (long long) want);
        if (act_mono_ms () >= deadline)
            UNIT_FAIL ("%s: detail %s stuck at %lld, want %lld", to, key, (long long) got, (long long) want);
        s_nap ();
    }
}

static int64_t
s_broker_int (act_client_t *client, const char *key)
{
    msg_t *req = act_client_msg_new (client, MSG_TYPE_BROKER_STATUS, "broker");
    msg_t *reply = NULL;
    CHECK_OK (act_client_call (client, &req, WAIT_MS, &reply));
    int64_t value = msg_int (reply, key, -1);
    msg_destroy (&reply);
    return value;
}

//  Polls broker.status until `key` is `want`.
static void
s_wait_broker_int (act_client_t *client, const char *key, int64_t want)
{
    int64_t deadline = act_mono_ms () + WAIT_MS;
    int64_t got;
    while ((got = s_broker_int (client, key)) != want) {
        if (act_mono_ms () >= deadline)
            UNIT_FAIL ("broker %s stuck at %lld, want %lld", key, (long long) got, (long long) want);
        s_nap ();
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
    CHECK_OK (act_client_send_durable (client, &event, WAIT_MS, &seq));
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

// ---------------------------------------------------------------------------
//  A fake broker: a ROUTER socket the test drives by hand

typedef struct {
    void *zctx;
    void *sock;
    act_rng_t rng;
    unsigned char rid [256];            // the actor's current connection
    size_t rid_len;
    int heartbeats;                     // received and answered
    bool rewelcome;                     // welcome repeated hellos unasked
} s_fake_t;

//  Binds `endpoint`. Caller owns result.
static s_fake_t *
s_fake_new (const char *endpoint)
{
    s_fake_t *self = act_calloc (1, sizeof *self);
    act_rng_init (&self->rng, act_seed_from_os ());
    self->zctx = zmq_ctx_new ();
    self->sock = zmq_socket (self->zctx, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt (self->sock, ZMQ_LINGER, &linger, sizeof linger);
    CHECK_OK (zmq_bind (self->sock, endpoint));
    return self;
}

static void
s_fake_destroy (s_fake_t **self_p)
{
    s_fake_t *self = *self_p;
    zmq_close (self->sock);
    zmq_ctx_term (self->zctx);
    free (self);
    *self_p = NULL;
}

static void
s_fake_send_bytes (s_fake_t *self, const void *data, size_t len)
{
    CHECK_EQ (zmq_send (self->sock, self->rid, self->rid_len, ZMQ_SNDMORE), (int) self->rid_len);
    CHECK_EQ (zmq_send (self->sock, data, len, 0), (int) len);
}

//  A message from the fake broker's side (id from its rng). Caller owns
//  result.
static msg_t *
s_fake_msg_new (s_fake_t *self, msg_type_id_t type, const char *from, const char *to)
{
    msg_t *msg = msg_new (type);
    act_rng_id (&self->rng, msg->id);
    msg_set_from (msg, from);
    msg_set_to (msg, to);
    msg->ts = act_wall_ms ();
    return msg;
}

static void
s_fake_send (s_fake_t *self, msg_t **msg_p)
{
    char *data;
    size_t len;
    CHECK_OK (msg_encode (*msg_p, &data, &len, NULL));
    s_fake_send_bytes (self, data, len);
    free (data);
    msg_destroy (msg_p);
}

//  The actor's next message that is not a heartbeat (heartbeats are
//  answered, as a broker would), or NULL after `timeout_ms`. Remembers the
//  connection it came on. Caller owns result.
static void s_fake_welcome (s_fake_t *self, const msg_t *hello);

static msg_t *
s_fake_recv (s_fake_t *self, int timeout_ms)
{
    int64_t deadline = act_mono_ms () + timeout_ms;
    for (;;) {
        long left = (long) (deadline - act_mono_ms ());
        zmq_pollitem_t item = { self->sock, 0, ZMQ_POLLIN, 0 };
        int rc = zmq_poll (&item, 1, left < 0 ? 0 : left);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            return NULL;
        zmq_msg_t rid, frame;
        zmq_msg_init (&rid);
        zmq_msg_init (&frame);
        CHECK (zmq_msg_recv (&rid, self->sock, 0) >= 0);
        CHECK (zmq_msg_recv (&frame, self->sock, 0) >= 0);
        CHECK (zmq_msg_size (&rid) <= sizeof self->rid);
        self->rid_len = zmq_msg_size (&rid);
        memcpy (self->rid, zmq_msg_data (&rid), self->rid_len);
        msg_error_t err;
        msg_t *msg = msg_decode (zmq_msg_data (&frame), zmq_msg_size (&frame), MSG_DECODE_FULL, &err);
        zmq_msg_close (&frame);
        zmq_msg_close (&rid);
        if (!msg)
            UNIT_FAIL ("the actor sent a bad message: %s", err.reason);
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
}

static msg_t *
s_fake_expect (s_fake_t *self, msg_type_id_t type)
{
    msg_t *msg = s_fake_recv (self, WAIT_MS);
    if (!msg)
        UNIT_FAIL ("fake broker: nothing arrived, expected '%s'", msg_type_by_id (type)->name);
    if (msg->type->id != type)
        UNIT_FAIL ("fake broker: got '%s', expected '%s'", msg->type->name, msg_type_by_id (type)->name);
    return msg;
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
    msg_t *hello = s_fake_expect (self, MSG_TYPE_HELLO);
    CHECK_STR_EQ (hello->from, address);
    CHECK_STR_EQ (hello->to, "broker");
    CHECK_STR_EQ (msg_str (hello, "role", ""), "actor");
    CHECK_STR_EQ (msg_str (hello, "token", ""), TOKEN);
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
    msg_t *reply = s_fake_recv (self, WAIT_MS);
    while (reply && reply->type->id == MSG_TYPE_DELIVERED) {
        CHECK_EQ (msg_int (reply, "seq", 0), (int64_t) delivered_seq);
        msg_destroy (&reply);
        reply = s_fake_recv (self, WAIT_MS);
    }
    if (!reply || reply->type->id != MSG_TYPE_STATUS_REPLY)
        UNIT_FAIL ("fake broker: expected 'status.reply', got '%s'", reply ? reply->type->name : "nothing");
    CHECK_STR_EQ (reply->corr, id);
    CHECK_STR_EQ (reply->to, "cli@fake");
    return reply;
}

// ---------------------------------------------------------------------------
//  Tests

static void
test_status_and_ping (void)
{
    s_broker_t b;
    s_broker_init (&b, HB_MS);
    s_actor_t a = { &s_tester, b.endpoint, "t1", NULL, HB_MS, 0, false };
    pid_t pid = s_actor_start (&a);
    act_client_t *client = s_client (&b, "cli");

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
    CHECK_EQ (s_detail_int (status, "ups"), 0);
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
        CHECK_OK (act_client_call (client, &ping, WAIT_MS, &pong));
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
    CHECK_EQ (s_wait_exit (pid, WAIT_MS), 0);
    act_client_destroy (&client);
    s_broker_stop (&b);
}

//  Starts the tester, waits until it answers, and returns a client that
//  watches actor.down.
static act_client_t *
s_watched_tester (s_broker_t *b, pid_t *pid)
{
    s_broker_init (b, HB_MS);
    s_actor_t a = { &s_tester, b->endpoint, "t1", NULL, HB_MS, 0, false };
    *pid = s_actor_start (&a);
    act_client_t *client = s_client (b, "cli");
    s_subscribe (client, "actor.down");
    msg_t *status = s_actor_status (client, "tester");
    msg_destroy (&status);
    return client;
}

//  The actor left cleanly: `bye` (not a heartbeat expiry), exit 0.
static void
s_expect_clean_exit (act_client_t *client, pid_t pid)
{
    msg_t *down = s_client_expect (client, MSG_TYPE_ACTOR_DOWN);
    CHECK_STR_EQ (msg_str (down, "name", ""), "tester");
    CHECK_STR_EQ (msg_str (down, "instance", ""), "t1");
    CHECK_STR_EQ (msg_str (down, "reason", ""), "bye");
    CHECK_EQ (msg_int (down, "pid", 0), pid);
    msg_destroy (&down);
    CHECK_EQ (s_wait_exit (pid, WAIT_MS), 0);
}

static void
test_stop_message (void)
{
    s_broker_t b;
    pid_t pid;
    act_client_t *client = s_watched_tester (&b, &pid);
    s_send_stop (client, "tester@t1");
    s_expect_clean_exit (client, pid);
    act_client_destroy (&client);
    s_broker_stop (&b);
}

static void
test_sigterm (void)
{
    s_broker_t b;
    pid_t pid;
    act_client_t *client = s_watched_tester (&b, &pid);
    CHECK_OK (kill (pid, SIGTERM));
    s_expect_clean_exit (client, pid);
    act_client_destroy (&client);
    s_broker_stop (&b);
}

static void
test_duplicates_handled_once (void)
{
    int port = unit_free_port ();
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    s_actor_t a = { &s_tester, endpoint, "t1", NULL, 0, 0, false };
    pid_t pid = s_actor_start (&a);
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
    CHECK_EQ (s_detail_int (status, "ups"), 2);
    CHECK_EQ (msg_int (status, "last_seq", 0), 7);
    msg_destroy (&status);

    //  The broker forgets the actor: it says hello again on a new
    //  connection, and the broker redelivers what it held, plus new work.
    unsigned char old_rid [256];
    size_t old_rid_len = fake->rid_len;
    memcpy (old_rid, fake->rid, old_rid_len);
    msg_t *err = s_fake_msg_new (fake, MSG_TYPE_ERROR, "broker@fake", "tester@t1");
    msg_set_int (err, "code", ACT_ENOTREG);
    msg_set_str (err, "reason", "say hello first");
    s_fake_send (fake, &err);
    s_fake_accept (fake, "tester@t1");
    CHECK (fake->rid_len != old_rid_len || memcmp (fake->rid, old_rid, old_rid_len) != 0);
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
    CHECK_EQ (s_detail_int (status, "ups"), 3);
    CHECK_EQ (msg_int (status, "last_seq", 0), 8);
    msg_destroy (&status);
    free (durable);
    free (plain);
    free (next);

    //  stop: a bye, then a clean exit.
    msg_t *stop = s_fake_msg_new (fake, MSG_TYPE_STOP, "cli@fake", "tester@t1");
    s_fake_send (fake, &stop);
    msg_t *bye = s_fake_expect (fake, MSG_TYPE_BYE);
    msg_destroy (&bye);
    CHECK_EQ (s_wait_exit (pid, WAIT_MS), 0);
    s_fake_destroy (&fake);
}

static void
test_request_timeout (void)
{
    //  The default heartbeat: `silent` below idles, and must stay
    //  registered while the test runs.
    s_broker_t b;
    s_broker_init (&b, 0);
    s_actor_t a = { &s_tester, b.endpoint, "t1", NULL, 0, 0, false };
    pid_t pid = s_actor_start (&a);
    act_client_t *client = s_client (&b, "cli");
    act_client_t *silent = s_client (&b, "silent");
    msg_t *status = s_actor_status (client, "tester");
    msg_destroy (&status);

    //  A peer that never answers: the callback runs once, with ETIMEDOUT,
    //  no earlier than the deadline.
    s_ask (client, "tester", act_client_address (silent), ASK_TIMEOUT_MS);
    msg_t *ping = s_client_expect (silent, MSG_TYPE_PING);
    int64_t asked_at = act_mono_ms ();
    CHECK_STR_EQ (ping->from, "tester@t1");
    status = s_wait_detail (client, "tester", "answered", 1);
    int64_t waited = act_mono_ms () - asked_at;
    CHECK_EQ (s_detail_int (status, "asked"), 1);
    CHECK_EQ (s_detail_int (status, "request_rc"), ACT_ETIMEDOUT);
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
    CHECK_EQ (s_detail_int (status, "answered"), 1);
    CHECK_EQ (s_detail_int (status, "request_rc"), ACT_ETIMEDOUT);
    msg_destroy (&status);

    //  No live actor: the broker's error ends the request at once.
    s_ask (client, "tester", "nobody", WAIT_MS * 10);
    status = s_wait_detail (client, "tester", "answered", 2);
    CHECK_EQ (s_detail_int (status, "request_rc"), ACT_ENOROUTE);
    msg_destroy (&status);
    //  And an answer in time.
    s_ask (client, "tester", "broker", WAIT_MS);
    status = s_wait_detail (client, "tester", "answered", 3);
    CHECK_EQ (s_detail_int (status, "request_rc"), 0);
    CHECK_EQ (strncmp (json_string_value (json_object_get (json_object_get (status->body, "detail"),
                                                           "request_from")), "broker@", 7), 0);
    msg_destroy (&status);

    s_send_stop (client, "tester");
    CHECK_EQ (s_wait_exit (pid, WAIT_MS), 0);
    act_client_destroy (&silent);
    act_client_destroy (&client);
    s_broker_stop (&b);
}

static void
test_reconnect (void)
{
    s_broker_t b;
    s_broker_init (&b, HB_MS);
    s_actor_t a = { &s_tester, b.endpoint, "t1", NULL, HB_MS, 0, false };
    pid_t pid = s_actor_start (&a);
    act_client_t *client = s_client (&b, "cli");
    msg_t *status = s_actor_status (client, "tester");
    msg_destroy (&status);
    act_client_destroy (&client);

    //  Twice, so the back-off is reset by a successful registration.
    for (int round = 0; round < 2; round++) {
        s_broker_stop (&b);
        s_broker_start (&b);
        client = s_client (&b, "cli");
        status = s_actor_status (client, "tester");
        CHECK_EQ (msg_int (status, "pid", 0), pid);
        CHECK_STR_EQ (status->from, "tester@t1");
        msg_destroy (&status);
        act_client_destroy (&client);
    }
    client = s_client (&b, "cli");
    s_send_stop (client, "tester");
    CHECK_EQ (s_wait_exit (pid, WAIT_MS), 0);
    act_client_destroy (&client);
    s_broker_stop (&b);
}

//  Starts the counter and waits until it answers. Forks with no zmq
//  context of ours alive: *client_p is destroyed first and made again.
static pid_t
s_counter_start (const s_actor_t *a, const s_broker_t *b, act_client_t **client_p)
{
    act_client_destroy (client_p);
    pid_t pid = s_actor_start (a);
    *client_p = s_client (b, "cli");
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
    CHECK_EQ (s_detail_int (status, "ups"), ups);
    CHECK_EQ (msg_int (status, "last_seq", 0), ups);
    msg_destroy (&status);
}

static void
test_snapshot_restore (void)
{
    s_broker_t b;
    s_broker_init (&b, HB_MS);
    char data [600];
    snprintf (data, sizeof data, "%s/counter", unit_tmpdir ());
    CHECK_OK (act_mkdir_p (data, 0700));
    s_actor_t a = { &s_counter, b.endpoint, "c1", data, HB_MS, 0, false };
    act_client_t *client = NULL;
    pid_t pid = s_counter_start (&a, &b, &client);

    //  Three while it runs; it stops and saves its state.
    for (uint64_t i = 1; i <= 3; i++)
        CHECK_EQ (s_durable_up (client, "counter"), i);
    s_counter_settled (client, 3);
    s_send_stop (client, "counter");
    CHECK_EQ (s_wait_exit (pid, WAIT_MS), 0);
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
    CHECK_EQ (s_broker_int (client, "held"), 2);
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
    CHECK_EQ (s_wait_exit (pid, WAIT_MS), 128 + SIGKILL);
    CHECK_EQ (s_durable_up (client, "counter"), 8);
    pid = s_counter_start (&a, &b, &client);
    s_counter_settled (client, 8);

    s_send_stop (client, "counter");
    CHECK_EQ (s_wait_exit (pid, WAIT_MS), 0);
    act_client_destroy (&client);
    s_broker_stop (&b);
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
    s_actor_t a = { &s_tester, endpoint, "d1", NULL, DET_HB_MS, seed, true };
    pid_t pid = s_actor_start (&a);
    s_fake_t *fake = s_fake_new (endpoint);
    s_fake_accept (fake, "tester@d1");
    fake->rewelcome = true;
    int64_t deadline = act_mono_ms () + WAIT_MS;
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
            msg_set_int (in, "pid", WAIT_MS * 10);
        }
        else
            in = s_fake_msg_new (fake, MSG_TYPE_PING, "cli@fake", "tester");
        msg_set_id (in, input_ids [i]);
        s_fake_send (fake, &in);
        msg_t *out = s_fake_expect (fake, i == 1 ? MSG_TYPE_PING : MSG_TYPE_PONG);
        CHECK_EQ (out->ts, FIXED_NOW_MS);
        if (i != 1)
            CHECK_STR_EQ (out->corr, input_ids [i]);
        memcpy (ids [i], out->id, MSG_ID_LEN + 1);
        msg_destroy (&out);
    }
    msg_t *stop = s_fake_msg_new (fake, MSG_TYPE_STOP, "cli@fake", "tester");
    s_fake_send (fake, &stop);
    msg_t *bye = s_fake_expect (fake, MSG_TYPE_BYE);
    msg_destroy (&bye);
    CHECK_EQ (s_wait_exit (pid, WAIT_MS), 0);
    s_fake_destroy (&fake);
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
    UNIT_TEST (test_status_and_ping),
    UNIT_TEST (test_stop_message),
    UNIT_TEST (test_sigterm),
    UNIT_TEST (test_duplicates_handled_once),
    UNIT_TEST (test_request_timeout),
    UNIT_TEST (test_reconnect),
    UNIT_TEST (test_snapshot_restore),
    UNIT_TEST (test_deterministic_ids),
};

UNIT_SUITE (unit_suite_act, s_tests);
