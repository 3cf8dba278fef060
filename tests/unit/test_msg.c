//  test_msg - unit tests for the wire format (messages/): valid messages
//
//  Covers msg.h and msg_types.h: an encode->decode round trip of every type
//  in the table with every schema field filled (and an unknown field kept),
//  bodies packed by hand, the MSG_MAX_SIZE boundary, msg_stamp_seq, address
//  parsing, the type table and its generated reference, error texts and the
//  body accessors. Rejections of malformed input are in test_msg_reject.c
//  (framing and envelopes) and test_msg_body.c (bodies); the samples and
//  the hand-made envelope builder they share are in msg_builder.h.

#include "msg_builder.h"

#include <stdint.h>

// ---------------------------------------------------------------------------
//  Round trips

static void
s_check_envelope_equal (const msg_t *got, const msg_t *want)
{
    CHECK_EQ (got->seq, want->seq);
    CHECK_STR_EQ (got->id, want->id);
    CHECK (got->type == want->type);
    CHECK_STR_EQ (got->from, want->from);
    CHECK_STR_EQ (got->to, want->to);
    CHECK_STR_EQ (got->corr, want->corr);
    CHECK_EQ (got->ts, want->ts);
    CHECK_EQ (got->durable, want->durable);
}

static void
test_msg_round_trip_every_type (void)
{
    for (int t = 0; t < MSG_TYPE_COUNT; t++) {
        const msg_type_t *type = msg_type_by_id ((msg_type_id_t) t);
        CHECK_NOT_NULL (type);
        CHECK_EQ (type->id, t);
        for (int variant = 0; variant < UT_VARIANTS; variant++) {
            msg_t *sent = ut_msg_sample ((msg_type_id_t) t, variant);
            char *buf = NULL;
            size_t len = 0;
            msg_error_t err = { 0, "" };
            int rc = msg_encode (sent, &buf, &len, &err);
            if (rc)
                UNIT_FAIL ("encode %s variant %d: %d %s", type->name, variant, rc, err.reason);
            CHECK_NOT_NULL (buf);
            CHECK (len > 0 && len <= MSG_MAX_SIZE);

            msg_t *got = msg_decode (buf, len, MSG_DECODE_FULL, &err);
            if (!got)
                UNIT_FAIL ("decode %s variant %d: %d %s", type->name, variant, err.code,
                           err.reason);
            s_check_envelope_equal (got, sent);
            CHECK (json_equal (got->body, sent->body));
            CHECK_NOT_NULL (json_object_get (got->body, "x-unknown-extra"));

            //  The encoding is canonical: the decoded message re-encodes to
            //  the same bytes.
            char *again = NULL;
            size_t again_len = 0;
            CHECK_OK (msg_encode (got, &again, &again_len, NULL));
            CHECK_EQ (again_len, len);
            CHECK (memcmp (again, buf, len) == 0);

            msg_t *head = msg_decode (buf, len, MSG_DECODE_HEAD, &err);
            CHECK_NOT_NULL (head);
            s_check_envelope_equal (head, sent);
            CHECK_NULL (head->body);

            msg_t *copy = msg_dup (got);
            s_check_envelope_equal (copy, sent);
            CHECK (copy->body != got->body);
            CHECK (json_equal (copy->body, sent->body));

            free (again);
            free (buf);
            msg_destroy (&copy);
            msg_destroy (&head);
            msg_destroy (&got);
            msg_destroy (&sent);
            CHECK_NULL (sent);
        }
    }
    msg_destroy (NULL);
}

//  The builder's default envelope is exactly what msg_encode writes, so the
//  malformed cases below differ from valid input only where they say.
static void
test_msg_builder_matches_encoder (void)
{
    msg_t *msg = msg_new (MSG_TYPE_PING);
    msg_set_id (msg, UT_ID);
    CHECK_OK (msg_set_from (msg, UT_FROM));
    CHECK_OK (msg_set_to (msg, UT_TO));
    char *buf;
    size_t len;
    CHECK_OK (msg_encode (msg, &buf, &len, NULL));
    ut_env_t env;
    ut_env_init (&env, "ping");
    size_t env_len;
    char *env_buf = ut_env_encode (&env, &env_len);
    CHECK_EQ (env_len, len);
    CHECK (memcmp (env_buf, buf, len) == 0);
    CHECK_OK (ut_env_code (&env));
    free (env_buf);
    free (buf);
    msg_destroy (&msg);
}

