//  scheduler - desired formation and dyno placement
//
//  The actor definition run by `dynod actor scheduler` and `dynod up`.

#ifndef SCH_ACTOR_H
#define SCH_ACTOR_H

#include "../common/act.h"

//  Borrowed, static storage.
const act_def_t *sch_actor_def (void);

#endif
