//  worker - one HTTP worker thread: its epoll loop, its listening sockets
//  (SO_REUSEPORT, so every worker binds the same ports), its client
//  connections, its pool of idle dyno connections and its deadlines
//
//  Internal to router/: http.c starts and stops the workers; everything a
//  worker owns is touched by its thread only, except the counters.

#ifndef RTR_WORKER_H
#define RTR_WORKER_H

#include "conn.h"

#include <stdint.h>

//  Binds the listeners (HTTPS when sh->tls is set) and starts the thread.
//  `sh` is borrowed and must outlive the worker. Caller owns result; NULL
//  with a negative code in *err.
rtr_worker_t *rtr_worker_new (const rtr_shared_t *sh, int *err);
//  Stops the thread and closes everything it holds.
void rtr_worker_destroy (rtr_worker_t **self_p);

//  Counters, read from any thread.
uint64_t rtr_worker_requests (rtr_worker_t *self);
uint64_t rtr_worker_clients (rtr_worker_t *self);
uint64_t rtr_worker_pooled (rtr_worker_t *self);

#endif
