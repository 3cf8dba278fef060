//  bho - the hosts benchmark: shared types of its files
//
//  bench_hosts.c owns the process: flags, the temporary directory, the
//  phases in order and the report. Each phase starts and stops the system
//  it measures:
//      failover    bench/dynos' phase (d) run `trials` times (bench_scale.c)
//      relocation  bench_relocate.c: every stateful actor, holding N apps'
//                  state, stopped and started again on an empty data
//                  directory (another "host"), until it answers again
//      curve       bench_curve.c: the broker's routed throughput over the
//                  NULL loopback endpoint and over a CURVE endpoint, in
//                  the same run (bench/broker's bench_run.c measures)
//
//  Single-threaded, except inside bench_run.c's measurements.

#ifndef BHO_BENCH_H
#define BHO_BENCH_H

#include "../dynos/bench.h"

#include <stdbool.h>
#include <stddef.h>

#define BHO_TRIALS          10      // failover trials
#define BHO_FAILOVER_DYNOS  10      // web dynos per trial, over two supervisors
#define BHO_APPS            10000   // apps' state the relocated actors hold
#define BHO_RELOCATED_MAX   4       // stateful actors relocated
#define BHO_CURVE_ROUNDS    3       // interleaved NULL / CURVE runs, medians

//  One relocated actor.
typedef struct {
    const char *name;               // e.g. "release-keeper"
    double stop_s;                  // SIGTERM -> the old process exited (snapshot written)
    double start_s;                 // new process started -> first correct answer
    double total_s;                 // SIGTERM -> first correct answer: "time until serving again"
    long snapshot_bytes;            // its snapshot file at the old place, bytes
} bho_moved_t;

typedef struct {
    bdy_t *bench;                   // the dynos bench's system handle (tmp, token, dynod, dyno)
    int apps;                       // in: N
    double populate_s;              // creating the N apps' state took
    bho_moved_t moved [BHO_RELOCATED_MAX];
    int moved_count;
} bho_relocate_t;

//  bench_relocate.c. Returns 0, or -1 with `why` filled.
int bho_relocate_run (bho_relocate_t *self, char *why, size_t why_len);

typedef struct {
    bdy_t *bench;
    size_t count;                   // in: pings per run
    double null_rps [BHO_CURVE_ROUNDS];     // sorted after the run
    double curve_rps [BHO_CURVE_ROUNDS];
    int rounds;
} bho_curve_t;

//  bench_curve.c. Returns 0, or -1 with `why` filled.
int bho_curve_run (bho_curve_t *self, char *why, size_t why_len);

#endif
