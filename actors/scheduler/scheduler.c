//  scheduler - desired formation and dyno placement
//
//  Accepts: actor.up, actor.down, dyno.state (topics); dyno.report (from
//           dyno-supervisors); release.created, app.destroyed (durable,
//           from release-keeper); release.status (durable, from itself:
//           rollout.c); ps.scale, ps.restart, ps.stop, feature.set,
//           healthcheck.set (durable, from the CLI); ps.list, feature.list,
//           run.start, hosts.list; plus status, ping, stop (runtime).
//  Emits:   dyno.assign (to supervisors), release.status (durable, to
//           itself and release-keeper), formation.info, ps.list.reply, ps.done,
//           feature.list.reply, run.started, hosts.list.reply, API log
//           lines; status.reply
//           (live supervisors, apps, versions, assignments sent), pong.
//  State:   sch_state.h: durable `releases` and `apps` (formation, dynos,
//           features, rollout), in the snapshot and rebuilt by a replay;
//           soft placement, states and one-offs, rebuilt from the
//           supervisors' reports.
//
//  The work is split by seam: formation.c (the formation commands),
//  placement.c (supervisors, placement, dyno.assign), oneoff.c (run.start),
//  rollout.c (releases: release phase and preboot), sizes.c (dyno sizes).
//
//  Settings, read once at start: DYNOD_BOOT_TIMEOUT_MS (60000, put in each
//  assignment), DYNOD_PREBOOT_TIMEOUT_MS (boot timeout + 120000),
//  DYNOD_SIZES (see sizes.h).

#include "scheduler.h"
#include "sch_state.h"

#include <stdlib.h>
#include <string.h>

#define SCH_SNAPSHOT_EVERY      100     // durable messages between snapshots
#define SCH_STATUS_APPS         20      // apps whose release version status lists
#define SCH_BOOT_TIMEOUT_MS     60000
#define SCH_PREBOOT_EXTRA_MS    120000

//  A positive integer from the environment, or `dflt`.
static int64_t
s_env_ms (const char *name, int64_t dflt)
{
    const char *text = getenv (name);
    char *end;
    long long value = text ? strtoll (text, &end, 10) : 0;
    if (!text || !*text || *end || value <= 0) {
        if (text && *text)
            act_log_warn ("ignoring %s='%s': not a positive number", name, text);
        return dflt;
    }
    return value;
}

static void *
s_create (act_t *act)
{
    (void) act;
    sch_state_t *self = act_calloc (1, sizeof *self);
    self->supervisors = json_object ();
    self->releases = json_object ();
    self->apps = json_object ();
    self->sups = json_object ();
    self->where = json_object ();
    self->states = json_object ();
    self->oneoffs = json_object ();
    self->nocap = json_object ();
    self->epochs = json_object ();
    self->dropped = json_object ();
    self->asked = json_object ();
    const char *bad = NULL;
    self->sizes = sch_sizes_new (getenv ("DYNOD_SIZES"), &bad);
    if (!self->sizes) {
        act_log_warn ("ignoring DYNOD_SIZES: cannot parse '%s' (name=MB/procs,...)", bad);
        self->sizes = sch_sizes_new (NULL, NULL);
    }
    self->boot_timeout_ms = s_env_ms ("DYNOD_BOOT_TIMEOUT_MS", SCH_BOOT_TIMEOUT_MS);
    self->preboot_timeout_ms = s_env_ms ("DYNOD_PREBOOT_TIMEOUT_MS",
                                         self->boot_timeout_ms + SCH_PREBOOT_EXTRA_MS);
    self->settle_at = act_mono_ms () + SCH_SETTLE_MS;
    return self;
}

static void
s_destroy (void **state_p)
{
    sch_state_t *self = *state_p;
    json_t **all [] = { &self->supervisors, &self->releases, &self->apps, &self->sups,
                        &self->where, &self->states, &self->oneoffs, &self->nocap,
                        &self->epochs, &self->dropped, &self->asked };
    for (size_t i = 0; i < sizeof all / sizeof all [0]; i++)
        json_decref (*all [i]);
    sch_sizes_destroy (&self->sizes);
    free (self);
    *state_p = NULL;
}

