//  deploy - release-keeper's uploads, builds, deploys and buildpacks
//
//  Accepts: upload.start, upload.chunk, upload.finish (streamed archives
//           into the blob store, blobs.h / upload.h), deploy.start (one
//           build, build.h; a source or buildpack missing from the store
//           is fetched from the broker's vault first, vault.h),
//           buildpacks.set (durable; the app's buildpacks). Each blob
//           uploaded and each slug built is queued for the vault.
//  Emits:   upload.ready, upload.progress, upload.done; config.get to
//           config-keeper (act_request: the app's config vars, which the
//           build gets in ENV_DIR); deploy.output (one per build output
//           line, corr = the deploy.start, bounded per build: build.h); on
//           a good build a durable release.create to release-keeper itself
//           (releases.c answers the CLI with release.info through
//           reply_to / reply_corr); on a failed one an `error` to the CLI;
//           app.info answering buildpacks.set.
//  State:   struct rel_deploys: uploads and builds in flight, not durable
//           (they die with the process; blobs on disk stay), with their
//           own rng for upload and build ids (not the actor's, which is
//           part of its replayable state). Only buildpacks.set changes the
//           durable state (apps[name].buildpacks), and whether it is
//           accepted depends on the message alone.
//
//  Builds are side effects, never started while the runtime replays. Their
//  timing uses the monotonic clock: they are not journaled, so this does
//  not touch replay determinism.
//
//      build: ASKING  --config.vars----------> RUNNING (process started)
//             ASKING  --no answer in 5 s / error--> done: error
//             RUNNING --output line----------> RUNNING (deploy.output)
//             RUNNING --deadline-------------> RUNNING, killed (SIGKILL to the group)
//             RUNNING --exited, reaped-------> EXITED
//             EXITED  --group empty----------> done: result checked, then
//                                              release.create or error

#include "rel_state.h"
#include "archive.h"
#include "blobs.h"
#include "build.h"
#include "builder.h"
#include "upload.h"
#include "vault.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEP_CHUNK_MAX         (512 * 1024)   // bytes per upload.chunk (messages are <= 1 MiB)
#define DEP_WINDOW            8              // chunks a sender may have unanswered
#define DEP_UPLOAD_IDLE_MS    60000          // an upload with no chunk for this long expires
#define DEP_UPLOADS_MAX       32
#define DEP_BUILDS_MAX        8
#define DEP_CLEANERS_MAX      32
#define DEP_BUILD_TIMEOUT_S   900            // DYNOD_BUILD_TIMEOUT
#define DEP_SLUG_MAX_MB       500            // DYNOD_SLUG_MAX_MB
#define DEP_EXTRACT_FACTOR    4              // DYNOD_BUILD_MAX_MB default: 4 x the slug limit
#define DEP_CONFIG_TIMEOUT_MS 5000           // config-keeper's answer to config.get
#define DEP_GONE_WAIT_MS      5000           // for a build's group to empty after it exits
#define DEP_GONE_PREFIX       ".gone-"       // destroyed apps' caches, being removed
#define DEP_BUILDPACKS_MAX    16
#define DEP_BUILDPACK_NAME_MAX 100
#define DEP_SHORT_SHA         7

typedef struct {
    char id [MSG_ID_LEN + 1];
    rel_upload_t *upload;           // owned
    int64_t last_ms;                // monotonic: last chunk or start
} dep_upload_t;

typedef enum {
    DEP_ASKING,                     // config.get sent, no process yet
    DEP_RUNNING,
    DEP_EXITED,                     // reaped; waiting for its group to empty
} dep_state_t;

typedef struct {
    char id [MSG_ID_LEN + 1];       // names the work folder too
    dep_state_t state;
    msg_t *request;                 // owned copy of the deploy.start
    json_t *buildpacks;             // owned: the app's, when it was asked
    rel_build_t *proc;              // owned; NULL while ASKING
    char *work;                     // owned
    int64_t started_ms;             // monotonic
    int64_t exited_ms;              // monotonic, once EXITED
    int status;                     // waitpid's, once EXITED
    bool killed;                    // by the deadline
    bool watching;
} dep_build_t;