//  Bodies packed by hand from ut_body_fill decode to the same JSON.
static void
test_msg_decode_hand_built_bodies (void)
{
    for (int t = 0; t < MSG_TYPE_COUNT; t++) {
        const msg_type_t *type = msg_type_by_id ((msg_type_id_t) t);
        for (int variant = 0; variant < UT_VARIANTS; variant++) {
            json_t *body = ut_body_fill (type, variant);
            ut_env_t env;
            ut_env_init (&env, "ping");
            ut_env_body (&env, type, body, 0);
            size_t len;
            char *data = ut_env_encode (&env, &len);
            msg_error_t err = { 0, "" };
            msg_t *msg = msg_decode (data, len, MSG_DECODE_FULL, &err);
            if (!msg)
                UNIT_FAIL ("%s variant %d: %s", type->name, variant, err.reason);
            CHECK (msg->type == type);
            CHECK (json_equal (msg->body, body));
            msg_destroy (&msg);
            free (data);
            ut_env_release (&env);
            json_decref (body);
        }
    }
}

// ---------------------------------------------------------------------------
//  Sizes

//  A ping whose data is a string of `n` bytes. Caller owns result.
static msg_t *
s_ping_of (size_t n)
{
    char *data = malloc (n);
    memset (data, 'a', n);
    msg_t *msg = msg_new (MSG_TYPE_PING);
    msg_set_id (msg, UT_ID);
    CHECK_OK (msg_set_from (msg, UT_FROM));
    CHECK_OK (msg_set_to (msg, UT_TO));
    msg_set_json (msg, "data", json_stringn (data, n));
    free (data);
    return msg;
}

static size_t
s_encoded_len (size_t n)
{
    msg_t *msg = s_ping_of (n);
    char *buf;
    size_t len;
    CHECK_OK (msg_encode (msg, &buf, &len, NULL));
    free (buf);
    msg_destroy (&msg);
    return len;
}

static void
test_msg_encode_size_boundary (void)
{
    //  Strings over 64 KiB take a fixed 5-byte header, so size is linear.
    size_t base = MSG_MAX_SIZE / 2;
    size_t overhead = s_encoded_len (base) - base;
    for (size_t target = MSG_MAX_SIZE - 1; target <= MSG_MAX_SIZE + 1; target++) {
        msg_t *msg = s_ping_of (target - overhead);
        char *buf = NULL;
        size_t len = 0;
        msg_error_t err = { 0, "" };
        int rc = msg_encode (msg, &buf, &len, &err);
        if (target <= MSG_MAX_SIZE) {
            CHECK_OK (rc);
            CHECK_EQ (len, target);
            msg_t *got = msg_decode (buf, len, MSG_DECODE_FULL, &err);
            CHECK_NOT_NULL (got);
            CHECK (json_equal (got->body, msg->body));
            msg_destroy (&got);
            free (buf);
        }
        else {
            CHECK_EQ (rc, MSG_ETOOBIG);
            CHECK_EQ (err.code, MSG_ETOOBIG);
            CHECK (err.reason [0] != 0);
            CHECK_NULL (buf);
            CHECK_EQ (len, 0);
        }
        msg_destroy (&msg);
    }
}

