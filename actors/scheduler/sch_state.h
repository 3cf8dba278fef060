//  sch_state - the scheduler's state, shared by its handler files
//
//  scheduler.c owns the struct (create, destroy, snapshot, restore, the
//  handler table); formation.c the formation commands, placement.c where
//  dynos run and the dyno.assign messages, oneoff.c one-off dynos,
//  rollout.c releases (release phase, preboot).
//
//  Durable (in the snapshot; rebuilt by a replay of the journal):
//    releases  app -> newest release seen (version, app_created_ms, slug
//              (blob), process_types, config_version); see scheduler.c.
//    apps      app -> APP:
//      { "born": INT,                    app_created_ms of the app it is
//        "live": INT,                    release the app runs (0: none yet)
//        "prev": INT,                    the one before, while preboot runs
//        "rels": { "V": REL },           the releases dynos run or may run:
//                                        {version, slug {blob, size},
//                                         process_types, config_version}
//        "formation": { TYPE: {"quantity": INT, "size": STR} },
//        "dynos": { NAME: {"id": STR, "release": INT} },
//        "old":   { NAME: {"id": STR, "release": INT} },   preboot: kept
//                                        until the new web dynos are up
//        "pending": INT,                 release whose release phase runs
//                                        (0: none)
//        "pending_id": STR,              id of its `release.1`
//        "phase": "" | "preboot",        preboot: new web dynos booting
//        "phase_ms": INT,                when preboot began
//        "features": { "preboot": BOOL },
//        "healthcheck": STR }
//
//  Soft (not in the snapshot: supervisors report again every 10 s and
//  when the scheduler comes up; one-offs are not journaled):
//    sups      supervisor address -> {host, capacity_mb (-1 unknown),
//              report_ms (wall ms of its last dyno.report; absent: none),
//              reported: {app: {id: dyno.state body}}, sent: {app: [ids]}}
//    where     id -> {sup, mem_mb}: where each wanted dyno is placed
//    states    id -> the newest dyno.state body
//    oneoffs   app -> {NAME: assignment entry}
//    nocap     id -> true once `No capacity for NAME` was logged
//    epochs    app -> the newest dyno.assign epoch sent
//    asked     app -> release whose verdict is on its way (rollout.c)
//
//  Ids are 16 hex characters hashed from the id of the message that made
//  the incarnation and the dyno's name, so a replay makes the same ones
//  whatever soft traffic came between.

#ifndef SCH_STATE_H
#define SCH_STATE_H

#include "../common/act.h"
#include "sizes.h"

#define SCH_SUPERVISOR          "dyno-supervisor"
#define SCH_RELEASE_KEEPER      "release-keeper"
#define SCH_SCHEDULER           "scheduler"
#define SCH_ID_LEN              16
#define SCH_DYNOS_MAX           100     // formation dynos per app
#define SCH_RELEASE_DYNO        "release.1"
#define SCH_PHASE_PREBOOT       "preboot"
#define SCH_SETTLE_MS           1000    // see `settled` below

typedef struct {
    json_t *supervisors;        // instance -> host (status)
    json_t *releases;           // durable, see above
    json_t *apps;               // durable, see above
    json_t *sups;               // soft, see above
    json_t *where;
    json_t *states;
    json_t *oneoffs;
    json_t *nocap;
    json_t *epochs;
    json_t *dropped;            // id -> true: one-offs dropped, never adopted again
    json_t *asked;              // app -> version whose verdict (rollout.c) is on its way
    sch_sizes_t *sizes;
    int64_t boot_timeout_ms;    // DYNOD_BOOT_TIMEOUT_MS
    int64_t preboot_timeout_ms; // DYNOD_PREBOOT_TIMEOUT_MS
    uint64_t events;            // actor.up / actor.down seen
    uint64_t releases_seen;     // release.created applied
    uint64_t releases_stale;    // release.created dropped as a repeat
    uint64_t assigns_sent;      // dyno.assign messages sent
    //  After a start the scheduler first hears what the supervisors run
    //  (they report when it comes up) and places nothing new until
    //  `settle_at` (monotonic ms), so it does not start a second copy of
    //  a dyno another supervisor runs and has not reported yet.
    bool settled;
    int64_t settle_at;
} sch_state_t;

