//  fetch - what a dyno needs before it starts: its slug and its config
//
//  See fetch.h. Requests in flight are a small table keyed by message id
//  (an answer's corr); configs are few (the apps with dynos on this host),
//  so lookups are linear. The slug work is slugs.c's: this file sends its
//  blob.get and hands it each answer or silence.

#include "fetch.h"
#include "slugs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { K_SLUG, K_CONFIG } s_kind_t;

typedef struct {
    char id [MSG_ID_LEN + 1];
    s_kind_t kind;
    char *key;                  // "app/sha" or "app/version"
    char *app;
    int64_t offset, length;     // slugs
    int64_t version;            // configs
    int64_t deadline;           // mono ms
    int tries;
} s_pending_t;

struct sup_fetch {
    sup_slugs_t *slugs;
    s_pending_t *pending;
    size_t pending_count, pending_cap;
    json_t *configs;            // "app/version" -> vars
    json_t *config_failed;      // "app/version" -> {why, at}
    json_t *empty;              // the vars of version 0
};

sup_fetch_t *
sup_fetch_new (const char *slug_root)
{
    sup_fetch_t *self = act_calloc (1, sizeof *self);
    self->slugs = sup_slugs_new (slug_root, self);
    self->configs = json_object ();
    self->config_failed = json_object ();
    self->empty = json_object ();
    return self;
}

// ---- pending requests ------------------------------------------------------

//  Remembers a request sent `tries` times, asked again at the deadline
//  (also when its send failed).
static s_pending_t *
s_pending_add (sup_fetch_t *self, const char *id, s_kind_t kind, const char *key, const char *app,
               int tries)
{
    if (self->pending_count == self->pending_cap) {
        self->pending_cap = self->pending_cap ? self->pending_cap * 2 : 16;
        self->pending = act_realloc (self->pending, self->pending_cap * sizeof *self->pending);
    }
    s_pending_t *p = &self->pending [self->pending_count++];
    memset (p, 0, sizeof *p);
    snprintf (p->id, sizeof p->id, "%s", id);
    p->kind = kind;
    p->key = act_strdup (key);
    p->app = act_strdup (app);
    p->tries = tries;
    p->deadline = act_mono_ms () + SUP_FETCH_TIMEOUT_MS;
    return p;
}

//  Takes entry i out of the table; the caller owns its key and app.
static s_pending_t
s_pending_take (sup_fetch_t *self, size_t i)
{
    s_pending_t p = self->pending [i];
    self->pending [i] = self->pending [--self->pending_count];
    return p;
}

static void
s_pending_drop (sup_fetch_t *self, size_t i)
{
    s_pending_t p = s_pending_take (self, i);
    free (p.key);
    free (p.app);
}

static bool
s_pending_is (const s_pending_t *p, s_kind_t kind, const char *key)
{
    return p->kind == kind && strcmp (p->key, key) == 0;
}

static int
s_pending_count (const sup_fetch_t *self, s_kind_t kind, const char *key)
{
    int n = 0;
    for (size_t i = 0; i < self->pending_count; i++)
        n += s_pending_is (&self->pending [i], kind, key);
    return n;
}

void
sup_fetch_ask_blob (sup_fetch_t *self, act_t *act, const char *key, const char *app,
                    const char *sha, int64_t offset, int64_t length, int tries)
{
    msg_t *req = act_msg_new (act, MSG_TYPE_BLOB_GET, "release-keeper");
    msg_set_str (req, "blob", sha);
    msg_set_int (req, "offset", offset);
    msg_set_int (req, "length", length);
    s_pending_t *p = s_pending_add (self, req->id, K_SLUG, key, app, tries);
    p->offset = offset;
    p->length = length;
    act_send (act, &req);
}

int
sup_fetch_asked (const sup_fetch_t *self, const char *key)
{
    return s_pending_count (self, K_SLUG, key);
}

void
sup_fetch_forget (sup_fetch_t *self, const char *key)
{
    for (size_t i = 0; i < self->pending_count; )
        if (s_pending_is (&self->pending [i], K_SLUG, key))
            s_pending_drop (self, i);
        else
            i++;
}

// ---- the API ---------------------------------------------------------------

sup_fetch_status_t
sup_fetch_slug (sup_fetch_t *self, act_t *act, const char *app, const char *sha, int64_t size,
                uid_t uid, gid_t gid, const char **dir_p, char *why, size_t why_len)
{
    return sup_slugs_get (self->slugs, act, app, sha, size, uid, gid, dir_p, why, why_len);
}

static void
s_config_send (sup_fetch_t *self, act_t *act, const char *app, int64_t version, const char *key, int tries)
{
    msg_t *req = act_msg_new (act, MSG_TYPE_CONFIG_GET, "config-keeper");
    msg_set_str (req, "app", app);
    msg_set_int (req, "version", version);
    s_pending_add (self, req->id, K_CONFIG, key, app, tries)->version = version;
    act_send (act, &req);
}

