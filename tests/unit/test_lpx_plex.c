//  test_lpx_plex - log-plex's store driven offline
//
//  Runs the real log-plex definition under act_offline and feeds it
//  log.batch and log.get as they come from the actors and the CLI: lines
//  formatted and kept per app, oldest first, at most 1,500 per app with
//  the oldest dropped, `n` defaulted, bounded and refused out of range,
//  us timestamps, the packed wire form (msg_logbatch.h) round trip, a
//  malformed batch refused whole with its reason and counted, unknown apps
//  answered with no lines, and a reply that stays under the message size
//  limit however long the lines.

#include "unit.h"
#include "offline.h"
#include "../../actors/log-plex/log-plex.h"
#include "../../messages/msg_logbatch.h"

#include <errno.h>

#define UT_TS_MS    1795860930123LL     // 2026-11-28T10:15:30.123 UTC

static void
s_open (ut_offline_t *t)
{
    ut_offline_open (t, lpx_actor_def (), 3);
}

//  Feeds a message `type` from the CLI with `body` (ownership passes
//  here), not journaled.
static void
s_feed (ut_offline_t *t, msg_type_id_t type, json_t *body)
{
    msg_t *msg = ut_offline_msg (t, type, "cli@t1");
    msg->seq = 0;
    msg->ts = 0;
    json_decref (msg->body);
    msg->body = body;
    ut_offline_feed_take (t, &msg);
}

//  A log.batch with `packed` (ownership passes here) as its lines.
static void
s_batch_packed (ut_offline_t *t, const char *app, json_t *packed)
{
    s_feed (t, MSG_TYPE_LOG_BATCH, json_pack ("{s:s, s:o}", "app", app, "lines", packed));
    CHECK_EQ (t->count, 0);
}

//  One batch of `lines` (ownership passes here: line maps as s_line makes
//  them, `ts` in ms unless `ts_us`) for `app`, packed as producers do.
static void
s_batch (ut_offline_t *t, const char *app, json_t *lines)
{
    msg_logbatch_t packed = { 0 };
    size_t i;
    json_t *line;
    json_array_foreach (lines, i, line) {
        int64_t ts = json_integer_value (json_object_get (line, "ts"));
        if (!json_is_true (json_object_get (line, "ts_us")))
            ts *= 1000;
        json_t *text = json_object_get (line, "text");
        CHECK_EQ (msg_logbatch_add (&packed, ts, json_string_value (json_object_get (line, "source")),
                                    json_string_value (json_object_get (line, "process")),
                                    json_string_value (text), json_string_length (text)), 0);
    }
    json_decref (lines);
    s_batch_packed (t, app, msg_logbatch_take (&packed));
    msg_logbatch_release (&packed);
}

//  Appends one record to `buf` at *len with no checks (for malformed
//  batches): `text_len` bytes of text, its NUL when `nul`.
static void
s_raw (char *buf, size_t *len, int64_t ts, const char *source, const char *process,
       const char *text, uint32_t text_len, bool nul)
{
    for (int i = 0; i < 8; i++)
        buf [(*len)++] = (char) ((uint64_t) ts >> (8 * i));
    memcpy (buf + *len, source, strlen (source) + 1);
    *len += strlen (source) + 1;
    memcpy (buf + *len, process, strlen (process) + 1);
    *len += strlen (process) + 1;
    for (int i = 0; i < 4; i++)
        buf [(*len)++] = (char) (text_len >> (8 * i));
    memcpy (buf + *len, text, text_len);
    *len += text_len;
    if (nul)
        buf [(*len)++] = 0;
}

static json_t *
s_line (int64_t ts, const char *process, const char *text)
{
    return json_pack ("{s:I, s:s, s:s, s:s}", "ts", (json_int_t) ts, "source", "app",
                      "process", process, "text", text);
}

