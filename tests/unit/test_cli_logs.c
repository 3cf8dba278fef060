//  test_cli_logs - unit tests for what `dyno logs` and its tail share
//
//  Covers cli/logs_lines.h: the checks of -n, --source, --dyno,
//  --process-type and ports; the websocket path with every value
//  percent-encoded (nothing in an app name or token can add a path segment
//  or a parameter); the reconnect schedule; the resume filter that keeps
//  a reconnected tail from printing a line twice; colour by source.

#include "unit.h"
#include "../../cli/logs_lines.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
test_cli_logs_num (void)
{
    CHECK_EQ (cli_logs_num_parse ("1"), 1);
    CHECK_EQ (cli_logs_num_parse ("100"), 100);
    CHECK_EQ (cli_logs_num_parse ("1500"), 1500);
    const char *bad [] = { "0", "1501", "-1", "+5", " 5", "5 ", "5x", "", "0x10",
                           "99999999999999999999999" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++)
        if (cli_logs_num_parse (bad [i]) != 0)
            UNIT_FAIL ("'%s' taken as a count", bad [i]);
    CHECK_EQ (cli_logs_port_parse ("7780"), 7780);
    CHECK_EQ (cli_logs_port_parse ("65535"), 65535);
    CHECK_EQ (cli_logs_port_parse ("0"), 0);
    CHECK_EQ (cli_logs_port_parse ("65536"), 0);
    CHECK_EQ (cli_logs_port_parse ("77a"), 0);
}

static void
test_cli_logs_names (void)
{
    CHECK (cli_logs_source_valid ("app"));
    CHECK (cli_logs_source_valid ("dynod"));
    CHECK (!cli_logs_source_valid ("heroku"));
    CHECK (!cli_logs_source_valid ("App"));
    CHECK (!cli_logs_source_valid (""));
    CHECK (cli_logs_name_valid ("web.1", true));
    CHECK (cli_logs_name_valid ("router", true));
    CHECK (cli_logs_name_valid ("my_worker-2", false));
    CHECK (!cli_logs_name_valid ("web.1", false));
    CHECK (!cli_logs_name_valid ("", true));
    CHECK (!cli_logs_name_valid ("a/b", true));
    CHECK (!cli_logs_name_valid ("web 1", true));
    CHECK (!cli_logs_name_valid ("w\xc3\xa9" "b", true));
    char name [CLI_LOGS_NAME_MAX + 2];
    memset (name, 'w', sizeof name);
    name [CLI_LOGS_NAME_MAX] = 0;
    CHECK (cli_logs_name_valid (name, true));
    name [CLI_LOGS_NAME_MAX] = 'w';
    name [CLI_LOGS_NAME_MAX + 1] = 0;
    CHECK (!cli_logs_name_valid (name, true));
}

static void
test_cli_logs_tail_path (void)
{
    cli_logs_query_t q = { .app = "demo-app", .num = 100 };
    char *path = cli_logs_tail_path (&q, "abc123", 100);
    CHECK_STR_EQ (path, "/apps/demo-app/logs?token=abc123&n=100&tail=1");
    free (path);
    q.source = "dynod";
    q.dyno = "web.1";
    q.ps = "web";
    path = cli_logs_tail_path (&q, "abc", 1500);
    CHECK_STR_EQ (path, "/apps/demo-app/logs?token=abc&n=1500&tail=1&source=dynod&dyno=web.1&ps=web");
    free (path);
    //  Nothing in a value reaches the path or the query as syntax.
    cli_logs_query_t odd = { .app = "../x/%2e?&#", .num = 5, .dyno = "a&n=1", .ps = "p q" };
    path = cli_logs_tail_path (&odd, "t=1&x/y~z \xc3\xa9", 5);
    CHECK_STR_EQ (path, "/apps/..%2Fx%2F%252e%3F%26%23/logs?token=t%3D1%26x%2Fy~z%20%C3%A9"
                        "&n=5&tail=1&dyno=a%26n%3D1&ps=p%20q");
    free (path);
    //  No token: an empty parameter, which log-plex refuses.
    path = cli_logs_tail_path (&q, NULL, 1);
    CHECK (strstr (path, "?token=&n=1&") != NULL);
    free (path);
}

static void
test_cli_logs_backoff (void)
{
    static const int want [] = { 250, 500, 1000, 2000, 4000, 5000, 5000, 5000 };
    for (unsigned i = 0; i < sizeof want / sizeof want [0]; i++)
        CHECK_EQ (cli_logs_backoff_ms (i), want [i]);
    CHECK_EQ (cli_logs_backoff_ms (64), 5000);
    CHECK_EQ (cli_logs_backoff_ms (4000000000u), 5000);
}

