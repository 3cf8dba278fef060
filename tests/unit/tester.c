//  tester - the test actor the act suites run with act_run
//
//  See tester.h. Its state (s_tester_t) lives in the actor's child process.

#include "tester.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    //  "send-durable": a durable ping to `sink`, fire and forget (the
    //  runtime keeps it until the broker acks it).
    if (strcmp (msg_str (msg, "name", ""), "send-durable") == 0) {
        msg_t *out = act_msg_new (act, MSG_TYPE_PING, "sink");
        out->durable = true;
        return act_send (act, &out);
    }
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

const act_def_t ut_tester = {
    .name = "tester",
    .routes = s_routes,
    .route_count = sizeof s_routes / sizeof s_routes [0],
    .create = s_tester_create,
    .destroy = s_tester_destroy,
    .status = s_tester_status,
};

const act_def_t ut_counter = {
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

pid_t
ut_actor_start (const ut_actor_t *a)
{
    pid_t pid = fork ();
    CHECK (pid >= 0);
    if (pid == 0) {
        ut_child_stdio (a->def->name);
        act_clock_t clock;
        act_clock_fixed_init (&clock, UT_FIXED_NOW_MS);
        act_config_t cfg = {
            .broker = a->endpoint,
            .instance = a->instance,
            .host = "unit-host",
            .token = UT_TOKEN,
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

int64_t
ut_detail_int (const msg_t *status, const char *key)
{
    return ut_body_int (status, "detail", key);
}
