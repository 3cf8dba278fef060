//  builder - one build, run inside the `dynod build` process
//
//  See builder.h for the steps. This process is single-threaded and owns
//  its work folder, so it may fork, chdir and block as it likes; its stdout
//  (and stderr) is the pipe release-keeper reads, line-buffered so that our
//  lines and the buildpacks' (written to the same pipe) keep their order.
//  Run as root it is the trusted side: it extracts, reads the results of
//  the buildpack programs (which run as another user) and writes the slug;
//  as the pid 1 of the build's PID namespace it kills what those programs
//  left running before it reads BUILD_DIR for the slug.

#define _XOPEN_SOURCE 700           // nftw

#include "builder.h"
#include "archive.h"
#include "blobs.h"
#include "procfile.h"
#include "../common/act_base.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define BLD_WHY_MAX       512
#define BLD_RELEASE_MAX   (64 * 1024)  // bytes of bin/release output read
#define BLD_DETECT_MAX    256          // bytes of bin/detect output read
#define BLD_DIR_MODE      0755
#define BLD_PATH          "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define BLD_STACK         "dynod-1"
#define BLD_NFTW_FDS      32
#define BLD_CHOWN_DEPTH   512          // folder depth handed over, at most

typedef struct {
    const rel_builder_opts_t *opts;
    char *app_dir;                  // BUILD_DIR
    char *env_dir;                  // ENV_DIR: one file per config var
    char *tmp_dir;                  // TMPDIR of the buildpacks
    char **bp_dirs;                 // each buildpack's root folder
    char **envp;                    // environment of buildpack processes
    json_t *types;                  // process types found
    json_t *vars;                   // config vars (opts->config), or NULL
    char slug [REL_SHA_HEX + 1];
    int64_t slug_size;
    char why [BLD_WHY_MAX];
} bld_t;

static void s_say (const char *prefix, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
static int s_fail (bld_t *self, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

//  One output line: `-----> ` for a step, 7 spaces for a detail.
static void
s_say (const char *prefix, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    fputs (prefix, stdout);
    vprintf (fmt, ap);
    va_end (ap);
    putchar ('\n');
}
#define STEP(...)   s_say ("-----> ", __VA_ARGS__)
#define DETAIL(...) s_say ("       ", __VA_ARGS__)

//  Records why the build failed. Returns -1.
static int
s_fail (bld_t *self, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (self->why, sizeof self->why, fmt, ap);
    va_end (ap);
    return -1;
}

static void
s_human_size (int64_t bytes, char *out, size_t len)
{
    if (bytes < 1024 * 1024)
        snprintf (out, len, "%.1fK", (double) bytes / 1024.0);
    else
        snprintf (out, len, "%.1fM", (double) bytes / (1024.0 * 1024.0));
}

//  "web, worker": the names of `types`. Caller owns result.
static char *
s_type_list (const json_t *types)
{
    size_t len = 1;
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *) types, key, value)
        len += strlen (key) + 2;
    char *out = act_calloc (1, len);
    json_object_foreach ((json_t *) types, key, value) {
        if (out [0])
            strcat (out, ", ");
        strcat (out, key);
    }
    return out;
}

//  Prints `label -> names` when there are any.
static void
s_announce_types (const json_t *types, const char *label)
{
    if (json_object_size (types) == 0)
        return;
    char *list = s_type_list (types);
    DETAIL ("%s -> %s", label, list);
    free (list);
}

static int
s_check_slug_size (bld_t *self, int64_t size)
{
    if (size <= self->opts->slug_max)
        return 0;
    return s_fail (self, "slug is %lld MB, over the limit of %lld MB",
                   (long long) (size / (1024 * 1024)),
                   (long long) (self->opts->slug_max / (1024 * 1024)));
}

