//  test_broker - the broker against real peers on 127.0.0.1
//
//  Every test forks brk_run on a free port with its journal under the test's
//  temp dir, waits for it by retrying act_client_new, and drives it with
//  act_client and with raw DEALER sockets (s_raw_*) where a test must say
//  hello as an actor, send bad input, or stay silent. Waits are deadlines
//  on a condition (a message arriving, a process exiting), never sleeps.
//  Children log at `error` level unless DYNOD_LOG_LEVEL says otherwise, so
//  a failed check stays the last line the runner shows.

#include "unit.h"
#include "../../actors/common/act.h"
#include "../../actors/common/act_client.h"
#include "../../broker/broker.h"
#include "../../messages/msg.h"

#include <errno.h>
#include <fcntl.h>
#include <msgpack.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define TOKEN           "unit-broker-token"
#define WAIT_MS         5000    // deadline for anything that should happen
#define TRY_MS          500     // one act_client_new attempt
#define FAST_HB_MS      100     // heartbeat for the expiry test
#define POLL_NAP_NS     (5 * 1000 * 1000)

// ---------------------------------------------------------------------------
//  Processes

typedef struct {
    pid_t pid;
    char endpoint [64];
    char data [512];
    int heartbeat_ms;           // 0: the broker's default
} s_broker_t;

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

//  In a forked child: stdout carries the runner's results, so the broker's
//  ready line goes to /dev/null; logs stay on stderr.
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

//  SIGTERM, and the broker must stop cleanly (exit 0; under LSan that also
//  means it freed everything).
static void
s_broker_stop (s_broker_t *b)
{
    CHECK_OK (kill (b->pid, SIGTERM));
    CHECK_EQ (s_wait_exit (b->pid, WAIT_MS), 0);
    b->pid = 0;
}

// ---------------------------------------------------------------------------
//  act_client helpers

//  Registers a client, retrying until the broker answers: this is how every
//  test waits for a broker it just started.
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

//  The broker's status reply. Caller owns result.
static msg_t *
s_status (act_client_t *client)
{
    msg_t *req = act_client_msg_new (client, MSG_TYPE_BROKER_STATUS, "broker");
    msg_t *reply = NULL;
    CHECK_OK (act_client_call (client, &req, WAIT_MS, &reply));
    CHECK_EQ (reply->type->id, MSG_TYPE_BROKER_STATUS_REPLY);
    return reply;
}

static int64_t
s_rejected (const msg_t *status, const char *why)
{
    json_t *count = json_object_get (json_object_get (status->body, "rejected"), why);
    if (!json_is_integer (count))
        UNIT_FAIL ("broker.status has no rejected.%s", why);
    return json_integer_value (count);
}

//  One figure of a fresh broker.status.
static int64_t
s_status_int (act_client_t *client, const char *key)
{
    msg_t *status = s_status (client);
    int64_t value = msg_int (status, key, -1);
    msg_destroy (&status);
    return value;
}

static int64_t
s_status_rejected (act_client_t *client, const char *why)
{
    msg_t *status = s_status (client);
    int64_t value = s_rejected (status, why);
    msg_destroy (&status);
    return value;
}

static bool
s_status_lists (const msg_t *status, const char *name, const char *instance)
{
    json_t *peers = json_object_get (status->body, "peers");
    size_t i;
    json_t *peer;
    json_array_foreach (peers, i, peer) {
        if (strcmp (json_string_value (json_object_get (peer, "name")), name) == 0
        &&  strcmp (json_string_value (json_object_get (peer, "instance")), instance) == 0)
            return true;
    }
    return false;
}

//  A `ping` carrying `data`. Caller owns result.
static msg_t *
s_ping_new (act_client_t *client, const char *to, const char *data)
{
    msg_t *ping = act_client_msg_new (client, MSG_TYPE_PING, to);
    msg_set_str (ping, "data", data);
    return ping;
}

static void
s_client_ping (act_client_t *client, const char *to, const char *data)
{
    msg_t *ping = s_ping_new (client, to, data);
    CHECK_OK (act_client_send (client, &ping));
}

//  Sends a durable ping and returns the sequence number it was acked with.
static uint64_t
s_durable_ping (act_client_t *client, const char *to, const char *data)
{
    msg_t *ping = s_ping_new (client, to, data);
    uint64_t seq = 0;
    CHECK_OK (act_client_send_durable (client, &ping, WAIT_MS, &seq));
    return seq;
}

//  The client's next message, which must be of `type`. Caller owns result.
static msg_t *
s_client_expect (act_client_t *client, msg_type_id_t type)
{
    int rc = 0;
    msg_t *msg = act_client_recv (client, WAIT_MS, &rc);
    if (!msg)
        UNIT_FAIL ("%s: nothing arrived, expected '%s'", act_client_address (client),
                   msg_type_by_id (type)->name);
    if (msg->type->id != type)
        UNIT_FAIL ("%s: got '%s' (%s), expected '%s'", act_client_address (client),
                   msg->type->name, msg_str (msg, "reason", ""), msg_type_by_id (type)->name);
    return msg;
}

