//  log-plex - per-app log history, tail sessions and log tokens
//
//  Accepts: log.batch (stream, not journaled: API lines from the actors,
//           app and system lines later), log.get, log.token, app.destroyed
//           (durable, from release-keeper: the app's lines, token and
//           drains are dropped), drain.add, drain.remove, drain.list; plus
//           status, ping, stop (runtime).
//  Emits:   log.lines (answering log.get), log.token.reply,
//           drain.list.reply (answering the drain commands), error,
//           status.reply, pong.
//  State:   per app a ring of its newest LPX_LINES_MAX formatted lines
//           and its read-only log token, in the hub (hub.c), which the
//           websocket thread reads too. Lines are formatted as they arrive
//           (line.c), straight from the batch's packed bytes
//           (msg_logbatch.h). A batch is checked whole first: one with a
//           malformed line (a source other than `app`/`dynod`, a bad
//           process name, broken framing) is refused whole, counted
//           (`batches_bad`) and its reason kept (`bad_reason`, logged at
//           most every LPX_WARN_MS); a text over LPX_TEXT_MAX bytes
//           becomes several lines.
//  Disk:    lines and tokens go to a LevelDB under <data>/log-plex/
//           (store.c), lines flushed every LPX_FLUSH_MS by the store's
//           writer thread (so a crash loses at most that much, plus the
//           write in flight), tokens at once; loaded back at start.
//           log.batch is a stream, not journaled: this store, not the
//           broker's journal, is what keeps history across restarts.
//  Network: the HTTP/websocket server (ws.c, its own thread) on
//           127.0.0.1:$DYNOD_LOGS_PORT (default 7780): the browser page
//           and the tail websockets. If the port is taken it retries
//           every LPX_WS_RETRY_MS; ingest and log.get work meanwhile.
//
//  Without a data directory (act_offline: `dynod replay`, unit tests)
//  there is no store and no server: the actor is its handlers and rings.
//
//  Drains: each app's log drains (drain.c: one delivery thread per drain,
//  fed by s_on_log_batch through the drain's own bounded queue), stored
//  in the same LevelDB (fsync before the answer) and started again at
//  start. Not without a data directory: a replay must not send lines out.
//
//  Relocation: log tokens and drains change without a durable message, so
//  no journal holds them. Snapshot/restore hooks carry them (`{tokens:
//  {app: token}, drains: [{app, url, token}]}`) and every change asks the
//  runtime for a snapshot at once (act_snapshot_now), before it is
//  answered (a restore takes an app whose token the snapshot lacks for
//  destroyed, so a token must never be handed out before a snapshot holds
//  it); the runtime keeps it locally and at the broker, so log-plex
//  started on another host with an empty data directory gets them back.
//  The restore makes the store, hub and drains equal to the snapshot. The
//  lines stay behind: they are in this host's store only.
//
//  Threading: handlers and the tick run on the actor thread; ws.h says
//  what the websocket thread owns; hub.h what they share; drain.h what a
//  drain's thread owns.

#include "log-plex.h"
#include "drain.h"
#include "hub.h"
#include "line.h"
#include "store.h"
#include "ws.h"
#include "../../messages/msg_logbatch.h"
#include "../common/act_snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define LPX_GET_DEFAULT     100         // log.get's n when absent
//  log.lines must fit in one message: older lines are left out beyond this.
#define LPX_REPLY_BUDGET    (MSG_MAX_SIZE - 64 * 1024)
#define LPX_LINE_OVERHEAD   8           // msgpack bytes around one line, at most
#define LPX_FLUSH_MS        100         // store writes at most this old
#define LPX_FLUSH_BYTES     (4u << 20)  // or this big (staged, most never written: store.h)
#define LPX_WS_RETRY_MS     5000        // between tries to listen
#define LPX_LOGS_PORT       7780        // when DYNOD_LOGS_PORT is unset
#define LPX_WARN_MS         10000       // between two refused batches logged