#define T(s)    "2026-11-28T10:15:30." s "+00:00"

//  take: the line is printed (true) or skipped (false).
static bool
s_take (cli_logs_resume_t *r, const char *line)
{
    return cli_logs_resume_take (r, line, strlen (line));
}

static void
test_cli_logs_resume (void)
{
    cli_logs_resume_t r;
    cli_logs_resume_init (&r);
    CHECK (!cli_logs_resume_any (&r));
    //  The first connection prints everything, twins included.
    cli_logs_resume_reconnected (&r);
    CHECK (s_take (&r, T ("000001") " app[web.1]: a"));
    CHECK (s_take (&r, T ("000003") " app[web.1]: b"));
    CHECK (s_take (&r, T ("000003") " app[web.1]: b"));
    CHECK (cli_logs_resume_any (&r));
    //  Reconnected: the history up to the last line printed is skipped,
    //  then all is new.
    cli_logs_resume_reconnected (&r);
    CHECK (!s_take (&r, T ("000001") " app[web.1]: a"));
    CHECK (!s_take (&r, T ("000003") " app[web.1]: b"));
    CHECK (s_take (&r, T ("000003") " app[web.1]: c"));
    CHECK (s_take (&r, T ("000002") " dynod[router]: late clock"));
    //  The last line printed is older than the newest: still found.
    cli_logs_resume_reconnected (&r);
    CHECK (!s_take (&r, T ("000003") " app[web.1]: c"));
    CHECK (!s_take (&r, T ("000002") " dynod[router]: late clock"));
    CHECK (s_take (&r, T ("000002") " dynod[router]: late again"));
    //  log-plex lost its newest lines: older ones skipped, newer printed.
    cli_logs_resume_reconnected (&r);
    CHECK (!s_take (&r, T ("000001") " app[web.1]: a"));
    CHECK (!s_take (&r, T ("000003") " app[web.1]: x"));
    CHECK (s_take (&r, T ("000004") " app[web.1]: d"));
    CHECK (s_take (&r, T ("000001") " app[web.1]: after, printed"));
    //  An empty history, then live lines.
    cli_logs_resume_reconnected (&r);
    CHECK (s_take (&r, T ("000005") " app[web.1]: e"));
    //  A line without a space: its whole text is its time.
    cli_logs_resume_reconnected (&r);
    CHECK (!s_take (&r, "1999"));
    CHECK (s_take (&r, "9999"));
    cli_logs_resume_release (&r);
    CHECK (!cli_logs_resume_any (&r));
}

//  The printed form of `line`. Caller owns result.
static char *
s_print (const char *line, bool colour)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream (&out, &len);
    cli_logs_line_print (f, line, strlen (line), colour);
    fclose (f);
    return out;
}

static void
test_cli_logs_colour (void)
{
    char *out = s_print (T ("000001") " app[web.1]: hi]: there", true);
    CHECK_STR_EQ (out, T ("000001") " \033[36mapp[web.1]:\033[0m hi]: there\n");
    free (out);
    out = s_print (T ("000001") " dynod[router]: at=info", true);
    CHECK_STR_EQ (out, T ("000001") " \033[35mdynod[router]:\033[0m at=info\n");
    free (out);
    out = s_print (T ("000001") " dynod[router]: at=info", false);
    CHECK_STR_EQ (out, T ("000001") " dynod[router]: at=info\n");
    free (out);
    //  Other sources and malformed lines: as they are.
    const char *plain [] = { T ("1") " heroku[web.1]: x", T ("1") " app[web.1] no colon",
                             T ("1") " app[", "app[web.1]: x", "" };
    for (size_t i = 0; i < sizeof plain / sizeof plain [0]; i++) {
        out = s_print (plain [i], true);
        CHECK_EQ (strlen (out), strlen (plain [i]) + 1);
        CHECK (strncmp (out, plain [i], strlen (plain [i])) == 0);
        free (out);
    }
    //  The colour needs a terminal; a unit test's stdout is a file or pipe.
    CHECK (!cli_logs_colour (-1));
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_cli_logs_num),
    UNIT_TEST (test_cli_logs_names),
    UNIT_TEST (test_cli_logs_tail_path),
    UNIT_TEST (test_cli_logs_backoff),
    UNIT_TEST (test_cli_logs_resume),
    UNIT_TEST (test_cli_logs_colour),
};

UNIT_SUITE (unit_suite_cli_logs, s_tests);
