//  bench-hosts - failover, relocation and the cost of CURVE
//
//  Usage: bench-hosts --dynod PATH --dyno PATH [--trials N] [--apps N]
//                     [--count N] [--keep]
//
//  Must run as root (the dyno sandbox). Measures, in one run:
//      failover    a host's supervisor SIGKILLed with web dynos on it
//                  (10 over two supervisors) until all are `up` on the
//                  other, median and max over --trials (10); heartbeats
//                  every 1 s, liveness 3
//      relocation  release-keeper, config-keeper, scheduler and log-plex,
//                  each holding --apps (10,000) apps' state, stopped and
//                  started on an empty data directory: SIGTERM -> the
//                  first answer as before; relocation_s is the slowest
//      curve       the broker's routed throughput (pipelined pings
//                  between two clients), NULL loopback endpoint against
//                  a CURVE endpoint, interleaved rounds, medians; the
//                  ratio is CURVE / NULL
//  Prints a table beside the targets and ends with one RESULT line;
//  docs/performance.md ("Hosts") explains.
//
//  Owns the children it starts (SIGTERM at the end) and the temporary
//  directory (removed unless --keep). Exit codes: 0 ran (targets are
//  reported, not enforced), 1 a phase failed, 2 usage error.

#include "bench.h"
#include "../../actors/common/act.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BHO_TARGET_FAILOVER_S    5.0
#define BHO_TARGET_RELOCATION_S  2.0
#define BHO_TARGET_CURVE_RATIO   0.70    // CURVE costs at most 30% of throughput
#define BHO_COUNT                200000  // pings per throughput run
#define BHO_CAPACITY_MB          "100000"

typedef struct {
    bdy_t bench;
    bool keep;
    const char *only;               // --only PHASE: just that one (for working on it)
    int trials;
    double failover [BHO_TRIALS * 10];
    int moved [BHO_TRIALS * 10];
    bho_relocate_t relocate;
    bho_curve_t curve;
} s_main_t;

static void
s_usage (FILE *file)
{
    fprintf (file, "usage: bench-hosts --dynod PATH --dyno PATH [--trials N] [--apps N] [--count N] [--keep]\n");
}

static int
s_parse (s_main_t *self, int argc, char **argv)
{
    static const struct option opts [] = {
        { "dynod", required_argument, NULL, 'd' },
        { "dyno", required_argument, NULL, 'c' },
        { "trials", required_argument, NULL, 't' },
        { "apps", required_argument, NULL, 'a' },
        { "count", required_argument, NULL, 'n' },
        { "keep", no_argument, NULL, 'K' },
        { "only", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long (argc, argv, "d:c:t:a:n:Ko:h", opts, NULL)) != -1) {
        switch (c) {
            case 'd': self->bench.dynod = optarg; break;
            case 'c': self->bench.dyno = optarg; break;
            case 't': self->trials = atoi (optarg); break;
            case 'a': self->relocate.apps = atoi (optarg); break;
            case 'n': self->curve.count = (size_t) atol (optarg); break;
            case 'K': self->keep = true; break;
            case 'o': self->only = optarg; break;
            case 'h':
                s_usage (stdout);
                printf ("Measures host failover (--trials, default %d), the relocation of each stateful\n"
                        "actor holding --apps (default %d) apps' state, and the broker's throughput with\n"
                        "CURVE against without (--count pings per run, default %d). Runs as root.\n"
                        "--only failover|relocation|curve runs one phase (no RESULT line).\n"
                        "See docs/performance.md (\"Hosts\").\n", BHO_TRIALS, BHO_APPS, BHO_COUNT);
                exit (0);
            default:
                s_usage (stderr);
                return 2;
        }
    }
    bool phase_ok = !self->only || strcmp (self->only, "failover") == 0
                 || strcmp (self->only, "relocation") == 0 || strcmp (self->only, "curve") == 0;
    if (!self->bench.dynod || !self->bench.dyno || optind != argc || !phase_ok || self->trials < 1
    ||  self->trials > BHO_TRIALS * 10 || self->relocate.apps < 1 || self->relocate.apps > 99999
    ||  self->curve.count < 1000) {
        s_usage (stderr);
        return 2;
    }
    return 0;
}

static bool
s_wanted (const s_main_t *self, const char *phase)
{
    return !self->only || strcmp (self->only, phase) == 0;
}

static void
s_row (const char *figure, const char *ours, const char *peer, const char *ratio, const char *target,
       int met)
{
    printf ("%-36s %12s %12s %7s   %-10s %s\n", figure, ours, peer, ratio, target,
            met < 0 ? "" : met ? "met" : "MISSED");
}

static double
s_relocation_max (const s_main_t *self)
{
    double worst = 0;
    for (int i = 0; i < self->relocate.moved_count; i++)
        if (self->relocate.moved [i].total_s > worst)
            worst = self->relocate.moved [i].total_s;
    return worst;
}

