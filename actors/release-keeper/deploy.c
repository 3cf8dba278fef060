//  deploy - release-keeper's uploads, builds, deploys and buildpacks
//
//  Accepts: upload.start, upload.chunk, upload.finish (streamed archives
//           into the blob store, blobs.h / upload.h), deploy.start (one
//           build, build.h), buildpacks.set (durable; the app's buildpacks).
//  Emits:   upload.ready, upload.progress, upload.done; deploy.output (one
//           per build output line, corr = the deploy.start); on a good
//           build a durable release.create to release-keeper itself
//           (releases.c answers the CLI with release.info through
//           reply_to / reply_corr); on a failed one an `error` to the CLI;
//           app.info answering buildpacks.set.
//  State:   struct rel_deploys: uploads and builds in flight, not durable
//           (they die with the process; blobs on disk stay). Only
//           buildpacks.set changes the durable state (apps[name].buildpacks).
//
//  Builds are side effects, never started while the runtime replays. Their
//  timing uses the monotonic clock: they are not journaled, so this does
//  not touch replay determinism.
//
//      build: RUNNING --output line--> RUNNING (deploy.output)
//             RUNNING --deadline-----> KILLED  (SIGKILL to the group)
//             RUNNING/KILLED --exited, reaped--> done: release.create or error

#include "rel_state.h"
#include "blobs.h"
#include "build.h"
#include "builder.h"
#include "upload.h"

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
#define DEP_BUILDPACKS_MAX    16
#define DEP_BUILDPACK_NAME_MAX 100
#define DEP_SHORT_SHA         7

typedef struct {
    char id [MSG_ID_LEN + 1];
    rel_upload_t *upload;           // owned
    int64_t last_ms;                // monotonic: last chunk or start
} dep_upload_t;

typedef struct {
    char id [MSG_ID_LEN + 1];       // names the work folder too
    msg_t *request;                 // owned copy of the deploy.start
    rel_build_t *proc;              // owned
    char *work;                     // owned
    int64_t started_ms;             // monotonic
    bool killed;                    // by the deadline
    bool watching;
} dep_build_t;

