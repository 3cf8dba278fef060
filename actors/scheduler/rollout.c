//  rollout - a new release: release phase, then every dyno replaced (preboot)
//
//  Accepts: release.created, app.destroyed (durable, from release-keeper);
//           release.status (durable, from itself: a verdict, see below);
//           dyno.state and dyno.report progress through placement.c.
//  Emits:   release.status (durable, to itself, then to release-keeper:
//           `succeeded` when a release gated by a release phase or preboot
//           went live, `failed` with a reason); the API log line
//           `Release v5 failed: release command exited with status 1`.
//  State:   the durable per-app record of sch_state.h: `live`, `rels`,
//           `pending` / `pending_id` (release phase), `phase`, `old`,
//           `prev`, `phase_ms` (preboot).
//
//      event                       no phase            release phase       preboot
//      release.created, `release`  run release.1       run release.1 of    run release.1 of
//        type in the Procfile        (pending)           the newer         the newer
//      release.created, none       activate            activate (release   activate (old web
//                                                        phase dropped)      dynos stay)
//      release.1 exit 0            -                   activate            -
//      release.1 exit != 0         -                   failed, old runs    -
//      every new web dyno `up`     -                   -                   old dropped,
//                                                                            succeeded
//      preboot timeout (tick)      -                   -                   new dropped, prev
//                                                                            release back, failed
//
//  activate: with preboot on and web dynos running, the web dynos move to
//  `old` and every dyno gets a new id on the release (phase preboot);
//  else every dyno gets a new id and the release succeeded. release.status
//  goes only for releases something gated (a release phase, preboot): a
//  plain release cannot fail here.
//
//  The last three rows are decided from what is not journaled (dyno.state,
//  reports, the clock), so the scheduler first sends itself the verdict as
//  a durable release.status and takes the step when that comes back: the
//  journal holds it, and a replay after a restart takes the same step with
//  the same dyno ids instead of running the release phase again.

#include "sch_state.h"

#include <stdio.h>
#include <string.h>

#define SCH_REASON_MAX  256

//  Sends `to` how release `version` of `app` went (release.status,
//  durable, a follow-on of `cause` when there is one).
static void
s_status (act_t *act, const msg_t *cause, const char *to, const char *app, json_int_t version,
          bool ok, const char *reason)
{
    msg_t *status = cause ? act_msg_follow (act, MSG_TYPE_RELEASE_STATUS, to, cause)
                          : act_msg_new (act, MSG_TYPE_RELEASE_STATUS, to);
    status->durable = true;
    msg_set_str (status, "app", app);
    msg_set_int (status, "version", version);
    msg_set_str (status, "status", ok ? "succeeded" : "failed");
    if (reason)
        msg_set_str (status, "reason", reason);
    act_send (act, &status);
}

//  The scheduler's own verdict on release `version` of `app`, decided from
//  what is not journaled (a dyno.state, a report, the clock): sent to
//  itself, durable, so the step it takes is journaled and a replay takes it
//  again; sch_on_release_status applies it. Once per app until it is back.
static void
s_verdict (sch_state_t *self, act_t *act, const msg_t *cause, const char *app,
           json_int_t version, bool ok, const char *reason)
{
    if (json_integer_value (json_object_get (self->asked, app)) == version)
        return;
    json_object_set_new (self->asked, app, json_integer (version));
    s_status (act, cause, SCH_SCHEDULER, app, version, ok, reason);
}

static json_t *
s_app_new (int64_t born)
{
    return json_pack ("{s:I, s:I, s:I, s:{}, s:{}, s:{}, s:{}, s:I, s:s, s:s, s:I, s:{}, s:s}",
                      "born", (json_int_t) born, "live", (json_int_t) 0, "prev", (json_int_t) 0,
                      "rels", "formation", "dynos", "old", "pending", (json_int_t) 0,
                      "pending_id", "", "phase", "", "phase_ms", (json_int_t) 0, "features",
                      "healthcheck", "");
}

static bool
s_preboot (json_t *app)
{
    const char *phase = json_string_value (json_object_get (app, "phase"));
    return phase && strcmp (phase, SCH_PHASE_PREBOOT) == 0;
}

//  True when `app` runs a web dyno.
static bool
s_has_web (json_t *app)
{
    const char *name;
    json_t *dyno;
    json_object_foreach (json_object_get (app, "dynos"), name, dyno)
        if (strncmp (name, "web.", 4) == 0)
            return true;
    return false;
}

