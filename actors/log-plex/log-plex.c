//  log-plex - per-app log buffers, tail sessions and drains
//
//  Accepts: status, ping, stop (answered by the runtime).
//  Emits:   status.reply, pong.
//  State:   none yet; its domain messages arrive with the issues that
//           build them, each added to s_routes below.

#include "log-plex.h"

static const act_def_t s_def = {
    .name = "log-plex",
    .singleton = true,
    .routes = NULL,
    .route_count = 0,
};

const act_def_t *
lpx_actor_def (void)
{
    return &s_def;
}