static void
s_tick (void *state, act_t *act)
{
    sch_state_t *self = state;
    if (!self->settled && act_mono_ms () >= self->settle_at)
        //  The supervisors have reported what they run: place the rest.
        sch_settle (self, act);
    sch_rollout_tick (self, act);
}

static void
s_status (void *state, json_t *detail)
{
    sch_state_t *self = state;
    json_object_set (detail, "supervisors", self->supervisors);
    json_object_set_new (detail, "events", json_integer ((json_int_t) self->events));
    json_object_set_new (detail, "apps",
                         json_integer ((json_int_t) json_object_size (self->releases)));
    json_object_set_new (detail, "releases_seen", json_integer ((json_int_t) self->releases_seen));
    json_object_set_new (detail, "releases_stale",
                         json_integer ((json_int_t) self->releases_stale));
    json_object_set_new (detail, "dynos_placed",
                         json_integer ((json_int_t) json_object_size (self->where)));
    json_object_set_new (detail, "assigns_sent", json_integer ((json_int_t) self->assigns_sent));
    //  The version each app runs, while that stays short.
    if (json_object_size (self->releases) <= SCH_STATUS_APPS) {
        json_t *versions = json_object ();
        const char *app;
        json_t *rec;
        json_object_foreach (self->releases, app, rec)
            json_object_set (versions, app, json_object_get (rec, "version"));
        json_object_set_new (detail, "versions", versions);
    }
}

static json_t *
s_snapshot (void *state)
{
    sch_state_t *self = state;
    return json_pack ("{s:o, s:o}", "releases", json_deep_copy (self->releases), "apps",
                      json_deep_copy (self->apps));
}

static int
s_restore (void *state, const json_t *snapshot)
{
    sch_state_t *self = state;
    json_t *releases = json_object_get (snapshot, "releases");
    json_t *apps = json_object_get (snapshot, "apps");
    if (!json_is_object (releases) || (apps && !json_is_object (apps)))
        return ACT_ESTORE;
    json_decref (self->releases);
    self->releases = json_deep_copy (releases);
    //  A snapshot from before formations has none: apps start over from
    //  their next release.
    json_decref (self->apps);
    self->apps = apps ? json_deep_copy (apps) : json_object ();
    return 0;
}

static const act_route_t s_routes [] = {
    { MSG_TYPE_ACTOR_UP,        sch_on_actor_up },
    { MSG_TYPE_ACTOR_DOWN,      sch_on_actor_down },
    { MSG_TYPE_DYNO_REPORT,     sch_on_dyno_report },
    { MSG_TYPE_DYNO_STATE,      sch_on_dyno_state },
    { MSG_TYPE_RELEASE_CREATED, sch_on_release_created },
    { MSG_TYPE_APP_DESTROYED,   sch_on_app_destroyed },
    { MSG_TYPE_RELEASE_STATUS,  sch_on_release_status },
    { MSG_TYPE_PS_SCALE,        sch_on_ps_scale },
    { MSG_TYPE_PS_LIST,         sch_on_ps_list },
    { MSG_TYPE_PS_RESTART,      sch_on_ps_restart },
    { MSG_TYPE_PS_STOP,         sch_on_ps_stop },
    { MSG_TYPE_FEATURE_SET,     sch_on_feature_set },
    { MSG_TYPE_FEATURE_LIST,    sch_on_feature_list },
    { MSG_TYPE_HEALTHCHECK_SET, sch_on_healthcheck_set },
    { MSG_TYPE_RUN_START,       sch_on_run_start },
    { MSG_TYPE_HOSTS_LIST,      sch_on_hosts_list },
};

static const char *const s_topics [] = { "actor.up", "actor.down", "dyno.state", NULL };

static const act_def_t s_def = {
    .name = "scheduler",
    .singleton = true,
    .routes = s_routes,
    .route_count = sizeof s_routes / sizeof s_routes [0],
    .topics = s_topics,
    .create = s_create,
    .destroy = s_destroy,
    .status = s_status,
    .snapshot = s_snapshot,
    .restore = s_restore,
    .snapshot_every = SCH_SNAPSHOT_EVERY,
    .tick = s_tick,
};

const act_def_t *
sch_actor_def (void)
{
    return &s_def;
}