typedef struct {
    lpx_hub_t *hub;             // owned
    lpx_store_t *store;         // owned; NULL without a data dir
    lpx_ws_t *ws;               // owned; NULL while not listening
    lpx_drains_t *drains;       // owned; NULL without a data dir
    bool serve;                 // a server is wanted (there is a data dir)
    int port;
    int64_t ws_retry_at;        // act_mono_ms of the next try to listen
    int64_t flushed_at;         // act_mono_ms of the last store flush
    uint64_t lines_in;          // lines stored
    uint64_t batches_bad;       // malformed batches refused whole
    char bad_reason [160];      // why the last one was
    int64_t warned_at;          // act_mono_ms of the last refusal logged
    uint64_t lines_refused;     // lines for a bad app name, or over LPX_APPS_MAX
    lpx_line_clock_t clock;     // the formatter's last second
    char *scratch;              // owned: one formatted line, LPX_LINE_MAX + 1 bytes
} lpx_state_t;

//  The API token the websocket accepts besides log tokens: the one this
//  process got (DYNOD_API_TOKEN), else <data>/api-token. Caller owns
//  result; NULL when none.
static char *
s_api_token (const char *data_dir)
{
    const char *env = getenv ("DYNOD_API_TOKEN");
    if (env && *env)
        return act_strdup (env);
    char *path = act_sprintf ("%s/api-token", data_dir);
    char *text = NULL;
    if (act_read_file (path, &text, NULL) == 0)
        text [strcspn (text, "\r\n")] = 0;
    free (path);
    return text;
}

static void
s_load_line (void *arg, const char *app, uint64_t seq, const char *line, size_t len)
{
    lpx_state_t *self = arg;
    if (lpx_app_name_ok (app))
        lpx_hub_load (self->hub, app, seq, lpx_entry_new (line, len));
}

static void
s_load_drain (void *arg, const char *app, const char *url, const char *token)
{
    lpx_state_t *self = arg;
    char why [256];
    if (lpx_app_name_ok (app) && lpx_drains_add (self->drains, app, url, token, why, sizeof why))
        act_log_error ("stored drain of '%s' not started: %s", app, why);
}

static void
s_load_token (void *arg, const char *app, const char *token)
{
    lpx_state_t *self = arg;
    if (lpx_app_name_ok (app))
        lpx_hub_token_set (self->hub, app, token);
}

//  The port from DYNOD_LOGS_PORT, or LPX_LOGS_PORT.
static int
s_port (void)
{
    const char *env = getenv ("DYNOD_LOGS_PORT");
    if (!env || !*env)
        return LPX_LOGS_PORT;
    char *end;
    long port = strtol (env, &end, 10);
    if (*end || port < 1 || port > 65535) {
        act_log_error ("DYNOD_LOGS_PORT '%s' is not a port: using %d", env, LPX_LOGS_PORT);
        return LPX_LOGS_PORT;
    }
    return (int) port;
}

//  Tries to listen (when wanted and due).
static void
s_listen (lpx_state_t *self)
{
    if (!self->serve || self->ws || act_mono_ms () < self->ws_retry_at)
        return;
    char reason [256];
    self->ws = lpx_ws_new (self->hub, self->port, getenv ("DYNOD_LOGS_ORIGINS"), reason,
                           sizeof reason);
    if (self->ws)
        act_log_info ("logs on http://127.0.0.1:%d/apps/APP/", self->port);
    else {
        act_log_error ("%s: retrying in %d s", reason, LPX_WS_RETRY_MS / 1000);
        self->ws_retry_at = act_mono_ms () + LPX_WS_RETRY_MS;
    }
}

