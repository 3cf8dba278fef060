//  build - release-keeper's side of one build process
//
//  See build.h. Everything the child needs after fork (argv, envp, the
//  /dev/null fd) is prepared before fork, because between fork and exec
//  the child may only make async-signal-safe calls.

#include "build.h"
#include "blobs.h"
#include "procfile.h"
#include "../common/act_base.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define BUILD_ARGS_MAX   64
#define BUILD_READ_BLOCK 16384      // bytes per read()
#define BUILD_PROC_PATH_MAX (NAME_MAX + 16)
#define BUILD_PROC_STAT_MAX 512     // bytes of /proc/PID/stat read (pgrp is early)
#define BUILD_FD_SCAN    4096       // fds closed one by one without close_range
#define BUILD_PATH       "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

//  Passed through to `dynod build` itself (sanitizer builds report to
//  files, logs keep their level); buildpacks get none of them.
static const char *const s_pass_env [] = {
    "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "DYNOD_LOG_LEVEL", NULL,
};

struct rel_build {
    pid_t pid;                      // also the process group id
    int fd;                         // read end of the output pipe; -1 closed
    bool reaped;
    char line [REL_BUILD_LINE_MAX + 1];
    size_t line_len;
    int64_t shown_bytes;            // output handed over so far
    int64_t shown_lines;
    bool truncated;                 // over a cap: the rest is dropped
};

//  In the forked child: never returns. Only the child makes itself a
//  session (and group) leader: were the parent to call setpgid too, it
//  could run first and make setsid fail (a group leader cannot start a
//  session). rel_build_kill reaches the child by pid until then.
static void
s_child (const char *exe, char **argv, char **envp, const char *cwd, int out, int null, pid_t parent)
{
    if (setsid () < 0)
        _exit (127);
    prctl (PR_SET_PDEATHSIG, SIGKILL);
    if (getppid () != parent)
        _exit (127);
    sigset_t none;
    sigemptyset (&none);
    sigprocmask (SIG_SETMASK, &none, NULL);
    //  Ignored signals stay ignored across exec: undo the runtime's.
    int sigs [] = { SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs [0]; i++)
        signal (sigs [i], SIG_DFL);
    if (dup2 (null, STDIN_FILENO) < 0 || dup2 (out, STDOUT_FILENO) < 0
        || dup2 (out, STDERR_FILENO) < 0)
        _exit (127);
    if (syscall (SYS_close_range, 3u, ~0u, 0) != 0)
        for (int fd = 3; fd < BUILD_FD_SCAN; fd++)
            close (fd);
    if (chdir (cwd) != 0)
        _exit (127);
    execve (exe, argv, envp);
    _exit (127);
}

//  The environment of `dynod build`. Caller owns result (NULL-terminated).
static char **
s_env_new (void)
{
    size_t n = 0, cap = sizeof s_pass_env / sizeof s_pass_env [0] + 3;
    char **env = act_calloc (cap, sizeof *env);
    env [n++] = act_strdup ("PATH=" BUILD_PATH);
    env [n++] = act_strdup ("LANG=C.UTF-8");
    for (size_t i = 0; s_pass_env [i]; i++)
        if (getenv (s_pass_env [i]))
            env [n++] = act_sprintf ("%s=%s", s_pass_env [i], getenv (s_pass_env [i]));
    return env;
}

static void
s_strv_free (char **v)
{
    for (size_t i = 0; v && v [i]; i++)
        free (v [i]);
    free (v);
}

