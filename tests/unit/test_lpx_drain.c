//  test_lpx_drain - unit tests for log drains
//
//  Covers actors/log-plex/drain_url.h (URLs accepted and refused, the RFC
//  5424 octet-counted frame of a formatted line, the L10 frame, tokens),
//  drain.h (the per-app limit, duplicates, the list sorted by URL, remove,
//  drop_app; a drain whose receiver refuses connections keeps the newest
//  1,024 lines and counts the rest as dropped, without blocking the
//  caller) and the drain rows of store.h (put, load, drop).

#include "unit.h"
#include "../../actors/log-plex/drain.h"
#include "../../actors/log-plex/line.h"
#include "../../actors/log-plex/store.h"
#include "../../actors/common/act_base.h"

#include <errno.h>

static int
s_parse (const char *url, lpx_drain_url_t *out)
{
    char why [256];
    return lpx_drain_url_parse (url, out, why, sizeof why);
}

static void
test_lpx_drain_urls (void)
{
    lpx_drain_url_t u;
    CHECK_OK (s_parse ("syslog://logs.example.com:514", &u));
    CHECK_EQ (u.scheme, LPX_DRAIN_SYSLOG);
    CHECK_STR_EQ (u.host, "logs.example.com");
    CHECK_EQ (u.port, 514);
    CHECK_OK (s_parse ("syslog+tls://10.1.2.3:6514", &u));
    CHECK_EQ (u.scheme, LPX_DRAIN_SYSLOG_TLS);
    CHECK_OK (s_parse ("https://user:pass@logs.example.com/in?x=1", &u));
    CHECK_EQ (u.scheme, LPX_DRAIN_HTTPS);
    CHECK_STR_EQ (u.host, "logs.example.com");
    CHECK_EQ (u.port, 0);
    CHECK_OK (s_parse ("https://h.example.com:8443", &u));
    CHECK_EQ (u.port, 8443);
    CHECK_OK (s_parse ("http://127.0.0.1:9000/x", &u));
    CHECK_OK (s_parse ("http://localhost/x", &u));
    static const char *bad [] = {
        "", "ftp://h:1", "syslog://h", "syslog://h:", "syslog://h:0", "syslog://h:65536",
        "syslog://h:12x", "syslog://u:p@h:514", "syslog://h:514/path", "syslog://h:514?q",
        "syslog://:514", "https://", "https://exa_mple.com/", "https://h .com/",
        "https://h.com/#frag", "http://example.com/", "http://10.0.0.1/", "https://[::1]/",
        "https://..h/", "https://.h/", "https://h/\x01", "SYSLOG://h:1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        char why [256] = "";
        if (lpx_drain_url_parse (bad [i], &u, why, sizeof why) != -EINVAL)
            UNIT_FAIL ("'%s' was accepted", bad [i]);
        CHECK (why [0] && !strchr (why, '\n'));
    }
    char long_url [600] = "https://h.com/";
    memset (long_url + 14, 'a', 520);
    long_url [534] = 0;
    CHECK_EQ (s_parse (long_url, &u), -EINVAL);
}

static void
test_lpx_drain_frames (void)
{
    const char *token = "d.01234567-89ab-4cde-8f01-23456789abcd";
    size_t len;
    char *line = lpx_line_format (1795860930123456LL, "app", "web.1", "hello  world", 12, &len);
    char out [512];
    size_t n = lpx_drain_frame (line, len, token, out, sizeof out);
    const char *want_msg = "<190>1 2026-11-28T10:15:30.123456+00:00 "
                           "d.01234567-89ab-4cde-8f01-23456789abcd app web.1 - - hello  world";
    char want [512];
    snprintf (want, sizeof want, "%zu %s", strlen (want_msg), want_msg);
    CHECK_EQ (n, strlen (want));
    out [n] = 0;
    CHECK_STR_EQ (out, want);
    CHECK (n <= LPX_DRAIN_FRAME_MAX (len));
    //  Too small a buffer, or a line that does not parse: nothing.
    CHECK_EQ (lpx_drain_frame (line, len, token, out, n - 1), 0);
    CHECK_EQ (lpx_drain_frame ("garbage", 7, token, out, sizeof out), 0);
    free (line);
    //  Text holding "]: " and brackets: the first "]: " ends the process.
    line = lpx_line_format (0, "dynod", "router", "a]: b [c]", 9, &len);
    n = lpx_drain_frame (line, len, token, out, sizeof out);
    out [n] = 0;
    CHECK (strstr (out, " dynod router - - a]: b [c]") != NULL);
    free (line);
    n = lpx_drain_frame_l10 (76, 0, 1000000, token, out, sizeof out);
    out [n] = 0;
    CHECK (strstr (out, "<190>1 1970-01-01T00:00:01.000000+00:00 d.") != NULL);
    CHECK (strstr (out, " dynod log-plex - - Error L10 (output buffer overflow): 76 messages "
                        "dropped since 1970-01-01T00:00:00.000000+00:00") != NULL);
    char uuid [37], other [37];
    CHECK_OK (lpx_drain_uuid (uuid));
    CHECK_OK (lpx_drain_uuid (other));
    CHECK_EQ (strlen (uuid), 36);
    CHECK (uuid [14] == '4' && strchr ("89ab", uuid [19]));
    CHECK (strcmp (uuid, other) != 0);
}

