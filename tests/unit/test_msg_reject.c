//  test_msg_reject - malformed framing and envelopes refused by msg_decode
//
//  Each case is built by hand (msg_builder.h: ut_env_t, whose default
//  output is what msg_encode writes) or cut from a valid encoding, so it
//  differs from a valid message only in the way it names, and must be
//  refused with its MSG_E* code in both decode modes: empty input, every
//  truncation, trailing bytes, reserved bytes, an envelope that is not a
//  map, and each envelope key missing, repeated, unknown or of a wrong
//  value. Malformed bodies are in test_msg_body.c.

#include "msg_builder.h"

#include <stdint.h>

// ---------------------------------------------------------------------------
//  Malformed input: framing

static void
test_msg_reject_empty (void)
{
    CHECK_EQ (ut_decode_code ("", 0), MSG_EMALFORMED);
    CHECK_EQ (ut_decode_code (NULL, 0), MSG_EMALFORMED);
}

static void
test_msg_reject_every_truncation (void)
{
    for (int t = 0; t < MSG_TYPE_COUNT; t++) {
        msg_t *msg = ut_msg_sample ((msg_type_id_t) t, 0);
        char *buf;
        size_t len;
        CHECK_OK (msg_encode (msg, &buf, &len, NULL));
        for (size_t cut = 0; cut < len; cut++) {
            //  A copy of exactly `cut` bytes so ASan sees any over-read.
            char *prefix = malloc (cut ? cut : 1);
            memcpy (prefix, buf, cut);
            int code = ut_decode_code (prefix, cut);
            if (code != MSG_EMALFORMED)
                UNIT_FAIL ("%s cut at %zu of %zu: code %d", msg->type->name, cut, len, code);
            free (prefix);
        }
        CHECK_OK (ut_decode_code (buf, len));
        free (buf);
        msg_destroy (&msg);
    }
}

static void
test_msg_reject_trailing (void)
{
    msg_t *msg = ut_msg_sample (MSG_TYPE_HELLO, 0);
    char *buf;
    size_t len;
    CHECK_OK (msg_encode (msg, &buf, &len, NULL));
    char *two = malloc (2 * len);
    memcpy (two, buf, len);
    memcpy (two + len, buf, len);
    CHECK_EQ (ut_decode_code (two, len + 1), MSG_ETRAILING);
    CHECK_EQ (ut_decode_code (two, 2 * len), MSG_ETRAILING);
    two [len] = 0;          // a trailing NUL byte (msgpack 0 = fixint 0)
    CHECK_EQ (ut_decode_code (two, len + 1), MSG_ETRAILING);
    free (two);
    free (buf);
    msg_destroy (&msg);
}

static void
test_msg_reject_reserved_byte (void)
{
    //  0xc1 is never used in msgpack, neither at the top nor in a body.
    CHECK_EQ (ut_decode_code ("\xc1", 1), MSG_EMALFORMED);
    ut_env_t env;
    msgpack_packer *pk = ut_env_ping_data (&env);
    msgpack_pack_array (pk, 2);
    msgpack_pack_nil (pk);
    pk->callback (pk->data, "\xc1", 1);
    CHECK_EQ (ut_env_code (&env), MSG_EMALFORMED);
}

