//  support - helpers shared by the broker and actor runtime suites
//
//  See support.h. Owns no state between calls: each helper works on what
//  its caller hands it.

#include "support.h"
#include "../../broker/broker.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define POLL_NAP_NS     (10 * 1000 * 1000)

// ---------------------------------------------------------------------------
//  Processes

int
ut_wait_exit (pid_t pid, int timeout_ms)
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
        ut_nap ();
    }
}

void
ut_nap (void)
{
    struct timespec nap = { 0, POLL_NAP_NS };
    nanosleep (&nap, NULL);
}

void
ut_child_stdio (const char *ident)
{
    int fd = open ("/dev/null", O_WRONLY);
    if (fd >= 0) {
        dup2 (fd, STDOUT_FILENO);
        close (fd);
    }
    setenv ("DYNOD_LOG_LEVEL", "error", 0);
    act_log_init (ident);
}

void
ut_broker_start (ut_broker_t *b)
{
    pid_t pid = fork ();
    CHECK (pid >= 0);
    if (pid == 0) {
        ut_child_stdio ("broker");
        brk_config_t cfg = {
            .endpoint = b->endpoint,
            .data_dir = b->data,
            .token = UT_TOKEN,
            .heartbeat_ms = b->heartbeat_ms,
        };
        exit (brk_run (&cfg) == 0 ? 0 : 1);
    }
    b->pid = pid;
}

void
ut_broker_init (ut_broker_t *b, int heartbeat_ms)
{
    memset (b, 0, sizeof *b);
    int port = unit_free_port ();
    CHECK (port > 0);
    snprintf (b->endpoint, sizeof b->endpoint, "tcp://127.0.0.1:%d", port);
    snprintf (b->data, sizeof b->data, "%s/broker", unit_tmpdir ());
    b->heartbeat_ms = heartbeat_ms;
    ut_broker_start (b);
}

void
ut_broker_stop (ut_broker_t *b)
{
    CHECK_OK (kill (b->pid, SIGTERM));
    CHECK_EQ (ut_wait_exit (b->pid, UT_WAIT_MS), 0);
    b->pid = 0;
}

// ---------------------------------------------------------------------------
//  act_client helpers

act_client_t *
ut_client_new (const ut_broker_t *b, const char *name)
{
    int64_t deadline = act_mono_ms () + UT_WAIT_MS;
    for (;;) {
        int rc = 0;
        act_client_t *client = act_client_new (b->endpoint, UT_TOKEN, name, UT_TRY_MS, &rc);
        if (client)
            return client;
        if (rc != ACT_ETIMEDOUT || act_mono_ms () >= deadline)
            UNIT_FAIL ("cannot register '%s' at %s: %s", name, b->endpoint, act_strerror (rc));
    }
}

msg_t *
ut_client_expect (act_client_t *client, msg_type_id_t type)
{
    int rc = 0;
    msg_t *msg = act_client_recv (client, UT_WAIT_MS, &rc);
    if (!msg)
        UNIT_FAIL ("%s: nothing arrived, expected '%s'", act_client_address (client),
                   msg_type_by_id (type)->name);
    if (msg->type->id != type)
        UNIT_FAIL ("%s: got '%s' (%s), expected '%s'", act_client_address (client),
                   msg->type->name, msg_str (msg, "reason", ""), msg_type_by_id (type)->name);
    return msg;
}

void
ut_client_subscribe (act_client_t *client, const char *topic)
{
    msg_t *sub = act_client_msg_new (client, MSG_TYPE_SUBSCRIBE, "broker");
    msg_set_str (sub, "topic", topic);
    CHECK_OK (act_client_send (client, &sub));
    msg_t *ping = act_client_msg_new (client, MSG_TYPE_PING, "broker");
    msg_t *pong = NULL;
    CHECK_OK (act_client_call (client, &ping, UT_WAIT_MS, &pong));
    msg_destroy (&pong);
}

msg_t *
ut_ping_new (act_client_t *client, const char *to, const char *data)
{
    msg_t *ping = act_client_msg_new (client, MSG_TYPE_PING, to);
    msg_set_str (ping, "data", data);
    return ping;
}

void
ut_client_ping (act_client_t *client, const char *to, const char *data)
{
    msg_t *ping = ut_ping_new (client, to, data);
    CHECK_OK (act_client_send (client, &ping));
}

uint64_t
ut_durable_ping (act_client_t *client, const char *to, const char *data)
{
    msg_t *ping = ut_ping_new (client, to, data);
    uint64_t seq = 0;
    CHECK_OK (act_client_send_durable (client, &ping, UT_WAIT_MS, &seq));
    return seq;
}

int64_t
ut_body_int (const msg_t *msg, const char *object, const char *key)
{
    json_t *value = json_object_get (json_object_get (msg->body, object), key);
    if (!json_is_integer (value))
        UNIT_FAIL ("'%s' has no integer %s.%s", msg->type->name, object, key);
    return json_integer_value (value);
}

