//  deploy - release-keeper's uploads, builds and deploys
//
//  (Placeholder until the deploy slice lands: every handler refuses.)

#include "rel_state.h"

#include <stdlib.h>

struct rel_deploys { int unused; };

rel_deploys_t *rel_deploys_new (act_t *act) { (void) act; return act_calloc (1, sizeof (rel_deploys_t)); }
void rel_deploys_destroy (rel_deploys_t **self_p) { free (*self_p); *self_p = NULL; }
void rel_deploys_tick (rel_state_t *self, act_t *act) { (void) self; (void) act; }
int rel_on_upload_start (void *state, act_t *act, msg_t *msg) { (void) state; (void) act; (void) msg; return ACT_ENOROUTE; }
int rel_on_upload_chunk (void *state, act_t *act, msg_t *msg) { (void) state; (void) act; (void) msg; return ACT_ENOROUTE; }
int rel_on_upload_finish (void *state, act_t *act, msg_t *msg) { (void) state; (void) act; (void) msg; return ACT_ENOROUTE; }
int rel_on_deploy_start (void *state, act_t *act, msg_t *msg) { (void) state; (void) act; (void) msg; return ACT_ENOROUTE; }
int rel_on_buildpacks_set (void *state, act_t *act, msg_t *msg) { (void) state; (void) act; (void) msg; return ACT_ENOROUTE; }
