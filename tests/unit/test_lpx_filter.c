//  test_lpx_filter - unit tests for log-plex's line filters
//
//  Covers actors/log-plex/filter.h: source, dyno and process type alone
//  and combined, process types matching `web` and `web.N` but not
//  `webby.1`, bad filters refused with a reason and matching everything,
//  and lines whose prefix does not parse never matching a filter.

#include "unit.h"
#include "../../actors/log-plex/filter.h"

#include <errno.h>

#define UT_TS "2026-11-28T10:15:30.123000+00:00 "

static bool
s_match (const lpx_filter_t *filter, const char *line)
{
    return lpx_filter_match (filter, line, strlen (line));
}

static void
test_lpx_filter_match (void)
{
    lpx_filter_t f;
    const char *why = NULL;
    CHECK_OK (lpx_filter_init (&f, NULL, "", NULL, &why));
    CHECK (s_match (&f, UT_TS "app[web.1]: x"));
    CHECK (s_match (&f, "garbage"));
    CHECK_OK (lpx_filter_init (&f, "dynod", NULL, NULL, &why));
    CHECK (s_match (&f, UT_TS "dynod[router]: x"));
    CHECK (!s_match (&f, UT_TS "app[web.1]: dynod[router]: x"));
    CHECK_OK (lpx_filter_init (&f, NULL, "web.1", NULL, &why));
    CHECK (s_match (&f, UT_TS "app[web.1]: x"));
    CHECK (!s_match (&f, UT_TS "app[web.10]: x"));
    CHECK (!s_match (&f, UT_TS "app[web.2]: app[web.1]: x"));
    CHECK_OK (lpx_filter_init (&f, NULL, NULL, "web", &why));
    CHECK (s_match (&f, UT_TS "app[web.1]: x"));
    CHECK (s_match (&f, UT_TS "app[web.22]: x"));
    CHECK (s_match (&f, UT_TS "dynod[web]: x"));
    CHECK (!s_match (&f, UT_TS "app[webby.1]: x"));
    CHECK (!s_match (&f, UT_TS "app[worker.1]: x"));
    CHECK_OK (lpx_filter_init (&f, "app", "web.2", "web", &why));
    CHECK (s_match (&f, UT_TS "app[web.2]: x"));
    CHECK (!s_match (&f, UT_TS "dynod[web.2]: x"));
    CHECK (!s_match (&f, UT_TS "app[web.1]: x"));
    //  No prefix to read: no match.
    CHECK (!s_match (&f, "short"));
    CHECK (!s_match (&f, UT_TS "app web.2 x"));
    CHECK (!s_match (&f, UT_TS "app[web.2"));
}

static void
test_lpx_filter_bad (void)
{
    lpx_filter_t f;
    const char *why = NULL;
    CHECK_EQ (lpx_filter_init (&f, "heroku", NULL, NULL, &why), -EINVAL);
    CHECK (strstr (why, "source"));
    CHECK (s_match (&f, UT_TS "app[web.1]: x"));
    CHECK_EQ (lpx_filter_init (&f, NULL, "web 1", NULL, &why), -EINVAL);
    CHECK (strstr (why, "dyno"));
    CHECK_EQ (lpx_filter_init (&f, NULL, NULL, "web.1", &why), -EINVAL);
    CHECK (strstr (why, "process type"));
    char long_name [LPX_NAME_MAX + 2];
    memset (long_name, 'w', sizeof long_name - 1);
    long_name [sizeof long_name - 1] = 0;
    CHECK_EQ (lpx_filter_init (&f, NULL, long_name, NULL, &why), -EINVAL);
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_lpx_filter_match),
    UNIT_TEST (test_lpx_filter_bad),
};

UNIT_SUITE (unit_suite_lpx_filter, s_tests);
