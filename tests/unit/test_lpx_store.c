//  test_lpx_store - unit tests for log-plex's history on disk and the hub
//
//  Covers actors/log-plex/store.h: lines and tokens written, closed,
//  reopened and read back per app in seq order; the newest `slots` lines
//  kept when more were written (slots overwritten, nothing to trim); an
//  app dropped with staged lines not yet flushed; lines written by the
//  writer thread ordered before later writes. And hub.h: appends fed
//  to the hand-off queue only with a consumer attached, history copies
//  with filters and a byte budget, token checks (API token, own token,
//  another app's, none, unknown app), the queue's bound carrying the lost
//  count, and a drop queued as news.

#include "unit.h"
#include "../../actors/log-plex/hub.h"
#include "../../actors/log-plex/store.h"

#include <stdlib.h>

typedef struct {
    char lines [64][64];
    uint64_t seqs [64];
    size_t count;
    char token [64];
} ut_loaded_t;

static void
s_line (void *arg, const char *app, uint64_t seq, const char *line, size_t len)
{
    ut_loaded_t *l = arg;
    CHECK (l->count < 64);
    snprintf (l->lines [l->count], 64, "%s:%.*s", app, (int) len, line);
    l->seqs [l->count++] = seq;
}

static void
s_token (void *arg, const char *app, const char *token)
{
    ut_loaded_t *l = arg;
    snprintf (l->token, sizeof l->token, "%s=%s", app, token);
}

static lpx_store_t *
s_open (const char *dir)
{
    char reason [256];
    int rc = 0;
    lpx_store_t *store = lpx_store_open (dir, 4, &rc, reason, sizeof reason);
    if (!store)
        UNIT_FAIL ("%s", reason);
    return store;
}

static void
test_lpx_store_roundtrip (void)
{
    char dir [512];
    snprintf (dir, sizeof dir, "%s/log-plex", unit_tmpdir ());
    lpx_store_t *store = s_open (dir);
    char text [16];
    //  Six lines into four slots: 2..5 survive; another app's two lines.
    for (uint64_t seq = 0; seq < 6; seq++) {
        snprintf (text, sizeof text, "line %d", (int) seq);
        lpx_store_put_line (store, "app-b", seq, text, strlen (text));
    }
    lpx_store_put_line (store, "app-a", 7, "a7", 2);
    lpx_store_put_line (store, "app-a", 8, "a8", 2);
    CHECK (lpx_store_staged (store) > 0);
    CHECK_OK (lpx_store_flush (store));
    CHECK_EQ (lpx_store_staged (store), 0);
    CHECK_OK (lpx_store_put_token (store, "app-b", "tok"));
    lpx_store_close (&store);
    store = s_open (dir);
    ut_loaded_t loaded = { .count = 0 };
    CHECK_OK (lpx_store_load (store, s_line, s_token, &loaded));
    CHECK_EQ (loaded.count, 6);
    CHECK_STR_EQ (loaded.lines [0], "app-a:a7");
    CHECK_STR_EQ (loaded.lines [1], "app-a:a8");
    CHECK_STR_EQ (loaded.lines [2], "app-b:line 2");
    CHECK_STR_EQ (loaded.lines [5], "app-b:line 5");
    CHECK_EQ (loaded.seqs [5], 5);
    CHECK_STR_EQ (loaded.token, "app-b=tok");
    //  Dropped with a line staged: nothing of app-b comes back.
    lpx_store_put_line (store, "app-b", 6, "staged", 6);
    CHECK_OK (lpx_store_drop_app (store, "app-b"));
    lpx_store_close (&store);
    store = s_open (dir);
    memset (&loaded, 0, sizeof loaded);
    CHECK_OK (lpx_store_load (store, s_line, s_token, &loaded));
    CHECK_EQ (loaded.count, 2);
    CHECK_STR_EQ (loaded.token, "");
    lpx_store_close (&store);
}