//  log.get for `app` (`n` < 0: none given): the lines, or NULL after an
//  error reply. Borrowed from the last output.
static json_t *
s_get (ut_offline_t *t, const char *app, int64_t n)
{
    json_t *body = json_pack ("{s:s}", "app", app);
    if (n >= 0)
        json_object_set_new (body, "n", json_integer ((json_int_t) n));
    s_feed (t, MSG_TYPE_LOG_GET, body);
    CHECK_EQ (t->count, 1);
    if (t->out [0]->type->id == MSG_TYPE_ERROR)
        return NULL;
    CHECK_EQ (t->out [0]->type->id, MSG_TYPE_LOG_LINES);
    CHECK_STR_EQ (msg_str (t->out [0], "app", ""), app);
    return json_object_get (t->out [0]->body, "lines");
}

static void
test_lpx_plex_store_and_get (void)
{
    ut_offline_t t;
    s_open (&t);
    s_batch (&t, "app-one", json_pack ("[o, o]", s_line (UT_TS_MS, "web.1", "hello"),
                                       s_line (UT_TS_MS + 1, "web.2", "two\nlines")));
    s_batch (&t, "app-two", json_pack ("[o]", s_line (UT_TS_MS, "api", "other app")));
    json_t *lines = s_get (&t, "app-one", -1);
    CHECK_NOT_NULL (lines);
    CHECK_EQ (json_array_size (lines), 2);
    CHECK_STR_EQ (json_string_value (json_array_get (lines, 0)),
                  "2026-11-28T10:15:30.123000+00:00 app[web.1]: hello");
    CHECK_STR_EQ (json_string_value (json_array_get (lines, 1)),
                  "2026-11-28T10:15:30.124000+00:00 app[web.2]: two\\nlines");
    //  Microseconds when the line says so.
    json_t *us = s_line (UT_TS_MS * 1000 + 7, "router", "GET /");
    json_object_set_new (us, "ts_us", json_true ());
    s_batch (&t, "app-one", json_pack ("[o]", us));
    lines = s_get (&t, "app-one", 1);
    CHECK_EQ (json_array_size (lines), 1);
    CHECK_STR_EQ (json_string_value (json_array_get (lines, 0)),
                  "2026-11-28T10:15:30.123007+00:00 app[router]: GET /");
    //  An app nobody logged for has no lines, not an error.
    lines = s_get (&t, "nope", -1);
    CHECK_NOT_NULL (lines);
    CHECK_EQ (json_array_size (lines), 0);
    ut_offline_close (&t);
}

static void
test_lpx_plex_bounds (void)
{
    ut_offline_t t;
    s_open (&t);
    for (int b = 0; b < 20; b++) {
        json_t *batch = json_array ();
        for (int i = 0; i < 100; i++) {
            char text [32];
            snprintf (text, sizeof text, "line %d", b * 100 + i);
            json_array_append_new (batch, s_line (UT_TS_MS, "web.1", text));
        }
        s_batch (&t, "app-one", batch);
    }
    //  Default 100: the newest, oldest first.
    json_t *lines = s_get (&t, "app-one", -1);
    CHECK_EQ (json_array_size (lines), 100);
    CHECK (strstr (json_string_value (json_array_get (lines, 0)), ": line 1900"));
    CHECK (strstr (json_string_value (json_array_get (lines, 99)), ": line 1999"));
    //  1500 kept of the 2000 sent.
    lines = s_get (&t, "app-one", 1500);
    CHECK_EQ (json_array_size (lines), 1500);
    CHECK (strstr (json_string_value (json_array_get (lines, 0)), ": line 500"));
    //  Out of range: refused.
    CHECK_NULL (s_get (&t, "app-one", 1501));
    CHECK (strstr (msg_str (t.out [0], "reason", ""), "1 to 1500"));
    CHECK_NULL (s_get (&t, "app-one", 0));
    ut_offline_close (&t);
}

