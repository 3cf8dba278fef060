//  router - the HTTP(S) front door (one instance per host)
//
//  Accepts: status, ping, stop (answered by the runtime).
//  Emits:   status.reply, pong.
//  State:   none yet; routing arrives with the router issue.

#include "router.h"

static const act_def_t s_def = {
    .name = "router",
    .singleton = false,
    .routes = NULL,
    .route_count = 0,
};

const act_def_t *
rtr_actor_def (void)
{
    return &s_def;
}
