//  act_snapshot - restore an actor from its snapshot plus the journal
//
//  A stateful actor (one whose definition has snapshot/restore hooks and
//  runs with a data directory) saves `<data>/<name>.snapshot`: a JSON file
//  with the last applied sequence number, the id of the journal it belongs
//  to, a generation (one more per snapshot written), the rng state and the
//  actor's own state. Each snapshot written also goes to the broker
//  (snapshot.put, parts of at most ACT_SNAPSHOT_PART_MAX bytes, sent at
//  once without waiting for answers), which keeps the newest whole one per
//  actor name, so the actor can start on another host with an empty data
//  directory and carry on.
//
//  Start: the runtime reads the local file but applies nothing yet. After
//  the welcome it fetches the broker's copy (snapshot.get, part by part),
//  then applies the newer of the two with the restore hook, once, to the
//  freshly created state: on the same journal, the higher seq (then the
//  higher generation); a snapshot of the broker's current journal before
//  one of another; the local one on a tie. No snapshot anywhere: the whole
//  journal is replayed. Meanwhile durable deliveries and commands are
//  held, and the actor's tick waits.
//
//  Then it asks the broker for every journal entry addressed to this actor
//  after that sequence number and replays them through the handler table,
//  each with the clock set to the entry's timestamp, before it handles new
//  durable deliveries (held meanwhile). Outbound messages produced by a
//  replay carry the same ids as the first time, so their receivers drop
//  them as duplicates; replies are not sent again (act_send_internal).
//
//  Where the replay stops: the broker redelivers what this actor has not
//  acknowledged (`delivered` is cumulative, so that is every message from
//  some sequence number on) right after the welcome, before it answers the
//  first journal.read, and holds new ones meanwhile the same way. Those
//  are handled live once the replay ends, replies and all, so the replay
//  covers only the journal before the lowest of them: a request that
//  arrived while the actor was down gets its answer.
//
//  A snapshot that could not be written or sent (during a restore, before
//  the welcome) is `due`: written when the restore ends or at the next
//  welcome. So is one when the broker had no copy as new as the local one.

#include "act_internal.h"
#include "act_snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESTORE_BATCH       1000
#define RESTORE_HELD_MAX    100000
#define SNAPSHOT_EVERY      100
#define SNAPSHOT_BYTES_PER_MSG 200      // snapshot bytes per message between two
#define ACT_SNAPSHOT_PART_MAX   (512 * 1024)    // bytes per snapshot.put / part
#define ACT_SNAPSHOT_SIZE_MAX   (1024LL * 1024 * 1024)

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

//  A parsed snapshot with its `state` and `seq`, or NULL.
static json_t *
s_parse (const char *text, size_t len)
{
    json_t *snap = json_loadb (text, len, 0, NULL);
    if (snap && (!json_object_get (snap, "state")
             ||  !json_is_integer (json_object_get (snap, "seq")))) {
        json_decref (snap);
        return NULL;
    }
    return snap;
}

int
act_restore_load (act_t *self)
{
    if (!s_stateful (self))
        return 0;
    self->restoring = true;
    self->snap.pending = true;
    char *path = s_path (self);
    char *text = NULL;
    size_t len = 0;
    int rc = act_read_file (path, &text, &len);
    if (rc == -ENOENT) {
        free (path);
        return 0;               // the broker's copy, or the whole journal
    }
    if (rc) {
        act_log_error ("cannot read '%s': %s", path, act_strerror (rc));
        free (path);
        return rc;
    }
    self->snap.local = s_parse (text, len);
    free (text);
    if (!self->snap.local) {
        act_log_error ("snapshot '%s' is unreadable", path);
        rc = ACT_ESTORE;
    }
    free (path);
    return rc;
}

static const char *
s_snap_broker (const json_t *snap)
{
    const char *broker = json_string_value (json_object_get (snap, "broker"));
    return broker ? broker : "";
}

static int64_t
s_snap_int (const json_t *snap, const char *key)
{
    return json_integer_value (json_object_get (snap, key));
}

