//  act_client - a blocking broker peer for short-lived programs
//
//  Owns its ZeroMQ context and DEALER socket.

#include "act_client.h"
#include "act.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define CLIENT_TAG      0x636c6921u     // "cli!"
#define CLIENT_TAG_DEAD 0xdeadbeefu

struct act_client {
    uint32_t tag;                       // CLIENT_TAG; asserted on entry
    void *zctx;
    void *sock;
    act_rng_t rng;
    char address [MSG_ADDR_MAX];
    int64_t last_send;
    int heartbeat_ms;                   // the broker's, from its welcome
    bool registered;                    // welcomed: say bye on destroy
};

msg_t *
act_client_msg_new (act_client_t *self, msg_type_id_t type, const char *to)
{
    return msg_new_addressed (type, &self->rng, self->address, to, act_wall_ms ());
}

int
act_client_send (act_client_t *self, msg_t **msg_p)
{
    assert (self->tag == CLIENT_TAG);
    char *data;
    size_t len;
    int rc = msg_encode (*msg_p, &data, &len, NULL);
    msg_destroy (msg_p);
    if (rc)
        return rc;
    rc = zmq_send (self->sock, data, len, 0);
    free (data);
    self->last_send = act_mono_ms ();
    return rc < 0 ? -errno : 0;
}

msg_t *
act_client_recv (act_client_t *self, int timeout_ms, int *rc)
{
    assert (self->tag == CLIENT_TAG);
    int64_t deadline = act_mono_ms () + timeout_ms;
    for (;;) {
        int64_t now = act_mono_ms ();
        if (now - self->last_send >= self->heartbeat_ms) {
            msg_t *hb = act_client_msg_new (self, MSG_TYPE_HEARTBEAT, "broker");
            act_client_send (self, &hb);
        }
        int64_t wait = deadline - now;
        if (wait <= 0)
            break;
        if (wait > self->heartbeat_ms)
            wait = self->heartbeat_ms;
        zmq_pollitem_t item = { self->sock, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, (long) wait) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (!(item.revents & ZMQ_POLLIN))
            continue;
        zmq_msg_t frame;
        zmq_msg_init (&frame);
        if (zmq_msg_recv (&frame, self->sock, 0) < 0) {
            zmq_msg_close (&frame);
            continue;
        }
        msg_error_t err;
        msg_t *msg = msg_decode (zmq_msg_data (&frame), zmq_msg_size (&frame), MSG_DECODE_FULL, &err);
        zmq_msg_close (&frame);
        if (!msg || msg->type->id == MSG_TYPE_HEARTBEAT) {
            msg_destroy (&msg);
            continue;
        }
        *rc = 0;
        return msg;
    }
    *rc = ACT_ETIMEDOUT;
    return NULL;
}

//  Waits for the message whose corr is `id`; drops others. Skips acks
//  unless `want_ack`.
static int
s_wait_for (act_client_t *self, const char *id, int timeout_ms, bool want_ack, msg_t **reply_p)
{
    int64_t deadline = act_mono_ms () + timeout_ms;
    *reply_p = NULL;
    for (;;) {
        int64_t left = deadline - act_mono_ms ();
        if (left <= 0)
            return ACT_ETIMEDOUT;
        int rc;
        msg_t *msg = act_client_recv (self, (int) left, &rc);
        if (!msg)
            return rc;
        if (strcmp (msg->corr, id) != 0 || (msg->type->id == MSG_TYPE_ACK && !want_ack)) {
            msg_destroy (&msg);
            continue;
        }
        *reply_p = msg;
        if (msg->type->id == MSG_TYPE_ERROR)
            return (int) msg_int (msg, "code", ACT_EPROTO);
        return 0;
    }
}

int
act_client_call (act_client_t *self, msg_t **req_p, int timeout_ms, msg_t **reply_p)
{
    char id [MSG_ID_LEN + 1];
    memcpy (id, (*req_p)->id, sizeof id);
    int rc = act_client_send (self, req_p);
    if (rc)
        return rc;
    return s_wait_for (self, id, timeout_ms, false, reply_p);
}

