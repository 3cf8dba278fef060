//  bench_deploy - phase (b): a 50 MB deploy end to end, beside `tar czf`
//
//  Generates `<tmp>/src`: BRL_FILES files of BRL_FILE_SIZE bytes in
//  BRL_DIRS folders, every other one text (words from a small vocabulary,
//  compressible like source code) and the others random bytes (like
//  images or vendored binaries), plus `Procfile` (`web: ./run.sh`) and an
//  executable `run.sh`: an app the built-in buildpack deploys as is.
//
//  Each run is the real command, `dyno deploy DIR -a bench-deploy`, a child
//  process with its stdout and stderr on one pipe; every output line is
//  stamped when it arrives. The steps, from those stamps:
//      upload   start -> the first build line (`-----> ...`): the CLI
//               starts, archives, compresses and streams the tree,
//               release-keeper stores and checks it and starts the build
//      build    -> the last build line before `-----> Launching`: the
//               build process (buildpack, Procfile, slug)
//      release  -> exit: the slug stored, the release cut and journaled,
//               release.info back to the CLI, which prints `Launching`
//  A step whose marker line never came is reported as n/a. The peer is
//  `tar czf OUT -C DIR .` of the same tree, run the same number of times;
//  beside it, for the reading, `tar -I 'gzip -1' -cf` (the CLI compresses
//  at level 1, tar czf at gzip's default 6).

#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define BRL_FILES           400
#define BRL_DIRS            20
#define BRL_FILE_SIZE       125000      // 400 x 125 kB = 50 MB
#define BRL_DEPLOY_APP      "bench-deploy"
#define BRL_DEPLOY_LIMIT_S  300.0       // a run that takes longer fails

// ---------------------------------------------------------------------------
//  The source tree

static uint64_t
s_xorshift (uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

static int
s_write (const char *path, const void *data, size_t len, mode_t mode)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0)
        return -errno;
    const char *p = data;
    while (len > 0) {
        ssize_t n = write (fd, p, len);
        if (n < 0) {
            int rc = -errno;
            close (fd);
            return rc;
        }
        p += n;
        len -= (size_t) n;
    }
    return close (fd) ? -errno : 0;
}

//  Fills `buf` with lines of words, like source text.
static void
s_text (char *buf, size_t len, uint64_t *rng)
{
    static const char *words [] = {
        "return", "static", "const", "char", "int", "self", "value", "if", "else", "for",
        "while", "struct", "json_t", "msg", "size_t", "len", "buf", "the", "release",
        "config", "deploy", "slug", "(", ")", "{", "}", ";", "=", "->", "0", "1", "NULL",
    };
    size_t nwords = sizeof words / sizeof words [0], at = 0, col = 0;
    while (at < len) {
        const char *w = words [s_xorshift (rng) % nwords];
        size_t wl = strlen (w);
        for (size_t i = 0; i < wl && at < len; i++)
            buf [at++] = w [i];
        col += wl + 1;
        if (at < len)
            buf [at++] = col > 72 ? '\n' : ' ';
        if (col > 72)
            col = 0;
    }
}

static int
s_make_tree (brl_t *self, char *dir, size_t dir_len, brl_deploy_t *out, char *why, size_t why_len)
{
    snprintf (dir, dir_len, "%s/src", self->tmp);
    char *buf = act_malloc (BRL_FILE_SIZE);
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    char path [512];
    int rc = mkdir (dir, 0755) ? -errno : 0;
    for (int d = 0; rc == 0 && d < BRL_DIRS; d++) {
        snprintf (path, sizeof path, "%s/d%02d", dir, d);
        rc = mkdir (path, 0755) ? -errno : 0;
    }
    for (int i = 0; rc == 0 && i < BRL_FILES; i++) {
        if (i % 2 == 0)
            s_text (buf, BRL_FILE_SIZE, &rng);
        else
            for (size_t k = 0; k + 8 <= BRL_FILE_SIZE; k += 8) {
                uint64_t v = s_xorshift (&rng);
                memcpy (buf + k, &v, 8);
            }
        snprintf (path, sizeof path, "%s/d%02d/f%03d.%s", dir, i % BRL_DIRS, i, i % 2 ? "bin" : "txt");
        rc = s_write (path, buf, BRL_FILE_SIZE, 0644);
        out->bytes += BRL_FILE_SIZE;
        out->files++;
    }
    free (buf);
    static const char procfile [] = "web: ./run.sh\n";
    static const char run [] = "#!/bin/sh\nexec sleep 100000\n";
    if (rc == 0) {
        snprintf (path, sizeof path, "%s/Procfile", dir);
        rc = s_write (path, procfile, sizeof procfile - 1, 0644);
    }
    if (rc == 0) {
        snprintf (path, sizeof path, "%s/run.sh", dir);
        rc = s_write (path, run, sizeof run - 1, 0755);
    }
    out->files += 2;
    out->bytes += sizeof procfile - 1 + sizeof run - 1;
    if (rc)
        snprintf (why, why_len, "cannot write '%s': %s", path, strerror (-rc));
    return rc ? -1 : 0;
}

