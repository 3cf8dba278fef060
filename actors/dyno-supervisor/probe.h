//  probe - one check of a web dyno's port: connect, and optionally GET
//
//  Owns: one non-blocking TCP socket to 127.0.0.1:PORT. Without a path the
//  check passes once the connection is accepted; with one it then sends
//  `GET PATH HTTP/1.0` and passes on a 2xx or 3xx status line. The caller
//  watches sup_probe_fd for sup_probe_events and calls sup_probe_step on
//  each event; the caller also times the check out.

#ifndef SUP_PROBE_H
#define SUP_PROBE_H

#include <stdbool.h>

typedef enum { SUP_PROBE_PENDING, SUP_PROBE_PASSED, SUP_PROBE_FAILED } sup_probe_result_t;

typedef struct sup_probe sup_probe_t;

//  Starts a check of `port` (with `path`, or NULL / "" for a connect only).
//  Returns the probe (caller owns result), or NULL when no socket could be
//  made.
sup_probe_t *sup_probe_new (int port, const char *path);
void sup_probe_destroy (sup_probe_t **self_p);

//  The socket to watch (borrowed) and the events to watch it for now
//  (ACT_POLLIN / ACT_POLLOUT bits).
int sup_probe_fd (const sup_probe_t *self);
short sup_probe_events (const sup_probe_t *self);

//  Advances the check after an event on its socket.
sup_probe_result_t sup_probe_step (sup_probe_t *self);

//  Parses an HTTP status line ("HTTP/1.1 204 No Content"): true for 2xx and
//  3xx. Exposed for tests.
bool sup_probe_status_ok (const char *line, int len);

#endif
