//  act_internal - the act_t struct, shared by act.c and act_snapshot.c
//
//  Private to actors/common/. Actors see act_t only as an opaque type.

#ifndef ACT_INTERNAL_H
#define ACT_INTERNAL_H

#include "act.h"
#include "act_seen.h"

#define ACT_UNACKED_MAX 10000           // durable sends awaiting the broker's ack

typedef enum {
    ACT_CONN_DISCONNECTED,
    ACT_CONN_HELLO_SENT,
    ACT_CONN_READY,
} act_conn_t;

typedef struct {
    char *data;                         // owned encoded frame
    size_t len;
} act_frame_t;

typedef struct {
    char id [MSG_ID_LEN + 1];
    int64_t deadline;                   // monotonic ms
    act_reply_fn *fn;
    void *arg;
} act_pending_t;

typedef struct {
    int fd;
    short events;                       // ACT_POLL* bits
    act_fd_fn *fn;                      // one of fn and poll_fn
    act_poll_fn *poll_fn;
    void *arg;
} act_watch_t;

//  The snapshot's journey between this host and the broker (act_snapshot.c).
typedef struct {
    json_t *local;                      // the local file, parsed, until applied
    bool pending;                       // the restore hook has not run yet
    bool fetching;                      // waiting for a snapshot.part
    char req [MSG_ID_LEN + 1];          // id of the outstanding snapshot.get
    char *data;                         // the broker's copy, parts so far
    size_t len;
    int64_t next;                       // the part asked for
    int64_t parts, size, seq;           // as its part 0 said
    uint64_t gen;                       // of the last snapshot restored or written
    bool due;                           // one was skipped or not sent: write one soon
} act_snap_t;

struct act {
    const act_def_t *def;               // borrowed, static
    act_config_t cfg;                   // strings borrowed from the caller
    void *state;                        // owned through def->create/destroy
    char hostname [256];
    char address [MSG_ADDR_MAX];        // name@instance
    act_clock_t *clock;                 // borrowed; swapped during replay
    act_clock_t replay_clock;
    act_rng_t rng;                      // ids and actor randomness
    act_rng_t control;                  // ids of the runtime's own messages
    act_rng_t jitter;                   // back-off jitter, not replayed
    void *zctx;
    void *sock;
    act_conn_t conn;
    int backoff_ms;
    int64_t next_connect, last_recv, last_send;
    int64_t started_mono, started_wall;
    uint64_t msgs_in, msgs_out;
    act_frame_t *outq;                  // held until welcome
    size_t outq_len;
    act_pending_t *requests;
    size_t request_count;
    act_seen_t seen;                    // recent ids, for duplicate drops
    act_frame_t *unacked;               // durable sends, kept until acked
    char (*unacked_ids) [MSG_ID_LEN + 1];
    size_t unacked_len;
    uint64_t last_seq;                  // highest durable seq applied
    uint64_t restored_seq;              // seq of the snapshot restored
    char broker_id [MSG_ID_LEN + 1];    // journal that numbered those seqs
    uint64_t delivered_mark;            // last durable seq received, in order
    bool delivered_dirty;               // mark not yet told to the broker
    bool replaying;                     // dispatching journal entries
    char restore_req [MSG_ID_LEN + 1];  // id of the outstanding journal.read
    int since_snapshot;
    size_t snapshot_bytes;              // size of the last snapshot written
    bool restoring;                     // replaying the journal after a snapshot
    uint64_t restore_next;              // next seq to ask the broker for
    msg_t **restore_held;               // durable deliveries held meanwhile
    size_t restore_held_len;
    act_snap_t snap;
    bool stopping;
    act_watch_t *watches;               // owned, watch_cap slots
    size_t watch_count, watch_cap;
    unsigned follow_n;                  // follow-ons made by the current handler
    msg_t **capture;                    // offline: every message sent, owned
    size_t capture_len, capture_cap;
    bool offline;                       // no broker: act_offline_*
};

//  Dispatches one decoded message (borrowed) through the runtime and the
//  actor's table, and acknowledges it when durable.
void act_dispatch (act_t *self, msg_t *msg);
//  At-least-once on both sides (act_durable.c).
//  Keeps a copy of a durable frame until the broker acks it. Returns 0 or
//  ACT_EFULL.
int act_durable_track (act_t *self, const char *id, const char *data, size_t len);
void act_durable_on_ack (act_t *self, const char *id);
//  Sends every unacked durable frame again (after a welcome).
void act_durable_resend (act_t *self);
//  Notes a durable message handled (or dropped as a duplicate).
void act_durable_received (act_t *self, const msg_t *msg);
//  Tells the broker the last durable message handled: one cumulative
//  `delivered` per batch; no-op when nothing is new.
void act_flush_delivered (act_t *self);
void act_durable_release (act_t *self);
//  Puts an encoded frame (ownership passes) on the wire, or holds it
//  until welcome. Returns 0, -errno or ACT_EFULL.
int act_send_frame (act_t *self, char *data, size_t len);
//  act_send for control messages, which may go out before welcome.
int act_send_internal (act_t *self, msg_t **msg_p, bool control);
//  A message the runtime sends on its own account, not in answer to an
//  input (hello, heartbeat, delivered, bye, journal.read): as act_msg_new
//  but with its id from `control`. How many of these go out depends on
//  timing, so drawing them from `rng` would change the ids of everything
//  the actor sends afterwards from one run to the next, and a replay would
//  not reproduce them. Caller owns result.
msg_t *act_control_msg_new (act_t *self, msg_type_id_t type, const char *to);

//  Sets up / tears down an act_t (act_run and act_offline_new).
int act_init (act_t *self, const act_def_t *def, const act_config_t *cfg);
void act_release (act_t *self);

//  Snapshot and restore (act_snapshot.c).
//  Reads the local snapshot (applied later, see act_restore_start). Returns
//  0, or a negative code when it is there but cannot be read.
int act_restore_load (act_t *self);
//  At each welcome: asks the broker for its copy of the snapshot (first
//  time), or the journal after it (a restore under way), or sends a
//  snapshot that is due.
void act_restore_start (act_t *self);
bool act_restore_on_batch (act_t *self, msg_t *msg);
//  Takes *msg_p while a restore is running and returns true: durable
//  deliveries, and commands while the restore hook has not run.
bool act_restore_hold (act_t *self, msg_t **msg_p);
//  True until the restore hook has run (the actor's tick waits).
bool act_snapshot_pending (act_t *self);
//  Handles snapshot.saved, snapshot.part and an `error` answering
//  snapshot.put or snapshot.get; returns true when `msg` was one of them.
bool act_snapshot_on_reply (act_t *self, msg_t *msg);
void act_snapshot_maybe (act_t *self);
//  Writes the snapshot file and sends it to the broker.
void act_snapshot_write (act_t *self);
void act_snapshot_release (act_t *self);

#endif
