//  config-keeper - owns config vars per app, versioned
//
//  Accepts: app.created, app.destroyed (durable, from release-keeper: which
//           apps exist), config.set, config.unset (durable, from the CLI),
//           config.get, config.rollback (durable, from release-keeper, which
//           checked the target; config-keeper orders it among the config
//           changes and asks for its release), each from release-keeper
//           only where it says so,
//           plus status, ping, stop (answered by the runtime).
//  Emits:   release.create (durable, to release-keeper, after each set,
//           unset or rollback: it answers the CLI with `release.info`),
//           config.vars
//           (answering config.get), error, log.batch API lines to log-plex.
//  State:   for each app every config version, oldest first: version 0 is
//           the empty config, each set, unset or rollback appends the next
//           one holding the app's full vars then (history is what
//           `config.get {version}` and rollbacks read). Plus the ids of the
//           app.created / app.destroyed events applied per app name, so a
//           re-sent event (release-keeper replaying its journal) is dropped
//           even after the app was destroyed and created again. The whole
//           state is the snapshot (`{"apps": ..., "events": ...}`), each
//           version written as its change from the one before (`set`,
//           `unset`), values that are not UTF-8 as {"b64": ...} (vars.h).
//
//  Every handler is a pure function of the state and the message, so a
//  replay of the journal rebuilds the same versions and re-sends the same
//  release.create messages (same ids; release-keeper ignores a config
//  version it has already released).

#include "config-keeper.h"
#include "vars.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CFG_SNAPSHOT_EVERY  100         // durable messages between snapshots
#define CFG_RELEASE_ACTOR   "release-keeper"

//  For each app: { "versions": [ VARS ... ]   version v = index v, [0] = {}
//                  "last_rollback": INT }     newest rollback release applied
//  VARS maps KEY -> JSON string (any bytes but NUL). Versions share their
//  unchanged values (jansson references), so history costs little.
typedef struct {
    json_t *apps;               // owned; name -> app, see above
    json_t *events;             // owned; name -> [ids of app.created/destroyed]
} cfg_state_t;

static void *
s_create (act_t *act)
{
    (void) act;
    cfg_state_t *self = act_calloc (1, sizeof *self);
    self->apps = json_object ();
    self->events = json_object ();
    return self;
}

static void
s_destroy (void **state_p)
{
    cfg_state_t *self = *state_p;
    json_decref (self->apps);
    json_decref (self->events);
    free (self);
    *state_p = NULL;
}

//  Borrowed from `app`.
static json_t *
s_versions (const json_t *app)
{
    return json_object_get (app, "versions");
}

static int64_t
s_current (const json_t *app)
{
    return (int64_t) json_array_size (s_versions (app)) - 1;
}

//  The app `msg` names in `field`, or NULL after answering `msg` with an
//  error. Borrowed from self->apps.
static json_t *
s_known_app (cfg_state_t *self, act_t *act, const msg_t *msg, const char *field)
{
    const char *name = msg_str (msg, field, "");
    json_t *app = json_object_get (self->apps, name);
    if (!app)
        act_reply_error (act, msg, ACT_ENOTFOUND, "app '%s' does not exist", name);
    return app;
}

//  True when `msg` comes from release-keeper (the broker vouches for
//  `from`), which alone says which apps exist and asks for rollbacks;
//  otherwise refuses it.
static bool
s_from_release_keeper (act_t *act, const msg_t *msg)
{
    if (act_msg_from_actor (msg, CFG_RELEASE_ACTOR))
        return true;
    act_reply_error (act, msg, ACT_EREFUSED, "only %s may send '%s'", CFG_RELEASE_ACTOR,
                     msg->type->name);
    return false;
}

