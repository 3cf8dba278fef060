//  brk_internal - the broker's state, shared by broker.c and control.c
//
//  Private to broker/.

#ifndef BRK_INTERNAL_H
#define BRK_INTERNAL_H

#include "broker.h"
#include "directory.h"
#include "journal.h"
#include "zap.h"
#include "allow.h"
#include "vault.h"
#include "../actors/common/act_seen.h"
#include "../actors/common/act_base.h"
#include "../messages/msg.h"

#include <zmq.h>

//  Why inputs were rejected; reported by broker.status.
typedef enum {
    BRK_REJ_MALFORMED,
    BRK_REJ_UNKNOWN_TYPE,
    BRK_REJ_TOO_BIG,
    BRK_REJ_MULTIPART,
    BRK_REJ_NOT_REGISTERED,
    BRK_REJ_SPOOFED,
    BRK_REJ_AUTH,
    BRK_REJ_SINGLETON,
    BRK_REJ_PEERS_FULL,
    BRK_REJ_NO_ROUTE,
    BRK_REJ_HELD_FULL,
    BRK_REJ_BAD_CONTROL,
    BRK_REJ_STORE,                      // the journal could not be written
    BRK_REJ_DURABLE_STREAM,             // `dur` on a stream type
    BRK_REJ_DURABLE_SECRET,             // `dur` on a type that carries a secret
    BRK_REJ_REPEAT,                     // a durable message journaled already
    BRK_REJ_KEY,                        // CURVE key not on the allow-list (ZAP)
    BRK_REJ_HANDSHAKE,                  // NULL/PLAIN or a broken handshake on CURVE
    BRK_REJ_KEY_BINDING,                // a key claiming a name or host not its own
    BRK_REJ_CLOCK,                      // hello clock too far from the broker's
    BRK_REJ_HOST_ID,                    // a host name live with another host id
    BRK_REJ_COUNT
} brk_reject_t;

//  Held messages brk_redeliver lets one actor have unreleased at a time.
#define BRK_INFLIGHT_MAX    10000

//  An actor's redelivery state, by address. An actor has one from its first
//  brk_redeliver (at hello) until brk_peer_drop.
typedef struct {
    char address [MSG_ADDR_MAX];
    bool backlog;                       // held messages due to it not yet sent
} brk_flow_t;

//  A durable message staged for the next group commit.
typedef struct {
    zmq_msg_t frame;                    // owned, seq stamped
    uint64_t seq;
    unsigned char rid [BRK_RID_MAX];    // sender connection
    size_t rid_len;
    char id [MSG_ID_LEN + 1];
    char to [MSG_ADDR_MAX];
} brk_staged_t;

typedef struct {
    brk_config_t cfg;
    void *zctx;
    void *router;
    brk_journal_t *journal;
    brk_directory_t *dir;
    char address [MSG_ADDR_MAX];        // broker@<instance>
    char host [256];
    act_rng_t rng;
    int64_t started_mono;
    uint64_t msgs_in, msgs_out;
    uint64_t rejected [BRK_REJ_COUNT];
    act_seen_t journaled;               // recent durable ids -> their seq
    brk_staged_t *staged;               // BRK_DRAIN_MAX slots
    size_t staged_count;
    brk_flow_t *flows;                  // BRK_PEERS_MAX slots
    size_t flow_count;
    size_t backlog_count;               // flows with backlog set
    bool held_full_warned;              // logged; re-armed below half full
    brk_vault_t *vault;                 // owned; vault.c, opened on first use
    bool stopping;
    brk_zap_t *zap;                     // owned; CURVE gatekeeping (zap.c), NULL without `listen`
    //  The CURVE key (User-Id) of the frame being handled, "" on the
    //  loopback endpoint: what control.c's hello admission checks.
    char frame_key [ACT_KEY_LEN + 1];
} brk_t;

