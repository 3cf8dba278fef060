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
//        "certs": [ { "name": STR, "cert": PEM, "key_sealed": BASE64 of seal.h's bytes,
//                     "domains": [STR...], "expires_ms": INT, "issuer": STR,
//                     "trusted": BOOL, "auto": BOOL, "by": STR, "added_ms": INT } ... ] }
//  (the last four absent until first set)
//  where RELEASE holds the fields of `release.info` but `app` and `current`.
//
//  `deploys` is not durable: uploads and builds in progress die with the
//  process (the CLI sees an error or a timeout); blobs on disk stay.

#ifndef REL_STATE_H
#define REL_STATE_H

#include "../common/act.h"

typedef struct rel_deploys rel_deploys_t;
typedef struct rel_acm rel_acm_t;
typedef struct rel_certs rel_certs_t;
typedef struct rel_seal rel_seal_t;     // seal.h
typedef struct rel_vault rel_vault_t;   // vault.h

typedef struct {
    json_t *apps;               // owned; see above
    rel_deploys_t *deploys;     // owned; deploy.c
    rel_acm_t *acm;             // owned; acm.c: ACME orders in flight
    rel_certs_t *certs;         // owned; certs.c: seal key, cert.add waiting
    rel_vault_t *vault;         // owned; vault.c: blobs copied to the broker
    json_t *route_stale;        // owned; route.c: apps to publish again
                                // ({name: true}), held back by a replay
    bool route_all;             // route.c: publish every app (after start)
    act_rng_t route_ids;        // route.c: route.app ids, apart from the
                                // actor's rng, which replays must draw alike
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

//  domains.c: custom domains and maintenance mode.
act_handler_fn rel_on_domain_add;
act_handler_fn rel_on_domain_remove;
act_handler_fn rel_on_domain_list;
act_handler_fn rel_on_maintenance_set;

//  certs.c: uploaded certificates (cert.add checks, seals and sends
//  itself a durable cert.stored; the CLI is answered once it is applied).
rel_certs_t *rel_certs_new (act_t *act);
void rel_certs_destroy (rel_certs_t **self_p);
//  The seal key (seal.h) release-keeper keeps secrets at rest with, the
//  one key holder (acm.c seals with it too); NULL when it could not be
//  opened, with the reason in `err` (borrowed, may be NULL). Borrowed:
//  valid until rel_certs_destroy.
rel_seal_t *rel_certs_seal (rel_certs_t *self, const char **err);
act_handler_fn rel_on_cert_add;
act_handler_fn rel_on_cert_stored;
act_handler_fn rel_on_cert_remove;
act_handler_fn rel_on_cert_list;
//  The `certs` array of app `app_name`'s `route.app` (`app` is its record):
//  maps of `name`, `domains`, `cert`, `key` (opened: PEM in clear),
//  `expires_ms`; a certificate whose key cannot be opened is left out
//  (logged). Caller owns result.
json_t *rel_certs_route (rel_state_t *self, const char *app_name, const json_t *app);

//  route.c: what routers know of each app (`route.app`).
//  Publishes app `app`'s routing picture on topic `route.app` (released,
//  maintenance, custom domains, certificates with their keys opened), or
//  `destroyed: true` when the app is gone. While replaying (sends are
//  suppressed) it notes the app in route_stale instead: the tick publishes
//  it once the replay is over.
void rel_route_publish (rel_state_t *self, act_t *act, const char *app);
//  Sends one `route.app` per app straight to `to` (a router that came up).
void rel_route_send_all (rel_state_t *self, act_t *act, const char *to);
//  Publishes every app once after start (route_all) and each app in
//  route_stale; call from the tick. Cheap when there is nothing to do.
void rel_route_tick (rel_state_t *self, act_t *act);

//  acm.c: automated certificate management (ACME orders, acm.set).
rel_acm_t *rel_acm_new (act_t *act);
void rel_acm_destroy (rel_acm_t **self_p);
//  Orders what apps with ACM on need; call from the tick.
void rel_acm_tick (rel_state_t *self, act_t *act);
act_handler_fn rel_on_acm_set;
//  Adds `acm_status` (`pending`, `issued`, `failed`) and, when known,
//  `acm_reason` (why the last order failed) and `acm_updated_ms` to
//  `info` (a domain.info body of custom domain `host` of app `app`) when
//  the app has ACM on; nothing otherwise.
void rel_acm_domain_view (rel_state_t *self, const char *app, const char *host, json_t *info);

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