static void
test_lpx_plex_packed (void)
{
    //  The producers' builder and the reader agree, byte for byte.
    msg_logbatch_t packed = { 0 };
    CHECK_EQ (msg_logbatch_add (&packed, -5, "dynod", "api", "a\0b", 3), 0);
    CHECK_EQ (msg_logbatch_add (&packed, INT64_MAX, "app", "web.1", "", 0), 0);
    //  Bad names never enter a batch.
    CHECK_EQ (msg_logbatch_add (&packed, 1, "heroku", "web.1", "x", 1), -EINVAL);
    CHECK_EQ (msg_logbatch_add (&packed, 1, "app", "web 1", "x", 1), -EINVAL);
    CHECK_EQ (msg_logbatch_add (&packed, 1, "app", "", "x", 1), -EINVAL);
    CHECK_EQ (packed.lines, 2);
    json_t *body = json_pack ("{s:o}", "lines", msg_logbatch_take (&packed));
    CHECK_EQ (packed.lines, 0);
    msg_logbatch_release (&packed);
    const json_t *lines = json_object_get (body, "lines");
    char why [128];
    CHECK_EQ (msg_logbatch_check (json_string_value (lines), json_string_length (lines), why,
                                  sizeof why), 2);
    msg_logline_t line;
    CHECK (msg_logbatch_get (body, 0, &line));
    CHECK_EQ (line.ts_us, -5);
    CHECK_STR_EQ (line.source, "dynod");
    CHECK_STR_EQ (line.process, "api");
    CHECK_EQ (line.text_len, 3);
    CHECK (memcmp (line.text, "a\0b", 4) == 0);
    CHECK (msg_logbatch_get (body, 1, &line));
    CHECK_EQ (line.ts_us, INT64_MAX);
    CHECK_STR_EQ (line.process, "web.1");
    CHECK_EQ (line.text_len, 0);
    CHECK (!msg_logbatch_get (body, 2, &line));
    json_decref (body);
}

//  A batch of `len` bytes at `buf` must be refused whole with a reason
//  holding `reason`; `refused` is how many have been so far, this one in.
static void
s_refused (ut_offline_t *t, const char *buf, size_t len, const char *reason, int refused)
{
    s_batch_packed (t, "app-one", json_stringn_nocheck (buf, len));
    json_t *detail = json_object ();
    lpx_actor_def ()->status (ut_offline_state (t), detail);
    CHECK_EQ (json_integer_value (json_object_get (detail, "batches_bad")), refused);
    CHECK_EQ (json_integer_value (json_object_get (detail, "lines_in")), 1);
    const char *why = json_string_value (json_object_get (detail, "bad_reason"));
    CHECK_NOT_NULL (why);
    if (!strstr (why, reason))
        fprintf (stderr, "reason '%s' lacks '%s'\n", why, reason);
    CHECK (strstr (why, reason) != NULL);
    json_decref (detail);
}

static void
test_lpx_plex_malformed_batches (void)
{
    ut_offline_t t;
    s_open (&t);
    s_batch (&t, "app-one", json_pack ("[o]", s_line (UT_TS_MS, "web.1", "good")));
    //  Each batch below starts with a good line and has one bad record:
    //  refused whole, so the good line is not kept either.
    char buf [512];
    size_t len = 0;
    s_raw (buf, &len, UT_TS_MS * 1000, "app", "web.1", "kept?", 5, true);
    size_t good = len;
    s_raw (buf, &len, UT_TS_MS * 1000, "heroku", "web.1", "x", 1, true);
    s_refused (&t, buf, len, "source other than app or dynod", 1);
    //  A process that would forge a prefix.
    len = good;
    s_raw (buf, &len, UT_TS_MS * 1000, "app", "web.1]: app[web.2", "forged", 6, true);
    s_refused (&t, buf, len, "process name", 2);
    len = good;
    s_raw (buf, &len, UT_TS_MS * 1000, "app", "", "no name", 7, true);
    s_refused (&t, buf, len, "process name", 3);
    //  A text without its NUL, a length past the end, a record cut short.
    len = good;
    s_raw (buf, &len, UT_TS_MS * 1000, "app", "web.1", "abc", 3, false);
    buf [len++] = 'x';
    s_refused (&t, buf, len, "without its NUL", 4);
    len = good;
    s_raw (buf, &len, UT_TS_MS * 1000, "app", "web.1", "abc", 3, true);
    buf [len - 8] = 9;          // the length says 9 bytes: 4 are left
    s_refused (&t, buf, len, "longer than the bytes left", 5);
    s_refused (&t, buf, good + 5, "cut short in its time", 6);
    s_refused (&t, buf, good + 8 + 4 + 2, "process without its NUL", 7);
    //  A name running past 64 bytes finds no NUL in reach.
    len = good;
    char long_name [80];
    memset (long_name, 'a', 70);
    long_name [70] = 0;
    s_raw (buf, &len, UT_TS_MS * 1000, "app", long_name, "x", 1, true);
    s_refused (&t, buf, len, "over 64 bytes", 8);
    //  No line at all; a `lines` that is not bytes.
    s_refused (&t, buf, 0, "holds no line", 9);
    s_feed (&t, MSG_TYPE_LOG_BATCH, json_pack ("{s:s, s:[]}", "app", "app-one", "lines"));
    CHECK_EQ (t.count, 0);
    //  Only the first good line was kept.
    json_t *lines = s_get (&t, "app-one", -1);
    CHECK_EQ (json_array_size (lines), 1);
    CHECK_STR_EQ (json_string_value (json_array_get (lines, 0)),
                  "2026-11-28T10:15:30.123000+00:00 app[web.1]: good");
    //  An app name that is not one: refused whole.
    s_batch (&t, "Bad/App", json_pack ("[o]", s_line (UT_TS_MS, "web.1", "x")));
    //  Counted in the status figures.
    json_t *detail = json_object ();
    lpx_actor_def ()->status (ut_offline_state (&t), detail);
    CHECK_EQ (json_integer_value (json_object_get (detail, "lines_in")), 1);
    CHECK_EQ (json_integer_value (json_object_get (detail, "batches_bad")), 10);
    CHECK_STR_EQ (json_string_value (json_object_get (detail, "bad_reason")),
                  "the lines field is not bytes");
    CHECK_EQ (json_integer_value (json_object_get (detail, "lines_refused")), 1);
    CHECK_EQ (json_integer_value (json_object_get (detail, "apps")), 1);
    CHECK_EQ (json_integer_value (json_object_get (detail, "tails")), 0);
    json_decref (detail);
    ut_offline_close (&t);
}

