//  release-keeper - owns apps, slugs and releases
//
//  The actor definition run by `dynod actor release-keeper` and `dynod up`.

#ifndef REL_ACTOR_H
#define REL_ACTOR_H

#include "../common/act.h"

//  Borrowed, static storage.
const act_def_t *rel_actor_def (void);

#endif
