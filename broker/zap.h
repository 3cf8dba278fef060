//  brk_zap - the broker's CURVE endpoint and its gatekeepers
//
//  With `dynod broker --listen EP` the broker's ROUTER gets a second
//  endpoint that always uses CURVE. zap.c owns what guards it:
//
//  - the server key pair, <data>/keys/host.key (created 0600 if missing);
//  - the allow-list, <data>/keys/allowed (broker/allow.h), re-read when the
//    file changes (checked on every tick), after which live peers whose key
//    is gone, or no longer allows their name or host, are dropped at once;
//  - a ZAP handler (RFC 27): a REP socket on inproc://zeromq.zap.01 in the
//    broker's context, polled by the broker's own loop. Without one libzmq
//    admits any CURVE key, so it is bound before the endpoint is. It admits
//    CURVE keys on the allow-list (User-Id = the key, Z85) and NULL on the
//    loopback endpoint, and refuses everything else with status 400;
//  - a socket monitor on the ROUTER that logs handshake failures on the
//    CURVE endpoint (NULL or PLAIN security against it, broken handshakes).
//
//  Refusals are counted in the broker's `rejected` (curve_key,
//  curve_handshake) and logged with at most a short public-key prefix,
//  rate-limited per key so a peer that retries every 100 ms does not flood
//  the log. Secret keys are never logged.
//
//  Options are applied per bind (libzmq copies a socket's options into each
//  listener when it binds), so the loopback endpoint is bound first with
//  NULL security and the CURVE endpoint after the CURVE options are set:
//  one ROUTER serves both.
//
//  Functions taking the broker (brk_t) are declared in broker_internal.h.
//  Single-threaded: everything runs on the broker's loop.

#ifndef BRK_ZAP_H
#define BRK_ZAP_H

#define BRK_ZAP_ENDPOINT    "inproc://zeromq.zap.01"
#define BRK_ZAP_DOMAIN      "dynod"             // set on the CURVE bind only
#define BRK_ZAP_POLL_ITEMS  2                   // the ZAP socket, the monitor

typedef struct brk_zap brk_zap_t;

#endif