//  Subscribes and waits until the broker has applied it: a ping answered on
//  the same connection comes after the subscribe was handled.
static void
s_subscribe (act_client_t *client, const char *topic)
{
    msg_t *sub = act_client_msg_new (client, MSG_TYPE_SUBSCRIBE, "broker");
    msg_set_str (sub, "topic", topic);
    CHECK_OK (act_client_send (client, &sub));
    msg_t *ping = act_client_msg_new (client, MSG_TYPE_PING, "broker");
    msg_t *pong = NULL;
    CHECK_OK (act_client_call (client, &ping, WAIT_MS, &pong));
    msg_destroy (&pong);
}

// ---------------------------------------------------------------------------
//  Raw peers: a DEALER socket we encode for ourselves

typedef struct {
    void *zctx;
    void *sock;
    act_rng_t rng;
    char address [MSG_ADDR_MAX];
} s_raw_t;

//  Connected, not registered. Caller owns result.
static s_raw_t *
s_raw_new (const s_broker_t *b)
{
    s_raw_t *self = act_calloc (1, sizeof *self);
    act_rng_init (&self->rng, act_seed_from_os ());
    snprintf (self->address, sizeof self->address, "raw@unregistered");
    self->zctx = zmq_ctx_new ();
    self->sock = zmq_socket (self->zctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt (self->sock, ZMQ_LINGER, &linger, sizeof linger);
    CHECK_OK (zmq_connect (self->sock, b->endpoint));
    return self;
}

static void
s_raw_destroy (s_raw_t **self_p)
{
    s_raw_t *self = *self_p;
    zmq_close (self->sock);
    zmq_ctx_term (self->zctx);
    free (self);
    *self_p = NULL;
}

static void
s_raw_send_bytes (s_raw_t *self, const void *data, size_t len)
{
    CHECK_EQ (zmq_send (self->sock, data, len, 0), (int) len);
}

//  Caller owns result.
static msg_t *
s_raw_msg_new (s_raw_t *self, msg_type_id_t type, const char *to)
{
    msg_t *msg = msg_new (type);
    act_rng_id (&self->rng, msg->id);
    msg_set_from (msg, self->address);
    msg_set_to (msg, to);
    msg->ts = act_wall_ms ();
    return msg;
}

//  Encodes, sends and destroys *msg_p.
static void
s_raw_send (s_raw_t *self, msg_t **msg_p)
{
    char *data;
    size_t len;
    CHECK_OK (msg_encode (*msg_p, &data, &len, NULL));
    s_raw_send_bytes (self, data, len);
    free (data);
    msg_destroy (msg_p);
}

//  The next message that is not a heartbeat, or NULL after `timeout_ms`.
//  Caller owns result.
static msg_t *
s_raw_recv (s_raw_t *self, int timeout_ms)
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
        zmq_msg_t frame;
        zmq_msg_init (&frame);
        CHECK (zmq_msg_recv (&frame, self->sock, 0) >= 0);
        msg_error_t err;
        msg_t *msg = msg_decode (zmq_msg_data (&frame), zmq_msg_size (&frame), MSG_DECODE_FULL, &err);
        zmq_msg_close (&frame);
        if (!msg)
            UNIT_FAIL ("%s: the broker sent a bad message: %s", self->address, err.reason);
        if (msg->type->id != MSG_TYPE_HEARTBEAT)
            return msg;
        msg_destroy (&msg);
    }
}

//  The next message, which must be of `type`. Caller owns result.
static msg_t *
s_raw_expect (s_raw_t *self, msg_type_id_t type)
{
    msg_t *msg = s_raw_recv (self, WAIT_MS);
    if (!msg)
        UNIT_FAIL ("%s: nothing arrived, expected '%s'", self->address, msg_type_by_id (type)->name);
    if (msg->type->id != type)
        UNIT_FAIL ("%s: got '%s' (%s), expected '%s'", self->address, msg->type->name,
                   msg_str (msg, "reason", ""), msg_type_by_id (type)->name);
    return msg;
}

//  The next message must be an `error` with `code`.
static void
s_raw_expect_error (s_raw_t *self, int code)
{
    msg_t *err = s_raw_expect (self, MSG_TYPE_ERROR);
    CHECK_EQ (msg_int (err, "code", 0), code);
    CHECK_NOT_NULL (msg_str (err, "reason", NULL));
    msg_destroy (&err);
}

//  The next message must be a ping carrying `data` with sequence `seq`
//  (0: not journaled).
static void
s_raw_expect_ping (s_raw_t *self, const char *data, uint64_t seq)
{
    msg_t *ping = s_raw_expect (self, MSG_TYPE_PING);
    CHECK_STR_EQ (msg_str (ping, "data", ""), data);
    CHECK_EQ (ping->seq, seq);
    CHECK_EQ (ping->durable, seq != 0);
    msg_destroy (&ping);
}

