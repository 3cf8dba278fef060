//  test_sup_lines - unit tests for the dyno-supervisor's output lines
//
//  Covers actors/dyno-supervisor/lines.h (complete lines, CRLF, a partial
//  line flushed after SUP_LINE_WAIT_MS or at the end, a line cut at
//  SUP_LINE_MAX bytes, bytes split across reads), words.h (the wording of
//  the R10, R12, R14 lines and figures) and probe.h's status line check.

#include "unit.h"
#include "../../actors/dyno-supervisor/lines.h"
#include "../../actors/dyno-supervisor/probe.h"
#include "../../actors/dyno-supervisor/words.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct {
    char lines [8][SUP_LINE_MAX + 1];
    size_t lens [8];
    int count;
} s_got_t;

static void
s_collect (void *arg, const char *text, size_t len)
{
    s_got_t *got = arg;
    if (got->count < 8) {
        memcpy (got->lines [got->count], text, len);
        got->lines [got->count][len] = 0;
        got->lens [got->count] = len;
    }
    got->count++;
}

static void
test_sup_lines_split (void)
{
    static sup_lines_t lines;
    static s_got_t got;
    sup_lines_init (&lines);
    sup_lines_push (&lines, "one\ntw", 6, 1000, s_collect, &got);
    CHECK_EQ (got.count, 1);
    CHECK_STR_EQ (got.lines [0], "one");
    sup_lines_push (&lines, "o\r\nthree", 8, 1010, s_collect, &got);
    CHECK_EQ (got.count, 2);
    CHECK_STR_EQ (got.lines [1], "two");
    //  "three" waits: not yet 100 ms since its first byte.
    CHECK_EQ (sup_lines_deadline (&lines), 1010 + SUP_LINE_WAIT_MS);
    sup_lines_flush (&lines, 1109, false, s_collect, &got);
    CHECK_EQ (got.count, 2);
    sup_lines_flush (&lines, 1110, false, s_collect, &got);
    CHECK_EQ (got.count, 3);
    CHECK_STR_EQ (got.lines [2], "three");
    CHECK_EQ (sup_lines_deadline (&lines), INT64_MAX);
    //  The end of the stream flushes at once; an empty line is a line.
    sup_lines_push (&lines, "\nlast", 5, 2000, s_collect, &got);
    CHECK_EQ (got.count, 4);
    CHECK_EQ (got.lens [3], 0);
    sup_lines_flush (&lines, 2000, true, s_collect, &got);
    CHECK_EQ (got.count, 5);
    CHECK_STR_EQ (got.lines [4], "last");
}

static void
test_sup_lines_long (void)
{
    static sup_lines_t lines;
    static s_got_t got;
    sup_lines_init (&lines);
    size_t n = SUP_LINE_MAX + 5;
    char *big = malloc (n + 1);
    memset (big, 'x', n);
    big [n] = '\n';
    sup_lines_push (&lines, big, n + 1, 0, s_collect, &got);
    CHECK_EQ (got.count, 2);
    CHECK_EQ (got.lens [0], SUP_LINE_MAX);
    CHECK_EQ (got.lens [1], 5);
    //  Exactly SUP_LINE_MAX bytes then a newline: one line, no empty one.
    sup_lines_push (&lines, big, SUP_LINE_MAX, 0, s_collect, &got);
    sup_lines_push (&lines, "\nz\n", 3, 0, s_collect, &got);
    CHECK_EQ (got.count, 4);
    CHECK_EQ (got.lens [2], SUP_LINE_MAX);
    CHECK_STR_EQ (got.lines [3], "z");
    free (big);
}

static void
test_sup_words (void)
{
    char text [SUP_WORDS_MAX], line [400];
    sup_words_mem (600LL * 1024 * 1024, 512, text);
    CHECK_STR_EQ (text, "Process running mem=600M(117.2%)");
    sup_words_seconds (60000, text);
    CHECK_STR_EQ (text, "60 seconds");
    sup_words_seconds (1000, text);
    CHECK_STR_EQ (text, "1 second");
    sup_words_seconds (1500, text);
    CHECK_STR_EQ (text, "1.5 seconds");
    char type [SUP_WORDS_MAX];
    sup_words_type ("web", type);
    sup_words_seconds (60000, text);
    snprintf (line, sizeof line, SUP_SAY_R10, type, text);
    CHECK_STR_EQ (line, "Error R10 (Boot timeout) -> Web process failed to bind to $PORT within 60 seconds of launch");
    sup_words_seconds (30000, text);
    snprintf (line, sizeof line, SUP_SAY_R12, text);
    CHECK_STR_EQ (line, "Error R12 (Exit timeout) -> Process failed to exit within 30 seconds of SIGTERM");
    CHECK_STR_EQ (SUP_SAY_R14, "Error R14 (Memory quota exceeded)");
    CHECK_STR_EQ (SUP_SAY_R15, "Error R15 (Memory quota vastly exceeded)");
    CHECK_STR_EQ (SUP_SAY_R16, "Error R16 (Detached)");
    snprintf (line, sizeof line, SUP_SAY_STATE, "starting", "up");
    CHECK_STR_EQ (line, "State changed from starting to up");
}

static void
test_sup_probe_status (void)
{
    const char *ok [] = { "HTTP/1.1 200 OK", "HTTP/1.0 302 Found", "HTTP/1.1 204", "HTTP/1.1 399 X" };
    const char *bad [] = { "HTTP/1.1 404 Not Found", "HTTP/1.1 500 Oops", "HTTP/1.1 199 X", "HTTP/2 200 OK",
                           "garbage", "HTTP/1.1 20", "HTTP/1.1 2000 X" };
    for (size_t i = 0; i < sizeof ok / sizeof ok [0]; i++)
        if (!sup_probe_status_ok (ok [i], (int) strlen (ok [i])))
            UNIT_FAIL ("'%s' refused", ok [i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++)
        if (sup_probe_status_ok (bad [i], (int) strlen (bad [i])))
            UNIT_FAIL ("'%s' accepted", bad [i]);
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_sup_lines_split),
    UNIT_TEST (test_sup_lines_long),
    UNIT_TEST (test_sup_words),
    UNIT_TEST (test_sup_probe_status),
};

UNIT_SUITE (unit_suite_sup_lines, s_tests);