rel_build_t *
rel_build_start (const char *exe, const char *const *args, const char *cwd, int *rc)
{
    char **argv = act_calloc (BUILD_ARGS_MAX + 1, sizeof *argv);
    for (size_t n = 0; args [n] && n < BUILD_ARGS_MAX; n++)
        argv [n] = act_strdup (args [n]);
    char **envp = s_env_new ();
    char *path = act_strdup (exe);
    char *dir = act_strdup (cwd);
    int fds [2] = { -1, -1 };
    int null = open ("/dev/null", O_RDONLY | O_CLOEXEC);
    pid_t pid = -1;
    *rc = 0;
    if (null < 0 || pipe (fds) != 0)
        *rc = -errno;
    else {
        fcntl (fds [0], F_SETFD, FD_CLOEXEC);
        fcntl (fds [1], F_SETFD, FD_CLOEXEC);
        pid_t parent = getpid ();
        pid = fork ();
        if (pid == 0)
            s_child (path, argv, envp, dir, fds [1], null, parent);
        if (pid < 0)
            *rc = -errno;
    }
    if (null >= 0)
        close (null);
    if (fds [1] >= 0)
        close (fds [1]);
    s_strv_free (argv);
    s_strv_free (envp);
    free (path);
    free (dir);
    if (*rc) {
        if (fds [0] >= 0)
            close (fds [0]);
        return NULL;
    }
    fcntl (fds [0], F_SETFL, fcntl (fds [0], F_GETFL) | O_NONBLOCK);
    rel_build_t *self = act_calloc (1, sizeof *self);
    self->pid = pid;
    self->fd = fds [0];
    return self;
}

void
rel_build_destroy (rel_build_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    rel_build_t *self = *self_p;
    if (!self->reaped) {
        rel_build_kill (self);
        int status;
        while (waitpid (self->pid, &status, 0) < 0 && errno == EINTR)
            ;
    }
    if (self->fd >= 0)
        close (self->fd);
    free (self);
    *self_p = NULL;
}

int rel_build_fd (const rel_build_t *self) { return self->fd; }
pid_t rel_build_pid (const rel_build_t *self) { return self->pid; }

//  Hands the line collected so far to `fn`, as valid UTF-8 without `\r`,
//  unless the build's output is over its caps.
static void
s_emit (rel_build_t *self, rel_build_line_fn *fn, void *arg)
{
    size_t len = self->line_len;
    self->line_len = 0;
    if (self->truncated)
        return;
    if (self->shown_lines >= REL_BUILD_LINES_MAX
        || self->shown_bytes + (int64_t) len > REL_BUILD_OUTPUT_MAX) {
        self->truncated = true;
        fn (arg, REL_BUILD_TRUNCATED);
        return;
    }
    self->shown_lines++;
    self->shown_bytes += (int64_t) len + 1;
    if (len && self->line [len - 1] == '\r')
        len--;
    char clean [REL_BUILD_LINE_MAX + 1];
    rel_utf8_clean (self->line, len, clean);
    fn (arg, clean);
}

int
rel_build_read (rel_build_t *self, rel_build_line_fn *fn, void *arg)
{
    char buf [BUILD_READ_BLOCK];
    size_t total = 0;
    int64_t lines_before = self->shown_lines;
    //  Bounded: the actor's loop (heartbeats, the tick's timeout) runs
    //  between calls; the pipe stays readable while data is left in it.
    while (total < REL_BUILD_READ_MAX && self->shown_lines - lines_before < REL_BUILD_CALL_LINES) {
        ssize_t n = read (self->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n < 0)
            return -errno;
        if (n == 0) {
            if (self->line_len)
                s_emit (self, fn, arg);
            return 1;
        }
        total += (size_t) n;
        if (self->truncated)
            continue;               // drained and dropped
        for (ssize_t i = 0; i < n; i++) {
            if (buf [i] == '\n') {
                s_emit (self, fn, arg);
                continue;
            }
            self->line [self->line_len++] = buf [i];
            if (self->line_len == REL_BUILD_LINE_MAX)
                s_emit (self, fn, arg);
        }
    }
    return 0;
}

void
rel_build_kill (rel_build_t *self)
{
    if (self->reaped)
        return;
    kill (-self->pid, SIGKILL);
    //  Right after fork the child may not lead its group yet.
    kill (self->pid, SIGKILL);
}