//  Says hello and returns the broker's answer (welcome or error). Caller
//  owns result.
static msg_t *
s_raw_hello (s_raw_t *self, const char *name, const char *instance, const char *role,
             bool singleton, const char *topic)
{
    snprintf (self->address, sizeof self->address, "%s@%s", name, instance);
    msg_t *hello = s_raw_msg_new (self, MSG_TYPE_HELLO, "broker");
    msg_set_str (hello, "name", name);
    msg_set_str (hello, "instance", instance);
    msg_set_str (hello, "host", "localhost");
    msg_set_int (hello, "pid", getpid ());
    msg_set_str (hello, "role", role);
    msg_set_str (hello, "token", TOKEN);
    msg_set_bool (hello, "singleton", singleton);
    json_t *topics = json_array ();
    if (topic)
        json_array_append_new (topics, json_string (topic));
    msg_set_json (hello, "topics", topics);
    char id [MSG_ID_LEN + 1];
    memcpy (id, hello->id, sizeof id);
    s_raw_send (self, &hello);
    msg_t *reply = s_raw_recv (self, WAIT_MS);
    if (!reply)
        UNIT_FAIL ("%s: no answer to hello", self->address);
    CHECK_STR_EQ (reply->corr, id);
    return reply;
}

//  A raw peer registered as an actor. Caller owns result.
static s_raw_t *
s_raw_actor (const s_broker_t *b, const char *name, const char *instance, bool singleton,
             const char *topic)
{
    s_raw_t *self = s_raw_new (b);
    msg_t *reply = s_raw_hello (self, name, instance, "actor", singleton, topic);
    if (reply->type->id != MSG_TYPE_WELCOME)
        UNIT_FAIL ("%s: hello refused: %s", self->address, msg_str (reply, "reason", "?"));
    CHECK_STR_EQ (reply->to, self->address);
    msg_destroy (&reply);
    return self;
}

//  Sends a broker control message with no reply (delivered, bye).
static void
s_raw_delivered (s_raw_t *self, uint64_t seq)
{
    msg_t *done = s_raw_msg_new (self, MSG_TYPE_DELIVERED, "broker");
    msg_set_int (done, "seq", (int64_t) seq);
    s_raw_send (self, &done);
}

static void
s_raw_bye (s_raw_t *self)
{
    msg_t *bye = s_raw_msg_new (self, MSG_TYPE_BYE, "broker");
    s_raw_send (self, &bye);
}

//  broker.status asked over the raw peer's own connection, so it is
//  answered after everything this peer sent before. Caller owns result.
static msg_t *
s_raw_status (s_raw_t *self)
{
    msg_t *req = s_raw_msg_new (self, MSG_TYPE_BROKER_STATUS, "broker");
    s_raw_send (self, &req);
    return s_raw_expect (self, MSG_TYPE_BROKER_STATUS_REPLY);
}

// ---------------------------------------------------------------------------
//  Tests

static void
test_hello_bad_token (void)
{
    s_broker_t b;
    s_broker_init (&b, 0);
    act_client_t *client = s_client (&b, "cli");
    int rc = 0;
    act_client_t *bad = act_client_new (b.endpoint, "not-the-token", "cli", WAIT_MS, &rc);
    CHECK_NULL (bad);
    CHECK_EQ (rc, ACT_EAUTH);
    bad = act_client_new (b.endpoint, "", "cli", WAIT_MS, &rc);
    CHECK_NULL (bad);
    CHECK_EQ (rc, ACT_EAUTH);

    //  An actor with a bad token is refused too, and never listed.
    s_raw_t *raw = s_raw_new (&b);
    snprintf (raw->address, sizeof raw->address, "intruder@x");
    msg_t *hello = s_raw_msg_new (raw, MSG_TYPE_HELLO, "broker");
    msg_set_str (hello, "name", "intruder");
    msg_set_str (hello, "instance", "x");
    msg_set_str (hello, "host", "localhost");
    msg_set_int (hello, "pid", getpid ());
    msg_set_str (hello, "role", "actor");
    msg_set_str (hello, "token", TOKEN "-but-longer");
    s_raw_send (raw, &hello);
    s_raw_expect_error (raw, ACT_EAUTH);

    msg_t *status = s_status (client);
    CHECK_EQ (s_rejected (status, "auth"), 3);
    CHECK (!s_status_lists (status, "intruder", "x"));
    CHECK_EQ (json_array_size (json_object_get (status->body, "peers")), 1);
    msg_destroy (&status);
    s_raw_destroy (&raw);
    act_client_destroy (&client);
    s_broker_stop (&b);
}

