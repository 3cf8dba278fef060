//  release-keeper - owns apps, slugs and releases
//
//  Accepts: app.create (durable), app.get, app.list, app.destroy (durable),
//           buildpacks.set (durable), release.create (durable), release.list,
//           release.get, release.rollback (durable), upload.start,
//           upload.chunk, upload.finish, deploy.start, blob.get
//           (blob_get.c: a blob missing here is fetched from the broker's
//           vault first, vault.c), domain.add, domain.remove, domain.list,
//           maintenance.set (domains.c), acm.set (acm.c), cert.add,
//           cert.stored (from itself), cert.remove, cert.list (certs.c), actor.up
//           (topic: a router came up), plus status, ping, stop (answered
//           by the runtime).
//  Emits:   app.info (answering app.create, app.get, buildpacks.set),
//           app.list.reply, app.destroyed; app.created and app.destroyed
//           (durable, to config-keeper; app.destroyed also to log-plex and,
//           with app_created_ms, the scheduler); release.* (releases.c); upload.*,
//           deploy.output, release.create to itself (deploy.c); log.batch
//           API lines to log-plex; route.app (route.c: on topic `route.app`
//           when an app's routing picture changes, to a router that came
//           up for every app); acme.challenge and a durable cert.stored
//           to itself (acm.c: ACME orders run on threads); vault.put and
//           vault.get to the broker (vault.c: every blob stored is copied
//           to the broker, so release-keeper can move hosts); error,
//           status.reply, pong.
//  State:   rel_state_t (rel_state.h): the apps with their buildpacks and
//           releases, in one JSON object that is also the snapshot
//           (`{"apps": {...}}`), restored from it plus the journal after a
//           restart; uploads and builds in flight are not durable.
//
//  Every handler is a pure function of the state and the message (time from
//  act_now, which the runtime pins to a journaled message's timestamp), so
//  a replay of the journal rebuilds the same apps.

#include "release-keeper.h"
#include "apps.h"
#include "blob_get.h"
#include "rel_state.h"
#include "vault.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define REL_SNAPSHOT_EVERY    100       // durable messages between snapshots
#define REL_RANDOM_ATTEMPTS   64        // random names tried before giving up

static void *
s_create (act_t *act)
{
    rel_state_t *self = act_calloc (1, sizeof *self);
    self->apps = json_object ();
    self->deploys = rel_deploys_new (act);
    self->acm = rel_acm_new (act);
    self->certs = rel_certs_new (act);
    self->vault = rel_vault_new (act);
    self->route_stale = json_object ();
    self->route_all = true;     // routers that came up before us were never told
    act_rng_init (&self->route_ids, act_seed_from_os ());
    return self;
}

static void
s_destroy (void **state_p)
{
    rel_state_t *self = *state_p;
    rel_acm_destroy (&self->acm);      // first: its threads end
    rel_deploys_destroy (&self->deploys);
    rel_certs_destroy (&self->certs);
    rel_vault_destroy (&self->vault);
    json_decref (self->route_stale);
    json_decref (self->apps);
    free (self);
    *state_p = NULL;
}

json_t *
rel_app (rel_state_t *self, const char *name)
{
    return json_object_get (self->apps, name);
}

//  The public view of one app (fields of app.info). Caller owns result.
static json_t *
s_app_view (const char *name, const json_t *app)
{
    json_t *buildpacks = json_object_get (app, "buildpacks");
    return json_pack ("{s:s, s:O, s:O, s:I, s:o, s:b, s:b}", "name", name,
                      "created_ms", json_object_get (app, "created_ms"),
                      "by", json_object_get (app, "by"),
                      "releases", (json_int_t) json_array_size (json_object_get (app, "releases")),
                      "buildpacks", buildpacks ? json_deep_copy (buildpacks) : json_array (),
                      "maintenance", json_is_true (json_object_get (app, "maintenance")),
                      "acm", json_is_true (json_object_get (app, "acm")));
}

//  Tells actor `to` an app came or went (durable, so it is told even when
//  it is down now).
static void
s_tell (act_t *act, const msg_t *cause, msg_type_id_t type, const char *to, const char *name,
        const char *by)
{
    msg_t *event = act_msg_follow (act, type, to, cause);
    event->durable = true;
    msg_set_str (event, "name", name);
    if (by)
        msg_set_str (event, "by", by);
    act_send (act, &event);
}

static int
s_reply_info (act_t *act, const msg_t *request, const char *name, const json_t *app)
{
    msg_t *reply = act_msg_new (act, MSG_TYPE_APP_INFO, NULL);
    json_decref (reply->body);
    reply->body = s_app_view (name, app);
    return act_reply (act, request, &reply);
}