//  Lines flushed through the writer thread (lpx_store_flush_lines) land
//  before a later synchronous write: a drop after an asynchronous flush
//  leaves nothing of the app, a token after one keeps the lines; of many
//  lines staged in one flush only the newest `slots` per app are kept.
static void
test_lpx_store_writer (void)
{
    char dir [512];
    snprintf (dir, sizeof dir, "%s/log-plex-writer", unit_tmpdir ());
    lpx_store_t *store = s_open (dir);
    char text [32];
    for (uint64_t seq = 0; seq < 100; seq++) {
        snprintf (text, sizeof text, "a%d", (int) seq);
        lpx_entry_t *entry = lpx_entry_new (text, strlen (text));
        lpx_store_put_entry (store, "app-a", seq, entry);
        lpx_entry_unref (&entry);
        lpx_store_put_line (store, "app-b", seq, text, strlen (text));
        if (seq % 10 == 9)
            CHECK_OK (lpx_store_flush_lines (store));
    }
    CHECK_EQ (lpx_store_staged (store), 0);
    CHECK_OK (lpx_store_drop_app (store, "app-b"));
    lpx_store_put_line (store, "app-a", 100, "a100", 4);
    CHECK_OK (lpx_store_flush_lines (store));
    CHECK_OK (lpx_store_put_token (store, "app-a", "tok"));
    lpx_store_close (&store);
    store = s_open (dir);
    ut_loaded_t loaded = { .count = 0 };
    CHECK_OK (lpx_store_load (store, s_line, s_token, &loaded));
    CHECK_EQ (loaded.count, 4);
    CHECK_STR_EQ (loaded.lines [0], "app-a:a97");
    CHECK_STR_EQ (loaded.lines [3], "app-a:a100");
    CHECK_EQ (loaded.seqs [3], 100);
    CHECK_STR_EQ (loaded.token, "app-a=tok");
    lpx_store_close (&store);
}

static lpx_entry_t *
s_entry (const char *text)
{
    return lpx_entry_new (text, strlen (text));
}

static void
s_wake (void *arg)
{
    (*(int *) arg)++;
}