msg_t *
ut_status (act_client_t *client)
{
    msg_t *req = act_client_msg_new (client, MSG_TYPE_BROKER_STATUS, "broker");
    msg_t *reply = NULL;
    CHECK_OK (act_client_call (client, &req, UT_WAIT_MS, &reply));
    CHECK_EQ (reply->type->id, MSG_TYPE_BROKER_STATUS_REPLY);
    return reply;
}

int64_t
ut_status_int (act_client_t *client, const char *key)
{
    msg_t *status = ut_status (client);
    int64_t value = msg_int (status, key, -1);
    msg_destroy (&status);
    return value;
}

int64_t
ut_rejected (const msg_t *status, const char *why)
{
    return ut_body_int (status, "rejected", why);
}

int64_t
ut_status_rejected (act_client_t *client, const char *why)
{
    msg_t *status = ut_status (client);
    int64_t value = ut_rejected (status, why);
    msg_destroy (&status);
    return value;
}

bool
ut_status_lists (const msg_t *status, const char *name, const char *instance)
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

// ---------------------------------------------------------------------------
//  Wire sockets

void
ut_wire_init (ut_wire_t *self, int type, const char *endpoint)
{
    memset (self, 0, sizeof *self);
    act_rng_init (&self->rng, act_seed_from_os ());
    self->router = type == ZMQ_ROUTER;
    self->zctx = zmq_ctx_new ();
    self->sock = zmq_socket (self->zctx, type);
    int linger = 0;
    zmq_setsockopt (self->sock, ZMQ_LINGER, &linger, sizeof linger);
    if (self->router)
        CHECK_OK (zmq_bind (self->sock, endpoint));
    else
        CHECK_OK (zmq_connect (self->sock, endpoint));
}

void
ut_wire_release (ut_wire_t *self)
{
    zmq_close (self->sock);
    zmq_ctx_term (self->zctx);
    self->sock = NULL;
    self->zctx = NULL;
}

msg_t *
ut_wire_msg_new (ut_wire_t *self, msg_type_id_t type, const char *from, const char *to)
{
    msg_t *msg = msg_new (type);
    act_rng_id (&self->rng, msg->id);
    msg_set_from (msg, from);
    msg_set_to (msg, to);
    msg->ts = act_wall_ms ();
    return msg;
}

void
ut_wire_send_bytes (ut_wire_t *self, const void *data, size_t len)
{
    if (self->router) {
        int sent = zmq_send (self->sock, self->rid, self->rid_len, ZMQ_SNDMORE);
        CHECK_EQ (sent, (int) self->rid_len);
    }
    CHECK_EQ (zmq_send (self->sock, data, len, 0), (int) len);
}

void
ut_wire_send (ut_wire_t *self, msg_t **msg_p)
{
    char *data;
    size_t len;
    CHECK_OK (msg_encode (*msg_p, &data, &len, NULL));
    ut_wire_send_bytes (self, data, len);
    free (data);
    msg_destroy (msg_p);
}

msg_t *
ut_wire_recv (ut_wire_t *self, int64_t deadline, const char *who)
{
    for (;;) {
        long left = (long) (deadline - act_mono_ms ());
        zmq_pollitem_t item = { self->sock, 0, ZMQ_POLLIN, 0 };
        int rc = zmq_poll (&item, 1, left < 0 ? 0 : left);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            return NULL;
        if (self->router) {
            zmq_msg_t rid;
            zmq_msg_init (&rid);
            CHECK (zmq_msg_recv (&rid, self->sock, 0) >= 0);
            CHECK (zmq_msg_size (&rid) <= sizeof self->rid);
            self->rid_len = zmq_msg_size (&rid);
            memcpy (self->rid, zmq_msg_data (&rid), self->rid_len);
            zmq_msg_close (&rid);
        }
        zmq_msg_t frame;
        zmq_msg_init (&frame);
        CHECK (zmq_msg_recv (&frame, self->sock, 0) >= 0);
        msg_error_t err;
        msg_t *msg = msg_decode (zmq_msg_data (&frame), zmq_msg_size (&frame), MSG_DECODE_FULL, &err);
        zmq_msg_close (&frame);
        if (!msg)
            UNIT_FAIL ("%s sent a bad message: %s", who, err.reason);
        return msg;
    }
}

// ---------------------------------------------------------------------------
//  Raw peers

ut_raw_t *
ut_raw_new (const ut_broker_t *b)
{
    ut_raw_t *self = act_calloc (1, sizeof *self);
    ut_wire_init (&self->wire, ZMQ_DEALER, b->endpoint);
    snprintf (self->address, sizeof self->address, "raw@unregistered");
    return self;
}

void
ut_raw_destroy (ut_raw_t **self_p)
{
    ut_raw_t *self = *self_p;
    ut_wire_release (&self->wire);
    free (self);
    *self_p = NULL;
}

