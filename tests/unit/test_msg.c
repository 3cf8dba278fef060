//  test_msg - unit tests for the wire format (messages/)
//
//  Covers msg.h and msg_types.h: an encode->decode round trip of every type
//  in the table with every schema field filled (and an unknown field kept),
//  the MSG_MAX_SIZE boundary, rejection of each kind of malformed input with
//  its MSG_E* code, msg_stamp_seq, address parsing and the generated type
//  reference. Malformed messages are built by hand with msgpack-c through a
//  small envelope builder (s_env_t) whose default output is byte-for-byte
//  what msg_encode writes, so each case differs from a valid message only in
//  the way it names.

#include "unit.h"
#include "../../messages/msg.h"
#include "../../messages/msg_pack.h"

#include <jansson.h>
#include <msgpack.h>
#include <stdint.h>

#define S_ID      "0123456789abcdef0123456789abcdef"
#define S_FROM    "cli@host-1"
#define S_TO      "scheduler"
#define VARIANTS  4             // body variants per type, see s_fill_body
#define ENV_SLOTS 16

//  Bytes that are not valid UTF-8 (0xff) and hold a NUL: a bin payload.
static const char s_bin [] = "a\0b\xff\xfe\x80";
#define S_BIN_LEN (sizeof s_bin - 1)

// ---------------------------------------------------------------------------
//  Bodies that fill every schema field

//  A value of `type` for the idx-th field; `variant` picks the extremes:
//  0 uses INT64_MIN, 1 INT64_MAX, 2 small and empty values.
static json_t *
s_value (msg_field_type_t type, int variant, size_t idx)
{
    static const int64_t small [] = { 0, -1, 127, 128, 255, 256, 65535, 65536,
                                      4294967296LL, -33, -129, -32769 };
    switch (type) {
        case MSG_FIELD_STR:
            if (variant == 2)
                return json_string ("");
            return json_string ("h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9d\x84\x9e \"q\"");
        case MSG_FIELD_INT:
            if (variant == 0)
                return json_integer (INT64_MIN + (int64_t) idx);
            if (variant == 1)
                return json_integer (INT64_MAX - (int64_t) idx);
            return json_integer (small [idx % (sizeof small / sizeof small [0])]);
        case MSG_FIELD_BOOL:
            return json_boolean ((variant + (int) idx) % 2);
        case MSG_FIELD_BIN:
            return variant == 2 ? json_stringn_nocheck ("", 0)
                                : json_stringn_nocheck (s_bin, S_BIN_LEN);
        case MSG_FIELD_MAP:
            return json_pack ("{s:s, s:I, s:{s:[i, s, n]}, s:o, s:f, s:b, s:{}}",
                              "k", "v", "n", (json_int_t) INT64_MIN, "nested", "a", 1, "x",
                              "raw", json_stringn_nocheck ("\xff\0", 2), "real", 1.5,
                              "flag", 0, "empty");
        case MSG_FIELD_ARRAY:
            return json_pack ("[s, I, b, n, {s:i}, [], f]", "x", (json_int_t) INT64_MAX, 1,
                              "m", 2, 2.5);
        case MSG_FIELD_ANY:
            switch (variant) {
                case 0:  return json_pack ("{s:[i, {s:s}]}", "deep", 1, "k", "v");
                case 1:  return json_pack ("[I, I, n]", (json_int_t) INT64_MIN,
                                           (json_int_t) INT64_MAX);
                case 2:  return json_integer (-7);
                default: return json_stringn_nocheck (s_bin, S_BIN_LEN);
            }
        case MSG_FIELD_BIN_ARRAY:
            if (variant == 2)
                return json_array ();
            return json_pack ("[o, s, s]", json_stringn_nocheck (s_bin, S_BIN_LEN), "", "plain");
    }
    return NULL;
}

//  A body for `type`: every field for variants 0..2, only the required ones
//  for variant 3, plus an unknown field always. Caller owns result.
static json_t *
s_fill_body (const msg_type_t *type, int variant)
{
    json_t *body = json_object ();
    for (size_t f = 0; f < type->field_count; f++) {
        const msg_field_t *field = &type->fields [f];
        if (variant < 3 || field->required)
            json_object_set_new (body, field->name, s_value (field->type, variant, f));
    }
    json_object_set_new (body, "x-unknown-extra",
                         json_pack ("{s:[i, s, b], s:o}", "list", 1, "two", 0, "raw",
                                    json_stringn_nocheck ("\xff\x01", 2)));
    return body;
}

// ---------------------------------------------------------------------------
//  Decoding helper

//  Decodes `data` in both modes and without an error out-parameter, and
//  returns 0 when it decoded or the MSG_E* code. The modes must agree, a
//  failure must leave no message and give a reason.
static int
s_decode_code (const void *data, size_t len)
{
    msg_error_t full_err = { 0, "" }, head_err = { 0, "" };
    msg_t *full = msg_decode (data, len, MSG_DECODE_FULL, &full_err);
    msg_t *head = msg_decode (data, len, MSG_DECODE_HEAD, &head_err);
    msg_t *quiet = msg_decode (data, len, MSG_DECODE_FULL, NULL);
    CHECK_EQ (full != NULL, head != NULL);
    CHECK_EQ (full != NULL, quiet != NULL);
    int code = 0;
    if (full) {
        CHECK (json_is_object (full->body));
        CHECK_NULL (head->body);
    }
    else {
        code = full_err.code;
        CHECK (code <= MSG_EFIRST && code >= MSG_ELAST);
        CHECK (full_err.reason [0] != 0);
        CHECK_EQ (head_err.code, code);
    }
    msg_destroy (&full);
    msg_destroy (&head);
    msg_destroy (&quiet);
    return code;
}

// ---------------------------------------------------------------------------
//  Envelope builder for hand-made messages

//  One envelope key and its packed value. Slots are never moved, so the
//  packer's pointer to `val` stays valid.
typedef struct {
    bool used;
    bool int_key;               // write the key as an integer, not a string
    char key [32];
    msgpack_sbuffer val;
    msgpack_packer pk;
} s_slot_t;

typedef struct {
    s_slot_t slots [ENV_SLOTS];
    size_t count;
} s_env_t;

static void
s_pack_cstr (msgpack_packer *pk, const char *s)
{
    size_t len = strlen (s);
    msgpack_pack_str (pk, len);
    msgpack_pack_str_body (pk, s, len);
}

static void
s_pack_strn (msgpack_packer *pk, const char *s, size_t len)
{
    msgpack_pack_str (pk, len);
    msgpack_pack_str_body (pk, s, len);
}

//  Appends a key (duplicates allowed); returns the packer for its value.
static msgpack_packer *
s_env_add (s_env_t *env, const char *key)
{
    CHECK (env->count < ENV_SLOTS);
    s_slot_t *slot = &env->slots [env->count++];
    slot->used = true;
    snprintf (slot->key, sizeof slot->key, "%s", key);
    msgpack_sbuffer_init (&slot->val);
    msgpack_packer_init (&slot->pk, &slot->val, msgpack_sbuffer_write);
    return &slot->pk;
}

