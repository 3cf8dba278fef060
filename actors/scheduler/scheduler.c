//  scheduler - desired formation and dyno placement
//
//  Accepts: actor.up, actor.down (topics), plus status, ping, stop (runtime).
//  Emits:   status.reply (with the live dyno-supervisors it knows), pong.
//  State:   the set of live dyno-supervisor instances, learned from the
//           broker's actor.up / actor.down events; placement uses it once
//           formations exist (dynos issue).

#include "scheduler.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    json_t *supervisors;        // object: instance -> host
    uint64_t events;
} sch_state_t;

static void *
s_create (act_t *act)
{
    (void) act;
    sch_state_t *self = act_calloc (1, sizeof *self);
    self->supervisors = json_object ();
    return self;
}

static void
s_destroy (void **state_p)
{
    sch_state_t *self = *state_p;
    json_decref (self->supervisors);
    free (self);
    *state_p = NULL;
}

static int
s_on_actor_up (void *state, act_t *act, msg_t *msg)
{
    (void) act;
    sch_state_t *self = state;
    self->events++;
    if (strcmp (msg_str (msg, "name", ""), "dyno-supervisor") == 0) {
        act_log_info ("dyno-supervisor %s is up", msg_str (msg, "instance", ""));
        json_object_set_new (self->supervisors, msg_str (msg, "instance", ""),
                             json_string (msg_str (msg, "host", "")));
    }
    return 0;
}

static int
s_on_actor_down (void *state, act_t *act, msg_t *msg)
{
    (void) act;
    sch_state_t *self = state;
    self->events++;
    if (strcmp (msg_str (msg, "name", ""), "dyno-supervisor") == 0) {
        act_log_info ("dyno-supervisor %s is down (%s)", msg_str (msg, "instance", ""),
                      msg_str (msg, "reason", ""));
        json_object_del (self->supervisors, msg_str (msg, "instance", ""));
    }
    return 0;
}

static void
s_status (void *state, json_t *detail)
{
    sch_state_t *self = state;
    json_object_set (detail, "supervisors", self->supervisors);
    json_object_set_new (detail, "events", json_integer ((json_int_t) self->events));
}

static const act_route_t s_routes [] = {
    { MSG_TYPE_ACTOR_UP,   s_on_actor_up },
    { MSG_TYPE_ACTOR_DOWN, s_on_actor_down },
};

static const char *const s_topics [] = { "actor.up", "actor.down", NULL };

static const act_def_t s_def = {
    .name = "scheduler",
    .singleton = true,
    .routes = s_routes,
    .route_count = sizeof s_routes / sizeof s_routes [0],
    .topics = s_topics,
    .create = s_create,
    .destroy = s_destroy,
    .status = s_status,
};

const act_def_t *
sch_actor_def (void)
{
    return &s_def;
}
