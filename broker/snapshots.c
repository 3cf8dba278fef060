//  brk snapshots - the newest whole snapshot of each stateful actor
//
//  So that a stateful actor can be started on another host and carry on,
//  the broker keeps a copy of the snapshot it writes (act_snapshot.c), in
//  the journal's LevelDB (journal.h has the keys).
//
//  Accepts: snapshot.put (one part, in order from 0, of at most
//           BRK_SNAPSHOT_PART_MAX bytes; answered `snapshot.saved`),
//           snapshot.get (one part of the current snapshot; answered
//           `snapshot.part`, or an `error` with ACT_ENOTFOUND when none is
//           kept). Both are control messages, never journaled, and only an
//           actor may send them, about its own name.
//  Parts go to a new generation, staged; the last part makes it current
//  (one synced write that also drops the previous generation), so a
//  half-sent snapshot never replaces a whole one. A part 0 starts over and
//  drops a staging generation that never finished.

#include "broker_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BRK_SNAPSHOT_PART_MAX   (512 * 1024)
#define BRK_SNAPSHOT_SIZE_MAX   (1024LL * 1024 * 1024)
#define BRK_SNAPSHOT_PARTS_MAX  (BRK_SNAPSHOT_SIZE_MAX / BRK_SNAPSHOT_PART_MAX + 1)

//  True when `peer` is the actor `name`; otherwise refuses `msg`.
static bool
s_own (brk_t *self, brk_peer_t *peer, const void *rid, size_t rid_len, msg_t *msg,
       const char *name)
{
    if (peer->actor && strcmp (peer->name, name) == 0)
        return true;
    char reason [300];
    snprintf (reason, sizeof reason, "only actor '%.100s' may %s its snapshot", name,
              msg->type->id == MSG_TYPE_SNAPSHOT_PUT ? "put" : "get");
    act_log_warn ("refused %s from %s: %s", msg->type->name, peer->address, reason);
    brk_reject (self, rid, rid_len, BRK_REJ_SPOOFED, msg->id, ACT_EREFUSED, reason,
                msg->type->name);
    return false;
}

static void
s_bad (brk_t *self, const void *rid, size_t rid_len, msg_t *msg, int code, const char *reason)
{
    brk_reject (self, rid, rid_len, BRK_REJ_BAD_CONTROL, msg->id, code, reason, msg->type->name);
}

//  The staging meta for part `part` of the snapshot `put` describes (fields
//  checked by the caller): a new generation for part 0, else the one being
//  received, which `put` must continue. Returns false after refusing.
static bool
s_staging (brk_t *self, const void *rid, size_t rid_len, msg_t *msg, const char *name,
           const brk_snapshot_meta_t *put, uint64_t cur_gen, brk_snapshot_meta_t *stg)
{
    brk_snapshot_meta_t old;
    bool has_old = brk_journal_snapshot_meta (self->journal, name, true, &old) == 0;
    uint32_t part = (uint32_t) msg_int (msg, "part", 0);
    if (part == 0) {
        if (has_old && old.gen != cur_gen)
            brk_journal_snapshot_drop_gen (self->journal, name, old.gen);
        *stg = *put;
        stg->gen = (has_old && old.gen > cur_gen ? old.gen : cur_gen) + 1;
        return true;
    }
    if (!has_old || old.next != part || old.seq != put->seq || old.parts != put->parts
    ||  old.size != put->size || strcmp (old.broker, put->broker) != 0) {
        s_bad (self, rid, rid_len, msg, ACT_EPROTO,
               "snapshot.put part out of order: send the snapshot again from part 0");
        return false;
    }
    *stg = old;
    return true;
}

