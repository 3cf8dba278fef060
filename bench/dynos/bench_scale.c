//  bdy_scale - phases (c) scale 0 -> 50 and (d) failover of the dynos benchmark
//
//  Against a whole `dynod up` (the scheduler places, its supervisor runs)
//  and, for (d), a second supervisor this file starts as
//  `dynod actor dyno-supervisor --instance host-b --data TMP/data-b`.
//  The app (BDY_APP) is deployed with one light web process:
//      web: exec socat TCP-LISTEN:$PORT,fork,reuseaddr SYSTEM:'echo ok'
//  A web dyno is `up` once its supervisor's probe connected to its port.
//
//  (c) `dyno ps:scale web=0`, ps lists none; then the clock starts and
//      `dyno ps:scale web=50` runs; done when 50 distinct web.N were
//      reported `up` (dyno.state events).
//  (d) with host-b up: web=0, then web=10 (the scheduler spreads them:
//      fewest of the type first); once all 10 are up, host-b is SIGKILLed
//      (its dynos die with it: their pid 1 has PR_SET_PDEATHSIG); done when
//      every web.N's latest event is `up` on the survivor. The broker
//      declares host-b down after `liveness` (3) missed 1 s heartbeats,
//      then the scheduler re-places at once under the same ids. Finally
//      host-b is started again (it sweeps the cgroups and work dirs its
//      killed life left) and stopped.

#include "bench.h"
#include "../../actors/common/act.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define BDY_HOST_B          "host-b"
#define BDY_HOST_B_ADDR     "dyno-supervisor@" BDY_HOST_B
#define BDY_NAMES_MAX       64      // web.1 .. web.64 tracked
#define BDY_STOP_MS         15000

typedef struct {
    bdy_t *bench;
    bdy_watch_t *watch;
    pid_t host_b;
    char host_b_log [320];
    json_t *ids;                    // every web dyno id seen -> {"old": bool, "state": string}
    char why [512];
} s_run_t;

//  Per web.N: the latest state and where.
typedef struct {
    bool seen;
    bool up;
    char supervisor [128];
} s_name_t;

//  N of `web.N` within 1..BDY_NAMES_MAX, else 0.
static int
s_web_n (const bdy_ev_t *ev)
{
    if (ev->kind != BDY_EV_STATE || strcmp (ev->app, BDY_APP) != 0 || strncmp (ev->name, "web.", 4) != 0)
        return 0;
    int n = atoi (ev->name + 4);
    return n >= 1 && n <= BDY_NAMES_MAX ? n : 0;
}

//  The next event (see bdy_watch_next); a dyno.state of an id that was
//  already there when the current scale-up started is marked `old`.
static int
s_next (s_run_t *self, double deadline, bdy_ev_t *ev, bool *old)
{
    int rc = bdy_watch_next (self->watch, deadline, ev);
    *old = false;
    if (rc || ev->kind != BDY_EV_STATE || strcmp (ev->app, BDY_APP) != 0)
        return rc;
    json_t *entry = json_object_get (self->ids, ev->id);
    if (!entry) {
        entry = json_pack ("{s:b}", "old", false);
        json_object_set_new (self->ids, ev->id, entry);
    }
    json_object_set_new (entry, "state", json_string (ev->state));
    *old = json_is_true (json_object_get (entry, "old"));
    return 0;
}

//  Marks every id seen so far old.
static void
s_all_old (s_run_t *self)
{
    const char *id;
    json_t *entry;
    json_object_foreach (self->ids, id, entry)
        json_object_set_new (entry, "old", json_true ());
}

//  Ids seen whose latest state is neither down nor crashed.
static int
s_running (s_run_t *self)
{
    int n = 0;
    const char *id;
    json_t *entry;
    json_object_foreach (self->ids, id, entry) {
        const char *state = json_string_value (json_object_get (entry, "state"));
        n += state && strcmp (state, "down") != 0 && strcmp (state, "crashed") != 0;
    }
    return n;
}

//  Drains events for `ms` (keeps the watcher registered while we wait on
//  something else).
static void
s_idle (s_run_t *self, int ms)
{
    double deadline = bcm_now () + ms / 1000.0;
    bdy_ev_t ev;
    bool old;
    while (s_next (self, deadline, &ev, &old) == 0)
        ;
}

