//  vault - release-keeper's blobs, copied to the broker and fetched back
//
//  See vault.h. Copies and fetches are independent: at most one vault.put
//  and one vault.get are in flight at a time, each answered (or timed out)
//  before the next part goes, so the callbacks need no argument: the
//  vault's own fields say which blob and offset they answer.
//
//      copy:  IDLE --tick, queue not empty--> PROBE (vault.put offset 0,
//                                             no bytes)
//             PROBE/PART --saved, stored--> IDLE (next blob at once)
//             PROBE/PART --saved, offset--> PART (the bytes from offset)
//             PROBE/PART --error, timeout--> WAIT (back-off) --tick--> PROBE
//      fetch: IDLE --tick, queue not empty--> GET (vault.get offset 0)
//             GET --chunk, not the end--> GET (next offset)
//             GET --chunk, the end, sha256 right--> stored: IDLE, parked
//                                                   messages handled again
//             GET --timeout--> GET again (REL_VAULT_FETCH_TRIES), else as
//             GET --error, bad chunk--> IDLE, parked messages handled again

#include "vault.h"
#include "blobs.h"
#include "upload.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VAULT_SIZE_MB   500             // DYNOD_SLUG_MAX_MB, as deploy.c

typedef struct {
    msg_t *msg;                         // owned copy
    act_handler_fn *fn;
    json_t *shas;                       // owned: the blobs it waits for
} s_parked_t;

struct rel_vault {
    char *store;                        // owned; NULL: no data directory
    int64_t size_max;                   // bytes a fetched blob may have
    //  Copies.
    json_t *copy_queue;                 // owned: shas, oldest first
    size_t copy_next;                   // index of the next one to copy
    json_t *copy_set;                   // owned: sha -> true, queued or copying
    char copy_sha [REL_SHA_HEX + 1];    // the blob being copied, or ""
    int copy_fd;
    int64_t copy_size;
    int64_t copy_sent;                  // bytes sent up to the part in flight
    bool copy_busy;                     // a vault.put is in flight
    int64_t copy_backoff;               // ms; 0 after a success
    int64_t copy_retry_at;              // mono ms
    //  Fetches.
    json_t *fetch_queue;                // owned: shas; [0] is being fetched
    rel_upload_t *fetch_up;             // owned, while busy
    int64_t fetch_offset;               // of the vault.get in flight
    int fetch_tries;
    bool fetch_busy;
    s_parked_t parked [REL_VAULT_PARKED_MAX];
    size_t parked_count;
    bool again;                         // a parked message is being handled
    //  Figures.
    uint64_t copied, fetched;
};

static act_reply_fn s_on_saved;
static act_reply_fn s_on_chunk;

//  Queues every blob of the store (an installation from before the vault,
//  or blobs the broker lost).
static void
s_scan (rel_vault_t *self)
{
    char *top = act_sprintf ("%s/sha256", self->store);
    DIR *d = opendir (top);
    struct dirent *e;
    while (d && (e = readdir (d)) != NULL) {
        if (e->d_name [0] == '.')
            continue;
        char *sub = act_sprintf ("%s/%s", top, e->d_name);
        DIR *s = opendir (sub);
        struct dirent *f;
        while (s && (f = readdir (s)) != NULL)
            if (rel_blob_sha_valid (f->d_name))
                rel_vault_copy (self, f->d_name);
        if (s)
            closedir (s);
        free (sub);
    }
    if (d)
        closedir (d);
    free (top);
}

rel_vault_t *
rel_vault_new (act_t *act)
{
    rel_vault_t *self = act_calloc (1, sizeof *self);
    self->copy_queue = json_array ();
    self->copy_set = json_object ();
    self->fetch_queue = json_array ();
    self->copy_fd = -1;
    const char *text = getenv ("DYNOD_SLUG_MAX_MB");
    char *end = NULL;
    long long mb = text && *text ? strtoll (text, &end, 10) : 0;
    self->size_max = (int64_t) (end && !*end && mb > 0 ? mb : VAULT_SIZE_MB) * 1024 * 1024;
    const char *data = act_data_dir (act);
    if (data) {
        self->store = rel_blobs_dir (data);
        s_scan (self);
    }
    return self;
}

