//  headers - what the router adds to, and strips from, proxied messages
//
//  Hop-by-hop headers (Connection and the names it lists, Keep-Alive,
//  Proxy-Connection, Proxy-Authorization, TE, Trailer, Transfer-Encoding,
//  Upgrade) never cross the router; the router sets its own framing.
//  Requests also lose the client's X-Forwarded-Proto/-Port,
//  X-Request-Start and X-Request-Id (the router sets them) while
//  X-Forwarded-For and Via are appended to. Pure functions, no state.

#ifndef RTR_HEADERS_H
#define RTR_HEADERS_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#define RTR_REQUEST_ID_MAX  200         // chars of a client's X-Request-Id
#define RTR_REQUEST_ID_LEN  (RTR_REQUEST_ID_MAX + 1)

//  True when header `name` (`len` bytes, any case) is hop-by-hop, or is
//  named by the message's Connection header value `connection` (may be
//  NULL).
bool rtr_headers_hop (const char *name, size_t len, const char *connection);

//  True when the request header `name` is replaced by the router.
bool rtr_headers_replaced (const char *name, size_t len);

//  True for a usable client X-Request-Id: 1 to 200 of [A-Za-z0-9+=/-].
bool rtr_headers_request_id_ok (const char *id, size_t len);

//  Writes a new random UUID (v4) into `out` (at least 37 bytes), drawing
//  from `rng` (a worker's state, seeded from getrandom): request ids must
//  be unique, not secret, and a system call per request is not free.
void rtr_headers_uuid (char *out, uint64_t *rng);

//  The app a Host header names: `APP.localhost` or `APP.localhost:PORT`
//  (any case) → APP in `out` (`cap` bytes, lower case). False otherwise.
bool rtr_headers_app (const char *host, size_t len, char *out, size_t cap);

#endif