//  `dyno ps:scale web=N -a APP`, waited for. Returns 0 or -1.
static int
s_scale (s_run_t *self, int n)
{
    char arg [32], last [400];
    snprintf (arg, sizeof arg, "web=%d", n);
    int rc = bdy_dyno (self->bench, last, sizeof last, "ps:scale", arg, "-a", BDY_APP, NULL);
    if (rc) {
        snprintf (self->why, sizeof self->why, "dyno ps:scale %s: exit %d: %s", arg, rc, last);
        return -1;
    }
    return 0;
}

//  web=0, and waits until ps lists no dyno and every dyno seen was
//  reported down (ps drops a dyno once unassigned; its process may still
//  be stopping).
static int
s_scale_zero (s_run_t *self)
{
    if (s_scale (self, 0))
        return -1;
    double deadline = bcm_now () + BDY_SCALE_WAIT_S;
    while (bcm_now () < deadline) {
        if (s_running (self) == 0 && bdy_ps_count (self->bench, BDY_APP) == 0)
            return 0;
        s_idle (self, 100);
    }
    snprintf (self->why, sizeof self->why, "dynos still running %d s after ps:scale web=0", BDY_SCALE_WAIT_S);
    return -1;
}

//  Scales to `n` from 0 (the clock starts before the CLI does) and waits
//  until web.1..web.n were all reported `up`; `names` gets where each runs.
static int
s_scale_up (s_run_t *self, int n, s_name_t *names, double *all_s, double *cli_s, double *starting_s,
            double *first_s, double *half_s)
{
    char arg [32];
    snprintf (arg, sizeof arg, "web=%d", n);
    memset (names, 0, sizeof *names * (BDY_NAMES_MAX + 1));
    s_all_old (self);
    double t0 = bcm_now ();
    pid_t cli = bdy_dyno_start (self->bench, "ps:scale", arg, "-a", BDY_APP, NULL);
    if (cli < 0) {
        snprintf (self->why, sizeof self->why, "cannot run dyno: %s", strerror (errno));
        return -1;
    }
    double deadline = t0 + BDY_SCALE_WAIT_S;
    int up = 0;
    *cli_s = *starting_s = *first_s = *half_s = -1;
    bdy_ev_t ev;
    bool old;
    while (up < n || *cli_s < 0) {
        int status;
        if (*cli_s < 0 && waitpid (cli, &status, WNOHANG) == cli) {
            *cli_s = bcm_now () - t0;
            if (bdy_dyno_status (status) != 0) {
                char last [400];
                bdy_dyno_last (self->bench, last, sizeof last);
                snprintf (self->why, sizeof self->why, "dyno ps:scale %s: %s", arg, last);
                return -1;
            }
        }
        //  Short waits while the CLI runs, to reap it on time.
        double until = *cli_s < 0 ? bcm_now () + 0.005 : deadline;
        if (s_next (self, until < deadline ? until : deadline, &ev, &old)) {
            if (bcm_now () >= deadline)
                break;
            continue;
        }
        int k = s_web_n (&ev);
        if (!k || k > n || old)
            continue;
        if (*starting_s < 0 && strcmp (ev.state, "starting") == 0)
            *starting_s = ev.at - t0;
        bool was_up = names [k].up;
        names [k].seen = true;
        names [k].up = strcmp (ev.state, "up") == 0;
        snprintf (names [k].supervisor, sizeof names [k].supervisor, "%s", ev.supervisor);
        if (names [k].up && !was_up) {
            up++;
            if (up == 1)
                *first_s = ev.at - t0;
            if (up == (n + 1) / 2)
                *half_s = ev.at - t0;
            if (up == n)
                *all_s = ev.at - t0;
        }
        else if (!names [k].up && was_up)
            up--;
    }
    if (*cli_s < 0) {
        kill (cli, SIGKILL);
        waitpid (cli, NULL, 0);
    }
    if (up < n) {
        snprintf (self->why, sizeof self->why, "%d of %d web dynos up %d s after ps:scale %s", up, n,
                  BDY_SCALE_WAIT_S, arg);
        return -1;
    }
    return 0;
}