void
rel_vault_destroy (rel_vault_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    rel_vault_t *self = *self_p;
    if (self->copy_fd >= 0)
        close (self->copy_fd);
    rel_upload_destroy (&self->fetch_up);
    for (size_t i = 0; i < self->parked_count; i++) {
        msg_destroy (&self->parked [i].msg);
        json_decref (self->parked [i].shas);
    }
    json_decref (self->copy_queue);
    json_decref (self->copy_set);
    json_decref (self->fetch_queue);
    free (self->store);
    free (self);
    *self_p = NULL;
}

void
rel_vault_status (const rel_vault_t *self, json_t *detail)
{
    json_object_set_new (detail, "vault", json_pack ("{s:I, s:I, s:I, s:I}",
        "copy_queued", (json_int_t) json_object_size (self->copy_set),
        "copied", (json_int_t) self->copied,
        "fetch_queued", (json_int_t) json_array_size (self->fetch_queue),
        "fetched", (json_int_t) self->fetched));
}

// ---- copies -----------------------------------------------------------------

void
rel_vault_copy (rel_vault_t *self, const char *sha)
{
    if (!self->store || !rel_blob_sha_valid (sha) || json_object_get (self->copy_set, sha))
        return;
    json_object_set_new (self->copy_set, sha, json_true ());
    json_array_append_new (self->copy_queue, json_string (sha));
}

//  The current blob is copied (or cannot be read any more): next one.
static void
s_copy_end (rel_vault_t *self)
{
    if (self->copy_fd >= 0)
        close (self->copy_fd);
    self->copy_fd = -1;
    json_object_del (self->copy_set, self->copy_sha);
    self->copy_sha [0] = 0;
    self->copy_busy = false;
}

//  Sends the part of the current blob at `offset` (no bytes for the
//  probe). Returns 0 or a negative code.
static int
s_copy_send (rel_vault_t *self, act_t *act, int64_t offset, bool probe)
{
    int64_t left = self->copy_size - offset;
    size_t len = probe ? 0 : left < REL_VAULT_PART ? (size_t) left : REL_VAULT_PART;
    char *buf = act_malloc (len ? len : 1);
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread (self->copy_fd, buf + got, len - got, offset + (int64_t) got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int rc = n < 0 ? -errno : -EIO;
            free (buf);
            return rc;
        }
        got += (size_t) n;
    }
    msg_t *put = act_msg_new (act, MSG_TYPE_VAULT_PUT, "broker");
    msg_set_str (put, "blob", self->copy_sha);
    msg_set_int (put, "offset", offset);
    msg_set_int (put, "size", self->copy_size);
    msg_set_json (put, "data", json_stringn_nocheck (buf, len));
    msg_set_bool (put, "eof", offset + (int64_t) len == self->copy_size);
    free (buf);
    int rc = act_request (act, &put, REL_VAULT_TIMEOUT_MS, s_on_saved, NULL);
    if (rc == 0) {
        self->copy_busy = true;
        self->copy_sent = offset + (int64_t) len;
    }
    return rc;
}

//  A part failed: the blob starts again from offset 0 after a back-off.
static void
s_copy_failed (rel_vault_t *self, const char *why)
{
    self->copy_busy = false;
    self->copy_backoff = self->copy_backoff ? self->copy_backoff * 2 : REL_VAULT_BACKOFF_MS;
    if (self->copy_backoff > REL_VAULT_BACKOFF_MAX)
        self->copy_backoff = REL_VAULT_BACKOFF_MAX;
    self->copy_retry_at = act_mono_ms () + self->copy_backoff;
    act_log_warn ("cannot copy blob %.12s to the broker: %s; trying again in %lld s",
                  self->copy_sha, why, (long long) (self->copy_backoff / 1000));
}

//  Starts (again) copying the current blob, or the next queued one.
static void
s_copy_start (rel_vault_t *self, act_t *act)
{
    while (!self->copy_sha [0] && self->copy_next < json_array_size (self->copy_queue)) {
        const char *sha = json_string_value (json_array_get (self->copy_queue, self->copy_next++));
        if (json_object_get (self->copy_set, sha))
            snprintf (self->copy_sha, sizeof self->copy_sha, "%s", sha);
    }
    if (self->copy_next == json_array_size (self->copy_queue)) {
        json_array_clear (self->copy_queue);
        self->copy_next = 0;
    }
    if (!self->copy_sha [0])
        return;
    if (self->copy_fd < 0) {
        char *path = rel_blob_path (self->store, self->copy_sha);
        self->copy_fd = open (path, O_RDONLY | O_CLOEXEC);
        free (path);
        struct stat st;
        if (self->copy_fd < 0 || fstat (self->copy_fd, &st)) {
            s_copy_end (self);      // gone from the store: nothing to copy
            return;
        }
        self->copy_size = (int64_t) st.st_size;
    }
    int rc = s_copy_send (self, act, 0, true);
    if (rc)
        s_copy_failed (self, act_strerror (rc));
}