static void
test_msg_reject_envelope_not_map (void)
{
    //  [1], "v", 1, nil, true, 1.5, bin, and a fixmap's worth of array.
    static const struct { const char *data; size_t len; } cases [] = {
        { "\x91\x01", 2 }, { "\xa1v", 2 }, { "\x01", 1 }, { "\xc0", 1 }, { "\xc3", 1 },
        { "\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00", 9 }, { "\xc4\x01x", 3 },
        { "\x9a\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01", 11 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++)
        CHECK_EQ (ut_decode_code (cases [i].data, cases [i].len), MSG_ENOTMAP);
    //  An ext value as the whole message.
    CHECK_EQ (ut_decode_code ("\xd4\x01\x00", 3), MSG_ENOTMAP);
}

// ---------------------------------------------------------------------------
//  Malformed input: envelope keys

static void
test_msg_reject_wrong_version (void)
{
    ut_env_t env;
    ut_env_init (&env, "ping");
    msgpack_pack_int (ut_env_set (&env, "v"), MSG_VERSION + 1);
    CHECK_EQ (ut_env_code (&env), MSG_EVERSION);
    ut_env_init (&env, "ping");
    msgpack_pack_int (ut_env_set (&env, "v"), 0);
    CHECK_EQ (ut_env_code (&env), MSG_EVERSION);
    ut_env_init (&env, "ping");
    msgpack_pack_int (ut_env_set (&env, "v"), -MSG_VERSION);
    CHECK_EQ (ut_env_code (&env), MSG_EVERSION);
    ut_env_init (&env, "ping");
    ut_pack_cstr (ut_env_set (&env, "v"), "1");
    CHECK_EQ (ut_env_code (&env), MSG_EVERSION);
    ut_env_init (&env, "ping");
    msgpack_pack_double (ut_env_set (&env, "v"), MSG_VERSION);
    CHECK_EQ (ut_env_code (&env), MSG_EVERSION);
    //  The same version in a wider integer encoding is still that version.
    ut_env_init (&env, "ping");
    msgpack_pack_fix_uint32 (ut_env_set (&env, "v"), MSG_VERSION);
    CHECK_OK (ut_env_code (&env));
}

static void
test_msg_reject_missing_key (void)
{
    static const char *keys [] = {
        "v", "seq", "id", "type", "from", "to", "corr", "ts", "dur", "body"
    };
    for (size_t i = 0; i < 10; i++) {
        ut_env_t env;
        ut_env_init (&env, "ping");
        ut_env_drop (&env, keys [i]);
        CHECK_EQ (ut_env_code (&env), MSG_EFIELD);
        //  Ten keys: one missing and another twice.
        bool from = strcmp (keys [i], "from") == 0;
        ut_env_init (&env, "ping");
        ut_env_drop (&env, keys [i]);
        ut_pack_cstr (ut_env_add (&env, from ? "to" : "from"), from ? UT_TO : UT_FROM);
        CHECK_EQ (ut_env_code (&env), MSG_EFIELD);
    }
    ut_env_t env;
    ut_env_init (&env, "ping");
    for (size_t i = 0; i < 10; i++)
        ut_env_drop (&env, keys [i]);
    CHECK_EQ (ut_env_code (&env), MSG_EFIELD);
}

static void
test_msg_reject_duplicate_key (void)
{
    //  Eleven keys with one twice: same value, then a different one.
    ut_env_t env;
    ut_env_init (&env, "ping");
    ut_pack_cstr (ut_env_add (&env, "id"), UT_ID);
    CHECK_EQ (ut_env_code (&env), MSG_EFIELD);
    ut_env_init (&env, "ping");
    ut_pack_cstr (ut_env_add (&env, "to"), "log-plex");
    CHECK_EQ (ut_env_code (&env), MSG_EFIELD);
    //  Ten keys where "body" replaces "corr" so the count is right.
    ut_env_init (&env, "ping");
    ut_env_drop (&env, "corr");
    msgpack_pack_map (ut_env_add (&env, "body"), 0);
    CHECK_EQ (ut_env_code (&env), MSG_EFIELD);
}

static void
test_msg_reject_unknown_key (void)
{
    //  In place of a real key, so the map still has ten entries.
    static const char *unknown [] = { "cor", "corr2", "CORR", "x", "" };
    for (size_t i = 0; i < sizeof unknown / sizeof unknown [0]; i++) {
        ut_env_t env;
        ut_env_init (&env, "ping");
        ut_env_drop (&env, "corr");
        ut_pack_cstr (ut_env_add (&env, unknown [i]), "");
        CHECK_EQ (ut_env_code (&env), MSG_EUNKNOWNKEY);
    }
    //  An eleventh key: the map has the wrong size, rejected before the key
    //  is looked at.
    ut_env_t env;
    ut_env_init (&env, "ping");
    ut_pack_cstr (ut_env_add (&env, "extra"), "x");
    int code = ut_env_code (&env);
    CHECK (code == MSG_EFIELD || code == MSG_EUNKNOWNKEY);
    //  A key that is not a string.
    ut_env_init (&env, "ping");
    ut_env_drop (&env, "corr");
    ut_pack_cstr (ut_env_add (&env, "corr"), "");
    env.slots [env.count - 1].int_key = true;
    CHECK_EQ (ut_env_code (&env), MSG_EFIELD);
}

static void
test_msg_reject_bad_id (void)
{
    static const char *bad [] = {
        "0123456789abcdef0123456789abcde",          // 31
        "0123456789abcdef0123456789abcdef0",        // 33
        "0123456789ABCDEF0123456789abcdef",         // upper case
        "0123456789abcdef0123456789abcdeg",         // not hex
        "0123456789abcdef 123456789abcdef",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        ut_env_t env;
        ut_env_init (&env, "ping");
        ut_pack_cstr (ut_env_set (&env, "id"), bad [i]);
        CHECK_EQ (ut_env_code (&env), MSG_EFIELD);
        //  corr follows the same rule but may be empty.
        ut_env_init (&env, "ping");
        ut_pack_cstr (ut_env_set (&env, "corr"), bad [i]);
        CHECK_EQ (ut_env_code (&env), bad [i] [0] ? MSG_EFIELD : 0);
    }
    ut_env_t env;
    ut_env_init (&env, "ping");
    ut_pack_strn (ut_env_set (&env, "id"), "0123456789abcdef\0" "123456789abcdef", 32);
    CHECK_EQ (ut_env_code (&env), MSG_EFIELD);
    ut_env_init (&env, "ping");
    msgpack_pack_int (ut_env_set (&env, "id"), 1);
    CHECK_EQ (ut_env_code (&env), MSG_EFIELD);
    ut_env_init (&env, "ping");
    msgpack_packer *pk = ut_env_set (&env, "id");
    msgpack_pack_bin (pk, 32);
    msgpack_pack_bin_body (pk, UT_ID, 32);
    CHECK_EQ (ut_env_code (&env), MSG_EFIELD);
    ut_env_init (&env, "ping");
    ut_pack_cstr (ut_env_set (&env, "corr"), UT_ID);
    CHECK_OK (ut_env_code (&env));
}

static void
test_msg_reject_bad_address (void)
{
    char too_long [MSG_ADDR_MAX + 1];
    memset (too_long, 'a', MSG_ADDR_MAX);
    too_long [MSG_ADDR_MAX] = 0;
    const char *bad [] = {
        "", "@x", "Upper", "a@", "a b", "1abc", "-a", "a@b@c", "a@b c", "topic:", "topic:Up",
        "sch\xc3\xa9", too_long,
    };
    static const char *keys [] = { "from", "to" };
    for (size_t k = 0; k < 2; k++) {
        for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
            ut_env_t env;
            ut_env_init (&env, "ping");
            ut_pack_cstr (ut_env_set (&env, keys [k]), bad [i]);
            int code = ut_env_code (&env);
            if (code != MSG_EADDR)
                UNIT_FAIL ("%s '%.20s': code %d", keys [k], bad [i], code);
        }
        ut_env_t env;
        ut_env_init (&env, "ping");
        ut_pack_strn (ut_env_set (&env, keys [k]), "sched\0uler", 10);
        CHECK_EQ (ut_env_code (&env), MSG_EADDR);
        ut_env_init (&env, "ping");
        msgpack_pack_int (ut_env_set (&env, keys [k]), 1);
        CHECK_EQ (ut_env_code (&env), MSG_EADDR);
        //  The longest address that fits is fine.
        ut_env_init (&env, "ping");
        ut_pack_cstr (ut_env_set (&env, keys [k]), too_long + 1);
        CHECK_OK (ut_env_code (&env));
    }
}