// ---------------------------------------------------------------------------
//  Setup: the app

static int
s_write (const char *path, const char *text)
{
    FILE *file = fopen (path, "w");
    if (!file)
        return -1;
    fputs (text, file);
    return fclose (file);
}

static int
s_app (s_run_t *self)
{
    bdy_t *b = self->bench;
    char src [320], path [400], last [400];
    snprintf (src, sizeof src, "%s/src", b->tmp);
    snprintf (path, sizeof path, "%s/Procfile", src);
    if (mkdir (src, 0755) || s_write (path, "web: exec socat TCP-LISTEN:$PORT,fork,reuseaddr SYSTEM:'echo ok'\n")) {
        snprintf (self->why, sizeof self->why, "cannot write '%s': %s", path, strerror (errno));
        return -1;
    }
    int rc = bdy_dyno (b, last, sizeof last, "apps:create", BDY_APP, NULL);
    if (rc == 0)
        rc = bdy_dyno (b, last, sizeof last, "deploy", src, "-a", BDY_APP, NULL);
    if (rc) {
        snprintf (self->why, sizeof self->why, "creating and deploying the app: %s", last);
        return -1;
    }
    return 0;
}

// ---------------------------------------------------------------------------
//  host-b

static int
s_host_b_start (s_run_t *self)
{
    bdy_t *b = self->bench;
    char data [320];
    snprintf (data, sizeof data, "%s/data-b", b->tmp);
    mkdir (data, 0700);
    snprintf (self->host_b_log, sizeof self->host_b_log, "%s/host-b.log", b->tmp);
    char *const argv [] = { "dynod", "actor", "dyno-supervisor", "--instance", BDY_HOST_B, "--data", data,
                            "--broker", b->endpoint, NULL };
    int out = -1;
    self->host_b = bcm_child_start (b->dynod, argv, self->host_b_log, &out);
    if (out >= 0)
        close (out);
    if (self->host_b < 0) {
        self->host_b = 0;
        snprintf (self->why, sizeof self->why, "cannot start the second supervisor");
        return -1;
    }
    double deadline = bcm_now () + BDY_WAIT_MS / 1000.0;
    bdy_ev_t ev;
    bool old;
    while (s_next (self, deadline, &ev, &old) == 0)
        if (ev.kind == BDY_EV_ACTOR_UP && strcmp (ev.actor, "dyno-supervisor") == 0
        &&  strcmp (ev.instance, BDY_HOST_B) == 0)
            return 0;
    bcm_log_tail ("bench-dynos", b->dynod, "actor dyno-supervisor --instance " BDY_HOST_B, self->host_b_log);
    snprintf (self->why, sizeof self->why, "the second supervisor did not come up");
    return -1;
}

static void
s_host_b_stop (s_run_t *self)
{
    if (self->host_b > 0)
        bcm_child_stop (self->host_b, BDY_STOP_MS);
    self->host_b = 0;
}

static int
s_failover (s_run_t *self, bdy_scale_t *out, int n)
{
    s_name_t names [BDY_NAMES_MAX + 1];
    double all, cli, starting, first, half;
    if (s_scale_zero (self) || s_scale_up (self, n, names, &all, &cli, &starting, &first, &half))
        return -1;
    out->failover_moved = 0;
    for (int k = 1; k <= n; k++)
        if (strcmp (names [k].supervisor, BDY_HOST_B_ADDR) == 0)
            out->failover_moved++;
    if (out->failover_moved == 0) {
        snprintf (self->why, sizeof self->why, "the scheduler placed no web dyno on %s", BDY_HOST_B);
        return -1;
    }
    double t0 = bcm_now ();
    kill (self->host_b, SIGKILL);
    waitpid (self->host_b, NULL, 0);
    self->host_b = 0;
    out->failover_down_s = out->failover_first_s = -1;
    double deadline = t0 + BDY_SCALE_WAIT_S;
    bdy_ev_t ev;
    bool old;
    for (;;) {
        int ok = 0;
        for (int k = 1; k <= n; k++)
            ok += names [k].up && strcmp (names [k].supervisor, BDY_HOST_B_ADDR) != 0;
        if (ok == n)
            break;
        if (s_next (self, deadline, &ev, &old)) {
            snprintf (self->why, sizeof self->why, "%d of %d web dynos up on the survivor %d s after the "
                      "loss of %s", ok, n, BDY_SCALE_WAIT_S, BDY_HOST_B);
            return -1;
        }
        if (ev.kind == BDY_EV_ACTOR_DOWN && strcmp (ev.instance, BDY_HOST_B) == 0
        &&  strcmp (ev.actor, "dyno-supervisor") == 0 && out->failover_down_s < 0)
            out->failover_down_s = ev.at - t0;
        int k = s_web_n (&ev);
        if (!k || k > n || old)
            continue;
        names [k].up = strcmp (ev.state, "up") == 0;
        snprintf (names [k].supervisor, sizeof names [k].supervisor, "%s", ev.supervisor);
        if (names [k].up && out->failover_first_s < 0 && strcmp (ev.supervisor, BDY_HOST_B_ADDR) != 0)
            out->failover_first_s = ev.at - t0;
    }
    out->failover_s = bcm_now () - t0;
    return 0;
}