static void
s_on_saved (void *state, act_t *act, const msg_t *reply, int rc, void *arg)
{
    (void) arg;
    rel_vault_t *self = ((rel_state_t *) state)->vault;
    if (rc || !reply || reply->type->id != MSG_TYPE_VAULT_SAVED) {
        s_copy_failed (self, rc == ACT_ETIMEDOUT ? "no answer"
                            : reply ? msg_str (reply, "reason", act_strerror (rc)) : act_strerror (rc));
        return;
    }
    int64_t offset = msg_int (reply, "offset", -1);
    if (msg_bool (reply, "stored", false)) {
        act_log_debug ("blob %.12s is kept by the broker", self->copy_sha);
        self->copied++;
        self->copy_backoff = 0;
        s_copy_end (self);
        s_copy_start (self, act);
        return;
    }
    if (strcmp (msg_str (reply, "blob", ""), self->copy_sha) != 0 || offset != self->copy_sent
    ||  offset >= self->copy_size) {
        s_copy_failed (self, "the broker's vault.saved does not fit");
        return;
    }
    rc = s_copy_send (self, act, offset, false);
    if (rc)
        s_copy_failed (self, act_strerror (rc));
}

// ---- fetches ----------------------------------------------------------------

static bool
s_fetching (const rel_vault_t *self, const char *sha)
{
    size_t i;
    json_t *v;
    json_array_foreach (self->fetch_queue, i, v)
        if (strcmp (json_string_value (v), sha) == 0)
            return true;
    return false;
}

bool
rel_vault_need (rel_vault_t *self, const json_t *shas, const msg_t *msg, act_handler_fn *fn)
{
    if (!self->store || self->again || self->parked_count == REL_VAULT_PARKED_MAX)
        return false;
    json_t *missing = json_array ();
    size_t i;
    json_t *v;
    json_array_foreach (shas, i, v) {
        const char *sha = json_string_value (v);
        if (rel_blob_sha_valid (sha) && !rel_blob_exists (self->store, sha, NULL))
            json_array_append (missing, v);
    }
    json_array_foreach (missing, i, v)
        if (!s_fetching (self, json_string_value (v))) {
            if (json_array_size (self->fetch_queue) == REL_VAULT_FETCHES_MAX)
                json_array_clear (missing);         // over the bound: answer as is
            else
                json_array_append (self->fetch_queue, v);
        }
    if (json_array_size (missing) == 0) {
        json_decref (missing);
        return false;
    }
    s_parked_t *p = &self->parked [self->parked_count++];
    p->msg = msg_dup (msg);
    p->fn = fn;
    p->shas = missing;
    return true;
}

//  Handles again each parked message none of whose blobs is still being
//  fetched.
static void
s_unpark (rel_vault_t *self, rel_state_t *state, act_t *act)
{
    for (size_t i = 0; i < self->parked_count; ) {
        bool waiting = false;
        size_t k;
        json_t *v;
        json_array_foreach (self->parked [i].shas, k, v)
            waiting = waiting || s_fetching (self, json_string_value (v));
        if (waiting) {
            i++;
            continue;
        }
        s_parked_t p = self->parked [i];
        self->parked [i] = self->parked [--self->parked_count];
        self->again = true;
        int rc = p.fn (state, act, p.msg);
        self->again = false;
        if (rc)
            act_reply_error (act, p.msg, rc, "%s", act_strerror (rc));
        msg_destroy (&p.msg);
        json_decref (p.shas);
    }
}

static int
s_fetch_send (rel_vault_t *self, act_t *act)
{
    msg_t *get = act_msg_new (act, MSG_TYPE_VAULT_GET, "broker");
    msg_set_str (get, "blob", json_string_value (json_array_get (self->fetch_queue, 0)));
    msg_set_int (get, "offset", self->fetch_offset);
    msg_set_int (get, "length", REL_VAULT_PART);
    int rc = act_request (act, &get, REL_VAULT_TIMEOUT_MS, s_on_chunk, NULL);
    self->fetch_busy = rc == 0;
    return rc;
}