ut_raw_t *
ut_raw_actor (const ut_broker_t *b, const char *name, const char *instance, bool singleton,
              const char *topic)
{
    ut_raw_t *self = ut_raw_new (b);
    msg_t *reply = ut_raw_hello (self, name, instance, "actor", singleton, topic);
    if (reply->type->id != MSG_TYPE_WELCOME)
        UNIT_FAIL ("%s: hello refused: %s", self->address, msg_str (reply, "reason", "?"));
    CHECK_STR_EQ (reply->to, self->address);
    msg_destroy (&reply);
    return self;
}

msg_t *
ut_raw_hello (ut_raw_t *self, const char *name, const char *instance, const char *role,
              bool singleton, const char *topic)
{
    snprintf (self->address, sizeof self->address, "%s@%s", name, instance);
    msg_t *hello = ut_raw_msg_new (self, MSG_TYPE_HELLO, "broker");
    msg_set_str (hello, "name", name);
    msg_set_str (hello, "instance", instance);
    msg_set_str (hello, "host", "localhost");
    msg_set_int (hello, "pid", getpid ());
    msg_set_str (hello, "role", role);
    msg_set_str (hello, "token", UT_TOKEN);
    msg_set_bool (hello, "singleton", singleton);
    json_t *topics = json_array ();
    if (topic)
        json_array_append_new (topics, json_string (topic));
    msg_set_json (hello, "topics", topics);
    char id [MSG_ID_LEN + 1];
    memcpy (id, hello->id, sizeof id);
    ut_raw_send (self, &hello);
    msg_t *reply = ut_raw_recv (self, UT_WAIT_MS);
    if (!reply)
        UNIT_FAIL ("%s: no answer to hello", self->address);
    CHECK_STR_EQ (reply->corr, id);
    return reply;
}

msg_t *
ut_raw_msg_new (ut_raw_t *self, msg_type_id_t type, const char *to)
{
    return ut_wire_msg_new (&self->wire, type, self->address, to);
}

void
ut_raw_send_bytes (ut_raw_t *self, const void *data, size_t len)
{
    ut_wire_send_bytes (&self->wire, data, len);
}

void
ut_raw_send (ut_raw_t *self, msg_t **msg_p)
{
    ut_wire_send (&self->wire, msg_p);
}

msg_t *
ut_raw_recv (ut_raw_t *self, int timeout_ms)
{
    int64_t deadline = act_mono_ms () + timeout_ms;
    char who [MSG_ADDR_MAX + 16];
    snprintf (who, sizeof who, "%s: the broker", self->address);
    msg_t *msg;
    while ((msg = ut_wire_recv (&self->wire, deadline, who))) {
        if (msg->type->id != MSG_TYPE_HEARTBEAT)
            return msg;
        msg_destroy (&msg);
    }
    return NULL;
}

msg_t *
ut_raw_expect (ut_raw_t *self, msg_type_id_t type)
{
    msg_t *msg = ut_raw_recv (self, UT_WAIT_MS);
    if (!msg)
        UNIT_FAIL ("%s: nothing arrived, expected '%s'", self->address, msg_type_by_id (type)->name);
    if (msg->type->id != type)
        UNIT_FAIL ("%s: got '%s' (%s), expected '%s'", self->address, msg->type->name,
                   msg_str (msg, "reason", ""), msg_type_by_id (type)->name);
    return msg;
}

void
ut_raw_expect_error (ut_raw_t *self, int code)
{
    msg_t *err = ut_raw_expect (self, MSG_TYPE_ERROR);
    CHECK_EQ (msg_int (err, "code", 0), code);
    CHECK_NOT_NULL (msg_str (err, "reason", NULL));
    msg_destroy (&err);
}

void
ut_raw_expect_ping (ut_raw_t *self, const char *data, uint64_t seq)
{
    msg_t *ping = ut_raw_expect (self, MSG_TYPE_PING);
    CHECK_STR_EQ (msg_str (ping, "data", ""), data);
    CHECK_EQ (ping->seq, seq);
    CHECK_EQ (ping->durable, seq != 0);
    msg_destroy (&ping);
}

void
ut_raw_delivered (ut_raw_t *self, uint64_t seq)
{
    msg_t *done = ut_raw_msg_new (self, MSG_TYPE_DELIVERED, "broker");
    msg_set_int (done, "seq", (int64_t) seq);
    ut_raw_send (self, &done);
}

void
ut_raw_bye (ut_raw_t *self)
{
    msg_t *bye = ut_raw_msg_new (self, MSG_TYPE_BYE, "broker");
    ut_raw_send (self, &bye);
}

msg_t *
ut_raw_status (ut_raw_t *self)
{
    msg_t *req = ut_raw_msg_new (self, MSG_TYPE_BROKER_STATUS, "broker");
    ut_raw_send (self, &req);
    return ut_raw_expect (self, MSG_TYPE_BROKER_STATUS_REPLY);
}