//  The built-in buildpack: check the archive, read its Procfile, and make
//  the source itself the slug.
static int
s_build_builtin (bld_t *self)
{
    const rel_builder_opts_t *opts = self->opts;
    STEP ("Building with the built-in buildpack");
    char *src = rel_blob_path (opts->store, opts->source);
    act_extract_opts_t eo = { .want = "Procfile", .want_max = REL_PROCFILE_MAX,
                              .max_bytes = opts->extract_max,
                              .max_entries = REL_ARCHIVE_ENTRIES_MAX };
    act_extract_t ex;
    char why [REL_ARCHIVE_WHY_MAX];
    int rc = act_archive_extract (src, &eo, &ex, why);
    free (src);
    if (rc)
        return s_fail (self, "%s", why);
    if (!ex.found)
        rc = s_fail (self, "no Procfile: the built-in buildpack needs one declaring the process "
                           "types (or set a buildpack with `dyno buildpacks:set`)");
    else if (ex.is_link)
        rc = s_fail (self, "Procfile is a symlink: the built-in buildpack reads a regular file");
    char pwhy [REL_PROCFILE_WHY_MAX];
    if (rc == 0) {
        STEP ("Discovering process types");
        json_t *declared = rel_procfile_parse (ex.data, ex.len, pwhy);
        if (!declared)
            rc = s_fail (self, "%s", pwhy);
        else if (json_object_size (declared) == 0)
            rc = s_fail (self, "Procfile declares no process types");
        else
            s_announce_types (declared, "Procfile declares types");
        if (declared)
            json_object_update (self->types, declared);
        json_decref (declared);
    }
    free (ex.data);
    if (rc)
        return rc;
    snprintf (self->slug, sizeof self->slug, "%s", opts->source);
    rel_blob_exists (opts->store, opts->source, &self->slug_size);
    if (s_check_slug_size (self, self->slug_size))
        return -1;
    char size [32];
    s_human_size (self->slug_size, size, sizeof size);
    STEP ("Compressing...");
    DETAIL ("Done: %s (the source archive is the slug)", size);
    return 0;
}

static int s_spawn (bld_t *self, const rel_builder_dirs_t *real, char *const argv [],
                    char **capture, size_t max);

//  The folders a buildpack program of buildpack `i` is given: the real
//  ones, or where the sandbox (opts->isolate) shows them.
static rel_builder_dirs_t
s_view (const bld_t *self, size_t i, bool real)
{
    if (real || !self->opts->isolate)
        return (rel_builder_dirs_t) { self->app_dir, self->opts->cache, self->env_dir,
                                      self->tmp_dir, self->bp_dirs [i] };
    return (rel_builder_dirs_t) { REL_SANDBOX_APP, REL_SANDBOX_CACHE, REL_SANDBOX_ENV,
                                  REL_SANDBOX_TMP, REL_SANDBOX_BUILDPACK };
}

//  Forks bin/NAME of buildpack `i` (`args`: BUILD_DIR and with `all`
//  CACHE_DIR and ENV_DIR) in BUILD_DIR with the build environment, through
//  opts->isolate. With `capture`, its stdout is read into *capture (caller
//  owns it; at most `max` bytes kept); else it goes to ours. Returns the
//  wait status, or -errno when it could not run.
static int
s_run (bld_t *self, size_t i, const char *name, bool all, char **capture, size_t max)
{
    rel_builder_dirs_t real = s_view (self, i, true), seen = s_view (self, i, false);
    char *prog = act_sprintf ("%s/bin/%s", real.buildpack, name);
    bool runnable = access (prog, X_OK) == 0;
    free (prog);
    if (!runnable)
        return -EACCES;
    prog = act_sprintf ("%s/bin/%s", seen.buildpack, name);
    char *argv [] = { prog, (char *) seen.app, all ? (char *) seen.cache : NULL,
                      (char *) seen.env, NULL };
    int status = s_spawn (self, &real, argv, capture, max);
    free (prog);
    return status;
}