struct rel_deploys {
    char *data;                     // owned; NULL without a data directory
    char *store;                    // owned
    char *builds_dir;               // owned
    char *cache_dir;                // owned
    int64_t timeout_ms;
    int64_t slug_max;               // bytes
    int64_t extract_max;            // bytes a build's archives may expand to
    act_rng_t rng;                  // upload and build ids
    dep_upload_t *uploads [DEP_UPLOADS_MAX];
    dep_build_t *builds [DEP_BUILDS_MAX];
    pid_t cleaners [DEP_CLEANERS_MAX];  // `rm -rf` of folders left behind
};

//  A positive integer from the environment, or `dflt`.
static int64_t
s_env_int (const char *name, int64_t dflt)
{
    const char *text = getenv (name);
    if (!text || !*text)
        return dflt;
    char *end;
    long long v = strtoll (text, &end, 10);
    if (*end || v <= 0) {
        act_log_warn ("ignoring %s='%s': not a positive number", name, text);
        return dflt;
    }
    return v;
}

//  Removes `path` in the background with rm -rf (reaped in the tick), so
//  the actor's loop never waits for a large folder to go.
static void
s_remove_later (rel_deploys_t *self, const char *path)
{
    size_t slot = 0;
    while (slot < DEP_CLEANERS_MAX && self->cleaners [slot])
        slot++;
    if (slot == DEP_CLEANERS_MAX)
        return;                     // left for the next start's sweep
    char *argv [] = { "rm", "-rf", "--", (char *) path, NULL };
    pid_t pid = fork ();
    if (pid == 0) {
        if (syscall (SYS_close_range, 3u, ~0u, 0) != 0)
            for (int fd = 3; fd < 1024; fd++)
                close (fd);
        execv ("/bin/rm", argv);
        _exit (127);
    }
    if (pid > 0)
        self->cleaners [slot] = pid;
}

//  Moves what a previous run left (build folders, partial uploads) aside
//  and removes it in the background.
static void
s_sweep (rel_deploys_t *self, const char *dir)
{
    struct stat st;
    if (stat (dir, &st) != 0)
        return;
    //  Named from the pid and clock, not the actor's rng, which is part of
    //  its replayable state.
    char *aside = act_sprintf ("%s.old-%d-%lld", dir, (int) getpid (), (long long) act_mono_ms ());
    if (rename (dir, aside) == 0)
        s_remove_later (self, aside);
    free (aside);
}

//  Removes what destroyed apps left in the cache folder (DEP_GONE_PREFIX).
static void
s_sweep_caches (rel_deploys_t *self)
{
    DIR *d = opendir (self->cache_dir);
    struct dirent *e;
    while (d && (e = readdir (d)) != NULL)
        if (strncmp (e->d_name, DEP_GONE_PREFIX, strlen (DEP_GONE_PREFIX)) == 0) {
            char *path = act_sprintf ("%s/%s", self->cache_dir, e->d_name);
            s_remove_later (self, path);
            free (path);
        }
    if (d)
        closedir (d);
}

rel_deploys_t *
rel_deploys_new (act_t *act)
{
    rel_deploys_t *self = act_calloc (1, sizeof *self);
    act_rng_init (&self->rng, act_seed_from_os ());
    self->timeout_ms = s_env_int ("DYNOD_BUILD_TIMEOUT", DEP_BUILD_TIMEOUT_S) * 1000;
    int64_t slug_mb = s_env_int ("DYNOD_SLUG_MAX_MB", DEP_SLUG_MAX_MB);
    self->slug_max = slug_mb * 1024 * 1024;
    self->extract_max = s_env_int ("DYNOD_BUILD_MAX_MB", DEP_EXTRACT_FACTOR * slug_mb) * 1024 * 1024;
    const char *data = act_data_dir (act);
    if (data) {
        self->data = act_strdup (data);
        self->store = rel_blobs_dir (data);
        self->builds_dir = act_sprintf ("%s/release-keeper/builds", data);
        self->cache_dir = act_sprintf ("%s/release-keeper/cache", data);
        s_sweep (self, self->builds_dir);
        char *tmp = act_sprintf ("%s/tmp", self->store);
        s_sweep (self, tmp);
        free (tmp);
        s_sweep_caches (self);
    }
    return self;
}

static void
s_build_free (dep_build_t **build_p)
{
    dep_build_t *build = *build_p;
    if (!build)
        return;
    rel_build_destroy (&build->proc);
    msg_destroy (&build->request);
    json_decref (build->buildpacks);
    free (build->work);
    free (build);
    *build_p = NULL;
}