static void
test_lpx_drain_set (void)
{
    lpx_drains_t *drains = lpx_drains_new (NULL);
    char why [256];
    //  Port 1 on loopback refuses connections: the drains fail quickly.
    CHECK_OK (lpx_drains_add (drains, "app-one", "syslog://127.0.0.1:1", "d.a", why, sizeof why));
    CHECK_EQ (lpx_drains_add (drains, "app-one", "syslog://127.0.0.1:1", "d.b", why, sizeof why),
              -EEXIST);
    CHECK_EQ (lpx_drains_add (drains, "app-one", "gopher://x", "d.b", why, sizeof why), -EINVAL);
    CHECK_OK (lpx_drains_add (drains, "app-one", "http://127.0.0.1:1/b", "d.b", why, sizeof why));
    CHECK_OK (lpx_drains_add (drains, "app-one", "http://127.0.0.1:1/a", "d.c", why, sizeof why));
    CHECK_OK (lpx_drains_add (drains, "app-one", "http://127.0.0.1:1/c", "d.d", why, sizeof why));
    CHECK_OK (lpx_drains_add (drains, "app-one", "http://127.0.0.1:1/d", "d.e", why, sizeof why));
    CHECK_EQ (lpx_drains_add (drains, "app-one", "http://127.0.0.1:1/e", "d.f", why, sizeof why),
              ACT_EFULL);
    CHECK (strstr (why, "5 drains") != NULL);
    CHECK_OK (lpx_drains_add (drains, "app-two", "http://127.0.0.1:1/a", "d.g", why, sizeof why));
    CHECK_EQ (lpx_drains_count (drains, "app-one"), 5);
    json_t *list = lpx_drains_list (drains, "app-one");
    CHECK_EQ (json_array_size (list), 5);
    CHECK_STR_EQ (json_string_value (json_object_get (json_array_get (list, 0), "url")),
                  "http://127.0.0.1:1/a");
    CHECK_STR_EQ (json_string_value (json_object_get (json_array_get (list, 4), "token")), "d.a");
    json_decref (list);
    CHECK_EQ (lpx_drains_remove (drains, "app-one", "http://127.0.0.1:1/zz"), -ENOENT);
    CHECK_OK (lpx_drains_remove (drains, "app-one", "http://127.0.0.1:1/d"));
    CHECK_EQ (lpx_drains_count (drains, "app-one"), 4);
    CHECK_EQ (lpx_drains_drop_app (drains, "app-two"), 1);
    CHECK_EQ (lpx_drains_count (drains, "app-two"), 0);
    lpx_drains_reap (drains);
    lpx_drains_destroy (&drains);
    CHECK_NULL (drains);
}

static void
test_lpx_drain_overflow (void)
{
    lpx_drains_t *drains = lpx_drains_new (NULL);
    char why [256];
    CHECK_OK (lpx_drains_add (drains, "app-one", "syslog://127.0.0.1:1", "d.a", why, sizeof why));
    //  Lines of another app never reach it; 1,100 of its own keep 1,024.
    lpx_entry_t *entries [1100];
    for (int i = 0; i < 1100; i++) {
        char text [64];
        int n = snprintf (text, sizeof text, "2026-11-28T10:15:30.123456+00:00 app[web.1]: %d", i);
        entries [i] = lpx_entry_new (text, (size_t) n);
    }
    lpx_drains_push (drains, "app-two", entries, 1100);
    int64_t start = act_mono_ms ();
    lpx_drains_push (drains, "app-one", entries, 1100);
    CHECK (act_mono_ms () - start < 500);
    for (int i = 0; i < 1100; i++)
        lpx_entry_unref (&entries [i]);
    size_t count;
    uint64_t sent, dropped;
    lpx_drains_figures (drains, &count, &sent, &dropped);
    CHECK_EQ (count, 1);
    CHECK_EQ (sent, 0);
    CHECK_EQ (dropped, 76);
    lpx_drains_destroy (&drains);
}

static void
s_seen (void *arg, const char *app, const char *url, const char *token)
{
    char *key = act_sprintf ("%s %s", app, url);
    json_object_set_new (arg, key, json_string (token));
    free (key);
}

static void
test_lpx_drain_store (void)
{
    char dir [512];
    snprintf (dir, sizeof dir, "%s/log-plex-drains", unit_tmpdir ());
    char reason [512];
    int rc = 0;
    lpx_store_t *store = lpx_store_open (dir, 10, &rc, reason, sizeof reason);
    CHECK_NOT_NULL (store);
    CHECK_OK (lpx_store_put_drain (store, "app-one", "syslog://h:1", "d.x"));
    CHECK_OK (lpx_store_put_drain (store, "app-one", "https://h/p", "d.y"));
    CHECK_OK (lpx_store_put_drain (store, "app-two", "syslog://h:2", "d.z"));
    CHECK_OK (lpx_store_put_token (store, "app-one", "tok"));
    CHECK_OK (lpx_store_drop_drain (store, "app-one", "syslog://h:1"));
    lpx_store_close (&store);
    store = lpx_store_open (dir, 10, &rc, reason, sizeof reason);
    CHECK_NOT_NULL (store);
    json_t *seen = json_object ();
    CHECK_OK (lpx_store_load_drains (store, s_seen, seen));
    CHECK_EQ (json_object_size (seen), 2);
    CHECK_STR_EQ (json_string_value (json_object_get (seen, "app-one https://h/p")), "d.y");
    CHECK_STR_EQ (json_string_value (json_object_get (seen, "app-two syslog://h:2")), "d.z");
    json_decref (seen);
    lpx_store_close (&store);
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_lpx_drain_urls),
    UNIT_TEST (test_lpx_drain_frames),
    UNIT_TEST (test_lpx_drain_set),
    UNIT_TEST (test_lpx_drain_overflow),
    UNIT_TEST (test_lpx_drain_store),
};

UNIT_SUITE (unit_suite_lpx_drain, s_tests);
