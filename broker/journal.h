//  brk_journal - the broker's durable journal in LevelDB
//
//  Owns the LevelDB database in the broker's data directory. Keys:
//      'j' + seq (8 bytes, big-endian)  -> the encoded message, seq stamped
//      'p' + seq                        -> destination address; the message
//                                          is held until its actor says
//                                          `delivered`
//      'm' + "instance"                 -> the broker's instance id
//      's' + name NUL 'c'               -> the current snapshot of actor `name`
//                                          (meta: seq, broker, parts, size, gen)
//      's' + name NUL 's'               -> the snapshot being received (meta)
//      's' + name NUL 'p' gen part      -> one part of generation `gen`
//                                          (8 + 4 bytes, big-endian)
//  Writes are staged into a batch and committed with one fsync (group
//  commit); nothing staged is visible to readers until committed.

#ifndef BRK_JOURNAL_H
#define BRK_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct brk_journal brk_journal_t;

//  Opens (creating if needed) the journal under `dir`. Returns NULL with
//  `reason` filled (e.g. the lock is held by another process). Caller owns
//  result.
brk_journal_t *brk_journal_open (const char *dir, bool create, char *reason, size_t reason_len);
void brk_journal_destroy (brk_journal_t **self_p);

//  Highest committed or staged sequence number.
uint64_t brk_journal_head (brk_journal_t *self);
//  Takes the next sequence number.
uint64_t brk_journal_next_seq (brk_journal_t *self);

//  Stages a journal entry, and a hold record when `dest` is non-NULL.
void brk_journal_stage (brk_journal_t *self, uint64_t seq, const void *data, size_t len,
                        const char *dest);
//  Stages the removal of a hold record.
void brk_journal_stage_release (brk_journal_t *self, uint64_t seq);
bool brk_journal_has_staged (brk_journal_t *self);
//  Writes the staged batch; fsync'd when `sync`. Returns 0 or ACT_ESTORE
//  with `reason` filled.
int brk_journal_commit (brk_journal_t *self, bool sync, char *reason, size_t reason_len);

//  Reads entry `seq`. Returns 0 and a malloc'd copy (caller owns *data_p),
//  or ACT_ENOTFOUND.
int brk_journal_get (brk_journal_t *self, uint64_t seq, char **data_p, size_t *len_p);

//  Calls `fn` for each committed entry from `from` upward until it returns
//  false. `data` is borrowed for the call.
typedef bool (brk_journal_fn) (void *arg, uint64_t seq, const void *data, size_t len);
void brk_journal_scan (brk_journal_t *self, uint64_t from, brk_journal_fn *fn, void *arg);
//  Calls `fn` for each hold record in seq order; `data` is the destination.
void brk_journal_scan_held (brk_journal_t *self, brk_journal_fn *fn, void *arg);

//  The persistent broker instance id (32 hex chars), created on first open.
//  Borrowed, valid while the journal is open.
const char *brk_journal_instance (brk_journal_t *self);

//  Snapshots kept for actors (snapshots.c). A snapshot arrives in parts
//  under a new generation, staged, and becomes current only when its last
//  part is stored: a half-sent one never replaces a whole one.
#define BRK_SNAPSHOT_BROKER_LEN 64      // bytes of a journal id, at most

typedef struct {
    uint64_t seq;                       // journal seq the snapshot holds
    char broker [BRK_SNAPSHOT_BROKER_LEN + 1];  // journal those seqs belong to
    uint32_t parts;                     // how many parts it has
    uint64_t size;                      // its whole size in bytes
    uint64_t gen;                       // generation its parts are stored under
    uint32_t next;                      // staging: parts stored so far
    uint64_t bytes;                     // staging: bytes stored so far
} brk_snapshot_meta_t;

//  Reads `name`'s current (`staging` false) or staging snapshot meta.
//  Returns 0, ACT_ENOTFOUND or ACT_ESTORE.
int brk_journal_snapshot_meta (brk_journal_t *self, const char *name, bool staging,
                               brk_snapshot_meta_t *meta);
//  Stores `part` (`data`, borrowed) under `staging->gen` and `staging` as
//  the staging meta, in one write (not synced: the commit is). Returns 0 or
//  ACT_ESTORE.
int brk_journal_snapshot_put (brk_journal_t *self, const char *name,
                              const brk_snapshot_meta_t *staging, uint32_t part,
                              const void *data, size_t len);
//  Makes `staging` current and drops the staging meta and the parts of
//  generation `old_gen` (0: none), in one synced write. Returns 0 or
//  ACT_ESTORE.
int brk_journal_snapshot_commit (brk_journal_t *self, const char *name,
                                 const brk_snapshot_meta_t *staging, uint64_t old_gen);
//  Deletes every part of generation `gen` of `name`. Returns 0 or ACT_ESTORE.
int brk_journal_snapshot_drop_gen (brk_journal_t *self, const char *name, uint64_t gen);
//  Reads part `part` of generation `gen`: a malloc'd copy (caller owns
//  *data_p). Returns 0, ACT_ENOTFOUND or ACT_ESTORE.
int brk_journal_snapshot_part (brk_journal_t *self, const char *name, uint64_t gen,
                               uint32_t part, char **data_p, size_t *len_p);

#endif
