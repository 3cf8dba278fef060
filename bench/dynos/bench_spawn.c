//  bdy_spawn - phases (a) spawn and (b) first restart of the dynos benchmark
//
//  Every side runs the same command, the one a dyno-supervisor runs for a
//  worker whose Procfile command is `exec MARKER 600`:
//      /bin/bash -c 'if [ -f /app/.profile ]; then . /app/.profile; fi; exec MARKER 600'
//  and every side stops its clock at the same event: the kernel opening
//  MARKER (a private copy of sleep) for execve, seen through inotify
//  (bench_watch.c). So each figure is "until the final program is being
//  exec'd", bash included on every side.
//
//  (a) bare      fork + execve of that command from this process
//      unshare   clone (CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS |
//                CLONE_NEWIPC) + execve: what `unshare --fork --pid
//                --mount --uts --ipc` costs, without any mount made
//      dyno      dyno.assign sent (as `scheduler`, through the broker) ->
//                the exec; also -> the `dyno.state` `up` event received
//                (a worker is `up` once its sandbox started the command)
//      Each dyno sample is a fresh id on an idle supervisor: the previous
//      one is unassigned and reported `down` before the clock starts. The
//      sides are interleaved (one of each per round) after 2 warm-up
//      rounds, so others' load on the machine falls on all three alike.
//  (b) restart   a fresh worker dyno each time (its first crash restarts
//                at once; a new id is a new back-off count), its command
//                SIGKILLed (found by BENCH_MARK=ID in its environment) ->
//                the next exec of the marker, the `crashed` and `up`
//                events.

#define _GNU_SOURCE                 // clone flags

#include "bench.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define BDY_WARMUP          2       // unmeasured rounds first
#define BDY_NS_FLAGS        (CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC)

typedef struct {
    bdy_t *bench;
    bdy_watch_t *watch;
    int64_t epoch;
    int serial;                     // ids are serial numbers
    char script [512];              // bash -c's argument
    char why [512];
} s_run_t;

// ---------------------------------------------------------------------------
//  The bare sides

//  Forks (or clones into namespaces, with `flags`) and execs the command;
//  returns the ms until the marker's exec, or -1.
static double
s_bare_once (s_run_t *self, int flags)
{
    char mark [32];
    snprintf (mark, sizeof mark, "bare-%d", self->serial++);
    char env_mark [64];
    snprintf (env_mark, sizeof env_mark, "%s=%s", BDY_MARK_ENV, mark);
    char *argv [] = { "/bin/bash", "-c", self->script, NULL };
    char *envp [] = { "HOME=/app", "PATH=/app/bin:/usr/local/bin:/usr/bin:/bin", "DYNO=worker.1",
                      "PS1=\\[\\033[01;34m\\]\\w\\[\\033[00m\\] \\[\\033[01;32m\\]$ \\[\\033[00m\\]",
                      env_mark, NULL };
    double t0 = bcm_now ();
    pid_t pid = flags ? (pid_t) syscall (SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL)
                      : fork ();
    if (pid == 0) {
        execve (argv [0], argv, envp);
        _exit (127);
    }
    if (pid < 0) {
        snprintf (self->why, sizeof self->why, "%s: %s", flags ? "clone" : "fork", strerror (errno));
        return -1;
    }
    bdy_ev_t ev;
    double took = -1;
    while (bdy_watch_next (self->watch, t0 + BDY_WAIT_MS / 1000.0, &ev) == 0)
        if (ev.kind == BDY_EV_EXEC) {
            took = (ev.at - t0) * 1000;
            break;
        }
    kill (pid, SIGKILL);
    waitpid (pid, NULL, 0);
    if (took < 0)
        snprintf (self->why, sizeof self->why, "the bare command never exec'd the marker");
    return took;
}

// ---------------------------------------------------------------------------
//  Dynos

//  A worker entry with a fresh id into `id`. Caller owns result.
static json_t *
s_entry (s_run_t *self, char id [17])
{
    snprintf (id, 17, "%016x", 0xbe000000u + (unsigned) self->serial++);
    char command [400];
    snprintf (command, sizeof command, "exec %s 600", self->bench->marker);
    return json_pack ("{s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:i, s:{s:s}}", "id", id, "name",
                      "worker.1", "type", "worker", "command", command, "size", "standard-1x", "mem_mb", 512,
                      "procs_max", 256, "release", 1, "config_version", 0, "env", BDY_MARK_ENV, id);
}

static int
s_assign (s_run_t *self, json_t *dynos)
{
    int rc = bdy_watch_assign (self->watch, ++self->epoch, dynos);
    if (rc)
        snprintf (self->why, sizeof self->why, "cannot send dyno.assign: %s", act_strerror (rc));
    return rc;
}

static bool
s_is (const bdy_ev_t *ev, const char *id, const char *state)
{
    return ev->kind == BDY_EV_STATE && strcmp (ev->id, id) == 0 && strcmp (ev->state, state) == 0;
}

//  Waits until dyno `id` is reported `state`. Returns 0 or -1.
static int
s_wait_state (s_run_t *self, const char *id, const char *state)
{
    double deadline = bcm_now () + BDY_WAIT_MS / 1000.0;
    bdy_ev_t ev;
    while (bdy_watch_next (self->watch, deadline, &ev) == 0)
        if (s_is (&ev, id, state))
            return 0;
    snprintf (self->why, sizeof self->why, "dyno %s not reported %s within %d ms", id, state, BDY_WAIT_MS);
    return -1;
}

