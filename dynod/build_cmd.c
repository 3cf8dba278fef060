//  dynod build - runs ONE build in its own process (release-keeper's)
//
//  Hidden subcommand: release-keeper forks and execs /proc/self/exe with
//  `build` for every deploy (actors/release-keeper/build.c), in a new
//  session and process group, with a clean environment, stdin /dev/null
//  and stdout+stderr on a pipe it streams to the CLI. This file parses the
//  options, adds the isolation that is cheap and safe, and hands over to
//  the build runner (actors/release-keeper/builder.h):
//    - no new privileges (setuid programs do not gain any), no core dumps;
//    - as root, a new PID namespace: the build runs as its pid 1, so when
//      it ends or is killed every process a buildpack started dies with it,
//      even one that left the process group with setsid;
//    - as root, buildpack programs (bin/detect, bin/compile, bin/release)
//      run as `nobody`:`nogroup` with no supplementary groups, each in a
//      private mount namespace where the data folder (--hide) is an empty
//      tmpfs and /tmp a fresh one holding bind mounts of this build's
//      folders (/tmp/build, /tmp/cache, /tmp/env, /tmp/tmpdir, the
//      buildpack at /tmp/buildpack): the API token, the journal, the blob
//      store, other apps' caches and the work folder itself (result.json)
//      are out of sight. Extraction and the slug stay with root;
//    - it dies (SIGKILL) when release-keeper does (set before exec).
//  Exit status: 0 slug made, 1 build failed (reason in <work>/result.json),
//  2 usage error.

#define _GNU_SOURCE                 // unshare, CLONE_NEWPID

#include "dynod.h"
#include "build_cmd.h"
#include "../actors/release-keeper/blobs.h"
#include "../actors/release-keeper/builder.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define BUILD_BUILDPACKS_MAX  16
#define BUILD_USER            "nobody"      // buildpack programs run as this user,
#define BUILD_GROUP           "nogroup"     // ... and group (else the user's own)
#define BUILD_FD_PATH_MAX     64
#define BUILD_TMPFS_OPTIONS   "mode=1777,size=256m"     // the sandbox's /tmp

typedef struct {
    rel_builder_opts_t opts;
    const char *blobs [BUILD_BUILDPACKS_MAX];
    const char *names [BUILD_BUILDPACKS_MAX];
    char *owned [BUILD_BUILDPACKS_MAX];       // the SHA:NAME copies split
} build_args_t;

static const char s_usage [] =
    "usage: dynod build --store DIR --work DIR --cache DIR --source SHA256\n"
    "                   [--buildpack SHA256:NAME]... [--commit SHA] [--slug-max BYTES]\n"
    "                   [--extract-max BYTES] [--config FILE] [--hide DIR]\n"
    "Runs one build (release-keeper starts it for each deploy; not for direct use).\n";

//  Splits `SHA:NAME` into the next buildpack slot. Returns 0 or -1.
static int
s_add_buildpack (build_args_t *args, const char *arg)
{
    size_t n = args->opts.buildpack_count;
    const char *colon = strchr (arg, ':');
    if (n >= BUILD_BUILDPACKS_MAX || !colon || !colon [1])
        return -1;
    args->owned [n] = act_strdup (arg);
    args->owned [n][colon - arg] = 0;
    if (!rel_blob_sha_valid (args->owned [n])) {
        free (args->owned [n]);
        args->owned [n] = NULL;
        return -1;
    }
    args->blobs [n] = args->owned [n];
    args->names [n] = args->owned [n] + (colon - arg) + 1;
    args->opts.buildpack_count++;
    return 0;
}

