//  brt - the router benchmark: shared types of its files
//
//  bench_router.c owns the process: flags, the temporary directory, the
//  order of the measurements, the report and the RESULT line.
//  bench_system.c owns the measured system: `dynod up` on free ports with
//  DYNOD_ROUTER_WORKERS set, the app (bench-router-tiny deployed as its
//  `web` process), finding the web dyno's port, and whether the router
//  answers over HTTP and HTTPS. bench_peers.c owns the peers: the ECDSA
//  P-256 certificate, HAProxy's and nginx's configuration files (written
//  under TMP) and their processes. bench_wrk.c owns load runs: wrk with a
//  warm-up, its `--latency` output parsed. bench_handshakes.c owns the TLS
//  handshake client (new full handshakes per second, no resumption).
//
//  Single-threaded, except the handshake client's own threads.

#ifndef BRT_BENCH_H
#define BRT_BENCH_H

#include "../common/bench_stats.h"
#include "../common/bench_up.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define BRT_APP             "bench-router"
#define BRT_READY_MS        40000   // dynod up must print its ready line by then
#define BRT_STOP_MS         15000   // SIGTERM, then SIGKILL after this long
#define BRT_DYNO_WAIT_S     90      // the deployed web dyno must be up and routed by then
#define BRT_PEER_WAIT_S     10      // a peer must accept connections by then

//  One wrk run's figures.
typedef struct {
    bool ran;                       // false: not measured (n/a)
    double rps;                     // Requests/sec
    double p50_ms, p99_ms;          // from --latency
    long requests;                  // requests completed
    long errors;                    // socket errors (connect, read, write, timeout)
    long non_2xx;                   // "Non-2xx or 3xx responses"
    char note [160];                // why not measured, or a warning
} brt_load_t;

//  One handshake run's figures.
typedef struct {
    bool ran;
    double per_s;                   // completed full handshakes per second
    long done;
    long failed;
    char note [160];
} brt_hs_t;

//  The bench and the things it started.
typedef struct {
    const char *dynod;              // path of the dynod binary
    const char *dyno;               // path of the dyno binary
    const char *tiny;               // path of bench-router-tiny
    int seconds;                    // measured run length
    int warmup;                     // discarded run before each, seconds
    int connections;                // wrk -c
    int threads;                    // wrk -t and the handshake client's threads
    int workers;                    // the router's workers = HAProxy nbthread = nginx workers
    int hs_parallel;                // handshakes in flight per client thread
    char tmp [256];                 // mkdtemp'd; removed at the end
    char token [33];
    //  The system.
    pid_t up;
    int up_out;
    char up_log [320];
    char endpoint [64];
    int http_port, https_port;
    int dyno_port;                  // the web dyno's PORT
    char host [96];                 // APP.localhost
    //  The peers.
    char cert_pem [320];            // certificate + key, HAProxy's `crt`
    pid_t haproxy, nginx;
    int haproxy_http, haproxy_https, nginx_http;
} brt_t;

//  bench_system.c
//  Starts `dynod up` (router workers = self->workers) on free ports and
//  waits for its ready line. Returns 0 or -1 with `why` filled.
int brt_system_start (brt_t *self, char *why, size_t why_len);
void brt_system_stop (brt_t *self);
//  Creates the app, deploys bench-router-tiny as its web process, waits
//  until the dyno is up (fills dyno_port) and the router routes to it.
int brt_app_deploy (brt_t *self, char *why, size_t why_len);
//  One GET of `/` on 127.0.0.1:`port` with Host `host` (NULL: none); over
//  TLS with SNI `sni` when that is not NULL. Returns the status, or -1 with
//  `why` filled.
int brt_get (int port, const char *host, const char *sni, char *why, size_t why_len);
//  Whether something accepts TCP connections on 127.0.0.1:`port`.
bool brt_listening (int port);

//  bench_peers.c
//  Writes TMP/peer.pem: a fresh ECDSA P-256 key and a certificate for
//  BRT_APP.localhost, 127.0.0.1 (openssl CLI). Returns 0 or -1.
int brt_cert_make (brt_t *self, char *why, size_t why_len);
//  Write the configuration, start the peer in the foreground, wait until
//  it accepts. Returns 0 or -1 with `why` filled (the process, if any, is
//  left to stop).
int brt_haproxy_start (brt_t *self, char *why, size_t why_len);
int brt_nginx_start (brt_t *self, char *why, size_t why_len);
void brt_peers_stop (brt_t *self);

//  bench_wrk.c
//  wrk -t threads -c connections --latency against `url` (with a `Host`
//  header when `host` is not NULL): a warm-up run, then the measured one.
//  Fills `out` (out->ran false with a note when wrk failed).
void brt_wrk (brt_t *self, const char *label, const char *url, const char *host, brt_load_t *out);
//  Parses wrk's --latency output. Returns 0 or -1 (no Requests/sec line).
int brt_wrk_parse (const char *text, brt_load_t *out);

//  bench_handshakes.c
//  Full TLS 1.3 handshakes against 127.0.0.1:`port` with SNI `sni` for
//  `seconds`: `threads` threads, each keeping `parallel` non-blocking
//  handshakes in flight; every connection is closed once its handshake is
//  done (close_notify, then close) and no session is ever resumed.
void brt_handshakes (int port, const char *sni, int seconds, int threads, int parallel, brt_hs_t *out);

#endif