//  True when the lifecycle event `msg` was applied before; else records it.
static bool
s_event_repeat (cfg_state_t *self, const msg_t *msg, const char *name)
{
    json_t *ids = json_object_get (self->events, name);
    if (!ids) {
        ids = json_array ();
        json_object_set_new (self->events, name, ids);
    }
    size_t i;
    json_t *id;
    json_array_foreach (ids, i, id)
        if (strcmp (json_string_value (id), msg->id) == 0)
            return true;
    json_array_append_new (ids, json_string (msg->id));
    return false;
}

static int
s_on_app_created (void *state, act_t *act, msg_t *msg)
{
    cfg_state_t *self = state;
    const char *name = msg_str (msg, "name", "");
    if (!s_from_release_keeper (act, msg))
        return 0;
    if (s_event_repeat (self, msg, name) || json_object_get (self->apps, name))
        return 0;
    json_object_set_new (self->apps, name, json_pack ("{s:[{}], s:i}", "versions",
                                                      "last_rollback", 0));
    act_log_info ("app '%s' created", name);
    return 0;
}

static int
s_on_app_destroyed (void *state, act_t *act, msg_t *msg)
{
    cfg_state_t *self = state;
    const char *name = msg_str (msg, "name", "");
    if (!s_from_release_keeper (act, msg))
        return 0;
    if (s_event_repeat (self, msg, name) || !json_object_get (self->apps, name))
        return 0;
    json_object_del (self->apps, name);
    act_log_info ("app '%s' destroyed: its config is gone", name);
    return 0;
}

//  Appends `vars` (ownership passes here) as the app's next version and
//  returns its number.
static int64_t
s_commit (json_t *app, json_t *vars)
{
    json_array_append_new (s_versions (app), vars);
    return s_current (app);
}

//  Asks release-keeper for the release of config version `version`, on
//  behalf of the CLI that sent `cause`, and logs the change as an API line.
static void
s_release (act_t *act, const msg_t *cause, const char *verb, const json_t *keys, int64_t version)
{
    char description [CFG_DESC_MAX];
    cfg_describe (verb, keys, description);
    const char *app = msg_str (cause, "app", "");
    const char *by = msg_str (cause, "by", "");
    msg_t *create = act_msg_follow (act, MSG_TYPE_RELEASE_CREATE, CFG_RELEASE_ACTOR, cause);
    create->durable = true;
    msg_set_str (create, "app", app);
    msg_set_str (create, "kind", "config");
    msg_set_str (create, "description", description);
    msg_set_str (create, "by", by);
    msg_set_int (create, "config_version", version);
    msg_set_str (create, "reply_to", cause->from);
    msg_set_str (create, "reply_corr", cause->id);
    act_send (act, &create);
    act_emit_log (act, app, "api", "%s by %s", description, *by ? by : "unknown");
}

//  Answers `msg` with the reason and returns true when config would take
//  more than CFG_VARS_MAX bytes with `vars`.
static bool
s_too_big (act_t *act, const msg_t *msg, const json_t *vars)
{
    size_t size = cfg_vars_size (vars);
    if (size <= CFG_VARS_MAX)
        return false;
    act_reply_error (act, msg, -E2BIG,
                     "config vars would take %zu bytes, over the limit of %d (keys + values)",
                     size, CFG_VARS_MAX);
    return true;
}

//  Answers `msg`: `key` breaks the naming rule `why`. Returns 0.
static int
s_reply_bad_key (act_t *act, const msg_t *msg, const char *key, const char *why)
{
    char shown [CFG_SHOWN_MAX];
    cfg_key_shown (key, shown);
    return act_reply_error (act, msg, -EINVAL, "'%s' is not a valid config var name: %s", shown,
                            why);
}