static void
test_msg_reject_unknown_type (void)
{
    static const char *bad [] = { "nope", "", "PING", "ping ", "pin", "actor", "actor.up.x" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        ut_env_t env;
        ut_env_init (&env, "ping");
        ut_pack_cstr (ut_env_set (&env, "type"), bad [i]);
        CHECK_EQ (ut_env_code (&env), MSG_EBADTYPE);
    }
    ut_env_t env;
    ut_env_init (&env, "ping");
    ut_pack_strn (ut_env_set (&env, "type"), "ping\0", 5);
    CHECK_EQ (ut_env_code (&env), MSG_EBADTYPE);
    ut_env_init (&env, "ping");
    msgpack_pack_int (ut_env_set (&env, "type"), MSG_TYPE_PING);
    CHECK_EQ (ut_env_code (&env), MSG_EFIELD);
}

static void
test_msg_reject_envelope_value_types (void)
{
    ut_env_t env;
    ut_env_init (&env, "ping");
    ut_pack_cstr (ut_env_set (&env, "seq"), "1");
    CHECK_EQ (ut_env_code (&env), MSG_EFIELD);
    ut_env_init (&env, "ping");
    msgpack_pack_int64 (ut_env_set (&env, "seq"), -1);
    CHECK_EQ (ut_env_code (&env), MSG_EFIELD);
    ut_env_init (&env, "ping");
    msgpack_pack_nil (ut_env_set (&env, "ts"));
    CHECK_EQ (ut_env_code (&env), MSG_EFIELD);
    ut_env_init (&env, "ping");
    msgpack_pack_double (ut_env_set (&env, "ts"), 1.0);
    CHECK_EQ (ut_env_code (&env), MSG_EFIELD);
    //  A timestamp past INT64_MAX cannot be held in msg_t's int64 ts.
    ut_env_init (&env, "ping");
    msgpack_pack_uint64 (ut_env_set (&env, "ts"), (uint64_t) INT64_MAX + 1);
    CHECK_EQ (ut_env_code (&env), MSG_EFIELD);
    ut_env_init (&env, "ping");
    msgpack_pack_int (ut_env_set (&env, "dur"), 1);
    CHECK_EQ (ut_env_code (&env), MSG_EFIELD);
    ut_env_init (&env, "ping");
    msgpack_packer *pk = ut_env_set (&env, "ts");
    msgpack_pack_ext (pk, 1, 1);
    msgpack_pack_ext_body (pk, "x", 1);
    CHECK_EQ (ut_env_code (&env), MSG_EFIELD);
    //  Values at the edges of their ranges are fine.
    ut_env_init (&env, "ping");
    msgpack_pack_uint64 (ut_env_set (&env, "ts"), INT64_MAX);
    msgpack_pack_uint64 (ut_env_set (&env, "seq"), UINT64_MAX);
    msgpack_pack_true (ut_env_set (&env, "dur"));
    size_t len;
    char *data = ut_env_encode (&env, &len);
    msg_t *msg = msg_decode (data, len, MSG_DECODE_FULL, NULL);
    CHECK_NOT_NULL (msg);
    CHECK_EQ (msg->ts, INT64_MAX);
    CHECK (msg->seq == UINT64_MAX);
    CHECK (msg->durable);
    msg_destroy (&msg);
    free (data);
    ut_env_release (&env);
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_msg_reject_empty),
    UNIT_TEST (test_msg_reject_every_truncation),
    UNIT_TEST (test_msg_reject_trailing),
    UNIT_TEST (test_msg_reject_reserved_byte),
    UNIT_TEST (test_msg_reject_envelope_not_map),
    UNIT_TEST (test_msg_reject_wrong_version),
    UNIT_TEST (test_msg_reject_missing_key),
    UNIT_TEST (test_msg_reject_duplicate_key),
    UNIT_TEST (test_msg_reject_unknown_key),
    UNIT_TEST (test_msg_reject_bad_id),
    UNIT_TEST (test_msg_reject_bad_address),
    UNIT_TEST (test_msg_reject_unknown_type),
    UNIT_TEST (test_msg_reject_envelope_value_types),
};

UNIT_SUITE (unit_suite_msg_reject, s_tests);