//  Replaces the value of `key` in place (appends the key if absent).
static msgpack_packer *
s_env_set (s_env_t *env, const char *key)
{
    for (size_t i = 0; i < env->count; i++) {
        s_slot_t *slot = &env->slots [i];
        if (slot->used && strcmp (slot->key, key) == 0) {
            msgpack_sbuffer_clear (&slot->val);
            return &slot->pk;
        }
    }
    return s_env_add (env, key);
}

static void
s_env_drop (s_env_t *env, const char *key)
{
    for (size_t i = 0; i < env->count; i++)
        if (strcmp (env->slots [i].key, key) == 0)
            env->slots [i].used = false;
}

//  The envelope msg_encode writes for a `type` message with an empty body.
static void
s_env_init (s_env_t *env, const char *type)
{
    memset (env, 0, sizeof *env);
    msgpack_pack_int (s_env_add (env, "v"), MSG_VERSION);
    msgpack_pack_fix_uint64 (s_env_add (env, "seq"), 0);
    s_pack_cstr (s_env_add (env, "id"), S_ID);
    s_pack_cstr (s_env_add (env, "type"), type);
    s_pack_cstr (s_env_add (env, "from"), S_FROM);
    s_pack_cstr (s_env_add (env, "to"), S_TO);
    s_pack_cstr (s_env_add (env, "corr"), "");
    msgpack_pack_int64 (s_env_add (env, "ts"), 0);
    msgpack_pack_false (s_env_add (env, "dur"));
    msgpack_pack_map (s_env_add (env, "body"), 0);
}

static void
s_env_release (s_env_t *env)
{
    for (size_t i = 0; i < env->count; i++)
        msgpack_sbuffer_destroy (&env->slots [i].val);
    env->count = 0;
}

//  Caller owns result.
static char *
s_env_encode (const s_env_t *env, size_t *len_p)
{
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    size_t used = 0;
    for (size_t i = 0; i < env->count; i++)
        used += env->slots [i].used;
    msgpack_pack_map (&pk, used);
    for (size_t i = 0; i < env->count; i++) {
        const s_slot_t *slot = &env->slots [i];
        if (!slot->used)
            continue;
        if (slot->int_key)
            msgpack_pack_int (&pk, 7);
        else
            s_pack_cstr (&pk, slot->key);
        if (slot->val.size)
            msgpack_sbuffer_write (&sbuf, slot->val.data, slot->val.size);
    }
    *len_p = sbuf.size;
    return sbuf.data;
}

//  Encodes the envelope, decodes it, releases it and returns the code.
static int
s_env_code (s_env_t *env)
{
    size_t len;
    char *data = s_env_encode (env, &len);
    int code = s_decode_code (data, len);
    free (data);
    s_env_release (env);
    return code;
}

//  Packs a JSON value as the encoder does: strings as bin when `bin` or when
//  they are not UTF-8, as str otherwise.
static void
s_pack_json (msgpack_packer *pk, const json_t *v, bool bin)
{
    switch (json_typeof (v)) {
        case JSON_OBJECT: {
            msgpack_pack_map (pk, json_object_size (v));
            const char *key;
            json_t *value;
            json_object_foreach ((json_t *) v, key, value) {
                s_pack_cstr (pk, key);
                s_pack_json (pk, value, false);
            }
            break;
        }
        case JSON_ARRAY:
            msgpack_pack_array (pk, json_array_size (v));
            for (size_t i = 0; i < json_array_size (v); i++)
                s_pack_json (pk, json_array_get (v, i), bin);
            break;
        case JSON_STRING: {
            const char *s = json_string_value (v);
            size_t len = json_string_length (v);
            if (bin || !msg_pack_utf8_valid (s, len)) {
                msgpack_pack_bin (pk, len);
                msgpack_pack_bin_body (pk, s, len);
            }
            else
                s_pack_strn (pk, s, len);
            break;
        }
        case JSON_INTEGER: msgpack_pack_int64 (pk, json_integer_value (v)); break;
        case JSON_REAL:    msgpack_pack_double (pk, json_real_value (v)); break;
        case JSON_TRUE:    msgpack_pack_true (pk); break;
        case JSON_FALSE:   msgpack_pack_false (pk); break;
        case JSON_NULL:    msgpack_pack_nil (pk); break;
    }
}

//  Replaces the envelope's type and body: the body map holds `body`'s
//  entries plus `extra` more that the caller packs into the returned packer.
static msgpack_packer *
s_env_body (s_env_t *env, const msg_type_t *type, const json_t *body, size_t extra)
{
    msgpack_packer *pk = s_env_set (env, "type");
    s_pack_cstr (pk, type->name);
    pk = s_env_set (env, "body");
    msgpack_pack_map (pk, json_object_size (body) + extra);
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *) body, key, value) {
        const msg_field_t *field = msg_type_field (type, key, strlen (key));
        s_pack_cstr (pk, key);
        s_pack_json (pk, value, field && (field->type == MSG_FIELD_BIN
                                       || field->type == MSG_FIELD_BIN_ARRAY));
    }
    return pk;
}

//  A ping whose body is {"data": <value the caller packs>}.
static msgpack_packer *
s_env_ping_data (s_env_t *env)
{
    s_env_init (env, "ping");
    msgpack_packer *pk = s_env_set (env, "body");
    msgpack_pack_map (pk, 1);
    s_pack_cstr (pk, "data");
    return pk;
}

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

//  A message of `type` with body variant `variant` and envelope extremes.
//  Caller owns result.
static msg_t *
s_sample (msg_type_id_t type, int variant)
{
    static const char *froms [VARIANTS] = {
        "scheduler@host-1", "dyno-supervisor@ip-10-0-0-1.ec2_internal", "cli@Laptop.Local_1", "a"
    };
    static const char *tos [VARIANTS] = {
        "broker", "dyno-supervisor@host-1", "topic:actor.up", "log-plex"
    };
    static const uint64_t seqs [VARIANTS] = { 0, UINT64_MAX, 12345, 1 };
    static const int64_t tss [VARIANTS] = { INT64_MIN, INT64_MAX, 0, 1700000000000LL };
    msg_t *msg = msg_new (type);
    char id [MSG_ID_LEN + 1];
    snprintf (id, sizeof id, "%016llx%016llx", 0xfedcba9876543210ULL + (unsigned) type,
              0x0123456789abcdefULL * (unsigned) (variant + 1));
    msg_set_id (msg, id);
    if (variant % 2) {
        id [0] = 'c';
        msg_set_corr (msg, id);
    }
    CHECK_OK (msg_set_from (msg, froms [variant]));
    CHECK_OK (msg_set_to (msg, tos [variant]));
    msg->seq = seqs [variant];
    msg->ts = tss [variant];
    msg->durable = variant % 2 == 1;
    json_decref (msg->body);
    msg->body = s_fill_body (msg->type, variant);
    return msg;
}

