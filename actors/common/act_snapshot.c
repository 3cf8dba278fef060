//  act_snapshot - restore an actor from its snapshot plus the journal
//
//  A stateful actor (one whose definition has snapshot/restore hooks and
//  runs with a data directory) saves `<data>/<name>.snapshot`: a JSON file
//  with the last applied sequence number, the rng state and the actor's own
//  state. On start the runtime loads it, then asks the broker for every
//  journal entry addressed to this actor after that sequence number and
//  replays them through the handler table, each with the clock set to the
//  entry's timestamp, before it handles new durable deliveries (held
//  meanwhile). Outbound messages produced by a replay carry the same ids as
//  the first time, so their receivers drop them as duplicates; replies are
//  not sent again (act_send_internal).
//
//  Where the replay stops: the broker redelivers what this actor has not
//  acknowledged (`delivered` is cumulative, so that is every message from
//  some sequence number on) right after the welcome, before it answers the
//  first journal.read, and holds new ones meanwhile the same way. Those
//  are handled live once the replay ends, replies and all, so the replay
//  covers only the journal before the lowest of them: a request that
//  arrived while the actor was down gets its answer.

#include "act_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESTORE_BATCH       1000
#define RESTORE_HELD_MAX    100000
#define SNAPSHOT_EVERY      100
#define SNAPSHOT_BYTES_PER_MSG 200      // snapshot bytes per message between two

static bool
s_stateful (act_t *self)
{
    return self->def->snapshot && self->def->restore && self->cfg.data_dir;
}

static char *
s_path (act_t *self)
{
    return act_sprintf ("%s/%s.snapshot", self->cfg.data_dir, self->def->name);
}

int
act_restore_load (act_t *self)
{
    if (!s_stateful (self))
        return 0;
    self->restoring = true;
    char *path = s_path (self);
    char *text = NULL;
    int rc = act_read_file (path, &text, NULL);
    if (rc == -ENOENT) {
        free (path);
        return 0;               // first start: replay the whole journal
    }
    if (rc) {
        act_log_error ("cannot read '%s': %s", path, act_strerror (rc));
        free (path);
        return rc;
    }
    json_error_t jerr;
    json_t *snap = json_loads (text, 0, &jerr);
    free (text);
    json_t *state = snap ? json_object_get (snap, "state") : NULL;
    if (!state || !json_is_integer (json_object_get (snap, "seq"))) {
        act_log_error ("snapshot '%s' is unreadable", path);
        json_decref (snap);
        free (path);
        return ACT_ESTORE;
    }
    rc = self->def->restore (self->state, state);
    if (rc == 0) {
        self->last_seq = (uint64_t) json_integer_value (json_object_get (snap, "seq"));
        self->restored_seq = self->last_seq;
        json_t *broker = json_object_get (snap, "broker");
        if (json_is_string (broker))
            snprintf (self->broker_id, sizeof self->broker_id, "%s", json_string_value (broker));
        self->rng.state = strtoull (json_string_value (json_object_get (snap, "rng")) ? json_string_value (json_object_get (snap, "rng")) : "0", NULL, 16);
        act_log_info ("restored snapshot at seq %llu", (unsigned long long) self->last_seq);
    }
    json_decref (snap);
    free (path);
    return rc;
}

static void
s_request_batch (act_t *self)
{
    msg_t *req = act_control_msg_new (self, MSG_TYPE_JOURNAL_READ, "broker");
    msg_set_int (req, "from", (int64_t) self->restore_next);
    msg_set_int (req, "limit", RESTORE_BATCH);
    //  Our address: entries sent to it or to our bare name, not to other
    //  instances of the name.
    msg_set_str (req, "to", self->address);
    memcpy (self->restore_req, req->id, sizeof self->restore_req);
    act_send_internal (self, &req, true);
}

void
act_restore_start (act_t *self)
{
    if (self->restoring) {
        self->restore_next = self->last_seq + 1;
        s_request_batch (self);
    }
}

static void
s_finish (act_t *self)
{
    self->restoring = false;
    act_log_info ("journal replayed up to seq %llu", (unsigned long long) self->last_seq);
    size_t n = self->restore_held_len;
    self->restore_held_len = 0;
    for (size_t i = 0; i < n; i++) {
        act_dispatch (self, self->restore_held [i]);
        msg_destroy (&self->restore_held [i]);
    }
    act_flush_delivered (self);
}

