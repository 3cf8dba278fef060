//  test_lpx_line - unit tests for log-plex's line format
//
//  Covers actors/log-plex/line.h: Logplex's `<RFC 3339 UTC with
//  microseconds> <source>[<process>]: <text>`, times at the epoch and at
//  the clamps, control characters escaped (tab kept, NUL and DEL too),
//  other bytes untouched, and the cuts at LPX_TEXT_MAX / LPX_NAME_MAX that
//  never split a UTF-8 character; the cached clock and the formatter into
//  a caller's buffer agree with the plain ones.

#include "unit.h"
#include "../../actors/log-plex/line.h"

#include <stdint.h>

//  Formats `text` and returns the line (caller owns it) after checking its
//  length is what strlen says (no NUL inside).
static char *
s_format (int64_t ts_us, const char *source, const char *process, const char *text,
          size_t text_len)
{
    size_t len;
    char *line = lpx_line_format (ts_us, source, process, text, text_len, &len);
    CHECK_EQ (strlen (line), len);
    return line;
}

static void
test_lpx_line_format (void)
{
    //  2026-11-28T10:15:30.123 UTC.
    char *line = s_format (1795860930123000LL, "dynod", "api", "Release v2 created by ann", 25);
    CHECK_STR_EQ (line, "2026-11-28T10:15:30.123000+00:00 dynod[api]: Release v2 created by ann");
    free (line);
    line = s_format (1795860930123456LL, "app", "web.1", "", 0);
    CHECK_STR_EQ (line, "2026-11-28T10:15:30.123456+00:00 app[web.1]: ");
    free (line);
}

static void
test_lpx_line_time (void)
{
    char out [LPX_TIME_LEN + 1];
    lpx_line_time (0, out);
    CHECK_STR_EQ (out, "1970-01-01T00:00:00.000000+00:00");
    lpx_line_time (-5, out);
    CHECK_STR_EQ (out, "1970-01-01T00:00:00.000000+00:00");
    lpx_line_time (INT64_MAX, out);
    CHECK_STR_EQ (out, "9999-12-31T23:59:59.999999+00:00");
    lpx_line_time (999999, out);
    CHECK_STR_EQ (out, "1970-01-01T00:00:00.999999+00:00");
}

//  The cached clock writes what lpx_line_time writes, across seconds,
//  backwards in time and at the clamps; lpx_line_format_to writes what
//  lpx_line_format returns, escapes included.
static void
test_lpx_line_time_cached (void)
{
    lpx_line_clock_t clock = { 0 };
    static const int64_t times [] = {
        1795860930123456LL, 1795860930999999LL, 1795860931000000LL, 1795860930000001LL,
        0, -7, INT64_MAX, 1795860931000000LL, 86399999999LL, 86400000000LL,
    };
    for (size_t i = 0; i < sizeof times / sizeof times [0]; i++) {
        char want [LPX_TIME_LEN + 1], got [LPX_TIME_LEN + 1];
        lpx_line_time (times [i], want);
        lpx_line_time_cached (&clock, times [i], got);
        CHECK_STR_EQ (got, want);
    }
    static const char text [] = "plain ascii, then\ttab \x1b[31m \xc2\x9b \xff and \xc3\xa9";
    char *want = s_format (1795860930123456LL, "app", "web.1", text, sizeof text - 1);
    char *got = malloc (lpx_line_cap (3, 5, sizeof text - 1));
    size_t len = lpx_line_format_to (&clock, 1795860930123456LL, "app", "web.1", text,
                                     sizeof text - 1, got);
    CHECK_EQ (len, strlen (want));
    CHECK_STR_EQ (got, want);
    free (got);
    free (want);
    CHECK (lpx_line_process_ok ("web.1"));
    CHECK (lpx_line_process_ok ("A-z_0.9"));
    CHECK (!lpx_line_process_ok (""));
    CHECK (!lpx_line_process_ok ("web 1"));
    CHECK (!lpx_line_process_ok ("web]"));
    char name [LPX_NAME_MAX + 2];
    memset (name, 'a', sizeof name - 1);
    name [LPX_NAME_MAX + 1] = 0;
    CHECK (!lpx_line_process_ok (name));
    name [LPX_NAME_MAX] = 0;
    CHECK (lpx_line_process_ok (name));
}

static void
test_lpx_line_escapes (void)
{
    static const char text [] = "a\tb\nc\rd\x01" "e\x7f" "f\0g\xc3\xa9\xff\\";
    char *line = s_format (0, "app", "web.1", text, sizeof text - 1);
    //  Invalid UTF-8 (0xff) becomes U+FFFD.
    CHECK_STR_EQ (line, "1970-01-01T00:00:00.000000+00:00 app[web.1]: "
                        "a\tb\\nc\\rd\\x01e\\x7ff\\x00g\xc3\xa9\xef\xbf\xbd\\");
    free (line);
    line = s_format (0, "a\nb", "w]\x1b", "x", 1);
    CHECK_STR_EQ (line, "1970-01-01T00:00:00.000000+00:00 a\\nb[w]\\x1b]: x");
    free (line);
}