//  The blob at the head of the fetch queue is over (stored or not).
static void
s_fetch_end (rel_vault_t *self, rel_state_t *state, act_t *act)
{
    rel_upload_destroy (&self->fetch_up);
    self->fetch_busy = false;
    json_array_remove (self->fetch_queue, 0);
    s_unpark (self, state, act);
}

//  Starts fetching the head of the queue; one that cannot start ends at once.
static void
s_fetch_start (rel_vault_t *self, rel_state_t *state, act_t *act)
{
    while (!self->fetch_busy && json_array_size (self->fetch_queue)) {
        const char *sha = json_string_value (json_array_get (self->fetch_queue, 0));
        int rc = 0;
        if (!rel_blob_exists (self->store, sha, NULL)) {
            self->fetch_up = rel_upload_new (self->store, self->size_max, &rc);
            self->fetch_offset = 0;
            self->fetch_tries = 1;
            if (rc == 0)
                rc = s_fetch_send (self, act);
            if (rc == 0)
                return;
            act_log_warn ("cannot fetch blob %.12s from the broker: %s", sha, act_strerror (rc));
        }
        s_fetch_end (self, state, act);
    }
}

//  Takes one blob.chunk into the blob being fetched. Returns 1 when the
//  blob is stored, 0 when more is to come, -1 with `why` set on failure.
static int
s_fetch_take (rel_vault_t *self, const msg_t *reply, const char *sha, char why [REL_UPLOAD_WHY_MAX])
{
    const json_t *data = json_object_get (reply->body, "data");
    size_t len = json_string_length (data);
    int64_t size = msg_int (reply, "size", -1);
    if (reply->type->id != MSG_TYPE_BLOB_CHUNK || strcmp (msg_str (reply, "blob", ""), sha) != 0
    ||  msg_int (reply, "offset", -1) != self->fetch_offset || size < self->fetch_offset + (int64_t) len
    ||  (len == 0 && self->fetch_offset < size)) {
        snprintf (why, REL_UPLOAD_WHY_MAX, "the broker's answer does not fit");
        return -1;
    }
    if (rel_upload_append (self->fetch_up, self->fetch_offset, json_string_value (data), len, why))
        return -1;
    self->fetch_offset += (int64_t) len;
    if (self->fetch_offset < size)
        return 0;
    char blob [REL_SHA_HEX + 1];
    return rel_upload_finish (self->fetch_up, size, sha, blob, why) ? -1 : 1;
}

static void
s_on_chunk (void *state, act_t *act, const msg_t *reply, int rc, void *arg)
{
    (void) arg;
    rel_vault_t *self = ((rel_state_t *) state)->vault;
    char sha [REL_SHA_HEX + 1];
    snprintf (sha, sizeof sha, "%s", json_string_value (json_array_get (self->fetch_queue, 0)));
    self->fetch_busy = false;
    if (rc == ACT_ETIMEDOUT && self->fetch_tries < REL_VAULT_FETCH_TRIES) {
        self->fetch_tries++;
        if (s_fetch_send (self, act) == 0)
            return;
    }
    char why [REL_UPLOAD_WHY_MAX];
    int done = rc ? -1 : s_fetch_take (self, reply, sha, why);
    if (rc == ACT_ENOTFOUND)
        act_log_info ("blob %.12s is not in the broker's vault either", sha);
    else if (rc)
        act_log_warn ("cannot fetch blob %.12s from the broker: %s", sha,
                      reply ? msg_str (reply, "reason", act_strerror (rc)) : act_strerror (rc));
    else if (done < 0)
        act_log_warn ("cannot fetch blob %.12s from the broker: %s", sha, why);
    else if (done == 1) {
        act_log_info ("fetched blob %.12s (%lld bytes) from the broker", sha,
                      (long long) self->fetch_offset);
        self->fetched++;
    }
    if (done == 0 && s_fetch_send (self, act) == 0)
        return;
    s_fetch_end (self, state, act);
    s_fetch_start (self, state, act);
}

void
rel_vault_tick (rel_state_t *state, act_t *act)
{
    rel_vault_t *self = state->vault;
    if (!self->store || act_replaying (act))
        return;
    if (!self->copy_busy && act_mono_ms () >= self->copy_retry_at)
        s_copy_start (self, act);
    if (!self->fetch_busy)
        s_fetch_start (self, state, act);
}