// ---------------------------------------------------------------------------
//  Timed runs

//  Runs argv with stdout and stderr on a pipe; calls `on_line` with each
//  line and the time it arrived. Returns the exit status (-1: could not
//  run, or it took longer than BRL_DEPLOY_LIMIT_S), *seconds the wall time.
typedef void (s_line_fn) (void *arg, const char *line, double at);

static int
s_run (char *const argv [], s_line_fn *on_line, void *arg, double *seconds)
{
    int pipefd [2];
    if (pipe (pipefd))
        return -1;
    double t0 = bcm_now ();
    pid_t pid = fork ();
    if (pid == 0) {
        int null = open ("/dev/null", O_RDONLY);
        dup2 (null, STDIN_FILENO);
        dup2 (pipefd [1], STDOUT_FILENO);
        dup2 (pipefd [1], STDERR_FILENO);
        close (pipefd [0]);
        close (pipefd [1]);
        execvp (argv [0], argv);
        fprintf (stderr, "cannot run '%s': %s\n", argv [0], strerror (errno));
        _exit (127);
    }
    close (pipefd [1]);
    if (pid < 0) {
        close (pipefd [0]);
        return -1;
    }
    char line [4096];
    size_t len = 0;
    bool timed_out = false;
    for (;;) {
        struct pollfd pfd = { pipefd [0], POLLIN, 0 };
        if (bcm_now () - t0 > BRL_DEPLOY_LIMIT_S) {
            kill (pid, SIGKILL);
            timed_out = true;
            break;
        }
        if (poll (&pfd, 1, 200) <= 0)
            continue;
        char chunk [4096];
        ssize_t n = read (pipefd [0], chunk, sizeof chunk);
        if (n <= 0)
            break;
        double at = bcm_now () - t0;
        for (ssize_t i = 0; i < n; i++) {
            if (chunk [i] != '\n' && len < sizeof line - 1) {
                line [len++] = chunk [i];
                continue;
            }
            if (chunk [i] != '\n')
                continue;               // over-long line: cut
            line [len] = 0;
            if (on_line)
                on_line (arg, line, at);
            len = 0;
        }
    }
    if (len > 0 && on_line) {
        line [len] = 0;
        on_line (arg, line, bcm_now () - t0);
    }
    close (pipefd [0]);
    int status;
    waitpid (pid, &status, 0);
    *seconds = bcm_now () - t0;
    if (timed_out || !WIFEXITED (status))
        return -1;
    return WEXITSTATUS (status);
}

//  What one deploy's output told us.
typedef struct {
    double first_build, launching;  // arrival times, < 0 until seen
    double last_build;              // arrival of the latest line before `Launching`
    char tail [2048];               // the last lines
} s_output_t;

static void
s_on_deploy_line (void *arg, const char *line, double at)
{
    s_output_t *o = arg;
    if (o->first_build < 0 && strncmp (line, "----->", 6) == 0)
        o->first_build = at;
    if (o->launching < 0 && strncmp (line, "----->", 6) == 0 && strstr (line, "Launching"))
        o->launching = at;
    else if (o->launching < 0 && o->first_build >= 0)
        o->last_build = at;
    //  Keep the tail: drop whole lines from the front when full.
    size_t have = strlen (o->tail), add = strlen (line) + 13;
    while (have + add >= sizeof o->tail && have > 0) {
        char *nl = strchr (o->tail, '\n');
        size_t cut = nl ? (size_t) (nl - o->tail) + 1 : have;
        memmove (o->tail, o->tail + cut, have - cut + 1);
        have -= cut;
    }
    if (add < sizeof o->tail)
        snprintf (o->tail + have, sizeof o->tail - have, "  %7.3f s  %s\n", at, line);
}

