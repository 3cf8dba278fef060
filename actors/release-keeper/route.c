//  route - what routers know of each app: release-keeper's `route.app`
//
//  Emits:   route.app (not durable) on topic `route.app` whenever an app's
//           routing picture changes (created, destroyed, first and later
//           releases, domains, maintenance, certificates), and straight to
//           `router@INSTANCE` for every app when a router comes up.
//  State:   rel_state_t's `route_stale` and `route_all` (rel_state.h):
//           what is to be published again once live.
//
//  A replay suppresses every non-durable send, so what a replay changed
//  never reached the routers, and a router that came up before
//  release-keeper subscribed to `actor.up` was never told at all. Hence
//  every app is published once after start, and each app a replayed
//  message changed is published again from the tick once the replay is
//  over: routers converge on the state the journal rebuilt. Publishing
//  the same picture twice is harmless (routers replace an app's picture).
//
//  `certs` (certs.c) carries each certificate's key opened (PEM, in
//  clear): the event is never journaled.

#include "rel_state.h"

#include <string.h>

#define REL_ROUTE_TOPIC     "topic:route.app"

//  The routing picture of app `name` (`app`, NULL when it is gone). Caller
//  owns result.
static json_t *
s_picture (rel_state_t *self, const char *name, const json_t *app)
{
    if (!app)
        return json_pack ("{s:s, s:b}", "app", name, "destroyed", 1);
    json_t *domains = json_array ();
    size_t i;
    json_t *domain;
    json_array_foreach (json_object_get (app, "domains"), i, domain)
        json_array_append (domains, json_object_get (domain, "hostname"));
    return json_pack ("{s:s, s:b, s:b, s:o, s:o}", "app", name, "released",
                      json_array_size (json_object_get (app, "releases")) > 0,
                      "maintenance", json_is_true (json_object_get (app, "maintenance")),
                      "domains", domains, "certs", rel_certs_route (self, name, app));
}

//  Sends app `name`'s picture to `to`.
static void
s_send (rel_state_t *self, act_t *act, const char *name, const char *to)
{
    //  Not act_msg_new: published live but not on a replay, these would
    //  shift the ids the actor's rng gives everything after them.
    msg_t *msg = msg_new_addressed (MSG_TYPE_ROUTE_APP, &self->route_ids, act_address (act), to,
                                    act_now (act));
    json_decref (msg->body);
    msg->body = s_picture (self, name, rel_app (self, name));
    act_send (act, &msg);
}

void
rel_route_publish (rel_state_t *self, act_t *act, const char *app)
{
    //  Suppressed now: the tick publishes it once the replay is over.
    if (act_replaying (act)) {
        json_object_set_new (self->route_stale, app, json_true ());
        return;
    }
    s_send (self, act, app, REL_ROUTE_TOPIC);
}

void
rel_route_send_all (rel_state_t *self, act_t *act, const char *to)
{
    const char *name;
    json_t *app;
    json_object_foreach (self->apps, name, app)
        s_send (self, act, name, to);
}

void
rel_route_tick (rel_state_t *self, act_t *act)
{
    if (self->route_all) {
        self->route_all = false;
        rel_route_send_all (self, act, REL_ROUTE_TOPIC);
    }
    if (json_object_size (self->route_stale) == 0)
        return;
    const char *name;
    json_t *flag;
    json_object_foreach (self->route_stale, name, flag)
        s_send (self, act, name, REL_ROUTE_TOPIC);
    json_object_clear (self->route_stale);
}
