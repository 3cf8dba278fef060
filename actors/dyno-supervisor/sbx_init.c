//  sbx_init - the dyno's pid 1 and the start of its command
//
//  See sbx_init.h. This code runs in a copy of the supervisor's address
//  space after a fork-like clone3: it calls no allocator (another thread of
//  the supervisor may have held its lock) and reports through err_fd only.

#define _GNU_SOURCE
#include "sbx_init.h"
#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define INIT_WHY_MAX    512
#define INIT_FD_HIGH    10              // fds are moved above this first
#define INIT_ERR_FD     3               // the start pipe after the move
#define INIT_CAP_MAX    64              // capabilities tried by PR_CAPBSET_DROP

static const int s_forwarded [] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
#define INIT_FORWARDED (sizeof s_forwarded / sizeof s_forwarded [0])

//  Writes one line to the start pipe (best effort: the caller may be gone).
static void
s_report (int fd, const char *fmt, ...)
{
    char why [INIT_WHY_MAX];
    va_list args;
    va_start (args, fmt);
    int n = vsnprintf (why, sizeof why, fmt, args);
    va_end (args);
    if (n > 0 && write (fd, why, (size_t) n < sizeof why ? (size_t) n : sizeof why - 1) < 0)
        return;
}

static void
s_nothing (int sig)
{
    (void) sig;
}

//  Puts the command's stdio on 0, 1, 2 and the start pipe on 3 (close-on-
//  exec), closes every other fd. Returns 0 or -1 (errno set).
static int
s_arrange_fds (const sbx_spec_t *spec, int err_fd)
{
    int src [3] = { spec->stdin_fd, spec->stdout_fd, spec->stderr_fd };
    int high [4];
    //  Moved high first: a source may sit on a number another one needs.
    for (int i = 0; i < 3; i++) {
        high [i] = src [i] >= 0 ? fcntl (src [i], F_DUPFD_CLOEXEC, INIT_FD_HIGH)
                                : open ("/dev/null", O_RDWR | O_CLOEXEC);
        if (high [i] < 0)
            return -1;
    }
    high [3] = fcntl (err_fd, F_DUPFD_CLOEXEC, INIT_FD_HIGH);
    if (high [3] < 0)
        return -1;
    for (int i = 0; i < 3; i++)
        if (dup2 (high [i], i) < 0)
            return -1;
    if (dup3 (high [3], INIT_ERR_FD, O_CLOEXEC) < 0)
        return -1;
    return (int) syscall (SYS_close_range, INIT_ERR_FD + 1, ~0U, 0);
}