static int
s_cmp_run (const void *a, const void *b)
{
    double x = ((const brl_deploy_run_t *) a)->total_s, y = ((const brl_deploy_run_t *) b)->total_s;
    return x < y ? -1 : x > y;
}

int
brl_deploy_run (brl_t *self, brl_deploy_t *out, char *why, size_t why_len)
{
    char dir [320];
    if (s_make_tree (self, dir, sizeof dir, out, why, why_len))
        return -1;
    act_client_t *admin = brl_client (self, "bench-admin", why, why_len);
    int rc = admin ? brl_app_create (self, admin, BRL_DEPLOY_APP, why, why_len) : -1;
    act_client_destroy (&admin);
    if (rc)
        return -1;
    s_output_t *outputs = act_calloc (BRL_DEPLOY_RUNS, sizeof *outputs);
    for (int i = 0; i < BRL_DEPLOY_RUNS; i++) {
        s_output_t *o = &outputs [i];
        memset (o, 0, sizeof *o);
        o->first_build = o->launching = o->last_build = -1;
        char *argv [] = { (char *) self->dyno, "deploy", dir, "-a", BRL_DEPLOY_APP, NULL };
        brl_deploy_run_t *run = &out->runs [i];
        int status = s_run (argv, s_on_deploy_line, o, &run->total_s);
        if (status != 0) {
            snprintf (why, why_len, "dyno deploy run %d exited with status %d; its output ends:\n%s",
                      i + 1, status, o->tail);
            free (outputs);
            return -1;
        }
        double upload_end = o->first_build, build_end = o->launching >= 0 ? o->last_build : -1;
        run->step_s [0] = upload_end;
        run->step_s [1] = upload_end >= 0 && build_end >= upload_end ? build_end - upload_end : -1;
        run->step_s [2] = build_end >= 0 ? run->total_s - build_end : -1;
    }
    //  Sort the runs by wall time, keeping the median's output.
    int median = 0;
    double times [BRL_DEPLOY_RUNS];
    for (int i = 0; i < BRL_DEPLOY_RUNS; i++)
        times [i] = out->runs [i].total_s;
    bcm_sort (times, BRL_DEPLOY_RUNS);
    for (int i = 0; i < BRL_DEPLOY_RUNS; i++)
        if (out->runs [i].total_s == times [BRL_DEPLOY_RUNS / 2])
            median = i;
    snprintf (out->last_output, sizeof out->last_output, "%s", outputs [median].tail);
    free (outputs);
    qsort (out->runs, BRL_DEPLOY_RUNS, sizeof out->runs [0], s_cmp_run);

    //  The peer.
    char tarball [320];
    snprintf (tarball, sizeof tarball, "%s/peer.tar.gz", self->tmp);
    for (int i = 0; i < BRL_DEPLOY_RUNS; i++) {
        char *argv [] = { "tar", "czf", tarball, "-C", dir, ".", NULL };
        int status = s_run (argv, NULL, NULL, &out->tar_s [i]);
        if (status != 0) {
            snprintf (why, why_len, "tar czf exited with status %d", status);
            return -1;
        }
    }
    bcm_sort (out->tar_s, BRL_DEPLOY_RUNS);
    struct stat st;
    if (stat (tarball, &st) == 0)
        out->tar_bytes = (uint64_t) st.st_size;
    //  For the reading: the same at gzip level 1, which the CLI uses.
    for (int i = 0; i < BRL_DEPLOY_RUNS; i++) {
        char *argv [] = { "tar", "-I", "gzip -1", "-cf", tarball, "-C", dir, ".", NULL };
        int status = s_run (argv, NULL, NULL, &out->fast_s [i]);
        if (status != 0) {
            snprintf (why, why_len, "tar -I 'gzip -1' exited with status %d", status);
            return -1;
        }
    }
    bcm_sort (out->fast_s, BRL_DEPLOY_RUNS);
    unlink (tarball);
    return 0;
}