static void *
s_create (act_t *act)
{
    lpx_state_t *self = act_calloc (1, sizeof *self);
    self->scratch = act_malloc (LPX_LINE_MAX + 1);
    const char *data = act_data_dir (act);
    char *api_token = data ? s_api_token (data) : NULL;
    self->hub = lpx_hub_new (api_token);
    free (api_token);
    if (!data)
        return self;
    char *dir = act_sprintf ("%s/log-plex", data);
    char reason [512];
    int rc = 0;
    self->store = lpx_store_open (dir, LPX_LINES_MAX, &rc, reason, sizeof reason);
    free (dir);
    if (!self->store)
        act_log_error ("%s: history will not survive a restart", reason);
    else if (lpx_store_load (self->store, s_load_line, s_load_token, self))
        act_log_error ("%s", lpx_store_reason (self->store));
    self->drains = lpx_drains_new (getenv ("DYNOD_DRAIN_CA_FILE"));
    if (self->store && lpx_store_load_drains (self->store, s_load_drain, self))
        act_log_error ("%s", lpx_store_reason (self->store));
    self->flushed_at = act_mono_ms ();
    self->serve = true;
    self->port = s_port ();
    s_listen (self);
    return self;
}

static void
s_destroy (void **state_p)
{
    lpx_state_t *self = *state_p;
    lpx_ws_destroy (&self->ws);
    lpx_drains_destroy (&self->drains);
    lpx_store_close (&self->store);
    lpx_hub_destroy (&self->hub);
    free (self->scratch);
    free (self);
    *state_p = NULL;
}

static void
s_flush (lpx_state_t *self)
{
    if (self->store && lpx_store_staged (self->store) && lpx_store_flush_lines (self->store))
        act_log_error ("%s", lpx_store_reason (self->store));
    self->flushed_at = act_mono_ms ();
}

static void
s_tick (void *state, act_t *act)
{
    (void) act;
    lpx_state_t *self = state;
    if (act_mono_ms () - self->flushed_at >= LPX_FLUSH_MS)
        s_flush (self);
    s_listen (self);
    if (self->drains)
        lpx_drains_reap (self->drains);
}

//  Formats one line into entries appended to `out` (*count_p of them; the
//  array grows): one per LPX_TEXT_MAX piece of its text, one for an empty
//  text.
static void
s_format_line (lpx_state_t *self, const msg_logline_t *line, lpx_entry_t ***out,
               size_t *count_p, size_t *cap_p)
{
    const char *bytes = line->text;
    size_t left = line->text_len;
    do {
        size_t piece = lpx_line_piece (bytes, left);
        size_t len = lpx_line_format_to (&self->clock, line->ts_us, line->source, line->process,
                                         bytes, piece, self->scratch);
        if (*count_p == *cap_p) {
            *cap_p = *cap_p ? *cap_p * 2 : 64;
            *out = act_realloc (*out, *cap_p * sizeof **out);
        }
        (*out) [(*count_p)++] = lpx_entry_new (self->scratch, len);
        bytes += piece;
        left -= piece;
    } while (left > 0);
}

//  Counts a refused batch and says why, at most once per LPX_WARN_MS (a
//  broken producer must not flood the log).
static void
s_refuse_batch (lpx_state_t *self, const msg_t *msg, const char *app, const char *why)
{
    self->batches_bad++;
    snprintf (self->bad_reason, sizeof self->bad_reason, "%s", why);
    int64_t now = act_mono_ms ();
    if (self->warned_at && now - self->warned_at < LPX_WARN_MS)
        return;
    self->warned_at = now;
    act_log_warn ("log.batch for '%s' from %s refused: %s",
                  lpx_app_name_ok (app) ? app : "(not an app name)", msg->from, why);
}

