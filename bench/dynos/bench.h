//  bdy - the dynos benchmark: shared types of its files
//
//  bench_dynos.c owns the process: flags, the two `dynod up` systems it
//  measures one after the other, the temporary directory, the marker
//  directory, and the report. bench_watch.c owns how the bench sees
//  things happen: the broker client named `scheduler` subscribed to the
//  `dyno.state` and `actor.*` topics, the marker binary (a private copy
//  of sleep whose exec an inotify IN_OPEN watch reports), the wait loop
//  over both, and runs of the `dyno` CLI. bench_spawn.c owns phases (a)
//  spawn (bare fork+exec, clone into namespaces, dyno.assign) and (b)
//  first restart, against a system without a scheduler (the bench speaks
//  for it). bench_scale.c owns phases (c) scale 0 -> 50 and (d) failover,
//  against a whole `dynod up` plus a second supervisor it starts.
//
//  Single-threaded.

#ifndef BDY_BENCH_H
#define BDY_BENCH_H

#include "../../actors/common/act_client.h"
#include "../common/bench_stats.h"
#include "../common/bench_up.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BDY_SPAWN_RUNS      50      // (a) samples per side
#define BDY_RESTART_RUNS    10      // (b) crashes, a fresh dyno each
#define BDY_QUICK_SPAWN     10      // with --quick
#define BDY_QUICK_RESTART   3
#define BDY_SCALE_N         50      // (c)
#define BDY_FAILOVER_N      10      // (d)
#define BDY_CONNECT_MS      5000
#define BDY_WAIT_MS         20000   // one spawn / restart may take this long
#define BDY_SCALE_WAIT_S    90      // (c), (d): give up after this long
#define BDY_CAPACITY_MB     "100000"   // DYNOD_SUPERVISOR_MEM_MB of every supervisor
#define BDY_APP             "bench-dynos"
#define BDY_MARK_ENV        "BENCH_MARK"

//  The measured system and what every phase needs to reach it.
typedef struct {
    const char *dynod;              // path of the dynod binary
    const char *dyno;               // path of the dyno binary
    bool quick;
    char tmp [256];                 // mkdtemp'd; removed at the end
    char mark_dir [256];            // /run/dynod-bench-dynos-XXXXXX, seen by dynos; removed at the end
    char marker [300];              // MARK_DIR/bench-sleep: a copy of sleep
    char endpoint [64];             // the current system's broker
    char token [33];
    pid_t up;                       // the current `dynod up` child
    int up_out;                     // its stdout; -1 when none
    char up_log [320];              // its stderr: TMP/dynod-up-DATA.log
} bdy_t;

//  One thing the bench saw: a dyno.state event, an actor.up / actor.down,
//  or an exec of the marker binary.
typedef enum { BDY_EV_STATE, BDY_EV_ACTOR_UP, BDY_EV_ACTOR_DOWN, BDY_EV_EXEC } bdy_ev_kind_t;

typedef struct {
    bdy_ev_kind_t kind;
    double at;                      // bcm_now () when it was read
    char app [64], id [32], name [64], state [16], supervisor [128];   // STATE
    char actor [64], instance [64];                                     // ACTOR_*
} bdy_ev_t;

//  bench_watch.c: the watcher. Owns a client registered as `scheduler`
//  (it sends dyno.assign in phases (a) and (b)), subscribed to dyno.state,
//  actor.up and actor.down, and the inotify fd on the marker.
typedef struct bdy_watch bdy_watch_t;
//  Registers as `name` (`scheduler` to send dyno.assign; anything else
//  beside a real scheduler). Returns the watcher (caller owns result) or
//  NULL with `why` filled.
bdy_watch_t *bdy_watch_new (bdy_t *bench, const char *name, char *why, size_t why_len);
void bdy_watch_destroy (bdy_watch_t **self_p);
//  The next event before `deadline` (bcm_now () seconds). Returns 0, or
//  -1 at the deadline. Heartbeats meanwhile.
int bdy_watch_next (bdy_watch_t *self, double deadline, bdy_ev_t *ev);
//  Sends a dyno.assign for BDY_APP with `epoch` and the entries in
//  `dynos` (a JSON array; the reference is stolen). Returns 0 or -errno.
int bdy_watch_assign (bdy_watch_t *self, int64_t epoch, json_t *dynos);
//  Borrowed client, valid while the watcher lives.
act_client_t *bdy_watch_client (bdy_watch_t *self);

