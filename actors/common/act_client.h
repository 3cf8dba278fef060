//  act_client - a blocking broker peer for short-lived programs
//
//  The `dyno` CLI, dynod's supervisor, tests and benchmarks talk to the
//  broker through this: connect, say hello as a client, send messages, wait
//  for replies by correlation id with a timeout. It heartbeats while it
//  waits so long calls keep it registered. Not for actors: they use act_run.

#ifndef ACT_CLIENT_H
#define ACT_CLIENT_H

#include "act_base.h"
#include "act_curve.h"
#include "../../messages/msg.h"

typedef struct act_client act_client_t;

//  Connects to `endpoint` and registers as `name@<random>` with role
//  `client`. Returns the client (caller owns result) or NULL with *rc set:
//  ACT_ETIMEDOUT when no broker answered, ACT_EAUTH / ACT_EREFUSED when the
//  broker refused the hello.
act_client_t *act_client_new (const char *endpoint, const char *token, const char *name,
                              int timeout_ms, int *rc);
//  As act_client_new, over CURVE when `curve` is not NULL (borrowed: used
//  only during the call). A broker that refuses the key never answers the
//  handshake: *rc is then ACT_ETIMEDOUT.
act_client_t *act_client_new_curve (const char *endpoint, const char *token, const char *name,
                                    int timeout_ms, const act_curve_t *curve, int *rc);
void act_client_destroy (act_client_t **self_p);

//  A new message from this client (fresh id, from, ts). Caller owns result.
msg_t *act_client_msg_new (act_client_t *self, msg_type_id_t type, const char *to);
//  Sends and destroys *msg_p (on success and failure). Returns 0 or -errno.
int act_client_send (act_client_t *self, msg_t **msg_p);
//  The next message that is not a heartbeat, or NULL with *rc set
//  (ACT_ETIMEDOUT). Caller owns result.
msg_t *act_client_recv (act_client_t *self, int timeout_ms, int *rc);
//  Sends *req_p (consumed) and waits for the message answering it, skipping
//  the broker's `ack` for durable requests. Returns 0 with *reply_p set
//  (caller owns it), the code of an `error` reply (with *reply_p set too),
//  or ACT_ETIMEDOUT.
int act_client_call (act_client_t *self, msg_t **req_p, int timeout_ms, msg_t **reply_p);
//  Sends a durable message and waits for the broker's ack. Returns 0 with
//  *seq_p set, an error code, or ACT_ETIMEDOUT.
int act_client_send_durable (act_client_t *self, msg_t **msg_p, int timeout_ms, uint64_t *seq_p);

//  Borrowed, valid while the client lives.
const char *act_client_address (act_client_t *self);
//  The DEALER socket, for benchmarks that drive it directly. Borrowed.
void *act_client_socket (act_client_t *self);

#endif