//  ---- formation.c ---------------------------------------------------------

//  The app `name`, or NULL. Borrowed from self->apps.
json_t *sch_app (sch_state_t *self, const char *name);
//  Writes a dyno id for the incarnation of `name` that `cause` makes
//  (SCH_ID_LEN hex characters and a NUL).
void sch_dyno_id (const msg_t *cause, const char *name, char out [SCH_ID_LEN + 1]);
//  The process type of dyno `name` (`web` for `web.1`) into `out`.
void sch_dyno_type (const char *name, char *out, size_t len);
//  The release record `version` of `app`, or NULL. Borrowed.
json_t *sch_app_rel (json_t *app, int64_t version);
//  Makes the app's formation dynos match its formation and live release:
//  names TYPE.1..TYPE.N, a new id (made from `cause`) for each missing
//  one, extras removed. Types the live release lacks run no dynos.
void sch_formation_sync (sch_state_t *self, json_t *app, const msg_t *cause);
//  Gives every formation dyno of `app` whose type is `type` (NULL: every
//  type) a new id from `cause` on the live release. Adds the names to
//  `names` when not NULL.
void sch_formation_renew (json_t *app, const char *type, const msg_t *cause, json_t *names);
//  Drops release records no dyno, phase or live pointer names.
void sch_app_prune_rels (json_t *app);

act_handler_fn sch_on_ps_scale;
act_handler_fn sch_on_ps_list;
act_handler_fn sch_on_ps_restart;
act_handler_fn sch_on_ps_stop;
act_handler_fn sch_on_feature_set;
act_handler_fn sch_on_feature_list;
act_handler_fn sch_on_healthcheck_set;

//  ---- placement.c ---------------------------------------------------------

//  Every dyno `app` wants, as dyno.assign entries sorted by name. Caller
//  owns result.
json_t *sch_wanted (sch_state_t *self, const char *name, json_t *app);
//  Places the dynos of app `name` and sends each live supervisor whose
//  share changed its dyno.assign.
void sch_place (sch_state_t *self, act_t *act, const char *name);
//  sch_place for every app (and every app a supervisor runs).
void sch_place_all (sch_state_t *self, act_t *act);
//  The scheduler has heard the supervisors (SCH_SETTLE_MS after its
//  start): adopts what they reported, places the rest, answers what
//  differs. From the actor's tick.
void sch_settle (sch_state_t *self, act_t *act);
//  The live supervisor with the most free memory that fits `mem_mb`, or
//  NULL. Borrowed.
const char *sch_roomiest (sch_state_t *self, int64_t mem_mb);

act_handler_fn sch_on_actor_up;
act_handler_fn sch_on_actor_down;
act_handler_fn sch_on_dyno_report;
act_handler_fn sch_on_dyno_state;
act_handler_fn sch_on_hosts_list;

//  ---- oneoff.c ------------------------------------------------------------

act_handler_fn sch_on_run_start;
//  A one-off of `app` ended or was stopped: drop it. True when it was one.
bool sch_oneoff_drop (sch_state_t *self, const char *app, const char *name);

//  ---- rollout.c -----------------------------------------------------------

act_handler_fn sch_on_release_created;
act_handler_fn sch_on_app_destroyed;
act_handler_fn sch_on_release_status;
//  A dyno.state `body` (borrowed) arrived: release phase and preboot
//  progress. `cause` is the message, for follow-ons.
void sch_rollout_state (sch_state_t *self, act_t *act, const msg_t *cause, const json_t *body);
//  Ends a preboot of app `name` whose new web dynos are all up.
void sch_rollout_check (sch_state_t *self, act_t *act, const msg_t *cause, const char *name);
//  Preboot timeouts; from the actor's tick.
void sch_rollout_tick (sch_state_t *self, act_t *act);

#endif