//  A batch is checked whole first (msg_logbatch_check): a malformed one is
//  refused with nothing stored. Then each line is formatted straight from
//  the packed bytes: the entries are the only allocations per line.
static int
s_on_log_batch (void *state, act_t *act, msg_t *msg)
{
    (void) act;
    lpx_state_t *self = state;
    json_t *packed = json_object_get (msg->body, "lines");
    const char *data = json_string_value (packed);
    size_t len = json_string_length (packed);
    const char *app = msg_str (msg, "app", "");
    char why [160];
    size_t lines = data ? msg_logbatch_check (data, len, why, sizeof why) : 0;
    if (!data)
        snprintf (why, sizeof why, "the lines field is not bytes");
    if (lines == 0) {
        s_refuse_batch (self, msg, app, why);
        return 0;
    }
    if (!lpx_app_name_ok (app)) {
        self->lines_refused += lines;
        return 0;
    }
    lpx_entry_t **entries = act_malloc (lines * sizeof *entries);
    size_t count = 0, cap = lines;
    size_t pos = 0, i;
    msg_logline_t line;
    while (msg_logbatch_next (data, len, &pos, &line))
        s_format_line (self, &line, &entries, &count, &cap);
    //  Keep the store's copy before the hub takes the references over.
    uint64_t seq;
    lpx_entry_t **kept = act_malloc (count * sizeof *kept);
    for (i = 0; i < count; i++)
        kept [i] = lpx_entry_ref (entries [i]);
    if (lpx_hub_append (self->hub, app, entries, count, &seq) == 0) {
        self->lines_in += count;
        if (self->drains)
            lpx_drains_push (self->drains, app, kept, count);
        for (i = 0; self->store && i < count; i++)
            lpx_store_put_entry (self->store, app, seq + i, kept [i]);
    }
    else
        self->lines_refused += count;
    for (i = 0; i < count; i++)
        lpx_entry_unref (&kept [i]);
    free (kept);
    free (entries);
    if (self->store && lpx_store_staged (self->store) >= LPX_FLUSH_BYTES)
        s_flush (self);
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
    lpx_filter_t filter;
    const char *why = NULL;
    if (lpx_filter_init (&filter, msg_str (msg, "source", NULL), msg_str (msg, "dyno", NULL),
                         msg_str (msg, "ps", NULL), &why))
        return act_reply_error (act, msg, -EINVAL, "%s", why);
    lpx_entry_t **found = act_malloc ((size_t) n * sizeof *found);
    size_t count = lpx_hub_history (self->hub, app, &filter, (size_t) n, LPX_REPLY_BUDGET,
                                    LPX_LINE_OVERHEAD, found, NULL);
    json_t *out = json_array ();
    for (size_t i = 0; i < count; i++) {
        json_array_append_new (out, json_stringn_nocheck (found [i]->text, found [i]->len));
        lpx_entry_unref (&found [i]);
    }
    free (found);
    msg_t *reply = act_msg_new (act, MSG_TYPE_LOG_LINES, NULL);
    msg_set_str (reply, "app", app);
    msg_set_json (reply, "lines", out);
    return act_reply (act, msg, &reply);
}

//  The app's log token: the one it has, or a new random one, stored
//  before it is handed out (a token that would change at the next restart
//  is refused instead).
static int
s_on_log_token (void *state, act_t *act, msg_t *msg)
{
    lpx_state_t *self = state;
    const char *app = msg_str (msg, "app", "");
    if (!lpx_app_name_ok (app))
        return act_reply_error (act, msg, -EINVAL, "'%.64s' is not a valid app name", app);
    char token [LPX_TOKEN_LEN + 1];
    if (!lpx_hub_token (self->hub, app, token)) {
        unsigned char raw [LPX_TOKEN_LEN / 2];
        if (getrandom (raw, sizeof raw, 0) != (ssize_t) sizeof raw)
            return act_reply_error (act, msg, -EIO, "cannot make a random token");
        for (size_t i = 0; i < sizeof raw; i++)
            snprintf (token + 2 * i, 3, "%02x", raw [i]);
        if (self->store && lpx_store_put_token (self->store, app, token))
            return act_reply_error (act, msg, ACT_ESTORE, "%s", lpx_store_reason (self->store));
        if (lpx_hub_token_set (self->hub, app, token))
            return act_reply_error (act, msg, ACT_EFULL, "log-plex holds %d apps already",
                                    LPX_APPS_MAX);
        act_snapshot_now (act);
    }
    msg_t *reply = act_msg_new (act, MSG_TYPE_LOG_TOKEN_REPLY, NULL);
    msg_set_str (reply, "app", app);
    msg_set_str (reply, "token", token);
    return act_reply (act, msg, &reply);
}