//  The same boundary on the decoding side, with messages msg_encode would
//  not produce.
static void
test_msg_decode_size_boundary (void)
{
    size_t base = MSG_MAX_SIZE / 2;
    char *fill = malloc (MSG_MAX_SIZE + 1);
    memset (fill, 'b', MSG_MAX_SIZE + 1);
    ut_env_t env;
    ut_pack_strn (ut_env_ping_data (&env), fill, base);
    size_t len;
    char *data = ut_env_encode (&env, &len);
    free (data);
    ut_env_release (&env);
    size_t overhead = len - base;
    for (size_t target = MSG_MAX_SIZE - 1; target <= MSG_MAX_SIZE + 1; target++) {
        ut_pack_strn (ut_env_ping_data (&env), fill, target - overhead);
        data = ut_env_encode (&env, &len);
        CHECK_EQ (len, target);
        CHECK_EQ (ut_decode_code (data, len), target <= MSG_MAX_SIZE ? 0 : MSG_ETOOBIG);
        free (data);
        ut_env_release (&env);
    }
    free (fill);
}

// ---------------------------------------------------------------------------
//  msg_stamp_seq

static void
test_msg_stamp_seq (void)
{
    static const uint64_t seqs [] = { 1, 255, 256, 0x0102030405060708ULL, UINT64_MAX, 0 };
    msg_t *msg = ut_msg_sample (MSG_TYPE_STATUS_REPLY, 0);
    char *buf;
    size_t len;
    CHECK_OK (msg_encode (msg, &buf, &len, NULL));
    char *orig = malloc (len);
    memcpy (orig, buf, len);
    for (size_t i = 0; i < sizeof seqs / sizeof seqs [0]; i++) {
        CHECK_OK (msg_stamp_seq (buf, len, seqs [i]));
        msg_t *got = msg_decode (buf, len, MSG_DECODE_FULL, NULL);
        CHECK_NOT_NULL (got);
        CHECK (got->seq == seqs [i]);
        CHECK_STR_EQ (got->id, msg->id);
        CHECK_EQ (got->ts, msg->ts);
        CHECK (json_equal (got->body, msg->body));
        msg_destroy (&got);
        //  Only the 8 seq bytes may differ from the original encoding.
        size_t differing = 0;
        for (size_t b = 0; b < len; b++)
            differing += buf [b] != orig [b];
        CHECK (differing <= 8);
    }
    //  Stamping 0 back restored the original bytes.
    CHECK (memcmp (buf, orig, len) == 0);
    free (orig);
    free (buf);
    msg_destroy (&msg);
}

//  Returns msg_stamp_seq's result on the builder's envelope, checking that
//  a refused buffer is left as it was.
static int
s_stamp_code (ut_env_t *env, size_t cut)
{
    size_t len;
    char *data = ut_env_encode (env, &len);
    ut_env_release (env);
    if (cut)
        len = cut;
    char *orig = malloc (len);
    memcpy (orig, data, len);
    int rc = msg_stamp_seq (data, len, 99);
    if (rc)
        CHECK (memcmp (orig, data, len) == 0);
    free (orig);
    free (data);
    return rc;
}

static void
test_msg_stamp_seq_rejects_non_canonical (void)
{
    ut_env_t env;
    ut_env_init (&env, "ping");
    CHECK_OK (s_stamp_code (&env, 0));
    //  seq as the shortest integer form (as another encoder would write it).
    ut_env_init (&env, "ping");
    msgpack_pack_uint64 (ut_env_set (&env, "seq"), 0);
    CHECK_EQ (s_stamp_code (&env, 0), MSG_EFIELD);
    //  seq not second.
    ut_env_init (&env, "ping");
    ut_env_drop (&env, "seq");
    msgpack_pack_fix_uint64 (ut_env_add (&env, "seq"), 0);
    CHECK_EQ (s_stamp_code (&env, 0), MSG_EFIELD);
    //  v not first.
    ut_env_init (&env, "ping");
    ut_env_drop (&env, "v");
    msgpack_pack_int (ut_env_add (&env, "v"), MSG_VERSION);
    CHECK_EQ (s_stamp_code (&env, 0), MSG_EFIELD);
    //  Another version.
    ut_env_init (&env, "ping");
    msgpack_pack_int (ut_env_set (&env, "v"), MSG_VERSION + 1);
    CHECK_EQ (s_stamp_code (&env, 0), MSG_EFIELD);
    //  Too short to hold the seq.
    ut_env_init (&env, "ping");
    CHECK_EQ (s_stamp_code (&env, 16), MSG_EFIELD);
    ut_env_init (&env, "ping");
    CHECK_OK (s_stamp_code (&env, 17));
    CHECK_EQ (msg_stamp_seq ("", 0, 1), MSG_EFIELD);
    char junk [64];
    memset (junk, 0xcf, sizeof junk);
    CHECK_EQ (msg_stamp_seq (junk, sizeof junk, 1), MSG_EFIELD);
}

