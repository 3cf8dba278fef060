//  releases - release-keeper's releases: numbering, history, rollback
//
//  (Placeholder until the releases slice lands: every handler refuses.)

#include "rel_state.h"

int rel_on_release_create (void *state, act_t *act, msg_t *msg) { (void) state; (void) act; (void) msg; return ACT_ENOROUTE; }
int rel_on_release_list (void *state, act_t *act, msg_t *msg) { (void) state; (void) act; (void) msg; return ACT_ENOROUTE; }
int rel_on_release_get (void *state, act_t *act, msg_t *msg) { (void) state; (void) act; (void) msg; return ACT_ENOROUTE; }
int rel_on_release_rollback (void *state, act_t *act, msg_t *msg) { (void) state; (void) act; (void) msg; return ACT_ENOROUTE; }