static void
s_status (void *state, json_t *detail)
{
    lpx_state_t *self = state;
    size_t apps, bytes;
    uint64_t lost, tails = 0, dropped = 0, refused = 0;
    lpx_hub_figures (self->hub, &apps, &bytes, &lost);
    if (self->ws)
        lpx_ws_figures (self->ws, &tails, &dropped, &refused);
    json_object_set_new (detail, "apps", json_integer ((json_int_t) apps));
    json_object_set_new (detail, "bytes", json_integer ((json_int_t) bytes));
    json_object_set_new (detail, "lines_in", json_integer ((json_int_t) self->lines_in));
    json_object_set_new (detail, "batches_bad", json_integer ((json_int_t) self->batches_bad));
    if (self->batches_bad)
        json_object_set_new (detail, "bad_reason", json_string (self->bad_reason));
    json_object_set_new (detail, "lines_refused", json_integer ((json_int_t) self->lines_refused));
    json_object_set_new (detail, "tails", json_integer ((json_int_t) tails));
    json_object_set_new (detail, "tail_lines_dropped", json_integer ((json_int_t) (dropped + lost)));
    json_object_set_new (detail, "ws_refused", json_integer ((json_int_t) refused));
    json_object_set_new (detail, "logs_port", json_integer (self->ws ? self->port : 0));
    json_object_set_new (detail, "store", json_boolean (self->store != NULL));
    size_t drains = 0;
    uint64_t drain_sent = 0, drain_dropped = 0;
    if (self->drains)
        lpx_drains_figures (self->drains, &drains, &drain_sent, &drain_dropped);
    json_object_set_new (detail, "drains", json_integer ((json_int_t) drains));
    json_object_set_new (detail, "drain_lines_sent", json_integer ((json_int_t) drain_sent));
    json_object_set_new (detail, "drain_lines_dropped", json_integer ((json_int_t) drain_dropped));
}

//  An app is gone: so are its lines and token (a new app of the same name
//  starts empty), and its tails are closed.
static int
s_on_app_destroyed (void *state, act_t *act, msg_t *msg)
{
    lpx_state_t *self = state;
    if (!act_msg_from_actor (msg, "release-keeper"))
        return act_reply_error (act, msg, ACT_EREFUSED, "only release-keeper may send '%s'",
                                msg->type->name);
    const char *app = msg_str (msg, "name", "");
    bool known = lpx_hub_drop (self->hub, app);
    json_t *drains = self->drains ? lpx_drains_list (self->drains, app) : json_array ();
    size_t i;
    json_t *drain;
    json_array_foreach (drains, i, drain) {
        const char *url = json_string_value (json_object_get (drain, "url"));
        if (self->store && lpx_store_drop_drain (self->store, app, url))
            act_log_error ("%s", lpx_store_reason (self->store));
    }
    json_decref (drains);
    if (self->drains)
        lpx_drains_drop_app (self->drains, app);
    if (known && self->store && lpx_store_drop_app (self->store, app))
        act_log_error ("%s", lpx_store_reason (self->store));
    if (known)
        act_log_info ("app '%s' destroyed: its log lines are gone", app);
    act_snapshot_now (act);
    return 0;
}

//  Answers a drain command with the app's drains.
static int
s_drain_reply (lpx_state_t *self, act_t *act, msg_t *msg, const char *app)
{
    msg_t *reply = act_msg_new (act, MSG_TYPE_DRAIN_LIST_REPLY, NULL);
    msg_set_str (reply, "app", app);
    msg_set_json (reply, "drains", self->drains ? lpx_drains_list (self->drains, app)
                                                : json_array ());
    return act_reply (act, msg, &reply);
}

