//  bch - the broker benchmark: shared types of bench_broker.c and bench_run.c
//
//  bench_broker.c owns the process: flags, the broker child, the data
//  directory, the two clients and the report. bench_run.c owns the
//  measurements: one sender and one receiver thread per run, over raw
//  ZeroMQ sockets or the two clients' DEALER sockets.
//
//  Threads: a socket is used by one thread at a time; pthread_create and
//  pthread_join order every hand-over between the main thread and a run's
//  threads.

#ifndef BCH_BENCH_H
#define BCH_BENCH_H

#include "../../actors/common/act_client.h"
#include "../common/bench_stats.h"
#include "../common/bench_up.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BCH_WINDOW       50000      // frames in flight; keeps held < BRK_HELD_MAX
#define BCH_STALL_MS     5000       // a run fails when nothing arrives this long
#define BCH_KEEPALIVE_MS 500        // idle clients heartbeat the broker this often

typedef enum {
    BCH_RAW,                        // libzmq sockets, no broker
    BCH_ROUTED,                     // through the broker, non-durable
    BCH_DURABLE,                    // through the broker, journaled + fsync'd
} bch_mode_t;

//  The measured process: what every run needs to reach the broker and to
//  build frames.
typedef struct {
    pid_t broker;                   // child running `dynod broker`
    act_client_t *tx;               // sender / requester
    act_client_t *rx;               // receiver / echo
    char *plain;                    // owned: encoded non-durable ping tx -> rx
    char *durable;                  // owned: the same, dur = true
    size_t frame_len;               // both are this long
    size_t id_off;                  // offset of the 32-char id in both
    uint64_t ids_used;              // patched ids handed out so far
    void *raw_ctx [2];              // the raw peers' contexts, one each
    void *push, *pull;              // raw pipeline: push in [0], pull in [1]
    void *ping, *pong;              // raw DEALER pair: ping in [0], pong in [1]
} bch_t;

//  A process's CPU time in seconds: its main thread (and any that have
//  exited), live ZeroMQ I/O threads, other live threads (LevelDB's).
typedef struct {
    double main, io, other;
} bch_cpu_t;

//  Latency percentiles in microseconds.
typedef struct {
    double p50, p99, max;
    size_t count;
    double others;                  // CPUs other processes used meanwhile
} bch_lat_t;

//  bench_run.c. Each returns 0, or -1 with `why` filled.
//
//  Opens the raw sockets over tcp://127.0.0.1 (ephemeral ports).
int bch_raw_open (bch_t *self, char *why, size_t why_len);
void bch_raw_close (bch_t *self);
//
//  Pipelines `count` frames from sender to receiver (window BCH_WINDOW) and
//  sets *rate to count / (first send -> last receive, or last ack when
//  durable).
int bch_throughput (bch_t *self, bch_mode_t mode, size_t count, double *rate, char *why,
                    size_t why_len);
//  `count` sequential request -> reply round trips after `warmup` untimed
//  ones. Durable round trips end when both the ack and the reply are in.
int bch_round_trips (bch_t *self, bch_mode_t mode, size_t warmup, size_t count, bch_lat_t *lat,
                     char *why, size_t why_len);
//  Drops whatever is queued on both clients' sockets until they are quiet.
void bch_settle (bch_t *self);

//  bench_broker.c
//  Reads a process's CPU times from /proc. Returns 0 or -errno.
int bch_process_cpu (pid_t pid, bch_cpu_t *cpu);

//  bench_frames.c
//  Monotonic clock in nanoseconds.
int64_t bch_now_ns (void);
//  Encodes the ping tx sends rx in the throughput runs, plain and durable,
//  and finds where its id sits so each copy can get its own. Returns 0 or
//  -1.
int bch_make_frames (bch_t *self);

#endif
