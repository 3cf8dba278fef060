//  formation - each app's formation: scale, restart, stop, features, health check
//
//  Accepts: ps.scale, ps.restart, ps.stop, feature.set, healthcheck.set
//           (durable, from the CLI); ps.list, feature.list.
//  Emits:   formation.info, ps.done, feature.list.reply, ps.list.reply,
//           error; API log lines (`Scale to web=3, worker=1 by ann`,
//           `Restart all dynos by ann`, `Restart web.1 by ann`, `Stop
//           web.1 by ann`, `Enable preboot by ann`, `Set health check
//           /health by ann`); dyno.assign through placement.c.
//  State:   the durable per-app record of sch_state.h: `formation` (type ->
//           quantity, size) and `dynos` (name -> id, release), kept in step
//           by sch_formation_sync; `features`, `healthcheck`.
//
//  A change is checked whole before anything is applied: a ps.scale with
//  one bad change changes nothing. The process type `release` runs only as
//  the release phase and has no formation entry.

#include "sch_state.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCH_HEALTHCHECK_MAX     1024
#define SCH_FEATURE_PREBOOT     "preboot"
#define SCH_LOG_LINE_MAX        400

// ---------------------------------------------------------------------------
//  Helpers shared by the scheduler's files

json_t *
sch_app (sch_state_t *self, const char *name)
{
    return json_object_get (self->apps, name);
}