static void
test_route_by_name_and_instance (void)
{
    s_broker_t b;
    s_broker_init (&b, 0);
    act_client_t *client = s_client (&b, "cli");
    s_subscribe (client, "actor.down");
    s_raw_t *one = s_raw_actor (&b, "svc", "one", false, NULL);
    s_raw_t *two = s_raw_actor (&b, "svc", "two", false, NULL);

    //  name@instance reaches exactly that peer, with the bytes as sent.
    s_client_ping (client, "svc@two", "to-two");
    msg_t *got = s_raw_expect (two, MSG_TYPE_PING);
    CHECK_STR_EQ (msg_str (got, "data", ""), "to-two");
    CHECK_STR_EQ (got->from, act_client_address (client));
    CHECK_STR_EQ (got->to, "svc@two");
    //  A reply addressed to the client's name@instance reaches it.
    msg_t *pong = s_raw_msg_new (two, MSG_TYPE_PONG, got->from);
    msg_set_corr (pong, got->id);
    msg_set_str (pong, "data", "back");
    s_raw_send (two, &pong);
    msg_t *back = s_client_expect (client, MSG_TYPE_PONG);
    CHECK_STR_EQ (back->corr, got->id);
    CHECK_STR_EQ (back->from, "svc@two");
    CHECK_STR_EQ (msg_str (back, "data", ""), "back");
    msg_destroy (&back);
    msg_destroy (&got);
    //  The first thing `one` sees is its own message: `to-two` never came.
    s_client_ping (client, "svc@one", "to-one");
    s_raw_expect_ping (one, "to-one", 0);

    //  By name: one live instance each time, rotating between the two.
    s_client_ping (client, "svc", "by-name-1");
    s_client_ping (client, "svc", "by-name-2");
    msg_t *a = s_raw_expect (one, MSG_TYPE_PING);
    msg_t *c = s_raw_expect (two, MSG_TYPE_PING);
    CHECK_STR_EQ (a->to, "svc");
    CHECK_STR_EQ (c->to, "svc");
    CHECK (strcmp (msg_str (a, "data", ""), msg_str (c, "data", "")) != 0);
    msg_destroy (&a);
    msg_destroy (&c);

    //  When one instance leaves, the name goes to the other.
    s_raw_bye (one);
    msg_t *down = s_client_expect (client, MSG_TYPE_ACTOR_DOWN);
    CHECK_STR_EQ (msg_str (down, "instance", ""), "one");
    msg_destroy (&down);
    s_raw_destroy (&one);
    s_client_ping (client, "svc", "survivor");
    s_raw_expect_ping (two, "survivor", 0);

    s_raw_destroy (&two);
    act_client_destroy (&client);
    s_broker_stop (&b);
}

static void
test_route_topic (void)
{
    s_broker_t b;
    s_broker_init (&b, 0);
    //  Two subscribers: a client through `subscribe`, an actor through its
    //  hello topics; a third peer is not subscribed.
    act_client_t *reader = s_client (&b, "reader");
    s_subscribe (reader, "news");
    s_raw_t *listener = s_raw_actor (&b, "listener", "l", false, "news");
    s_raw_t *bystander = s_raw_actor (&b, "bystander", "b", false, NULL);
    act_client_t *pub = s_client (&b, "pub");

    s_client_ping (pub, "topic:news", "extra");
    msg_t *got = s_client_expect (reader, MSG_TYPE_PING);
    CHECK_STR_EQ (got->to, "topic:news");
    CHECK_STR_EQ (got->from, act_client_address (pub));
    CHECK_STR_EQ (msg_str (got, "data", ""), "extra");
    msg_destroy (&got);
    s_raw_expect_ping (listener, "extra", 0);
    //  The bystander's first message is the one sent to it afterwards.
    s_client_ping (pub, "bystander", "marker");
    s_raw_expect_ping (bystander, "marker", 0);

    //  A durable publish is journaled, acked, then fanned out with its seq.
    uint64_t seq = s_durable_ping (pub, "topic:news", "durable-extra");
    CHECK_EQ (seq, 1);
    got = s_client_expect (reader, MSG_TYPE_PING);
    CHECK_EQ (got->seq, 1);
    CHECK_STR_EQ (msg_str (got, "data", ""), "durable-extra");
    msg_destroy (&got);
    s_raw_expect_ping (listener, "durable-extra", 1);
    //  Topics are not held for anyone.
    CHECK_EQ (s_status_int (pub, "held"), 0);

    //  A bad topic name is refused.
    msg_t *sub = act_client_msg_new (reader, MSG_TYPE_SUBSCRIBE, "broker");
    msg_set_str (sub, "topic", "Not A Topic");
    msg_t *reply = NULL;
    CHECK_EQ (act_client_call (reader, &sub, WAIT_MS, &reply), MSG_EBODY);
    msg_destroy (&reply);
    CHECK_EQ (s_status_rejected (reader, "bad_control"), 1);

    s_raw_destroy (&listener);
    s_raw_destroy (&bystander);
    act_client_destroy (&reader);
    act_client_destroy (&pub);
    s_broker_stop (&b);
}

static void
test_no_route (void)
{
    s_broker_t b;
    s_broker_init (&b, 0);
    act_client_t *client = s_client (&b, "cli");
    const char *targets [] = { "nobody", "nobody@there" };
    for (size_t i = 0; i < 2; i++) {
        msg_t *ping = s_ping_new (client, targets [i], "anyone?");
        char id [MSG_ID_LEN + 1];
        memcpy (id, ping->id, sizeof id);
        msg_t *reply = NULL;
        CHECK_EQ (act_client_call (client, &ping, WAIT_MS, &reply), ACT_ENOROUTE);
        CHECK_EQ (reply->type->id, MSG_TYPE_ERROR);
        CHECK_STR_EQ (reply->corr, id);
        CHECK_STR_EQ (msg_str (reply, "type", ""), "ping");
        msg_destroy (&reply);
    }
    //  Names route to actors only; a client is reachable by its address.
    act_client_t *lonely = s_client (&b, "lonely");
    msg_t *ping = s_ping_new (client, "lonely", "by-name");
    msg_t *reply = NULL;
    CHECK_EQ (act_client_call (client, &ping, WAIT_MS, &reply), ACT_ENOROUTE);
    msg_destroy (&reply);
    s_client_ping (client, act_client_address (lonely), "by-address");
    msg_t *got = s_client_expect (lonely, MSG_TYPE_PING);
    CHECK_STR_EQ (msg_str (got, "data", ""), "by-address");
    msg_destroy (&got);
    //  A reply nobody can take is dropped and counted, not answered.
    msg_t *pong = act_client_msg_new (client, MSG_TYPE_PONG, "gone@away");
    CHECK_OK (act_client_send (client, &pong));
    CHECK_EQ (s_status_rejected (client, "no_route"), 4);
    act_client_destroy (&lonely);
    act_client_destroy (&client);
    s_broker_stop (&b);
}