//  Release `version` goes live: every dyno replaced (see the header).
static void
s_activate (sch_state_t *self, act_t *act, const msg_t *cause, const char *name, json_t *app,
            json_int_t version, bool gated)
{
    json_int_t live = json_integer_value (json_object_get (app, "live"));
    bool preboot = json_is_true (json_object_get (json_object_get (app, "features"), "preboot"));
    if (preboot && live && (s_has_web (app) || s_preboot (app))) {
        //  The dynos serving now stay until the new web dynos are up; in
        //  a preboot already running, the oldest ones keep serving.
        if (!s_preboot (app)) {
            json_t *old = json_object ();
            const char *dyno_name;
            json_t *dyno;
            json_object_foreach (json_object_get (app, "dynos"), dyno_name, dyno)
                if (strncmp (dyno_name, "web.", 4) == 0)
                    json_object_set_new (old, dyno_name, json_deep_copy (dyno));
            json_object_set_new (app, "old", old);
            json_object_set_new (app, "prev", json_integer (live));
        }
        json_object_set_new (app, "phase", json_string (SCH_PHASE_PREBOOT));
        json_object_set_new (app, "phase_ms", json_integer (act_now (act)));
        json_object_set_new (app, "live", json_integer (version));
        sch_formation_sync (self, app, cause);
        sch_formation_renew (app, NULL, cause, NULL);
    }
    else {
        json_object_set_new (app, "old", json_object ());
        json_object_set_new (app, "phase", json_string (""));
        json_object_set_new (app, "prev", json_integer (0));
        json_object_set_new (app, "live", json_integer (version));
        sch_formation_sync (self, app, cause);
        sch_formation_renew (app, NULL, cause, NULL);
        if (gated)
            s_status (act, cause, SCH_RELEASE_KEEPER, name, version, true, NULL);
    }
    sch_app_prune_rels (app);
    sch_place (self, act, name);
}

//  The release record sch_state.h describes, from a release.created.
//  Caller owns result.
static json_t *
s_rel (const msg_t *msg, int64_t version)
{
    json_t *types = json_object_get (msg->body, "process_types");
    json_t *rel = json_pack ("{s:I, s:I, s:o}", "version", (json_int_t) version, "config_version",
                             (json_int_t) msg_int (msg, "config_version", 0), "process_types",
                             json_is_object (types) ? json_deep_copy (types) : json_object ());
    json_t *slug = json_object_get (msg->body, "slug");
    json_t *blob = json_object_get (slug, "blob");
    if (json_is_string (blob))
        json_object_set_new (rel, "slug", json_pack ("{s:O, s:I}", "blob", blob, "size",
                             json_integer_value (json_object_get (slug, "size"))));
    return rel;
}

//  True when a release `version` of the app created at `born` is not newer
//  than the one recorded in `known`: a release of an earlier app of the
//  same name (destroyed since), or a repeat.
static bool
s_stale (const json_t *known, int64_t born, int64_t version)
{
    int64_t known_born = json_integer_value (json_object_get (known, "app_created_ms"));
    if (born != known_born)
        return born < known_born;
    return version <= json_integer_value (json_object_get (known, "version"));
}

//  Records the newest release of `app` in self->releases (status, tests).
static void
s_record (sch_state_t *self, const msg_t *msg, const char *app, int64_t version, int64_t born)
{
    json_t *slug = json_object_get (msg->body, "slug");
    json_t *blob = json_object_get (slug, "blob");
    json_t *types = json_object_get (msg->body, "process_types");
    json_t *rec = json_pack ("{s:I, s:I, s:I, s:o}", "version", (json_int_t) version,
                             "app_created_ms", (json_int_t) born,
                             "config_version", (json_int_t) msg_int (msg, "config_version", 0),
                             "process_types", json_is_object (types) ? json_deep_copy (types)
                                                                      : json_object ());
    if (json_is_string (blob))
        json_object_set_new (rec, "slug", json_deep_copy (blob));
    json_object_set_new (self->releases, app, rec);
    self->releases_seen++;
    act_log_info ("app '%s' is to run release v%lld (slug %.12s, config v%lld)", app,
                  (long long) version, json_is_string (blob) ? json_string_value (blob) : "none",
                  (long long) msg_int (msg, "config_version", 0));
}

int
sch_on_release_created (void *state, act_t *act, msg_t *msg)
{
    sch_state_t *self = state;
    const char *name = msg_str (msg, "app", "");
    int64_t version = msg_int (msg, "version", 0);
    int64_t born = msg_int (msg, "app_created_ms", 0);
    json_t *known = json_object_get (self->releases, name);
    if (known && s_stale (known, born, version)) {
        self->releases_stale++;
        return 0;
    }
    s_record (self, msg, name, version, born);
    json_t *app = sch_app (self, name);
    if (!app || json_integer_value (json_object_get (app, "born")) != born) {
        //  A new app (or a new one under an old name): nothing carries over.
        json_object_del (self->oneoffs, name);
        app = s_app_new (born);
        json_object_set_new (self->apps, name, app);
    }
    json_t *rel = s_rel (msg, version);
    char key [24];
    snprintf (key, sizeof key, "%lld", (long long) version);
    json_object_set_new (json_object_get (app, "rels"), key, rel);
    if (json_object_get (json_object_get (rel, "process_types"), "release")) {
        //  Release phase first; the release goes live when it exits 0.
        char id [SCH_ID_LEN + 1];
        sch_dyno_id (msg, SCH_RELEASE_DYNO, id);
        json_object_set_new (app, "pending", json_integer (version));
        json_object_set_new (app, "pending_id", json_string (id));
        sch_app_prune_rels (app);
        sch_place (self, act, name);
        return 0;
    }
    json_object_set_new (app, "pending", json_integer (0));
    s_activate (self, act, msg, name, app, version, false);
    return 0;
}

