//  bench-dynos - dyno spawn, first restart, scale-out and failover, beside
//  a bare fork+exec
//
//  Usage: bench-dynos --dynod PATH --dyno PATH [--quick] [--keep]
//
//  Must run as root (the supervisor's sandbox needs it). Measures, in one
//  run (what each side measures is in bench_spawn.c and bench_scale.c):
//      (a) spawn     median and p90 of 50 (--quick: 10) starts of a worker
//                    dyno (dyno.assign sent -> its command exec'd), of a
//                    bare fork+exec of the same bash command and of a
//                    clone into the same namespaces + exec; spawn overhead
//                    = dyno - bare
//      (b) restart   median of 10 (--quick: 3) first crash restarts
//                    (SIGKILL of the command -> the new incarnation's exec)
//      (c) scale     `dyno ps:scale web=0` then `web=50` of a socat web
//                    app until all 50 are `up`
//      (d) failover  web=10 over two supervisors; SIGKILL of one until all
//                    10 are `up` on the other (1 s heartbeats, liveness 3)
//  (a) and (b) run against `dynod up --actors log-plex,dyno-supervisor`
//  (the bench speaks for the scheduler), (c) and (d) against a whole
//  `dynod up` plus a second supervisor. Prints a table beside the targets
//  and ends with one RESULT line; docs/performance.md ("Dynos") explains.
//
//  Owns the dynod up children (SIGTERM at the end; they get SIGTERM too
//  if we die first), the temporary directory and the marker directory
//  under /run (both removed at the end). Exit codes: 0 ran (targets are
//  reported, not enforced), 1 a phase failed, 2 usage error.

#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BDY_STOP_MS         15000   // SIGTERM, then SIGKILL after this long

//  Targets from the issue.
#define BDY_TARGET_OVERHEAD_MS  3.0
#define BDY_TARGET_RESTART_MS   50.0
#define BDY_TARGET_SCALE_S      5.0
#define BDY_TARGET_FAILOVER_S   5.0

typedef struct {
    bdy_t bench;
    bool keep;                      // --keep: leave the temporary directory
    bdy_spawn_t spawn;
    bdy_scale_t scale;
    char load [4][64];              // /proc/loadavg before each phase and at the end
} s_main_t;

// ---------------------------------------------------------------------------
//  Setup and teardown

static void
s_usage (FILE *file)
{
    fprintf (file, "usage: bench-dynos --dynod PATH --dyno PATH [--quick] [--keep]\n");
}

static int
s_parse (s_main_t *self, int argc, char **argv)
{
    static const struct option opts [] = {
        { "dynod", required_argument, NULL, 'd' },
        { "dyno", required_argument, NULL, 'c' },
        { "quick", no_argument, NULL, 'q' },
        { "keep", no_argument, NULL, 'K' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long (argc, argv, "d:c:qKh", opts, NULL)) != -1) {
        switch (c) {
            case 'd': self->bench.dynod = optarg; break;
            case 'c': self->bench.dyno = optarg; break;
            case 'q': self->bench.quick = true; break;
            case 'K': self->keep = true; break;
            case 'h':
                s_usage (stdout);
                printf ("Measures dyno spawn against a bare fork+exec, the first crash restart,\n"
                        "ps:scale web=0 -> web=50 and the loss of a supervisor; runs as root.\n"
                        "--quick: fewer samples (%d spawns, %d restarts). --keep: leave the\n"
                        "temporary directory. See docs/performance.md (\"Dynos\").\n",
                        BDY_QUICK_SPAWN, BDY_QUICK_RESTART);
                exit (0);
            default:
                s_usage (stderr);
                return 2;
        }
    }
    if (!self->bench.dynod || !self->bench.dyno || optind != argc) {
        s_usage (stderr);
        return 2;
    }
    return 0;
}

static void
s_load (char out [64])
{
    FILE *file = fopen ("/proc/loadavg", "r");
    out [0] = 0;
    if (file && fgets (out, 64, file)) {
        //  The three averages only.
        char *p = out;
        for (int spaces = 0; *p; p++)
            if (*p == ' ' && ++spaces == 3) {
                *p = 0;
                break;
            }
    }
    if (file)
        fclose (file);
}