static int
s_on_config_set (void *state, act_t *act, msg_t *msg)
{
    cfg_state_t *self = state;
    json_t *app = s_known_app (self, act, msg, "app");
    if (!app)
        return 0;
    const json_t *vars = json_object_get (msg->body, "vars");
    if (json_object_size (vars) == 0)
        return act_reply_error (act, msg, -EINVAL, "no config vars given");
    char why [CFG_WHY_MAX];
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *) vars, key, value) {
        if (!cfg_key_valid (key, why))
            return s_reply_bad_key (act, msg, key, why);
        if (!cfg_value_valid (value, why))
            return act_reply_error (act, msg, -EINVAL, "config var '%s': %s", key, why);
    }
    json_t *next = json_copy (json_array_get (s_versions (app), (size_t) s_current (app)));
    json_t *keys = json_array ();
    json_object_foreach ((json_t *) vars, key, value) {
        json_object_set (next, key, value);
        json_array_append_new (keys, json_string (key));
    }
    if (s_too_big (act, msg, next)) {
        json_decref (next);
        json_decref (keys);
        return 0;
    }
    int64_t version = s_commit (app, next);
    s_release (act, msg, "Set", keys, version);
    json_decref (keys);
    return 0;
}

static int
s_on_config_unset (void *state, act_t *act, msg_t *msg)
{
    cfg_state_t *self = state;
    json_t *app = s_known_app (self, act, msg, "app");
    if (!app)
        return 0;
    const json_t *given = json_object_get (msg->body, "keys");
    if (json_array_size (given) == 0)
        return act_reply_error (act, msg, -EINVAL, "no config var names given");
    char why [CFG_WHY_MAX];
    size_t i;
    json_t *key;
    json_array_foreach (given, i, key) {
        if (!json_is_string (key))
            return act_reply_error (act, msg, -EINVAL, "config var names must be strings");
        if (!cfg_key_valid (json_string_value (key), why))
            return s_reply_bad_key (act, msg, json_string_value (key), why);
    }
    //  Like Heroku, removing a name that is not set still makes a version
    //  and a release; a name given twice is named once.
    json_t *next = json_copy (json_array_get (s_versions (app), (size_t) s_current (app)));
    json_t *keys = json_array ();
    json_t *named = json_object ();
    json_array_foreach (given, i, key) {
        const char *name = json_string_value (key);
        json_object_del (next, name);
        if (!json_object_get (named, name)) {
            json_object_set_new (named, name, json_true ());
            json_array_append (keys, key);
        }
    }
    json_decref (named);
    int64_t version = s_commit (app, next);
    s_release (act, msg, "Remove", keys, version);
    json_decref (keys);
    return 0;
}

static int
s_on_config_get (void *state, act_t *act, msg_t *msg)
{
    cfg_state_t *self = state;
    json_t *app = s_known_app (self, act, msg, "app");
    if (!app)
        return 0;
    int64_t current = s_current (app);
    int64_t version = msg_int (msg, "version", current);
    if (version < 0 || version > current)
        return act_reply_error (act, msg, ACT_ENOTFOUND,
                                "app '%s' has no config version %lld (the current one is %lld)",
                                msg_str (msg, "app", ""), (long long) version,
                                (long long) current);
    msg_t *reply = act_msg_new (act, MSG_TYPE_CONFIG_VARS, NULL);
    msg_set_str (reply, "app", msg_str (msg, "app", ""));
    msg_set_int (reply, "version", version);
    msg_set_json (reply, "vars", json_copy (json_array_get (s_versions (app), (size_t) version)));
    return act_reply (act, msg, &reply);
}

