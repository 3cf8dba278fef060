//  log-plex - per-app log buffers, tails and drains
//
//  The actor definition run by `dynod actor log-plex` and `dynod up`.

#ifndef LPX_ACTOR_H
#define LPX_ACTOR_H

#include "../common/act.h"

//  Borrowed, static storage.
const act_def_t *lpx_actor_def (void);

#endif