static int
s_setup (s_main_t *self, char *why, size_t why_len)
{
    bdy_t *b = &self->bench;
    if (geteuid () != 0) {
        snprintf (why, why_len, "must run as root (the dyno sandbox needs it)");
        return -1;
    }
    if (bcm_tmp_make (b->tmp, sizeof b->tmp, "bench-dynos", "dynod-bench-dynos"))
        return -1;
    if (bdy_marker_make (b, why, why_len))
        return -1;
    //  What dynod up and every dyno child see: our token, config/data homes
    //  inside the temporary directory, room for 50 dynos.
    bcm_env_setup (b->tmp, b->token);
    setenv ("DYNOD_SUPERVISOR_MEM_MB", BDY_CAPACITY_MB, 1);
    return 0;
}

static void
s_teardown (s_main_t *self)
{
    if (self->bench.up > 0)
        bdy_system_stop (&self->bench);
    bdy_marker_remove (&self->bench);
    bcm_tmp_done (self->bench.tmp, self->keep, "bench-dynos");
}

// ---------------------------------------------------------------------------
//  Report

static void
s_row (const char *figure, const char *ours, const char *peer, const char *ratio, const char *target,
       int met)
{
    printf ("%-34s %14s %14s %7s   %-10s %s\n", figure, ours, peer, ratio, target,
            met < 0 ? "" : met ? "met" : "MISSED");
}

//  "median (p90)" of sorted samples.
static void
s_mp (char *out, size_t len, const double *v, int n)
{
    snprintf (out, len, "%.2f (%.2f)", bcm_percentile (v, (size_t) n, 50), bcm_percentile (v, (size_t) n, 90));
}

static double
s_med (const double *v, int n)
{
    return bcm_percentile (v, (size_t) n, 50);
}

static void
s_report (s_main_t *self)
{
    const bdy_spawn_t *s = &self->spawn;
    const bdy_scale_t *c = &self->scale;
    char a [48], b [48], r [32];
    double bare = s_med (s->bare_ms, s->runs), dyno = s_med (s->dyno_ms, s->runs);
    double unshare = s_med (s->unshare_ms, s->runs);
    printf ("\n%-34s %14s %14s %7s   %-10s\n", "figure (median (p90))", "ours", "peer", "ratio", "target");
    s_mp (a, sizeof a, s->dyno_ms, s->runs);
    s_mp (b, sizeof b, s->bare_ms, s->runs);
    snprintf (r, sizeof r, "%.1f", bare > 0 ? dyno / bare : 0);
    s_row ("spawn ms (peer: bare fork+exec)", a, b, r, "", -1);
    s_mp (b, sizeof b, s->unshare_ms, s->runs);
    snprintf (r, sizeof r, "%.1f", unshare > 0 ? dyno / unshare : 0);
    s_row ("  (peer: clone into namespaces)", a, b, r, "", -1);
    snprintf (a, sizeof a, "%.2f", dyno - bare);
    snprintf (b, sizeof b, "%.2f", unshare - bare);
    s_row ("spawn overhead ms (peer: unshare)", a, b, "", "<= 3 ms", dyno - bare <= BDY_TARGET_OVERHEAD_MS);
    s_mp (a, sizeof a, s->dyno_up_ms, s->runs);
    s_row ("  dyno.assign -> `up` received ms", a, "", "", "", -1);
    s_mp (a, sizeof a, s->restart_ms, s->restarts);
    s_row ("first restart ms (kill -> exec)", a, "", "", "<= 50 ms", s_med (s->restart_ms, s->restarts)
           <= BDY_TARGET_RESTART_MS);
    s_mp (a, sizeof a, s->crashed_ms, s->restarts);
    s_row ("  kill -> `crashed` received ms", a, "", "", "", -1);
    s_mp (a, sizeof a, s->restart_up_ms, s->restarts);
    s_row ("  kill -> `up` received ms", a, "", "", "", -1);
    snprintf (a, sizeof a, "%.2f", c->scale_s);
    s_row ("web=0 -> web=50 all up s", a, "", "", "<= 5 s", c->scale_s <= BDY_TARGET_SCALE_S);
    snprintf (a, sizeof a, "%.3f", c->scale_cli_s);
    s_row ("  ps:scale CLI done s", a, "", "", "", -1);
    snprintf (a, sizeof a, "%.3f", c->scale_starting_s);
    s_row ("  first `starting` s", a, "", "", "", -1);
    snprintf (a, sizeof a, "%.3f / %.3f", c->scale_first_s, c->scale_half_s);
    s_row ("  first / 25th up s", a, "", "", "", -1);
    snprintf (a, sizeof a, "%.2f", c->failover_s);
    s_row ("supervisor lost -> all up s", a, "", "", "<= 5 s", c->failover_s <= BDY_TARGET_FAILOVER_S);
    snprintf (a, sizeof a, "%.3f", c->failover_down_s);
    s_row ("  SIGKILL -> actor.down s", a, "", "", "", -1);
    snprintf (a, sizeof a, "%.3f", c->failover_first_s);
    s_row ("  SIGKILL -> first moved up s", a, "", "", "", -1);
}

