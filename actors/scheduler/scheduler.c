//  scheduler - desired formation and dyno placement
//
//  Accepts: actor.up, actor.down (topics); release.created (durable, from
//           release-keeper); plus status, ping, stop (runtime).
//  Emits:   status.reply (the live dyno-supervisors it knows, how many apps
//           have a release and, for up to 20 apps, their versions), pong.
//  State:   the set of live dyno-supervisor instances, learned from the
//           broker's actor.up / actor.down events (not durable: the broker
//           announces them again); per app the newest release it will run
//           (`releases`: app -> {version, app_created_ms, slug,
//           process_types, config_version}), durable: the snapshot holds it, and a replay
//           of release.created rebuilds it. Dynos run on it once formations
//           exist (dynos issue).
//
//  release.created is applied idempotently by version: release-keeper
//  re-sends its durable follow-ons after a restart, and they may arrive
//  out of order with a newer one, so a version at or below the recorded
//  one is dropped. An app destroyed and created again under its name
//  starts at v1: its `app_created_ms` is newer, so its releases replace
//  the old app's whatever their numbers.

#include "scheduler.h"

#include <stdlib.h>
#include <string.h>

#define SCH_SNAPSHOT_EVERY  100         // durable messages between snapshots
#define SCH_STATUS_APPS     20          // apps whose release version status lists

typedef struct {
    json_t *supervisors;        // object: instance -> host
    json_t *releases;           // object: app -> newest release (see above)
    uint64_t events;            // actor.up / actor.down seen
    uint64_t releases_seen;     // release.created applied
    uint64_t releases_stale;    // release.created dropped as a repeat
} sch_state_t;

static void *
s_create (act_t *act)
{
    (void) act;
    sch_state_t *self = act_calloc (1, sizeof *self);
    self->supervisors = json_object ();
    self->releases = json_object ();
    return self;
}

static void
s_destroy (void **state_p)
{
    sch_state_t *self = *state_p;
    json_decref (self->supervisors);
    json_decref (self->releases);
    free (self);
    *state_p = NULL;
}

static int
s_on_actor_up (void *state, act_t *act, msg_t *msg)
{
    (void) act;
    sch_state_t *self = state;
    self->events++;
    if (strcmp (msg_str (msg, "name", ""), "dyno-supervisor") == 0) {
        act_log_info ("dyno-supervisor %s is up", msg_str (msg, "instance", ""));
        json_object_set_new (self->supervisors, msg_str (msg, "instance", ""),
                             json_string (msg_str (msg, "host", "")));
    }
    return 0;
}

static int
s_on_actor_down (void *state, act_t *act, msg_t *msg)
{
    (void) act;
    sch_state_t *self = state;
    self->events++;
    if (strcmp (msg_str (msg, "name", ""), "dyno-supervisor") == 0) {
        act_log_info ("dyno-supervisor %s is down (%s)", msg_str (msg, "instance", ""),
                      msg_str (msg, "reason", ""));
        json_object_del (self->supervisors, msg_str (msg, "instance", ""));
    }
    return 0;
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

static int
s_on_release_created (void *state, act_t *act, msg_t *msg)
{
    (void) act;
    sch_state_t *self = state;
    const char *app = msg_str (msg, "app", "");
    int64_t version = msg_int (msg, "version", 0);
    int64_t born = msg_int (msg, "app_created_ms", 0);
    json_t *known = json_object_get (self->releases, app);
    if (known && s_stale (known, born, version)) {
        self->releases_stale++;
        return 0;
    }
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
    return 0;
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
    return json_pack ("{s:o}", "releases", json_deep_copy (self->releases));
}

static int
s_restore (void *state, const json_t *snapshot)
{
    sch_state_t *self = state;
    json_t *releases = json_object_get (snapshot, "releases");
    if (!json_is_object (releases))
        return ACT_ESTORE;
    json_decref (self->releases);
    self->releases = json_deep_copy (releases);
    return 0;
}

static const act_route_t s_routes [] = {
    { MSG_TYPE_ACTOR_UP,        s_on_actor_up },
    { MSG_TYPE_ACTOR_DOWN,      s_on_actor_down },
    { MSG_TYPE_RELEASE_CREATED, s_on_release_created },
};

static const char *const s_topics [] = { "actor.up", "actor.down", NULL };

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
};

const act_def_t *
sch_actor_def (void)
{
    return &s_def;
}
