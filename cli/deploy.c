//  dyno deploy, buildpacks, buildpacks:set, buildpacks:clear
//
//  deploy uploads the source (upload.h) and asks release-keeper to build
//  and release it (deploy.start), printing the build's output lines as
//  they arrive, then `-----> Launching... done, vN` from the release.info
//  that ends it, or the build's error as one line on stderr (exit 1). The
//  source is, in this order:
//    - a file: sent as is (a .tar.gz);
//    - the top folder of a git work tree: `git archive --format=tar.gz
//      HEAD`, with the commit recorded (the release says `Deploy 1a2b3c4`);
//      uncommitted changes are not deployed, and a warning says so;
//    - any other folder: archived while it is sent (tar + gzip level 1,
//      `.git` left out).
//  The build may take minutes: deploy waits as long as output keeps coming,
//  and gives up after the build timeout (DYNOD_BUILD_TIMEOUT, default 900
//  s) plus a minute with no word at all.
//
//  buildpacks:set uploads each PATH (a buildpack folder with bin/detect and
//  bin/compile, or a .tar.gz of one) and sets them, in order, with a
//  durable buildpacks.set; buildpacks lists them (app.get); buildpacks:clear
//  goes back to the built-in buildpack (a Procfile and files, no build).

#include "cli.h"
#include "upload.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEPLOY_ACTOR           "release-keeper"
#define DEPLOY_BUILD_TIMEOUT_S 900      // release-keeper's default
#define DEPLOY_GRACE_MS        60000    // beyond the build timeout
#define DEPLOY_SHORT_SHA       7

//  Starts `argv` with its stdout on a pipe (stderr to /dev/null when
//  `quiet`). Returns the pipe's read end with *pid_p set, or -errno.
static int
s_spawn (char *const argv [], bool quiet, pid_t *pid_p)
{
    int fds [2];
    if (pipe (fds))
        return -errno;
    fflush (NULL);
    pid_t pid = fork ();
    if (pid < 0) {
        int rc = -errno;
        close (fds [0]);
        close (fds [1]);
        return rc;
    }
    if (pid == 0) {
        dup2 (fds [1], STDOUT_FILENO);
        close (fds [0]);
        close (fds [1]);
        int null = open ("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2 (null, STDIN_FILENO);
            if (quiet)
                dup2 (null, STDERR_FILENO);
        }
        execvp (argv [0], argv);
        _exit (127);
    }
    close (fds [1]);
    *pid_p = pid;
    return fds [0];
}