//  s_run's fork and wait.
static int
s_spawn (bld_t *self, const rel_builder_dirs_t *real, char *const argv [], char **capture,
         size_t max)
{
    int fds [2] = { -1, -1 };
    if (capture && pipe (fds))
        return -errno;
    fflush (stdout);
    pid_t pid = fork ();
    if (pid < 0) {
        int rc = -errno;
        if (capture) {
            close (fds [0]);
            close (fds [1]);
        }
        return rc;
    }
    if (pid == 0) {
        //  Dies with the build runner (which dies with release-keeper).
        prctl (PR_SET_PDEATHSIG, SIGKILL);
        int null = open ("/dev/null", O_RDONLY);
        if (null >= 0 && null != STDIN_FILENO)
            dup2 (null, STDIN_FILENO);
        if (capture) {
            dup2 (fds [1], STDOUT_FILENO);
            close (fds [0]);
            close (fds [1]);
        }
        int rc = self->opts->isolate ? self->opts->isolate (self->opts, real) : 0;
        if (rc) {
            fprintf (stderr, "cannot isolate the build: %s\n", strerror (-rc));
            _exit (127);
        }
        if (chdir (argv [1]) == 0)
            execve (argv [0], argv, self->envp);
        fprintf (stderr, "cannot run %s: %s\n", argv [0], strerror (errno));
        _exit (127);
    }
    if (capture) {
        close (fds [1]);
        size_t len = 0;
        char *buf = act_malloc (max + 1);
        char sink [4096];
        for (;;) {
            ssize_t n = len < max ? read (fds [0], buf + len, max - len)
                                  : read (fds [0], sink, sizeof sink);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            if (len < max)
                len += (size_t) n;
        }
        buf [len] = 0;
        close (fds [0]);
        *capture = buf;
    }
    int status;
    while (waitpid (pid, &status, 0) < 0)
        if (errno != EINTR)
            return -errno;
    return status;
}

//  `bin/NAME exited with status N` / `... was killed by signal N`.
static void
s_status_text (int status, char *out, size_t len)
{
    if (status < 0)
        snprintf (out, len, "could not run: %s", strerror (-status));
    else if (WIFSIGNALED (status))
        snprintf (out, len, "was killed by signal %d", WTERMSIG (status));
    else
        snprintf (out, len, "exited with status %d", WEXITSTATUS (status));
}

//  The folder of an extracted buildpack holding bin/compile: the top, or
//  its only subfolder (an archive of the buildpack's folder itself).
static char *
s_buildpack_root (const char *dir)
{
    char *compile = act_sprintf ("%s/bin/compile", dir);
    bool here = access (compile, F_OK) == 0;
    free (compile);
    if (here)
        return act_strdup (dir);
    DIR *d = opendir (dir);
    char *found = NULL;
    int count = 0;
    struct dirent *e;
    while (d && (e = readdir (d)) != NULL) {
        if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
            continue;
        count++;
        free (found);
        found = act_sprintf ("%s/%s", dir, e->d_name);
    }
    if (d)
        closedir (d);
    if (count == 1) {
        compile = act_sprintf ("%s/bin/compile", found);
        here = access (compile, F_OK) == 0;
        free (compile);
        if (here)
            return found;
    }
    free (found);
    return NULL;
}