//  The verdict on the release phase of `app` (its pending release): live
//  on exit 0, else failed and the old release keeps running.
static void
s_release_phase_ended (sch_state_t *self, act_t *act, const msg_t *cause, const char *name,
                       json_t *app, bool ok, const char *reason)
{
    json_int_t version = json_integer_value (json_object_get (app, "pending"));
    json_object_set_new (app, "pending", json_integer (0));
    json_object_set_new (app, "pending_id", json_string (""));
    if (ok) {
        s_activate (self, act, cause, name, app, version, true);
        return;
    }
    act_emit_log (act, name, "api", "Release v%lld failed: %s", (long long) version, reason);
    s_status (act, cause, SCH_RELEASE_KEEPER, name, version, false, reason);
    sch_app_prune_rels (app);
    sch_place (self, act, name);
}

//  The release phase dyno of `app` ended as `body` says: the verdict.
static void
s_release_phase_verdict (sch_state_t *self, act_t *act, const msg_t *cause, const char *name,
                         json_t *app, const json_t *body)
{
    json_int_t version = json_integer_value (json_object_get (app, "pending"));
    json_t *status = json_object_get (body, "exit_status");
    char reason [SCH_REASON_MAX];
    if (json_is_integer (status) && json_integer_value (status) == 0) {
        s_verdict (self, act, cause, name, version, true, NULL);
        return;
    }
    if (json_is_integer (status))
        snprintf (reason, sizeof reason, "release command exited with status %lld",
                  (long long) json_integer_value (status));
    else
        snprintf (reason, sizeof reason, "release command failed: %s",
                  json_string_value (json_object_get (body, "reason")) ?
                  json_string_value (json_object_get (body, "reason")) : "it did not run");
    s_verdict (self, act, cause, name, version, false, reason);
}

//  Every new web dyno of `app` is up: the old ones go (SIGTERM from their
//  supervisors once the assignment drops them).
static void
s_preboot_done (sch_state_t *self, act_t *act, const msg_t *cause, const char *name, json_t *app)
{
    json_object_set_new (app, "old", json_object ());
    json_object_set_new (app, "phase", json_string (""));
    json_object_set_new (app, "prev", json_integer (0));
    s_status (act, cause, SCH_RELEASE_KEEPER, name,
              json_integer_value (json_object_get (app, "live")), true, NULL);
    sch_app_prune_rels (app);
    sch_place (self, act, name);
}

void
sch_rollout_check (sch_state_t *self, act_t *act, const msg_t *cause, const char *name)
{
    json_t *app = sch_app (self, name);
    if (!app || !s_preboot (app))
        return;
    const char *dyno_name;
    json_t *dyno;
    json_object_foreach (json_object_get (app, "dynos"), dyno_name, dyno) {
        if (strncmp (dyno_name, "web.", 4) != 0)
            continue;
        json_t *state = json_object_get (self->states, json_string_value (json_object_get (dyno, "id")));
        const char *its = json_string_value (json_object_get (state, "state"));
        if (!its || strcmp (its, "up") != 0)
            return;
    }
    s_verdict (self, act, cause, name, json_integer_value (json_object_get (app, "live")), true,
               NULL);
}

void
sch_rollout_state (sch_state_t *self, act_t *act, const msg_t *cause, const json_t *body)
{
    const char *name = json_string_value (json_object_get (body, "app"));
    json_t *app = name ? sch_app (self, name) : NULL;
    if (!app)
        return;
    const char *id = json_string_value (json_object_get (body, "id"));
    const char *state = json_string_value (json_object_get (body, "state"));
    bool ended = state && (strcmp (state, "down") == 0 || strcmp (state, "crashed") == 0);
    if (json_integer_value (json_object_get (app, "pending")) && id && ended
    &&  strcmp (id, json_string_value (json_object_get (app, "pending_id"))) == 0) {
        s_release_phase_verdict (self, act, cause, name, app, body);
        return;
    }
    sch_rollout_check (self, act, cause, name);
}

