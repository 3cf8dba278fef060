//  sandbox - one dyno's processes, isolated
//
//  Owns: the dyno's process tree (a pid 1 of its own PID namespace that
//  forwards signals to the command and reaps), its mount namespace (the
//  slug as an overlay mounted at /app: lower = the unpacked slug, upper and
//  work in the dyno's work dir, so writes are private and vanish with the
//  dyno; a fresh /proc for its PID namespace; a private /tmp; the data
//  directory and other hidden paths under empty tmpfs), its UTS name, its
//  IPC namespace, its cgroup (v1 memory+pids or v2, detected) with the
//  size's limits, and its user (an unprivileged uid/gid per app, no
//  capabilities, no_new_privs).
//  Accepts: a spec from the supervisor; signals; teardown.
//  Emits: nothing on the bus; the caller reads the dyno's output from the
//  fds it passed and learns of the end from sbx_pid's exit (SIGCHLD /
//  waitpid in the supervisor).
//
//  Not thread-safe; one supervisor thread owns every sandbox.

#ifndef DYNO_SANDBOX_H
#define DYNO_SANDBOX_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct {
    const char *app;            // app name: picks the uid and the cgroup parent
    const char *id;             // dyno id, unique: the cgroup leaf and work dir name
    const char *cgroup_parent;  // `dynod-<supervisor instance>`: one per supervisor, so two
                                // supervisors on one host (tests) never sweep each other's
    const char *name;           // `web.1`: the UTS host name
    const char *slug_dir;       // unpacked slug (read-only lower layer); NULL: empty /app.
                                // Absolute, no ',' ':' '\\' (overlayfs syntax); see sbx_slug_chown
    const char *work_dir;       // created by sbx_start (afresh), removed by sbx_destroy
    const char *const *hide;    // host paths to cover with an empty tmpfs (NULL-terminated; may be NULL)
    char *const *argv;          // the command, e.g. {"/bin/bash", "-c", "...", NULL};
                                // argv[0] is a path (no PATH search)
    char *const *envp;          // the whole environment
    uid_t uid;                  // the app's user and group (see sbx_app_uid; never 0)
    gid_t gid;
    int64_t mem_limit_bytes;    // hard limit for the cgroup (0: none)
    int64_t procs_max;          // processes + threads (0: none)
    int stdin_fd;               // given to the command as 0, 1, 2 (-1: /dev/null)
    int stdout_fd;
    int stderr_fd;
    bool tty;                   // stdin_fd is a pty slave: make it the controlling terminal
} sbx_spec_t;

typedef struct sbx_t sbx_t;

//  Which cgroup hierarchy this host has. Detected once per process by the
//  caller and passed in; "v1" or "v2".
typedef enum { SBX_CGROUP_NONE, SBX_CGROUP_V1, SBX_CGROUP_V2 } sbx_cgroup_kind_t;
sbx_cgroup_kind_t sbx_cgroup_detect (void);

//  Starts the dyno. On failure returns NULL with a one-line reason in why
//  (and leaves nothing behind). The returned sandbox is owned by the caller.
//  Returns once the command is exec'd (or failed to be): a few ms, however
//  big the slug. The spec is only read during the call.
sbx_t *sbx_start (const sbx_spec_t *spec, sbx_cgroup_kind_t cg, char *why, size_t why_len);

//  The pid (in the supervisor's namespace) of the dyno's pid 1, the child
//  the caller waits for (sbx_destroy never reaps it). Its exit status is
//  the command's: its exit code, or 128+N when signal N killed it. Pid 1
//  exits when the command does, killing anything the command left; it
//  also dies with the supervisor (PR_SET_PDEATHSIG: with the thread that
//  called sbx_start, so call it from one that lives as long as the
//  supervisor). Signals sent to it
//  (TERM INT HUP QUIT USR1 USR2) go on to the command's process group.
pid_t sbx_pid (const sbx_t *self);

//  Sends sig to every process in the dyno (its cgroup) but pid 1 (it would
//  forward a second copy); SIGKILL goes to pid 1 too. Returns how many.
//  Without a cgroup (SBX_CGROUP_NONE) it signals pid 1 only (which
//  forwards to the command's group).
int sbx_signal_all (sbx_t *self, int sig);

//  Memory the dyno uses now (RSS + swap, not page cache), bytes; -1 unknown.
int64_t sbx_memory (const sbx_t *self);

//  Processes of the dyno the kernel killed at its hard memory limit (the
//  cgroup's OOM kills); -1 unknown (no cgroup, or an old kernel).
int64_t sbx_oom_kills (const sbx_t *self);

//  Processes left in the dyno's cgroup, pid 1 included (without a cgroup:
//  1 while pid 1 lives, else 0).
int sbx_procs (const sbx_t *self);

//  SIGKILLs anything left (and waits, up to ~2 s, for it to be gone; the
//  mounts live only in the dyno's namespace and go with it), removes the
//  cgroup and the work dir, frees. Does not reap pid 1. Safe on NULL.
void sbx_destroy (sbx_t **self_p);

//  Removes cgroups and work dirs a previous supervisor left (after a crash),
//  killing their processes: no orphans. work_root is the parent of work dirs.
void sbx_sweep (sbx_cgroup_kind_t cg, const char *cgroup_parent, const char *work_root);

//  The uid/gid for an app's dynos on this host: allocated on first use from
//  a range no real user has (DYNOD_UID_BASE, default 200000), recorded in
//  map_path (a small file the supervisor owns) so it stays the same across
//  restarts. Returns 0, or -1 with why.
//  The gid is the same number.
int sbx_app_uid (const char *map_path, const char *app, uid_t *uid, char *why, size_t why_len);

//  Gives an unpacked slug to the app's user (lchown of every entry, no
//  symlink followed, one file system), so that the dyno may change its
//  files as on Heroku (the overlay copies them up, owner kept). Call once
//  after unpacking; the cost is per slug, not per dyno start. Returns 0 or
//  -1 with why.
int sbx_slug_chown (const char *slug_dir, uid_t uid, gid_t gid, char *why, size_t why_len);

#endif