int
act_client_send_durable (act_client_t *self, msg_t **msg_p, int timeout_ms, uint64_t *seq_p)
{
    (*msg_p)->durable = true;
    char id [MSG_ID_LEN + 1];
    memcpy (id, (*msg_p)->id, sizeof id);
    int rc = act_client_send (self, msg_p);
    if (rc)
        return rc;
    msg_t *reply;
    rc = s_wait_for (self, id, timeout_ms, true, &reply);
    if (rc == 0 && reply->type->id != MSG_TYPE_ACK)
        rc = ACT_EPROTO;
    if (rc == 0 && seq_p)
        *seq_p = (uint64_t) msg_int (reply, "seq", 0);
    msg_destroy (&reply);
    return rc;
}

act_client_t *
act_client_new (const char *endpoint, const char *token, const char *name, int timeout_ms, int *rc)
{
    return act_client_new_curve (endpoint, token, name, timeout_ms, NULL, rc);
}

act_client_t *
act_client_new_curve (const char *endpoint, const char *token, const char *name, int timeout_ms,
                      const act_curve_t *curve, int *rc)
{
    act_client_t *self = act_calloc (1, sizeof *self);
    self->tag = CLIENT_TAG;
    act_rng_init (&self->rng, act_seed_from_os ());
    self->heartbeat_ms = ACT_HEARTBEAT_MS;
    char instance [17];
    snprintf (instance, sizeof instance, "%016llx", (unsigned long long) act_rng_next (&self->rng));
    snprintf (self->address, sizeof self->address, "%s@%s", name, instance);
    self->zctx = zmq_ctx_new ();
    self->sock = zmq_socket (self->zctx, ZMQ_DEALER);
    int linger = 1000, hwm = 200000;
    zmq_setsockopt (self->sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt (self->sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt (self->sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    if ((curve && (*rc = act_curve_client_apply (self->sock, curve)) != 0)
    ||  zmq_connect (self->sock, endpoint)) {
        *rc = -errno;
        act_client_destroy (&self);
        return NULL;
    }
    char host [256] = "";
    gethostname (host, sizeof host - 1);
    msg_t *hello = act_client_msg_new (self, MSG_TYPE_HELLO, "broker");
    msg_set_str (hello, "name", name);
    msg_set_str (hello, "instance", instance);
    msg_set_str (hello, "host", host);
    msg_set_int (hello, "pid", getpid ());
    msg_set_str (hello, "role", "client");
    msg_set_str (hello, "token", token ? token : "");
    //  A handshake the broker refuses (a CURVE key it does not allow, the
    //  wrong security) ends the connection for good: ZeroMQ then has no pipe
    //  to queue on and a blocking send would wait forever. Until the broker
    //  has answered, sends give up with the hello's deadline.
    int sndtimeo = timeout_ms, forever = -1;
    zmq_setsockopt (self->sock, ZMQ_SNDTIMEO, &sndtimeo, sizeof sndtimeo);
    msg_t *reply = NULL;
    *rc = act_client_call (self, &hello, timeout_ms, &reply);
    if (*rc == -EAGAIN)
        *rc = ACT_ETIMEDOUT;
    zmq_setsockopt (self->sock, ZMQ_SNDTIMEO, &forever, sizeof forever);
    if (*rc == 0 && reply->type->id != MSG_TYPE_WELCOME)
        *rc = ACT_EPROTO;
    //  The broker drops peers silent for `liveness` of its intervals: keep
    //  to its pace when it is faster than ours.
    int64_t heartbeat_ms = *rc == 0 ? msg_int (reply, "heartbeat_ms", 0) : 0;
    if (heartbeat_ms > 0 && heartbeat_ms < self->heartbeat_ms)
        self->heartbeat_ms = (int) heartbeat_ms;
    msg_destroy (&reply);
    if (*rc) {
        //  Nothing worth delivering is queued: do not linger on close.
        int zero = 0;
        zmq_setsockopt (self->sock, ZMQ_LINGER, &zero, sizeof zero);
        act_client_destroy (&self);
        return NULL;
    }
    self->registered = true;
    return self;
}

void
act_client_destroy (act_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    act_client_t *self = *self_p;
    assert (self->tag == CLIENT_TAG);
    if (self->sock) {
        if (self->registered) {
            msg_t *bye = act_client_msg_new (self, MSG_TYPE_BYE, "broker");
            act_client_send (self, &bye);
        }
        zmq_close (self->sock);
    }
    zmq_ctx_term (self->zctx);
    self->tag = CLIENT_TAG_DEAD;
    free (self);
    *self_p = NULL;
}

const char *act_client_address (act_client_t *self) { return self->address; }
void *act_client_socket (act_client_t *self) { return self->sock; }
