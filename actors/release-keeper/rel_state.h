//  rel_state - release-keeper's state, shared by its handler files
//
//  release-keeper.c owns the struct (create, destroy, snapshot, restore)
//  and the handler table; apps are handled there, releases in releases.c,
//  uploads, builds and deploys in deploy.c.
//
//  `apps` is the durable state: what the snapshot holds and what a replay
//  of the journal rebuilds. For each app:
//      { "created_ms": INT, "by": STR,
//        "buildpacks": [ { "blob": SHA256, "name": STR } ... ],
//        "releases": [ RELEASE ... ],          oldest first; v = index + 1
//        "config_seen": INT,                   newest config version released
//        "rollbacks": INT,                     rollbacks asked for (numbers config.rollback)
//        "domains": [ { "hostname": STR, "dns_target": STR, "created_ms": INT } ... ],
//        "maintenance": BOOL,
//        "acm": BOOL,
//        "certs": [ { "name": STR, "cert": PEM, "key_sealed": BYTES (seal.h),
//                     "domains": [STR...], "expires_ms": INT, "issuer": STR,
//                     "auto": BOOL, "by": STR, "added_ms": INT } ... ] }
//  (the last four absent until first set)
//  where RELEASE holds the fields of `release.info` but `app` and `current`.
//
//  `deploys` is not durable: uploads and builds in progress die with the
//  process (the CLI sees an error or a timeout); blobs on disk stay.

#ifndef REL_STATE_H
#define REL_STATE_H

#include "../common/act.h"

typedef struct rel_deploys rel_deploys_t;

typedef struct {
    json_t *apps;               // owned; see above
    rel_deploys_t *deploys;     // owned; deploy.c
} rel_state_t;

//  The app `name`, or NULL. Borrowed from self->apps.
json_t *rel_app (rel_state_t *self, const char *name);
//  Answers `req` with the app.info of app `name` (release-keeper.c).
//  Returns act_reply's code.
int rel_reply_app_info (act_t *act, const msg_t *req, const char *name, const json_t *app);

//  releases.c: release.create, release.list, release.get, release.rollback,
//  release.status.
act_handler_fn rel_on_release_create;
act_handler_fn rel_on_release_list;
act_handler_fn rel_on_release_get;
act_handler_fn rel_on_release_rollback;
act_handler_fn rel_on_release_status;

//  deploy.c: uploads, builds, deploys, buildpacks.
rel_deploys_t *rel_deploys_new (act_t *act);
void rel_deploys_destroy (rel_deploys_t **self_p);
//  Timeouts and finished builds; called from the actor's tick.
void rel_deploys_tick (rel_state_t *self, act_t *act);
act_handler_fn rel_on_upload_start;
act_handler_fn rel_on_upload_chunk;
act_handler_fn rel_on_upload_finish;
act_handler_fn rel_on_deploy_start;
act_handler_fn rel_on_buildpacks_set;
//  An app was destroyed: removes its build cache (in the background;
//  nothing while the runtime replays). Call from app.destroy's handler.
void rel_deploys_forget_app (rel_state_t *self, act_t *act, const char *app);

#endif