//  > 0 when `a` is the newer snapshot, < 0 when `b` is, 0 on a tie (NULL
//  is older than anything). `journal` is the broker's current journal id.
static int
s_compare (const json_t *a, const json_t *b, const char *journal)
{
    if (!a || !b)
        return a ? 1 : b ? -1 : 0;
    const char *ja = s_snap_broker (a), *jb = s_snap_broker (b);
    int64_t diff = 0;
    if (strcmp (ja, jb) == 0)
        diff = s_snap_int (a, "seq") - s_snap_int (b, "seq");
    else if ((strcmp (ja, journal) == 0) != (strcmp (jb, journal) == 0))
        diff = strcmp (ja, journal) == 0 ? 1 : -1;
    if (diff == 0)
        diff = s_snap_int (a, "gen") - s_snap_int (b, "gen");
    return diff > 0 ? 1 : diff < 0 ? -1 : 0;
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

static void
s_fetch_part (act_t *self, int64_t part)
{
    msg_t *req = act_control_msg_new (self, MSG_TYPE_SNAPSHOT_GET, "broker");
    msg_set_str (req, "name", self->def->name);
    msg_set_int (req, "part", part);
    memcpy (self->snap.req, req->id, sizeof self->snap.req);
    self->snap.next = part;
    self->snap.fetching = true;
    act_send_internal (self, &req, true);
}

//  Applies `snap` (borrowed; NULL: none) with the restore hook. Returns 0
//  or the hook's code.
static int
s_restore (act_t *self, const json_t *snap, const char *from)
{
    if (!snap) {
        act_log_info ("no snapshot here or at the broker: replaying the whole journal");
        return 0;
    }
    int rc = self->def->restore (self->state, json_object_get (snap, "state"));
    if (rc) {
        act_log_error ("cannot restore the %s snapshot: %s", from, act_strerror (rc));
        return rc;
    }
    self->last_seq = (uint64_t) s_snap_int (snap, "seq");
    self->restored_seq = self->last_seq;
    self->snap.gen = (uint64_t) s_snap_int (snap, "gen");
    const char *rng = json_string_value (json_object_get (snap, "rng"));
    self->rng.state = strtoull (rng ? rng : "0", NULL, 16);
    act_log_info ("restored the %s snapshot at seq %llu", from, (unsigned long long) self->last_seq);
    //  Sequence numbers belong to one journal: after the broker started on
    //  a new one, what the snapshot applied says nothing of it.
    if (self->last_seq && strcmp (s_snap_broker (snap), self->broker_id) != 0) {
        act_log_warn ("the snapshot belongs to another journal (%s, the broker's is %s): "
                      "sequence numbers start again", s_snap_broker (snap), self->broker_id);
        self->last_seq = self->restored_seq = 0;
        self->snap.due = true;
    }
    return 0;
}

//  The broker's copy is in (or there is none, `remote` NULL; owned): apply
//  the newer, then replay the journal after it.
static void
s_apply (act_t *self, json_t *remote)
{
    json_t *local = self->snap.local;
    self->snap.local = NULL;
    free (self->snap.data);
    self->snap.data = NULL;
    self->snap.fetching = false;
    self->snap.pending = false;
    int cmp = s_compare (local, remote, self->broker_id);
    //  The broker lacks the newest: give it one once the restore is done.
    if (local && cmp > 0)
        self->snap.due = true;
    int rc = cmp >= 0 ? s_restore (self, local, "local") : s_restore (self, remote, "broker's");
    json_decref (local);
    json_decref (remote);
    if (rc) {
        //  As when the snapshot could not be restored at start: stop
        //  (restoring stays set, so no snapshot overwrites the good one).
        self->stopping = true;
        return;
    }
    self->restore_next = self->last_seq + 1;
    s_request_batch (self);
}

void
act_restore_start (act_t *self)
{
    if (self->snap.pending) {
        free (self->snap.data);
        self->snap.data = NULL;
        self->snap.len = 0;
        s_fetch_part (self, 0);
    }
    else if (self->restoring) {
        self->restore_next = self->last_seq + 1;
        s_request_batch (self);
    }
    else if (self->snap.due)
        act_snapshot_write (self);
}

bool
act_snapshot_pending (act_t *self)
{
    return self->snap.pending;
}

//  One part of the broker's copy; the last one completes it.
static void
s_on_part (act_t *self, msg_t *msg)
{
    json_t *data = json_object_get (msg->body, "data");
    int64_t part = msg_int (msg, "part", -1), parts = msg_int (msg, "parts", -1);
    int64_t size = msg_int (msg, "size", -1), seq = msg_int (msg, "seq", -1);
    size_t len = json_string_length (data);
    if (part == 0) {
        self->snap.parts = parts;
        self->snap.size = size;
        self->snap.seq = seq;
        self->snap.len = 0;
    }
    if (strcmp (msg_str (msg, "name", ""), self->def->name) != 0 || !data || part != self->snap.next
    ||  parts != self->snap.parts || size != self->snap.size || seq != self->snap.seq
    ||  size < 0 || size > ACT_SNAPSHOT_SIZE_MAX || (int64_t) (self->snap.len + len) > size) {
        //  A new snapshot became current between two parts, or a broken
        //  answer: go on without the broker's copy.
        act_log_warn ("the broker's snapshot changed or is broken (part %lld of %lld): not used",
                      (long long) part, (long long) parts);
        s_apply (self, NULL);
        return;
    }
    self->snap.data = act_realloc (self->snap.data, self->snap.len + len + 1);
    memcpy (self->snap.data + self->snap.len, json_string_value (data), len);
    self->snap.len += len;
    if (part + 1 < parts) {
        s_fetch_part (self, part + 1);
        return;
    }
    json_t *remote = (int64_t) self->snap.len == size ? s_parse (self->snap.data, self->snap.len)
                                                      : NULL;
    if (!remote)
        act_log_warn ("the broker's snapshot is unreadable: not used");
    s_apply (self, remote);
}

bool
act_snapshot_on_reply (act_t *self, msg_t *msg)
{
    bool broker = strncmp (msg->from, "broker@", 7) == 0;
    if (msg->type->id == MSG_TYPE_SNAPSHOT_SAVED)
        return true;            // the broker kept a part: nothing to do
    if (msg->type->id == MSG_TYPE_SNAPSHOT_PART) {
        if (broker && self->snap.fetching && strcmp (msg->corr, self->snap.req) == 0)
            s_on_part (self, msg);
        return true;            // late, stray or forged: nothing to do
    }
    if (msg->type->id != MSG_TYPE_ERROR || !broker)
        return false;
    const char *type = msg_str (msg, "type", "");
    if (strcmp (type, "snapshot.put") == 0) {
        act_log_warn ("the broker did not keep the snapshot: %s", msg_str (msg, "reason", "?"));
        return true;
    }
    if (strcmp (type, "snapshot.get") != 0)
        return false;
    if (self->snap.fetching && strcmp (msg->corr, self->snap.req) == 0) {
        if (msg_int (msg, "code", 0) != ACT_ENOTFOUND)
            act_log_warn ("cannot fetch the broker's snapshot: %s", msg_str (msg, "reason", "?"));
        s_apply (self, NULL);
    }
    return true;
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
    if (self->snap.due)
        act_snapshot_write (self);
}

//  The lowest sequence number among the deliveries held during the
//  restore, or 0 when there are none.
static uint64_t
s_live_from (act_t *self)
{
    uint64_t low = 0;
    for (size_t i = 0; i < self->restore_held_len; i++) {
        uint64_t seq = self->restore_held [i]->seq;
        if (seq && (!low || seq < low))
            low = seq;
    }
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

//  Commands the runtime answers itself, never held.
static bool
s_runtime_command (const msg_t *msg)
{
    msg_type_id_t id = msg->type->id;
    return id == MSG_TYPE_STATUS || id == MSG_TYPE_PING || id == MSG_TYPE_STOP;
}

bool
act_restore_hold (act_t *self, msg_t **msg_p)
{
    const msg_t *msg = *msg_p;
    //  Until the restore (snapshot, then the journal after it) is done, a
    //  command would be answered from a state that is empty or behind, so
    //  it waits too.
    bool early = msg->type->kind == MSG_KIND_COMMAND && !s_runtime_command (msg);
    if (!self->restoring || (msg->seq == 0 && !early))
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

//  Sends `text` to the broker in parts, all at once: each is queued on the
//  socket without waiting for an answer, so a large state does not hold
//  up the loop; the broker makes it current when the last part is in.
static void
s_put (act_t *self, const char *text, size_t len)
{
    if (self->conn != ACT_CONN_READY) {
        self->snap.due = true;
        return;
    }
    int64_t parts = len ? (int64_t) ((len + ACT_SNAPSHOT_PART_MAX - 1) / ACT_SNAPSHOT_PART_MAX) : 1;
    for (int64_t part = 0; part < parts; part++) {
        size_t off = (size_t) part * ACT_SNAPSHOT_PART_MAX;
        size_t n = len - off < ACT_SNAPSHOT_PART_MAX ? len - off : ACT_SNAPSHOT_PART_MAX;
        msg_t *put = act_control_msg_new (self, MSG_TYPE_SNAPSHOT_PUT, "broker");
        msg_set_str (put, "name", self->def->name);
        msg_set_int (put, "seq", (int64_t) self->last_seq);
        msg_set_str (put, "broker", self->broker_id);
        msg_set_int (put, "part", part);
        msg_set_int (put, "parts", parts);
        msg_set_int (put, "size", (int64_t) len);
        msg_set_json (put, "data", json_stringn_nocheck (text + off, n));
        int rc = act_send_internal (self, &put, true);
        if (rc) {
            act_log_warn ("cannot send the snapshot to the broker: %s", act_strerror (rc));
            self->snap.due = true;
            return;
        }
    }
}

void
act_snapshot_write (act_t *self)
{
    if (!s_stateful (self))
        return;
    if (self->restoring) {
        self->snap.due = true;  // the state is not whole yet
        return;
    }
    json_t *state = self->def->snapshot (self->state);
    if (!state) {
        act_log_error ("the snapshot hook returned nothing; snapshot not written");
        return;
    }
    self->snap.due = false;
    char rng [24];
    snprintf (rng, sizeof rng, "%llx", (unsigned long long) self->rng.state);
    json_t *snap = json_pack ("{s:I, s:s, s:s, s:I, s:o}", "seq", (json_int_t) self->last_seq,
                              "rng", rng, "broker", self->broker_id,
                              "gen", (json_int_t) ++self->snap.gen, "state", state);
    char *text = json_dumps (snap, JSON_COMPACT);
    size_t len = strlen (text);
    char *path = s_path (self);
    int rc = act_write_file (path, text, len, 0600);
    if (rc)
        act_log_error ("cannot write snapshot '%s': %s", path, act_strerror (rc));
    s_put (self, text, len);
    self->since_snapshot = 0;
    self->snapshot_bytes = len;
    free (path);
    free (text);
    json_decref (snap);
}

void
act_snapshot_now (act_t *self)
{
    act_snapshot_write (self);
}

void
act_snapshot_release (act_t *self)
{
    json_decref (self->snap.local);
    self->snap.local = NULL;
    free (self->snap.data);
    self->snap.data = NULL;
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
