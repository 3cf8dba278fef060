//  brl - the releases benchmark: shared types of its three files
//
//  bench_releases.c owns the process: flags, the `dynod up` child, the
//  temporary directory, the environment the `dyno` children inherit, and
//  the report. bench_config.c owns phase (a): config.set round trips from
//  BRL_CLIENTS threads, each with its own act_client. bench_deploy.c owns
//  phase (b): the generated 50 MB source tree, `dyno deploy` runs with
//  their per-step times, and the peer (`tar czf` of the same tree).
//
//  Threads: only bench_config.c starts any; each uses its own client and
//  its own sample array, handed back through pthread_join.

#ifndef BRL_BENCH_H
#define BRL_BENCH_H

#include "../../actors/common/act_client.h"
#include "../common/bench_stats.h"
#include "../common/bench_up.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BRL_CLIENTS         8       // concurrent config.set clients
#define BRL_KEYS            16      // keys each client cycles through
#define BRL_CALL_MS         10000   // one config.set round trip may take this long
#define BRL_CONNECT_MS      5000
#define BRL_DEPLOY_RUNS     3
#define BRL_SECONDS_MAX     120     // longest measured window, seconds
#define BRL_STEPS           3       // upload, build, release

//  The measured system and what every phase needs to reach it.
typedef struct {
    const char *dynod;              // path of the dynod binary
    const char *dyno;               // path of the dyno binary
    char tmp [256];                 // mkdtemp'd; removed at the end
    char endpoint [64];
    char token [33];
    pid_t up;                       // `dynod up` child
} brl_t;

//  Phase (a): config.set acknowledged by release.info.
typedef struct {
    double warmup_s, measure_s;     // in
    double rate;                    // acknowledged changes per second
    double p50_ms, p99_ms, max_ms;
    size_t count;                   // acknowledged in the measured window
    size_t errors;                  // error replies or timeouts (the run fails on any)
    double journaled;               // broker journal entries per change
    double cpu_ms [5];              // CPU ms per change: broker, config-keeper, release-keeper,
                                    // other actors, this process (the 8 clients)
    size_t per_second [BRL_SECONDS_MAX];   // acknowledged in each second of the window
    double busy;                    // CPUs busy on average in the window (all processes)
    double others;                  // of those, processes not ours
} brl_config_t;

//  Phase (b): one timed process run.
typedef struct {
    double total_s;                 // fork -> exit
    double step_s [BRL_STEPS];      // upload, build, release; < 0 when the output had no marker
} brl_deploy_run_t;

typedef struct {
    size_t files;                   // generated tree (in)
    uint64_t bytes;
    double tar_s [BRL_DEPLOY_RUNS]; // sorted
    uint64_t tar_bytes;             // size of the peer's .tar.gz
    double fast_s [BRL_DEPLOY_RUNS];   // sorted: `tar -I 'gzip -1' -cf`, the deploy's level
    brl_deploy_run_t runs [BRL_DEPLOY_RUNS];   // sorted by total_s
    char last_output [2048];        // the tail of the median run's output, for the report
} brl_deploy_t;

//  bench_config.c. Returns 0, or -1 with `why` filled.
int brl_config_run (brl_t *self, brl_config_t *out, char *why, size_t why_len);

//  bench_deploy.c. Returns 0, or -1 with `why` filled.
int brl_deploy_run (brl_t *self, brl_deploy_t *out, char *why, size_t why_len);

//  bench_releases.c
//  A client registered with the measured broker, or NULL with `why` filled.
//  Caller owns result.
act_client_t *brl_client (brl_t *self, const char *name, char *why, size_t why_len);
//  Creates app `name` and waits until config-keeper knows it. Returns 0 or
//  -1 with `why` filled.
int brl_app_create (brl_t *self, act_client_t *client, const char *name, char *why, size_t why_len);
//  The broker's journal head (last journaled sequence number), or -1.
int64_t brl_journal_head (brl_t *self);
//  CPU seconds used so far by each of dynod up's children: [0] broker,
//  [1] config-keeper, [2] release-keeper, [3] every other child.
void brl_children_cpu (brl_t *self, double cpu [4]);

#endif
