//  http - the router's HTTP/1.1 listener and proxy (its own thread)
//
//  One thread runs an epoll loop over non-blocking sockets: it accepts
//  clients on 127.0.0.1:PORT, parses each request with libhttp-parser,
//  picks the app from Host (`APP.localhost[:port]`) and a web dyno at
//  random from the routing table, opens a new connection to the dyno,
//  forwards the request (hop-by-hop headers removed, X-Forwarded-*,
//  X-Request-Start, X-Request-Id and Via added, body streamed and
//  re-framed) and relays the parsed response, keeping the client
//  connection alive when both sides allow. Errors answer with Heroku's
//  status and H code and a small HTML page. One log line per request goes
//  to the log queue. The thread reads the table and writes the queue; it
//  never waits on the actor.

#ifndef RTR_HTTP_H
#define RTR_HTTP_H

#include "logq.h"
#include "table.h"

#include <stdint.h>

typedef struct rtr_http rtr_http_t;

//  Binds 127.0.0.1:`port` and starts the thread. `table` and `logq` are
//  borrowed and must outlive the server. Caller owns result; NULL with a
//  negative code in *err when the port cannot be bound or the thread
//  cannot start.
rtr_http_t *rtr_http_new (rtr_table_t *table, rtr_logq_t *logq, int port, int *err);
//  Stops the thread, closes every connection.
void rtr_http_destroy (rtr_http_t **self_p);

//  Requests answered so far (any status), for status.
uint64_t rtr_http_requests (rtr_http_t *self);

#endif