int
rel_reply_app_info (act_t *act, const msg_t *req, const char *name, const json_t *app)
{
    return s_reply_info (act, req, name, app);
}

//  Picks a free random name for the app `msg` creates into `name`.
//  Returns 0, or -EEXIST when every attempt was taken.
static int
s_random_name (rel_state_t *self, const msg_t *msg, char *name, size_t len)
{
    uint64_t seed = rel_app_seed_from_id (msg->id);
    for (unsigned attempt = 0; attempt < REL_RANDOM_ATTEMPTS; attempt++) {
        rel_app_name_random (seed, attempt, name, len);
        if (!json_object_get (self->apps, name))
            return 0;
    }
    return -EEXIST;
}

static int
s_on_app_create (void *state, act_t *act, msg_t *msg)
{
    rel_state_t *self = state;
    char name [REL_APP_NAME_MAX + 1];
    const char *given = msg_str (msg, "name", NULL);
    if (given) {
        char why [REL_APP_WHY_MAX];
        if (!rel_app_name_valid (given, why))
            return act_reply_error (act, msg, -EINVAL, "'%s' is not a valid app name: %s",
                                    given, why);
        if (json_object_get (self->apps, given))
            return act_reply_error (act, msg, -EEXIST, "app '%s' already exists", given);
        snprintf (name, sizeof name, "%s", given);
    }
    else if (s_random_name (self, msg, name, sizeof name))
        return act_reply_error (act, msg, -EEXIST, "no free random app name; pass a name");
    json_t *app = json_pack ("{s:I, s:s, s:[], s:[], s:i}", "created_ms", (json_int_t) act_now (act),
                             "by", msg_str (msg, "by", ""), "buildpacks", "releases",
                             "config_seen", 0);
    json_object_set_new (self->apps, name, app);
    act_log_info ("created app '%s'", name);
    s_tell (act, msg, MSG_TYPE_APP_CREATED, "config-keeper", name, msg_str (msg, "by", ""));
    act_emit_log (act, name, "api", "Create app by %s", msg_str (msg, "by", "unknown"));
    rel_route_publish (self, act, name);
    return s_reply_info (act, msg, name, app);
}

static int
s_on_app_get (void *state, act_t *act, msg_t *msg)
{
    rel_state_t *self = state;
    const char *name = msg_str (msg, "name", "");
    json_t *app = json_object_get (self->apps, name);
    if (!app)
        return act_reply_error (act, msg, ACT_ENOTFOUND, "app '%s' does not exist", name);
    return s_reply_info (act, msg, name, app);
}