void
rel_deploys_destroy (rel_deploys_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    rel_deploys_t *self = *self_p;
    for (size_t i = 0; i < DEP_UPLOADS_MAX; i++)
        if (self->uploads [i]) {
            rel_upload_destroy (&self->uploads [i]->upload);
            free (self->uploads [i]);
        }
    for (size_t i = 0; i < DEP_BUILDS_MAX; i++)
        s_build_free (&self->builds [i]);
    free (self->data);
    free (self->store);
    free (self->builds_dir);
    free (self->cache_dir);
    free (self);
    *self_p = NULL;
}

// ---- uploads ----------------------------------------------------------------

static dep_upload_t **
s_upload_find (rel_deploys_t *self, const char *id)
{
    for (size_t i = 0; i < DEP_UPLOADS_MAX; i++)
        if (self->uploads [i] && strcmp (self->uploads [i]->id, id) == 0)
            return &self->uploads [i];
    return NULL;
}

static void
s_upload_drop (dep_upload_t **slot)
{
    rel_upload_destroy (&(*slot)->upload);
    free (*slot);
    *slot = NULL;
}

int
rel_on_upload_start (void *state, act_t *act, msg_t *msg)
{
    rel_state_t *rel = state;
    rel_deploys_t *self = rel->deploys;
    const char *app = msg_str (msg, "app", "");
    const char *purpose = msg_str (msg, "purpose", "");
    if (strcmp (purpose, "source") != 0 && strcmp (purpose, "buildpack") != 0)
        return act_reply_error (act, msg, -EINVAL,
                                "upload purpose '%s' is not 'source' or 'buildpack'", purpose);
    if (!rel_app (rel, app))
        return act_reply_error (act, msg, ACT_ENOTFOUND, "app '%s' does not exist", app);
    if (!self->store)
        return act_reply_error (act, msg, -ENOTSUP, "release-keeper runs without a data directory");
    dep_upload_t **slot = NULL;
    for (size_t i = 0; !slot && i < DEP_UPLOADS_MAX; i++)
        if (!self->uploads [i])
            slot = &self->uploads [i];
    if (!slot)
        return act_reply_error (act, msg, ACT_EFULL, "too many uploads at once (%d); try again",
                                DEP_UPLOADS_MAX);
    int rc;
    rel_upload_t *upload = rel_upload_new (self->store, self->slug_max, &rc);
    if (!upload)
        return act_reply_error (act, msg, rc, "cannot store uploads: %s", act_strerror (rc));
    dep_upload_t *entry = act_calloc (1, sizeof *entry);
    act_rng_id (&self->rng, entry->id);
    entry->upload = upload;
    entry->last_ms = act_mono_ms ();
    *slot = entry;
    msg_t *reply = act_msg_new (act, MSG_TYPE_UPLOAD_READY, NULL);
    msg_set_str (reply, "upload", entry->id);
    msg_set_int (reply, "chunk_max", DEP_CHUNK_MAX);
    msg_set_int (reply, "window", DEP_WINDOW);
    return act_reply (act, msg, &reply);
}

int
rel_on_upload_chunk (void *state, act_t *act, msg_t *msg)
{
    rel_deploys_t *self = ((rel_state_t *) state)->deploys;
    const char *id = msg_str (msg, "upload", "");
    dep_upload_t **slot = *id ? s_upload_find (self, id) : NULL;
    if (!slot)
        return act_reply_error (act, msg, ACT_ENOTFOUND, "unknown upload '%s' (expired?)", id);
    json_t *data = json_object_get (msg->body, "data");
    size_t len = json_string_length (data);
    if (len > DEP_CHUNK_MAX) {
        s_upload_drop (slot);
        return act_reply_error (act, msg, -EMSGSIZE, "upload chunk of %zu bytes is over %d",
                                len, DEP_CHUNK_MAX);
    }
    char why [REL_UPLOAD_WHY_MAX];
    int rc = rel_upload_append ((*slot)->upload, msg_int (msg, "offset", -1),
                                json_string_value (data), len, why);
    if (rc) {
        s_upload_drop (slot);
        return act_reply_error (act, msg, rc, "%s", why);
    }
    (*slot)->last_ms = act_mono_ms ();
    msg_t *reply = act_msg_new (act, MSG_TYPE_UPLOAD_PROGRESS, NULL);
    msg_set_str (reply, "upload", id);
    msg_set_int (reply, "received", rel_upload_received ((*slot)->upload));
    return act_reply (act, msg, &reply);
}

