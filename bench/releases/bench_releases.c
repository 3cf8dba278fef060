//  bench-releases - config changes and deploys end to end, beside `tar czf`
//
//  Usage: bench-releases --dynod PATH --dyno PATH [--seconds S] [--skip-deploy] [--keep]
//
//  Starts `dynod up` as a child on free ports with a fresh data directory
//  under $TMPDIR or /tmp (fsync on: it must be a real disk), and measures:
//      (a) config    config.set round trips from BRL_CLIENTS (8) threads,
//                    each with its own client and its own app, durable, each
//                    done when release-keeper's release.info arrives (what
//                    `dyno config:set` waits for): changes per second over
//                    S seconds (default 5) after a 1 s warm-up, p50/p99
//                    latency, broker journal entries and CPU per change
//      (b) deploy    `dyno deploy DIR -a APP` of a generated ~50 MB tree
//                    (400 files, half text, half random bytes, a Procfile):
//                    wall time of the process, split into upload / build /
//                    release from the times its output lines arrive; the
//                    median of BRL_DEPLOY_RUNS (3) runs, beside the median
//                    of 3 `tar czf OUT -C DIR .` of the same tree
//  Prints a table beside the targets and ends with one RESULT line; what it
//  means is in docs/performance.md ("Releases").
//
//  Owns the dynod up child (SIGTERM at the end; it gets SIGTERM too if we
//  die first) and the temporary directory (removed at the end). Sets
//  DYNOD_BROKER, DYNOD_API_TOKEN and XDG_* in its own environment so the
//  `dyno` children reach the measured system and nothing of the user's.
//  Exit codes: 0 ran (targets are reported, not enforced), 1 a phase failed,
//  2 usage error.

#define _XOPEN_SOURCE 700           // nftw

#include "bench.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BRL_READY_MS        40000   // dynod up must print its ready line by then
#define BRL_STOP_MS         15000   // SIGTERM, then SIGKILL after this long
#define BRL_APP_KNOWN_MS    10000   // config-keeper learns of a new app by then

//  Targets from the issue.
#define BRL_TARGET_SETS_PER_S   2000.0
#define BRL_TARGET_DEPLOY_S     3.0
#define BRL_TARGET_RATIO        1.5

typedef struct {
    brl_t bench;
    double seconds;
    bool skip_deploy;
    bool keep;                      // --keep: leave the temporary directory
    int up_out;                     // dynod up's stdout
    char log_path [300];            // dynod up's stderr
    brl_config_t config;
    brl_deploy_t deploy;
} s_main_t;

double
brl_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int
s_cmp_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

void
brl_sort (double *values, size_t count)
{
    qsort (values, count, sizeof *values, s_cmp_double);
}

double
brl_percentile (const double *values, size_t count, double p)
{
    if (count == 0)
        return 0;
    size_t rank = (size_t) ((p * (double) count + 99.999) / 100.0);
    return values [(rank ? rank : 1) - 1];
}

// ---------------------------------------------------------------------------
//  The measured system

static int
s_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    socklen_t len = sizeof addr;
    int port = -1;
    if (fd >= 0 && bind (fd, (struct sockaddr *) &addr, sizeof addr) == 0
    &&  getsockname (fd, (struct sockaddr *) &addr, &len) == 0)
        port = ntohs (addr.sin_port);
    if (fd >= 0)
        close (fd);
    return port;
}

//  Waits for `dynod ready:` on the child's stdout.
static int
s_wait_ready (s_main_t *self)
{
    char buf [4096];
    size_t len = 0;
    double deadline = brl_now () + BRL_READY_MS / 1000.0;
    while (brl_now () < deadline) {
        struct pollfd pfd = { self->up_out, POLLIN, 0 };
        if (poll (&pfd, 1, 100) <= 0)
            continue;
        ssize_t n = read (self->up_out, buf + len, sizeof buf - 1 - len);
        if (n <= 0)
            return -1;              // dynod up exited
        len += (size_t) n;
        buf [len] = 0;
        if (strstr (buf, "dynod ready:"))
            return 0;
        if (len == sizeof buf - 1)
            len = 0;
    }
    return -1;
}

