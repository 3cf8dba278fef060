//  test_brk_snapshots - snapshots kept by the broker (broker/snapshots.c)
//
//  A real broker child and raw peers registered as actors: a snapshot of
//  several parts (several MB, as 10,000 apps' state is) put and read back
//  byte for byte; a half-sent one never replaces the whole one, and survives
//  nothing but its own part 0; parts out of order are refused; only the
//  actor of that name may put or get; none kept is `not found`; what is
//  kept survives a broker restart.

#include "support.h"

#include <stdlib.h>
#include <string.h>

#define PART_MAX    (512 * 1024)

//  Deterministic bytes of snapshot number `which`, `len` of them. Caller
//  owns result.
static char *
s_bytes (int which, size_t len)
{
    char *data = malloc (len);
    for (size_t i = 0; i < len; i++)
        data [i] = (char) ((i * 31 + (size_t) which * 7) & 0xff);
    return data;
}

static void
s_put_part (ut_raw_t *peer, const char *name, int64_t seq, int64_t part, int64_t parts,
            const char *data, size_t size)
{
    size_t off = (size_t) part * PART_MAX;
    size_t n = size - off < PART_MAX ? size - off : PART_MAX;
    msg_t *put = ut_raw_msg_new (peer, MSG_TYPE_SNAPSHOT_PUT, "broker");
    msg_set_str (put, "name", name);
    msg_set_int (put, "seq", seq);
    msg_set_str (put, "broker", "journal-1");
    msg_set_int (put, "part", part);
    msg_set_int (put, "parts", parts);
    msg_set_int (put, "size", (int64_t) size);
    msg_set_json (put, "data", json_stringn_nocheck (data + off, n));
    ut_raw_send (peer, &put);
}

//  Puts parts [0, upto) of a snapshot of `size` bytes; each must be saved.
static void
s_put (ut_raw_t *peer, const char *name, int64_t seq, const char *data, size_t size,
       int64_t upto)
{
    int64_t parts = (int64_t) ((size + PART_MAX - 1) / PART_MAX);
    for (int64_t part = 0; part < upto && part < parts; part++)
        s_put_part (peer, name, seq, part, parts, data, size);
    for (int64_t part = 0; part < upto && part < parts; part++) {
        msg_t *saved = ut_raw_expect (peer, MSG_TYPE_SNAPSHOT_SAVED);
        CHECK_EQ (msg_int (saved, "part", -1), part);
        CHECK_EQ (msg_int (saved, "seq", -1), seq);
        msg_destroy (&saved);
    }
}

//  Reads the kept snapshot of `name` whole; it must be `want` (`size`
//  bytes) at `seq`.
static void
s_expect_kept (ut_raw_t *peer, const char *name, int64_t seq, const char *want, size_t size)
{
    size_t got = 0;
    int64_t parts = 1;
    for (int64_t part = 0; part < parts; part++) {
        msg_t *get = ut_raw_msg_new (peer, MSG_TYPE_SNAPSHOT_GET, "broker");
        msg_set_str (get, "name", name);
        msg_set_int (get, "part", part);
        ut_raw_send (peer, &get);
        msg_t *reply = ut_raw_expect (peer, MSG_TYPE_SNAPSHOT_PART);
        parts = msg_int (reply, "parts", 0);
        CHECK_EQ (msg_int (reply, "seq", -1), seq);
        CHECK_EQ (msg_int (reply, "size", -1), (int64_t) size);
        CHECK_STR_EQ (msg_str (reply, "broker", ""), "journal-1");
        json_t *data = json_object_get (reply->body, "data");
        size_t len = json_string_length (data);
        CHECK (got + len <= size);
        CHECK (memcmp (json_string_value (data), want + got, len) == 0);
        got += len;
        msg_destroy (&reply);
    }
    CHECK_EQ (got, size);
}

static void
s_get_fails (ut_raw_t *peer, const char *name, int code)
{
    msg_t *get = ut_raw_msg_new (peer, MSG_TYPE_SNAPSHOT_GET, "broker");
    msg_set_str (get, "name", name);
    msg_set_int (get, "part", 0);
    ut_raw_send (peer, &get);
    ut_raw_expect_error (peer, code);
}

static void
test_snapshot_parts_whole_or_nothing (void)
{
    ut_broker_t b;
    ut_broker_init (&b, 0);
    ut_raw_t *keeper = ut_raw_actor (&b, "keeper", "h1", true, NULL);
    s_get_fails (keeper, "keeper", ACT_ENOTFOUND);

    //  Several MB in parts of 512 KiB, the last one short.
    size_t big = 5 * PART_MAX + 12345;
    char *first = s_bytes (1, big);
    s_put (keeper, "keeper", 100, first, big, 99);
    s_expect_kept (keeper, "keeper", 100, first, big);

    //  A second one sent halfway: the first is still the one kept.
    size_t small = 2 * PART_MAX + 7;
    char *second = s_bytes (2, small);
    s_put (keeper, "keeper", 200, second, small, 2);
    s_expect_kept (keeper, "keeper", 100, first, big);

    //  A part that does not follow is refused, and changes nothing.
    s_put_part (keeper, "keeper", 300, 1, 3, second, small);
    ut_raw_expect_error (keeper, ACT_EPROTO);
    s_expect_kept (keeper, "keeper", 100, first, big);

    //  Sent whole, it replaces the first.
    s_put (keeper, "keeper", 200, second, small, 99);
    s_expect_kept (keeper, "keeper", 200, second, small);

    //  Another actor may neither read nor write it.
    ut_raw_t *other = ut_raw_actor (&b, "other", "h2", true, NULL);
    s_get_fails (other, "keeper", ACT_EREFUSED);
    s_put_part (other, "keeper", 999, 0, 1, "x", 1);
    ut_raw_expect_error (other, ACT_EREFUSED);
    ut_raw_destroy (&other);

    //  Kept across a broker restart (a new connection, same name).
    ut_raw_destroy (&keeper);
    ut_broker_stop (&b);
    ut_broker_start (&b);
    keeper = ut_raw_actor (&b, "keeper", "h3", true, NULL);
    s_expect_kept (keeper, "keeper", 200, second, small);

    //  Parts that do not add up to the size are refused.
    s_put_part (keeper, "keeper", 300, 0, 1, "abc", 3);
    msg_t *saved = ut_raw_expect (keeper, MSG_TYPE_SNAPSHOT_SAVED);
    msg_destroy (&saved);
    s_expect_kept (keeper, "keeper", 300, "abc", 3);
    msg_t *put = ut_raw_msg_new (keeper, MSG_TYPE_SNAPSHOT_PUT, "broker");
    msg_set_str (put, "name", "keeper");
    msg_set_int (put, "seq", 400);
    msg_set_str (put, "broker", "journal-1");
    msg_set_int (put, "part", 0);
    msg_set_int (put, "parts", 1);
    msg_set_int (put, "size", 10);
    msg_set_json (put, "data", json_stringn_nocheck ("abc", 3));
    ut_raw_send (keeper, &put);
    ut_raw_expect_error (keeper, MSG_EBODY);
    s_expect_kept (keeper, "keeper", 300, "abc", 3);

    free (first);
    free (second);
    ut_raw_destroy (&keeper);
    ut_broker_stop (&b);
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_snapshot_parts_whole_or_nothing),
};

UNIT_SUITE (unit_suite_brk_snapshots, s_tests);