int
rel_on_upload_finish (void *state, act_t *act, msg_t *msg)
{
    rel_vault_t *vault = ((rel_state_t *) state)->vault;
    rel_deploys_t *self = ((rel_state_t *) state)->deploys;
    const char *id = msg_str (msg, "upload", "");
    dep_upload_t **slot = *id ? s_upload_find (self, id) : NULL;
    if (!slot)
        return act_reply_error (act, msg, ACT_ENOTFOUND, "unknown upload '%s' (expired?)", id);
    char blob [REL_SHA_HEX + 1], why [REL_UPLOAD_WHY_MAX];
    int64_t size = msg_int (msg, "size", -1);
    int rc = rel_upload_finish ((*slot)->upload, size, msg_str (msg, "sha256", ""), blob, why);
    s_upload_drop (slot);
    if (rc)
        return act_reply_error (act, msg, rc, "%s", why);
    rel_vault_copy (vault, blob);
    msg_t *reply = act_msg_new (act, MSG_TYPE_UPLOAD_DONE, NULL);
    msg_set_str (reply, "upload", id);
    msg_set_str (reply, "blob", blob);
    msg_set_int (reply, "size", size);
    return act_reply (act, msg, &reply);
}

// ---- builds -----------------------------------------------------------------

static bool
s_building (rel_deploys_t *self, const char *app)
{
    for (size_t i = 0; i < DEP_BUILDS_MAX; i++)
        if (self->builds [i] && strcmp (msg_str (self->builds [i]->request, "app", ""), app) == 0)
            return true;
    return false;
}

//  The slot holding `build`. Never NULL for a build in flight.
static dep_build_t **
s_build_slot (rel_deploys_t *self, const dep_build_t *build)
{
    for (size_t i = 0; i < DEP_BUILDS_MAX; i++)
        if (self->builds [i] == build)
            return &self->builds [i];
    return NULL;
}

//  The argv of `dynod build` for `build`. Caller frees each and the array.
static char **
s_build_args (rel_deploys_t *self, const dep_build_t *build, const char *config)
{
    const msg_t *msg = build->request;
    char **args = act_calloc (16 + json_array_size (build->buildpacks), sizeof *args);
    size_t n = 0;
    args [n++] = act_strdup ("dynod");
    args [n++] = act_strdup ("build");
    args [n++] = act_sprintf ("--store=%s", self->store);
    args [n++] = act_sprintf ("--work=%s", build->work);
    args [n++] = act_sprintf ("--cache=%s/%s", self->cache_dir, msg_str (msg, "app", ""));
    args [n++] = act_sprintf ("--source=%s", msg_str (msg, "blob", ""));
    args [n++] = act_sprintf ("--slug-max=%lld", (long long) self->slug_max);
    args [n++] = act_sprintf ("--extract-max=%lld", (long long) self->extract_max);
    args [n++] = act_sprintf ("--config=%s", config);
    args [n++] = act_sprintf ("--hide=%s", self->data);
    if (msg_str (msg, "commit", NULL))
        args [n++] = act_sprintf ("--commit=%s", msg_str (msg, "commit", ""));
    size_t i;
    json_t *bp;
    json_array_foreach (build->buildpacks, i, bp)
        args [n++] = act_sprintf ("--buildpack=%s:%s",
                                  json_string_value (json_object_get (bp, "blob")),
                                  json_string_value (json_object_get (bp, "name")));
    return args;
}

static bool
s_commit_valid (const char *commit)
{
    size_t len = strspn (commit, "0123456789abcdef");
    return commit [len] == 0 && len >= DEP_SHORT_SHA && len <= REL_SHA_HEX;
}

