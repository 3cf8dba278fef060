//  test_lpx_request - unit tests for the rules of log-plex's HTTP surface
//
//  Covers actors/log-plex/request.h: the paths (the websocket, the page's
//  files, the redirect) and the tricks refused (`..`, `%`, `//`,
//  backslashes, a second app name, trailing junk, bad app names); query
//  arguments (defaults, bounds, unknown and repeated names, filters);
//  tokens from the query or a Bearer header; the Origin allow-list.

#include "unit.h"
#include "../../actors/log-plex/request.h"

static void
test_lpx_request_paths (void)
{
    lpx_request_t r;
    lpx_request_init (&r);
    CHECK_OK (lpx_request_path (&r, "/apps/my-app/logs"));
    CHECK_EQ (r.kind, LPX_REQ_LOGS);
    CHECK_STR_EQ (r.app, "my-app");
    CHECK_EQ (r.n, 100);
    CHECK (r.tail);
    CHECK_OK (lpx_request_path (&r, "/apps/my-app/"));
    CHECK_EQ (r.kind, LPX_REQ_FILE);
    CHECK_STR_EQ (r.file, "index.html");
    CHECK_OK (lpx_request_path (&r, "/apps/my-app/app.js"));
    CHECK_STR_EQ (r.file, "app.js");
    CHECK_OK (lpx_request_path (&r, "/apps/my-app/style.css"));
    CHECK_OK (lpx_request_path (&r, "/apps/my-app"));
    CHECK_EQ (r.kind, LPX_REQ_REDIRECT);
    static const struct { const char *path; int status; } s_bad [] = {
        { "/", 404 }, { "/apps/", 404 }, { "/apps/my-app/logs/", 404 },
        { "/apps/my-app/logs/x", 404 }, { "/apps/my-app/other-app/logs", 404 },
        { "/apps/my-app/secret.txt", 404 }, { "/apps/My-App/logs", 404 },
        { "/apps/ab/logs", 404 }, { "/apps/1ab/logs", 404 },
        { "/apps/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/logs", 404 },
        { "/apps/my-app/../other-app/logs", 400 }, { "/apps/%2e%2e/logs", 400 },
        { "/apps//my-app/logs", 400 }, { "/apps/my-app\\logs", 400 },
        { "/other/my-app/logs", 404 },
    };
    for (size_t i = 0; i < sizeof s_bad / sizeof s_bad [0]; i++) {
        lpx_request_init (&r);
        int status = lpx_request_path (&r, s_bad [i].path);
        if (status != s_bad [i].status)
            UNIT_FAIL ("%s: %d, wanted %d", s_bad [i].path, status, s_bad [i].status);
        CHECK_NOT_NULL (r.why);
    }
}

static void
test_lpx_request_args (void)
{
    lpx_request_t r;
    lpx_request_init (&r);
    CHECK_OK (lpx_request_arg (&r, "n=1500"));
    CHECK_OK (lpx_request_arg (&r, "tail=0"));
    CHECK_OK (lpx_request_arg (&r, "source=app"));
    CHECK_OK (lpx_request_arg (&r, "ps=web"));
    CHECK_OK (lpx_request_arg (&r, "dyno=web.1"));
    CHECK_OK (lpx_request_arg (&r, "token=abc"));
    CHECK_OK (lpx_request_finish (&r));
    CHECK_EQ (r.n, 1500);
    CHECK (!r.tail);
    CHECK_STR_EQ (r.token, "abc");
    CHECK_STR_EQ (r.filter.ps, "web");
    //  Repeated, unknown, out of range, bad filters.
    CHECK_EQ (lpx_request_arg (&r, "n=2"), 400);
    static const char *s_bad [] = { "n=0", "n=1501", "n=", "n=1x", "n=-1", "tail=2", "tail=",
                                    "app=other", "tokens=x", "" };
    for (size_t i = 0; i < sizeof s_bad / sizeof s_bad [0]; i++) {
        lpx_request_init (&r);
        if (lpx_request_arg (&r, s_bad [i]) != 400)
            UNIT_FAIL ("'%s' not refused", s_bad [i]);
    }
    lpx_request_init (&r);
    CHECK_OK (lpx_request_arg (&r, "source=heroku"));
    CHECK_EQ (lpx_request_finish (&r), 400);
    CHECK (strstr (r.why, "source"));
    lpx_request_init (&r);
    CHECK_OK (lpx_request_arg (&r, "ps=web.1"));
    CHECK_EQ (lpx_request_finish (&r), 400);
}

static void
test_lpx_request_tokens (void)
{
    lpx_request_t r;
    lpx_request_init (&r);
    CHECK_OK (lpx_request_auth (&r, "Bearer  tok-1"));
    CHECK_STR_EQ (r.token, "tok-1");
    lpx_request_init (&r);
    CHECK_OK (lpx_request_auth (&r, "Basic dXNlcjpwYXNz"));
    CHECK_STR_EQ (r.token, "");
    //  The query's token wins.
    lpx_request_init (&r);
    CHECK_OK (lpx_request_arg (&r, "token=from-query"));
    CHECK_OK (lpx_request_auth (&r, "bearer from-header"));
    CHECK_STR_EQ (r.token, "from-query");
    //  Too long to be one of ours: flagged, never compared.
    char arg [LPX_TOKEN_MAX + 16];
    snprintf (arg, sizeof arg, "token=");
    memset (arg + 6, 't', LPX_TOKEN_MAX + 1);
    arg [LPX_TOKEN_MAX + 7] = 0;
    lpx_request_init (&r);
    CHECK_OK (lpx_request_arg (&r, arg));
    CHECK (r.token_long);
}

static void
test_lpx_request_origin (void)
{
    CHECK (lpx_request_origin_ok (NULL, 7780, NULL));
    CHECK (lpx_request_origin_ok ("http://127.0.0.1:7780", 7780, NULL));
    CHECK (lpx_request_origin_ok ("http://localhost:7780", 7780, NULL));
    CHECK (!lpx_request_origin_ok ("http://127.0.0.1:7781", 7780, NULL));
    CHECK (!lpx_request_origin_ok ("https://127.0.0.1:7780", 7780, NULL));
    CHECK (!lpx_request_origin_ok ("http://127.0.0.1:7780.evil.example", 7780, NULL));
    CHECK (!lpx_request_origin_ok ("null", 7780, NULL));
    CHECK (!lpx_request_origin_ok ("", 7780, NULL));
    const char *extra = "https://logs.example, http://b.example:8080 ,";
    CHECK (lpx_request_origin_ok ("https://logs.example", 7780, extra));
    CHECK (lpx_request_origin_ok ("http://b.example:8080", 7780, extra));
    CHECK (!lpx_request_origin_ok ("https://logs.example.evil", 7780, extra));
    CHECK (!lpx_request_origin_ok ("https://logs", 7780, extra));
    CHECK (!lpx_request_origin_ok ("", 7780, extra));
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_lpx_request_paths),
    UNIT_TEST (test_lpx_request_args),
    UNIT_TEST (test_lpx_request_tokens),
    UNIT_TEST (test_lpx_request_origin),
};

UNIT_SUITE (unit_suite_lpx_request, s_tests);
