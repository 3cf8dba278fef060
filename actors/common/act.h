//  act - the runtime every actor runs on
//
//  An actor is a definition (act_def_t: name, handler table, hooks) run by
//  act_run, which owns the loop: connect a DEALER socket to the broker (over
//  CURVE when act_config_t.curve is set: docs/security.md), say hello (with
//  the host id, and the host's real clock as its ts), heartbeat both ways, reconnect with back-off when the broker goes
//  quiet, decode each message, drop duplicates, dispatch through the handler
//  table by type, answer `status`, `ping` and `stop` itself, acknowledge
//  durable messages with `delivered`, and stop cleanly on SIGTERM/SIGINT.
//
//  Determinism: an actor reads time only through act_now and randomness and
//  message ids only through act_rng, both injectable (act_config_t), so the
//  same inbound messages give the same outbound ones. The snapshot hook saves
//  the actor's state with the last applied sequence number and the rng state;
//  at start the runtime restores it and replays the journal after it, fetched
//  from the broker with `journal.read`.
//
//  Threading: single-threaded; every callback runs on the act_run thread.

#ifndef ACT_H
#define ACT_H

#include "act_base.h"
#include "act_curve.h"
#include "../../messages/msg.h"

typedef struct act act_t;

//  A handler: returns 0, or a negative code that the runtime logs and sends
//  back to the sender as an `error` reply.
typedef int (act_handler_fn) (void *state, act_t *act, msg_t *msg);
typedef struct {
    msg_type_id_t type;
    act_handler_fn *fn;
} act_route_t;

//  Called once with the reply (borrowed, valid during the call) or with
//  reply NULL and rc ACT_ETIMEDOUT / the peer's error code.
typedef void (act_reply_fn) (void *state, act_t *act, const msg_t *reply, int rc, void *arg);

typedef struct {
    const char *name;                   // kebab-case actor name
    bool singleton;                     // one live instance at most
    const act_route_t *routes;
    size_t route_count;
    const char *const *topics;          // NULL-terminated; may be NULL
    //  Creates the actor's state. Caller (the runtime) owns result.
    void *(*create) (act_t *act);
    void (*destroy) (void **state_p);
    //  Optional: adds actor-specific figures to a status reply.
    void (*status) (void *state, json_t *detail);
    //  Optional snapshot hook: returns the state as JSON (caller owns
    //  result) / restores it (0 or negative code).
    json_t *(*snapshot) (void *state);
    int (*restore) (void *state, const json_t *snapshot);
    int snapshot_every;                 // durable messages between snapshots
    //  Optional: called on every turn of the loop, at least every
    //  heartbeat_ms / 4 (timeouts, reaping children).
    void (*tick) (void *state, act_t *act);
} act_def_t;

typedef struct {
    const char *broker;                 // e.g. tcp://127.0.0.1:7700
    const char *instance;               // default: host
    const char *host;                   // default: gethostname
    const char *token;                  // API token for hello
    const char *data_dir;               // snapshots; NULL disables them
    act_clock_t *clock;                 // default: act_clock_real
    uint64_t seed;                      // 0: from the OS
    int heartbeat_ms;                   // default ACT_HEARTBEAT_MS
    int liveness;                       // default ACT_LIVENESS
    const char *host_id;                // <data>/host-id, sent in hello; may be NULL
    //  CURVE for a broker that is not on loopback (borrowed, valid while
    //  act_run runs); NULL: NULL security.
    const act_curve_t *curve;
} act_config_t;

#define ACT_HEARTBEAT_MS     1000
#define ACT_LIVENESS         3
#define ACT_BACKOFF_MIN_MS   100
#define ACT_BACKOFF_MAX_MS   5000
#define ACT_OUTQ_MAX         10000      // messages held while disconnected
#define ACT_REQUEST_MAX      4096       // outstanding requests
#define ACT_REASON_MAX       512        // bytes of an error reason, with NUL

//  Runs the actor until SIGTERM/SIGINT or a `stop` message. Returns 0 on a
//  clean stop, or a negative code when it could not start.
int act_run (const act_def_t *def, const act_config_t *cfg);

