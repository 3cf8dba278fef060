//  ws - log-plex's HTTP and websocket server (libwebsockets)
//
//  Serves, on 127.0.0.1:PORT, the browser page and the tail websockets
//  (request.h has the URLs and their rules). A websocket gets the app's
//  history first (the last n lines passing its filters), then, with
//  tail=1, every new line that passes them, batched: each TEXT message
//  holds one or more whole lines, each ending in "\n". With tail=0 the
//  server closes (1000) once the history is sent. Anything the client
//  sends is read and ignored; a message over LPX_WS_RX_MAX bytes closes
//  the connection (1009); frames that break the protocol (unmasked,
//  bad opcodes) are closed by libwebsockets itself (1002).
//
//  Threading: libwebsockets 4.1 as Debian builds it has no external poll
//  support, so the server runs lws_service in a thread of its own, which
//  owns the lws context after start and every session and its tail
//  queue (tail.h). It touches the actor's data only through the hub
//  (hub.h): token checks, a history copy when a session opens, and the
//  hand-off queue, which the actor thread fills and wakes it for with
//  lws_cancel_service. A slow session only lets its own queue fill (then
//  drop, with an L11 notice): the actor thread and the other sessions
//  never wait for it. lpx_ws_new / lpx_ws_destroy / lpx_ws_figures are
//  called on the actor thread.

#ifndef LPX_WS_H
#define LPX_WS_H

#include "hub.h"

#include <stdint.h>

#define LPX_WS_TAILS_MAX    500             // websocket sessions at once
#define LPX_WS_RX_MAX       4096            // bytes of one client message
#define LPX_WS_WRITE_MAX    (128u << 10)    // bytes of one TEXT message

typedef struct lpx_ws lpx_ws_t;

//  Listens on 127.0.0.1:`port` and starts the thread; sessions read
//  `hub` (borrowed: it must outlive the server). `origins` (may be NULL)
//  is the extra Origin allow-list, comma-separated, copied. Returns the
//  server (caller owns result) or NULL with the reason in `reason`.
lpx_ws_t *lpx_ws_new (lpx_hub_t *hub, int port, const char *origins, char *reason,
                      size_t reason_len);
//  Stops the thread, closes every connection and frees. Accepts NULL.
void lpx_ws_destroy (lpx_ws_t **self_p);

//  Figures for the status hook: sessions now, lines dropped from slow
//  sessions' queues, upgrades refused.
void lpx_ws_figures (lpx_ws_t *self, uint64_t *tails_p, uint64_t *dropped_p,
                     uint64_t *refused_p);

#endif