static void
test_not_registered (void)
{
    s_broker_t b;
    s_broker_init (&b, 0);
    act_client_t *client = s_client (&b, "cli");
    s_raw_t *raw = s_raw_new (&b);
    snprintf (raw->address, sizeof raw->address, "early@bird");
    const char *targets [] = { "broker", "cli" };
    for (size_t i = 0; i < 2; i++) {
        msg_t *ping = s_raw_msg_new (raw, MSG_TYPE_PING, targets [i]);
        char id [MSG_ID_LEN + 1];
        memcpy (id, ping->id, sizeof id);
        s_raw_send (raw, &ping);
        msg_t *err = s_raw_expect (raw, MSG_TYPE_ERROR);
        CHECK_EQ (msg_int (err, "code", 0), ACT_ENOTREG);
        CHECK_STR_EQ (err->corr, id);
        msg_destroy (&err);
    }
    CHECK_EQ (s_status_rejected (client, "not_registered"), 2);
    //  The same connection may still say hello and be served.
    msg_t *reply = s_raw_hello (raw, "early", "bird", "actor", false, NULL);
    CHECK_EQ (reply->type->id, MSG_TYPE_WELCOME);
    msg_destroy (&reply);
    msg_t *ping = s_raw_msg_new (raw, MSG_TYPE_PING, "broker");
    s_raw_send (raw, &ping);
    msg_t *pong = s_raw_expect (raw, MSG_TYPE_PONG);
    msg_destroy (&pong);
    s_raw_destroy (&raw);
    act_client_destroy (&client);
    s_broker_stop (&b);
}

static void
test_spoofed_sender (void)
{
    s_broker_t b;
    s_broker_init (&b, 0);
    act_client_t *client = s_client (&b, "cli");
    s_raw_t *victim = s_raw_actor (&b, "victim", "v", false, NULL);
    const char *claims [] = { "victim@v", "other@elsewhere" };
    for (size_t i = 0; i < 2; i++) {
        msg_t *ping = s_ping_new (client, "victim", "forged");
        msg_set_from (ping, claims [i]);
        msg_t *reply = NULL;
        CHECK_EQ (act_client_call (client, &ping, WAIT_MS, &reply), ACT_ESPOOF);
        msg_destroy (&reply);
    }
    //  The victim never saw the forged pings: its first message is this one.
    s_client_ping (client, "victim", "genuine");
    msg_t *got = s_raw_expect (victim, MSG_TYPE_PING);
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
    msg_set_str (hello, "token", TOKEN);
    msg_t *reply = NULL;
    CHECK_EQ (act_client_call (client, &hello, WAIT_MS, &reply), ACT_ESPOOF);
    msg_destroy (&reply);
    msg_t *status = s_status (client);
    CHECK_EQ (s_rejected (status, "spoofed"), 3);
    CHECK (s_status_lists (status, "victim", "v"));
    msg_destroy (&status);
    s_raw_destroy (&victim);
    act_client_destroy (&client);
    s_broker_stop (&b);
}

//  An envelope the codec would accept but for its type name.
static void
s_send_unknown_type (s_raw_t *raw)
{
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    char id [MSG_ID_LEN + 1];
    act_rng_id (&raw->rng, id);
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
    s_raw_send_bytes (raw, sbuf.data, sbuf.size);
    msgpack_sbuffer_destroy (&sbuf);
}