// ---------------------------------------------------------------------------
//  Addresses, the type table and error texts

static void
s_check_split (const char *addr, const char *name, const char *instance)
{
    char n [MSG_ADDR_MAX], i [MSG_ADDR_MAX];
    int rc = msg_addr_split (addr, n, i);
    if (rc)
        UNIT_FAIL ("'%s' rejected: %d", addr, rc);
    CHECK_STR_EQ (n, name);
    CHECK_STR_EQ (i, instance);
}

static void
test_msg_addr_split (void)
{
    s_check_split ("scheduler", "scheduler", "");
    s_check_split ("dyno-supervisor@host-1", "dyno-supervisor", "host-1");
    s_check_split ("topic:actor.up", "topic:actor.up", "");
    s_check_split ("broker", "broker", "");
    s_check_split ("cli@Laptop.Local_1", "cli", "Laptop.Local_1");
    s_check_split ("a1.b-c@10.0.0.1", "a1.b-c", "10.0.0.1");
    s_check_split ("topic:a_b-c.9", "topic:a_b-c.9", "");

    char longest [MSG_ADDR_MAX + 1];
    memset (longest, 'b', MSG_ADDR_MAX);
    longest [0] = 'a';
    longest [MSG_ADDR_MAX - 1] = 0;                 // 127 characters
    s_check_split (longest, longest, "");
    longest [60] = '@';
    char name [MSG_ADDR_MAX], instance [MSG_ADDR_MAX];
    CHECK_OK (msg_addr_split (longest, name, instance));
    CHECK_EQ (strlen (name), 60);
    CHECK_EQ (strlen (instance), MSG_ADDR_MAX - 1 - 61);
    longest [60] = 'b';
    longest [MSG_ADDR_MAX - 1] = 'b';
    longest [MSG_ADDR_MAX] = 0;                     // 128 characters
    const char *bad [] = {
        "", "@x", "Upper", "a@", "a b", "a@b c", "a@b@c", "1abc", "-a", ".a", "a_b", "aB",
        "topic:", "topic:Actor", "topic:a b", "topic:a@b", "a:b", "a\tb", longest,
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad [0]; k++)
        if (msg_addr_split (bad [k], name, instance) != MSG_EADDR)
            UNIT_FAIL ("'%.20s' accepted", bad [k]);

    CHECK (msg_addr_is_topic ("topic:actor.up"));
    CHECK (!msg_addr_is_topic ("scheduler"));
    CHECK (!msg_addr_is_topic ("topic"));

    //  The setters keep addresses that fit and refuse longer ones.
    msg_t *msg = msg_new (MSG_TYPE_PING);
    CHECK_OK (msg_set_to (msg, "log-plex"));
    CHECK_EQ (msg_set_to (msg, longest), MSG_EADDR);
    CHECK_STR_EQ (msg->to, "log-plex");
    CHECK_EQ (msg_set_from (msg, longest), MSG_EADDR);
    CHECK_STR_EQ (msg->from, "");
    longest [MSG_ADDR_MAX - 1] = 0;
    CHECK_OK (msg_set_from (msg, longest));
    CHECK_STR_EQ (msg->from, longest);
    msg_destroy (&msg);
}