sup_fetch_status_t
sup_fetch_config (sup_fetch_t *self, act_t *act, const char *app, int64_t version,
                  const json_t **vars_p, char *why, size_t why_len)
{
    if (version <= 0) {
        *vars_p = self->empty;
        return SUP_FETCH_READY;
    }
    char key [160];
    snprintf (key, sizeof key, "%s/%lld", app, (long long) version);
    json_t *vars = json_object_get (self->configs, key);
    if (vars) {
        *vars_p = vars;
        return SUP_FETCH_READY;
    }
    json_t *failed = json_object_get (self->config_failed, key);
    if (failed) {
        snprintf (why, why_len, "%s", json_string_value (json_object_get (failed, "why")));
        if (act_mono_ms () - json_integer_value (json_object_get (failed, "at")) >= SUP_FETCH_HOLD_MS)
            json_object_del (self->config_failed, key);
        return SUP_FETCH_FAILED;
    }
    if (!s_pending_count (self, K_CONFIG, key))
        s_config_send (self, act, app, version, key, 1);
    return SUP_FETCH_PENDING;
}

static void
s_config_fail (sup_fetch_t *self, const char *key, const char *why)
{
    act_log_warn ("config vars %s: %s", key, why);
    json_object_set_new (self->config_failed, key,
                         json_pack ("{s:s, s:I}", "why", why, "at", (json_int_t) act_mono_ms ()));
}

bool
sup_fetch_on_reply (sup_fetch_t *self, act_t *act, const msg_t *msg)
{
    size_t i;
    for (i = 0; i < self->pending_count; i++)
        if (strcmp (self->pending [i].id, msg->corr) == 0)
            break;
    if (i == self->pending_count)
        return false;
    s_pending_t p = s_pending_take (self, i);
    if (p.kind == K_CONFIG) {
        json_t *vars = json_object_get (msg->body, "vars");
        if (msg->type->id == MSG_TYPE_ERROR) {
            char why [SUP_FETCH_WHY_LEN];
            snprintf (why, sizeof why, "cannot get config vars: %s", msg_str (msg, "reason", "error"));
            s_config_fail (self, p.key, why);
        }
        else if (msg->type->id != MSG_TYPE_CONFIG_VARS || !json_is_object (vars)
             ||  msg_int (msg, "version", -1) != p.version)
            s_config_fail (self, p.key, "config-keeper answered config.get with other vars");
        else
            json_object_set (self->configs, p.key, vars);
    }
    else
        sup_slugs_on_answer (self->slugs, act, p.key, p.offset, p.length, msg);
    free (p.key);
    free (p.app);
    return true;
}

void
sup_fetch_tick (sup_fetch_t *self, act_t *act, int64_t mono)
{
    for (size_t i = 0; i < self->pending_count; ) {
        if (self->pending [i].deadline > mono) {
            i++;
            continue;
        }
        s_pending_t p = s_pending_take (self, i);
        if (p.kind == K_SLUG)
            sup_slugs_on_silence (self->slugs, act, p.key, p.offset, p.length, p.tries);
        else if (p.tries >= SUP_FETCH_TRIES)
            s_config_fail (self, p.key, "config-keeper does not answer config.get");
        else
            s_config_send (self, act, p.app, p.version, p.key, p.tries + 1);
        free (p.key);
        free (p.app);
        i = 0;                  // the table changed under us: start over
    }
    sup_slugs_tick (self->slugs, act);
}

int64_t
sup_fetch_deadline (const sup_fetch_t *self)
{
    int64_t next = sup_slugs_deadline (self->slugs);
    for (size_t i = 0; i < self->pending_count; i++)
        if (self->pending [i].deadline < next)
            next = self->pending [i].deadline;
    return next;
}

void
sup_fetch_prune (sup_fetch_t *self, act_t *act, const char *app, const json_t *slugs,
                 const json_t *versions)
{
    sup_slugs_prune (self->slugs, act, app, slugs);
    const char *key;
    json_t *vars, *tmp;
    size_t alen = strlen (app);
    json_object_foreach_safe (self->configs, tmp, key, vars) {
        if (strncmp (key, app, alen) == 0 && key [alen] == '/' && !json_object_get (versions, key + alen + 1))
            json_object_del (self->configs, key);
    }
}

void
sup_fetch_destroy (sup_fetch_t **self_p, act_t *act)
{
    sup_fetch_t *self = *self_p;
    if (!self)
        return;
    sup_slugs_destroy (&self->slugs, act);
    while (self->pending_count)
        s_pending_drop (self, 0);
    free (self->pending);
    json_decref (self->configs);
    json_decref (self->config_failed);
    json_decref (self->empty);
    free (self);
    *self_p = NULL;
}
