//  releases - release-keeper's releases: numbering, history, rollback
//
//  Accepts: release.create (durable; kinds `config` and `rollback` from
//           config-keeper, kind `deploy` from release-keeper itself after a
//           build; from anyone else refused), release.list, release.get,
//           release.rollback (durable, from the CLI: checked here, then
//           forwarded to config-keeper as config.rollback, which orders it
//           among config changes and asks for the release), release.status
//           (durable, from the scheduler: recorded as the release's
//           `status`, so `dyno releases` shows a failed release phase).
//  Emits:   release.info (to release.create's `reply_to` with corr
//           `reply_corr`, or as the reply to release.get),
//           release.list.reply, error; release.created (durable follow-on,
//           to the scheduler) for every new release; config.rollback
//           (durable follow-on, to config-keeper) for a rollback; API log
//           lines (`Deploy 1a2b3c4 by USER`, `Release v5 created by USER`,
//           `Rollback to v3 by USER`) to log-plex.
//  State:   each app's `releases` array and `config_seen` in rel_state_t's
//           `apps` (see rel_state.h), so the snapshot holds all of it.
//
//  Numbering: release vN is releases[N-1]; a release is only ever appended,
//  so versions have no gaps and never change meaning.
//
//  Repeats: delivery is at-least-once and a restarted sender re-sends its
//  durable follow-ons, so release.create is applied at most once per cause:
//  a config change or rollback by its config version (<= config_seen is a
//  repeat; config-keeper numbers both in one sequence), a
//  deploy by its deploy id (`reply_corr`, else the message id), kept in the
//  stored release as `cause`. A repeat makes no release; its `reply_to`
//  gets the release the first copy made.

#include "rel_state.h"
#include "blobs.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define REL_SELF_ACTOR      "release-keeper"
#define REL_CONFIG_ACTOR    "config-keeper"

//  Release kinds, as stored and shown in `release.info`.
#define REL_KIND_CONFIG     "config"
#define REL_KIND_DEPLOY     "deploy"
#define REL_KIND_ROLLBACK   "rollback"

//  Stored with a release, never shown: what caused it (deploy id).
#define REL_CAUSE_KEY       "cause"

// ---------------------------------------------------------------------------
//  Views and replies

//  The fields of `release.info` for release `rel` of the app `app` named
//  `name`. Caller owns result.
static json_t *
s_view (const char *name, const json_t *app, const json_t *rel)
{
    json_t *view = json_deep_copy (rel);
    json_object_del (view, REL_CAUSE_KEY);
    json_object_set_new (view, "app", json_string (name));
    json_object_set (view, "app_created_ms", json_object_get (app, "created_ms"));
    json_t *releases = json_object_get (app, "releases");
    size_t n = json_array_size (releases);
    bool current = n > 0 && json_array_get (releases, n - 1) == rel;
    json_object_set_new (view, "current", json_boolean (current));
    return view;
}

//  A `release.info` for `rel`, unaddressed. Caller owns result.
static msg_t *
s_info_msg (act_t *act, const char *name, const json_t *app, const json_t *rel)
{
    msg_t *info = act_msg_new (act, MSG_TYPE_RELEASE_INFO, NULL);
    json_decref (info->body);
    info->body = s_view (name, app, rel);
    return info;
}

//  Sends `info` (consumed) to release.create's `reply_to`, corr
//  `reply_corr`; drops it when the message named no reply_to.
static void
s_send_reply_to (act_t *act, const msg_t *msg, msg_t **info_p)
{
    const char *reply_to = msg_str (msg, "reply_to", NULL);
    if (!reply_to || msg_set_to (*info_p, reply_to) != 0) {
        msg_destroy (info_p);
        return;
    }
    msg_set_corr (*info_p, msg_str (msg, "reply_corr", ""));
    act_send (act, info_p);
}