void
brk_on_snapshot_put (brk_t *self, brk_peer_t *peer, const void *rid, size_t rid_len, msg_t *msg)
{
    const char *name = msg_str (msg, "name", "");
    if (!s_own (self, peer, rid, rid_len, msg, name))
        return;
    int64_t seq = msg_int (msg, "seq", -1), part = msg_int (msg, "part", -1);
    int64_t parts = msg_int (msg, "parts", -1), size = msg_int (msg, "size", -1);
    const char *broker = msg_str (msg, "broker", "");
    json_t *data = json_object_get (msg->body, "data");
    size_t len = json_string_length (data);
    if (seq < 0 || parts < 1 || parts > BRK_SNAPSHOT_PARTS_MAX || part < 0 || part >= parts
    ||  size < 0 || size > BRK_SNAPSHOT_SIZE_MAX || len > BRK_SNAPSHOT_PART_MAX
    ||  strlen (broker) > BRK_SNAPSHOT_BROKER_LEN) {
        s_bad (self, rid, rid_len, msg, MSG_EBODY,
               "snapshot.put needs seq >= 0, 0 <= part < parts, size up to 1 GiB and "
               "parts of at most 512 KiB");
        return;
    }
    brk_snapshot_meta_t cur, put = {
        .seq = (uint64_t) seq, .parts = (uint32_t) parts, .size = (uint64_t) size,
    }, stg;
    snprintf (put.broker, sizeof put.broker, "%s", broker);
    uint64_t cur_gen = brk_journal_snapshot_meta (self->journal, name, false, &cur) == 0
                     ? cur.gen : 0;
    if (!s_staging (self, rid, rid_len, msg, name, &put, cur_gen, &stg))
        return;
    bool last = part == parts - 1;
    if (stg.bytes + len > stg.size || (last && stg.bytes + len != stg.size)) {
        s_bad (self, rid, rid_len, msg, MSG_EBODY, "snapshot.put parts do not add up to its size");
        return;
    }
    stg.next = (uint32_t) part + 1;
    stg.bytes += len;
    int rc = brk_journal_snapshot_put (self->journal, name, &stg, (uint32_t) part,
                                       json_string_value (data), len);
    if (rc == 0 && last)
        rc = brk_journal_snapshot_commit (self->journal, name, &stg, cur_gen);
    if (rc) {
        act_log_error ("cannot store the snapshot of '%s': %s", name, act_strerror (rc));
        brk_reject (self, rid, rid_len, BRK_REJ_STORE, msg->id, rc,
                    "the snapshot could not be stored", msg->type->name);
        return;
    }
    if (last)
        act_log_debug ("kept the snapshot of %s at seq %llu (%llu bytes)", name,
                       (unsigned long long) stg.seq, (unsigned long long) stg.size);
    msg_t *saved = brk_msg_new (self, MSG_TYPE_SNAPSHOT_SAVED, peer->address);
    msg_set_corr (saved, msg->id);
    msg_set_str (saved, "name", name);
    msg_set_int (saved, "seq", seq);
    msg_set_int (saved, "part", part);
    msg_set_int (saved, "parts", parts);
    brk_send_msg (self, rid, rid_len, &saved);
}

//  An answer that is not a refusal (not counted in `rejected`).
static void
s_error (brk_t *self, brk_peer_t *peer, const void *rid, size_t rid_len, msg_t *msg, int code,
         const char *reason)
{
    msg_t *err = brk_msg_new (self, MSG_TYPE_ERROR, peer->address);
    msg_set_corr (err, msg->id);
    msg_set_int (err, "code", code);
    msg_set_str (err, "reason", reason);
    msg_set_str (err, "type", msg->type->name);
    brk_send_msg (self, rid, rid_len, &err);
}

void
brk_on_snapshot_get (brk_t *self, brk_peer_t *peer, const void *rid, size_t rid_len, msg_t *msg)
{
    const char *name = msg_str (msg, "name", "");
    if (!s_own (self, peer, rid, rid_len, msg, name))
        return;
    int64_t part = msg_int (msg, "part", -1);
    brk_snapshot_meta_t cur;
    int rc = brk_journal_snapshot_meta (self->journal, name, false, &cur);
    if (rc == ACT_ENOTFOUND) {
        s_error (self, peer, rid, rid_len, msg, ACT_ENOTFOUND, "no snapshot is kept for this actor");
        return;
    }
    if (rc == 0 && (part < 0 || part >= cur.parts)) {
        s_bad (self, rid, rid_len, msg, MSG_EBODY, "snapshot.get part is out of range");
        return;
    }
    char *data = NULL;
    size_t len = 0;
    if (rc == 0)
        rc = brk_journal_snapshot_part (self->journal, name, cur.gen, (uint32_t) part, &data, &len);
    if (rc) {
        act_log_error ("cannot read the snapshot of '%s': %s", name, act_strerror (rc));
        s_error (self, peer, rid, rid_len, msg, ACT_ESTORE, "the snapshot could not be read");
        return;
    }
    msg_t *reply = brk_msg_new (self, MSG_TYPE_SNAPSHOT_PART, peer->address);
    msg_set_corr (reply, msg->id);
    msg_set_str (reply, "name", name);
    msg_set_int (reply, "seq", (int64_t) cur.seq);
    msg_set_str (reply, "broker", cur.broker);
    msg_set_int (reply, "part", part);
    msg_set_int (reply, "parts", cur.parts);
    msg_set_int (reply, "size", (int64_t) cur.size);
    msg_set_json (reply, "data", json_stringn_nocheck (data, len));
    free (data);
    brk_send_msg (self, rid, rid_len, &reply);
}