//  Gives `path` and everything under it to uid/gid, never following a
//  symlink (lchown; folders opened O_NOFOLLOW). Returns 0 or -errno.
static int
s_chown_tree (int at, const char *name, uid_t uid, gid_t gid, int depth)
{
    if (fchownat (at, name, uid, gid, AT_SYMLINK_NOFOLLOW) != 0)
        return -errno;
    struct stat st;
    if (fstatat (at, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return -errno;
    if (!S_ISDIR (st.st_mode))
        return 0;
    if (depth > BLD_CHOWN_DEPTH)
        return -ELOOP;
    int fd = openat (at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
    if (!d) {
        int rc = -errno;
        if (fd >= 0)
            close (fd);
        return rc;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir (d)) != NULL)
        if (strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0)
            rc = s_chown_tree (dirfd (d), e->d_name, uid, gid, depth + 1);
    closedir (d);
    return rc;
}

//  Gives BUILD_DIR, ENV_DIR, TMPDIR, CACHE_DIR and the buildpacks (whose
//  files may not be readable by others) to the build user.
static int
s_hand_over (bld_t *self)
{
    const rel_builder_opts_t *opts = self->opts;
    if (!opts->drop)
        return 0;
    const char *dirs [] = { self->app_dir, self->env_dir, self->tmp_dir, opts->cache };
    size_t n = sizeof dirs / sizeof dirs [0];
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n + opts->buildpack_count; i++) {
        //  Only the build user writes in a cache it was given once: a large
        //  one is not walked again on every build.
        struct stat st;
        if (i < n && dirs [i] == opts->cache && stat (opts->cache, &st) == 0
            && st.st_uid == opts->uid && st.st_gid == opts->gid)
            continue;
        char *dir = i < n ? act_strdup (dirs [i]) : act_sprintf ("%s/bp-%zu", opts->work, i - n);
        rc = s_chown_tree (AT_FDCWD, dir, opts->uid, opts->gid, 0);
        if (rc)
            s_fail (self, "cannot give '%s' to the build user: %s", dir, act_strerror (rc));
        free (dir);
    }
    return rc ? -1 : 0;
}

//  True when `key` can be a file name in ENV_DIR.
static bool
s_env_key_valid (const char *key)
{
    return *key && strlen (key) < NAME_MAX && !strchr (key, '/') && strcmp (key, ".") != 0
        && strcmp (key, "..") != 0;
}

//  Writes each config var as ENV_DIR/KEY holding its value (0600).
static int
s_write_env (bld_t *self)
{
    const char *key;
    json_t *value;
    json_object_foreach (self->vars, key, value) {
        if (!s_env_key_valid (key) || !json_is_string (value))
            continue;
        char *path = act_sprintf ("%s/%s", self->env_dir, key);
        int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        int rc = fd < 0 ? -errno : 0;
        const char *p = json_string_value (value);
        size_t left = json_string_length (value);
        while (rc == 0 && left) {
            ssize_t n = write (fd, p, left);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                rc = -errno;
            else {
                p += n;
                left -= (size_t) n;
            }
        }
        if (fd >= 0)
            close (fd);
        free (path);
        if (rc)
            return s_fail (self, "cannot write config var %s to ENV_DIR: %s", key,
                           act_strerror (rc));
    }
    return 0;
}

//  Extracts the source and every buildpack, and makes the folders.
static int
s_prepare (bld_t *self)
{
    const rel_builder_opts_t *opts = self->opts;
    self->app_dir = act_sprintf ("%s/app", opts->work);
    self->env_dir = act_sprintf ("%s/env", opts->work);
    self->tmp_dir = act_sprintf ("%s/tmp", opts->work);
    const char *dirs [] = { self->app_dir, self->env_dir, self->tmp_dir, opts->cache };
    for (size_t i = 0; i < sizeof dirs / sizeof dirs [0]; i++) {
        int rc = act_mkdir_p (dirs [i], BLD_DIR_MODE);
        if (rc)
            return s_fail (self, "cannot create '%s': %s", dirs [i], act_strerror (rc));
    }
    char why [REL_ARCHIVE_WHY_MAX];
    act_extract_t ex;
    act_extract_opts_t eo = { .dest = self->app_dir, .max_bytes = opts->extract_max,
                              .max_entries = REL_ARCHIVE_ENTRIES_MAX };
    char *src = rel_blob_path (opts->store, opts->source);
    int rc = act_archive_extract (src, &eo, &ex, why);
    free (src);
    if (rc)
        return s_fail (self, "%s", why);
    if (s_write_env (self))
        return -1;
    self->bp_dirs = act_calloc (opts->buildpack_count, sizeof *self->bp_dirs);
    for (size_t i = 0; i < opts->buildpack_count; i++) {
        const char *name = opts->buildpack_names [i];
        char *dir = act_sprintf ("%s/bp-%zu", opts->work, i);
        char *blob = rel_blob_path (opts->store, opts->buildpack_blobs [i]);
        eo.dest = dir;
        rc = act_mkdir_p (dir, BLD_DIR_MODE);
        if (rc == 0 && act_archive_extract (blob, &eo, &ex, why))
            rc = s_fail (self, "buildpack '%s': %s", name, why);
        else if (rc == 0 && !(self->bp_dirs [i] = s_buildpack_root (dir)))
            rc = s_fail (self, "buildpack '%s' has no bin/compile", name);
        else if (rc)
            rc = s_fail (self, "cannot create '%s': %s", dir, act_strerror (rc));
        free (blob);
        free (dir);
        if (rc)
            return rc;
    }
    return s_hand_over (self);
}

//  Runs bin/detect of buildpack `i`. Returns 0 when it passed.
static int
s_detect (bld_t *self, size_t i)
{
    const char *name = self->opts->buildpack_names [i];
    char *out = NULL;
    int status = s_run (self, i, "detect", false, &out, BLD_DETECT_MAX);
    if (status == -EACCES)
        status = -ENOENT;
    int rc = 0;
    if (status == 0) {
        size_t len = strcspn (out, "\r\n");
        char clean [BLD_DETECT_MAX + 1];
        rel_utf8_clean (out, len, clean);
        STEP ("%s app detected", clean [0] ? clean : name);
    }
    else {
        char text [96];
        s_status_text (status, text, sizeof text);
        if (self->opts->buildpack_count == 1)
            rc = s_fail (self, "buildpack '%s' cannot build this app: bin/detect %s", name, text);
        else
            DETAIL ("buildpack '%s': bin/detect %s; running it anyway (set explicitly)", name, text);
    }
    free (out);
    return rc;
}

//  Runs bin/compile, then bin/release (when there is one) of buildpack `i`.
static int
s_compile (bld_t *self, size_t i)
{
    const rel_builder_opts_t *opts = self->opts;
    const char *name = opts->buildpack_names [i];
    char who [160] = "";
    if (opts->buildpack_count > 1)
        snprintf (who, sizeof who, " of buildpack '%s'", name);
    int status = s_run (self, i, "compile", true, NULL, 0);
    char text [96];
    if (status != 0) {
        s_status_text (status, text, sizeof text);
        return s_fail (self, "build failed: bin/compile%s %s", who, text);
    }
    char *out = NULL;
    status = s_run (self, i, "release", false, &out, BLD_RELEASE_MAX);
    if (status == -EACCES)
        return 0;                   // no bin/release
    if (status != 0) {
        free (out);
        s_status_text (status, text, sizeof text);
        return s_fail (self, "build failed: bin/release%s %s", who, text);
    }
    json_t *defaults = rel_release_types_parse (out, strlen (out));
    json_object_update (self->types, defaults);
    json_decref (defaults);
    free (out);
    return 0;
}

//  Reads BUILD_DIR/Procfile (not through a symlink) into *text_p.
//  Returns 1 when there is none, 0 when read, -1 on error.
static int
s_read_procfile (bld_t *self, char **text_p, size_t *len_p)
{
    char *path = act_sprintf ("%s/Procfile", self->app_dir);
    int fd = open (path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    free (path);
    if (fd < 0 && errno == ENOENT)
        return 1;
    if (fd < 0)
        return s_fail (self, "cannot read the Procfile: %s", strerror (errno));
    char *text = act_malloc (REL_PROCFILE_MAX + 2);
    size_t len = 0;
    ssize_t n;
    while (len < REL_PROCFILE_MAX + 1
           && (n = read (fd, text + len, REL_PROCFILE_MAX + 1 - len)) > 0)
        len += (size_t) n;
    close (fd);
    text [len] = 0;
    *text_p = text;
    *len_p = len;
    return 0;
}

//  Merges the Procfile's types over the buildpacks' defaults.
static int
s_discover (bld_t *self)
{
    STEP ("Discovering process types");
    s_announce_types (self->types, "Default types for buildpack");
    char *text = NULL;
    size_t len = 0;
    int rc = s_read_procfile (self, &text, &len);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        char why [REL_PROCFILE_WHY_MAX];
        json_t *declared = rel_procfile_parse (text, len, why);
        free (text);
        if (!declared)
            return s_fail (self, "%s", why);
        s_announce_types (declared, "Procfile declares types");
        json_object_update (self->types, declared);
        json_decref (declared);
    }
    if (json_object_size (self->types) == 0)
        return s_fail (self, rc == 1 ? "no process types: add a Procfile, or use a buildpack "
                                       "whose bin/release declares default_process_types"
                                     : "Procfile declares no process types");
    return 0;
}

//  Writes BUILD_DIR as a .tar.gz into the blob store: the slug.
static int
s_compress (bld_t *self)
{
    STEP ("Compressing...");
    char *tmp;
    int fd = rel_blob_tmp_open (self->opts->store, &tmp);
    if (fd < 0)
        return s_fail (self, "cannot write the slug: %s", act_strerror (fd));
    char why [REL_ARCHIVE_WHY_MAX];
    int rc = rel_archive_write_dir (self->app_dir, fd, self->opts->slug_max, self->slug,
                                    &self->slug_size, why);
    if (rc)
        s_fail (self, "%s", why);
    else if ((rc = rel_blob_commit (self->opts->store, tmp, fd, self->slug)) != 0)
        s_fail (self, "cannot store the slug: %s", act_strerror (rc));
    close (fd);
    if (rc) {
        unlink (tmp);
        free (tmp);
        return -1;
    }
    free (tmp);
    char size [32];
    s_human_size (self->slug_size, size, sizeof size);
    DETAIL ("Done: %s", size);
    return 0;
}

//  As the pid 1 of the build's PID namespace: kills and reaps whatever
//  the buildpack programs left running, so that nothing changes BUILD_DIR
//  while it becomes the slug. Elsewhere release-keeper's group kill does
//  it after the build.
static void
s_kill_leftovers (void)
{
    if (getpid () != 1)
        return;
    kill (-1, SIGKILL);
    while (waitpid (-1, NULL, 0) > 0 || errno == EINTR)
        ;
}

static int
s_build_buildpacks (bld_t *self)
{
    const rel_builder_opts_t *opts = self->opts;
    if (opts->buildpack_count == 1)
        STEP ("Building with buildpack %s", opts->buildpack_names [0]);
    else {
        STEP ("Building with buildpacks:");
        for (size_t i = 0; i < opts->buildpack_count; i++)
            DETAIL ("%zu. %s", i + 1, opts->buildpack_names [i]);
    }
    if (s_prepare (self))
        return -1;
    for (size_t i = 0; i < opts->buildpack_count; i++)
        if (s_detect (self, i))
            return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < opts->buildpack_count; i++)
        rc = s_compile (self, i);
    s_kill_leftovers ();
    if (rc)
        return -1;
    return s_discover (self) || s_compress (self) ? -1 : 0;
}