//  Refuses `msg`: an `error` to its `reply_to` (corr `reply_corr`) when it
//  names one, else to its sender. Returns 0 (the handler answered).
static int
s_refuse (act_t *act, const msg_t *msg, int code, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

static int
s_refuse (act_t *act, const msg_t *msg, int code, const char *fmt, ...)
{
    char reason [ACT_REASON_MAX];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (reason, sizeof reason, fmt, ap);
    va_end (ap);
    const char *reply_to = msg_str (msg, "reply_to", NULL);
    if (!reply_to)
        return act_reply_error (act, msg, code, "%s", reason);
    msg_t *err = act_msg_new (act, MSG_TYPE_ERROR, NULL);
    msg_set_int (err, "code", code);
    msg_set_str (err, "reason", reason);
    msg_set_str (err, "type", msg->type->name);
    if (msg_set_to (err, reply_to) != 0) {
        msg_destroy (&err);
        return act_reply_error (act, msg, code, "%s", reason);
    }
    msg_set_corr (err, msg_str (msg, "reply_corr", ""));
    act_send (act, &err);
    return 0;
}

// ---------------------------------------------------------------------------
//  Appending a release

//  Who asked for `msg`'s change: its `by`, or `unknown` when absent or
//  empty. Borrowed from `msg` or static.
static const char *
s_by (const msg_t *msg)
{
    const char *by = msg_str (msg, "by", "");
    return *by ? by : "unknown";
}

//  The app's current (newest) release, or NULL. Borrowed.
static json_t *
s_current (const json_t *app)
{
    json_t *releases = json_object_get (app, "releases");
    size_t n = json_array_size (releases);
    return n ? json_array_get (releases, n - 1) : NULL;
}

//  Copies `key` from `from` into `to` when present.
static void
s_copy (json_t *to, const json_t *from, const char *key)
{
    json_t *value = from ? json_object_get (from, key) : NULL;
    if (value)
        json_object_set_new (to, key, json_deep_copy (value));
}

//  A new release record for `app`: the next version, `description`, `by`,
//  now, `kind`. Caller owns result; the caller fills the rest.
static json_t *
s_release_new (act_t *act, const json_t *app, const char *kind, const char *description,
               const char *by)
{
    json_int_t version = (json_int_t) json_array_size (json_object_get (app, "releases")) + 1;
    return json_pack ("{s:I, s:s, s:s, s:I, s:s, s:I, s:{}}", "version", version,
                      "description", description, "by", by, "created_ms",
                      (json_int_t) act_now (act), "kind", kind, "config_version", (json_int_t) 0,
                      "process_types");
}

//  Appends `rel` (consumed) to `app` and tells the scheduler about it with
//  a durable release.created that follows `cause`. Returns the release,
//  borrowed from `app`.
static json_t *
s_append (act_t *act, const msg_t *cause, const char *name, json_t *app, json_t *rel)
{
    json_t *releases = json_object_get (app, "releases");
    json_array_append_new (releases, rel);
    act_log_info ("app '%s': release v%lld, %s", name,
                  (long long) json_integer_value (json_object_get (rel, "version")),
                  json_string_value (json_object_get (rel, "description")));
    msg_t *event = act_msg_follow (act, MSG_TYPE_RELEASE_CREATED, "scheduler", cause);
    event->durable = true;
    json_decref (event->body);
    event->body = s_view (name, app, rel);
    act_send (act, &event);
    return rel;
}

//  The release of `app` with `key` equal to `value` (string or integer),
//  newest first, or NULL. Borrowed.
static json_t *
s_find_by (const json_t *app, const char *kind, const char *key, const json_t *value)
{
    json_t *releases = json_object_get (app, "releases");
    for (size_t i = json_array_size (releases); i-- > 0;) {
        json_t *rel = json_array_get (releases, i);
        const char *its = json_string_value (json_object_get (rel, "kind"));
        if (its && strcmp (its, kind) == 0 && json_equal (json_object_get (rel, key), value))
            return rel;
    }
    return NULL;
}

// ---------------------------------------------------------------------------
//  release.create

//  Answers a repeat of a release.create that made `rel` (may be NULL: the
//  repeat names a change that made no release here) and logs it.
static int
s_repeat (act_t *act, const msg_t *msg, const char *name, const json_t *app, const json_t *rel)
{
    act_log_info ("app '%s': release.create %s is a repeat; no new release", name,
                  msg_str (msg, "description", ""));
    if (rel) {
        msg_t *info = s_info_msg (act, name, app, rel);
        s_send_reply_to (act, msg, &info);
    }
    return 0;
}

//  A config change's release (kind config: the current slug and processes
//  with the new config version; kind rollback: the rolled-back-to
//  release's slug and processes, as config-keeper sends them, with the new
//  config version holding that release's vars). Returns the new release
//  (borrowed), or NULL after answering a repeat or a refusal.
static json_t *
s_create_config (act_t *act, const msg_t *msg, const char *name, json_t *app, const char *by,
                 bool rollback)
{
    json_t *version = json_object_get (msg->body, "config_version");
    if (!json_is_integer (version) || json_integer_value (version) < 1) {
        s_refuse (act, msg, -EINVAL, "a config release needs a config_version of 1 or more");
        return NULL;
    }
    json_int_t seen = json_integer_value (json_object_get (app, "config_seen"));
    if (json_integer_value (version) <= seen) {
        s_repeat (act, msg, name, app, s_find_by (app, rollback ? REL_KIND_ROLLBACK : REL_KIND_CONFIG,
                                                  "config_version", version));
        return NULL;
    }
    json_t *from = rollback ? msg->body : s_current (app);
    json_t *rel = s_release_new (act, app, rollback ? REL_KIND_ROLLBACK : REL_KIND_CONFIG,
                                 msg_str (msg, "description", ""), by);
    s_copy (rel, from, "slug");
    s_copy (rel, from, "process_types");
    s_copy (rel, from, "commit");
    if (rollback)
        s_copy (rel, msg->body, "rollback_to");
    json_object_set_new (rel, "config_version", json_integer (json_integer_value (version)));
    json_object_set_new (app, "config_seen", json_integer (json_integer_value (version)));
    return s_append (act, msg, name, app, rel);
}

//  A deploy's release: the new slug and processes with the current config.
//  Returns the new release (borrowed), or NULL after answering a repeat or
//  a refusal.
static json_t *
s_create_deploy (act_t *act, const msg_t *msg, const char *name, json_t *app, const char *by)
{
    json_t *slug = json_object_get (msg->body, "slug");
    const char *blob = json_string_value (json_object_get (slug, "blob"));
    if (!blob || !rel_blob_sha_valid (blob)) {
        s_refuse (act, msg, -EINVAL, "a deploy release needs a slug with a blob (a SHA-256)");
        return NULL;
    }
    json_t *cause = json_string (msg_str (msg, "reply_corr", msg->id));
    json_t *earlier = s_find_by (app, REL_KIND_DEPLOY, REL_CAUSE_KEY, cause);
    if (earlier) {
        json_decref (cause);
        s_repeat (act, msg, name, app, earlier);
        return NULL;
    }
    json_t *current = s_current (app);
    json_t *rel = s_release_new (act, app, REL_KIND_DEPLOY, msg_str (msg, "description", ""), by);
    //  The config the app runs now: the current release's, which after a
    //  rollback is older than config_seen (config-keeper made that old
    //  config current again).
    if (current)
        s_copy (rel, current, "config_version");
    else
        json_object_set_new (rel, "config_version",
                             json_integer (json_integer_value (json_object_get (app, "config_seen"))));
    json_object_set_new (rel, "slug", json_deep_copy (slug));
    s_copy (rel, msg->body, "process_types");
    s_copy (rel, msg->body, "commit");
    json_object_set_new (rel, REL_CAUSE_KEY, cause);
    return s_append (act, msg, name, app, rel);
}

//  Who may ask for a release of `kind`: config-keeper for config changes
//  and rollbacks (it orders them), release-keeper itself for deploys (a
//  finished build). The broker vouches for `from`.
static bool
s_sender_may (const msg_t *msg, const char *kind)
{
    return act_msg_from_actor (msg, strcmp (kind, REL_KIND_DEPLOY) == 0 ? REL_SELF_ACTOR
                                                                        : REL_CONFIG_ACTOR);
}

int
rel_on_release_create (void *state, act_t *act, msg_t *msg)
{
    rel_state_t *self = state;
    const char *name = msg_str (msg, "app", "");
    const char *kind = msg_str (msg, "kind", "");
    bool deploy = strcmp (kind, REL_KIND_DEPLOY) == 0;
    bool rollback = strcmp (kind, REL_KIND_ROLLBACK) == 0;
    if (!deploy && !rollback && strcmp (kind, REL_KIND_CONFIG) != 0)
        return s_refuse (act, msg, -EINVAL, "unknown release kind '%s'", kind);
    if (!s_sender_may (msg, kind))
        return act_reply_error (act, msg, ACT_EREFUSED, "%s may not ask for a %s release",
                                msg->from, kind);
    json_t *app = rel_app (self, name);
    if (!app)
        return s_refuse (act, msg, ACT_ENOTFOUND, "app '%s' does not exist", name);
    const char *by = s_by (msg);
    json_t *rel = deploy ? s_create_deploy (act, msg, name, app, by)
                         : s_create_config (act, msg, name, app, by, rollback);
    if (!rel)
        return 0;
    long long version = json_integer_value (json_object_get (rel, "version"));
    if (deploy || rollback)
        act_emit_log (act, name, "api", "%s by %s", msg_str (msg, "description", ""), by);
    act_emit_log (act, name, "api", "Release v%lld created by %s", version, by);
    rel_route_publish (self, act, name);        // released: true
    msg_t *info = s_info_msg (act, name, app, rel);
    s_send_reply_to (act, msg, &info);
    return 0;
}

// ---------------------------------------------------------------------------
//  release.list, release.get

int
rel_on_release_list (void *state, act_t *act, msg_t *msg)
{
    rel_state_t *self = state;
    const char *name = msg_str (msg, "app", "");
    json_t *app = rel_app (self, name);
    if (!app)
        return act_reply_error (act, msg, ACT_ENOTFOUND, "app '%s' does not exist", name);
    json_t *releases = json_object_get (app, "releases");
    json_t *list = json_array ();
    for (size_t i = json_array_size (releases); i-- > 0;)
        json_array_append_new (list, s_view (name, app, json_array_get (releases, i)));
    msg_t *reply = act_msg_new (act, MSG_TYPE_RELEASE_LIST_REPLY, NULL);
    msg_set_str (reply, "app", name);
    msg_set_json (reply, "releases", list);
    return act_reply (act, msg, &reply);
}

//  Release `version` of `app` (the current one when `version` is NULL),
//  or NULL after replying with an error. Borrowed.
static json_t *
s_release_or_refuse (act_t *act, const msg_t *msg, const char *name, const json_t *app,
                     const json_t *given)
{
    json_t *releases = json_object_get (app, "releases");
    size_t n = json_array_size (releases);
    json_int_t version = json_integer_value (given);
    if (!given && n == 0)
        act_reply_error (act, msg, ACT_ENOTFOUND, "app '%s' has no releases yet", name);
    else if (!given)
        return json_array_get (releases, n - 1);
    else if (version < 1 || (uint64_t) version > n)
        act_reply_error (act, msg, ACT_ENOTFOUND, "release v%lld of app '%s' does not exist",
                         (long long) version, name);
    else
        return json_array_get (releases, (size_t) version - 1);
    return NULL;
}

int
rel_on_release_get (void *state, act_t *act, msg_t *msg)
{
    rel_state_t *self = state;
    const char *name = msg_str (msg, "app", "");
    json_t *app = rel_app (self, name);
    if (!app)
        return act_reply_error (act, msg, ACT_ENOTFOUND, "app '%s' does not exist", name);
    json_t *rel = s_release_or_refuse (act, msg, name, app,
                                       json_object_get (msg->body, "version"));
    if (!rel)
        return 0;
    msg_t *info = s_info_msg (act, name, app, rel);
    return act_reply (act, msg, &info);
}

// ---------------------------------------------------------------------------
//  release.rollback

//  The release a rollback of `app` goes back to, or NULL after replying
//  with an error: `version`, else the one before the current. Borrowed.
static json_t *
s_rollback_target (act_t *act, const msg_t *msg, const char *name, const json_t *app)
{
    json_t *releases = json_object_get (app, "releases");
    size_t n = json_array_size (releases);
    json_t *version = json_object_get (msg->body, "version");
    if (version)
        return s_release_or_refuse (act, msg, name, app, version);
    if (n == 0)
        act_reply_error (act, msg, ACT_ENOTFOUND, "app '%s' has no releases yet", name);
    else if (n == 1)
        act_reply_error (act, msg, ACT_ENOTFOUND, "app '%s' has no release before v1", name);
    else
        return json_array_get (releases, n - 2);
    return NULL;
}

int
rel_on_release_rollback (void *state, act_t *act, msg_t *msg)
{
    rel_state_t *self = state;
    const char *name = msg_str (msg, "app", "");
    json_t *app = rel_app (self, name);
    if (!app)
        return act_reply_error (act, msg, ACT_ENOTFOUND, "app '%s' does not exist", name);
    json_t *target = s_rollback_target (act, msg, name, app);
    if (!target)
        return 0;
    //  config-keeper orders every config change, a rollback's included: it
    //  makes the target's vars current again as its next config version
    //  and asks for the release (kind rollback) with that version, which
    //  answers the CLI. So a rollback and a concurrent config:set are
    //  applied in the same order by both keepers. Durable, so it happens
    //  even when config-keeper is down now; `rollback` numbers this app's
    //  rollbacks, so config-keeper drops a repeat.
    json_int_t n = json_integer_value (json_object_get (app, "rollbacks")) + 1;
    json_object_set_new (app, "rollbacks", json_integer (n));
    msg_t *cfg = act_msg_follow (act, MSG_TYPE_CONFIG_ROLLBACK, REL_CONFIG_ACTOR, msg);
    cfg->durable = true;
    msg_set_str (cfg, "app", name);
    msg_set_int (cfg, "version", json_integer_value (json_object_get (target, "config_version")));
    msg_set_int (cfg, "rollback", n);
    msg_set_int (cfg, "target", json_integer_value (json_object_get (target, "version")));
    json_t *release = json_object ();
    s_copy (release, target, "slug");
    s_copy (release, target, "process_types");
    s_copy (release, target, "commit");
    msg_set_json (cfg, "release", release);
    msg_set_str (cfg, "by", s_by (msg));
    msg_set_str (cfg, "reply_to", msg->from);
    msg_set_str (cfg, "reply_corr", msg->id);
    return act_send (act, &cfg);
}

// ---------------------------------------------------------------------------
//  release.status

int
rel_on_release_status (void *state, act_t *act, msg_t *msg)
{
    (void) act;
    rel_state_t *self = state;
    const char *name = msg_str (msg, "app", "");
    const char *status = msg_str (msg, "status", "");
    json_int_t version = msg_int (msg, "version", 0);
    json_t *releases = json_object_get (rel_app (self, name), "releases");
    //  An event: nothing to answer. Setting the same status twice is
    //  harmless, so a re-sent one needs no check.
    if (!act_msg_from_actor (msg, "scheduler")
    ||  (strcmp (status, "succeeded") != 0 && strcmp (status, "failed") != 0)
    ||  version < 1 || (size_t) version > json_array_size (releases)) {
        act_log_warn ("ignoring release.status %s of '%s' v%lld from %s", status, name,
                      (long long) version, msg->from);
        return 0;
    }
    json_object_set_new (json_array_get (releases, (size_t) version - 1), "status",
                         json_string (status));
    act_log_info ("app '%s': release v%lld %s%s%s", name, (long long) version, status,
                  msg_str (msg, "reason", NULL) ? ": " : "", msg_str (msg, "reason", ""));
    return 0;
}
