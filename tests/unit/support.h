//  support - helpers shared by the broker and actor runtime suites
//
//  Processes: a broker child (ut_broker_t) running brk_run on a free port
//  with its journal under the test's temp dir, and waiting for any child to
//  exit. Clients: an act_client registered by retrying act_client_new (how
//  every test waits for a broker it just started), and broker.status and
//  ping helpers on top of it. Wire sockets (ut_wire_t): a DEALER or ROUTER
//  socket that encodes for itself; raw peers (ut_raw_t) are DEALERs that
//  say hello as an actor, send bad input or stay silent, and test_act_fake.c
//  builds its fake broker on a ROUTER one.
//
//  Every wait is a deadline on a condition (a message arriving, a process
//  exiting), never a sleep. A failed check ends the test with UNIT_FAIL, so
//  nothing here returns an error. Forked children log at `error` level
//  unless DYNOD_LOG_LEVEL says otherwise, so a failed check stays the last
//  line the runner shows. No zmq context may be live in the test process
//  when it forks a child: ut_wire_t and act_client_t each own one.

#ifndef UT_SUPPORT_H
#define UT_SUPPORT_H

#include "unit.h"
#include "../../actors/common/act.h"
#include "../../actors/common/act_client.h"
#include "../../messages/msg.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define UT_TOKEN        "unit-token"    // the broker's and every peer's
#define UT_WAIT_MS      5000    // deadline for anything that should happen
#define UT_TRY_MS       500     // one act_client_new or status attempt

// ---------------------------------------------------------------------------
//  Processes

//  Waits for `pid` to exit. Returns its exit status, 128 + the signal that
//  killed it, or -1 when it was still running at the deadline (then it is
//  killed and reaped).
int ut_wait_exit (pid_t pid, int timeout_ms);

//  One short pause between two looks at a condition polled to a deadline.
void ut_nap (void);

//  In a forked child, before it runs: stdout carries the runner's results,
//  so it goes to /dev/null; logs stay on stderr, as `ident`.
void ut_child_stdio (const char *ident);

//  A broker child. The caller owns the struct (on its stack, usually).
typedef struct {
    pid_t pid;                  // 0: not running
    char endpoint [64];
    char data [512];
    int heartbeat_ms;           // 0: the broker's default
} ut_broker_t;

//  Fills *b for a broker on a free port with its data in the test's temp
//  dir, and starts it (heartbeat_ms 0: the default).
void ut_broker_init (ut_broker_t *b, int heartbeat_ms);

//  Forks the broker child; after ut_broker_stop, on the same port and data.
void ut_broker_start (ut_broker_t *b);

//  SIGTERM, and the broker must stop cleanly (exit 0; under LSan that also
//  means it freed everything).
void ut_broker_stop (ut_broker_t *b);

// ---------------------------------------------------------------------------
//  act_client helpers

//  Registers a client named `name`, retrying until the broker answers.
//  Caller owns result.
act_client_t *ut_client_new (const ut_broker_t *b, const char *name);

//  The client's next message, which must be of `type`. Caller owns result.
msg_t *ut_client_expect (act_client_t *client, msg_type_id_t type);

//  Subscribes and waits until the broker has applied it: a ping answered on
//  the same connection comes after the subscribe was handled.
void ut_client_subscribe (act_client_t *client, const char *topic);

//  A `ping` carrying `data`. Caller owns result.
msg_t *ut_ping_new (act_client_t *client, const char *to, const char *data);

//  Sends a `ping` carrying `data`.
void ut_client_ping (act_client_t *client, const char *to, const char *data);

//  Sends a durable ping and returns the sequence number it was acked with.
uint64_t ut_durable_ping (act_client_t *client, const char *to, const char *data);

//  The integer at `object`.`key` in a message's body (borrowed); fails the
//  test when there is none.
int64_t ut_body_int (const msg_t *msg, const char *object, const char *key);

//  The broker's status reply. Caller owns result.
msg_t *ut_status (act_client_t *client);

//  One figure of a fresh broker.status (-1 when absent).
int64_t ut_status_int (act_client_t *client, const char *key);

//  The count of rejections for `why` in a status reply (borrowed).
int64_t ut_rejected (const msg_t *status, const char *why);

