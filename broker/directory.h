//  brk_directory - the broker's directory of live peers and held messages
//
//  Owns the peer records (one per registered connection) and the list of
//  durable messages held until their actor says `delivered`. Bounded: at
//  most BRK_PEERS_MAX peers and BRK_HELD_MAX held messages.

#ifndef BRK_DIRECTORY_H
#define BRK_DIRECTORY_H

#include "../messages/msg.h"

#define BRK_PEERS_MAX   1024
#define BRK_TOPICS_MAX  16
#define BRK_TOPIC_LEN   64
#define BRK_RID_MAX     255
#define BRK_HELD_MAX    200000

typedef struct {
    unsigned char rid [BRK_RID_MAX];    // ZeroMQ routing id of the connection
    size_t rid_len;
    char address [MSG_ADDR_MAX];        // name@instance
    char name [MSG_ADDR_MAX];
    char instance [MSG_ADDR_MAX];
    char host [256];
    char host_id [64];                  // hello's `host_id`, "" if none
    char key [41];                      // CURVE public key (Z85), "" on loopback
    int64_t pid;
    bool actor;                         // role actor (else client)
    bool singleton;
    int64_t since_wall;                 // registration time, wall ms
    int64_t last_seen, last_sent;       // monotonic ms
    uint64_t msgs_in, msgs_out;
    char topics [BRK_TOPICS_MAX][BRK_TOPIC_LEN];
    size_t topic_count;
} brk_peer_t;

typedef struct {
    uint64_t seq;
    char *dest;                         // owned: address as sent
    char *assigned;                     // owned: peer it went to, or NULL
    uint64_t sent_order;                // when it went there (directory-wide count)
} brk_held_t;

typedef struct brk_directory brk_directory_t;

//  Caller owns result.
brk_directory_t *brk_directory_new (void);
void brk_directory_destroy (brk_directory_t **self_p);

//  Lookups return borrowed records, valid until the next add or remove.
brk_peer_t *brk_directory_by_rid (brk_directory_t *self, const void *rid, size_t len);
brk_peer_t *brk_directory_by_address (brk_directory_t *self, const char *address);
//  Some live instance of `name`, rotating among several. NULL if none.
brk_peer_t *brk_directory_pick (brk_directory_t *self, const char *name);
//  Any live actor with `name` other than `except` (may be NULL).
brk_peer_t *brk_directory_other (brk_directory_t *self, const char *name, const brk_peer_t *except);
//  A new zeroed record, or NULL when full.
brk_peer_t *brk_directory_add (brk_directory_t *self);
void brk_directory_remove (brk_directory_t *self, brk_peer_t *peer);
size_t brk_directory_count (brk_directory_t *self);
brk_peer_t *brk_directory_at (brk_directory_t *self, size_t index);
bool brk_peer_subscribed (const brk_peer_t *peer, const char *topic);

//  Held messages, kept in sequence order. Returns 0 or ACT_EFULL.
int brk_held_push (brk_directory_t *self, uint64_t seq, const char *dest);
//  Removes seq; returns true if it was held.
bool brk_held_release (brk_directory_t *self, uint64_t seq);
size_t brk_held_count (brk_directory_t *self);
//  Borrowed, valid until the next push or release.
brk_held_t *brk_held_at (brk_directory_t *self, size_t index);
//  The held message `seq`, or NULL. Borrowed, valid until the next push or
//  release.
brk_held_t *brk_held_find (brk_directory_t *self, uint64_t seq);
//  Records that `held` was just sent to `address` (NULL: to nobody), and
//  when, so a peer's `delivered` can release what it had been sent before.
void brk_held_assign (brk_directory_t *self, brk_held_t *held, const char *address);
//  Releases every held message assigned to `address` that was sent to it no
//  later than the held message `seq` was. Calls `fn` with each released seq
//  (to drop its journal record). Returns how many were released; 0 when
//  `seq` is not held for `address`.
size_t brk_held_release_through (brk_directory_t *self, const char *address, uint64_t seq,
                                 void (*fn) (void *arg, uint64_t seq), void *arg);
//  How many held messages are assigned to `address`.
size_t brk_held_assigned_count (brk_directory_t *self, const char *address);

#endif