//  Assigns one fresh worker; the times from sending until its marker's
//  exec and its `up`.
static int
s_dyno_start (s_run_t *self, char id [17], double *exec_ms, double *up_ms)
{
    json_t *dynos = json_array ();
    json_array_append_new (dynos, s_entry (self, id));
    double t0 = bcm_now ();
    if (s_assign (self, dynos))
        return -1;
    double deadline = t0 + BDY_WAIT_MS / 1000.0;
    *exec_ms = *up_ms = -1;
    bdy_ev_t ev;
    while ((*exec_ms < 0 || *up_ms < 0) && bdy_watch_next (self->watch, deadline, &ev) == 0) {
        if (ev.kind == BDY_EV_EXEC)
            *exec_ms = (ev.at - t0) * 1000;
        else if (s_is (&ev, id, "up"))
            *up_ms = (ev.at - t0) * 1000;
        else if (s_is (&ev, id, "crashed")) {
            snprintf (self->why, sizeof self->why, "dyno %s crashed at start (see the supervisor's log)", id);
            return -1;
        }
    }
    if (*exec_ms < 0 || *up_ms < 0) {
        snprintf (self->why, sizeof self->why, "dyno %s: %s within %d ms", id,
                  *exec_ms < 0 ? "no exec of the marker" : "no `up`", BDY_WAIT_MS);
        return -1;
    }
    return 0;
}

//  Unassigns every dyno and waits until `id` is down.
static int
s_dyno_clear (s_run_t *self, const char *id)
{
    return s_assign (self, json_array ()) || s_wait_state (self, id, "down") ? -1 : 0;
}

//  The three sides interleaved, one sample of each per round, so the load
//  other processes put on the machine falls on all of them alike.
static int
s_spawns (s_run_t *self, bdy_spawn_t *out)
{
    for (int i = -BDY_WARMUP; i < out->runs; i++) {
        double bare = s_bare_once (self, 0);
        double unshare = bare < 0 ? -1 : s_bare_once (self, BDY_NS_FLAGS);
        if (unshare < 0)
            return -1;
        char id [17];
        double exec_ms, up_ms;
        if (s_dyno_start (self, id, &exec_ms, &up_ms) || s_dyno_clear (self, id))
            return -1;
        if (i >= 0) {
            out->bare_ms [i] = bare;
            out->unshare_ms [i] = unshare;
            out->dyno_ms [i] = exec_ms;
            out->dyno_up_ms [i] = up_ms;
        }
    }
    bcm_sort (out->bare_ms, (size_t) out->runs);
    bcm_sort (out->unshare_ms, (size_t) out->runs);
    bcm_sort (out->dyno_ms, (size_t) out->runs);
    bcm_sort (out->dyno_up_ms, (size_t) out->runs);
    return 0;
}

static int
s_restarts (s_run_t *self, bdy_spawn_t *out)
{
    for (int i = 0; i < out->restarts; i++) {
        char id [17];
        double exec_ms, up_ms;
        if (s_dyno_start (self, id, &exec_ms, &up_ms))
            return -1;
        //  IN_OPEN comes as execve opens the file, a moment before the
        //  process shows the marker as its exe.
        pid_t pid = 0;
        for (int tries = 0; tries < 100 && (pid = bdy_marker_find (self->bench, id)) <= 0; tries++)
            bcm_sleep_ms (10);
        if (pid <= 0) {
            snprintf (self->why, sizeof self->why, "no process with %s=%s", BDY_MARK_ENV, id);
            return -1;
        }
        double t0 = bcm_now ();
        kill (pid, SIGKILL);
        double deadline = t0 + BDY_WAIT_MS / 1000.0;
        double crashed = -1, exec = -1, up = -1;
        bdy_ev_t ev;
        while ((exec < 0 || up < 0) && bdy_watch_next (self->watch, deadline, &ev) == 0) {
            if (ev.kind == BDY_EV_EXEC && exec < 0)
                exec = (ev.at - t0) * 1000;
            else if (s_is (&ev, id, "crashed"))
                crashed = (ev.at - t0) * 1000;
            else if (s_is (&ev, id, "up") && crashed >= 0)
                up = (ev.at - t0) * 1000;
        }
        if (exec < 0 || up < 0) {
            snprintf (self->why, sizeof self->why, "dyno %s was not restarted within %d ms", id, BDY_WAIT_MS);
            return -1;
        }
        out->restart_ms [i] = exec;
        out->restart_up_ms [i] = up;
        out->crashed_ms [i] = crashed;
        if (s_dyno_clear (self, id))
            return -1;
    }
    bcm_sort (out->restart_ms, (size_t) out->restarts);
    bcm_sort (out->restart_up_ms, (size_t) out->restarts);
    bcm_sort (out->crashed_ms, (size_t) out->restarts);
    return 0;
}

int
bdy_spawn_run (bdy_t *bench, bdy_spawn_t *out, char *why, size_t why_len)
{
    s_run_t self = { .bench = bench };
    snprintf (self.script, sizeof self.script,
              "if [ -f /app/.profile ]; then . /app/.profile; fi; exec %s 600", bench->marker);
    self.watch = bdy_watch_new (bench, "scheduler", why, why_len);
    if (!self.watch)
        return -1;
    int rc = s_spawns (&self, out);
    if (rc == 0)
        rc = s_restarts (&self, out);
    if (rc)
        snprintf (why, why_len, "%s", self.why);
    bdy_watch_destroy (&self.watch);
    return rc;
}
