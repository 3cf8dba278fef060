//  build - release-keeper's side of one build process
//
//  See build.h. Everything the child needs after fork (argv, envp, the
//  /dev/null fd) is prepared before fork, because between fork and exec
//  the child may only make async-signal-safe calls.

#include "build.h"
#include "procfile.h"
#include "../common/act_base.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define BUILD_EXE        "/proc/self/exe"
#define BUILD_ARGS_MAX   64
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
};

//  In the forked child: never returns.
static void
s_child (char **argv, char **envp, const char *cwd, int out, int null, pid_t parent)
{
    setsid ();
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
    execve (BUILD_EXE, argv, envp);
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
rel_build_start (const char *const *args, const char *cwd, int *rc)
{
    char **argv = act_calloc (BUILD_ARGS_MAX + 3, sizeof *argv);
    size_t n = 0;
    argv [n++] = act_strdup ("dynod");
    argv [n++] = act_strdup ("build");
    for (size_t i = 0; args [i] && n < BUILD_ARGS_MAX + 2; i++)
        argv [n++] = act_strdup (args [i]);
    char **envp = s_env_new ();
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
            s_child (argv, envp, dir, fds [1], null, parent);
        if (pid < 0)
            *rc = -errno;
    }
    if (null >= 0)
        close (null);
    if (fds [1] >= 0)
        close (fds [1]);
    s_strv_free (argv);
    s_strv_free (envp);
    free (dir);
    if (*rc) {
        if (fds [0] >= 0)
            close (fds [0]);
        return NULL;
    }
    //  The child may not have called setsid yet: make it the leader of its
    //  own group from here too, so a kill right away reaches it.
    setpgid (pid, pid);
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

//  Hands the line collected so far to `fn`, as valid UTF-8 without `\r`.
static void
s_emit (rel_build_t *self, rel_build_line_fn *fn, void *arg)
{
    size_t len = self->line_len;
    if (len && self->line [len - 1] == '\r')
        len--;
    char clean [REL_BUILD_LINE_MAX + 1];
    rel_utf8_clean (self->line, len, clean);
    self->line_len = 0;
    fn (arg, clean);
}

bool
rel_build_read (rel_build_t *self, rel_build_line_fn *fn, void *arg)
{
    char buf [16384];
    for (;;) {
        ssize_t n = read (self->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;               // EAGAIN: more later
        if (n == 0) {
            if (self->line_len)
                s_emit (self, fn, arg);
            return true;
        }
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
}

void
rel_build_kill (rel_build_t *self)
{
    if (!self->reaped)
        kill (-self->pid, SIGKILL);
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