//  Environment of buildpack programs: nothing inherited from dynod.
static char **
s_env_new (const rel_builder_opts_t *opts)
{
    char *app_dir = opts->isolate ? act_strdup (REL_SANDBOX_APP) : act_sprintf ("%s/app", opts->work);
    char *tmp_dir = opts->isolate ? act_strdup (REL_SANDBOX_TMP) : act_sprintf ("%s/tmp", opts->work);
    char **env = act_calloc (8, sizeof *env);
    size_t n = 0;
    env [n++] = act_strdup ("PATH=" BLD_PATH);
    env [n++] = act_sprintf ("HOME=%s", app_dir);
    env [n++] = act_strdup ("LANG=C.UTF-8");
    env [n++] = act_sprintf ("TMPDIR=%s", tmp_dir);
    env [n++] = act_strdup ("STACK=" BLD_STACK);
    if (opts->commit && *opts->commit)
        env [n++] = act_sprintf ("SOURCE_VERSION=%s", opts->commit);
    free (app_dir);
    free (tmp_dir);
    return env;
}

static int
s_unlock_dir (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) ftw;
    if (flag == FTW_D)
        chmod (path, (st->st_mode & 07777) | S_IRWXU);
    return 0;
}

static int
s_remove_one (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    remove (path);
    return 0;
}

