//  log-plex - per-app log buffers, tail sessions and drains
//
//  Accepts: log.batch (stream, not journaled: API lines from the actors,
//           app output later), log.get, app.destroyed (durable, from
//           release-keeper: the app's lines are dropped); plus status, ping,
//           stop (runtime).
//  Emits:   log.lines (answering log.get), error, status.reply, pong.
//  State:   per app a ring of its newest LPX_LINES_MAX formatted lines
//           (ring.c), oldest dropped first; lines are formatted when they
//           arrive (line.c). Not durable: logs are a stream, and a restart
//           starts with empty buffers. Tails and drains (next issue) read
//           the same rings.
//
//  A malformed line in a batch (not a map, no text) is dropped and
//  counted; a batch is a stream message, so nothing is answered.

#include "log-plex.h"
#include "line.h"
#include "ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LPX_LINES_MAX       1500        // lines kept per app
#define LPX_GET_DEFAULT     100         // log.get's n when absent
#define LPX_APPS_MAX        10000       // apps with a buffer; more are dropped
//  log.lines must fit in one message: older lines are left out beyond this.
#define LPX_REPLY_BUDGET    (MSG_MAX_SIZE - 64 * 1024)
#define LPX_LINE_OVERHEAD   8           // msgpack bytes around one line, at most

typedef struct {
    json_t *index;              // object: app -> integer index into rings
    lpx_ring_t **rings;         // owned, `count` of them
    size_t count;
    size_t cap;
    uint64_t lines_in;          // lines stored
    uint64_t lines_bad;         // malformed lines dropped
    uint64_t lines_refused;     // lines for an app over LPX_APPS_MAX
} lpx_state_t;

static void *
s_create (act_t *act)
{
    (void) act;
    lpx_state_t *self = act_calloc (1, sizeof *self);
    self->index = json_object ();
    return self;
}

static void
s_destroy (void **state_p)
{
    lpx_state_t *self = *state_p;
    for (size_t i = 0; i < self->count; i++)
        lpx_ring_destroy (&self->rings [i]);
    free (self->rings);
    json_decref (self->index);
    free (self);
    *state_p = NULL;
}

//  The ring of `app`, or NULL. Borrowed.
static lpx_ring_t *
s_ring (const lpx_state_t *self, const char *app)
{
    json_t *i = json_object_get (self->index, app);
    return i ? self->rings [json_integer_value (i)] : NULL;
}

//  The ring of `app`, made on first use; NULL when there are LPX_APPS_MAX
//  already. Borrowed.
static lpx_ring_t *
s_ring_make (lpx_state_t *self, const char *app)
{
    lpx_ring_t *ring = s_ring (self, app);
    if (ring || self->count >= LPX_APPS_MAX)
        return ring;
    if (self->count == self->cap) {
        self->cap = self->cap ? self->cap * 2 : 16;
        self->rings = act_realloc (self->rings, self->cap * sizeof *self->rings);
    }
    ring = lpx_ring_new (LPX_LINES_MAX);
    json_object_set_new (self->index, app, json_integer ((json_int_t) self->count));
    self->rings [self->count++] = ring;
    return ring;
}

//  Formats one line of a batch into `ring`. Returns false when malformed.
static bool
s_store_line (lpx_ring_t *ring, const json_t *line)
{
    json_t *text = json_object_get (line, "text");
    json_t *ts = json_object_get (line, "ts");
    if (!json_is_string (text) || !json_is_integer (ts))
        return false;
    json_t *source = json_object_get (line, "source");
    json_t *process = json_object_get (line, "process");
    int64_t us = json_integer_value (ts);
    //  `ts` is in ms unless the line says `ts_us`; saturate, never overflow.
    if (!json_is_true (json_object_get (line, "ts_us")))
        us = us > INT64_MAX / 1000 ? INT64_MAX : us < 0 ? 0 : us * 1000;
    size_t len;
    char *formatted = lpx_line_format (us, json_is_string (source) ? json_string_value (source) : "app",
                                       json_is_string (process) ? json_string_value (process) : "unknown",
                                       json_string_value (text), json_string_length (text), &len);
    lpx_ring_push (ring, formatted, len);
    free (formatted);
    return true;
}

