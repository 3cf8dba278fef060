//  sandbox - one dyno's processes, isolated
//
//  See sandbox.h. The supervisor's side: makes the work dir and the
//  cgroup, clones pid 1 (clone3, fork-like) into new PID, mount, UTS and
//  IPC namespaces (sbx_init.c does the rest inside), and waits on a
//  close-on-exec pipe until the command runs or a one-line reason comes
//  back. Pid 1 is also held by a pidfd, so signalling it can never hit a
//  recycled pid.

#define _GNU_SOURCE
#include "sandbox.h"
#include "cgroup.h"
#include "mounts.h"
#include "sbx_fs.h"
#include "sbx_init.h"
#include "../common/act_base.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define SBX_STACK       (256 * 1024)    // pid 1's stack where there is no clone3
#define SBX_EXIT_WAIT_MS 2000           // destroy: wait for pid 1 to be gone
#define SBX_PIDS_MAX    65536           // pids read from a cgroup at once
#define SBX_NS_FLAGS    (CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC)

struct sbx_t {
    pid_t pid;                      // pid 1, in our namespace
    int pidfd;                      // -1 when the kernel has none
    sbx_cg_t cg;
    char *work_dir;
};

pid_t
sbx_pid (const sbx_t *self)
{
    assert (self);
    return self->pid;
}

//  Checks what the kernel and overlayfs would refuse less clearly.
static int
s_spec_check (const sbx_spec_t *spec, char *why, size_t why_len)
{
    if (!spec->app || !spec->app [0] || !spec->id || !spec->id [0] || !spec->cgroup_parent
        || !spec->name || !spec->work_dir || !spec->argv || !spec->argv [0] || !spec->envp) {
        snprintf (why, why_len, "incomplete sandbox spec");
        return -1;
    }
    if (strchr (spec->app, '/') || strchr (spec->id, '/') || strchr (spec->cgroup_parent, '/')
        || spec->id [0] == '.' || spec->app [0] == '.' || spec->cgroup_parent [0] == '.') {
        snprintf (why, why_len, "bad dyno id, app or cgroup parent '%s/%s/%s'",
                  spec->cgroup_parent, spec->app, spec->id);
        return -1;
    }
    if (!sbx_mounts_path_ok (spec->work_dir) || (spec->slug_dir && !sbx_mounts_path_ok (spec->slug_dir))) {
        snprintf (why, why_len, "slug and work dirs must be absolute paths without ',', ':' or '\\'");
        return -1;
    }
    if (spec->uid == 0 || spec->gid == 0) {
        snprintf (why, why_len, "a dyno never runs as root");
        return -1;
    }
    return 0;
}

//  Reads the start pipe to EOF: empty means the command runs.
static void
s_read_start (int fd, char *why, size_t why_len)
{
    size_t got = 0;
    while (got + 1 < why_len) {
        ssize_t n = read (fd, why + got, why_len - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t) n;
    }
    why [got] = 0;
}

//  clone3's argument (linux/sched.h, a stable ABI; that header's CLONE_*
//  would clash with glibc's).
typedef struct {
    uint64_t flags;
    uint64_t pidfd;
    uint64_t child_tid;
    uint64_t parent_tid;
    uint64_t exit_signal;
    uint64_t stack;
    uint64_t stack_size;
    uint64_t tls;
} sbx_clone_args_t;

//  Clones pid 1. Returns its pid (and *pidfd) or -1 with why.
static pid_t
s_clone (sbx_init_t *init, int *pidfd, char *why, size_t why_len)
{
    //  clone3 without a stack continues the child on a copy of this one,
    //  as fork does (a stack of our own would trip ASan in `make check`).
    *pidfd = -1;
    sbx_clone_args_t args = {
        .flags = SBX_NS_FLAGS | CLONE_PIDFD, .pidfd = (uint64_t) (uintptr_t) pidfd,
        .exit_signal = SIGCHLD,
    };
    pid_t pid = (pid_t) syscall (SYS_clone3, &args, sizeof args);
    if (pid == 0) {
        sbx_init_main (init);
        _exit (SBX_EXIT_SETUP);     // not reached: pid 1 exits itself
    }
    if (pid < 0 && errno == ENOSYS) {
        //  Kernels before 5.3: clone() on a stack of its own, no pidfd.
        char *stack = act_malloc (SBX_STACK);
        *pidfd = -1;
        pid = clone (sbx_init_main, stack + SBX_STACK, SBX_NS_FLAGS | SIGCHLD, init);
        free (stack);
    }
    if (pid < 0)
        snprintf (why, why_len, "cannot create the dyno's namespaces: %s", strerror (errno));
    return pid;
}

//  Runs pid 1 and waits for the command's exec. Returns 0 or -1 with why
//  (pid 1 then killed and reaped).
static int
s_launch (sbx_t *self, const sbx_spec_t *spec, const char *lower, char *why, size_t why_len)
{
    sbx_init_t init = { .spec = spec, .lower = lower };
    if (sbx_cg_open_procs (&self->cg, init.cg_fds, why, why_len))
        return -1;
    int pipefd [2];
    if (pipe2 (pipefd, O_CLOEXEC)) {
        snprintf (why, why_len, "cannot make a pipe: %s", strerror (errno));
        for (int i = 0; i < SBX_CG_DIRS; i++)
            if (init.cg_fds [i] >= 0)
                close (init.cg_fds [i]);
        return -1;
    }
    init.err_fd = pipefd [1];
    self->pid = s_clone (&init, &self->pidfd, why, why_len);
    close (pipefd [1]);
    for (int i = 0; i < SBX_CG_DIRS; i++)
        if (init.cg_fds [i] >= 0)
            close (init.cg_fds [i]);
    if (self->pid > 0)
        s_read_start (pipefd [0], why, why_len);
    close (pipefd [0]);
    if (self->pid < 0)
        return -1;
    if (why [0] == 0)
        return 0;
    kill (self->pid, SIGKILL);
    waitpid (self->pid, NULL, 0);
    return -1;
}