int
main (int argc, char **argv)
{
    s_main_t self = { .bench.up_out = -1 };
    int rc = s_parse (&self, argc, argv);
    if (rc)
        return rc;
    signal (SIGPIPE, SIG_IGN);
    bdy_t *b = &self.bench;
    char why [600] = "";
    self.spawn.runs = b->quick ? BDY_QUICK_SPAWN : BDY_SPAWN_RUNS;
    self.spawn.restarts = b->quick ? BDY_QUICK_RESTART : BDY_RESTART_RUNS;
    if (s_setup (&self, why, sizeof why)) {
        if (why [0])
            fprintf (stderr, "bench-dynos: %s\n", why);
        s_teardown (&self);
        return 1;
    }
    printf ("dynod dynos benchmark\n");
    printf ("  machine   %ld CPUs; marker %s (a copy of /bin/sleep)\n", sysconf (_SC_NPROCESSORS_ONLN), b->marker);
    s_load (self.load [0]);
    printf ("  spawn     load %s; %d bare fork+exec, %d clone+exec, %d dyno starts, then %d crashes ...\n",
            self.load [0], self.spawn.runs, self.spawn.runs, self.spawn.runs, self.spawn.restarts);
    fflush (stdout);
    rc = bdy_system_start (b, "log-plex,dyno-supervisor", "data", why, sizeof why);
    if (rc == 0)
        rc = bdy_spawn_run (b, &self.spawn, why, sizeof why);
    if (rc) {
        fprintf (stderr, "bench-dynos: spawn phase failed: %s (log: %s)\n", why, b->up_log);
        self.keep = true;
        s_teardown (&self);
        return 1;
    }
    bdy_system_stop (b);
    s_load (self.load [1]);
    const bdy_spawn_t *sp = &self.spawn;
    printf ("            dyno starts ms:");
    for (int i = 0; i < sp->runs; i++)
        printf (" %.1f", sp->dyno_ms [i]);
    printf ("\n            restarts ms:");
    for (int i = 0; i < sp->restarts; i++)
        printf (" %.1f", sp->restart_ms [i]);
    printf ("\n            done; load %s; starting a whole dynod up ...\n", self.load [1]);
    fflush (stdout);
    rc = bdy_system_start (b, "", "data2", why, sizeof why);
    if (rc == 0)
        rc = bdy_scale_run (b, &self.scale, why, sizeof why);
    if (rc) {
        fprintf (stderr, "bench-dynos: scale phase failed: %s (logs: %s)\n", why, b->tmp);
        self.keep = true;
        s_teardown (&self);
        return 1;
    }
    s_load (self.load [2]);
    printf ("            done; load %s; %d of %d web dynos were on the killed supervisor\n", self.load [2],
            self.scale.failover_moved, BDY_FAILOVER_N);
    s_report (&self);
    s_teardown (&self);
    const bdy_spawn_t *s = &self.spawn;
    double bare = s_med (s->bare_ms, s->runs), dyno = s_med (s->dyno_ms, s->runs);
    printf ("\nRESULT fork_exec_ms=%.2f spawn_ms=%.2f spawn_overhead_ms=%.2f first_restart_ms=%.1f "
            "scale50_s=%.2f failover_s=%.2f\n", bare, dyno, dyno - bare, s_med (s->restart_ms, s->restarts),
            self.scale.scale_s, self.scale.failover_s);
    return 0;
}