//  log.get with filters (`body` adds them; ownership passes here): the
//  lines, or NULL after an error reply.
static json_t *
s_get_filtered (ut_offline_t *t, const char *app, json_t *body)
{
    json_object_set_new (body, "app", json_string (app));
    s_feed (t, MSG_TYPE_LOG_GET, body);
    CHECK_EQ (t->count, 1);
    if (t->out [0]->type->id == MSG_TYPE_ERROR)
        return NULL;
    return json_object_get (t->out [0]->body, "lines");
}

static void
test_lpx_plex_filters_and_split (void)
{
    ut_offline_t t;
    s_open (&t);
    json_t *router = s_line (UT_TS_MS, "router", "GET /");
    json_object_set_new (router, "source", json_string ("dynod"));
    s_batch (&t, "app-one", json_pack ("[o, o, o, o]", s_line (UT_TS_MS, "web.1", "w1"),
                                       s_line (UT_TS_MS, "web.2", "w2"),
                                       s_line (UT_TS_MS, "worker.1", "k1"), router));
    json_t *lines = s_get_filtered (&t, "app-one", json_pack ("{s:s}", "source", "dynod"));
    CHECK_EQ (json_array_size (lines), 1);
    CHECK (strstr (json_string_value (json_array_get (lines, 0)), "dynod[router]: GET /"));
    lines = s_get_filtered (&t, "app-one", json_pack ("{s:s}", "ps", "web"));
    CHECK_EQ (json_array_size (lines), 2);
    lines = s_get_filtered (&t, "app-one", json_pack ("{s:s, s:s}", "ps", "web", "dyno", "web.2"));
    CHECK_EQ (json_array_size (lines), 1);
    CHECK (strstr (json_string_value (json_array_get (lines, 0)), "app[web.2]: w2"));
    lines = s_get_filtered (&t, "app-one", json_pack ("{s:s, s:I}", "source", "app", "n", 1));
    CHECK_EQ (json_array_size (lines), 1);
    CHECK (strstr (json_string_value (json_array_get (lines, 0)), "worker.1]: k1"));
    //  Bad filters: refused with the reason.
    CHECK_NULL (s_get_filtered (&t, "app-one", json_pack ("{s:s}", "source", "heroku")));
    CHECK (strstr (msg_str (t.out [0], "reason", ""), "source"));
    CHECK_NULL (s_get_filtered (&t, "app-one", json_pack ("{s:s}", "ps", "web.1")));
    CHECK_NULL (s_get_filtered (&t, "app-one", json_pack ("{s:s}", "dyno", "a b")));
    //  A 25,000-byte text becomes three lines.
    char *text = malloc (25001);
    memset (text, 'q', 25000);
    text [25000] = 0;
    s_batch (&t, "app-two", json_pack ("[o]", s_line (UT_TS_MS, "web.1", text)));
    free (text);
    lines = s_get (&t, "app-two", -1);
    CHECK_EQ (json_array_size (lines), 3);
    size_t prefix = strlen ("2026-11-28T10:15:30.123000+00:00 app[web.1]: ");
    CHECK_EQ (strlen (json_string_value (json_array_get (lines, 0))), prefix + 10000);
    CHECK_EQ (strlen (json_string_value (json_array_get (lines, 2))), prefix + 5000);
    ut_offline_close (&t);
}