static void
test_msg_round_trip_every_type (void)
{
    for (int t = 0; t < MSG_TYPE_COUNT; t++) {
        const msg_type_t *type = msg_type_by_id ((msg_type_id_t) t);
        CHECK_NOT_NULL (type);
        CHECK_EQ (type->id, t);
        for (int variant = 0; variant < VARIANTS; variant++) {
            msg_t *sent = s_sample ((msg_type_id_t) t, variant);
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
    msg_set_id (msg, S_ID);
    CHECK_OK (msg_set_from (msg, S_FROM));
    CHECK_OK (msg_set_to (msg, S_TO));
    char *buf;
    size_t len;
    CHECK_OK (msg_encode (msg, &buf, &len, NULL));
    s_env_t env;
    s_env_init (&env, "ping");
    size_t env_len;
    char *env_buf = s_env_encode (&env, &env_len);
    CHECK_EQ (env_len, len);
    CHECK (memcmp (env_buf, buf, len) == 0);
    CHECK_OK (s_env_code (&env));
    free (env_buf);
    free (buf);
    msg_destroy (&msg);
}

//  Bodies packed by hand from s_fill_body decode to the same JSON.
static void
test_msg_decode_hand_built_bodies (void)
{
    for (int t = 0; t < MSG_TYPE_COUNT; t++) {
        const msg_type_t *type = msg_type_by_id ((msg_type_id_t) t);
        for (int variant = 0; variant < VARIANTS; variant++) {
            json_t *body = s_fill_body (type, variant);
            s_env_t env;
            s_env_init (&env, "ping");
            s_env_body (&env, type, body, 0);
            size_t len;
            char *data = s_env_encode (&env, &len);
            msg_error_t err = { 0, "" };
            msg_t *msg = msg_decode (data, len, MSG_DECODE_FULL, &err);
            if (!msg)
                UNIT_FAIL ("%s variant %d: %s", type->name, variant, err.reason);
            CHECK (msg->type == type);
            CHECK (json_equal (msg->body, body));
            msg_destroy (&msg);
            free (data);
            s_env_release (&env);
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
    msg_set_id (msg, S_ID);
    CHECK_OK (msg_set_from (msg, S_FROM));
    CHECK_OK (msg_set_to (msg, S_TO));
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
    s_env_t env;
    s_pack_strn (s_env_ping_data (&env), fill, base);
    size_t len;
    char *data = s_env_encode (&env, &len);
    free (data);
    s_env_release (&env);
    size_t overhead = len - base;
    for (size_t target = MSG_MAX_SIZE - 1; target <= MSG_MAX_SIZE + 1; target++) {
        s_pack_strn (s_env_ping_data (&env), fill, target - overhead);
        data = s_env_encode (&env, &len);
        CHECK_EQ (len, target);
        CHECK_EQ (s_decode_code (data, len), target <= MSG_MAX_SIZE ? 0 : MSG_ETOOBIG);
        free (data);
        s_env_release (&env);
    }
    free (fill);
}

// ---------------------------------------------------------------------------
//  Malformed input: framing

static void
test_msg_reject_empty (void)
{
    CHECK_EQ (s_decode_code ("", 0), MSG_EMALFORMED);
    CHECK_EQ (s_decode_code (NULL, 0), MSG_EMALFORMED);
}

static void
test_msg_reject_every_truncation (void)
{
    for (int t = 0; t < MSG_TYPE_COUNT; t++) {
        msg_t *msg = s_sample ((msg_type_id_t) t, 0);
        char *buf;
        size_t len;
        CHECK_OK (msg_encode (msg, &buf, &len, NULL));
        for (size_t cut = 0; cut < len; cut++) {
            //  A copy of exactly `cut` bytes so ASan sees any over-read.
            char *prefix = malloc (cut ? cut : 1);
            memcpy (prefix, buf, cut);
            int code = s_decode_code (prefix, cut);
            if (code != MSG_EMALFORMED)
                UNIT_FAIL ("%s cut at %zu of %zu: code %d", msg->type->name, cut, len, code);
            free (prefix);
        }
        CHECK_OK (s_decode_code (buf, len));
        free (buf);
        msg_destroy (&msg);
    }
}

static void
test_msg_reject_trailing (void)
{
    msg_t *msg = s_sample (MSG_TYPE_HELLO, 0);
    char *buf;
    size_t len;
    CHECK_OK (msg_encode (msg, &buf, &len, NULL));
    char *two = malloc (2 * len);
    memcpy (two, buf, len);
    memcpy (two + len, buf, len);
    CHECK_EQ (s_decode_code (two, len + 1), MSG_ETRAILING);
    CHECK_EQ (s_decode_code (two, 2 * len), MSG_ETRAILING);
    two [len] = 0;          // a trailing NUL byte (msgpack 0 = fixint 0)
    CHECK_EQ (s_decode_code (two, len + 1), MSG_ETRAILING);
    free (two);
    free (buf);
    msg_destroy (&msg);
}

static void
test_msg_reject_reserved_byte (void)
{
    //  0xc1 is never used in msgpack, neither at the top nor in a body.
    CHECK_EQ (s_decode_code ("\xc1", 1), MSG_EMALFORMED);
    s_env_t env;
    msgpack_packer *pk = s_env_ping_data (&env);
    msgpack_pack_array (pk, 2);
    msgpack_pack_nil (pk);
    pk->callback (pk->data, "\xc1", 1);
    CHECK_EQ (s_env_code (&env), MSG_EMALFORMED);
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
        CHECK_EQ (s_decode_code (cases [i].data, cases [i].len), MSG_ENOTMAP);
    //  An ext value as the whole message.
    CHECK_EQ (s_decode_code ("\xd4\x01\x00", 3), MSG_ENOTMAP);
}

// ---------------------------------------------------------------------------
//  Malformed input: envelope keys

static void
test_msg_reject_wrong_version (void)
{
    s_env_t env;
    s_env_init (&env, "ping");
    msgpack_pack_int (s_env_set (&env, "v"), MSG_VERSION + 1);
    CHECK_EQ (s_env_code (&env), MSG_EVERSION);
    s_env_init (&env, "ping");
    msgpack_pack_int (s_env_set (&env, "v"), 0);
    CHECK_EQ (s_env_code (&env), MSG_EVERSION);
    s_env_init (&env, "ping");
    msgpack_pack_int (s_env_set (&env, "v"), -MSG_VERSION);
    CHECK_EQ (s_env_code (&env), MSG_EVERSION);
    s_env_init (&env, "ping");
    s_pack_cstr (s_env_set (&env, "v"), "1");
    CHECK_EQ (s_env_code (&env), MSG_EVERSION);
    s_env_init (&env, "ping");
    msgpack_pack_double (s_env_set (&env, "v"), MSG_VERSION);
    CHECK_EQ (s_env_code (&env), MSG_EVERSION);
    //  The same version in a wider integer encoding is still that version.
    s_env_init (&env, "ping");
    msgpack_pack_fix_uint32 (s_env_set (&env, "v"), MSG_VERSION);
    CHECK_OK (s_env_code (&env));
}

static void
test_msg_reject_missing_key (void)
{
    static const char *keys [] = {
        "v", "seq", "id", "type", "from", "to", "corr", "ts", "dur", "body"
    };
    for (size_t i = 0; i < 10; i++) {
        s_env_t env;
        s_env_init (&env, "ping");
        s_env_drop (&env, keys [i]);
        CHECK_EQ (s_env_code (&env), MSG_EFIELD);
        //  Ten keys: one missing and another twice.
        bool from = strcmp (keys [i], "from") == 0;
        s_env_init (&env, "ping");
        s_env_drop (&env, keys [i]);
        s_pack_cstr (s_env_add (&env, from ? "to" : "from"), from ? S_TO : S_FROM);
        CHECK_EQ (s_env_code (&env), MSG_EFIELD);
    }
    s_env_t env;
    s_env_init (&env, "ping");
    for (size_t i = 0; i < 10; i++)
        s_env_drop (&env, keys [i]);
    CHECK_EQ (s_env_code (&env), MSG_EFIELD);
}

static void
test_msg_reject_duplicate_key (void)
{
    //  Eleven keys with one twice: same value, then a different one.
    s_env_t env;
    s_env_init (&env, "ping");
    s_pack_cstr (s_env_add (&env, "id"), S_ID);
    CHECK_EQ (s_env_code (&env), MSG_EFIELD);
    s_env_init (&env, "ping");
    s_pack_cstr (s_env_add (&env, "to"), "log-plex");
    CHECK_EQ (s_env_code (&env), MSG_EFIELD);
    //  Ten keys where "body" replaces "corr" so the count is right.
    s_env_init (&env, "ping");
    s_env_drop (&env, "corr");
    msgpack_pack_map (s_env_add (&env, "body"), 0);
    CHECK_EQ (s_env_code (&env), MSG_EFIELD);
}

static void
test_msg_reject_unknown_key (void)
{
    //  In place of a real key, so the map still has ten entries.
    static const char *unknown [] = { "cor", "corr2", "CORR", "x", "" };
    for (size_t i = 0; i < sizeof unknown / sizeof unknown [0]; i++) {
        s_env_t env;
        s_env_init (&env, "ping");
        s_env_drop (&env, "corr");
        s_pack_cstr (s_env_add (&env, unknown [i]), "");
        CHECK_EQ (s_env_code (&env), MSG_EUNKNOWNKEY);
    }
    //  An eleventh key: the map has the wrong size, rejected before the key
    //  is looked at.
    s_env_t env;
    s_env_init (&env, "ping");
    s_pack_cstr (s_env_add (&env, "extra"), "x");
    int code = s_env_code (&env);
    CHECK (code == MSG_EFIELD || code == MSG_EUNKNOWNKEY);
    //  A key that is not a string.
    s_env_init (&env, "ping");
    s_env_drop (&env, "corr");
    s_pack_cstr (s_env_add (&env, "corr"), "");
    env.slots [env.count - 1].int_key = true;
    CHECK_EQ (s_env_code (&env), MSG_EFIELD);
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
        s_env_t env;
        s_env_init (&env, "ping");
        s_pack_cstr (s_env_set (&env, "id"), bad [i]);
        CHECK_EQ (s_env_code (&env), MSG_EFIELD);
        //  corr follows the same rule but may be empty.
        s_env_init (&env, "ping");
        s_pack_cstr (s_env_set (&env, "corr"), bad [i]);
        CHECK_EQ (s_env_code (&env), bad [i] [0] ? MSG_EFIELD : 0);
    }
    s_env_t env;
    s_env_init (&env, "ping");
    s_pack_strn (s_env_set (&env, "id"), "0123456789abcdef\0" "123456789abcdef", 32);
    CHECK_EQ (s_env_code (&env), MSG_EFIELD);
    s_env_init (&env, "ping");
    msgpack_pack_int (s_env_set (&env, "id"), 1);
    CHECK_EQ (s_env_code (&env), MSG_EFIELD);
    s_env_init (&env, "ping");
    msgpack_packer *pk = s_env_set (&env, "id");
    msgpack_pack_bin (pk, 32);
    msgpack_pack_bin_body (pk, S_ID, 32);
    CHECK_EQ (s_env_code (&env), MSG_EFIELD);
    s_env_init (&env, "ping");
    s_pack_cstr (s_env_set (&env, "corr"), S_ID);
    CHECK_OK (s_env_code (&env));
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
            s_env_t env;
            s_env_init (&env, "ping");
            s_pack_cstr (s_env_set (&env, keys [k]), bad [i]);
            int code = s_env_code (&env);
            if (code != MSG_EADDR)
                UNIT_FAIL ("%s '%.20s': code %d", keys [k], bad [i], code);
        }
        s_env_t env;
        s_env_init (&env, "ping");
        s_pack_strn (s_env_set (&env, keys [k]), "sched\0uler", 10);
        CHECK_EQ (s_env_code (&env), MSG_EADDR);
        s_env_init (&env, "ping");
        msgpack_pack_int (s_env_set (&env, keys [k]), 1);
        CHECK_EQ (s_env_code (&env), MSG_EADDR);
        //  The longest address that fits is fine.
        s_env_init (&env, "ping");
        s_pack_cstr (s_env_set (&env, keys [k]), too_long + 1);
        CHECK_OK (s_env_code (&env));
    }
}

static void
test_msg_reject_unknown_type (void)
{
    static const char *bad [] = { "nope", "", "PING", "ping ", "pin", "actor", "actor.up.x" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        s_env_t env;
        s_env_init (&env, "ping");
        s_pack_cstr (s_env_set (&env, "type"), bad [i]);
        CHECK_EQ (s_env_code (&env), MSG_EBADTYPE);
    }
    s_env_t env;
    s_env_init (&env, "ping");
    s_pack_strn (s_env_set (&env, "type"), "ping\0", 5);
    CHECK_EQ (s_env_code (&env), MSG_EBADTYPE);
    s_env_init (&env, "ping");
    msgpack_pack_int (s_env_set (&env, "type"), MSG_TYPE_PING);
    CHECK_EQ (s_env_code (&env), MSG_EFIELD);
}

static void
test_msg_reject_envelope_value_types (void)
{
    s_env_t env;
    s_env_init (&env, "ping");
    s_pack_cstr (s_env_set (&env, "seq"), "1");
    CHECK_EQ (s_env_code (&env), MSG_EFIELD);
    s_env_init (&env, "ping");
    msgpack_pack_int64 (s_env_set (&env, "seq"), -1);
    CHECK_EQ (s_env_code (&env), MSG_EFIELD);
    s_env_init (&env, "ping");
    msgpack_pack_nil (s_env_set (&env, "ts"));
    CHECK_EQ (s_env_code (&env), MSG_EFIELD);
    s_env_init (&env, "ping");
    msgpack_pack_double (s_env_set (&env, "ts"), 1.0);
    CHECK_EQ (s_env_code (&env), MSG_EFIELD);
    //  A timestamp past INT64_MAX cannot be held in msg_t's int64 ts.
    s_env_init (&env, "ping");
    msgpack_pack_uint64 (s_env_set (&env, "ts"), (uint64_t) INT64_MAX + 1);
    CHECK_EQ (s_env_code (&env), MSG_EFIELD);
    s_env_init (&env, "ping");
    msgpack_pack_int (s_env_set (&env, "dur"), 1);
    CHECK_EQ (s_env_code (&env), MSG_EFIELD);
    s_env_init (&env, "ping");
    msgpack_packer *pk = s_env_set (&env, "ts");
    msgpack_pack_ext (pk, 1, 1);
    msgpack_pack_ext_body (pk, "x", 1);
    CHECK_EQ (s_env_code (&env), MSG_EFIELD);
    //  Values at the edges of their ranges are fine.
    s_env_init (&env, "ping");
    msgpack_pack_uint64 (s_env_set (&env, "ts"), INT64_MAX);
    msgpack_pack_uint64 (s_env_set (&env, "seq"), UINT64_MAX);
    msgpack_pack_true (s_env_set (&env, "dur"));
    size_t len;
    char *data = s_env_encode (&env, &len);
    msg_t *msg = msg_decode (data, len, MSG_DECODE_FULL, NULL);
    CHECK_NOT_NULL (msg);
    CHECK_EQ (msg->ts, INT64_MAX);
    CHECK (msg->seq == UINT64_MAX);
    CHECK (msg->durable);
    msg_destroy (&msg);
    free (data);
    s_env_release (&env);
}

// ---------------------------------------------------------------------------
//  Malformed input: bodies

static void
test_msg_reject_body_not_map (void)
{
    for (int which = 0; which < 5; which++) {
        s_env_t env;
        s_env_init (&env, "heartbeat");
        msgpack_packer *pk = s_env_set (&env, "body");
        switch (which) {
            case 0: msgpack_pack_array (pk, 0); break;
            case 1: s_pack_cstr (pk, "{}"); break;
            case 2: msgpack_pack_nil (pk); break;
            case 3: msgpack_pack_int (pk, 0); break;
            default: msgpack_pack_bin (pk, 0); break;
        }
        CHECK_EQ (s_env_code (&env), MSG_ENOTMAP);
    }
}

static void
test_msg_reject_missing_required_field (void)
{
    size_t cases = 0;
    for (int t = 0; t < MSG_TYPE_COUNT; t++) {
        const msg_type_t *type = msg_type_by_id ((msg_type_id_t) t);
        for (size_t f = 0; f < type->field_count; f++) {
            if (!type->fields [f].required)
                continue;
            json_t *body = s_fill_body (type, 0);
            CHECK_OK (json_object_del (body, type->fields [f].name));
            s_env_t env;
            s_env_init (&env, "ping");
            s_env_body (&env, type, body, 0);
            CHECK_EQ (s_env_code (&env), MSG_EBODY);

            //  The encoder refuses it as well, and writes nothing.
            msg_t *msg = msg_new ((msg_type_id_t) t);
            json_decref (msg->body);
            msg->body = body;
            char *buf = NULL;
            size_t len = 0;
            msg_error_t err = { 0, "" };
            CHECK_EQ (msg_encode (msg, &buf, &len, &err), MSG_EBODY);
            CHECK_EQ (err.code, MSG_EBODY);
            CHECK (strstr (err.reason, type->fields [f].name) != NULL);
            CHECK_NULL (buf);
            msg_destroy (&msg);
            cases++;
        }
    }
    CHECK (cases > 10);
}

//  Packs a value of the wrong wire type for a field of `type`; `which`
//  selects one of two wrong values. False for fields that take anything.
static bool
s_pack_wrong (msgpack_packer *pk, msg_field_type_t type, int which)
{
    switch (type) {
        case MSG_FIELD_STR:
            if (which)
                msgpack_pack_int (pk, 7);
            else {
                msgpack_pack_bin (pk, 1);
                msgpack_pack_bin_body (pk, "x", 1);
            }
            return true;
        case MSG_FIELD_INT:
            if (which)
                s_pack_cstr (pk, "7");
            else
                msgpack_pack_double (pk, 7.0);
            return true;
        case MSG_FIELD_BOOL:
            if (which)
                msgpack_pack_int (pk, 1);
            else
                msgpack_pack_nil (pk);
            return true;
        case MSG_FIELD_BIN:
            if (which)
                s_pack_cstr (pk, "x");
            else
                msgpack_pack_array (pk, 0);
            return true;
        case MSG_FIELD_MAP:
            if (which)
                msgpack_pack_array (pk, 0);
            else
                s_pack_cstr (pk, "{}");
            return true;
        case MSG_FIELD_ARRAY:
            if (which)
                msgpack_pack_map (pk, 0);
            else
                msgpack_pack_nil (pk);
            return true;
        case MSG_FIELD_BIN_ARRAY:
            msgpack_pack_array (pk, 2);
            msgpack_pack_bin (pk, 0);
            if (which)
                s_pack_cstr (pk, "x");
            else
                msgpack_pack_int (pk, 1);
            return true;
        case MSG_FIELD_ANY:
            return false;
    }
    return false;
}

static void
test_msg_reject_field_of_wrong_type (void)
{
    size_t cases = 0;
    for (int t = 0; t < MSG_TYPE_COUNT; t++) {
        const msg_type_t *type = msg_type_by_id ((msg_type_id_t) t);
        for (size_t f = 0; f < type->field_count; f++) {
            const msg_field_t *field = &type->fields [f];
            for (int which = 0; which < 2; which++) {
                json_t *body = s_fill_body (type, 0);
                json_object_del (body, field->name);
                s_env_t env;
                s_env_init (&env, "ping");
                msgpack_packer *pk = s_env_body (&env, type, body, 1);
                s_pack_cstr (pk, field->name);
                if (!s_pack_wrong (pk, field->type, which)) {
                    msgpack_pack_nil (pk);
                    CHECK_OK (s_env_code (&env));
                }
                else {
                    CHECK_EQ (s_env_code (&env), MSG_EBODY);
                    cases++;
                }
                json_decref (body);
            }
        }
    }
    CHECK (cases > 50);

    //  The encoder checks types too.
    msg_t *msg = msg_new (MSG_TYPE_ACK);
    msg_set_str (msg, "seq", "1");
    char *buf = NULL;
    size_t len = 0;
    msg_error_t err = { 0, "" };
    CHECK_EQ (msg_encode (msg, &buf, &len, &err), MSG_EBODY);
    CHECK_NULL (buf);
    json_decref (msg->body);
    msg->body = json_array ();
    CHECK_EQ (msg_encode (msg, &buf, &len, &err), MSG_ENOTMAP);
    CHECK_NULL (buf);
    msg_destroy (&msg);
}

static void
test_msg_reject_duplicate_body_field (void)
{
    const msg_type_t *type = msg_type_by_id (MSG_TYPE_HELLO);
    json_t *body = s_fill_body (type, 0);
    s_env_t env;
    s_env_init (&env, "ping");
    msgpack_packer *pk = s_env_body (&env, type, body, 1);
    s_pack_cstr (pk, "host");
    s_pack_cstr (pk, "other-host");
    CHECK_EQ (s_env_code (&env), MSG_EBODY);
    json_decref (body);
}

static void
test_msg_reject_body_key_not_string (void)
{
    s_env_t env;
    s_env_init (&env, "ping");
    msgpack_packer *pk = s_env_set (&env, "body");
    msgpack_pack_map (pk, 1);
    msgpack_pack_int (pk, 1);
    s_pack_cstr (pk, "x");
    CHECK_EQ (s_env_code (&env), MSG_EBODY);
    pk = s_env_ping_data (&env);
    msgpack_pack_map (pk, 1);
    msgpack_pack_bin (pk, 1);
    msgpack_pack_bin_body (pk, "k", 1);
    msgpack_pack_nil (pk);
    CHECK_EQ (s_env_code (&env), MSG_EBODY);
}

//  A schema with one required field of every field type: the type table
//  has no plain `bin` field, so the body checks are also driven through
//  msg_pack.h with this one.
static const msg_field_t s_all_fields [] = {
    { "s", MSG_FIELD_STR, true, "str" },        { "i", MSG_FIELD_INT, true, "int" },
    { "b", MSG_FIELD_BOOL, true, "bool" },      { "raw", MSG_FIELD_BIN, true, "bin" },
    { "m", MSG_FIELD_MAP, true, "map" },        { "a", MSG_FIELD_ARRAY, true, "array" },
    { "any", MSG_FIELD_ANY, true, "any" },      { "bins", MSG_FIELD_BIN_ARRAY, true, "bins" },
};
static const msg_type_t s_all_type = {
    MSG_TYPE_PING, "x-all", MSG_KIND_COMMAND, false, "every field type",
    s_all_fields, sizeof s_all_fields / sizeof s_all_fields [0]
};

//  Unpacks `sbuf` (pre-checked first, as msg_decode does) and runs the body
//  check on it; with `json_p`, also converts the body.
static int
s_check_packed (const msgpack_sbuffer *sbuf, json_t **json_p)
{
    CHECK_OK (msg_pack_precheck ((const unsigned char *) sbuf->data, sbuf->size, MSG_MAX_DEPTH));
    msgpack_zone zone;
    msgpack_zone_init (&zone, 2048);
    msgpack_object obj;
    size_t offset = 0;
    CHECK_EQ (msgpack_unpack (sbuf->data, sbuf->size, &offset, &zone, &obj),
              MSGPACK_UNPACK_SUCCESS);
    msg_error_t err = { 0, "" };
    int rc = msg_pack_check_body (&obj, &s_all_type, &err);
    if (rc) {
        CHECK_EQ (err.code, rc);
        CHECK (err.reason [0] != 0);
    }
    else if (json_p) {
        //  The schema decides the wire type of strings.
        for (uint32_t k = 0; k < obj.via.map.size; k++) {
            const msgpack_object_kv *kv = &obj.via.map.ptr [k];
            if (kv->key.via.str.size == 3 && memcmp (kv->key.via.str.ptr, "raw", 3) == 0)
                CHECK_EQ (kv->val.type, MSGPACK_OBJECT_BIN);
            if (kv->key.via.str.size == 1 && kv->key.via.str.ptr [0] == 's')
                CHECK_EQ (kv->val.type, MSGPACK_OBJECT_STR);
        }
        *json_p = msg_pack_to_json (&obj, &s_all_type);
    }
    msgpack_zone_destroy (&zone);
    return rc;
}

static void
test_msg_pack_every_field_type (void)
{
    for (int variant = 0; variant < VARIANTS; variant++) {
        json_t *body = s_fill_body (&s_all_type, variant);
        msg_error_t err = { 0, "" };
        CHECK_OK (msg_pack_check_json (body, &s_all_type, &err));
        msgpack_sbuffer sbuf;
        msgpack_sbuffer_init (&sbuf);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
        msg_pack_from_json (&pk, body, &s_all_type);
        json_t *back = NULL;
        CHECK_OK (s_check_packed (&sbuf, &back));
        CHECK (json_equal (back, body));
        json_decref (back);
        msgpack_sbuffer_destroy (&sbuf);
        json_decref (body);
    }
    for (size_t f = 0; f < s_all_type.field_count; f++) {
        const msg_field_t *field = &s_all_fields [f];
        //  Each field missing, on both sides.
        json_t *body = s_fill_body (&s_all_type, 0);
        json_object_del (body, field->name);
        CHECK_EQ (msg_pack_check_json (body, &s_all_type, NULL), MSG_EBODY);
        msgpack_sbuffer sbuf;
        msgpack_sbuffer_init (&sbuf);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
        s_pack_json (&pk, body, false);
        CHECK_EQ (s_check_packed (&sbuf, NULL), MSG_EBODY);
        //  Each field of a wrong wire type.
        for (int which = 0; which < 2; which++) {
            msgpack_sbuffer_clear (&sbuf);
            msgpack_pack_map (&pk, json_object_size (body) + 1);
            const char *key;
            json_t *value;
            json_object_foreach (body, key, value) {
                s_pack_cstr (&pk, key);
                s_pack_json (&pk, value, strcmp (key, "raw") == 0 || strcmp (key, "bins") == 0);
            }
            s_pack_cstr (&pk, field->name);
            if (s_pack_wrong (&pk, field->type, which))
                CHECK_EQ (s_check_packed (&sbuf, NULL), MSG_EBODY);
            else {
                msgpack_pack_nil (&pk);
                CHECK_OK (s_check_packed (&sbuf, NULL));
            }
        }
        msgpack_sbuffer_destroy (&sbuf);
        json_decref (body);
    }
    //  Wrong JSON types before encoding.
    static const struct { const char *key; const char *json; } wrong [] = {
        { "s", "1" }, { "i", "\"1\"" }, { "i", "1.5" }, { "b", "0" }, { "raw", "1" },
        { "m", "[]" }, { "a", "{}" }, { "bins", "[\"x\", 1]" }, { "bins", "\"x\"" },
    };
    for (size_t k = 0; k < sizeof wrong / sizeof wrong [0]; k++) {
        json_t *body = s_fill_body (&s_all_type, 0);
        json_t *value = json_loads (wrong [k].json, JSON_DECODE_ANY, NULL);
        json_object_set_new (body, wrong [k].key, value);
        CHECK_NOT_NULL (json_object_get (body, wrong [k].key));
        if (msg_pack_check_json (body, &s_all_type, NULL) != MSG_EBODY)
            UNIT_FAIL ("'%s' = %s accepted", wrong [k].key, wrong [k].json);
        json_decref (body);
    }
}

//  Byte strings that are not UTF-8: stray bytes, overlong forms,
//  surrogates, values past U+10FFFF and truncated sequences.
static const char *const s_bad_utf8 [] = {
    "\xff", "\xfe", "\x80", "\xbf", "a\x80z", "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80",
    "\xe0\x9f\xbf",
    "\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf", "\xed\xa0\x80", "\xed\xbf\xbf",
    "\xed\xa0\xbd\xed\xb8\x80", "\xf4\x90\x80\x80", "\xf7\xbf\xbf\xbf", "\xf8\x88\x80\x80\x80",
    "\xfc\x84\x80\x80\x80\x80", "\xe2\x82", "\xc3", "\xc3(", "\xf0\x9f\x98",
    "ok\xe2\x82\xac" "bad\xff",
};

static const struct { const char *s; size_t len; } s_good_utf8 [] = {
    { "", 0 }, { "plain", 5 }, { "a\0b", 3 }, { "\x7f", 1 }, { "\xc2\x80", 2 }, { "\xdf\xbf", 2 },
    { "\xe0\xa0\x80", 3 }, { "\xed\x9f\xbf", 3 }, { "\xee\x80\x80", 3 }, { "\xef\xbf\xbf", 3 },
    { "\xf0\x90\x80\x80", 4 }, { "\xf4\x8f\xbf\xbf", 4 }, { "\xe2\x82\xac", 3 },
};

//  An `error` message whose str field `reason` holds `s`.
static int
s_error_reason_code (const char *s, size_t len)
{
    s_env_t env;
    s_env_init (&env, "error");
    msgpack_packer *pk = s_env_set (&env, "body");
    msgpack_pack_map (pk, 2);
    s_pack_cstr (pk, "code");
    msgpack_pack_int (pk, -1);
    s_pack_cstr (pk, "reason");
    s_pack_strn (pk, s, len);
    return s_env_code (&env);
}

static void
test_msg_reject_invalid_utf8 (void)
{
    for (size_t i = 0; i < sizeof s_bad_utf8 / sizeof s_bad_utf8 [0]; i++) {
        const char *s = s_bad_utf8 [i];
        size_t len = strlen (s);
        if (msg_pack_utf8_valid (s, len))
            UNIT_FAIL ("bad UTF-8 #%zu accepted by msg_pack_utf8_valid", i);
        if (s_error_reason_code (s, len) != MSG_EUTF8)
            UNIT_FAIL ("bad UTF-8 #%zu accepted in a str field", i);

        //  Anywhere in the body: an unknown field, a nested value, a map key.
        s_env_t env;
        s_env_init (&env, "ping");
        msgpack_packer *pk = s_env_set (&env, "body");
        msgpack_pack_map (pk, 1);
        s_pack_cstr (pk, "x-unknown");
        s_pack_strn (pk, s, len);
        CHECK_EQ (s_env_code (&env), MSG_EUTF8);
        pk = s_env_ping_data (&env);
        msgpack_pack_array (pk, 2);
        msgpack_pack_nil (pk);
        msgpack_pack_map (pk, 1);
        s_pack_cstr (pk, "k");
        s_pack_strn (pk, s, len);
        CHECK_EQ (s_env_code (&env), MSG_EUTF8);
        pk = s_env_ping_data (&env);
        msgpack_pack_map (pk, 1);
        s_pack_strn (pk, s, len);
        msgpack_pack_nil (pk);
        CHECK_EQ (s_env_code (&env), MSG_EUTF8);
        s_env_init (&env, "ping");
        pk = s_env_set (&env, "body");
        msgpack_pack_map (pk, 1);
        s_pack_strn (pk, s, len);
        msgpack_pack_nil (pk);
        CHECK_EQ (s_env_code (&env), MSG_EUTF8);

        //  The encoder refuses it in a str field.
        msg_t *msg = msg_new (MSG_TYPE_ERROR);
        msg_set_int (msg, "code", -1);
        msg_set_json (msg, "reason", json_stringn_nocheck (s, len));
        char *buf = NULL;
        size_t buf_len = 0;
        CHECK_EQ (msg_encode (msg, &buf, &buf_len, NULL), MSG_EBODY);
        CHECK_NULL (buf);
        msg_destroy (&msg);
    }
    for (size_t i = 0; i < sizeof s_good_utf8 / sizeof s_good_utf8 [0]; i++) {
        CHECK (msg_pack_utf8_valid (s_good_utf8 [i].s, s_good_utf8 [i].len));
        if (s_error_reason_code (s_good_utf8 [i].s, s_good_utf8 [i].len) != 0)
            UNIT_FAIL ("good UTF-8 #%zu rejected", i);
    }
}

//  A ping whose data is `levels` nested one-element arrays around nil (or
//  around nothing when `empty`): with the envelope and the body that is
//  levels + 2 containers deep.
static int
s_nested_code (size_t levels, bool empty)
{
    s_env_t env;
    msgpack_packer *pk = s_env_ping_data (&env);
    for (size_t i = 0; i < levels; i++)
        msgpack_pack_array (pk, empty && i == levels - 1 ? 0 : 1);
    if (!empty)
        msgpack_pack_nil (pk);
    return s_env_code (&env);
}

static void
test_msg_reject_too_deep (void)
{
    CHECK_OK (s_nested_code (MSG_MAX_DEPTH - 2, false));
    CHECK_EQ (s_nested_code (MSG_MAX_DEPTH - 1, false), MSG_ETOODEEP);
    CHECK_OK (s_nested_code (MSG_MAX_DEPTH - 2, true));
    //  An empty container is a level of nesting too.
    CHECK_EQ (s_nested_code (MSG_MAX_DEPTH - 1, true), MSG_ETOODEEP);
    CHECK_EQ (s_nested_code (100000, false), MSG_ETOODEEP);

    //  Maps count like arrays.
    s_env_t env;
    msgpack_packer *pk = s_env_ping_data (&env);
    for (int i = 0; i < MSG_MAX_DEPTH - 1; i++) {
        msgpack_pack_map (pk, 1);
        s_pack_cstr (pk, "k");
    }
    msgpack_pack_nil (pk);
    CHECK_EQ (s_env_code (&env), MSG_ETOODEEP);

    //  Only bytes: a long run of array headers.
    size_t len = 1000000;
    char *data = malloc (len);
    memset (data, 0x91, len);
    CHECK_EQ (s_decode_code (data, len), MSG_ETOODEEP);
    free (data);
}

static void
test_msg_reject_huge_container_count (void)
{
    //  Containers declaring 2^32-1 elements in a few bytes. msgpack-c would
    //  allocate the slots before reading them; the pre-check refuses them
    //  first (MSG_ETOOMANY), where the allocation would end in
    //  MSG_EMALFORMED or an abort.
    CHECK_EQ (s_decode_code ("\xdd\xff\xff\xff\xff", 5), MSG_ETOOMANY);
    CHECK_EQ (s_decode_code ("\xdf\xff\xff\xff\xff", 5), MSG_ETOOMANY);
    CHECK_EQ (s_decode_code ("\xdf\xff\xff\xff\xff\xa1v\x01", 8), MSG_ETOOMANY);
    s_env_t env;
    msgpack_pack_array (s_env_ping_data (&env), 0xffffffffu);
    CHECK_EQ (s_env_code (&env), MSG_ETOOMANY);
    msgpack_pack_map (s_env_ping_data (&env), 0xffffffffu);
    CHECK_EQ (s_env_code (&env), MSG_ETOOMANY);
    //  Under the item limit but more elements than bytes left.
    msgpack_pack_array (s_env_ping_data (&env), 60000);
    CHECK_EQ (s_env_code (&env), MSG_EMALFORMED);
    msgpack_pack_map (s_env_ping_data (&env), 16);
    CHECK_EQ (s_env_code (&env), MSG_EMALFORMED);
    //  Strings and bins declaring more bytes than there are.
    msgpack_pack_str (s_env_ping_data (&env), 0xffffffffu);
    CHECK_EQ (s_env_code (&env), MSG_EMALFORMED);
    msgpack_pack_bin (s_env_ping_data (&env), 0xffffffffu);
    CHECK_EQ (s_env_code (&env), MSG_EMALFORMED);
    msgpack_pack_ext (s_env_ping_data (&env), 0xffffffffu, 1);
    CHECK_EQ (s_env_code (&env), MSG_EMALFORMED);
}

//  MSG_MAX_ITEMS bounds the elements of any one array or map.
static void
test_msg_item_limit (void)
{
    for (size_t n = MSG_MAX_ITEMS; n <= MSG_MAX_ITEMS + 1; n++) {
        s_env_t env;
        msgpack_packer *pk = s_env_ping_data (&env);
        msgpack_pack_array (pk, n);
        for (size_t i = 0; i < n; i++)
            msgpack_pack_nil (pk);
        CHECK_EQ (s_env_code (&env), n <= MSG_MAX_ITEMS ? 0 : MSG_ETOOMANY);

        pk = s_env_ping_data (&env);
        msgpack_pack_map (pk, n);
        for (size_t i = 0; i < n; i++) {
            char key [16];
            snprintf (key, sizeof key, "k%zu", i);
            s_pack_cstr (pk, key);
            msgpack_pack_nil (pk);
        }
        CHECK_EQ (s_env_code (&env), n <= MSG_MAX_ITEMS ? 0 : MSG_ETOOMANY);
    }
}

static void
test_msg_reject_ext (void)
{
    s_env_t env;
    msgpack_packer *pk = s_env_ping_data (&env);
    msgpack_pack_ext (pk, 1, 5);
    msgpack_pack_ext_body (pk, "x", 1);
    CHECK_EQ (s_env_code (&env), MSG_EBODY);
    pk = s_env_ping_data (&env);
    msgpack_pack_array (pk, 2);
    msgpack_pack_nil (pk);
    msgpack_pack_ext (pk, 20, -1);                  // ext8 with a negative type
    msgpack_pack_ext_body (pk, "01234567890123456789", 20);
    CHECK_EQ (s_env_code (&env), MSG_EBODY);
    //  In an unknown field and as a map value.
    s_env_init (&env, "ping");
    pk = s_env_set (&env, "body");
    msgpack_pack_map (pk, 1);
    s_pack_cstr (pk, "x-unknown");
    msgpack_pack_map (pk, 1);
    s_pack_cstr (pk, "k");
    msgpack_pack_ext (pk, 4, 0);
    msgpack_pack_ext_body (pk, "abcd", 4);
    CHECK_EQ (s_env_code (&env), MSG_EBODY);
    //  The msgpack timestamp extension is an ext like any other.
    pk = s_env_ping_data (&env);
    msgpack_pack_ext (pk, 4, -1);
    msgpack_pack_ext_body (pk, "\0\0\0\1", 4);
    CHECK_EQ (s_env_code (&env), MSG_EBODY);
}

static void
test_msg_reject_int_over_int64 (void)
{
    s_env_t env;
    msgpack_pack_uint64 (s_env_ping_data (&env), (uint64_t) INT64_MAX + 1);
    CHECK_EQ (s_env_code (&env), MSG_EBODY);
    msgpack_pack_uint64 (s_env_ping_data (&env), UINT64_MAX);
    CHECK_EQ (s_env_code (&env), MSG_EBODY);
    msgpack_packer *pk = s_env_ping_data (&env);
    msgpack_pack_array (pk, 1);
    msgpack_pack_uint64 (pk, UINT64_MAX);
    CHECK_EQ (s_env_code (&env), MSG_EBODY);
    //  In an int field of the schema.
    s_env_init (&env, "ack");
    pk = s_env_set (&env, "body");
    msgpack_pack_map (pk, 1);
    s_pack_cstr (pk, "seq");
    msgpack_pack_uint64 (pk, (uint64_t) INT64_MAX + 1);
    CHECK_EQ (s_env_code (&env), MSG_EBODY);
    //  INT64_MAX itself, as a uint64 on the wire, is fine.
    msgpack_pack_uint64 (s_env_ping_data (&env), INT64_MAX);
    size_t len;
    char *data = s_env_encode (&env, &len);
    msg_t *msg = msg_decode (data, len, MSG_DECODE_FULL, NULL);
    CHECK_NOT_NULL (msg);
    CHECK_EQ (msg_int (msg, "data", 0), INT64_MAX);
    msg_destroy (&msg);
    free (data);
    s_env_release (&env);
}

// ---------------------------------------------------------------------------
//  msg_stamp_seq

static void
test_msg_stamp_seq (void)
{
    static const uint64_t seqs [] = { 1, 255, 256, 0x0102030405060708ULL, UINT64_MAX, 0 };
    msg_t *msg = s_sample (MSG_TYPE_STATUS_REPLY, 0);
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
s_stamp_code (s_env_t *env, size_t cut)
{
    size_t len;
    char *data = s_env_encode (env, &len);
    s_env_release (env);
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
    s_env_t env;
    s_env_init (&env, "ping");
    CHECK_OK (s_stamp_code (&env, 0));
    //  seq as the shortest integer form (as another encoder would write it).
    s_env_init (&env, "ping");
    msgpack_pack_uint64 (s_env_set (&env, "seq"), 0);
    CHECK_EQ (s_stamp_code (&env, 0), MSG_EFIELD);
    //  seq not second.
    s_env_init (&env, "ping");
    s_env_drop (&env, "seq");
    msgpack_pack_fix_uint64 (s_env_add (&env, "seq"), 0);
    CHECK_EQ (s_stamp_code (&env, 0), MSG_EFIELD);
    //  v not first.
    s_env_init (&env, "ping");
    s_env_drop (&env, "v");
    msgpack_pack_int (s_env_add (&env, "v"), MSG_VERSION);
    CHECK_EQ (s_stamp_code (&env, 0), MSG_EFIELD);
    //  Another version.
    s_env_init (&env, "ping");
    msgpack_pack_int (s_env_set (&env, "v"), MSG_VERSION + 1);
    CHECK_EQ (s_stamp_code (&env, 0), MSG_EFIELD);
    //  Too short to hold the seq.
    s_env_init (&env, "ping");
    CHECK_EQ (s_stamp_code (&env, 16), MSG_EFIELD);
    s_env_init (&env, "ping");
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
    msg_set_id (msg, S_ID "ffff");                  // truncated to 32
    CHECK_STR_EQ (msg->id, S_ID);
    msg_set_corr (msg, S_ID);
    CHECK_STR_EQ (msg->corr, S_ID);
    msg_destroy (&msg);
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_msg_round_trip_every_type),
    UNIT_TEST (test_msg_builder_matches_encoder),
    UNIT_TEST (test_msg_decode_hand_built_bodies),
    UNIT_TEST (test_msg_encode_size_boundary),
    UNIT_TEST (test_msg_decode_size_boundary),
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
    UNIT_TEST (test_msg_reject_body_not_map),
    UNIT_TEST (test_msg_reject_missing_required_field),
    UNIT_TEST (test_msg_reject_field_of_wrong_type),
    UNIT_TEST (test_msg_reject_duplicate_body_field),
    UNIT_TEST (test_msg_reject_body_key_not_string),
    UNIT_TEST (test_msg_pack_every_field_type),
    UNIT_TEST (test_msg_reject_invalid_utf8),
    UNIT_TEST (test_msg_reject_too_deep),
    UNIT_TEST (test_msg_reject_huge_container_count),
    UNIT_TEST (test_msg_item_limit),
    UNIT_TEST (test_msg_reject_ext),
    UNIT_TEST (test_msg_reject_int_over_int64),
    UNIT_TEST (test_msg_stamp_seq),
    UNIT_TEST (test_msg_stamp_seq_rejects_non_canonical),
    UNIT_TEST (test_msg_addr_split),
    UNIT_TEST (test_msg_type_table),
    UNIT_TEST (test_msg_types_markdown),
    UNIT_TEST (test_msg_strerror),
    UNIT_TEST (test_msg_body_helpers),
};

UNIT_SUITE (unit_suite_msg, s_tests);