static int
s_on_config_rollback (void *state, act_t *act, msg_t *msg)
{
    cfg_state_t *self = state;
    if (!s_from_release_keeper (act, msg))
        return 0;
    json_t *app = s_known_app (self, act, msg, "app");
    if (!app)
        return 0;
    const char *name = msg_str (msg, "app", "");
    int64_t rollback = msg_int (msg, "rollback", 0);
    int64_t version = msg_int (msg, "version", -1);
    //  release-keeper numbers an app's rollbacks: one at or below the last
    //  applied is a repeat (re-sent after a restart).
    if (rollback <= json_integer_value (json_object_get (app, "last_rollback")))
        return 0;
    if (version < 0 || version > s_current (app))
        return act_reply_error (act, msg, ACT_ENOTFOUND,
                                "app '%s' has no config version %lld to roll back to", name,
                                (long long) version);
    json_t *vars = json_copy (json_array_get (s_versions (app), (size_t) version));
    int64_t made = s_commit (app, vars);
    json_object_set_new (app, "last_rollback", json_integer (rollback));
    act_log_info ("app '%s': config version %lld restores version %lld (rollback to v%lld)",
                  name, (long long) made, (long long) version,
                  (long long) msg_int (msg, "target", 0));
    //  The release, with the rolled-back-to release's slug and processes,
    //  answers the CLI that asked release-keeper for the rollback.
    char description [CFG_DESC_MAX];
    snprintf (description, sizeof description, "Rollback to v%lld",
              (long long) msg_int (msg, "target", 0));
    msg_t *create = act_msg_follow (act, MSG_TYPE_RELEASE_CREATE, CFG_RELEASE_ACTOR, msg);
    create->durable = true;
    msg_set_str (create, "app", name);
    msg_set_str (create, "kind", "rollback");
    msg_set_str (create, "description", description);
    msg_set_str (create, "by", msg_str (msg, "by", ""));
    msg_set_int (create, "config_version", made);
    msg_set_int (create, "rollback_to", msg_int (msg, "target", 0));
    const json_t *release = json_object_get (msg->body, "release");
    const char *keys [] = { "slug", "process_types", "commit" };
    for (size_t i = 0; i < sizeof keys / sizeof keys [0]; i++)
        if (json_object_get (release, keys [i]))
            msg_set_json (create, keys [i], json_deep_copy (json_object_get (release, keys [i])));
    msg_set_str (create, "reply_to", msg_str (msg, "reply_to", ""));
    msg_set_str (create, "reply_corr", msg_str (msg, "reply_corr", ""));
    return act_send (act, &create);
}

static void
s_status (void *state, json_t *detail)
{
    cfg_state_t *self = state;
    json_int_t versions = 0;
    const char *name;
    json_t *app;
    json_object_foreach (self->apps, name, app)
        versions += s_current (app);
    json_object_set_new (detail, "apps", json_integer ((json_int_t) json_object_size (self->apps)));
    json_object_set_new (detail, "config_versions", json_integer (versions));
}

//  The snapshot form of version `vars` as a change from `prev`: the keys
//  set (new or different values, encoded with cfg_vars_encode) and the keys
//  removed. A snapshot then grows with the changes made, not with versions
//  times vars. Caller owns result.
static json_t *
s_change_encode (const json_t *prev, const json_t *vars)
{
    json_t *set = json_object ();
    json_t *unset = json_array ();
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *) vars, key, value) {
        json_t *before = json_object_get (prev, key);
        if (!before || !json_equal (before, value))
            json_object_set (set, key, value);
    }
    json_object_foreach ((json_t *) prev, key, value)
        if (!json_object_get (vars, key))
            json_array_append_new (unset, json_string (key));
    json_t *change = json_pack ("{s:o, s:o}", "set", cfg_vars_encode (set), "unset", unset);
    json_decref (set);
    return change;
}

//  Applies a snapshot change to a copy of `prev`. Returns the vars (caller
//  owns result), or NULL when `change` is malformed.
static json_t *
s_change_apply (const json_t *prev, const json_t *change)
{
    json_t *set = cfg_vars_decode (json_object_get (change, "set"));
    const json_t *unset = json_object_get (change, "unset");
    if (!set || !json_is_array (unset)) {
        json_decref (set);
        return NULL;
    }
    json_t *vars = json_copy ((json_t *) prev);
    size_t i;
    json_t *key;
    json_array_foreach (unset, i, key)
        if (json_is_string (key))
            json_object_del (vars, json_string_value (key));
    json_object_update (vars, set);
    json_decref (set);
    return vars;
}

