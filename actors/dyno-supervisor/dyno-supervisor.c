//  dyno-supervisor - runs the dynos of one host (one instance per host)
//
//  Accepts: status, ping, stop (answered by the runtime).
//  Emits:   status.reply, pong.
//  State:   none yet; its domain messages arrive with the issues that
//           build them, each added to s_routes below.

#include "dyno-supervisor.h"

static const act_def_t s_def = {
    .name = "dyno-supervisor",
    .singleton = false,
    .routes = NULL,
    .route_count = 0,
};

const act_def_t *
sup_actor_def (void)
{
    return &s_def;
}