//  The app of a drain command, or NULL after answering an error.
static const char *
s_drain_app (lpx_state_t *self, act_t *act, msg_t *msg)
{
    const char *app = msg_str (msg, "app", "");
    if (!lpx_app_name_ok (app))
        act_reply_error (act, msg, -EINVAL, "'%.64s' is not a valid app name", app);
    else if (!self->drains || !self->store)
        act_reply_error (act, msg, ACT_ESTORE, "drains need log-plex's store");
    else
        return app;
    return NULL;
}

//  Adds a drain with a new token `d.<uuid>`, stored (fsync) before the
//  answer; a URL the app has, a 6th drain or a bad URL is refused.
static int
s_on_drain_add (void *state, act_t *act, msg_t *msg)
{
    lpx_state_t *self = state;
    const char *app = s_drain_app (self, act, msg);
    if (!app)
        return 0;
    const char *url = msg_str (msg, "url", "");
    char token [LPX_DRAIN_TOKEN_LEN + 1] = "d.";
    if (lpx_drain_uuid (token + 2))
        return act_reply_error (act, msg, -EIO, "cannot make a random token");
    char why [256];
    int rc = lpx_drains_add (self->drains, app, url, token, why, sizeof why);
    if (rc)
        return act_reply_error (act, msg, rc, "%s", why);
    if (lpx_store_put_drain (self->store, app, url, token)) {
        lpx_drains_remove (self->drains, app, url);
        return act_reply_error (act, msg, ACT_ESTORE, "%s", lpx_store_reason (self->store));
    }
    act_snapshot_now (act);
    return s_drain_reply (self, act, msg, app);
}

static int
s_on_drain_remove (void *state, act_t *act, msg_t *msg)
{
    lpx_state_t *self = state;
    const char *app = s_drain_app (self, act, msg);
    if (!app)
        return 0;
    const char *url = msg_str (msg, "url", "");
    if (lpx_drains_remove (self->drains, app, url))
        return act_reply_error (act, msg, -ENOENT, "'%s' has no drain %.600s", app, url);
    if (lpx_store_drop_drain (self->store, app, url))
        return act_reply_error (act, msg, ACT_ESTORE, "%s", lpx_store_reason (self->store));
    act_snapshot_now (act);
    return s_drain_reply (self, act, msg, app);
}

static int
s_on_drain_list (void *state, act_t *act, msg_t *msg)
{
    lpx_state_t *self = state;
    const char *app = msg_str (msg, "app", "");
    if (!lpx_app_name_ok (app))
        return act_reply_error (act, msg, -EINVAL, "'%.64s' is not a valid app name", app);
    return s_drain_reply (self, act, msg, app);
}

// ---------------------------------------------------------------------------
//  Relocation: tokens and drains in the snapshot

static json_t *
s_snapshot (void *state)
{
    lpx_state_t *self = state;
    return json_pack ("{s:o, s:o}", "tokens", lpx_hub_tokens (self->hub),
                      "drains", self->drains ? lpx_drains_all (self->drains) : json_array ());
}

//  Forgets `app`, lines and all, in the hub and the store.
static void
s_forget_app (lpx_state_t *self, const char *app)
{
    lpx_hub_drop (self->hub, app);
    if (self->store && lpx_store_drop_app (self->store, app))
        act_log_error ("%s", lpx_store_reason (self->store));
}