//  Preboot of `app` timed out: the new dynos go, the release before comes
//  back whole (web dynos under their old ids), the release failed.
static void
s_preboot_failed (sch_state_t *self, act_t *act, const msg_t *cause, const char *name,
                  json_t *app, const char *reason)
{
    json_int_t failed = json_integer_value (json_object_get (app, "live"));
    json_int_t prev = json_integer_value (json_object_get (app, "prev"));
    //  Ids for the dynos that come back on the earlier release, made from
    //  the failed release and when its preboot began.
    msg_t *seed = msg_new (MSG_TYPE_RELEASE_STATUS);
    char seed_id [MSG_ID_LEN + 1];
    snprintf (seed_id, sizeof seed_id, "%016llx%016llx", (unsigned long long) failed,
              (unsigned long long) json_integer_value (json_object_get (app, "phase_ms")));
    msg_set_id (seed, seed_id);
    json_object_set_new (app, "live", json_integer (prev));
    sch_formation_sync (self, app, seed);
    sch_formation_renew (app, NULL, seed, NULL);
    msg_destroy (&seed);
    json_t *dynos = json_object_get (app, "dynos");
    const char *dyno_name;
    json_t *dyno;
    json_object_foreach (json_object_get (app, "old"), dyno_name, dyno)
        if (json_object_get (dynos, dyno_name))
            json_object_set (dynos, dyno_name, dyno);
    json_object_set_new (app, "old", json_object ());
    json_object_set_new (app, "phase", json_string (""));
    json_object_set_new (app, "prev", json_integer (0));
    act_emit_log (act, name, "api", "Release v%lld failed: %s", (long long) failed, reason);
    s_status (act, cause, SCH_RELEASE_KEEPER, name, failed, false, reason);
    sch_app_prune_rels (app);
    sch_place (self, act, name);
}

void
sch_rollout_tick (sch_state_t *self, act_t *act)
{
    const char *name;
    json_t *app;
    json_object_foreach (self->apps, name, app)
        if (s_preboot (app)
        &&  act_now (act) - json_integer_value (json_object_get (app, "phase_ms")) > self->preboot_timeout_ms) {
            char reason [SCH_REASON_MAX];
            snprintf (reason, sizeof reason, "new web dynos were not up within %lld ms",
                      (long long) self->preboot_timeout_ms);
            s_verdict (self, act, NULL, name, json_integer_value (json_object_get (app, "live")),
                       false, reason);
        }
}

int
sch_on_release_status (void *state, act_t *act, msg_t *msg)
{
    sch_state_t *self = state;
    //  Only the verdicts the scheduler sends itself (s_verdict).
    if (!act_msg_from_actor (msg, SCH_SCHEDULER)) {
        act_log_warn ("ignoring release.status from %s", msg->from);
        return 0;
    }
    const char *name = msg_str (msg, "app", "");
    json_int_t version = msg_int (msg, "version", 0);
    bool ok = strcmp (msg_str (msg, "status", ""), "succeeded") == 0;
    const char *reason = msg_str (msg, "reason", "");
    json_object_del (self->asked, name);
    json_t *app = sch_app (self, name);
    //  A verdict things have moved past since (a newer release, a repeat)
    //  changes nothing.
    if (!app || version < 1)
        return 0;
    if (json_integer_value (json_object_get (app, "pending")) == version)
        s_release_phase_ended (self, act, msg, name, app, ok, reason);
    else if (s_preboot (app) && json_integer_value (json_object_get (app, "live")) == version) {
        if (ok)
            s_preboot_done (self, act, msg, name, app);
        else
            s_preboot_failed (self, act, msg, name, app, reason);
    }
    return 0;
}

int
sch_on_app_destroyed (void *state, act_t *act, msg_t *msg)
{
    sch_state_t *self = state;
    if (!act_msg_from_actor (msg, SCH_RELEASE_KEEPER))
        return act_reply_error (act, msg, ACT_EREFUSED, "only %s may send '%s'",
                                SCH_RELEASE_KEEPER, msg->type->name);
    const char *name = msg_str (msg, "name", "");
    json_t *app = sch_app (self, name);
    //  A repeat sent again by a release-keeper replay, after an app of the
    //  same name was created since, names an older app: not this one.
    int64_t born = msg_int (msg, "app_created_ms", 0);
    if (!app || (born && json_integer_value (json_object_get (app, "born")) > born))
        return 0;
    //  Its dynos stop (every supervisor running some gets an empty
    //  assignment). The release record stays, so a late release.created
    //  of the destroyed app is dropped as stale.
    json_object_del (self->apps, name);
    json_object_del (self->oneoffs, name);
    act_log_info ("app '%s' destroyed: its dynos stop", name);
    sch_place (self, act, name);
    return 0;
}
