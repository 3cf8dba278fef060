//  http - the router's HTTP/1.1 (and HTTPS) listeners and proxy: worker
//  threads
//
//  One worker thread per core (DYNOD_ROUTER_WORKERS overrides), each with
//  its own epoll loop and its own SO_REUSEPORT listening sockets on
//  127.0.0.1:HTTP_PORT and, when a TLS context is given, HTTPS_PORT; the
//  kernel spreads new connections over them. A worker parses each request
//  with libhttp-parser, picks the app from Host and a web dyno at random
//  from the routing table, reuses an idle keep-alive connection to that
//  dyno from its pool or opens one, forwards the request (hop-by-hop
//  headers removed, X-Forwarded-*, X-Request-Start, X-Request-Id and Via
//  added, body streamed and re-framed) and relays the parsed response;
//  `Upgrade` requests answered 101 become byte tunnels. Errors answer with
//  Heroku's status and H code and a small HTML page. One log line per
//  request goes to the log queue. Workers read the table, hosts, TLS and
//  challenges (each under its own short lock) and write the queue; they
//  never wait on the actor.

#ifndef RTR_HTTP_H
#define RTR_HTTP_H

#include "challenges.h"
#include "hosts.h"
#include "logq.h"
#include "table.h"
#include "tls.h"

#include <stdint.h>

typedef struct rtr_http rtr_http_t;

//  Timeouts in ms; rtr_timeouts_from_env fills them from DYNOD_ROUTER_*_MS.
typedef struct {
    int connect;                // DYNOD_ROUTER_CONNECT_TIMEOUT_MS 5000: try another dyno
    int sideline;               // DYNOD_ROUTER_SIDELINE_MS 5000: a failing dyno is skipped
    int service;                // DYNOD_ROUTER_SERVICE_TIMEOUT_MS 30000: first byte (H12)
    int idle;                   // DYNOD_ROUTER_IDLE_TIMEOUT_MS 55000: H15 / H28
    int header;                 // DYNOD_ROUTER_HEADER_TIMEOUT_MS 10000: slowloris (408)
    int keepalive;              // DYNOD_ROUTER_KEEPALIVE_TIMEOUT_MS 90000: idle client
    int boot;                   // DYNOD_ROUTER_BOOT_TIMEOUT_MS 75000: dynos starting (H20)
    int pool_idle;              // DYNOD_ROUTER_POOL_IDLE_MS 60000: idle dyno connection
} rtr_timeouts_t;

void rtr_timeouts_from_env (rtr_timeouts_t *self);

//  What the router gives its HTTP side. Every pointer is borrowed and must
//  outlive the server.
typedef struct {
    rtr_table_t *table;
    rtr_logq_t *logq;
    rtr_hosts_t *hosts;         // NULL: only `APP.localhost` names an app
    rtr_tls_t *tls;             // NULL: no HTTPS listener
    rtr_challenges_t *challenges; // NULL: every ACME challenge is 404
    const char *listen_addr;    // IPv4 address the listeners bind; NULL: 127.0.0.1
    int http_port;
    int https_port;             // used when `tls` is set
    int workers;                // 0: DYNOD_ROUTER_WORKERS, else one per core
} rtr_http_config_t;

//  Binds the ports in every worker and starts the threads. Caller owns
//  result; NULL with a negative code in *err when a port cannot be bound
//  or a thread cannot start.
rtr_http_t *rtr_http_new (const rtr_http_config_t *config, int *err);
//  Stops the threads, closes every connection.
void rtr_http_destroy (rtr_http_t **self_p);

//  Requests answered so far (any status), over all workers, for status.
uint64_t rtr_http_requests (rtr_http_t *self);
//  Worker threads running.
int rtr_http_workers (rtr_http_t *self);
//  Open client connections, and idle pooled dyno connections, for status.
uint64_t rtr_http_clients (rtr_http_t *self);
uint64_t rtr_http_pooled (rtr_http_t *self);

#endif
