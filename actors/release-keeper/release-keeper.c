//  release-keeper - owns apps, slugs and releases
//
//  Accepts: status, ping, stop (answered by the runtime).
//  Emits:   status.reply, pong.
//  State:   none yet; its domain messages arrive with the issues that
//           build them, each added to s_routes below.

#include "release-keeper.h"

static const act_def_t s_def = {
    .name = "release-keeper",
    .singleton = true,
    .routes = NULL,
    .route_count = 0,
};

const act_def_t *
rel_actor_def (void)
{
    return &s_def;
}