static int
s_on_log_batch (void *state, act_t *act, msg_t *msg)
{
    (void) act;
    lpx_state_t *self = state;
    json_t *lines = json_object_get (msg->body, "lines");
    const char *app = msg_str (msg, "app", "");
    lpx_ring_t *ring = *app ? s_ring_make (self, app) : NULL;
    if (!ring) {
        self->lines_refused += json_array_size (lines);
        return 0;
    }
    size_t i;
    json_t *line;
    json_array_foreach (lines, i, line) {
        if (s_store_line (ring, line))
            self->lines_in++;
        else
            self->lines_bad++;
    }
    return 0;
}

static int
s_on_log_get (void *state, act_t *act, msg_t *msg)
{
    lpx_state_t *self = state;
    const char *app = msg_str (msg, "app", "");
    int64_t n = msg_int (msg, "n", LPX_GET_DEFAULT);
    if (n < 1 || n > LPX_LINES_MAX)
        return act_reply_error (act, msg, -EINVAL, "n must be 1 to %d, not %lld", LPX_LINES_MAX,
                                (long long) n);
    lpx_ring_t *ring = s_ring (self, app);
    size_t count = ring ? lpx_ring_count (ring) : 0;
    //  The newest n lines that fit the reply, then oldest first.
    size_t first = count, budget = LPX_REPLY_BUDGET;
    while (first > 0 && count - first < (size_t) n) {
        size_t len;
        lpx_ring_get (ring, first - 1, &len);
        if (len + LPX_LINE_OVERHEAD > budget)
            break;
        budget -= len + LPX_LINE_OVERHEAD;
        first--;
    }
    json_t *out = json_array ();
    for (size_t i = first; i < count; i++) {
        size_t len;
        const char *text = lpx_ring_get (ring, i, &len);
        json_array_append_new (out, json_stringn_nocheck (text, len));
    }
    msg_t *reply = act_msg_new (act, MSG_TYPE_LOG_LINES, NULL);
    msg_set_str (reply, "app", app);
    msg_set_json (reply, "lines", out);
    return act_reply (act, msg, &reply);
}

static void
s_status (void *state, json_t *detail)
{
    lpx_state_t *self = state;
    size_t bytes = 0;
    for (size_t i = 0; i < self->count; i++)
        bytes += lpx_ring_bytes (self->rings [i]);
    json_object_set_new (detail, "apps", json_integer ((json_int_t) self->count));
    json_object_set_new (detail, "bytes", json_integer ((json_int_t) bytes));
    json_object_set_new (detail, "lines_in", json_integer ((json_int_t) self->lines_in));
    json_object_set_new (detail, "lines_bad", json_integer ((json_int_t) self->lines_bad));
    json_object_set_new (detail, "lines_refused", json_integer ((json_int_t) self->lines_refused));
}

//  An app is gone: so are its lines (a new app of the same name starts
//  empty). The last ring moves into the freed slot.
static int
s_on_app_destroyed (void *state, act_t *act, msg_t *msg)
{
    lpx_state_t *self = state;
    if (!act_msg_from_actor (msg, "release-keeper"))
        return act_reply_error (act, msg, ACT_EREFUSED, "only release-keeper may send '%s'",
                                msg->type->name);
    const char *app = msg_str (msg, "name", "");
    json_t *index = json_object_get (self->index, app);
    if (!index)
        return 0;
    size_t i = (size_t) json_integer_value (index);
    json_object_del (self->index, app);
    lpx_ring_destroy (&self->rings [i]);
    size_t last = --self->count;
    if (i != last) {
        self->rings [i] = self->rings [last];
        const char *key;
        json_t *value;
        json_object_foreach (self->index, key, value)
            if ((size_t) json_integer_value (value) == last) {
                json_integer_set (value, (json_int_t) i);
                break;
            }
    }
    self->rings [last] = NULL;
    act_log_info ("app '%s' destroyed: its log lines are gone", app);
    return 0;
}

static const act_route_t s_routes [] = {
    { MSG_TYPE_LOG_BATCH,     s_on_log_batch },
    { MSG_TYPE_LOG_GET,       s_on_log_get },
    { MSG_TYPE_APP_DESTROYED, s_on_app_destroyed },
};

static const act_def_t s_def = {
    .name = "log-plex",
    .singleton = true,
    .routes = s_routes,
    .route_count = sizeof s_routes / sizeof s_routes [0],
    .create = s_create,
    .destroy = s_destroy,
    .status = s_status,
};

const act_def_t *
lpx_actor_def (void)
{
    return &s_def;
}
