//  test_lpx_tail - unit tests for a tail session's queue
//
//  Covers actors/log-plex/tail.h: lines come out whole, in order, each
//  with "\n", batched up to the buffer size; past the line or byte bound
//  the oldest are dropped and the next fill starts with the L11 line
//  giving the count and the time of the first drop; lost lines count the
//  same; references are released (the leak checker in `make check` sees
//  any that are not).

#include "unit.h"
#include "../../actors/log-plex/tail.h"

#define UT_US   1795860930123000LL      // 2026-11-28T10:15:30.123 UTC

static void
s_push (lpx_tail_t *tail, const char *text, int64_t now)
{
    lpx_tail_push (tail, lpx_entry_new (text, strlen (text)), now);
}

static void
test_lpx_tail_order_and_batches (void)
{
    lpx_tail_t *tail = lpx_tail_new (10, 1000);
    CHECK (!lpx_tail_pending (tail));
    s_push (tail, "one", UT_US);
    s_push (tail, "two", UT_US);
    s_push (tail, "three", UT_US);
    CHECK (lpx_tail_pending (tail));
    char buf [64];
    //  Room for two lines only: the third waits.
    size_t len = lpx_tail_fill (tail, buf, 9, UT_US);
    CHECK_EQ (len, 8);
    CHECK (memcmp (buf, "one\ntwo\n", 8) == 0);
    len = lpx_tail_fill (tail, buf, sizeof buf, UT_US);
    CHECK_EQ (len, 6);
    CHECK (memcmp (buf, "three\n", 6) == 0);
    CHECK (!lpx_tail_pending (tail));
    CHECK_EQ (lpx_tail_fill (tail, buf, sizeof buf, UT_US), 0);
    //  A line longer than the buffer alone is cut rather than stuck.
    s_push (tail, "abcdefghij", UT_US);
    len = lpx_tail_fill (tail, buf, 5, UT_US);
    CHECK_EQ (len, 5);
    CHECK (memcmp (buf, "abcd\n", 5) == 0);
    lpx_tail_destroy (&tail);
    CHECK_NULL (tail);
}

static void
test_lpx_tail_drops (void)
{
    lpx_tail_t *tail = lpx_tail_new (3, 1000);
    char text [16];
    for (int i = 1; i <= 8; i++) {
        snprintf (text, sizeof text, "line %d", i);
        s_push (tail, text, UT_US + i * 1000000LL);
    }
    CHECK_EQ (lpx_tail_dropped (tail), 5);
    char buf [512];
    size_t len = lpx_tail_fill (tail, buf, sizeof buf, UT_US + 60000000LL);
    buf [len] = 0;
    //  Dropped 1..5; the first drop came with line 4.
    CHECK_STR_EQ (buf, "2026-11-28T10:16:30.123000+00:00 dynod[log-plex]: Error L11 (Tail buffer "
                       "overflow) -> This tail session dropped 5 messages since "
                       "2026-11-28T10:15:34.123000+00:00\n"
                       "line 6\nline 7\nline 8\n");
    //  The notice once only.
    s_push (tail, "line 9", UT_US);
    len = lpx_tail_fill (tail, buf, sizeof buf, UT_US);
    CHECK_EQ (len, 7);
    //  The byte bound: 10 bytes hold two 4-byte lines, not three.
    lpx_tail_t *small = lpx_tail_new (100, 10);
    s_push (small, "aaaa", UT_US);
    s_push (small, "bbbb", UT_US);
    s_push (small, "cccc", UT_US);
    CHECK_EQ (lpx_tail_dropped (small), 1);
    //  Lines lost before the queue count as drops too; still queued
    //  references are released on destroy.
    lpx_tail_lost (small, 7, UT_US);
    CHECK_EQ (lpx_tail_dropped (small), 8);
    len = lpx_tail_fill (small, buf, sizeof buf, UT_US);
    buf [len] = 0;
    CHECK (strstr (buf, "dropped 8 messages since"));
    CHECK (strstr (buf, "\nbbbb\ncccc\n"));
    s_push (small, "left", UT_US);
    lpx_tail_destroy (&small);
    lpx_tail_destroy (&tail);
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_lpx_tail_order_and_batches),
    UNIT_TEST (test_lpx_tail_drops),
};

UNIT_SUITE (unit_suite_lpx_tail, s_tests);