//  The count of rejections for `why` in a fresh broker.status.
int64_t ut_status_rejected (act_client_t *client, const char *why);

//  Whether a status reply (borrowed) lists peer `name`@`instance`.
bool ut_status_lists (const msg_t *status, const char *name, const char *instance);

// ---------------------------------------------------------------------------
//  Wire sockets: zmq sockets that encode for themselves

//  A DEALER connected to a broker, or a ROUTER bound in a broker's place.
//  The caller owns the struct; ut_wire_init/ut_wire_release own its
//  context and socket.
typedef struct {
    void *zctx;
    void *sock;
    bool router;
    act_rng_t rng;                      // ids of the messages it makes
    unsigned char rid [256];            // ROUTER: the connection last heard
    size_t rid_len;                     // from, which sends go to
} ut_wire_t;

//  Opens a `type` socket (ZMQ_DEALER connects to, ZMQ_ROUTER binds
//  `endpoint`) with no linger and a random id source.
void ut_wire_init (ut_wire_t *self, int type, const char *endpoint);
void ut_wire_release (ut_wire_t *self);

//  A message from `from` to `to` with an id from the wire's rng, stamped
//  now. Caller owns result.
msg_t *ut_wire_msg_new (ut_wire_t *self, msg_type_id_t type, const char *from, const char *to);

//  Sends one frame (a ROUTER sends it to the connection in `rid`).
void ut_wire_send_bytes (ut_wire_t *self, const void *data, size_t len);

//  Encodes and sends *msg_p; ownership passes here (destroyed, nulled).
void ut_wire_send (ut_wire_t *self, msg_t **msg_p);

//  The next message, heartbeats included, or NULL once `deadline`
//  (act_mono_ms) has passed. A ROUTER remembers the connection it came on.
//  A message that does not decode fails the test, naming `who` as its
//  sender. Caller owns result.
msg_t *ut_wire_recv (ut_wire_t *self, int64_t deadline, const char *who);

// ---------------------------------------------------------------------------
//  Raw peers: a DEALER socket talking to the broker

typedef struct {
    ut_wire_t wire;
    char address [MSG_ADDR_MAX];        // the `from` of what it sends
} ut_raw_t;

//  Connected, not registered. Caller owns result.
ut_raw_t *ut_raw_new (const ut_broker_t *b);
void ut_raw_destroy (ut_raw_t **self_p);

//  A peer registered as an actor (hello with `topic`, or none when NULL).
//  Caller owns result.
ut_raw_t *ut_raw_actor (const ut_broker_t *b, const char *name, const char *instance,
                        bool singleton, const char *topic);

//  Says hello and returns the broker's answer (welcome or error). Caller
//  owns result.
msg_t *ut_raw_hello (ut_raw_t *self, const char *name, const char *instance, const char *role,
                     bool singleton, const char *topic);

//  A message from this peer. Caller owns result.
msg_t *ut_raw_msg_new (ut_raw_t *self, msg_type_id_t type, const char *to);

void ut_raw_send_bytes (ut_raw_t *self, const void *data, size_t len);

//  Encodes, sends and destroys *msg_p.
void ut_raw_send (ut_raw_t *self, msg_t **msg_p);

//  The next message that is not a heartbeat, or NULL after `timeout_ms`.
//  Caller owns result.
msg_t *ut_raw_recv (ut_raw_t *self, int timeout_ms);

//  The next message, which must be of `type`. Caller owns result.
msg_t *ut_raw_expect (ut_raw_t *self, msg_type_id_t type);

//  The next message must be an `error` with `code`.
void ut_raw_expect_error (ut_raw_t *self, int code);

//  The next message must be a ping carrying `data` with sequence `seq`
//  (0: not journaled).
void ut_raw_expect_ping (ut_raw_t *self, const char *data, uint64_t seq);

//  Broker control messages that have no reply.
void ut_raw_delivered (ut_raw_t *self, uint64_t seq);
void ut_raw_bye (ut_raw_t *self);

//  broker.status asked over the raw peer's own connection, so it is
//  answered after everything this peer sent before. Caller owns result.
msg_t *ut_raw_status (ut_raw_t *self);

#endif