//  Removes everything in the work folder but the result.
static void
s_clean_work (const char *work)
{
    DIR *d = opendir (work);
    struct dirent *e;
    while (d && (e = readdir (d)) != NULL) {
        if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0
            || strcmp (e->d_name, REL_BUILD_RESULT) == 0)
            continue;
        char *path = act_sprintf ("%s/%s", work, e->d_name);
        //  A buildpack may leave folders without write permission.
        nftw (path, s_unlock_dir, BLD_NFTW_FDS, FTW_PHYS);
        nftw (path, s_remove_one, BLD_NFTW_FDS, FTW_PHYS | FTW_DEPTH);
        free (path);
    }
    if (d)
        closedir (d);
}

//  Reads the config vars file and removes it.
static int
s_load_config (bld_t *self)
{
    const char *path = self->opts->config;
    if (!path)
        return 0;
    json_error_t error;
    self->vars = json_load_file (path, JSON_ALLOW_NUL, &error);
    unlink (path);
    if (!json_is_object (self->vars))
        return s_fail (self, "cannot read the config vars: %s", error.text);
    return 0;
}

static void
s_write_result (bld_t *self, int rc)
{
    const rel_builder_opts_t *opts = self->opts;
    json_t *result;
    if (rc == 0) {
        json_t *names = json_array ();
        for (size_t i = 0; i < opts->buildpack_count; i++)
            json_array_append_new (names, json_string (opts->buildpack_names [i]));
        if (opts->buildpack_count == 0)
            json_array_append_new (names, json_string ("built-in"));
        result = json_pack ("{s:{s:s, s:I, s:o}, s:O}", "slug", "blob", self->slug, "size",
                            (json_int_t) self->slug_size, "buildpacks", names, "process_types",
                            self->types);
    }
    else
        result = json_pack ("{s:s}", "error", self->why);
    char *path = act_sprintf ("%s/%s", opts->work, REL_BUILD_RESULT);
    char *text = json_dumps (result, JSON_COMPACT);
    int wrc = act_write_file (path, text, strlen (text), 0644);
    if (wrc)
        fprintf (stderr, "cannot write %s: %s\n", path, act_strerror (wrc));
    free (text);
    free (path);
    json_decref (result);
}