static json_t *
s_snapshot (void *state)
{
    cfg_state_t *self = state;
    json_t *apps = json_object ();
    const char *name;
    json_t *app;
    json_object_foreach (self->apps, name, app) {
        json_t *changes = json_array ();
        const json_t *versions = s_versions (app);
        for (size_t v = 1; v < json_array_size (versions); v++)
            json_array_append_new (changes, s_change_encode (json_array_get (versions, v - 1),
                                                             json_array_get (versions, v)));
        json_object_set_new (apps, name, json_pack ("{s:o, s:O}", "changes", changes,
                                                    "last_rollback",
                                                    json_object_get (app, "last_rollback")));
    }
    return json_pack ("{s:o, s:O}", "apps", apps, "events", self->events);
}

//  One app from its snapshot form, or NULL when it is malformed. Caller
//  owns result.
static json_t *
s_restore_app (const json_t *saved)
{
    const json_t *changes = json_object_get (saved, "changes");
    const json_t *last = json_object_get (saved, "last_rollback");
    if (!json_is_array (changes) || !json_is_integer (last))
        return NULL;
    json_t *versions = json_pack ("[{}]");
    size_t i;
    json_t *change;
    json_array_foreach (changes, i, change) {
        json_t *vars = s_change_apply (json_array_get (versions, i), change);
        if (!vars) {
            json_decref (versions);
            return NULL;
        }
        json_array_append_new (versions, vars);
    }
    return json_pack ("{s:o, s:O}", "versions", versions, "last_rollback", last);
}

//  True when `events` maps names to arrays of message ids.
static bool
s_events_valid (const json_t *events)
{
    if (!json_is_object (events))
        return false;
    const char *name;
    json_t *ids;
    json_object_foreach ((json_t *) events, name, ids) {
        size_t i;
        json_t *id;
        if (!json_is_array (ids))
            return false;
        json_array_foreach (ids, i, id)
            if (!json_is_string (id))
                return false;
    }
    return true;
}

static int
s_restore (void *state, const json_t *snapshot)
{
    cfg_state_t *self = state;
    const json_t *saved = json_object_get (snapshot, "apps");
    const json_t *events = json_object_get (snapshot, "events");
    if (!json_is_object (saved) || !s_events_valid (events))
        return ACT_ESTORE;
    json_t *apps = json_object ();
    const char *name;
    json_t *app;
    json_object_foreach ((json_t *) saved, name, app) {
        json_t *restored = s_restore_app (app);
        if (!restored) {
            json_decref (apps);
            return ACT_ESTORE;
        }
        json_object_set_new (apps, name, restored);
    }
    json_decref (self->apps);
    self->apps = apps;
    json_decref (self->events);
    self->events = json_deep_copy (events);
    return 0;
}

static const act_route_t s_routes [] = {
    { MSG_TYPE_APP_CREATED,     s_on_app_created },
    { MSG_TYPE_APP_DESTROYED,   s_on_app_destroyed },
    { MSG_TYPE_CONFIG_SET,      s_on_config_set },
    { MSG_TYPE_CONFIG_UNSET,    s_on_config_unset },
    { MSG_TYPE_CONFIG_GET,      s_on_config_get },
    { MSG_TYPE_CONFIG_ROLLBACK, s_on_config_rollback },
};

static const act_def_t s_def = {
    .name = "config-keeper",
    .singleton = true,
    .routes = s_routes,
    .route_count = sizeof s_routes / sizeof s_routes [0],
    .create = s_create,
    .destroy = s_destroy,
    .status = s_status,
    .snapshot = s_snapshot,
    .restore = s_restore,
    .snapshot_every = CFG_SNAPSHOT_EVERY,
};

const act_def_t *
cfg_actor_def (void)
{
    return &s_def;
}