//  FNV-1a over `s`, continuing from `h`.
static uint64_t
s_fnv (uint64_t h, const char *s)
{
    for (; *s; s++) {
        h ^= (unsigned char) *s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

void
sch_dyno_id (const msg_t *cause, const char *name, char out [SCH_ID_LEN + 1])
{
    uint64_t h = s_fnv (s_fnv (0xcbf29ce484222325ULL, cause->id), "/");
    h = s_fnv (h, name);
    //  splitmix64's finaliser spreads FNV's weak low bits.
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    snprintf (out, SCH_ID_LEN + 1, "%016llx", (unsigned long long) h);
}

void
sch_dyno_type (const char *name, char *out, size_t len)
{
    const char *dot = strrchr (name, '.');
    size_t n = dot ? (size_t) (dot - name) : strlen (name);
    snprintf (out, len, "%.*s", (int) n, name);
}

json_t *
sch_app_rel (json_t *app, int64_t version)
{
    char key [24];
    snprintf (key, sizeof key, "%lld", (long long) version);
    return json_object_get (json_object_get (app, "rels"), key);
}

//  The process types of the app's live release (an object; empty before
//  the first release). Borrowed.
static json_t *
s_live_types (json_t *app)
{
    json_t *rel = sch_app_rel (app, json_integer_value (json_object_get (app, "live")));
    return json_object_get (rel, "process_types");
}

//  The number after the last dot of a dyno name (0 when none).
static long
s_dyno_number (const char *name)
{
    const char *dot = strrchr (name, '.');
    return dot ? strtol (dot + 1, NULL, 10) : 0;
}

//  Adds a formation entry for every type of the live release but
//  `release`: web=1 for an app's first, 0 for the others and for types
//  that appear later; drops types the release no longer has.
static void
s_formation_adopt (sch_state_t *self, json_t *app)
{
    (void) self;
    json_t *types = s_live_types (app);
    if (!json_is_object (types))
        return;
    json_t *formation = json_object_get (app, "formation");
    bool first = !json_is_true (json_object_get (app, "formed"));
    const char *type;
    json_t *value;
    void *iter;
    json_object_foreach_safe (formation, iter, type, value)
        if (!json_object_get (types, type))
            json_object_del (formation, type);
    json_object_foreach (types, type, value) {
        if (strcmp (type, "release") == 0 || json_object_get (formation, type))
            continue;
        int quantity = first && strcmp (type, "web") == 0 ? 1 : 0;
        json_object_set_new (formation, type, json_pack ("{s:i, s:s}", "quantity", quantity,
                                                         "size", SCH_SIZE_DEFAULT));
    }
    if (json_object_size (types) > 0)
        json_object_set_new (app, "formed", json_true ());
}

void
sch_formation_sync (sch_state_t *self, json_t *app, const msg_t *cause)
{
    s_formation_adopt (self, app);
    json_t *formation = json_object_get (app, "formation");
    json_t *types = s_live_types (app);
    json_int_t live = json_integer_value (json_object_get (app, "live"));
    //  Extras first: names past the quantity, types gone.
    const char *keys [] = { "dynos", "old" };
    for (size_t k = 0; k < 2; k++) {
        json_t *dynos = json_object_get (app, keys [k]);
        const char *name;
        json_t *dyno;
        void *iter;
        json_object_foreach_safe (dynos, iter, name, dyno) {
            char type [64];
            sch_dyno_type (name, type, sizeof type);
            json_t *entry = json_object_get (formation, type);
            json_int_t quantity = json_integer_value (json_object_get (entry, "quantity"));
            if (!entry || !json_object_get (types, type) || s_dyno_number (name) > quantity)
                json_object_del (dynos, name);
        }
    }
    json_t *dynos = json_object_get (app, "dynos");
    const char *type;
    json_t *entry;
    json_object_foreach (formation, type, entry) {
        if (!json_object_get (types, type))
            continue;
        json_int_t quantity = json_integer_value (json_object_get (entry, "quantity"));
        for (json_int_t i = 1; i <= quantity; i++) {
            char name [80], id [SCH_ID_LEN + 1];
            snprintf (name, sizeof name, "%s.%lld", type, (long long) i);
            if (json_object_get (dynos, name))
                continue;
            sch_dyno_id (cause, name, id);
            json_object_set_new (dynos, name, json_pack ("{s:s, s:I}", "id", id, "release", live));
        }
    }
}

void
sch_formation_renew (json_t *app, const char *type, const msg_t *cause, json_t *names)
{
    json_int_t live = json_integer_value (json_object_get (app, "live"));
    const char *name;
    json_t *dyno;
    json_object_foreach (json_object_get (app, "dynos"), name, dyno) {
        char its [64];
        sch_dyno_type (name, its, sizeof its);
        if (type && strcmp (its, type) != 0)
            continue;
        char id [SCH_ID_LEN + 1];
        sch_dyno_id (cause, name, id);
        json_object_set_new (dyno, "id", json_string (id));
        json_object_set_new (dyno, "release", json_integer (live));
        if (names)
            json_array_append_new (names, json_string (name));
    }
}

//  Marks release `version` as used in `keep`.
static void
s_keep (json_t *keep, json_int_t version)
{
    char key [24];
    snprintf (key, sizeof key, "%lld", (long long) version);
    json_object_set_new (keep, key, json_true ());
}

void
sch_app_prune_rels (json_t *app)
{
    json_t *keep = json_object ();
    s_keep (keep, json_integer_value (json_object_get (app, "live")));
    s_keep (keep, json_integer_value (json_object_get (app, "prev")));
    s_keep (keep, json_integer_value (json_object_get (app, "pending")));
    const char *keys [] = { "dynos", "old" };
    for (size_t k = 0; k < 2; k++) {
        const char *name;
        json_t *dyno;
        json_object_foreach (json_object_get (app, keys [k]), name, dyno)
            s_keep (keep, json_integer_value (json_object_get (dyno, "release")));
    }
    json_t *rels = json_object_get (app, "rels");
    const char *key;
    json_t *rel;
    void *iter;
    json_object_foreach_safe (rels, iter, key, rel)
        if (!json_object_get (keep, key))
            json_object_del (rels, key);
    json_decref (keep);
}

// ---------------------------------------------------------------------------
//  Views

static int
s_strcmp (const void *a, const void *b)
{
    return strcmp (*(const char *const *) a, *(const char *const *) b);
}

//  The formation as `formation.info` lists it: type, quantity, size,
//  command, sorted by type. Caller owns result.
static json_t *
s_formation_view (json_t *app)
{
    json_t *formation = json_object_get (app, "formation");
    json_t *types = s_live_types (app);
    size_t n = json_object_size (formation), i = 0;
    const char **keys = act_calloc (n + 1, sizeof *keys);
    const char *type;
    json_t *entry;
    json_object_foreach (formation, type, entry)
        keys [i++] = type;
    qsort (keys, n, sizeof *keys, s_strcmp);
    json_t *view = json_array ();
    for (i = 0; i < n; i++) {
        entry = json_object_get (formation, keys [i]);
        json_t *command = json_object_get (types, keys [i]);
        json_array_append_new (view, json_pack ("{s:s, s:O, s:O, s:s}", "type", keys [i],
                                                "quantity", json_object_get (entry, "quantity"),
                                                "size", json_object_get (entry, "size"), "command",
                                                json_is_string (command) ? json_string_value (command) : ""));
    }
    free (keys);
    return view;
}

//  `web=3, worker=1` into `out`.
static void
s_formation_line (json_t *app, char *out, size_t len)
{
    json_t *view = s_formation_view (app);
    size_t used = 0, i;
    json_t *entry;
    out [0] = 0;
    json_array_foreach (view, i, entry) {
        int n = snprintf (out + used, len - used, "%s%s=%lld", i ? ", " : "",
                          json_string_value (json_object_get (entry, "type")),
                          (long long) json_integer_value (json_object_get (entry, "quantity")));
        if (n < 0 || (size_t) n >= len - used)
            break;
        used += (size_t) n;
    }
    json_decref (view);
}

//  Orders dyno views by type, then number.
static int
s_dyno_cmp (const void *a, const void *b)
{
    const char *na = json_string_value (json_object_get (*(json_t *const *) a, "name"));
    const char *nb = json_string_value (json_object_get (*(json_t *const *) b, "name"));
    char ta [64], tb [64];
    sch_dyno_type (na, ta, sizeof ta);
    sch_dyno_type (nb, tb, sizeof tb);
    int c = strcmp (ta, tb);
    if (c)
        return c;
    long d = s_dyno_number (na) - s_dyno_number (nb);
    return d < 0 ? -1 : d > 0;
}

//  The dynos of `app` for ps.list.reply: each wanted dyno with the state
//  its supervisor last reported, or `starting` once placed. Caller owns
//  result.
static json_t *
s_dynos_view (sch_state_t *self, const char *name, json_t *app)
{
    json_t *wanted = sch_wanted (self, name, app);
    size_t n = json_array_size (wanted), i;
    json_t **views = act_calloc (n + 1, sizeof *views);
    size_t count = 0;
    json_t *entry;
    json_array_foreach (wanted, i, entry) {
        const char *id = json_string_value (json_object_get (entry, "id"));
        json_t *state = json_object_get (self->states, id);
        json_t *where = json_object_get (self->where, id);
        if (!state && !where)
            continue;           // not placed: no room anywhere yet
        json_t *view = json_pack ("{s:O, s:s, s:O, s:O, s:O, s:O, s:O}", "name",
                                  json_object_get (entry, "name"), "id", id, "type",
                                  json_object_get (entry, "type"), "command",
                                  json_object_get (entry, "command"), "size",
                                  json_object_get (entry, "size"), "release",
                                  json_object_get (entry, "release"), "oneoff",
                                  json_object_get (entry, "oneoff"));
        if (state) {
            const char *keys [] = { "state", "since_ms", "host", "supervisor", "port",
                                    "exit_status", "restarts", "reason" };
            for (size_t k = 0; k < sizeof keys / sizeof keys [0]; k++)
                if (json_object_get (state, keys [k]))
                    json_object_set (view, keys [k], json_object_get (state, keys [k]));
        }
        else
            json_object_set_new (view, "state", json_string ("starting"));
        if (!json_object_get (view, "since_ms"))
            json_object_set (view, "since_ms", json_object_get (where, "since"));
        if (!json_object_get (view, "supervisor"))
            json_object_set (view, "supervisor", json_object_get (where, "sup"));
        if (!json_object_get (view, "host"))
            json_object_set_new (view, "host", json_string (""));
        views [count++] = view;
    }
    qsort (views, count, sizeof *views, s_dyno_cmp);
    json_t *list = json_array ();
    for (i = 0; i < count; i++)
        json_array_append_new (list, views [i]);
    free (views);
    json_decref (wanted);
    return list;
}

//  The features view: every known feature with its state.
static json_t *
s_features_view (json_t *app)
{
    return json_pack ("[{s:s, s:b, s:s}]", "name", SCH_FEATURE_PREBOOT, "enabled",
                      json_is_true (json_object_get (json_object_get (app, "features"),
                                                     SCH_FEATURE_PREBOOT)),
                      "description",
                      "Start new web dynos before stopping the old ones on a new release");
}

static int
s_reply_ps (sch_state_t *self, act_t *act, const msg_t *req, const char *name, json_t *app)
{
    msg_t *reply = act_msg_new (act, MSG_TYPE_PS_LIST_REPLY, NULL);
    msg_set_str (reply, "app", name);
    msg_set_json (reply, "formation", s_formation_view (app));
    msg_set_json (reply, "dynos", s_dynos_view (self, name, app));
    json_int_t live = json_integer_value (json_object_get (app, "live"));
    if (live)
        msg_set_int (reply, "release", live);
    msg_set_json (reply, "features", json_pack ("{s:b}", SCH_FEATURE_PREBOOT,
                  json_is_true (json_object_get (json_object_get (app, "features"),
                                                 SCH_FEATURE_PREBOOT))));
    const char *check = json_string_value (json_object_get (app, "healthcheck"));
    if (check && *check)
        msg_set_str (reply, "healthcheck", check);
    return act_reply (act, req, &reply);
}

static int
s_reply_formation (act_t *act, const msg_t *req, const char *name, json_t *app)
{
    msg_t *reply = act_msg_new (act, MSG_TYPE_FORMATION_INFO, NULL);
    msg_set_str (reply, "app", name);
    msg_set_json (reply, "formation", s_formation_view (app));
    return act_reply (act, req, &reply);
}

//  The app a request names, or NULL after answering `error`.
static json_t *
s_app_or_refuse (sch_state_t *self, act_t *act, const msg_t *msg, const char *name)
{
    json_t *app = sch_app (self, name);
    if (!app || !json_integer_value (json_object_get (app, "live")))
        act_reply_error (act, msg, ACT_ENOTFOUND, "app '%s' has no releases yet", name);
    return app && json_integer_value (json_object_get (app, "live")) ? app : NULL;
}

static const char *
s_by (const msg_t *msg)
{
    const char *by = msg_str (msg, "by", "");
    return *by ? by : "unknown";
}

// ---------------------------------------------------------------------------
//  ps.scale

//  Checks one change against `next` (the formation being built, applied to
//  in place). Returns 0, or -EINVAL with `why` filled.
static int
s_scale_one (sch_state_t *self, json_t *types, json_t *next, const json_t *change, char *why,
             size_t len)
{
    const char *type = json_string_value (json_object_get (change, "type"));
    const char *op = json_string_value (json_object_get (change, "op"));
    json_t *quantity = json_object_get (change, "quantity");
    const char *size = json_string_value (json_object_get (change, "size"));
    if (!type || !*type)
        return snprintf (why, len, "a change names no process type"), -EINVAL;
    json_t *entry = json_object_get (next, type);
    if (!entry || !json_object_get (types, type)) {
        char known [256] = "";
        const char *t;
        json_t *v;
        json_object_foreach (next, t, v)
            if (strlen (known) + strlen (t) + 3 < sizeof known)
                strcat (strcat (known, *known ? ", " : ""), t);
        return snprintf (why, len, "no process type '%s' in the current release (%s)", type,
                         *known ? known : "none"), -EINVAL;
    }
    if (size) {
        const sch_size_t *known = sch_sizes_find (self->sizes, size);
        if (!known) {
            char names [256];
            sch_sizes_names (self->sizes, names, sizeof names);
            return snprintf (why, len, "unknown dyno size '%s' (%s)", size, names), -EINVAL;
        }
        json_object_set_new (entry, "size", json_string (known->name));
    }
    if (!op && !quantity)
        return size ? 0 : (snprintf (why, len, "a change of %s has no quantity or size", type), -EINVAL);
    if (!op || !json_is_integer (quantity) || strlen (op) != 1 || !strchr ("=+-", op [0]))
        return snprintf (why, len, "a change of %s needs op =, + or - and a quantity", type), -EINVAL;
    json_int_t q = json_integer_value (quantity);
    json_int_t now = json_integer_value (json_object_get (entry, "quantity"));
    json_int_t want = op [0] == '=' ? q : op [0] == '+' ? now + q : now - q;
    if (q < 0 || q > SCH_DYNOS_MAX || want < 0 || want > SCH_DYNOS_MAX)
        return snprintf (why, len, "%s would have %lld dynos; the range is 0 to %d", type,
                         (long long) want, SCH_DYNOS_MAX), -EINVAL;
    json_object_set_new (entry, "quantity", json_integer (want));
    return 0;
}

int
sch_on_ps_scale (void *state, act_t *act, msg_t *msg)
{
    sch_state_t *self = state;
    const char *name = msg_str (msg, "app", "");
    json_t *app = s_app_or_refuse (self, act, msg, name);
    if (!app)
        return 0;
    json_t *types = s_live_types (app);
    if (json_object_size (json_object_get (app, "formation")) == 0)
        return act_reply_error (act, msg, ACT_ENOTFOUND, "No process types on %s. Upload a "
                                "Procfile to add process types.", name);
    json_t *changes = json_object_get (msg->body, "changes");
    if (json_array_size (changes) == 0)
        return act_reply_error (act, msg, -EINVAL, "no changes given");
    json_t *next = json_deep_copy (json_object_get (app, "formation"));
    char why [ACT_REASON_MAX];
    size_t i;
    json_t *change;
    json_array_foreach (changes, i, change) {
        if (s_scale_one (self, types, next, change, why, sizeof why)) {
            json_decref (next);
            return act_reply_error (act, msg, -EINVAL, "%s", why);
        }
    }
    json_int_t total = 0;
    const char *type;
    json_t *entry;
    json_object_foreach (next, type, entry)
        total += json_integer_value (json_object_get (entry, "quantity"));
    if (total > SCH_DYNOS_MAX) {
        json_decref (next);
        return act_reply_error (act, msg, -EINVAL, "an app may run at most %d dynos; this "
                                "formation has %lld", SCH_DYNOS_MAX, (long long) total);
    }
    //  A type whose size changes restarts on the new size.
    json_t *old = json_object_get (app, "formation");
    json_t *resized = json_array ();
    json_object_foreach (next, type, entry)
        if (!json_equal (json_object_get (entry, "size"),
                         json_object_get (json_object_get (old, type), "size")))
            json_array_append_new (resized, json_string (type));
    json_object_set_new (app, "formation", next);
    sch_formation_sync (self, app, msg);
    json_array_foreach (resized, i, change)
        sch_formation_renew (app, json_string_value (change), msg, NULL);
    json_decref (resized);
    char line [SCH_LOG_LINE_MAX];
    s_formation_line (app, line, sizeof line);
    act_emit_log (act, name, "api", "Scale to %s by %s", line, s_by (msg));
    sch_place (self, act, name);
    return s_reply_formation (act, msg, name, app);
}

// ---------------------------------------------------------------------------
//  ps.list

int
sch_on_ps_list (void *state, act_t *act, msg_t *msg)
{
    sch_state_t *self = state;
    const char *name = msg_str (msg, "app", "");
    json_t *app = sch_app (self, name);
    if (!app)
        return act_reply_error (act, msg, ACT_ENOTFOUND, "app '%s' has no releases yet", name);
    return s_reply_ps (self, act, msg, name, app);
}

// ---------------------------------------------------------------------------
//  ps.restart, ps.stop

//  True when `app` has a formation dyno named `target` or of type `target`.
static bool
s_targets (json_t *app, const char *target, bool *is_type)
{
    json_t *dynos = json_object_get (app, "dynos");
    *is_type = false;
    if (json_object_get (dynos, target))
        return true;
    const char *name;
    json_t *dyno;
    json_object_foreach (dynos, name, dyno) {
        char type [64];
        sch_dyno_type (name, type, sizeof type);
        if (strcmp (type, target) == 0)
            return (*is_type = true);
    }
    return json_object_get (json_object_get (app, "formation"), target) != NULL
        && (*is_type = true);
}

//  Renews the dynos `target` names (NULL: all): a dyno or a type. Returns
//  the names (caller owns result).
static json_t *
s_renew_target (json_t *app, const char *target, bool is_type, const msg_t *msg)
{
    json_t *names = json_array ();
    if (!target || is_type)
        sch_formation_renew (app, target, msg, names);
    else {
        json_t *dyno = json_object_get (json_object_get (app, "dynos"), target);
        char id [SCH_ID_LEN + 1];
        sch_dyno_id (msg, target, id);
        json_object_set_new (dyno, "id", json_string (id));
        json_object_set (dyno, "release", json_object_get (app, "live"));
        json_array_append_new (names, json_string (target));
    }
    return names;
}

static int
s_reply_done (act_t *act, const msg_t *req, const char *name, json_t *names)
{
    msg_t *reply = act_msg_new (act, MSG_TYPE_PS_DONE, NULL);
    msg_set_str (reply, "app", name);
    msg_set_json (reply, "dynos", names);
    return act_reply (act, req, &reply);
}

int
sch_on_ps_restart (void *state, act_t *act, msg_t *msg)
{
    sch_state_t *self = state;
    const char *name = msg_str (msg, "app", "");
    json_t *app = s_app_or_refuse (self, act, msg, name);
    if (!app)
        return 0;
    const char *target = msg_str (msg, "target", NULL);
    if (target && !*target)
        target = NULL;
    bool is_type = false;
    if (target && !s_targets (app, target, &is_type)) {
        if (json_object_get (json_object_get (self->oneoffs, name), target))
            return act_reply_error (act, msg, -EINVAL, "%s is a one-off dyno: it is never "
                                    "restarted (stop it with ps:stop)", target);
        return act_reply_error (act, msg, ACT_ENOTFOUND, "no dyno or process type '%s' on %s",
                                target, name);
    }
    json_t *names = s_renew_target (app, target, is_type, msg);
    if (target)
        act_emit_log (act, name, "api", "Restart %s by %s", target, s_by (msg));
    else
        act_emit_log (act, name, "api", "Restart all dynos by %s", s_by (msg));
    sch_place (self, act, name);
    return s_reply_done (act, msg, name, names);
}

int
sch_on_ps_stop (void *state, act_t *act, msg_t *msg)
{
    sch_state_t *self = state;
    const char *name = msg_str (msg, "app", "");
    json_t *app = s_app_or_refuse (self, act, msg, name);
    if (!app)
        return 0;
    const char *target = msg_str (msg, "dyno", "");
    bool is_type = false;
    json_t *names;
    if (sch_oneoff_drop (self, name, target))
        names = json_pack ("[s]", target);
    else if (*target && s_targets (app, target, &is_type))
        //  The formation still wants it: it comes back as a new
        //  incarnation (Heroku's Common Runtime does the same).
        names = s_renew_target (app, target, is_type, msg);
    else
        return act_reply_error (act, msg, ACT_ENOTFOUND, "no dyno or process type '%s' on %s",
                                target, name);
    act_emit_log (act, name, "api", "Stop %s by %s", target, s_by (msg));
    sch_place (self, act, name);
    return s_reply_done (act, msg, name, names);
}

// ---------------------------------------------------------------------------
//  feature.set, feature.list, healthcheck.set

static int
s_reply_features (act_t *act, const msg_t *req, const char *name, json_t *app)
{
    msg_t *reply = act_msg_new (act, MSG_TYPE_FEATURE_LIST_REPLY, NULL);
    msg_set_str (reply, "app", name);
    msg_set_json (reply, "features", s_features_view (app));
    return act_reply (act, req, &reply);
}

int
sch_on_feature_set (void *state, act_t *act, msg_t *msg)
{
    sch_state_t *self = state;
    const char *name = msg_str (msg, "app", "");
    json_t *app = s_app_or_refuse (self, act, msg, name);
    if (!app)
        return 0;
    const char *feature = msg_str (msg, "feature", "");
    if (strcmp (feature, SCH_FEATURE_PREBOOT) != 0)
        return act_reply_error (act, msg, ACT_ENOTFOUND, "unknown feature '%s' (known: %s)",
                                feature, SCH_FEATURE_PREBOOT);
    bool enabled = msg_bool (msg, "enabled", false);
    json_object_set_new (json_object_get (app, "features"), feature, json_boolean (enabled));
    act_emit_log (act, name, "api", "%s %s by %s", enabled ? "Enable" : "Disable", feature,
                  s_by (msg));
    return s_reply_features (act, msg, name, app);
}

int
sch_on_feature_list (void *state, act_t *act, msg_t *msg)
{
    sch_state_t *self = state;
    const char *name = msg_str (msg, "app", "");
    json_t *app = s_app_or_refuse (self, act, msg, name);
    if (!app)
        return 0;
    return s_reply_features (act, msg, name, app);
}

//  Is `path` a health check path: `/`, at most SCH_HEALTHCHECK_MAX bytes
//  of printable ASCII without spaces?
static bool
s_path_valid (const char *path)
{
    size_t len = strlen (path);
    if (len == 0 || len > SCH_HEALTHCHECK_MAX || path [0] != '/')
        return false;
    for (size_t i = 0; i < len; i++)
        if (path [i] <= ' ' || path [i] > '~')
            return false;
    return true;
}

int
sch_on_healthcheck_set (void *state, act_t *act, msg_t *msg)
{
    sch_state_t *self = state;
    const char *name = msg_str (msg, "app", "");
    json_t *app = s_app_or_refuse (self, act, msg, name);
    if (!app)
        return 0;
    const char *path = msg_str (msg, "path", "");
    if (*path && !s_path_valid (path))
        return act_reply_error (act, msg, -EINVAL, "a health check path starts with / and has "
                                "at most %d printable characters, no spaces", SCH_HEALTHCHECK_MAX);
    json_object_set_new (app, "healthcheck", json_string (path));
    if (*path)
        act_emit_log (act, name, "api", "Set health check %s by %s", path, s_by (msg));
    else
        act_emit_log (act, name, "api", "Clear health check by %s", s_by (msg));
    //  Web dynos get it in their assignment; it applies from their next
    //  start (restart them to apply it now).
    sch_place (self, act, name);
    return s_reply_ps (self, act, msg, name, app);
}