static void
test_lpx_line_utf8 (void)
{
    //  C1 controls (U+009B is CSI) escaped; a truncated sequence, a lone
    //  continuation byte and an overlong form each replaced byte by byte;
    //  valid multi-byte characters (U+00A0, U+20AC, U+1F600) kept.
    static const char text [] = "\xc2\x9b" "2J\xc2\xa0\xe2\x82\xac\xf0\x9f\x98\x80"
                                "\x80" "\xc0\xaf" "\xe2\x82";
    char *line = s_format (0, "app", "web.1", text, sizeof text - 1);
    CHECK_STR_EQ (line, "1970-01-01T00:00:00.000000+00:00 app[web.1]: "
                        "\\u009b2J\xc2\xa0\xe2\x82\xac\xf0\x9f\x98\x80"
                        "\xef\xbf\xbd" "\xef\xbf\xbd\xef\xbf\xbd" "\xef\xbf\xbd\xef\xbf\xbd");
    free (line);
}

static void
test_lpx_line_names (void)
{
    CHECK (lpx_line_source_ok ("app"));
    CHECK (lpx_line_source_ok ("dynod"));
    CHECK (!lpx_line_source_ok ("heroku"));
    CHECK (!lpx_line_source_ok (""));
    CHECK (lpx_line_process_ok ("web.1"));
    CHECK (lpx_line_process_ok ("release-keeper_2.x"));
    CHECK (!lpx_line_process_ok (""));
    CHECK (!lpx_line_process_ok ("web]: app[web.2"));
    CHECK (!lpx_line_process_ok ("web 1"));
    CHECK (!lpx_line_process_ok ("w\xc3\xa9" "b"));
    char name [LPX_NAME_MAX + 2];
    memset (name, 'p', sizeof name - 1);
    name [LPX_NAME_MAX] = 0;
    CHECK (lpx_line_process_ok (name));
    name [LPX_NAME_MAX] = 'p';
    name [LPX_NAME_MAX + 1] = 0;
    CHECK (!lpx_line_process_ok (name));
}

static void
test_lpx_line_pieces (void)
{
    //  25,000 bytes split 10,000 + 10,000 + 5,000; a 2-byte character
    //  across the first cut moves whole into the second piece.
    size_t len = 25000;
    char *text = malloc (len);
    memset (text, 'a', len);
    CHECK_EQ (lpx_line_piece (text, len), LPX_TEXT_MAX);
    CHECK_EQ (lpx_line_piece (text, 5000), 5000);
    CHECK_EQ (lpx_line_piece (text, 0), 0);
    text [LPX_TEXT_MAX - 1] = (char) 0xc3;
    text [LPX_TEXT_MAX] = (char) 0xa9;
    CHECK_EQ (lpx_line_piece (text, len), LPX_TEXT_MAX - 1);
    //  Continuation bytes only: it backs off at most 3 (the longest
    //  character is 4 bytes), then cuts there.
    memset (text, 0x80, len);
    CHECK_EQ (lpx_line_piece (text, len), LPX_TEXT_MAX - 3);
    free (text);
}

static void
test_lpx_line_cut (void)
{
    //  LPX_TEXT_MAX - 1 ASCII bytes, then a 2-byte character across the cut.
    size_t len = LPX_TEXT_MAX + 10;
    char *text = malloc (len);
    memset (text, 'a', len);
    text [LPX_TEXT_MAX - 1] = (char) 0xc3;
    text [LPX_TEXT_MAX] = (char) 0xa9;
    char *line = s_format (0, "app", "web.1", text, len);
    size_t prefix = strlen ("1970-01-01T00:00:00.000000+00:00 app[web.1]: ");
    CHECK_EQ (strlen (line), prefix + LPX_TEXT_MAX - 1);
    CHECK_EQ (line [strlen (line) - 1], 'a');
    free (line);
    //  Exactly LPX_TEXT_MAX: kept whole.
    text [LPX_TEXT_MAX - 1] = 'b';
    line = s_format (0, "app", "web.1", text, LPX_TEXT_MAX);
    CHECK_EQ (strlen (line), prefix + LPX_TEXT_MAX);
    free (line);
    free (text);
    //  A long process name is cut too.
    char process [LPX_NAME_MAX + 20];
    memset (process, 'p', sizeof process - 1);
    process [sizeof process - 1] = 0;
    line = s_format (0, "app", process, "x", 1);
    CHECK_EQ (strlen (line), strlen ("1970-01-01T00:00:00.000000+00:00 app[]: x") + LPX_NAME_MAX);
    free (line);
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_lpx_line_format),
    UNIT_TEST (test_lpx_line_time),
    UNIT_TEST (test_lpx_line_time_cached),
    UNIT_TEST (test_lpx_line_escapes),
    UNIT_TEST (test_lpx_line_cut),
    UNIT_TEST (test_lpx_line_utf8),
    UNIT_TEST (test_lpx_line_names),
    UNIT_TEST (test_lpx_line_pieces),
};

UNIT_SUITE (unit_suite_lpx_line, s_tests);