static void
test_bad_input (void)
{
    s_broker_t b;
    s_broker_init (&b, 0);
    act_client_t *client = s_client (&b, "cli");
    s_raw_t *raw = s_raw_new (&b);

    //  Garbage of several shapes: each gets an error and counts as malformed.
    msg_t *valid = s_raw_msg_new (raw, MSG_TYPE_PING, "broker");
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
        s_raw_send_bytes (raw, garbage [i].data, garbage [i].len);
        s_raw_expect_error (raw, garbage [i].code);
    }
    free (encoded);
    //  Over the size limit (but under the socket's): too_big.
    size_t big_len = MSG_MAX_SIZE + 16;
    char *big = act_calloc (1, big_len);
    s_raw_send_bytes (raw, big, big_len);
    free (big);
    s_raw_expect_error (raw, MSG_ETOOBIG);
    //  Two and three frames: refused whole, the connection stays usable.
    CHECK_EQ (zmq_send (raw->sock, "a", 1, ZMQ_SNDMORE), 1);
    CHECK_EQ (zmq_send (raw->sock, "b", 1, 0), 1);
    s_raw_expect_error (raw, MSG_EMALFORMED);
    CHECK_EQ (zmq_send (raw->sock, "a", 1, ZMQ_SNDMORE), 1);
    CHECK_EQ (zmq_send (raw->sock, "b", 1, ZMQ_SNDMORE), 1);
    CHECK_EQ (zmq_send (raw->sock, "c", 1, 0), 1);
    s_raw_expect_error (raw, MSG_EMALFORMED);
    s_send_unknown_type (raw);
    s_raw_expect_error (raw, MSG_EBADTYPE);

    msg_t *status = s_status (client);
    CHECK_EQ (s_rejected (status, "malformed"), (int64_t) garbage_count);
    CHECK_EQ (s_rejected (status, "too_big"), 1);
    CHECK_EQ (s_rejected (status, "multipart"), 2);
    CHECK_EQ (s_rejected (status, "unknown_type"), 1);
    msg_destroy (&status);

    //  The broker keeps serving, that very connection included; a
    //  registered peer's garbage is answered and counted the same way.
    msg_t *reply = s_raw_hello (raw, "sturdy", "s", "actor", false, NULL);
    CHECK_EQ (reply->type->id, MSG_TYPE_WELCOME);
    msg_destroy (&reply);
    s_raw_send_bytes (raw, "\xc1", 1);
    s_raw_expect_error (raw, MSG_EMALFORMED);
    s_send_unknown_type (raw);
    s_raw_expect_error (raw, MSG_EBADTYPE);
    s_client_ping (client, "sturdy", "still-there");
    s_raw_expect_ping (raw, "still-there", 0);
    status = s_raw_status (raw);
    CHECK_EQ (s_rejected (status, "malformed"), (int64_t) garbage_count + 1);
    CHECK_EQ (s_rejected (status, "unknown_type"), 2);
    CHECK (s_status_lists (status, "sturdy", "s"));
    msg_destroy (&status);
    s_raw_destroy (&raw);
    act_client_destroy (&client);
    s_broker_stop (&b);
}

static void
test_singleton (void)
{
    s_broker_t b;
    s_broker_init (&b, 0);
    act_client_t *watcher = s_client (&b, "watcher");
    s_subscribe (watcher, "actor.down");
    s_raw_t *first = s_raw_actor (&b, "solo", "a", true, NULL);

    //  A second instance is refused while the first is live, whether or
    //  not it claims to be a singleton itself.
    s_raw_t *second = s_raw_new (&b);
    for (int claim = 1; claim >= 0; claim--) {
        msg_t *reply = s_raw_hello (second, "solo", "b", "actor", claim, NULL);
        CHECK_EQ (reply->type->id, MSG_TYPE_ERROR);
        CHECK_EQ (msg_int (reply, "code", 0), ACT_EREFUSED);
        CHECK_NOT_NULL (strstr (msg_str (reply, "reason", ""), "solo@a"));
        msg_destroy (&reply);
    }
    //  A client may share the name: singletons are about actors.
    act_client_t *namesake = s_client (&b, "solo");
    act_client_destroy (&namesake);

    //  The same address again is the same actor reconnecting: it replaces
    //  the old connection.
    s_raw_t *again = s_raw_actor (&b, "solo", "a", true, NULL);
    msg_t *down = s_client_expect (watcher, MSG_TYPE_ACTOR_DOWN);
    CHECK_STR_EQ (msg_str (down, "instance", ""), "a");
    CHECK_STR_EQ (msg_str (down, "reason", ""), "replaced");
    msg_destroy (&down);

    //  Once it has left, another instance may take the name.
    s_raw_bye (again);
    down = s_client_expect (watcher, MSG_TYPE_ACTOR_DOWN);
    CHECK_STR_EQ (msg_str (down, "instance", ""), "a");
    CHECK_STR_EQ (msg_str (down, "reason", ""), "bye");
    msg_destroy (&down);
    msg_t *reply = s_raw_hello (second, "solo", "b", "actor", true, NULL);
    CHECK_EQ (reply->type->id, MSG_TYPE_WELCOME);
    msg_destroy (&reply);

    msg_t *status = s_status (watcher);
    CHECK_EQ (s_rejected (status, "singleton"), 2);
    CHECK (s_status_lists (status, "solo", "b"));
    CHECK (!s_status_lists (status, "solo", "a"));
    msg_destroy (&status);
    s_raw_destroy (&first);
    s_raw_destroy (&again);
    s_raw_destroy (&second);
    act_client_destroy (&watcher);
    s_broker_stop (&b);
}

static void
test_durable_ack_seq (void)
{
    s_broker_t b;
    s_broker_init (&b, 0);
    act_client_t *client = s_client (&b, "cli");
    s_raw_t *sink = s_raw_actor (&b, "sink", "s", false, NULL);
    const char *data [] = { "first", "second", "third" };
    for (uint64_t i = 0; i < 3; i++)
        CHECK_EQ (s_durable_ping (client, "sink", data [i]), i + 1);
    for (uint64_t i = 0; i < 3; i++)
        s_raw_expect_ping (sink, data [i], i + 1);
    //  Held until the actor says it handled them.
    msg_t *status = s_raw_status (sink);
    CHECK_EQ (msg_int (status, "held", -1), 3);
    CHECK_EQ (msg_int (status, "journal_head", -1), 3);
    msg_destroy (&status);
    for (uint64_t i = 1; i <= 3; i++)
        s_raw_delivered (sink, i);
    status = s_raw_status (sink);
    CHECK_EQ (msg_int (status, "held", -1), 0);
    msg_destroy (&status);
    CHECK_EQ (s_durable_ping (client, "sink", "fourth"), 4);
    s_raw_expect_ping (sink, "fourth", 4);
    s_raw_destroy (&sink);
    act_client_destroy (&client);
    s_broker_stop (&b);
}