static int
s_up_start (s_main_t *self)
{
    brl_t *b = &self->bench;
    char data [320], ports [4][16];
    snprintf (data, sizeof data, "%s/data", b->tmp);
    snprintf (self->log_path, sizeof self->log_path, "%s/dynod-up.log", b->tmp);
    int broker_port = s_free_port ();
    snprintf (b->endpoint, sizeof b->endpoint, "tcp://127.0.0.1:%d", broker_port);
    snprintf (ports [0], sizeof ports [0], "%d", broker_port);
    for (int i = 1; i < 4; i++)
        snprintf (ports [i], sizeof ports [i], "%d", s_free_port ());
    int out [2];
    if (pipe (out))
        return -1;
    pid_t pid = fork ();
    if (pid == 0) {
        prctl (PR_SET_PDEATHSIG, SIGTERM);
        dup2 (out [1], STDOUT_FILENO);
        int log = open (self->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (log >= 0)
            dup2 (log, STDERR_FILENO);
        close (out [0]);
        close (out [1]);
        execl (b->dynod, "dynod", "up", "--data", data, "--broker-port", ports [0],
               "--http-port", ports [1], "--https-port", ports [2], "--logs-port", ports [3],
               (char *) NULL);
        fprintf (stderr, "cannot run '%s': %s\n", b->dynod, strerror (errno));
        _exit (127);
    }
    close (out [1]);
    if (pid < 0) {
        close (out [0]);
        return -1;
    }
    b->up = pid;
    self->up_out = out [0];
    if (s_wait_ready (self) == 0)
        return 0;
    fprintf (stderr, "bench-releases: '%s up' did not become ready; the end of its log:\n", b->dynod);
    char *log = NULL;
    size_t len = 0;
    if (act_read_file (self->log_path, &log, &len) == 0)
        fprintf (stderr, "%s", log + (len > 2000 ? len - 2000 : 0));
    free (log);
    return -1;
}

static void
s_up_stop (s_main_t *self)
{
    pid_t pid = self->bench.up;
    if (pid <= 0)
        return;
    kill (pid, SIGTERM);
    double deadline = brl_now () + BRL_STOP_MS / 1000.0;
    while (waitpid (pid, NULL, WNOHANG) == 0) {
        if (brl_now () > deadline) {
            kill (pid, SIGKILL);
            waitpid (pid, NULL, 0);
            break;
        }
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        nanosleep (&ts, NULL);
    }
    self->bench.up = 0;
    close (self->up_out);
}

act_client_t *
brl_client (brl_t *self, const char *name, char *why, size_t why_len)
{
    int rc;
    act_client_t *client = act_client_new (self->endpoint, self->token, name, BRL_CONNECT_MS, &rc);
    if (!client)
        snprintf (why, why_len, "cannot register with the broker: %s", act_strerror (rc));
    return client;
}

int
brl_app_create (brl_t *self, act_client_t *client, const char *name, char *why, size_t why_len)
{
    (void) self;
    msg_t *req = act_client_msg_new (client, MSG_TYPE_APP_CREATE, "release-keeper");
    req->durable = true;
    msg_set_str (req, "name", name);
    msg_set_str (req, "by", "bench");
    msg_t *reply = NULL;
    int rc = act_client_call (client, &req, BRL_CALL_MS, &reply);
    if (rc) {
        snprintf (why, why_len, "app.create '%s': %s", name,
                  reply ? msg_str (reply, "reason", act_strerror (rc)) : act_strerror (rc));
        msg_destroy (&reply);
        return -1;
    }
    msg_destroy (&reply);
    //  config-keeper hears of the app from release-keeper's app.created.
    double deadline = brl_now () + BRL_APP_KNOWN_MS / 1000.0;
    while (brl_now () < deadline) {
        req = act_client_msg_new (client, MSG_TYPE_CONFIG_GET, "config-keeper");
        msg_set_str (req, "app", name);
        rc = act_client_call (client, &req, BRL_CALL_MS, &reply);
        msg_destroy (&reply);
        if (rc == 0)
            return 0;
        struct timespec ts = { 0, 20 * 1000 * 1000 };
        nanosleep (&ts, NULL);
    }
    snprintf (why, why_len, "config-keeper does not know app '%s' after %d ms: %s", name,
              BRL_APP_KNOWN_MS, act_strerror (rc));
    return -1;
}

int64_t
brl_journal_head (brl_t *self)
{
    //  A client of its own: one left idle longer than the broker's liveness
    //  interval has been dropped.
    char why [256];
    act_client_t *client = brl_client (self, "bench-status", why, sizeof why);
    if (!client)
        return -1;
    msg_t *req = act_client_msg_new (client, MSG_TYPE_BROKER_STATUS, "broker");
    msg_t *reply = NULL;
    int rc = act_client_call (client, &req, BRL_CALL_MS, &reply);
    int64_t head = rc == 0 ? msg_int (reply, "journal_head", -1) : -1;
    msg_destroy (&reply);
    act_client_destroy (&client);
    return head;
}

//  utime + stime of /proc/PID/stat in seconds, and its parent pid.
static int
s_proc_cpu (const char *pid, double *seconds, long *ppid)
{
    char path [300], buf [1024];
    snprintf (path, sizeof path, "/proc/%s/stat", pid);
    FILE *file = fopen (path, "r");
    if (!file)
        return -1;
    size_t len = fread (buf, 1, sizeof buf - 1, file);
    fclose (file);
    buf [len] = 0;
    char *close_paren = strrchr (buf, ')');
    unsigned long utime, stime;
    if (!close_paren
    ||  sscanf (close_paren + 2, "%*c %ld %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", ppid, &utime,
                &stime) != 3)
        return -1;
    *seconds = (double) (utime + stime) / (double) sysconf (_SC_CLK_TCK);
    return 0;
}

void
brl_children_cpu (brl_t *self, double cpu [4])
{
    memset (cpu, 0, 4 * sizeof *cpu);
    DIR *dir = opendir ("/proc");
    struct dirent *entry;
    while (dir && (entry = readdir (dir))) {
        double seconds;
        long ppid;
        if (entry->d_name [0] < '1' || entry->d_name [0] > '9'
        ||  s_proc_cpu (entry->d_name, &seconds, &ppid) || ppid != (long) self->up)
            continue;
        //  argv: dynod actor NAME ... or dynod broker ...
        char path [300], args [512];
        snprintf (path, sizeof path, "/proc/%s/cmdline", entry->d_name);
        int fd = open (path, O_RDONLY);
        ssize_t n = fd >= 0 ? read (fd, args, sizeof args - 1) : -1;
        if (fd >= 0)
            close (fd);
        if (n <= 0)
            continue;
        args [n] = 0;
        //  The NUL-separated arguments after argv[0].
        const char *arg [3] = { "", "", "" };
        size_t at = strlen (args) + 1;
        for (int k = 0; k < 3 && at < (size_t) n; k++) {
            arg [k] = args + at;
            at += strlen (args + at) + 1;
        }
        const char *arg1 = arg [0], *arg2 = arg [1];
        int slot = 3;
        if (strcmp (arg1, "broker") == 0)
            slot = 0;
        else if (strcmp (arg1, "actor") == 0 && strcmp (arg2, "config-keeper") == 0)
            slot = 1;
        else if (strcmp (arg1, "actor") == 0 && strcmp (arg2, "release-keeper") == 0)
            slot = 2;
        cpu [slot] += seconds;
    }
    if (dir)
        closedir (dir);
}

// ---------------------------------------------------------------------------
//  Setup and teardown

static int
s_parse (s_main_t *self, int argc, char **argv)
{
    static const struct option opts [] = {
        { "dynod", required_argument, NULL, 'd' },
        { "dyno", required_argument, NULL, 'c' },
        { "seconds", required_argument, NULL, 's' },
        { "skip-deploy", no_argument, NULL, 'k' },
        { "keep", no_argument, NULL, 'K' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    self->seconds = 5;
    int c;
    while ((c = getopt_long (argc, argv, "d:c:s:kKh", opts, NULL)) != -1) {
        switch (c) {
            case 'd': self->bench.dynod = optarg; break;
            case 'c': self->bench.dyno = optarg; break;
            case 's': self->seconds = atof (optarg); break;
            case 'k': self->skip_deploy = true; break;
            case 'K': self->keep = true; break;
            case 'h':
                printf ("usage: bench-releases --dynod PATH --dyno PATH [--seconds S] [--skip-deploy] [--keep]\n"
                        "Measures config changes and deploys end to end; see docs/performance.md.\n");
                exit (0);
            default: return 2;
        }
    }
    if (!self->bench.dynod || !self->bench.dyno || optind != argc || self->seconds <= 0
    ||  self->seconds > BRL_SECONDS_MAX) {
        fprintf (stderr, "usage: bench-releases --dynod PATH --dyno PATH [--seconds S] [--skip-deploy] [--keep]\n");
        return 2;
    }
    return 0;
}

static int
s_setup (s_main_t *self)
{
    brl_t *b = &self->bench;
    const char *tmpdir = getenv ("TMPDIR") ? getenv ("TMPDIR") : "/tmp";
    snprintf (b->tmp, sizeof b->tmp, "%s/dynod-bench-rel-XXXXXX", tmpdir);
    if (!mkdtemp (b->tmp)) {
        fprintf (stderr, "bench-releases: cannot create '%s': %s\n", b->tmp, strerror (errno));
        b->tmp [0] = 0;
        return -1;
    }
    act_rng_t rng;
    act_rng_init (&rng, act_seed_from_os ());
    act_rng_id (&rng, b->token);
    //  What dynod up and every dyno child see: our token, our broker, and
    //  config/data homes inside the temporary directory.
    char path [320];
    setenv ("DYNOD_API_TOKEN", b->token, 1);
    snprintf (path, sizeof path, "%s/config", b->tmp);
    setenv ("XDG_CONFIG_HOME", path, 1);
    snprintf (path, sizeof path, "%s/xdg-data", b->tmp);
    setenv ("XDG_DATA_HOME", path, 1);
    unsetenv ("DYNOD_APP");
    if (s_up_start (self))
        return -1;
    setenv ("DYNOD_BROKER", b->endpoint, 1);
    return 0;
}

static int
s_remove (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st; (void) flag; (void) ftw;
    remove (path);
    return 0;
}

static void
s_teardown (s_main_t *self)
{
    s_up_stop (self);
    if (self->keep && self->bench.tmp [0])
        fprintf (stderr, "bench-releases: kept %s\n", self->bench.tmp);
    else if (self->bench.tmp [0])
        nftw (self->bench.tmp, s_remove, 16, FTW_DEPTH | FTW_PHYS);
}

// ---------------------------------------------------------------------------
//  Report

static void
s_cpu_name (char *out, size_t len)
{
    snprintf (out, len, "unknown CPU");
    FILE *file = fopen ("/proc/cpuinfo", "r");
    char line [256];
    while (file && fgets (line, sizeof line, file))
        if (strncmp (line, "model name", 10) == 0) {
            char *colon = strchr (line, ':');
            if (colon) {
                snprintf (out, len, "%s", colon + 2);
                out [strcspn (out, "\n")] = 0;
            }
            break;
        }
    if (file)
        fclose (file);
}

static void
s_row (const char *figure, const char *ours, const char *peer, const char *ratio,
       const char *target, bool met)
{
    printf ("%-32s %12s %12s %8s   %-14s %s\n", figure, ours, peer, ratio, target,
            target [0] ? (met ? "met" : "MISSED") : "");
}

static void
s_report (s_main_t *self)
{
    brl_config_t *c = &self->config;
    brl_deploy_t *d = &self->deploy;
    char a [32], b [32], r [32];
    printf ("\n%-32s %12s %12s %8s   %-14s %s\n", "figure", "ours", "peer", "ratio", "target", "");
    snprintf (a, sizeof a, "%.0f", c->rate);
    s_row ("config:set acknowledged /s", a, "", "", ">= 2000", c->rate >= BRL_TARGET_SETS_PER_S);
    snprintf (a, sizeof a, "%.2f", c->p50_ms);
    s_row ("config:set p50 latency ms", a, "", "", "", false);
    snprintf (a, sizeof a, "%.2f", c->p99_ms);
    s_row ("config:set p99 latency ms", a, "", "", "", false);
    if (self->skip_deploy)
        return;
    const brl_deploy_run_t *med = &d->runs [BRL_DEPLOY_RUNS / 2];
    double tar = d->tar_s [BRL_DEPLOY_RUNS / 2];
    snprintf (a, sizeof a, "%.2f", med->total_s);
    snprintf (b, sizeof b, "%.2f", tar);
    snprintf (r, sizeof r, "%.2f", tar > 0 ? med->total_s / tar : 0);
    s_row ("50 MB deploy s (peer tar czf)", a, b, r, "< 3 s", med->total_s < BRL_TARGET_DEPLOY_S);
    s_row ("deploy / tar czf", r, "", "", "<= 1.5", tar > 0 && med->total_s / tar <= BRL_TARGET_RATIO);
    double fast = d->fast_s [BRL_DEPLOY_RUNS / 2];
    snprintf (b, sizeof b, "%.2f", fast);
    snprintf (r, sizeof r, "%.2f", fast > 0 ? med->total_s / fast : 0);
    s_row ("  beside tar + gzip -1 s", a, b, r, "", false);
    static const char *steps [BRL_STEPS] = { "upload (archive+send)", "build", "release" };
    for (int i = 0; i < BRL_STEPS; i++) {
        char figure [64];
        snprintf (figure, sizeof figure, "  %s s", steps [i]);
        if (med->step_s [i] < 0)
            snprintf (a, sizeof a, "n/a");
        else
            snprintf (a, sizeof a, "%.2f (%2.0f%%)", med->step_s [i], 100 * med->step_s [i] / med->total_s);
        s_row (figure, a, "", "", "", false);
    }
}

int
main (int argc, char **argv)
{
    s_main_t self = { .up_out = -1 };
    int rc = s_parse (&self, argc, argv);
    if (rc)
        return rc;
    signal (SIGPIPE, SIG_IGN);
    if (s_setup (&self)) {
        s_teardown (&self);
        return 1;
    }
    char cpu [128], why [512] = "";
    s_cpu_name (cpu, sizeof cpu);
    printf ("dynod releases benchmark\n");
    printf ("  machine   %ld CPUs, %s\n", sysconf (_SC_NPROCESSORS_ONLN), cpu);
    printf ("  system    dynod up pid %d on %s, data %s/data, fsync on\n", (int) self.bench.up,
            self.bench.endpoint, self.bench.tmp);
    fflush (stdout);

    self.config.warmup_s = 1;
    self.config.measure_s = self.seconds;
    printf ("  config    %d clients, one app each, %d keys each; warm-up %.0f s, measured %.0f s ...\n",
            BRL_CLIENTS, BRL_KEYS, self.config.warmup_s, self.config.measure_s);
    fflush (stdout);
    rc = brl_config_run (&self.bench, &self.config, why, sizeof why);
    if (rc) {
        fprintf (stderr, "bench-releases: config phase failed: %s\n", why);
        s_teardown (&self);
        return 1;
    }
    const brl_config_t *c = &self.config;
    printf ("            %zu changes acknowledged; max %.1f ms; %.2f journal entries per change;\n"
            "            CPU ms per change: broker %.3f, config-keeper %.3f, release-keeper %.3f,\n"
            "            other actors %.3f, the 8 clients %.3f; %.2f of %ld CPUs busy meanwhile,\n"
            "            %.2f of them by other processes\n",
            c->count, c->max_ms, c->journaled, c->cpu_ms [0], c->cpu_ms [1], c->cpu_ms [2],
            c->cpu_ms [3], c->cpu_ms [4], c->busy, sysconf (_SC_NPROCESSORS_ONLN), c->others);
    printf ("            per second of the window:");
    for (size_t k = 0; k < (size_t) self.seconds && k < BRL_SECONDS_MAX; k++)
        printf (" %zu", c->per_second [k]);
    printf ("\n");
    if (!self.skip_deploy) {
        printf ("  deploy    generating the source tree, then %d deploys and %d x tar czf ...\n",
                BRL_DEPLOY_RUNS, BRL_DEPLOY_RUNS);
        fflush (stdout);
        rc = brl_deploy_run (&self.bench, &self.deploy, why, sizeof why);
        if (rc) {
            fprintf (stderr, "bench-releases: deploy phase failed: %s\n", why);
            s_teardown (&self);
            return 1;
        }
        const brl_deploy_t *d = &self.deploy;
        printf ("            tree: %zu files, %.1f MB; tar czf output %.1f MB\n", d->files,
                (double) d->bytes / 1e6, (double) d->tar_bytes / 1e6);
        printf ("            deploys: ");
        for (int i = 0; i < BRL_DEPLOY_RUNS; i++)
            printf ("%s%.2f s", i ? ", " : "", d->runs [i].total_s);
        printf ("; tar czf: ");
        for (int i = 0; i < BRL_DEPLOY_RUNS; i++)
            printf ("%s%.2f s", i ? ", " : "", d->tar_s [i]);
        printf (";\n            tar with gzip -1: ");
        for (int i = 0; i < BRL_DEPLOY_RUNS; i++)
            printf ("%s%.2f s", i ? ", " : "", d->fast_s [i]);
        printf ("\n            the median deploy's output ends:\n%s", d->last_output);
    }
    s_report (&self);
    s_teardown (&self);
    printf ("\nRESULT config_sets_per_s=%.0f config_p50_ms=%.2f config_p99_ms=%.2f", c->rate,
            c->p50_ms, c->p99_ms);
    if (self.skip_deploy)
        printf ("\n");
    else {
        double deploy = self.deploy.runs [BRL_DEPLOY_RUNS / 2].total_s;
        double tar = self.deploy.tar_s [BRL_DEPLOY_RUNS / 2];
        printf (" deploy_50mb_s=%.2f tar_50mb_s=%.2f deploy_ratio=%.2f\n", deploy, tar,
                tar > 0 ? deploy / tar : 0);
    }
    return 0;
}