//  The lowest sequence number among the deliveries held during the
//  restore, or 0 when there are none.
static uint64_t
s_live_from (act_t *self)
{
    uint64_t low = 0;
    for (size_t i = 0; i < self->restore_held_len; i++)
        if (!low || self->restore_held [i]->seq < low)
            low = self->restore_held [i]->seq;
    return low;
}

bool
act_restore_on_batch (act_t *self, msg_t *msg)
{
    if (!self->restoring || strcmp (msg->corr, self->restore_req) != 0
    ||  strncmp (msg->from, "broker@", 7) != 0)
        return true;            // late, stray or forged: nothing to do
    json_t *entries = json_object_get (msg->body, "entries");
    uint64_t live_from = s_live_from (self);
    bool reached_live = false;
    size_t i;
    json_t *entry;
    json_array_foreach (entries, i, entry) {
        msg_error_t err;
        msg_t *old = msg_decode (json_string_value (entry), json_string_length (entry),
                                 MSG_DECODE_FULL, &err);
        if (!old) {
            act_log_warn ("skipping unreadable journal entry: %s", err.reason);
            continue;
        }
        if (live_from && old->seq >= live_from) {
            msg_destroy (&old);
            reached_live = true;
            break;
        }
        //  act_dispatch handles it at its recorded timestamp.
        self->replaying = true;
        act_dispatch (self, old);
        self->replaying = false;
        msg_destroy (&old);
    }
    uint64_t next = (uint64_t) msg_int (msg, "next", 0);
    uint64_t head = (uint64_t) msg_int (msg, "head", 0);
    //  The broker skips entries for other actors; `next` says where its scan
    //  stopped, so a batch may be empty and still not be the last.
    if (!reached_live && next > self->restore_next && next <= head) {
        self->restore_next = next;
        s_request_batch (self);
    }
    else
        s_finish (self);
    return true;
}

bool
act_restore_hold (act_t *self, msg_t **msg_p)
{
    if (!self->restoring || (*msg_p)->seq == 0)
        return false;
    if (self->restore_held_len >= RESTORE_HELD_MAX) {
        //  The broker still holds it and redelivers on our next hello.
        msg_destroy (msg_p);
        return true;
    }
    if (!self->restore_held)
        self->restore_held = act_calloc (RESTORE_HELD_MAX, sizeof (msg_t *));
    self->restore_held [self->restore_held_len++] = *msg_p;
    *msg_p = NULL;
    return true;
}

void
act_snapshot_write (act_t *self)
{
    if (!s_stateful (self) || self->restoring)
        return;
    json_t *state = self->def->snapshot (self->state);
    if (!state) {
        act_log_error ("the snapshot hook returned nothing; snapshot not written");
        return;
    }
    char rng [24];
    snprintf (rng, sizeof rng, "%llx", (unsigned long long) self->rng.state);
    json_t *snap = json_pack ("{s:I, s:s, s:s, s:o}", "seq", (json_int_t) self->last_seq,
                              "rng", rng, "broker", self->broker_id, "state", state);
    char *text = json_dumps (snap, JSON_COMPACT);
    char *path = s_path (self);
    int rc = act_write_file (path, text, strlen (text), 0600);
    if (rc)
        act_log_error ("cannot write snapshot '%s': %s", path, act_strerror (rc));
    self->since_snapshot = 0;
    self->snapshot_bytes = strlen (text);
    free (path);
    free (text);
    json_decref (snap);
}

void
act_snapshot_maybe (act_t *self)
{
    //  A snapshot costs its size to write, and one every `every` messages
    //  would cost more and more as the state grows: past the first, the
    //  interval grows with it (one more message per SNAPSHOT_BYTES_PER_MSG
    //  bytes), so the cost per message stays bounded, and so does what a
    //  restore replays relative to what it loads.
    int64_t every = self->def->snapshot_every ? self->def->snapshot_every : SNAPSHOT_EVERY;
    int64_t by_size = (int64_t) (self->snapshot_bytes / SNAPSHOT_BYTES_PER_MSG);
    if (by_size > every)
        every = by_size;
    if (s_stateful (self) && ++self->since_snapshot >= every)
        act_snapshot_write (self);
}