//  Checks a deploy.start. Returns 1 to go on, or the reply it answered
//  with (0, or act_reply_error's code).
static int
s_deploy_check (rel_state_t *rel, act_t *act, const msg_t *msg, json_t **app_p)
{
    rel_deploys_t *self = rel->deploys;
    const char *name = msg_str (msg, "app", "");
    const char *blob = msg_str (msg, "blob", "");
    json_t *app = *app_p = rel_app (rel, name);
    if (!app)
        return act_reply_error (act, msg, ACT_ENOTFOUND, "app '%s' does not exist", name);
    if (!self->store)
        return act_reply_error (act, msg, -ENOTSUP, "release-keeper runs without a data directory");
    if (!rel_blob_sha_valid (blob) || !rel_blob_exists (self->store, blob, NULL))
        return act_reply_error (act, msg, ACT_ENOTFOUND, "source '%.64s' is not uploaded", blob);
    const char *commit = msg_str (msg, "commit", NULL);
    if (commit && !s_commit_valid (commit))
        return act_reply_error (act, msg, -EINVAL, "commit '%.64s' is not a git sha (7-64 hex digits)",
                                commit);
    //  buildpacks.set accepted what its message said; the store is only
    //  looked at here, when a build needs the blobs.
    size_t i;
    json_t *bp;
    json_array_foreach (json_object_get (app, "buildpacks"), i, bp) {
        const char *sha = json_string_value (json_object_get (bp, "blob"));
        if (!rel_blob_exists (self->store, sha, NULL))
            return act_reply_error (act, msg, ACT_ENOTFOUND,
                                    "buildpack '%s' (%.*s) is not in the store; run dyno "
                                    "buildpacks:set again",
                                    json_string_value (json_object_get (bp, "name")),
                                    DEP_SHORT_SHA, sha);
    }
    if (s_building (self, name))
        return act_reply_error (act, msg, -EBUSY, "a build is already running for app '%s'", name);
    return 1;
}

static act_reply_fn s_on_config;
static void s_on_output (void *state, act_t *act, int fd, void *arg);

//  A source or buildpack this store lacks (release-keeper moved hosts) is
//  fetched from the broker's vault first; deploy.start is handled again
//  after. Returns true when it was parked.
static bool
s_fetch_first (rel_state_t *rel, const msg_t *msg)
{
    json_t *app = rel_app (rel, msg_str (msg, "app", ""));
    json_t *shas = json_pack ("[s]", msg_str (msg, "blob", ""));
    size_t i;
    json_t *bp;
    json_array_foreach (json_object_get (app, "buildpacks"), i, bp)
        json_array_append (shas, json_object_get (bp, "blob"));
    bool parked = rel_vault_need (rel->vault, shas, msg, rel_on_deploy_start);
    json_decref (shas);
    return parked;
}

int
rel_on_deploy_start (void *state, act_t *act, msg_t *msg)
{
    rel_state_t *rel = state;
    rel_deploys_t *self = rel->deploys;
    if (act_replaying (act))
        return 0;
    if (s_fetch_first (rel, msg))
        return 0;
    json_t *app;
    if (s_deploy_check (rel, act, msg, &app) != 1)
        return 0;
    dep_build_t **slot = NULL;
    for (size_t i = 0; !slot && i < DEP_BUILDS_MAX; i++)
        if (!self->builds [i])
            slot = &self->builds [i];
    if (!slot)
        return act_reply_error (act, msg, ACT_EFULL, "too many builds at once (%d); try again",
                                DEP_BUILDS_MAX);
    //  The build needs the app's config vars first (for ENV_DIR).
    msg_t *ask = act_msg_new (act, MSG_TYPE_CONFIG_GET, "config-keeper");
    msg_set_str (ask, "app", msg_str (msg, "app", ""));
    dep_build_t *build = act_calloc (1, sizeof *build);
    int rc = act_request (act, &ask, DEP_CONFIG_TIMEOUT_MS, s_on_config, build);
    if (rc) {
        free (build);
        return act_reply_error (act, msg, rc, "cannot ask config-keeper for the config vars: %s",
                                act_strerror (rc));
    }
    act_rng_id (&self->rng, build->id);
    build->state = DEP_ASKING;
    build->request = msg_dup (msg);
    build->buildpacks = json_deep_copy (json_object_get (app, "buildpacks"));
    build->work = act_sprintf ("%s/%s", self->builds_dir, build->id);
    *slot = build;
    return 0;
}