bool
rel_build_reap (rel_build_t *self, int *status)
{
    if (self->reaped)
        return true;
    siginfo_t info;
    memset (&info, 0, sizeof info);
    //  Look without reaping: until it is reaped its pid cannot be reused,
    //  so the group kill below cannot reach a stranger.
    if (waitid (P_PID, (id_t) self->pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0
        || info.si_pid == 0)
        return false;
    kill (-self->pid, SIGKILL);
    while (waitpid (self->pid, status, 0) < 0)
        if (errno != EINTR) {
            *status = 0;
            break;
        }
    self->reaped = true;
    return true;
}

//  True when a process of group `pgid` is still alive (not a zombie).
//  Dead members are reaped by init, which may take its time; they count
//  as gone, as they can change nothing any more.
static bool
s_group_alive (pid_t pgid)
{
    DIR *d = opendir ("/proc");
    if (!d)
        return true;                // cannot tell: assume the worst
    bool alive = false;
    struct dirent *e;
    while (!alive && (e = readdir (d)) != NULL) {
        if (e->d_name [0] < '1' || e->d_name [0] > '9')
            continue;
        char path [BUILD_PROC_PATH_MAX], stat [BUILD_PROC_STAT_MAX];
        snprintf (path, sizeof path, "/proc/%s/stat", e->d_name);
        int fd = open (path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read (fd, stat, sizeof stat - 1) : -1;
        if (fd >= 0)
            close (fd);
        if (n <= 0)
            continue;               // gone meanwhile
        stat [n] = 0;
        //  "pid (comm) state ppid pgrp ...": comm may hold anything.
        char *close_paren = strrchr (stat, ')');
        char state;
        int ppid, pgrp;
        if (close_paren && sscanf (close_paren + 1, " %c %d %d", &state, &ppid, &pgrp) == 3
            && pgrp == (int) pgid && state != 'Z' && state != 'X')
            alive = true;
    }
    closedir (d);
    return alive;
}

bool
rel_build_gone (rel_build_t *self)
{
    if (kill (-self->pid, SIGKILL) != 0 && errno == ESRCH)
        return true;
    return !s_group_alive (self->pid);
}

//  Checks result.slug: a stored blob of the size said, within the limit.
static int
s_check_slug (const json_t *slug, const char *store, int64_t slug_max, char *why, size_t len)
{
    const char *blob = json_string_value (json_object_get (slug, "blob"));
    json_t *size = json_object_get (slug, "size");
    json_t *names = json_object_get (slug, "buildpacks");
    int64_t stored = -1;
    if (!blob || !rel_blob_sha_valid (blob))
        snprintf (why, len, "the build's result names no valid slug blob");
    else if (!rel_blob_exists (store, blob, &stored))
        snprintf (why, len, "the build's slug %.7s is not in the store", blob);
    else if (!json_is_integer (size) || json_integer_value (size) != stored)
        snprintf (why, len, "the build's slug %.7s is %lld bytes, not the size its result says",
                  blob, (long long) stored);
    else if (stored > slug_max)
        snprintf (why, len, "slug is %lld MB, over the limit of %lld MB",
                  (long long) (stored / (1024 * 1024)), (long long) (slug_max / (1024 * 1024)));
    else if (!json_is_array (names))
        snprintf (why, len, "the build's result lists no buildpacks");
    else {
        size_t i;
        json_t *name;
        json_array_foreach (names, i, name)
            if (!json_is_string (name)) {
                snprintf (why, len, "the build's result lists a buildpack that is not a name");
                return -1;
            }
        return 0;
    }
    return -1;
}

int
rel_build_result_check (const json_t *result, const char *store, int64_t slug_max,
                        char *why, size_t len)
{
    const json_t *types = json_object_get (result, "process_types");
    if (!json_is_object (result) || !json_is_object (json_object_get (result, "slug"))) {
        snprintf (why, len, "the build's result holds no slug");
        return -1;
    }
    if (s_check_slug (json_object_get (result, "slug"), store, slug_max, why, len))
        return -1;
    if (!json_is_object (types) || json_object_size (types) == 0
        || json_object_size (types) > REL_PROC_TYPES_MAX) {
        snprintf (why, len, "the build's result has no process types, or over %d",
                  REL_PROC_TYPES_MAX);
        return -1;
    }
    const char *name;
    json_t *cmd;
    json_object_foreach ((json_t *) types, name, cmd) {
        const char *text = json_string_value (cmd);
        size_t n = json_string_length (cmd);
        if (!rel_proc_name_valid (name, strlen (name)) || !text || n == 0
            || rel_utf8_valid_prefix (text, n) != n || memchr (text, '\n', n)) {
            char q [REL_PROC_NAME_MAX + 4];
            size_t nl = strlen (name) > REL_PROC_NAME_MAX ? REL_PROC_NAME_MAX : strlen (name);
            rel_utf8_clean (name, nl, q);
            snprintf (why, len, "the build's result has a bad process type '%s'", q);
            return -1;
        }
    }
    return 0;
}