static void
s_report (s_main_t *self, double *fo_med, double *fo_max, double *reloc, double *ratio)
{
    char a [48], b [48], r [32];
    bcm_sort (self->failover, (size_t) self->trials);
    *fo_med = bcm_percentile (self->failover, (size_t) self->trials, 50);
    *fo_max = self->failover [self->trials - 1];
    *reloc = s_relocation_max (self);
    double null_rps = bcm_percentile (self->curve.null_rps, (size_t) self->curve.rounds, 50);
    double curve_rps = bcm_percentile (self->curve.curve_rps, (size_t) self->curve.rounds, 50);
    *ratio = null_rps > 0 ? curve_rps / null_rps : 0;
    printf ("\n%-36s %12s %12s %7s   %-10s\n", "figure", "ours", "peer", "ratio", "target");
    snprintf (a, sizeof a, "%.2f", *fo_med);
    s_row ("host lost -> all up elsewhere, median s", a, "", "", "<= 5 s", *fo_med <= BHO_TARGET_FAILOVER_S);
    snprintf (a, sizeof a, "%.2f", *fo_max);
    s_row ("  max over trials s", a, "", "", "<= 5 s", *fo_max <= BHO_TARGET_FAILOVER_S);
    for (int i = 0; i < self->relocate.moved_count; i++) {
        const bho_moved_t *m = &self->relocate.moved [i];
        char label [64];
        snprintf (label, sizeof label, "relocate %s s", m->name);
        snprintf (a, sizeof a, "%.3f", m->total_s);
        s_row (label, a, "", "", "<= 2 s", m->total_s <= BHO_TARGET_RELOCATION_S);
    }
    snprintf (a, sizeof a, "%.0f", curve_rps);
    snprintf (b, sizeof b, "%.0f", null_rps);
    snprintf (r, sizeof r, "%.2f", *ratio);
    s_row ("broker msgs/s CURVE (peer: NULL)", a, b, r, ">= 0.70", *ratio >= BHO_TARGET_CURVE_RATIO);
}

int
main (int argc, char **argv)
{
    s_main_t self = { .bench.up_out = -1, .trials = BHO_TRIALS,
                      .relocate.apps = BHO_APPS, .curve.count = BHO_COUNT };
    int rc = s_parse (&self, argc, argv);
    if (rc)
        return rc;
    signal (SIGPIPE, SIG_IGN);
    bdy_t *b = &self.bench;
    if (geteuid () != 0) {
        fprintf (stderr, "bench-hosts: must run as root (the dyno sandbox needs it)\n");
        return 1;
    }
    if (bcm_tmp_make (b->tmp, sizeof b->tmp, "bench-hosts", "dynod-bench-hosts"))
        return 1;
    //  The dynos bench's watcher also watches its marker binary's execs.
    char why [600] = "";
    if (bdy_marker_make (b, why, sizeof why)) {
        fprintf (stderr, "bench-hosts: %s\n", why);
        bcm_tmp_done (b->tmp, false, "bench-hosts");
        return 1;
    }
    bcm_env_setup (b->tmp, b->token);
    setenv ("DYNOD_SUPERVISOR_MEM_MB", BHO_CAPACITY_MB, 1);
    self.relocate.bench = b;
    self.curve.bench = b;
    printf ("dynod hosts benchmark\n  machine   %ld CPUs\n", sysconf (_SC_NPROCESSORS_ONLN));
    const char *phase = "failover";
    if (s_wanted (&self, phase)) {
        printf ("  failover  %d trials: web=%d over two supervisors, SIGKILL one; heartbeats every %d ms, "
                "liveness %d ...\n", self.trials, BHO_FAILOVER_DYNOS, ACT_HEARTBEAT_MS, ACT_LIVENESS);
        fflush (stdout);
        rc = bdy_system_start (b, "", "data-failover", why, sizeof why);
        if (rc == 0)
            rc = bdy_failover_trials (b, self.trials, BHO_FAILOVER_DYNOS, self.failover, self.moved,
                                      why, sizeof why);
        bdy_system_stop (b);
    }
    if (rc == 0 && s_wanted (&self, "relocation")) {
        phase = "relocation";
        rc = bho_relocate_run (&self.relocate, why, sizeof why);
    }
    if (rc == 0 && s_wanted (&self, "curve")) {
        phase = "curve";
        rc = bho_curve_run (&self.curve, why, sizeof why);
    }
    if (rc) {
        fprintf (stderr, "bench-hosts: %s phase failed: %s (logs: %s)\n", phase, why, b->tmp);
        bdy_marker_remove (b);
        bcm_tmp_done (b->tmp, true, "bench-hosts");
        return 1;
    }
    bdy_marker_remove (b);
    if (self.only) {
        bcm_tmp_done (b->tmp, self.keep, "bench-hosts");
        return 0;
    }
    double fo_med, fo_max, reloc, ratio;
    s_report (&self, &fo_med, &fo_max, &reloc, &ratio);
    bcm_tmp_done (b->tmp, self.keep, "bench-hosts");
    printf ("\nRESULT failover_median_s=%.2f failover_max_s=%.2f relocation_s=%.3f curve_ratio=%.2f\n",
            fo_med, fo_max, reloc, ratio);
    return 0;
}
