//  dyno-supervisor - runs the dynos of one host (one instance per host)
//
//  The actor definition run by `dynod actor dyno-supervisor` and `dynod up`.

#ifndef SUP_ACTOR_H
#define SUP_ACTOR_H

#include "../common/act.h"

//  Borrowed, static storage.
const act_def_t *sup_actor_def (void);

#endif
