//  config-keeper - owns config vars per app, versioned
//
//  The actor definition run by `dynod actor config-keeper` and `dynod up`.

#ifndef CFG_ACTOR_H
#define CFG_ACTOR_H

#include "../common/act.h"

//  Borrowed, static storage.
const act_def_t *cfg_actor_def (void);

#endif