//  Starts the process of an ASKING build, its config vars in `vars`.
//  Returns 0 or a negative code (the build's folder is removed then).
static int
s_build_run (rel_deploys_t *self, act_t *act, dep_build_t *build, const json_t *vars)
{
    char *config = act_sprintf ("%s/%s", build->work, REL_BUILD_CONFIG);
    int rc = act_mkdir_p (build->work, 0755);
    if (rc == 0) {
        //  Root-only: the builder turns it into ENV_DIR files and removes it.
        char *text = json_dumps (vars, JSON_COMPACT | JSON_ENCODE_ANY);
        rc = text ? act_write_file (config, text, strlen (text), 0600) : -EINVAL;
        free (text);
    }
    char **args = s_build_args (self, build, config);
    if (rc == 0)
        build->proc = rel_build_start (REL_BUILD_EXE, (const char *const *) args, build->work, &rc);
    for (size_t i = 0; args [i]; i++)
        free (args [i]);
    free (args);
    if (rc == 0)
        rc = act_watch_fd (act, rel_build_fd (build->proc), s_on_output, build);
    if (rc) {
        rel_build_destroy (&build->proc);
        unlink (config);
        rmdir (build->work);
    }
    free (config);
    return rc;
}

//  config-keeper's answer to a build's config.get (or its timeout).
static void
s_on_config (void *state, act_t *act, const msg_t *reply, int rc, void *arg)
{
    rel_deploys_t *self = ((rel_state_t *) state)->deploys;
    dep_build_t *build = arg;
    dep_build_t **slot = s_build_slot (self, build);
    assert (slot && build->state == DEP_ASKING);
    const msg_t *req = build->request;
    const char *app = msg_str (req, "app", "");
    //  An app config-keeper does not know yet (its app.created is on the
    //  way) can have no vars set: an empty ENV_DIR is right.
    json_t *vars = rc == 0 ? json_object_get (reply->body, "vars") : NULL;
    json_t *none = json_object ();
    if (rc == ACT_ETIMEDOUT)
        act_reply_error (act, req, rc, "config-keeper did not answer within %d s; the build needs "
                         "the app's config vars", DEP_CONFIG_TIMEOUT_MS / 1000);
    else if (rc && rc != ACT_ENOTFOUND)
        act_reply_error (act, req, rc, "cannot get the config vars of app '%s': %s", app,
                         reply ? msg_str (reply, "reason", act_strerror (rc)) : act_strerror (rc));
    else if (rc == 0 && !json_is_object (vars))
        act_reply_error (act, req, -EPROTO, "config-keeper sent no config vars for app '%s'", app);
    else if ((rc = s_build_run (self, act, build, vars ? vars : none)) != 0)
        act_reply_error (act, req, rc, "cannot start the build: %s", act_strerror (rc));
    else {
        build->state = DEP_RUNNING;
        build->watching = true;
        build->started_ms = act_mono_ms ();
        act_log_info ("build %s for app '%s' started (pid %d)", build->id, app,
                      (int) rel_build_pid (build->proc));
    }
    json_decref (none);
    if (build->state == DEP_ASKING)
        s_build_free (slot);
}

typedef struct {
    act_t *act;
    const msg_t *request;
} dep_line_ctx_t;

static void
s_send_line (void *arg, const char *line)
{
    dep_line_ctx_t *ctx = arg;
    msg_t *out = act_msg_new (ctx->act, MSG_TYPE_DEPLOY_OUTPUT, ctx->request->from);
    msg_set_corr (out, ctx->request->id);
    msg_set_str (out, "line", line);
    act_send (ctx->act, &out);
}

//  Reads what the build wrote (bounded, build.h); stops watching at the
//  end of its output or when the pipe fails.
static void
s_read_output (act_t *act, dep_build_t *build)
{
    dep_line_ctx_t ctx = { act, build->request };
    int rc = rel_build_read (build->proc, s_send_line, &ctx);
    if (rc == 0)
        return;
    if (rc < 0)
        act_log_warn ("cannot read the output of build %s: %s", build->id, act_strerror (rc));
    act_unwatch_fd (act, rel_build_fd (build->proc));
    build->watching = false;
}

static void
s_on_output (void *state, act_t *act, int fd, void *arg)
{
    (void) state;
    (void) fd;
    s_read_output (act, arg);
}