//  broker.c
int brk_send_raw (brk_t *self, const void *rid, size_t rid_len, const void *data, size_t len);
//  Encodes and sends a message the broker made; destroys *msg_p.
int brk_send_msg (brk_t *self, const void *rid, size_t rid_len, msg_t **msg_p);
//  A new message from the broker (id, from, ts set). Caller owns result.
msg_t *brk_msg_new (brk_t *self, msg_type_id_t type, const char *to);
void brk_reject (brk_t *self, const void *rid, size_t rid_len, brk_reject_t why,
                 const char *corr, int code, const char *reason, const char *type);
void brk_publish (brk_t *self, msg_t **msg_p, const char *topic);
//  Sends `data` to `peer` and counts it. Returns 0 or -errno.
int brk_send_peer (brk_t *self, brk_peer_t *peer, const void *data, size_t len);

//  redeliver.c
//  Records whether the actor at `address` has held messages left to send.
void brk_flow_set (brk_t *self, const char *address, bool backlog);
void brk_flow_forget (brk_t *self, const char *address);
//  Redeliveries cut short by a full queue: tried again on each tick.
void brk_resume_backlogs (brk_t *self);
//  Sends an actor the held messages due to it (addressed to it or to its
//  name, and with no live peer), oldest first, while fewer than
//  BRK_INFLIGHT_MAX are assigned to it. Call it at hello and whenever
//  `delivered` released some of its messages: it does nothing unless the
//  actor is new or has some left to send. No-op for clients.
void brk_redeliver (brk_t *self, brk_peer_t *peer);
//  Removes a peer, publishes actor.down for actors and hands messages held
//  for it by name to another live instance (through brk_redeliver).
void brk_peer_drop (brk_t *self, brk_peer_t *peer, const char *reason);
//  The counter name of a reason. Borrowed, static storage.
const char *brk_reject_name (brk_reject_t why);

//  zap.c: the CURVE endpoint (zap.h, docs/security.md). brk_zap_open binds
//  cfg.listen with CURVE, after the loopback endpoint; returns 0 or a
//  negative code (logged). No-op without cfg.listen.
int brk_zap_open (brk_t *self);
void brk_zap_close (brk_t *self);
//  Adds the ZAP and monitor sockets to `items` (room for BRK_ZAP_POLL_ITEMS)
//  and returns how many; brk_zap_on_poll handles their events.
size_t brk_zap_poll_add (brk_t *self, zmq_pollitem_t *items);
void brk_zap_on_poll (brk_t *self, const zmq_pollitem_t *items, size_t count);
//  Re-reads the allow-list when its file changed and drops the live peers
//  it no longer admits.
void brk_zap_tick (brk_t *self);
//  Sets self->frame_key from `frame`'s User-Id ("" on the loopback side).
void brk_zap_frame_key (brk_t *self, zmq_msg_t *frame);
//  The allow-list entry of `key`, or NULL. Borrowed, valid until the next
//  brk_zap_tick.
const brk_allow_entry_t *brk_zap_allowed (brk_t *self, const char *key);

//  control.c: messages addressed to the broker itself. `msg` is fully
//  decoded; `peer` is NULL only for hello.
void brk_control (brk_t *self, brk_peer_t *peer, const void *rid, size_t rid_len, msg_t *msg);

//  snapshots.c: snapshot.put and snapshot.get (actors' snapshots, kept so
//  an actor can move to another host).
void brk_on_snapshot_put (brk_t *self, brk_peer_t *peer, const void *rid, size_t rid_len,
                          msg_t *msg);
void brk_on_snapshot_get (brk_t *self, brk_peer_t *peer, const void *rid, size_t rid_len,
                          msg_t *msg);

//  vault.c: vault.put and vault.get (release-keeper's blobs, vault.h).
void brk_on_vault_put (brk_t *self, brk_peer_t *peer, const void *rid, size_t rid_len, msg_t *msg);
void brk_on_vault_get (brk_t *self, brk_peer_t *peer, const void *rid, size_t rid_len, msg_t *msg);

#endif