static void
test_held_until_registered (void)
{
    s_broker_t b;
    s_broker_init (&b, 0);
    act_client_t *client = s_client (&b, "cli");
    const char *data [] = { "one", "two", "three" };
    for (uint64_t i = 0; i < 3; i++)
        CHECK_EQ (s_durable_ping (client, "keeper", data [i]), i + 1);
    CHECK_EQ (s_status_int (client, "held"), 3);

    //  The first instance to register gets them all, in order.
    s_raw_t *k1 = s_raw_actor (&b, "keeper", "k1", false, NULL);
    for (uint64_t i = 0; i < 3; i++)
        s_raw_expect_ping (k1, data [i], i + 1);
    //  A second instance gets none of what k1 holds.
    s_raw_t *k2 = s_raw_actor (&b, "keeper", "k2", false, NULL);
    s_client_ping (client, "keeper@k2", "marker");
    s_raw_expect_ping (k2, "marker", 0);

    //  k1 handles the first and leaves: the rest go to k2, in order.
    s_raw_delivered (k1, 1);
    msg_t *status = s_raw_status (k1);
    CHECK_EQ (msg_int (status, "held", -1), 2);
    msg_destroy (&status);
    s_raw_bye (k1);
    for (uint64_t i = 1; i < 3; i++)
        s_raw_expect_ping (k2, data [i], i + 1);
    s_raw_delivered (k2, 2);
    s_raw_delivered (k2, 3);
    status = s_raw_status (k2);
    CHECK_EQ (msg_int (status, "held", -1), 0);
    msg_destroy (&status);
    s_raw_destroy (&k1);
    s_raw_destroy (&k2);
    act_client_destroy (&client);
    s_broker_stop (&b);
}

//  `delivered` is cumulative: it releases everything up to its seq that
//  went to that peer, and nothing that went to another peer.
static void
test_delivered_is_cumulative (void)
{
    s_broker_t b;
    s_broker_init (&b, 0);
    act_client_t *client = s_client (&b, "cli");
    s_raw_t *a = s_raw_actor (&b, "worker", "a", false, NULL);
    s_raw_t *z = s_raw_actor (&b, "other", "z", false, NULL);
    CHECK_EQ (s_durable_ping (client, "worker@a", "a1"), 1);
    CHECK_EQ (s_durable_ping (client, "other@z", "z2"), 2);
    CHECK_EQ (s_durable_ping (client, "worker@a", "a3"), 3);
    CHECK_EQ (s_durable_ping (client, "worker@a", "a4"), 4);
    s_raw_expect_ping (a, "a1", 1);
    s_raw_expect_ping (z, "z2", 2);
    s_raw_expect_ping (a, "a3", 3);
    s_raw_expect_ping (a, "a4", 4);
    CHECK_EQ (s_status_int (client, "held"), 4);
    //  Up to 3 from a: releases 1 and 3, not z's 2, not a's 4. Status is
    //  asked on the same connection, so it is answered after the release.
    s_raw_delivered (a, 3);
    msg_t *status = s_raw_status (a);
    CHECK_EQ (msg_int (status, "held", -1), 2);
    msg_destroy (&status);
    //  z cannot release a's messages by naming a higher seq.
    s_raw_delivered (z, 4);
    status = s_raw_status (z);
    CHECK_EQ (msg_int (status, "held", -1), 1);
    msg_destroy (&status);
    s_raw_delivered (a, 4);
    status = s_raw_status (a);
    CHECK_EQ (msg_int (status, "held", -1), 0);
    msg_destroy (&status);
    s_raw_destroy (&a);
    s_raw_destroy (&z);
    act_client_destroy (&client);
    s_broker_stop (&b);
}

static void
test_held_survives_restart (void)
{
    s_broker_t b;
    s_broker_init (&b, 0);
    act_client_t *client = s_client (&b, "cli");
    CHECK_EQ (s_durable_ping (client, "later", "before-1"), 1);
    CHECK_EQ (s_durable_ping (client, "later", "before-2"), 2);
    act_client_destroy (&client);
    s_broker_stop (&b);

    s_broker_start (&b);
    client = s_client (&b, "cli");
    msg_t *status = s_status (client);
    CHECK_EQ (msg_int (status, "journal_head", -1), 2);
    CHECK_EQ (msg_int (status, "held", -1), 2);
    msg_destroy (&status);
    CHECK_EQ (s_durable_ping (client, "later", "after"), 3);

    s_raw_t *later = s_raw_actor (&b, "later", "l", false, NULL);
    s_raw_expect_ping (later, "before-1", 1);
    s_raw_expect_ping (later, "before-2", 2);
    s_raw_expect_ping (later, "after", 3);
    for (uint64_t i = 1; i <= 3; i++)
        s_raw_delivered (later, i);
    status = s_raw_status (later);
    CHECK_EQ (msg_int (status, "held", -1), 0);
    msg_destroy (&status);
    s_raw_destroy (&later);
    act_client_destroy (&client);
    s_broker_stop (&b);

    //  The releases were journaled too: nothing comes back.
    s_broker_start (&b);
    client = s_client (&b, "cli");
    status = s_status (client);
    CHECK_EQ (msg_int (status, "journal_head", -1), 3);
    CHECK_EQ (msg_int (status, "held", -1), 0);
    msg_destroy (&status);
    CHECK_EQ (s_durable_ping (client, "topic:audit", "next"), 4);
    act_client_destroy (&client);
    s_broker_stop (&b);
}