static void
test_msg_type_table (void)
{
    CHECK_NULL (msg_type_by_id (MSG_TYPE_COUNT));
    CHECK_NULL (msg_type_by_id ((msg_type_id_t) -1));
    CHECK_NULL (msg_type_by_name ("nope", 4));
    CHECK_NULL (msg_type_by_name ("pin", 3));
    for (int t = 0; t < MSG_TYPE_COUNT; t++) {
        const msg_type_t *type = msg_type_by_id ((msg_type_id_t) t);
        CHECK (msg_type_by_name (type->name, strlen (type->name)) == type);
        //  msg_pack_check_body tracks seen fields in 32 bits' worth of flags.
        CHECK (type->field_count <= 32);
        CHECK (type->doc && type->doc [0]);
        for (size_t f = 0; f < type->field_count; f++) {
            const msg_field_t *field = &type->fields [f];
            CHECK (msg_type_field (type, field->name, strlen (field->name)) == field);
            CHECK_NOT_NULL (msg_field_type_name (field->type));
        }
        CHECK_NULL (msg_type_field (type, "x-unknown-extra", 15));
        msg_t *msg = msg_new ((msg_type_id_t) t);
        CHECK (msg->type == type);
        CHECK_EQ (msg->durable, type->durable);
        CHECK (json_is_object (msg->body) && json_object_size (msg->body) == 0);
        msg_destroy (&msg);
    }
}

static void
test_msg_types_markdown (void)
{
    char *md = msg_types_markdown ();
    CHECK_NOT_NULL (md);
    for (int t = 0; t < MSG_TYPE_COUNT; t++) {
        const msg_type_t *type = msg_type_by_id ((msg_type_id_t) t);
        char heading [128];
        snprintf (heading, sizeof heading, "### `%s`\n", type->name);
        if (!strstr (md, heading))
            UNIT_FAIL ("markdown lacks %s", heading);
        for (size_t f = 0; f < type->field_count; f++) {
            char row [128];
            snprintf (row, sizeof row, "| `%s` | %s |", type->fields [f].name,
                      msg_field_type_name (type->fields [f].type));
            CHECK (strstr (md, row) != NULL);
        }
    }
    free (md);
}

static void
test_msg_strerror (void)
{
    const char *unknown = msg_strerror (0);
    for (int code = MSG_ELAST; code <= MSG_EFIRST; code++) {
        CHECK (strcmp (msg_strerror (code), unknown) != 0);
        for (int other = code + 1; other <= MSG_EFIRST; other++)
            CHECK (strcmp (msg_strerror (code), msg_strerror (other)) != 0);
    }
}

static void
test_msg_body_helpers (void)
{
    msg_t *msg = msg_new (MSG_TYPE_HELLO);
    msg_set_str (msg, "name", "scheduler");
    msg_set_int (msg, "pid", INT64_MIN);
    msg_set_bool (msg, "singleton", true);
    CHECK_STR_EQ (msg_str (msg, "name", NULL), "scheduler");
    CHECK_EQ (msg_int (msg, "pid", 0), INT64_MIN);
    CHECK (msg_bool (msg, "singleton", false));
    //  Absent or of another type: the default.
    CHECK_STR_EQ (msg_str (msg, "pid", "dflt"), "dflt");
    CHECK_EQ (msg_int (msg, "name", 42), 42);
    CHECK (msg_bool (msg, "missing", true));
    CHECK (!msg_bool (msg, "name", false));
    msg_set_id (msg, UT_ID "ffff");                  // truncated to 32
    CHECK_STR_EQ (msg->id, UT_ID);
    msg_set_corr (msg, UT_ID);
    CHECK_STR_EQ (msg->corr, UT_ID);
    msg_destroy (&msg);
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_msg_round_trip_every_type),
    UNIT_TEST (test_msg_builder_matches_encoder),
    UNIT_TEST (test_msg_decode_hand_built_bodies),
    UNIT_TEST (test_msg_encode_size_boundary),
    UNIT_TEST (test_msg_decode_size_boundary),
    UNIT_TEST (test_msg_stamp_seq),
    UNIT_TEST (test_msg_stamp_seq_rejects_non_canonical),
    UNIT_TEST (test_msg_addr_split),
    UNIT_TEST (test_msg_type_table),
    UNIT_TEST (test_msg_types_markdown),
    UNIT_TEST (test_msg_strerror),
    UNIT_TEST (test_msg_body_helpers),
};

UNIT_SUITE (unit_suite_msg, s_tests);