//  Returns -1 to go on, or an exit code.
static int
s_parse (build_args_t *args, int argc, char **argv)
{
    static const struct option opts [] = {
        { "store", required_argument, NULL, 's' },
        { "work", required_argument, NULL, 'w' },
        { "cache", required_argument, NULL, 'c' },
        { "source", required_argument, NULL, 'S' },
        { "buildpack", required_argument, NULL, 'b' },
        { "commit", required_argument, NULL, 'C' },
        { "slug-max", required_argument, NULL, 'm' },
        { "extract-max", required_argument, NULL, 'x' },
        { "config", required_argument, NULL, 'k' },
        { "hide", required_argument, NULL, 'H' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    rel_builder_opts_t *o = &args->opts;
    o->slug_max = INT64_MAX;
    int c;
    while ((c = getopt_long (argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
            case 's': o->store = optarg; break;
            case 'w': o->work = optarg; break;
            case 'c': o->cache = optarg; break;
            case 'S': o->source = optarg; break;
            case 'C': o->commit = optarg; break;
            case 'm': o->slug_max = strtoll (optarg, NULL, 10); break;
            case 'x': o->extract_max = strtoll (optarg, NULL, 10); break;
            case 'k': o->config = optarg; break;
            case 'H': o->hide = optarg; break;
            case 'b':
                if (s_add_buildpack (args, optarg)) {
                    fprintf (stderr, "dynod build: --buildpack takes SHA256:NAME\n");
                    return DND_EXIT_USAGE;
                }
                break;
            case 'h': fputs (s_usage, stdout); return DND_EXIT_OK;
            default: return DND_EXIT_USAGE;
        }
    }
    if (optind != argc || !o->store || !o->work || !o->cache || !rel_blob_sha_valid (o->source)
        || o->slug_max <= 0 || o->extract_max < 0) {
        fputs (s_usage, stderr);
        return DND_EXIT_USAGE;
    }
    o->buildpack_blobs = args->blobs;
    o->buildpack_names = args->names;
    return -1;
}

//  As root: runs the build as pid 1 of a new PID namespace and returns its
//  exit code, or -1 when the namespace cannot be had (then the caller runs
//  the build itself). clone(CLONE_NEWPID) rather than unshare + fork: only
//  the child changes namespace, so this process can still start threads
//  (the leak checker of sanitizer builds needs one at exit).
static int
s_run_in_pid_namespace (const rel_builder_opts_t *opts)
{
    if (geteuid () != 0)
        return -1;
    fflush (NULL);
    //  Without CLONE_VM and with no new stack, clone behaves as fork.
    long pid = syscall (SYS_clone, (unsigned long) (CLONE_NEWPID | SIGCHLD), NULL, NULL, NULL, NULL);
    if (pid < 0)
        return -1;
    if (pid == 0) {
        //  Our parent is outside the namespace (getppid says 0), so the
        //  usual re-check after prctl cannot be made; the parent's group is
        //  what release-keeper kills, which includes us.
        prctl (PR_SET_PDEATHSIG, SIGKILL);
        _exit (rel_builder_run (opts));
    }
    int status;
    while (waitpid ((pid_t) pid, &status, 0) < 0)
        if (errno != EINTR)
            return DND_EXIT_FAIL;
    return WIFEXITED (status) ? WEXITSTATUS (status) : DND_EXIT_FAIL;
}

//  Binds the folder open as `fd` onto `path`, made in the sandbox's /tmp.
static int
s_bind (int fd, const char *path)
{
    char source [BUILD_FD_PATH_MAX];
    snprintf (source, sizeof source, "/proc/self/fd/%d", fd);
    if (mkdir (path, 0755) != 0 || mount (source, path, NULL, MS_BIND | MS_REC, NULL) != 0)
        return -errno;
    return 0;
}

//  rel_builder_opts_t.isolate: in a buildpack program's child, before
//  exec (this process is single-threaded). A private mount namespace: the
//  data folder under an empty tmpfs, /tmp a fresh tmpfs in which the
//  program's folders are bound at the REL_SANDBOX_* paths; then the build
//  user, with no supplementary groups.
static int
s_isolate (const rel_builder_opts_t *opts, const rel_builder_dirs_t *real)
{
    if (!opts->drop)
        return 0;
    const char *from [] = { real->app, real->cache, real->env, real->tmp, real->buildpack };
    const char *to [] = { REL_SANDBOX_APP, REL_SANDBOX_CACHE, REL_SANDBOX_ENV, REL_SANDBOX_TMP,
                          REL_SANDBOX_BUILDPACK };
    enum { DIRS = sizeof from / sizeof from [0] };
    int fds [DIRS];
    int rc = 0;
    //  Opened in the new namespace (a bind mount's source must be in the
    //  caller's), before the tmpfs mounts hide them.
    if (unshare (CLONE_NEWNS) != 0 || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        return -errno;
    for (size_t i = 0; i < DIRS; i++)
        if ((fds [i] = open (from [i], O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
            return -errno;
    if ((opts->hide && mount ("tmpfs", opts->hide, "tmpfs", MS_NOSUID | MS_NODEV,
                              "mode=0755,size=64k") != 0)
        || mount ("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, BUILD_TMPFS_OPTIONS) != 0)
        return -errno;
    for (size_t i = 0; rc == 0 && i < DIRS; i++)
        rc = s_bind (fds [i], to [i]);
    for (size_t i = 0; i < DIRS; i++)
        close (fds [i]);
    if (rc == 0 && (setgroups (0, NULL) != 0 || setgid (opts->gid) != 0 || setuid (opts->uid) != 0))
        rc = -errno;
    return rc;
}

//  As root: the user and group buildpack programs run as. Returns 0 or -1.
static int
s_build_user (rel_builder_opts_t *opts)
{
    if (geteuid () != 0)
        return 0;
    struct passwd *pw = getpwnam (BUILD_USER);
    if (!pw || pw->pw_uid == 0) {
        fprintf (stderr, "dynod build: no '%s' user to run buildpacks as\n", BUILD_USER);
        return -1;
    }
    struct group *gr = getgrnam (BUILD_GROUP);
    opts->drop = true;
    opts->uid = pw->pw_uid;
    opts->gid = gr ? gr->gr_gid : pw->pw_gid;
    opts->isolate = s_isolate;
    return 0;
}

int
dnd_cmd_build (int argc, char **argv)
{
    build_args_t args = { 0 };
    int code = s_parse (&args, argc, argv);
    if (code < 0 && s_build_user (&args.opts))
        code = DND_EXIT_FAIL;
    if (code < 0) {
        prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        struct rlimit none = { 0, 0 };
        setrlimit (RLIMIT_CORE, &none);
        code = s_run_in_pid_namespace (&args.opts);
        if (code < 0)
            code = rel_builder_run (&args.opts);
    }
    for (size_t i = 0; i < BUILD_BUILDPACKS_MAX; i++)
        free (args.owned [i]);
    return code;
}