struct rel_deploys {
    char *store;                    // owned; NULL without a data directory
    char *builds_dir;               // owned
    char *cache_dir;                // owned
    int64_t timeout_ms;
    int64_t slug_max;               // bytes
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

rel_deploys_t *
rel_deploys_new (act_t *act)
{
    rel_deploys_t *self = act_calloc (1, sizeof *self);
    self->timeout_ms = s_env_int ("DYNOD_BUILD_TIMEOUT", DEP_BUILD_TIMEOUT_S) * 1000;
    self->slug_max = s_env_int ("DYNOD_SLUG_MAX_MB", DEP_SLUG_MAX_MB) * 1024 * 1024;
    const char *data = act_data_dir (act);
    if (data) {
        self->store = rel_blobs_dir (data);
        self->builds_dir = act_sprintf ("%s/release-keeper/builds", data);
        self->cache_dir = act_sprintf ("%s/release-keeper/cache", data);
        s_sweep (self, self->builds_dir);
        char *tmp = act_sprintf ("%s/tmp", self->store);
        s_sweep (self, tmp);
        free (tmp);
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
    act_rng_id (act_rng (act), entry->id);
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

//  The arguments of `dynod build` for `msg`. Caller frees each and the array.
static char **
s_build_args (rel_deploys_t *self, const msg_t *msg, const json_t *app, const char *work)
{
    const char *name = msg_str (msg, "app", "");
    const json_t *buildpacks = json_object_get (app, "buildpacks");
    char **args = act_calloc (16 + 2 * json_array_size (buildpacks), sizeof *args);
    size_t n = 0;
    args [n++] = act_sprintf ("--store=%s", self->store);
    args [n++] = act_sprintf ("--work=%s", work);
    args [n++] = act_sprintf ("--cache=%s/%s", self->cache_dir, name);
    args [n++] = act_sprintf ("--source=%s", msg_str (msg, "blob", ""));
    args [n++] = act_sprintf ("--slug-max=%lld", (long long) self->slug_max);
    if (msg_str (msg, "commit", NULL))
        args [n++] = act_sprintf ("--commit=%s", msg_str (msg, "commit", ""));
    size_t i;
    json_t *bp;
    json_array_foreach (buildpacks, i, bp)
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
    if (!rel_blob_exists (self->store, blob, NULL))
        return act_reply_error (act, msg, ACT_ENOTFOUND, "source '%.64s' is not uploaded", blob);
    const char *commit = msg_str (msg, "commit", NULL);
    if (commit && !s_commit_valid (commit))
        return act_reply_error (act, msg, -EINVAL, "commit '%.64s' is not a git sha (7-64 hex digits)",
                                commit);
    size_t i;
    json_t *bp;
    json_array_foreach (json_object_get (app, "buildpacks"), i, bp)
        if (!rel_blob_exists (self->store, json_string_value (json_object_get (bp, "blob")), NULL))
            return act_reply_error (act, msg, ACT_ENOTFOUND,
                                    "buildpack '%s' is not stored; set it again with "
                                    "dyno buildpacks:set", json_string_value (json_object_get (bp, "name")));
    if (s_building (self, name))
        return act_reply_error (act, msg, -EBUSY, "a build is already running for app '%s'", name);
    return 1;
}

static void s_on_output (void *state, act_t *act, int fd, void *arg);

int
rel_on_deploy_start (void *state, act_t *act, msg_t *msg)
{
    rel_state_t *rel = state;
    rel_deploys_t *self = rel->deploys;
    if (act_replaying (act))
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
    dep_build_t *build = act_calloc (1, sizeof *build);
    act_rng_id (act_rng (act), build->id);
    build->work = act_sprintf ("%s/%s", self->builds_dir, build->id);
    int rc = act_mkdir_p (build->work, 0755);
    char **args = s_build_args (self, msg, app, build->work);
    if (rc == 0)
        build->proc = rel_build_start ((const char *const *) args, build->work, &rc);
    for (size_t i = 0; args [i]; i++)
        free (args [i]);
    free (args);
    if (rc == 0)
        rc = act_watch_fd (act, rel_build_fd (build->proc), s_on_output, build);
    if (rc) {
        rmdir (build->work);
        s_build_free (&build);
        return act_reply_error (act, msg, rc, "cannot start the build: %s", act_strerror (rc));
    }
    build->watching = true;
    build->request = msg_dup (msg);
    build->started_ms = act_mono_ms ();
    *slot = build;
    act_log_info ("build %s for app '%s' started (pid %d)", build->id, msg_str (msg, "app", ""),
                  (int) rel_build_pid (build->proc));
    return 0;
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

static void
s_on_output (void *state, act_t *act, int fd, void *arg)
{
    (void) state;
    dep_build_t *build = arg;
    dep_line_ctx_t ctx = { act, build->request };
    if (rel_build_read (build->proc, s_send_line, &ctx)) {
        //  End of output; the tick reaps the process and ends the deploy.
        act_unwatch_fd (act, fd);
        build->watching = false;
    }
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

//  Ends a reaped build: its release, or the error to the CLI.
static void
s_build_done (rel_deploys_t *self, act_t *act, dep_build_t *build, int status)
{
    if (build->watching) {
        dep_line_ctx_t ctx = { act, build->request };
        rel_build_read (build->proc, s_send_line, &ctx);
        act_unwatch_fd (act, rel_build_fd (build->proc));
        build->watching = false;
    }
    char *path = act_sprintf ("%s/%s", build->work, REL_BUILD_RESULT);
    json_t *result = build->killed ? NULL : json_load_file (path, 0, NULL);
    unlink (path);
    free (path);
    if (rmdir (build->work) != 0)
        s_remove_later (self, build->work);
    const msg_t *req = build->request;
    const char *error = json_string_value (json_object_get (result, "error"));
    bool good = result && !error && json_is_object (json_object_get (result, "slug"));
    if (build->killed)
        act_reply_error (act, req, ACT_ETIMEDOUT, "build timed out after %lld s",
                         (long long) (self->timeout_ms / 1000));
    else if (error)
        act_reply_error (act, req, -EIO, "%s", error);
    else if (!good && WIFSIGNALED (status))
        act_reply_error (act, req, -EIO, "build failed: the build process was killed by signal %d",
                         WTERMSIG (status));
    else if (!good)
        act_reply_error (act, req, -EIO, "build failed: the build process exited with status %d "
                         "and no result", WEXITSTATUS (status));
    else
        s_release (act, build, result);
    act_log_info ("build %s for app '%s' %s after %lld ms", build->id, msg_str (req, "app", ""),
                  good ? "succeeded" : build->killed ? "timed out" : "failed",
                  (long long) (act_mono_ms () - build->started_ms));
    json_decref (result);
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
    for (size_t i = 0; i < DEP_BUILDS_MAX; i++) {
        dep_build_t *build = self->builds [i];
        if (!build)
            continue;
        if (!build->killed && now - build->started_ms > self->timeout_ms) {
            rel_build_kill (build->proc);
            build->killed = true;
        }
        int status;
        if (rel_build_reap (build->proc, &status)) {
            s_build_done (self, act, build, status);
            s_build_free (&self->builds [i]);
        }
    }
    for (size_t i = 0; i < DEP_CLEANERS_MAX; i++)
        if (self->cleaners [i] && waitpid (self->cleaners [i], NULL, WNOHANG) != 0)
            self->cleaners [i] = 0;
}

// ---- buildpacks -------------------------------------------------------------

//  Checks one {blob, name} of a buildpacks.set. Returns 0 or the reply.
static int
s_buildpack_check (rel_deploys_t *self, act_t *act, const msg_t *msg, const json_t *bp)
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
    //  Replays keep what was accepted: the store is not part of the state.
    if (self->store && !act_replaying (act) && !rel_blob_exists (self->store, blob, NULL))
        return act_reply_error (act, msg, ACT_ENOTFOUND, "buildpack '%s' is not uploaded", name);
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
        if (s_buildpack_check (rel->deploys, act, msg, bp)) {
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