//  The release.create that makes a good build's release, to ourselves.
static void
s_release (act_t *act, const dep_build_t *build, json_t *result)
{
    const msg_t *req = build->request;
    const char *commit = msg_str (req, "commit", NULL);
    const char *from = commit && *commit ? commit : msg_str (req, "blob", "");
    char *description = msg_str (req, "description", NULL)
                      ? act_strdup (msg_str (req, "description", ""))
                      : act_sprintf ("Deploy %.*s", DEP_SHORT_SHA, from);
    msg_t *create = act_msg_follow (act, MSG_TYPE_RELEASE_CREATE, "release-keeper", req);
    create->durable = true;
    msg_set_str (create, "app", msg_str (req, "app", ""));
    msg_set_str (create, "kind", "deploy");
    msg_set_str (create, "description", description);
    msg_set_str (create, "by", msg_str (req, "by", ""));
    msg_set_json (create, "slug", json_incref (json_object_get (result, "slug")));
    msg_set_json (create, "process_types", json_incref (json_object_get (result, "process_types")));
    if (commit && *commit)
        msg_set_str (create, "commit", commit);
    msg_set_str (create, "reply_to", req->from);
    msg_set_str (create, "reply_corr", req->id);
    int rc = act_send (act, &create);
    if (rc)
        act_reply_error (act, req, rc, "cannot create the release: %s", act_strerror (rc));
    free (description);
}

//  Ends a build whose process group is gone (or would not go): its
//  release, or the error to the CLI. The reason of a failed build is not
//  in its output: the error carries it, once.
static void
s_build_done (rel_deploys_t *self, rel_vault_t *vault, act_t *act, dep_build_t *build, bool gone)
{
    int status = build->status;
    char *path = act_sprintf ("%s/%s", build->work, REL_BUILD_RESULT);
    //  Only read once nothing the build started can write it any more.
    json_t *result = build->killed || !gone ? NULL : json_load_file (path, 0, NULL);
    unlink (path);
    free (path);
    if (rmdir (build->work) != 0)
        s_remove_later (self, build->work);
    const msg_t *req = build->request;
    const char *error = json_string_value (json_object_get (result, "error"));
    char why [REL_ARCHIVE_WHY_MAX] = "";
    bool good = result && !error
             && rel_build_result_check (result, self->store, self->slug_max, why, sizeof why) == 0;
    if (build->killed)
        act_reply_error (act, req, ACT_ETIMEDOUT, "build timed out after %lld s",
                         (long long) (self->timeout_ms / 1000));
    else if (!gone)
        act_reply_error (act, req, -EIO, "build failed: its processes did not exit within %d s",
                         DEP_GONE_WAIT_MS / 1000);
    else if (error)
        act_reply_error (act, req, -EIO, "%s", error);
    else if (result && !good)
        act_reply_error (act, req, -EIO, "build failed: %s", why);
    else if (!good && WIFSIGNALED (status))
        act_reply_error (act, req, -EIO, "build failed: the build process was killed by signal %d",
                         WTERMSIG (status));
    else if (!good)
        act_reply_error (act, req, -EIO, "build failed: the build process exited with status %d "
                         "and no result", WEXITSTATUS (status));
    else {
        rel_vault_copy (vault, json_string_value (json_object_get (json_object_get (result, "slug"),
                                                                    "blob")));
        s_release (act, build, result);
    }
    act_log_info ("build %s for app '%s' %s after %lld ms", build->id, msg_str (req, "app", ""),
                  good ? "succeeded" : build->killed ? "timed out" : "failed",
                  (long long) (act_mono_ms () - build->started_ms));
    json_decref (result);
}

//  One build's turn of the tick. Returns true when it is over.
static bool
s_build_tick (rel_deploys_t *self, rel_vault_t *vault, act_t *act, dep_build_t *build, int64_t now)
{
    if (build->state == DEP_ASKING)
        return false;               // s_on_config moves it on
    if (build->state == DEP_RUNNING) {
        if (!build->killed && now - build->started_ms > self->timeout_ms) {
            rel_build_kill (build->proc);
            build->killed = true;
        }
        if (!rel_build_reap (build->proc, &build->status))
            return false;
        //  What is left in the pipe, at the same bounded cost per tick.
        if (build->watching)
            s_read_output (act, build);
        if (build->watching)
            return false;
        build->state = DEP_EXITED;
        build->exited_ms = now;
    }
    bool gone = rel_build_gone (build->proc);
    if (!gone && now - build->exited_ms < DEP_GONE_WAIT_MS)
        return false;
    s_build_done (self, vault, act, build, gone);
    return true;
}