static void
test_lpx_hub (void)
{
    lpx_hub_t *hub = lpx_hub_new ("api-secret");
    lpx_entry_t *batch [3] = {
        s_entry ("2026-11-28T10:15:30.123000+00:00 app[web.1]: one"),
        s_entry ("2026-11-28T10:15:30.123000+00:00 dynod[router]: two"),
        s_entry ("2026-11-28T10:15:30.123000+00:00 app[web.2]: three"),
    };
    uint64_t seq = 99;
    //  No consumer: nothing queued.
    CHECK_OK (lpx_hub_append (hub, "app-a", batch, 3, &seq));
    CHECK_EQ (seq, 0);
    CHECK_NULL (lpx_hub_take (hub));
    int woken = 0;
    lpx_hub_attach (hub, s_wake, &woken);
    batch [0] = s_entry ("2026-11-28T10:15:30.123000+00:00 app[web.1]: four");
    CHECK_OK (lpx_hub_append (hub, "app-a", batch, 1, &seq));
    CHECK_EQ (seq, 3);
    CHECK_EQ (woken, 1);
    lpx_handoff_t *list = lpx_hub_take (hub);
    CHECK_NOT_NULL (list);
    CHECK_STR_EQ (list->app, "app-a");
    CHECK_EQ (list->count, 1);
    CHECK_NULL (list->next);
    lpx_handoff_destroy (&list);
    //  History: filtered, newest n, oldest first, within the budget.
    lpx_filter_t f;
    const char *why;
    CHECK_OK (lpx_filter_init (&f, "app", NULL, NULL, &why));
    lpx_entry_t *out [4];
    bool known = false;
    size_t n = lpx_hub_history (hub, "app-a", &f, 4, 1 << 20, 0, out, &known);
    CHECK (known);
    CHECK_EQ (n, 3);
    CHECK (strstr (out [0]->text, ": one"));
    CHECK (strstr (out [2]->text, ": four"));
    for (size_t i = 0; i < n; i++)
        lpx_entry_unref (&out [i]);
    n = lpx_hub_history (hub, "app-a", &f, 2, 60, 0, out, NULL);
    CHECK_EQ (n, 1);
    CHECK (strstr (out [0]->text, ": four"));
    lpx_entry_unref (&out [0]);
    CHECK_EQ (lpx_hub_history (hub, "app-z", &f, 2, 1 << 20, 0, out, &known), 0);
    CHECK (!known);
    //  Tokens.
    CHECK_OK (lpx_hub_token_set (hub, "app-a", "tok-a"));
    CHECK_OK (lpx_hub_token_set (hub, "app-b", "tok-b"));
    CHECK_OK (lpx_hub_check (hub, "app-a", "tok-a"));
    CHECK_OK (lpx_hub_check (hub, "app-a", "api-secret"));
    CHECK_EQ (lpx_hub_check (hub, "app-a", "tok-b"), LPX_AUTH_WRONG);
    CHECK_EQ (lpx_hub_check (hub, "app-a", "tok-a "), LPX_AUTH_WRONG);
    CHECK_EQ (lpx_hub_check (hub, "app-a", "tok"), LPX_AUTH_WRONG);
    CHECK_EQ (lpx_hub_check (hub, "app-a", ""), LPX_AUTH_MISSING);
    CHECK_EQ (lpx_hub_check (hub, "app-a", NULL), LPX_AUTH_MISSING);
    CHECK_EQ (lpx_hub_check (hub, "app-z", "api-secret"), LPX_AUTH_NO_APP);
    CHECK_EQ (lpx_hub_check (hub, "app-z", "tok-a"), LPX_AUTH_WRONG);
    char token [LPX_TOKEN_LEN + 1];
    CHECK (lpx_hub_token (hub, "app-b", token));
    CHECK_STR_EQ (token, "tok-b");
    //  Dropped: forgotten, and the news queued.
    CHECK (lpx_hub_drop (hub, "app-b"));
    CHECK (!lpx_hub_drop (hub, "app-b"));
    CHECK (!lpx_hub_token (hub, "app-b", token));
    list = lpx_hub_take (hub);
    CHECK_NOT_NULL (list);
    CHECK (list->dropped);
    CHECK_STR_EQ (list->app, "app-b");
    lpx_handoff_destroy (&list);
    //  Detached: the queue is emptied, appends no longer queue.
    lpx_hub_attach (hub, NULL, NULL);
    batch [0] = s_entry ("x");
    CHECK_OK (lpx_hub_append (hub, "app-a", batch, 1, &seq));
    CHECK_NULL (lpx_hub_take (hub));
    lpx_hub_destroy (&hub);
    CHECK_NULL (hub);
}

static void
test_lpx_hub_queue_bound (void)
{
    lpx_hub_t *hub = lpx_hub_new (NULL);
    int woken = 0;
    lpx_hub_attach (hub, s_wake, &woken);
    //  Past LPX_HANDOFF_LINES_MAX the oldest batches go; the app's next
    //  batch says how many of its lines were lost.
    size_t per = 1000, batches = LPX_HANDOFF_LINES_MAX / per + 5;
    lpx_entry_t **batch = calloc (per, sizeof *batch);
    uint64_t seq;
    for (size_t b = 0; b < batches; b++) {
        for (size_t i = 0; i < per; i++)
            batch [i] = s_entry ("line");
        CHECK_OK (lpx_hub_append (hub, "app-a", batch, per, &seq));
    }
    free (batch);
    lpx_handoff_t *list = lpx_hub_take (hub);
    size_t lines = 0, lost = 0;
    for (lpx_handoff_t *item = list; item; item = item->next) {
        lines += item->count;
        lost += item->lost;
    }
    CHECK_EQ (lines, LPX_HANDOFF_LINES_MAX);
    CHECK_EQ (lost, 5 * per);
    size_t apps, bytes;
    uint64_t total_lost;
    lpx_hub_figures (hub, &apps, &bytes, &total_lost);
    CHECK_EQ (total_lost, 5 * per);
    CHECK_EQ (apps, 1);
    lpx_handoff_destroy (&list);
    lpx_hub_destroy (&hub);
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_lpx_store_roundtrip),
    UNIT_TEST (test_lpx_store_writer),
    UNIT_TEST (test_lpx_hub),
    UNIT_TEST (test_lpx_hub_queue_bound),
};

UNIT_SUITE (unit_suite_lpx_store, s_tests);
