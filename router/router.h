//  router - the HTTP(S) front door (one instance per host)
//
//  The actor definition run by `dynod actor router` and `dynod up`.

#ifndef RTR_ROUTER_H
#define RTR_ROUTER_H

#include "../actors/common/act.h"

//  Borrowed, static storage.
const act_def_t *rtr_actor_def (void);

#endif