void
rel_deploys_tick (rel_state_t *state, act_t *act)
{
    rel_deploys_t *self = state->deploys;
    int64_t now = act_mono_ms ();
    for (size_t i = 0; i < DEP_UPLOADS_MAX; i++)
        if (self->uploads [i] && now - self->uploads [i]->last_ms > DEP_UPLOAD_IDLE_MS) {
            act_log_info ("upload %s expired", self->uploads [i]->id);
            s_upload_drop (&self->uploads [i]);
        }
    for (size_t i = 0; i < DEP_BUILDS_MAX; i++)
        if (self->builds [i] && s_build_tick (self, state->vault, act, self->builds [i], now))
            s_build_free (&self->builds [i]);
    for (size_t i = 0; i < DEP_CLEANERS_MAX; i++)
        if (self->cleaners [i] && waitpid (self->cleaners [i], NULL, WNOHANG) != 0)
            self->cleaners [i] = 0;
}

void
rel_deploys_forget_app (rel_state_t *state, act_t *act, const char *app)
{
    rel_deploys_t *self = state->deploys;
    if (act_replaying (act) || !self->cache_dir || !*app || strchr (app, '/') || app [0] == '.')
        return;
    char *cache = act_sprintf ("%s/%s", self->cache_dir, app);
    //  Renamed first, so that a new app of the same name starts empty even
    //  while the old cache is still being removed.
    char *aside = act_sprintf ("%s/" DEP_GONE_PREFIX "%s-%d-%lld", self->cache_dir, app,
                               (int) getpid (), (long long) act_mono_ms ());
    if (rename (cache, aside) == 0)
        s_remove_later (self, aside);
    else if (errno != ENOENT)
        act_log_warn ("cannot remove the build cache of app '%s': %s", app, strerror (errno));
    free (aside);
    free (cache);
}

// ---- buildpacks -------------------------------------------------------------

//  Checks one {blob, name} of a buildpacks.set. Returns 0 or the reply.
//  The message alone decides (a replay accepts exactly what was accepted
//  live); whether the blobs are stored is checked when a build starts.
static int
s_buildpack_check (act_t *act, const msg_t *msg, const json_t *bp)
{
    const char *blob = json_string_value (json_object_get (bp, "blob"));
    const char *name = json_string_value (json_object_get (bp, "name"));
    if (!name || !*name || strlen (name) > DEP_BUILDPACK_NAME_MAX)
        return act_reply_error (act, msg, -EINVAL, "a buildpack needs a name of 1-%d bytes",
                                DEP_BUILDPACK_NAME_MAX);
    for (const char *p = name; *p; p++)
        if ((unsigned char) *p < 0x20 || *p == 0x7f)
            return act_reply_error (act, msg, -EINVAL, "buildpack name holds a control character");
    if (!rel_blob_sha_valid (blob))
        return act_reply_error (act, msg, -EINVAL, "buildpack '%s': blob is not a sha256", name);
    return 0;
}

int
rel_on_buildpacks_set (void *state, act_t *act, msg_t *msg)
{
    rel_state_t *rel = state;
    const char *name = msg_str (msg, "app", "");
    json_t *app = rel_app (rel, name);
    if (!app)
        return act_reply_error (act, msg, ACT_ENOTFOUND, "app '%s' does not exist", name);
    json_t *list = json_object_get (msg->body, "buildpacks");
    if (json_array_size (list) > DEP_BUILDPACKS_MAX)
        return act_reply_error (act, msg, -EINVAL, "at most %d buildpacks", DEP_BUILDPACKS_MAX);
    json_t *clean = json_array ();
    size_t i;
    json_t *bp;
    json_array_foreach (list, i, bp) {
        if (s_buildpack_check (act, msg, bp)) {
            json_decref (clean);
            return 0;
        }
        json_array_append_new (clean, json_pack ("{s:O, s:O}", "blob", json_object_get (bp, "blob"),
                                                 "name", json_object_get (bp, "name")));
    }
    const char *by = msg_str (msg, "by", "");
    json_object_set_new (app, "buildpacks", clean);
    act_emit_log (act, name, "api", "%s buildpacks by %s", json_array_size (clean) ? "Set" : "Clear",
                  *by ? by : "unknown");
    return rel_reply_app_info (act, msg, name, app);
}