static void
test_heartbeat_expiry (void)
{
    s_broker_t b;
    s_broker_init (&b, FAST_HB_MS);
    //  The watcher waits far longer than three intervals in recv: it must
    //  heartbeat at the broker's pace to stay registered.
    act_client_t *watcher = s_client (&b, "watcher");
    s_subscribe (watcher, "actor.down");
    s_raw_t *quiet = s_raw_actor (&b, "quiet", "q", false, NULL);
    int64_t since = act_mono_ms ();
    msg_t *down = s_client_expect (watcher, MSG_TYPE_ACTOR_DOWN);
    int64_t after = act_mono_ms () - since;
    CHECK_STR_EQ (msg_str (down, "name", ""), "quiet");
    CHECK_STR_EQ (msg_str (down, "instance", ""), "q");
    CHECK_STR_EQ (msg_str (down, "reason", ""), "heartbeat");
    CHECK_EQ (msg_int (down, "pid", 0), getpid ());
    msg_destroy (&down);
    //  Liveness is 3 intervals, checked every quarter interval.
    if (after < 2 * FAST_HB_MS || after > 10 * FAST_HB_MS)
        UNIT_FAIL ("dropped after %lld ms, expected about %d", (long long) after, 3 * FAST_HB_MS);

    msg_t *status = s_status (watcher);
    CHECK (!s_status_lists (status, "quiet", "q"));
    CHECK (s_status_lists (status, "watcher", strchr (act_client_address (watcher), '@') + 1));
    msg_destroy (&status);
    //  The dropped peer is told so when it speaks again.
    msg_t *ping = s_raw_msg_new (quiet, MSG_TYPE_PING, "broker");
    s_raw_send (quiet, &ping);
    s_raw_expect_error (quiet, ACT_ENOTREG);
    s_raw_destroy (&quiet);
    act_client_destroy (&watcher);
    s_broker_stop (&b);
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
    CHECK_OK (act_client_call (client, &req, WAIT_MS, &batch));
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
    s_broker_t b;
    s_broker_init (&b, 0);
    act_client_t *client = s_client (&b, "cli");
    //  seq 1 ping->alpha, 2 status->beta, 3 ping->beta@x, 4 ping->topic,
    //  5 status->alpha
    CHECK_EQ (s_durable_ping (client, "alpha", "1"), 1);
    msg_t *st = act_client_msg_new (client, MSG_TYPE_STATUS, "beta");
    uint64_t seq = 0;
    CHECK_OK (act_client_send_durable (client, &st, WAIT_MS, &seq));
    CHECK_EQ (seq, 2);
    CHECK_EQ (s_durable_ping (client, "beta@x", "3"), 3);
    CHECK_EQ (s_durable_ping (client, "topic:news", "4"), 4);
    st = act_client_msg_new (client, MSG_TYPE_STATUS, "alpha");
    CHECK_OK (act_client_send_durable (client, &st, WAIT_MS, &seq));
    CHECK_EQ (seq, 5);
    //  Non-durable traffic is not journaled.
    msg_t *reply = NULL;
    msg_t *ping = s_ping_new (client, "broker", "not journaled");
    CHECK_OK (act_client_call (client, &ping, WAIT_MS, &reply));
    msg_destroy (&reply);

    s_check_batch (client, 1, 0, NULL, NULL, "1,2,3,4,5", 6);
    s_check_batch (client, 0, 0, NULL, NULL, "1,2,3,4,5", 6);
    s_check_batch (client, 2, 2, NULL, NULL, "2,3", 4);
    s_check_batch (client, 4, 2, NULL, NULL, "4,5", 6);
    s_check_batch (client, 1, 0, "ping", NULL, "1,3,4", 6);
    s_check_batch (client, 1, 0, "status", NULL, "2,5", 6);
    s_check_batch (client, 1, 1, "status", NULL, "2", 3);
    s_check_batch (client, 1, 0, NULL, "beta", "2,3", 6);
    s_check_batch (client, 1, 0, NULL, "beta@x", "3", 6);
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
    s_broker_stop (&b);
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
    UNIT_TEST (test_durable_ack_seq),
    UNIT_TEST (test_held_until_registered),
    UNIT_TEST (test_delivered_is_cumulative),
    UNIT_TEST (test_held_survives_restart),
    UNIT_TEST (test_heartbeat_expiry),
    UNIT_TEST (test_journal_read),
};

UNIT_SUITE (unit_suite_broker, s_tests);