int
rel_builder_run (const rel_builder_opts_t *opts)
{
    setvbuf (stdout, NULL, _IOLBF, 0);
    umask (022);
    bld_t self = { .opts = opts, .types = json_object () };
    self.envp = s_env_new (opts);
    int rc = s_load_config (&self);
    if (rc == 0)
        rc = opts->buildpack_count ? s_build_buildpacks (&self) : s_build_builtin (&self);
    if (rc) {
        //  The cause may hold any bytes (a file name); the line must be
        //  text. It goes in the result only: release-keeper shows it once.
        char clean [BLD_WHY_MAX];
        rel_utf8_clean (self.why, strlen (self.why), clean);
        memcpy (self.why, clean, sizeof clean);
    }
    fflush (stdout);
    s_clean_work (opts->work);
    s_write_result (&self, rc);
    for (size_t i = 0; self.envp [i]; i++)
        free (self.envp [i]);
    free (self.envp);
    for (size_t i = 0; self.bp_dirs && i < opts->buildpack_count; i++)
        free (self.bp_dirs [i]);
    free (self.bp_dirs);
    free (self.app_dir);
    free (self.env_dir);
    free (self.tmp_dir);
    json_decref (self.types);
    json_decref (self.vars);
    return rc ? 1 : 0;
}
