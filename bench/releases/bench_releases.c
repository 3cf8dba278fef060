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

#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    bcm_up_t up;                    // dynod up: pid, stdout, stderr's path
    brl_config_t config;
    brl_deploy_t deploy;
} s_main_t;

// ---------------------------------------------------------------------------
//  The measured system

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
    double deadline = bcm_now () + BRL_APP_KNOWN_MS / 1000.0;
    while (bcm_now () < deadline) {
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

//  Adds a child's CPU seconds to its slot: broker, config-keeper,
//  release-keeper, every other child.
static bool
s_on_child (pid_t pid, double cpu_s, const char *const arg [3], void *ctx)
{
    (void) pid;
    double *cpu = ctx;
    //  argv: dynod actor NAME ... or dynod broker ...
    const char *arg1 = arg [0], *arg2 = arg [1];
    int slot = 3;
    if (strcmp (arg1, "broker") == 0)
        slot = 0;
    else if (strcmp (arg1, "actor") == 0 && strcmp (arg2, "config-keeper") == 0)
        slot = 1;
    else if (strcmp (arg1, "actor") == 0 && strcmp (arg2, "release-keeper") == 0)
        slot = 2;
    cpu [slot] += cpu_s;
    return false;
}

void
brl_children_cpu (brl_t *self, double cpu [4])
{
    memset (cpu, 0, 4 * sizeof *cpu);
    bcm_children_each (self->up, s_on_child, cpu);
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
    if (bcm_tmp_make (b->tmp, sizeof b->tmp, "bench-releases", "dynod-bench-rel"))
        return -1;
    //  What dynod up and every dyno child see: our token, our broker, and
    //  config/data homes inside the temporary directory.
    bcm_env_setup (b->tmp, b->token);
    int rc = bcm_up_start (&self->up, "bench-releases", b->dynod, b->tmp, BRL_READY_MS, NULL);
    b->up = self->up.pid;
    snprintf (b->endpoint, sizeof b->endpoint, "%s", self->up.endpoint);
    if (rc)
        return -1;
    setenv ("DYNOD_BROKER", b->endpoint, 1);
    return 0;
}

static void
s_teardown (s_main_t *self)
{
    bcm_up_stop (&self->up, BRL_STOP_MS);
    self->bench.up = 0;
    bcm_tmp_done (self->bench.tmp, self->keep, "bench-releases");
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
    s_main_t self = { .up.out = -1 };
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
