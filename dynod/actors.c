//  dnd actors - the table of the six actors dynod can run
//
//  The only file of dynod/ that includes the actors' headers; each actor is
//  reached through its definition.

#include "dynod.h"
#include "../actors/config-keeper/config-keeper.h"
#include "../actors/dyno-supervisor/dyno-supervisor.h"
#include "../actors/log-plex/log-plex.h"
#include "../actors/release-keeper/release-keeper.h"
#include "../actors/scheduler/scheduler.h"
#include "../router/router.h"

#include <string.h>

typedef const act_def_t *(act_def_fn) (void);

//  Start order: keepers first, the router last.
static act_def_fn *const s_actors [] = {
    rel_actor_def, cfg_actor_def, lpx_actor_def, sch_actor_def, sup_actor_def, rtr_actor_def,
};

size_t dnd_actor_count (void) { return sizeof s_actors / sizeof s_actors [0]; }
const act_def_t *dnd_actor_at (size_t i) { return i < dnd_actor_count () ? s_actors [i] () : NULL; }

const act_def_t *
dnd_actor_find (const char *name)
{
    for (size_t i = 0; i < dnd_actor_count (); i++)
        if (strcmp (s_actors [i] ()->name, name) == 0)
            return s_actors [i] ();
    return NULL;
}