static int
s_wait (pid_t pid)
{
    int status;
    while (waitpid (pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

//  Runs `argv` quietly; its stdout's first line goes to `out`. Returns
//  0 when it exited 0.
static int
s_capture (char *const argv [], char *out, size_t len)
{
    pid_t pid;
    int fd = s_spawn (argv, true, &pid);
    if (fd < 0)
        return -1;
    size_t got = 0;
    ssize_t n;
    char sink [4096];
    while ((n = read (fd, got + 1 < len ? out + got : sink,
                      got + 1 < len ? len - 1 - got : sizeof sink)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0 && got + 1 < len)
            got += (size_t) n;
    close (fd);
    out [got] = 0;
    out [strcspn (out, "\n")] = 0;
    return s_wait (pid) == 0 ? 0 : -1;
}

//  True when `dir` is the top folder of a git work tree with a commit;
//  sets `commit` (41 bytes).
static bool
s_git_top (const char *dir, char commit [41])
{
    char top [PATH_MAX], want [PATH_MAX], got [PATH_MAX];
    char *toplevel [] = { "git", "-C", (char *) dir, "rev-parse", "--show-toplevel", NULL };
    char *head [] = { "git", "-C", (char *) dir, "rev-parse", "--verify", "-q", "HEAD", NULL };
    if (s_capture (toplevel, top, sizeof top) || !realpath (dir, want) || !realpath (top, got)
        || strcmp (want, got) != 0)
        return false;
    return s_capture (head, commit, 41) == 0 && strlen (commit) == 40;
}

//  Sends HEAD of the work tree `dir`, warning about what it leaves out.
static int
s_upload_git (cli_t *cli, cli_upload_t *up, const char *dir, const char *commit)
{
    char dirty [8];
    char *status [] = { "git", "-C", (char *) dir, "status", "--porcelain", NULL };
    if (s_capture (status, dirty, sizeof dirty) == 0 && dirty [0])
        fprintf (stderr, "dyno deploy: warning: '%s' has uncommitted changes; deploying HEAD "
                 "(%.*s) without them\n", dir, DEPLOY_SHORT_SHA, commit);
    char *archive [] = { "git", "-C", (char *) dir, "archive", "--format=tar.gz", "HEAD", NULL };
    pid_t pid;
    int fd = s_spawn (archive, false, &pid);
    if (fd < 0)
        return cli_fail (cli, CLI_EXIT_FAIL, "cannot run git: %s", act_strerror (fd));
    int code = cli_upload_from_fd (up, fd);
    close (fd);
    int rc = s_wait (pid);
    if (!code && rc != 0)
        code = cli_fail (cli, CLI_EXIT_FAIL, "git archive of '%s' failed", dir);
    return code;
}

//  Uploads the source at `path`. Returns 0 with `blob` and `commit` (""
//  when none) set, or an exit code.
static int
s_upload_source (cli_t *cli, const char *app, const char *path, char blob [65], char commit [41])
{
    commit [0] = 0;
    struct stat st;
    if (stat (path, &st) != 0)
        return cli_fail (cli, CLI_EXIT_FAIL, "cannot deploy '%s': %s", path, strerror (errno));
    int fd = -1;
    if (S_ISREG (st.st_mode) && (fd = open (path, O_RDONLY | O_CLOEXEC)) < 0)
        return cli_fail (cli, CLI_EXIT_FAIL, "cannot read '%s': %s", path, strerror (errno));
    if (!S_ISREG (st.st_mode) && !S_ISDIR (st.st_mode))
        return cli_fail (cli, CLI_EXIT_FAIL, "'%s' is neither a folder nor a .tar.gz", path);
    int code;
    cli_upload_t *up = cli_upload_new (cli, app, "source", &code);
    if (up) {
        if (fd >= 0)
            code = cli_upload_from_fd (up, fd);
        else if (s_git_top (path, commit))
            code = s_upload_git (cli, up, path, commit);
        else
            code = cli_upload_dir (up, path);
        int64_t size;
        if (!code)
            code = cli_upload_finish (up, blob, &size);
    }
    cli_upload_destroy (&up);
    if (fd >= 0)
        close (fd);
    return code;
}

//  Waits for the build: output lines, then release.info or error.
static int
s_follow (cli_t *cli, act_client_t *client, const char *req_id)
{
    int64_t timeout_s = DEPLOY_BUILD_TIMEOUT_S;
    const char *env = getenv ("DYNOD_BUILD_TIMEOUT");
    if (env && atoll (env) > 0)
        timeout_s = atoll (env);
    int idle_ms = (int) (timeout_s * 1000 + DEPLOY_GRACE_MS);
    FILE *out = cli->json ? stderr : stdout;
    for (;;) {
        int rc;
        msg_t *msg = act_client_recv (client, idle_ms, &rc);
        if (!msg)
            return cli_fail (cli, CLI_EXIT_FAIL, "no word from release-keeper for %d s: %s",
                             idle_ms / 1000, act_strerror (rc));
        if (strcmp (msg->corr, req_id) != 0) {
            msg_destroy (&msg);
            continue;
        }
        int code = -1;
        if (msg->type->id == MSG_TYPE_DEPLOY_OUTPUT) {
            fprintf (out, "%s\n", msg_str (msg, "line", ""));
            fflush (out);
        }
        else if (msg->type->id == MSG_TYPE_ERROR)
            code = cli_fail (cli, CLI_EXIT_FAIL, "%s", msg_str (msg, "reason", "deploy failed"));
        else if (msg->type->id == MSG_TYPE_RELEASE_INFO) {
            if (cli->json)
                cli_print_json (msg->body);
            else
                printf ("-----> Launching... done, v%lld\n", (long long) msg_int (msg, "version", 0));
            code = CLI_EXIT_OK;
        }
        msg_destroy (&msg);
        if (code >= 0)
            return code;
    }
}

int
cli_cmd_deploy (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno deploy [DIR | TARBALL.tar.gz] [-a APP] [--json]\n"
                 "Builds and releases DIR (default: the current folder) or a .tar.gz. The top\n"
                 "folder of a git work tree deploys its HEAD commit; any other folder is sent as\n"
                 "it is (without .git). Build output is shown as it comes.\n",
        .takes_app = true,
        .max_operands = 1,
    };
    char *app;
    int code = cli_parse (cli, argc, argv, &spec, NULL, &app);
    if (code >= 0)
        return code;
    const char *path = optind < argc ? argv [optind] : ".";
    char blob [65], commit [41];
    code = s_upload_source (cli, app, path, blob, commit);
    act_client_t *client = code ? NULL : cli_client (cli);
    if (client) {
        msg_t *req = act_client_msg_new (client, MSG_TYPE_DEPLOY_START, DEPLOY_ACTOR);
        char id [MSG_ID_LEN + 1];
        snprintf (id, sizeof id, "%s", req->id);
        msg_set_str (req, "app", app);
        msg_set_str (req, "blob", blob);
        if (commit [0])
            msg_set_str (req, "commit", commit);
        msg_set_str (req, "by", cli_user ());
        int rc = act_client_send (client, &req);
        code = rc ? cli_fail (cli, CLI_EXIT_FAIL, "cannot send the deploy: %s", act_strerror (rc))
                  : s_follow (cli, client, id);
    }
    free (app);
    return code;
}

// ---- buildpacks -------------------------------------------------------------

//  The name a buildpack PATH is shown by: its folder's or file's base
//  name, without .tar.gz / .tgz. Caller owns result.
static char *
s_buildpack_name (const char *path, bool dir)
{
    char real [PATH_MAX];
    const char *p = dir && realpath (path, real) ? real : path;
    char *copy = act_strdup (p);
    for (size_t len = strlen (copy); len > 1 && copy [len - 1] == '/'; len--)
        copy [len - 1] = 0;
    const char *slash = strrchr (copy, '/');
    char *name = act_strdup (slash && slash [1] ? slash + 1 : copy);
    free (copy);
    size_t len = strlen (name);
    static const char *const exts [] = { ".tar.gz", ".tgz" };
    for (size_t i = 0; !dir && i < sizeof exts / sizeof exts [0]; i++) {
        size_t n = strlen (exts [i]);
        if (len > n && strcmp (name + len - n, exts [i]) == 0)
            name [len - n] = 0;
    }
    return name;
}

//  Uploads one buildpack PATH; returns 0 with `blob` set, or an exit code.
static int
s_upload_buildpack (cli_t *cli, const char *app, const char *path, char blob [65])
{
    struct stat st;
    if (stat (path, &st) != 0)
        return cli_fail (cli, CLI_EXIT_FAIL, "cannot use '%s': %s", path, strerror (errno));
    if (S_ISDIR (st.st_mode)) {
        static const char *const progs [] = { "bin/detect", "bin/compile" };
        for (size_t i = 0; i < sizeof progs / sizeof progs [0]; i++) {
            char *prog = act_sprintf ("%s/%s", path, progs [i]);
            bool ok = access (prog, X_OK) == 0;
            free (prog);
            if (!ok)
                return cli_fail (cli, CLI_EXIT_FAIL, "'%s' is not a buildpack: it has no "
                                 "executable %s", path, progs [i]);
        }
    }
    else if (!S_ISREG (st.st_mode))
        return cli_fail (cli, CLI_EXIT_FAIL, "'%s' is neither a folder nor a .tar.gz", path);
    int fd = S_ISREG (st.st_mode) ? open (path, O_RDONLY | O_CLOEXEC) : -1;
    if (S_ISREG (st.st_mode) && fd < 0)
        return cli_fail (cli, CLI_EXIT_FAIL, "cannot read '%s': %s", path, strerror (errno));
    int code;
    cli_upload_t *up = cli_upload_new (cli, app, "buildpack", &code);
    if (up) {
        code = fd >= 0 ? cli_upload_from_fd (up, fd) : cli_upload_dir (up, path);
        int64_t size;
        if (!code)
            code = cli_upload_finish (up, blob, &size);
    }
    cli_upload_destroy (&up);
    if (fd >= 0)
        close (fd);
    return code;
}

static void
s_print_buildpacks (const char *app, const json_t *info)
{
    const json_t *list = json_object_get (info, "buildpacks");
    if (json_array_size (list) == 0) {
        printf ("%s has no buildpack set: builds use the built-in buildpack (a Procfile and "
                "files, no build step).\n", app);
        return;
    }
    printf ("=== %s Buildpacks\n", app);
    size_t i;
    json_t *bp;
    json_array_foreach (list, i, bp)
        printf ("%zu. %s\n", i + 1, json_string_value (json_object_get (bp, "name")));
}

//  Sends buildpacks.set with `list` (consumed) and prints the result.
static int
s_set (cli_t *cli, const char *app, json_t *list)
{
    msg_t *req = cli_app_request (cli, MSG_TYPE_BUILDPACKS_SET, DEPLOY_ACTOR, "app", app);
    if (!req) {
        json_decref (list);
        return CLI_EXIT_NOBROKER;
    }
    bool clear = json_array_size (list) == 0;
    req->durable = true;
    msg_set_json (req, "buildpacks", list);
    msg_set_str (req, "by", cli_user ());
    msg_t *reply;
    int code = cli_call (cli, DEPLOY_ACTOR, &req, CLI_TIMEOUT_MS, &reply);
    if (code)
        return code;
    if (cli->json)
        cli_print_json (reply->body);
    else if (clear)
        printf ("Buildpacks cleared. Next release on %s will use the built-in buildpack.\n", app);
    else {
        printf ("Buildpack set. Next release on %s will use ", app);
        size_t i;
        json_t *bp;
        json_array_foreach (json_object_get (reply->body, "buildpacks"), i, bp)
            printf ("%s%s", i ? ", " : "", json_string_value (json_object_get (bp, "name")));
        printf (".\n");
    }
    msg_destroy (&reply);
    return CLI_EXIT_OK;
}

int
cli_cmd_buildpacks_set (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno buildpacks:set PATH... [-a APP] [--json]\n"
                 "Uploads each PATH (a buildpack folder with bin/detect, bin/compile and\n"
                 "bin/release, or a .tar.gz of one) and makes them the app's buildpacks, run\n"
                 "in this order by the next deploy. A buildpack is shown by its base name.\n",
        .takes_app = true,
        .min_operands = 1,
        .max_operands = CLI_OPERANDS_ANY,
        .too_few = "name a buildpack folder or .tar.gz (see --help)",
    };
    char *app;
    int code = cli_parse (cli, argc, argv, &spec, NULL, &app);
    if (code >= 0)
        return code;
    code = CLI_EXIT_OK;         // until an upload fails
    json_t *list = json_array ();
    for (int i = optind; i < argc && !code; i++) {
        char blob [65];
        code = s_upload_buildpack (cli, app, argv [i], blob);
        struct stat st;
        bool dir = stat (argv [i], &st) == 0 && S_ISDIR (st.st_mode);
        char *name = s_buildpack_name (argv [i], dir);
        if (!code)
            json_array_append_new (list, json_pack ("{s:s, s:s}", "blob", blob, "name", name));
        free (name);
    }
    if (code)
        json_decref (list);
    else
        code = s_set (cli, app, list);
    free (app);
    return code;
}

int
cli_cmd_buildpacks_clear (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno buildpacks:clear [-a APP] [--json]\n"
                 "Goes back to the built-in buildpack (a Procfile and files, no build step).\n",
        .takes_app = true,
    };
    char *app;
    int code = cli_parse (cli, argc, argv, &spec, NULL, &app);
    if (code >= 0)
        return code;
    code = s_set (cli, app, json_array ());
    free (app);
    return code;
}

int
cli_cmd_buildpacks (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno buildpacks [-a APP] [--json]\n"
                 "Lists the app's buildpacks in the order builds run them.\n",
        .takes_app = true,
    };
    char *app;
    int code = cli_parse (cli, argc, argv, &spec, NULL, &app);
    if (code >= 0)
        return code;
    msg_t *req = cli_app_request (cli, MSG_TYPE_APP_GET, DEPLOY_ACTOR, "name", app), *reply = NULL;
    code = req ? cli_call (cli, DEPLOY_ACTOR, &req, CLI_TIMEOUT_MS, &reply) : CLI_EXIT_NOBROKER;
    if (!code) {
        if (cli->json)
            cli_print_json (json_object_get (reply->body, "buildpacks"));
        else
            s_print_buildpacks (app, reply->body);
        msg_destroy (&reply);
    }
    free (app);
    return code;
}
