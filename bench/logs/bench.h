//  blg - the logs benchmark: shared types of its files
//
//  bench_logs.c owns the process: flags, the `dynod up` child, the
//  temporary directory, the peers' tools (rsyslogd, node and its `ws`
//  package), and the report. bench_ingest.c owns phase (a): 4 producer
//  threads sending the same lines to log-plex (log.batch through the
//  broker) and to a private rsyslogd (RFC 5424 octet-counted frames over
//  TCP into omfile). bench_tails.c owns phases (b) and (c): the paced
//  generator and the 100 websocket tails (plain sockets, epoll and a
//  minimal frame reader), run against log-plex and against the Node `ws`
//  broadcast server (ws_peer.js), with latency, losses and the servers'
//  memory.
//
//  Threads: every phase joins the threads it starts before it returns;
//  each thread owns its client / sockets / epoll and its counters,
//  merged after the join.

#ifndef BLG_BENCH_H
#define BLG_BENCH_H

#include "../../actors/common/act_client.h"
#include "../../messages/msg_logbatch.h"
#include "../common/bench_stats.h"
#include "../common/bench_up.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BLG_PRODUCERS       4       // ingest producer threads
#define BLG_BATCH           200     // lines per log.batch (a dyno-supervisor's batch)
#define BLG_TAILS           100     // websocket tails
#define BLG_TAIL_THREADS    1       // client threads (one epoll each) sharing them
#define BLG_RATE            10000   // lines/s into the tailed app
#define BLG_CONNECT_MS      5000
#define BLG_CALL_MS         10000
#define BLG_APP_INGEST      "bench-ingest"
#define BLG_APP_TAIL        "bench-tail"

//  The measured system and what every phase needs to reach it.
#define BLG_RSS_EVERY_S 10          // VmRSS sampled this often while the tails run
#define BLG_RSS_TRACE   16          // samples kept (a 150 s window at most)

typedef struct {
    const char *dynod;              // path of the dynod binary
    char tmp [256];                 // mkdtemp'd; removed at the end
    char endpoint [64];
    char token [33];
    int logs_port;
    pid_t up;                       // `dynod up` child
    pid_t log_plex;                 // its log-plex child
} blg_t;

//  Phase (a): one side's ingest run.
typedef struct {
    size_t lines;                   // in: lines to send, over all producers
    double send_s;                  // first send -> last producer done sending
    double total_s;                 // first send -> last line stored / written
    uint64_t stored;                // lines seen stored / written
    double rate;                    // stored / total_s
    double cpu_s [3];               // CPU seconds: [0] log-plex / rsyslogd, [1] broker, [2] this process
} blg_ingest_t;

//  Phase (b): one fan-out run against one server.
typedef struct {
    //  In.
    int port;                       // the websocket server
    char path [200];                // the websocket URL's path
    double warmup_s, measure_s;
    //  Out.
    int connected;                  // tails that opened
    uint64_t expected;              // measured lines each tail should get
    uint64_t received;              // measured lines received, all tails
    uint64_t lost;                  // expected * tails - received
    double per_tail_rate;           // received / tails / measure_s
    double p50_ms, p99_ms, max_ms;  // emit -> receive of measured lines
    double cpu_s;                   // CPU seconds of the server in the window
    double per_tail_kb;             // (VmRSS with the tails open, idle - without) / tails
    long rss_start_kb, rss_end_kb;  // the server's VmRSS at the window's edges
    long rss_trace_kb [BLG_RSS_TRACE];  // VmRSS every BLG_RSS_EVERY_S in the window
    int rss_traced;                 // entries of rss_trace_kb filled
} blg_tails_t;

//  How the generator hands lines to a server: log.batch to log-plex, or
//  raw lines on a TCP socket (the Node peer).
typedef struct {
    act_client_t *client;           // log-plex; NULL for the socket
    int fd;                         // the Node peer's input socket, else -1
} blg_sink_t;

//  bench_ingest.c. Return 0, or -1 with `why` filled.
int blg_ingest_ours (blg_t *self, blg_ingest_t *out, char *why, size_t why_len);
//  `rsyslogd` (a path) runs with `modules` as its module dir when not NULL.
int blg_ingest_rsyslog (blg_t *self, const char *rsyslogd, const char *modules,
                        blg_ingest_t *out, char *why, size_t why_len);

//  bench_tails.c. Runs the tails against out->port / out->path while the
//  generator feeds `sink` at BLG_RATE; samples `server`'s RSS and CPU.
//  Returns 0, or -1 with `why` filled.
int blg_tails_run (blg_t *self, blg_sink_t *sink, pid_t server, blg_tails_t *out,
                   char *why, size_t why_len);

//  bench_logs.c
//  A client registered with the measured broker, or NULL with `why` filled.
act_client_t *blg_client (blg_t *self, const char *name, char *why, size_t why_len);
//  log-plex's `lines_in` (from its status.reply, which waits behind the
//  batches queued before it: up to `timeout_ms`), or -1.
int64_t blg_lines_in (blg_t *self, act_client_t *client, int timeout_ms);
//  A TCP connection to 127.0.0.1:port, or -1.
int blg_connect (int port);
//  The text of one generated line: same bytes for every server. Returns
//  its length (< cap).
size_t blg_line_text (char *buf, size_t cap, int producer, uint64_t seq);

#endif