static void
test_lpx_plex_token (void)
{
    ut_offline_t t;
    s_open (&t);
    s_feed (&t, MSG_TYPE_LOG_TOKEN, json_pack ("{s:s}", "app", "app-one"));
    msg_t *reply = ut_offline_out (&t, MSG_TYPE_LOG_TOKEN_REPLY);
    CHECK_NOT_NULL (reply);
    char token [64];
    snprintf (token, sizeof token, "%s", msg_str (reply, "token", ""));
    CHECK_EQ (strlen (token), 32);
    CHECK_EQ (strspn (token, "0123456789abcdef"), 32);
    //  The same token the next time.
    s_feed (&t, MSG_TYPE_LOG_TOKEN, json_pack ("{s:s}", "app", "app-one"));
    CHECK_STR_EQ (msg_str (ut_offline_out (&t, MSG_TYPE_LOG_TOKEN_REPLY), "token", ""), token);
    //  Another app, another token; a bad name refused.
    s_feed (&t, MSG_TYPE_LOG_TOKEN, json_pack ("{s:s}", "app", "app-two"));
    CHECK (strcmp (msg_str (ut_offline_out (&t, MSG_TYPE_LOG_TOKEN_REPLY), "token", ""), token));
    s_feed (&t, MSG_TYPE_LOG_TOKEN, json_pack ("{s:s}", "app", "../x"));
    CHECK_NOT_NULL (ut_offline_out (&t, MSG_TYPE_ERROR));
    ut_offline_close (&t);
}

//  1500 lines of 10 kB do not fit one message: the reply holds the newest
//  that do, and encodes.
static void
test_lpx_plex_reply_fits (void)
{
    ut_offline_t t;
    s_open (&t);
    char *text = malloc (10001);
    memset (text, 'z', 10000);
    text [10000] = 0;
    for (int b = 0; b < 15; b++) {
        json_t *batch = json_array ();
        for (int i = 0; i < 10; i++)
            json_array_append_new (batch, s_line (UT_TS_MS + b * 10 + i, "web.1", text));
        s_batch (&t, "big", batch);
    }
    free (text);
    json_t *lines = s_get (&t, "big", 1500);
    CHECK (json_array_size (lines) > 50);
    CHECK (json_array_size (lines) < 150);
    //  The newest is last.
    CHECK (strstr (json_string_value (json_array_get (lines, json_array_size (lines) - 1)),
                   "10:15:30.272000"));
    char *buf;
    size_t len;
    CHECK_OK (msg_encode (t.out [0], &buf, &len, NULL));
    CHECK (len <= MSG_MAX_SIZE);
    free (buf);
    ut_offline_close (&t);
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_lpx_plex_store_and_get),
    UNIT_TEST (test_lpx_plex_bounds),
    UNIT_TEST (test_lpx_plex_packed),
    UNIT_TEST (test_lpx_plex_malformed_batches),
    UNIT_TEST (test_lpx_plex_reply_fits),
    UNIT_TEST (test_lpx_plex_filters_and_split),
    UNIT_TEST (test_lpx_plex_token),
};

UNIT_SUITE (unit_suite_lpx_plex, s_tests);
