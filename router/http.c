//  http - the router's HTTP/1.1 (and HTTPS) listeners and proxy: worker
//  threads
//
//  This file owns the set of workers and the settings they share (the
//  borrowed modules and the timeouts from the environment); worker.c owns
//  one worker's sockets and loop.

#include "http.h"
#include "conn.h"
#include "worker.h"
#include "../actors/common/act_base.h"

#include <errno.h>
#include <http_parser.h>
#include <stdlib.h>
#include <unistd.h>

#define RTR_WORKERS_MAX 64

struct rtr_http {
    rtr_shared_t sh;
    rtr_worker_t *workers [RTR_WORKERS_MAX];
    int count;
};

static int
s_env_ms (const char *name, int fallback)
{
    const char *value = getenv (name);
    char *end = NULL;
    long ms = value ? strtol (value, &end, 10) : 0;
    return value && *value && end && !*end && ms > 0 && ms <= 24L * 3600 * 1000 ? (int) ms : fallback;
}

void
rtr_timeouts_from_env (rtr_timeouts_t *self)
{
    self->connect = s_env_ms ("DYNOD_ROUTER_CONNECT_TIMEOUT_MS", 5000);
    self->sideline = s_env_ms ("DYNOD_ROUTER_SIDELINE_MS", 5000);
    self->service = s_env_ms ("DYNOD_ROUTER_SERVICE_TIMEOUT_MS", 30000);
    self->idle = s_env_ms ("DYNOD_ROUTER_IDLE_TIMEOUT_MS", 55000);
    self->header = s_env_ms ("DYNOD_ROUTER_HEADER_TIMEOUT_MS", 10000);
    self->keepalive = s_env_ms ("DYNOD_ROUTER_KEEPALIVE_TIMEOUT_MS", 90000);
    self->boot = s_env_ms ("DYNOD_ROUTER_BOOT_TIMEOUT_MS", 75000);
    self->pool_idle = s_env_ms ("DYNOD_ROUTER_POOL_IDLE_MS", 60000);
}

static int
s_worker_count (int asked)
{
    if (asked <= 0) {
        const char *env = getenv ("DYNOD_ROUTER_WORKERS");
        asked = env ? atoi (env) : 0;
    }
    if (asked <= 0) {
        long cores = sysconf (_SC_NPROCESSORS_ONLN);
        asked = cores > 0 ? (int) cores : 1;
    }
    return asked > RTR_WORKERS_MAX ? RTR_WORKERS_MAX : asked;
}

rtr_http_t *
rtr_http_new (const rtr_http_config_t *config, int *err)
{
    rtr_http_t *self = act_calloc (1, sizeof *self);
    self->sh = (rtr_shared_t) {
        .table = config->table, .logq = config->logq, .hosts = config->hosts,
        .tls = config->tls, .challenges = config->challenges,
        .listen_addr = config->listen_addr,
        .http_port = config->http_port, .https_port = config->https_port,
    };
    rtr_timeouts_from_env (&self->sh.to);
    //  libhttp-parser's own cap on a head (80 KB by default, a process
    //  setting) would cut heads the per-line limits allow, as plain
    //  errors; ours is larger and answered as 431 / H25.
    http_parser_set_max_header_size (RTR_HEAD_MAX);
    int want = s_worker_count (config->workers);
    for (int i = 0; i < want; i++) {
        int rc = 0;
        self->workers [i] = rtr_worker_new (&self->sh, &rc);
        if (!self->workers [i]) {
            *err = rc;
            rtr_http_destroy (&self);
            return NULL;
        }
        self->count++;
    }
    return self;
}

void
rtr_http_destroy (rtr_http_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    rtr_http_t *self = *self_p;
    for (int i = 0; i < self->count; i++)
        rtr_worker_destroy (&self->workers [i]);
    free (self);
    *self_p = NULL;
}

uint64_t
rtr_http_requests (rtr_http_t *self)
{
    uint64_t n = 0;
    for (int i = 0; i < self->count; i++)
        n += rtr_worker_requests (self->workers [i]);
    return n;
}

int
rtr_http_workers (rtr_http_t *self)
{
    return self->count;
}

uint64_t
rtr_http_clients (rtr_http_t *self)
{
    uint64_t n = 0;
    for (int i = 0; i < self->count; i++)
        n += rtr_worker_clients (self->workers [i]);
    return n;
}

uint64_t
rtr_http_pooled (rtr_http_t *self)
{
    uint64_t n = 0;
    for (int i = 0; i < self->count; i++)
        n += rtr_worker_pooled (self->workers [i]);
    return n;
}