//  Drops every capability for good, then becomes the app user.
static int
s_become_user (const sbx_spec_t *spec)
{
    for (int cap = 0; cap < INIT_CAP_MAX; cap++)
        if (prctl (PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EINVAL)
            return -1;
    if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL)
        return -1;
    //  Leaving uid 0 clears the permitted and effective sets (no
    //  SECBIT_KEEP_CAPS), so no capset is needed. Raw system calls: this
    //  runs in a vfork child of pid 1, whose copy of libc still lists the
    //  supervisor's threads, which glibc's set*id would try to signal.
    gid_t gid = spec->gid;
    if (syscall (SYS_setgroups, 1, &gid) || syscall (SYS_setresgid, gid, gid, gid)
        || syscall (SYS_setresuid, spec->uid, spec->uid, spec->uid))
        return -1;
    return prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

//  The command's process, a vfork child sharing pid 1's memory until the
//  exec: it writes nothing but its stack. Never returns.
static void
s_command (const sbx_spec_t *spec)
{
    sigset_t none;
    sigemptyset (&none);
    for (int sig = 1; sig < NSIG; sig++)
        signal (sig, SIG_DFL);
    sigprocmask (SIG_SETMASK, &none, NULL);
    const char *step = "start a session";
    if (setsid () < 0)
        goto fail;
    step = "make the terminal the controlling one";
    if (spec->tty && ioctl (STDIN_FILENO, TIOCSCTTY, 0))
        goto fail;
    step = "enter " SBX_APP_DIR;
    if (chdir (SBX_APP_DIR))
        goto fail;
    step = "drop privileges";
    if (s_become_user (spec))
        goto fail;
    execve (spec->argv [0], spec->argv, spec->envp);
    s_report (INIT_ERR_FD, "cannot run '%s': %s", spec->argv [0], strerror (errno));
    _exit (SBX_EXIT_EXEC);
fail:
    s_report (INIT_ERR_FD, "cannot %s: %s", step, strerror (errno));
    _exit (SBX_EXIT_EXEC);
}

//  Pid 1's life once the command runs: forward, reap, relay the status.
static int
s_pid1_loop (pid_t command, const sigset_t *set)
{
    for (;;) {
        siginfo_t info;
        int sig = sigwaitinfo (set, &info);
        if (sig < 0)
            continue;
        if (sig != SIGCHLD) {
            //  Before the command's setsid its group does not exist yet.
            if (kill (-command, sig))
                kill (command, sig);
            continue;
        }
        int status;
        pid_t pid;
        while ((pid = waitpid (-1, &status, WNOHANG)) > 0)
            if (pid == command)
                return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
    }
}

//  Joins the cgroup, arranges fds and signals: everything before the
//  mounts that can fail. Returns 0 or -1 with the start pipe told.
static int
s_prepare (sbx_init_t *init, sigset_t *set)
{
    for (int i = 0; i < SBX_CG_DIRS; i++)
        if (init->cg_fds [i] >= 0 && write (init->cg_fds [i], "0", 1) != 1) {
            s_report (init->err_fd, "cannot join the dyno's cgroup: %s", strerror (errno));
            return -1;
        }
    if (s_arrange_fds (init->spec, init->err_fd)) {
        s_report (init->err_fd, "cannot set up the dyno's file descriptors: %s", strerror (errno));
        return -1;
    }
    //  Pid 1 of a namespace only receives the signals it handles; a
    //  handler that does nothing, with the signals blocked and taken by
    //  sigwaitinfo, makes them arrive.
    sigemptyset (set);
    struct sigaction sa = { .sa_handler = s_nothing };
    sigemptyset (&sa.sa_mask);
    for (size_t i = 0; i < INIT_FORWARDED; i++) {
        sigaddset (set, s_forwarded [i]);
        sigaction (s_forwarded [i], &sa, NULL);
    }
    sigaddset (set, SIGCHLD);
    sigaction (SIGCHLD, &sa, NULL);
    signal (SIGPIPE, SIG_IGN);
    sigprocmask (SIG_SETMASK, set, NULL);
    prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    return 0;
}

int
sbx_init_main (void *arg)
{
    sbx_init_t *init = arg;
    const sbx_spec_t *spec = init->spec;
    sigset_t set;
    if (s_prepare (init, &set))
        _exit (SBX_EXIT_SETUP);
    char why [INIT_WHY_MAX];
    sbx_mounts_t mounts = { .lower = init->lower, .work_dir = spec->work_dir, .hide = spec->hide };
    if (sbx_mounts_setup (&mounts, why, sizeof why)) {
        s_report (INIT_ERR_FD, "%s", why);
        _exit (SBX_EXIT_SETUP);
    }
    if (sethostname (spec->name, strlen (spec->name))) {
        s_report (INIT_ERR_FD, "cannot set the host name '%s': %s", spec->name, strerror (errno));
        _exit (SBX_EXIT_SETUP);
    }
    //  vfork: a fork would copy the supervisor's page tables once more,
    //  the biggest part of the start cost in a big process.
    pid_t command = vfork ();
    if (command < 0) {
        s_report (INIT_ERR_FD, "cannot fork the command: %s", strerror (errno));
        _exit (SBX_EXIT_SETUP);
    }
    if (command == 0)
        s_command (spec);
    close (INIT_ERR_FD);
    _exit (s_pid1_loop (command, &set));
}