//  An app with a token here and none in the snapshot was destroyed since
//  (the only way a token goes): so is its history.
static void
s_restore_tokens (lpx_state_t *self, json_t *tokens)
{
    json_t *mine = lpx_hub_tokens (self->hub);
    const char *app;
    json_t *token;
    json_object_foreach (mine, app, token)
        if (!json_object_get (tokens, app))
            s_forget_app (self, app);
    json_object_foreach (tokens, app, token) {
        const char *value = json_string_value (token);
        const char *have = json_string_value (json_object_get (mine, app));
        if (!lpx_app_name_ok (app) || !value || strlen (value) != LPX_TOKEN_LEN
        ||  (have && strcmp (have, value) == 0))
            continue;
        if (self->store)
            lpx_store_stage_token (self->store, app, value);
        if (lpx_hub_token_set (self->hub, app, value))
            act_log_error ("token of '%s' not restored: log-plex holds %d apps already", app,
                           LPX_APPS_MAX);
    }
    if (self->store && lpx_store_flush (self->store))
        act_log_error ("%s", lpx_store_reason (self->store));
    json_decref (mine);
}

static bool
s_str_is (const json_t *value, const char *want)
{
    return json_is_string (value) && want && strcmp (json_string_value (value), want) == 0;
}

//  Whether `list` holds a drain of `app` for `url` with `token`.
static bool
s_has_drain (json_t *list, const char *app, const char *url, const char *token)
{
    size_t i;
    json_t *d;
    json_array_foreach (list, i, d)
        if (s_str_is (json_object_get (d, "app"), app) && s_str_is (json_object_get (d, "url"), url)
        &&  s_str_is (json_object_get (d, "token"), token))
            return true;
    return false;
}

static void
s_restore_drains (lpx_state_t *self, json_t *drains)
{
    json_t *mine = lpx_drains_all (self->drains);
    size_t i;
    json_t *d;
    json_array_foreach (mine, i, d) {
        const char *app = json_string_value (json_object_get (d, "app"));
        const char *url = json_string_value (json_object_get (d, "url"));
        if (s_has_drain (drains, app, url, json_string_value (json_object_get (d, "token"))))
            continue;
        lpx_drains_remove (self->drains, app, url);
        if (lpx_store_drop_drain (self->store, app, url))
            act_log_error ("%s", lpx_store_reason (self->store));
    }
    json_array_foreach (drains, i, d) {
        const char *app = json_string_value (json_object_get (d, "app"));
        const char *url = json_string_value (json_object_get (d, "url"));
        const char *token = json_string_value (json_object_get (d, "token"));
        char why [256];
        if (!app || !url || !token || s_has_drain (mine, app, url, token))
            continue;
        if (!lpx_app_name_ok (app) || lpx_drains_add (self->drains, app, url, token, why, sizeof why))
            act_log_error ("drain of '%.64s' not restored: %s", app,
                           lpx_app_name_ok (app) ? why : "bad app name");
        else if (lpx_store_put_drain (self->store, app, url, token))
            act_log_error ("%s", lpx_store_reason (self->store));
    }
    json_decref (mine);
}

//  Makes tokens and drains (hub, store, delivery threads) what the
//  snapshot says.
static int
s_restore (void *state, const json_t *snapshot)
{
    lpx_state_t *self = state;
    json_t *tokens = json_object_get (snapshot, "tokens");
    json_t *drains = json_object_get (snapshot, "drains");
    if (!json_is_object (tokens) || !json_is_array (drains))
        return ACT_ESTORE;
    s_restore_tokens (self, tokens);
    if (self->drains && self->store)
        s_restore_drains (self, drains);
    else if (json_array_size (drains))
        act_log_error ("%zu drains not restored: drains need log-plex's store",
                       json_array_size (drains));
    return 0;
}

static const act_route_t s_routes [] = {
    { MSG_TYPE_DRAIN_ADD,     s_on_drain_add },
    { MSG_TYPE_DRAIN_REMOVE,  s_on_drain_remove },
    { MSG_TYPE_DRAIN_LIST,    s_on_drain_list },
    { MSG_TYPE_LOG_BATCH,     s_on_log_batch },
    { MSG_TYPE_LOG_GET,       s_on_log_get },
    { MSG_TYPE_LOG_TOKEN,     s_on_log_token },
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
    .snapshot = s_snapshot,
    .restore = s_restore,
    .tick = s_tick,
};

const act_def_t *
lpx_actor_def (void)
{
    return &s_def;
}
