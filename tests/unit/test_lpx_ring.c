//  test_lpx_ring - unit tests for log-plex's ring buffers
//
//  Covers actors/log-plex/ring.h: empty rings, filling up to capacity,
//  wrapping (oldest dropped first, order kept, totals and byte counts
//  right), a ring of one, lines of any length (empty, long, with bytes
//  that are not UTF-8) copied rather than borrowed, and indexes past the
//  end.

#include "unit.h"
#include "../../actors/log-plex/ring.h"

static void
test_lpx_ring_fill_and_wrap (void)
{
    lpx_ring_t *ring = lpx_ring_new (5);
    CHECK_EQ (lpx_ring_count (ring), 0);
    CHECK_EQ (lpx_ring_capacity (ring), 5);
    CHECK_NULL (lpx_ring_get (ring, 0, NULL));
    char line [32];
    for (int i = 0; i < 23; i++) {
        int len = snprintf (line, sizeof line, "line %d", i);
        lpx_ring_push (ring, line, (size_t) len);
        size_t want = i + 1 < 5 ? (size_t) i + 1 : 5;
        CHECK_EQ (lpx_ring_count (ring), want);
        CHECK_EQ (lpx_ring_total (ring), i + 1);
        //  Oldest first, contiguous, ending with the newest.
        size_t bytes = 0;
        for (size_t k = 0; k < want; k++) {
            size_t got_len;
            const char *got = lpx_ring_get (ring, k, &got_len);
            snprintf (line, sizeof line, "line %d", i + 1 - (int) want + (int) k);
            CHECK_STR_EQ (got, line);
            CHECK_EQ (got_len, strlen (line));
            bytes += got_len;
        }
        CHECK_EQ (lpx_ring_bytes (ring), bytes);
        CHECK_NULL (lpx_ring_get (ring, want, NULL));
    }
    lpx_ring_destroy (&ring);
    CHECK_NULL (ring);
    lpx_ring_destroy (&ring);
}

static void
test_lpx_ring_of_one (void)
{
    lpx_ring_t *ring = lpx_ring_new (1);
    lpx_ring_push (ring, "a", 1);
    lpx_ring_push (ring, "bc", 2);
    CHECK_EQ (lpx_ring_count (ring), 1);
    CHECK_STR_EQ (lpx_ring_get (ring, 0, NULL), "bc");
    CHECK_EQ (lpx_ring_bytes (ring), 2);
    CHECK_EQ (lpx_ring_total (ring), 2);
    lpx_ring_destroy (&ring);
}

static void
test_lpx_ring_copies_any_bytes (void)
{
    lpx_ring_t *ring = lpx_ring_new (3);
    char buf [20000];
    memset (buf, 'x', sizeof buf);
    buf [0] = (char) 0xff;              // not UTF-8: kept as is
    lpx_ring_push (ring, buf, sizeof buf);
    lpx_ring_push (ring, "", 0);
    //  The ring holds copies: the caller's buffer may change.
    memset (buf, 'y', sizeof buf);
    size_t len;
    const char *got = lpx_ring_get (ring, 0, &len);
    CHECK_EQ (len, sizeof buf);
    CHECK_EQ ((unsigned char) got [0], 0xff);
    CHECK_EQ (got [19999], 'x');
    CHECK_EQ (got [len], 0);
    CHECK_STR_EQ (lpx_ring_get (ring, 1, &len), "");
    CHECK_EQ (len, 0);
    CHECK_EQ (lpx_ring_bytes (ring), sizeof buf);
    lpx_ring_destroy (&ring);
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_lpx_ring_fill_and_wrap),
    UNIT_TEST (test_lpx_ring_of_one),
    UNIT_TEST (test_lpx_ring_copies_any_bytes),
};

UNIT_SUITE (unit_suite_lpx_ring, s_tests);