//  Makes the host folders the mounts need. Returns 0 or -1 with why.
static int
s_prepare_dirs (const sbx_spec_t *spec, char *why, size_t why_len)
{
    if (mkdir (SBX_APP_DIR, 0755) && errno != EEXIST) {
        snprintf (why, why_len, "cannot create '%s': %s", SBX_APP_DIR, strerror (errno));
        return -1;
    }
    return sbx_fs_work_make (spec->work_dir, spec->uid, spec->gid, why, why_len);
}

sbx_t *
sbx_start (const sbx_spec_t *spec, sbx_cgroup_kind_t cg, char *why, size_t why_len)
{
    why [0] = 0;
    if (s_spec_check (spec, why, why_len) || s_prepare_dirs (spec, why, why_len))
        return NULL;
    sbx_t *self = act_calloc (1, sizeof *self);
    self->pid = -1;
    self->pidfd = -1;
    self->work_dir = act_strdup (spec->work_dir);
    char lower [PATH_MAX];
    snprintf (lower, sizeof lower, "%s/lower", spec->work_dir);
    if (sbx_cg_create (&self->cg, cg, spec->cgroup_parent, spec->app, spec->id,
                       spec->mem_limit_bytes, spec->procs_max, why, why_len)
        || s_launch (self, spec, spec->slug_dir ? spec->slug_dir : lower, why, why_len)) {
        //  Pid 1 is reaped already (or never ran): its number may be
        //  another process's by now.
        self->pid = -1;
        sbx_destroy (&self);
        return NULL;
    }
    return self;
}

//  Sends sig to pid 1 through its pidfd (or its pid when there is none).
static int
s_signal_pid1 (sbx_t *self, int sig)
{
    if (self->pidfd >= 0)
        return (int) syscall (SYS_pidfd_send_signal, self->pidfd, sig, NULL, 0);
    return self->pid > 0 ? kill (self->pid, sig) : -1;
}

int
sbx_signal_all (sbx_t *self, int sig)
{
    assert (self);
    if (self->cg.kind == SBX_CGROUP_NONE)
        return s_signal_pid1 (self, sig) == 0;
    pid_t *pids = act_malloc (SBX_PIDS_MAX * sizeof *pids);
    int count = sbx_cg_pids (&self->cg, pids, SBX_PIDS_MAX);
    int sent = 0;
    //  Pid 1 forwards what it gets to the command's group, which is sent
    //  the signal directly here: it is left out so no process gets two.
    //  SIGKILL to pid 1 takes the whole namespace with it.
    if (sig == SIGKILL && s_signal_pid1 (self, SIGKILL) == 0)
        sent++;
    for (int i = 0; i < count; i++)
        if (pids [i] != self->pid && kill (pids [i], sig) == 0)
            sent++;
    free (pids);
    return sent;
}

int64_t
sbx_memory (const sbx_t *self)
{
    assert (self);
    return sbx_cg_memory (&self->cg);
}

int64_t
sbx_oom_kills (const sbx_t *self)
{
    assert (self);
    return sbx_cg_oom_kills (&self->cg);
}

int
sbx_procs (const sbx_t *self)
{
    assert (self);
    if (self->cg.kind == SBX_CGROUP_NONE)
        return self->pidfd >= 0 && syscall (SYS_pidfd_send_signal, self->pidfd, 0, NULL, 0) == 0;
    pid_t *pids = act_malloc (SBX_PIDS_MAX * sizeof *pids);
    int count = sbx_cg_pids (&self->cg, pids, SBX_PIDS_MAX);
    free (pids);
    return count < 0 ? 0 : count;
}

void
sbx_destroy (sbx_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sbx_t *self = *self_p;
    if (self->pid > 0 || self->pidfd >= 0) {
        s_signal_pid1 (self, SIGKILL);
        //  The pidfd reads as ready once pid 1 has exited, which happens
        //  only after every other process of its namespace is gone.
        if (self->pidfd >= 0) {
            struct pollfd pfd = { .fd = self->pidfd, .events = POLLIN };
            while (poll (&pfd, 1, SBX_EXIT_WAIT_MS) < 0 && errno == EINTR)
                ;
        }
    }
    sbx_cg_remove (&self->cg);
    sbx_fs_remove (self->work_dir);
    if (self->pidfd >= 0)
        close (self->pidfd);
    free (self->work_dir);
    free (self);
    *self_p = NULL;
}

void
sbx_sweep (sbx_cgroup_kind_t cg, const char *cgroup_parent, const char *work_root)
{
    sbx_cg_sweep (cg, cgroup_parent);
    DIR *d = work_root ? opendir (work_root) : NULL;
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir (d)) != NULL) {
        if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
            continue;
        char path [PATH_MAX];
        snprintf (path, sizeof path, "%s/%s", work_root, e->d_name);
        sbx_fs_remove (path);
    }
    closedir (d);
}