//  Installs SIGTERM/SIGINT handlers that write to a self-pipe and returns
//  its read end (idempotent). Used by act_run and by dynod's supervisor.
int act_signal_fd (void);
//  Also routes `sig` (e.g. SIGCHLD) to the self-pipe; the byte read from the
//  pipe is the signal number.
void act_signal_watch (int sig);

//  A new message from this actor: id from the actor's rng, `from` set, `ts`
//  from its clock. Caller owns result.
msg_t *act_msg_new (act_t *self, msg_type_id_t type, const char *to);
//  Sends and destroys *msg_p (on success and failure). Returns 0, or
//  ACT_EFULL when disconnected with the hold queue full.
int act_send (act_t *self, msg_t **msg_p);
//  Replies to `request`: sets `to` and `corr`, then as act_send.
int act_reply (act_t *self, const msg_t *request, msg_t **reply_p);
//  Replies to `request` with an `error` whose body carries `code`, a reason
//  (printf-style, one line) and the request's type; then as act_send. A
//  handler that answers this way returns 0, so the runtime sends no second
//  error.
int act_reply_error (act_t *self, const msg_t *request, int code, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));
//  Sends and calls `fn` once with the reply or a timeout.
int act_request (act_t *self, msg_t **msg_p, int timeout_ms, act_reply_fn *fn, void *arg);

//  Called when `fd` (watched with act_watch_fd) is readable or closed.
typedef void (act_fd_fn) (void *state, act_t *act, int fd, void *arg);
//  Called when `fd` (watched with act_poll_fd) has any of its events, or
//  an error; `revents` holds ACT_POLL* bits.
typedef void (act_poll_fn) (void *state, act_t *act, int fd, short revents, void *arg);
#define ACT_WATCH_MAX 4096              // fds watched at once
#define ACT_POLLIN    1                 // = ZMQ_POLLIN
#define ACT_POLLOUT   2                 // = ZMQ_POLLOUT
#define ACT_POLLERR   4                 // = ZMQ_POLLERR

//  Watches `fd` (borrowed: the caller closes it, after act_unwatch_fd) for
//  input on the actor's loop. Returns 0 or ACT_EFULL.
int act_watch_fd (act_t *self, int fd, act_fd_fn *fn, void *arg);
//  Watches `fd` for `events` (ACT_POLLIN | ACT_POLLOUT), for event loops
//  of libraries (libwebsockets) run inside the actor. Returns 0 or
//  ACT_EFULL.
int act_poll_fd (act_t *self, int fd, short events, act_poll_fn *fn, void *arg);
//  Changes the events of a watched fd. Returns 0 or ACT_ENOTFOUND.
int act_poll_events (act_t *self, int fd, short events);
void act_unwatch_fd (act_t *self, int fd);

//  A message that follows from `cause` (a follow-on event or command, not a
//  reply): `corr` is cause's id, and the id is derived from cause's id and
//  how many follow-ons the handler made before, so a replay of `cause`
//  emits the same ids and receivers drop the repeat. Caller owns result.
msg_t *act_msg_follow (act_t *self, msg_type_id_t type, const char *to, const msg_t *cause);

//  True when `msg` was sent by an instance of actor `name` (the broker
//  vouches for `from`: it refuses a peer that claims another's address).
bool act_msg_from_actor (const msg_t *msg, const char *name);

//  The data directory (act_config_t.data_dir), or NULL. Borrowed.
const char *act_data_dir (act_t *self);
//  True while the runtime replays journaled messages (restore, `dynod
//  replay`): side effects beyond state and messages must not happen.
bool act_replaying (act_t *self);

//  Sends one log line for `app` to log-plex (a `log.batch` stream message,
//  not journaled; nothing during a replay): source `dynod`, process e.g.
//  `api`, text printf-style. Returns 0 or a negative code (-EINVAL, nothing
//  sent, for a process outside `[A-Za-z0-9._-]{1,64}`).
int act_emit_log (act_t *self, const char *app, const char *process, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

//  The actor's clock (wall ms) and its seeded random source. The rng is
//  borrowed, valid while the runtime runs.
int64_t act_now (act_t *self);
act_rng_t *act_rng (act_t *self);
//  Borrowed, valid while the runtime runs.
const char *act_address (act_t *self);
void act_stop (act_t *self);

#endif
