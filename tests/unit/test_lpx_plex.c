//  test_lpx_plex - log-plex's store driven offline
//
//  Runs the real log-plex definition under act_offline and feeds it
//  log.batch and log.get as they come from the actors and the CLI: lines
//  formatted and kept per app, oldest first, at most 1,500 per app with
//  the oldest dropped, `n` defaulted, bounded and refused out of range,
//  ms and us timestamps, malformed lines dropped and counted, unknown apps
//  answered with no lines, and a reply that stays under the message size
//  limit however long the lines.

#include "unit.h"
#include "offline.h"
#include "../../actors/log-plex/log-plex.h"

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

//  One batch of `lines` (ownership passes here) for `app`.
static void
s_batch (ut_offline_t *t, const char *app, json_t *lines)
{
    s_feed (t, MSG_TYPE_LOG_BATCH, json_pack ("{s:s, s:o}", "app", app, "lines", lines));
    CHECK_EQ (t->count, 0);
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
test_lpx_plex_malformed_lines (void)
{
    ut_offline_t t;
    s_open (&t);
    //  Not a map, no ts, no text, no source and process (no defaults: a
    //  line must say who it is), a source other than app/dynod, a process
    //  that would forge a prefix: each dropped; one good line kept.
    json_t *forged = s_line (UT_TS_MS, "web.1]: app[web.2", "forged");
    json_t *heroku = s_line (UT_TS_MS, "web.1", "heroku");
    json_object_set_new (heroku, "source", json_string ("heroku"));
    s_batch (&t, "app-one", json_pack ("[s, {s:s}, {s:I}, o, {s:I, s:s}, o, o]", "not a map",
                                       "text", "no ts", "ts", (json_int_t) 1,
                                       s_line (UT_TS_MS, "web.1", "good"),
                                       "ts", (json_int_t) UT_TS_MS, "text", "no names",
                                       forged, heroku));
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
    CHECK_EQ (json_integer_value (json_object_get (detail, "lines_bad")), 6);
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
    UNIT_TEST (test_lpx_plex_malformed_lines),
    UNIT_TEST (test_lpx_plex_reply_fits),
    UNIT_TEST (test_lpx_plex_filters_and_split),
    UNIT_TEST (test_lpx_plex_token),
};

UNIT_SUITE (unit_suite_lpx_plex, s_tests);