static int
s_by_name (const void *a, const void *b)
{
    return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static int
s_on_app_list (void *state, act_t *act, msg_t *msg)
{
    rel_state_t *self = state;
    size_t n = json_object_size (self->apps), i = 0;
    const char **names = act_calloc (n + 1, sizeof *names);
    const char *key;
    json_t *app;
    json_object_foreach (self->apps, key, app)
        names [i++] = key;
    qsort (names, n, sizeof *names, s_by_name);
    json_t *list = json_array ();
    for (i = 0; i < n; i++)
        json_array_append_new (list, s_app_view (names [i], json_object_get (self->apps, names [i])));
    free (names);
    msg_t *reply = act_msg_new (act, MSG_TYPE_APP_LIST_REPLY, NULL);
    msg_set_json (reply, "apps", list);
    return act_reply (act, msg, &reply);
}

static int
s_on_app_destroy (void *state, act_t *act, msg_t *msg)
{
    rel_state_t *self = state;
    const char *name = msg_str (msg, "name", "");
    const char *confirm = msg_str (msg, "confirm", "");
    if (!json_object_get (self->apps, name))
        return act_reply_error (act, msg, ACT_ENOTFOUND, "app '%s' does not exist", name);
    if (strcmp (confirm, name) != 0)
        return act_reply_error (act, msg, -EINVAL,
                                "confirmation '%s' does not match app '%s'", confirm, name);
    json_int_t born = json_integer_value (json_object_get (json_object_get (self->apps, name),
                                                          "created_ms"));
    json_object_del (self->apps, name);
    act_log_info ("destroyed app '%s'", name);
    s_tell (act, msg, MSG_TYPE_APP_DESTROYED, "config-keeper", name, NULL);
    s_tell (act, msg, MSG_TYPE_APP_DESTROYED, "log-plex", name, NULL);
    //  The scheduler stops its dynos; app_created_ms tells this app from a
    //  later one of the same name when a replay sends it again.
    msg_t *gone = act_msg_follow (act, MSG_TYPE_APP_DESTROYED, "scheduler", msg);
    gone->durable = true;
    msg_set_str (gone, "name", name);
    msg_set_int (gone, "app_created_ms", born);
    act_send (act, &gone);
    rel_deploys_forget_app (self, act, name);
    rel_route_publish (self, act, name);        // destroyed: frees its domains
    msg_t *reply = act_msg_new (act, MSG_TYPE_APP_DESTROYED, NULL);
    msg_set_str (reply, "name", name);
    return act_reply (act, msg, &reply);
}

//  A router that (re)starts knows no app: tell it each one's picture.
static int
s_on_actor_up (void *state, act_t *act, msg_t *msg)
{
    if (strcmp (msg_str (msg, "name", ""), "router") != 0)
        return 0;
    char *to = act_sprintf ("router@%s", msg_str (msg, "instance", ""));
    rel_route_send_all (state, act, to);
    free (to);
    return 0;
}

static void
s_status (void *state, json_t *detail)
{
    rel_state_t *self = state;
    json_object_set_new (detail, "apps", json_integer ((json_int_t) json_object_size (self->apps)));
    rel_vault_status (self->vault, detail);
}

static json_t *
s_snapshot (void *state)
{
    rel_state_t *self = state;
    //  Shared, not copied: the runtime writes it out before any handler runs again.
    return json_pack ("{s:O}", "apps", self->apps);
}

static int
s_restore (void *state, const json_t *snapshot)
{
    rel_state_t *self = state;
    json_t *apps = json_object_get (snapshot, "apps");
    if (!json_is_object (apps))
        return ACT_ESTORE;
    json_decref (self->apps);
    self->apps = json_deep_copy (apps);
    return 0;
}

static void
s_tick (void *state, act_t *act)
{
    rel_deploys_tick (state, act);
    rel_acm_tick (state, act);
    rel_route_tick (state, act);
    rel_vault_tick (state, act);
}

static const act_route_t s_routes [] = {
    { MSG_TYPE_APP_CREATE,       s_on_app_create },
    { MSG_TYPE_APP_GET,          s_on_app_get },
    { MSG_TYPE_APP_LIST,         s_on_app_list },
    { MSG_TYPE_APP_DESTROY,      s_on_app_destroy },
    { MSG_TYPE_BUILDPACKS_SET,   rel_on_buildpacks_set },
    { MSG_TYPE_RELEASE_CREATE,   rel_on_release_create },
    { MSG_TYPE_RELEASE_LIST,     rel_on_release_list },
    { MSG_TYPE_RELEASE_GET,      rel_on_release_get },
    { MSG_TYPE_RELEASE_ROLLBACK, rel_on_release_rollback },
    { MSG_TYPE_RELEASE_STATUS,   rel_on_release_status },
    { MSG_TYPE_UPLOAD_START,     rel_on_upload_start },
    { MSG_TYPE_UPLOAD_CHUNK,     rel_on_upload_chunk },
    { MSG_TYPE_UPLOAD_FINISH,    rel_on_upload_finish },
    { MSG_TYPE_DEPLOY_START,     rel_on_deploy_start },
    { MSG_TYPE_BLOB_GET,         rel_on_blob_get },
    { MSG_TYPE_DOMAIN_ADD,       rel_on_domain_add },
    { MSG_TYPE_DOMAIN_REMOVE,    rel_on_domain_remove },
    { MSG_TYPE_DOMAIN_LIST,      rel_on_domain_list },
    { MSG_TYPE_MAINTENANCE_SET,  rel_on_maintenance_set },
    { MSG_TYPE_ACM_SET,          rel_on_acm_set },
    { MSG_TYPE_CERT_ADD,         rel_on_cert_add },
    { MSG_TYPE_CERT_STORED,      rel_on_cert_stored },
    { MSG_TYPE_CERT_REMOVE,      rel_on_cert_remove },
    { MSG_TYPE_CERT_LIST,        rel_on_cert_list },
    { MSG_TYPE_ACTOR_UP,         s_on_actor_up },
};
static const char *const s_topics [] = { "actor.up", NULL };

static const act_def_t s_def = {
    .name = "release-keeper",
    .singleton = true,
    .routes = s_routes,
    .route_count = sizeof s_routes / sizeof s_routes [0],
    .topics = s_topics,
    .create = s_create,
    .destroy = s_destroy,
    .status = s_status,
    .snapshot = s_snapshot,
    .restore = s_restore,
    .snapshot_every = REL_SNAPSHOT_EVERY,
    .tick = s_tick,
};

const act_def_t *
rel_actor_def (void)
{
    return &s_def;
}