//  Copies /bin/sleep to a fresh directory under /run (mode 0755: dynos see
//  /run as the host has it, not /tmp). Returns 0 or -1 with `why` filled.
int bdy_marker_make (bdy_t *self, char *why, size_t why_len);
void bdy_marker_remove (bdy_t *self);
//  The pid of the live process running the marker whose environment has
//  BENCH_MARK=`mark`, or 0.
pid_t bdy_marker_find (bdy_t *self, const char *mark);

//  Runs `dyno ARGS...` (NULL-terminated) and waits for it. Returns its
//  exit status (-1 if it could not run); its output (stdout and stderr)
//  goes to TMP/dyno.out, whose last line is copied into `last`.
int bdy_dyno (bdy_t *self, char *last, size_t last_len, ...);
//  Starts `dyno ARGS...` without waiting (output to TMP/dyno.out). Returns
//  the pid (reap it; bdy_dyno_status turns its wait status into an exit
//  status) or -1.
pid_t bdy_dyno_start (bdy_t *self, ...);
int bdy_dyno_status (int status);
//  The last line of TMP/dyno.out into `last`.
void bdy_dyno_last (bdy_t *self, char *last, size_t last_len);
//  How many dynos `dyno ps -a APP --json` lists, -1 on failure.
int bdy_ps_count (bdy_t *self, const char *app);

//  bench_spawn.c: phases (a) and (b).
typedef struct {
    int runs;                       // in: samples per side
    double bare_ms [BDY_SPAWN_RUNS];     // sorted: fork + exec of the command until the marker's exec
    double unshare_ms [BDY_SPAWN_RUNS];  // sorted: clone(NEWPID|NEWNS|NEWUTS|NEWIPC) + exec, same
    double dyno_ms [BDY_SPAWN_RUNS];     // sorted: dyno.assign sent -> the marker's exec
    double dyno_up_ms [BDY_SPAWN_RUNS];  // sorted: dyno.assign sent -> dyno.state `up` received
    int restarts;                   // in: crashes
    double restart_ms [BDY_RESTART_RUNS];    // sorted: SIGKILL -> the new incarnation's exec
    double restart_up_ms [BDY_RESTART_RUNS]; // sorted: SIGKILL -> dyno.state `up` after `crashed`
    double crashed_ms [BDY_RESTART_RUNS];    // sorted: SIGKILL -> dyno.state `crashed` received
} bdy_spawn_t;

int bdy_spawn_run (bdy_t *self, bdy_spawn_t *out, char *why, size_t why_len);

//  bench_scale.c: phases (c) and (d).
typedef struct {
    double scale_s;                 // `dyno ps:scale web=50` started -> the 50th `up`
    double scale_cli_s;             // ... -> the CLI exited
    double scale_starting_s;        // ... -> the first `starting` (the supervisor has it)
    double scale_first_s;           // ... -> the first `up`
    double scale_half_s;            // ... -> the 25th `up`
    int failover_moved;             // web dynos the killed supervisor ran
    double failover_s;              // SIGKILL -> every web dyno `up` on the survivor
    double failover_down_s;         // SIGKILL -> actor.down of the killed one
    double failover_first_s;        // SIGKILL -> the first moved dyno `up`
} bdy_scale_t;

int bdy_scale_run (bdy_t *self, bdy_scale_t *out, char *why, size_t why_len);
//  Phase (d) `trials` times with `n` web dynos (bench-hosts): deploys the
//  app, starts the second supervisor, and per trial scales 0 -> n, SIGKILLs
//  it, waits until all n are `up` on the survivor (secs [t]; moved [t]:
//  how many were on the killed one) and starts it again.
int bdy_failover_trials (bdy_t *self, int trials, int n, double *secs, int *moved, char *why,
                         size_t why_len);

//  bench_dynos.c: starts `dynod up` with `actors` ("" for all) on free
//  ports and data TMP/`data`; fills endpoint, up, up_out and up_log. Returns 0
//  or -1 with `why` filled.
int bdy_system_start (bdy_t *self, const char *actors, const char *data, char *why, size_t why_len);
void bdy_system_stop (bdy_t *self);

#endif