int
bdy_scale_run (bdy_t *bench, bdy_scale_t *out, char *why, size_t why_len)
{
    s_run_t self = { .bench = bench };
    self.watch = bdy_watch_new (bench, "bench-watch", why, why_len);
    if (!self.watch)
        return -1;
    self.ids = json_object ();
    s_name_t names [BDY_NAMES_MAX + 1];
    printf ("  scale     deploying a socat web app, web=0, then web=%d ...\n", BDY_SCALE_N);
    fflush (stdout);
    int rc = s_app (&self);
    if (rc == 0)
        rc = s_scale_zero (&self);
    if (rc == 0)
        rc = s_scale_up (&self, BDY_SCALE_N, names, &out->scale_s, &out->scale_cli_s, &out->scale_starting_s,
                         &out->scale_first_s, &out->scale_half_s);
    if (rc == 0) {
        printf ("  failover  a second supervisor (%s), web=0, web=%d over both, SIGKILL %s; heartbeats\n"
                "            every %d ms, liveness %d: a silent peer is down after %d ms ...\n", BDY_HOST_B,
                BDY_FAILOVER_N, BDY_HOST_B, ACT_HEARTBEAT_MS, ACT_LIVENESS, ACT_HEARTBEAT_MS * ACT_LIVENESS);
        fflush (stdout);
        rc = s_host_b_start (&self);
    }
    if (rc == 0)
        rc = s_failover (&self, out, BDY_FAILOVER_N);
    if (rc)
        snprintf (why, why_len, "%s", self.why);
    s_host_b_stop (&self);
    //  Leave nothing behind: host-b's killed life left cgroups and work
    //  dirs its next start sweeps; the app's dynos go.
    if (rc == 0 && s_host_b_start (&self) == 0)
        s_host_b_stop (&self);
    s_scale_zero (&self);
    bdy_watch_destroy (&self.watch);
    json_decref (self.ids);
    return rc;
}

int
bdy_failover_trials (bdy_t *bench, int trials, int n, double *secs, int *moved, char *why,
                     size_t why_len)
{
    s_run_t self = { .bench = bench };
    self.watch = bdy_watch_new (bench, "bench-watch", why, why_len);
    if (!self.watch)
        return -1;
    self.ids = json_object ();
    int rc = s_app (&self);
    if (rc == 0)
        rc = s_host_b_start (&self);
    for (int t = 0; rc == 0 && t < trials; t++) {
        bdy_scale_t out = { 0 };
        rc = s_failover (&self, &out, n);
        if (rc == 0) {
            secs [t] = out.failover_s;
            moved [t] = out.failover_moved;
            printf ("            trial %2d: %d of %d web dynos on the killed supervisor, all up "
                    "elsewhere after %.2f s (actor.down at %.2f s)\n", t + 1, out.failover_moved, n,
                    out.failover_s, out.failover_down_s);
            fflush (stdout);
            rc = s_host_b_start (&self);
        }
    }
    if (rc)
        snprintf (why, why_len, "%s", self.why);
    s_host_b_stop (&self);
    s_scale_zero (&self);
    bdy_watch_destroy (&self.watch);
    json_decref (self.ids);
    return rc;
}
