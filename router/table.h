//  table - the routing table: which web dynos of which app are `up`, where
//
//  Written by the actor thread (from `dyno.state` events), read by the
//  HTTP worker threads; every call takes the table's mutex for a short
//  copy, so a request never waits on the actor's work. Workers also
//  sideline a dyno that failed a connect (refused or timed out): for a few
//  seconds every worker prefers the app's other dynos. An app is known from the
//  first `dyno.state` of any of its dynos and stays known (so an app
//  scaled to zero answers H14, not "no such app"). Only `web` dynos are
//  kept; a dyno leaves when it reports `down`, or when the supervisor that
//  reported it is lost (`actor.down`): a lost host's dynos get no traffic
//  once the broker has given up on its supervisor. A dyno is known by its
//  id and that supervisor: after a partition the same id may run on two
//  hosts for a moment (the returning host's copy is being stopped), and
//  one copy's `down` must not remove the other.

#ifndef RTR_TABLE_H
#define RTR_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rtr_table rtr_table_t;

#define RTR_NAME_MAX    64              // bytes of a dyno name / host, with NUL
#define RTR_ID_MAX      40              // bytes of a dyno id, with NUL
#define RTR_SUP_MAX     128             // bytes of a supervisor address, with NUL

//  A chosen backend: a copy, the caller's.
typedef struct {
    char id [RTR_ID_MAX];
    char name [RTR_NAME_MAX];           // `web.1`
    char host [RTR_NAME_MAX];           // `127.0.0.1`
    int port;
} rtr_backend_t;

typedef enum {
    RTR_PICK_OK,                        // *out holds an up web dyno
    RTR_PICK_NO_APP,                    // the app was never seen
    RTR_PICK_NO_WEB,                    // no web dyno running (H14)
    RTR_PICK_CRASHED,                   // web dynos exist, all crashed (H10)
    RTR_PICK_STARTING,                  // none up, some starting (wait: H20)
} rtr_pick_t;

//  Caller owns result.
rtr_table_t *rtr_table_new (void);
void rtr_table_destroy (rtr_table_t **self_p);

//  Applies one `dyno.state` (strings borrowed) from supervisor `sup`
//  (`dyno-supervisor@instance`). `port` <= 0 when absent.
void rtr_table_apply (rtr_table_t *self, const char *app, const char *id, const char *sup,
                      const char *name, const char *type, const char *state, const char *host,
                      int port);

//  Forgets every dyno supervisor `sup` reported (it is lost). Returns how
//  many web dynos went.
size_t rtr_table_drop_sup (rtr_table_t *self, const char *sup);

//  Picks a web dyno of `app` that is `up`, at random (`rnd` any random
//  number), skipping the ids in `skip` (`skip_count` of them) and, while
//  others are left, the dynos sidelined.
rtr_pick_t rtr_table_pick (rtr_table_t *self, const char *app, uint64_t rnd,
                           const char (*skip) [RTR_ID_MAX], size_t skip_count,
                           rtr_backend_t *out);

//  Sidelines dyno `id` for `ms` milliseconds from now.
void rtr_table_sideline (rtr_table_t *self, const char *id, int ms);

//  True while dyno `id` is an `up` web dyno (on any supervisor).
bool rtr_table_is_up (rtr_table_t *self, const char *id);

//  Web dynos sidelined now (for status).
size_t rtr_table_sidelined (rtr_table_t *self);

//  Web dynos up, over all apps (for status).
size_t rtr_table_up_count (rtr_table_t *self);

#endif
