//  msg_builder - sample messages and hand-built msgpack for the msg suites
//
//  See msg_builder.h. Owns nothing between calls; a ut_env_t's buffers
//  belong to its caller between ut_env_init and ut_env_release.

#include "msg_builder.h"
#include "../../messages/msg_pack.h"

#include <stdint.h>

//  Bytes that are not valid UTF-8 (0xff) and hold a NUL: a bin payload.
static const char s_bin [] = "a\0b\xff\xfe\x80";
#define S_BIN_LEN (sizeof s_bin - 1)

// ---------------------------------------------------------------------------
//  Samples

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

json_t *
ut_body_fill (const msg_type_t *type, int variant)
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

msg_t *
ut_msg_sample (msg_type_id_t type, int variant)
{
    static const char *froms [UT_VARIANTS] = {
        "scheduler@host-1", "dyno-supervisor@ip-10-0-0-1.ec2_internal", "cli@Laptop.Local_1", "a"
    };
    static const char *tos [UT_VARIANTS] = {
        "broker", "dyno-supervisor@host-1", "topic:actor.up", "log-plex"
    };
    static const uint64_t seqs [UT_VARIANTS] = { 0, UINT64_MAX, 12345, 1 };
    static const int64_t tss [UT_VARIANTS] = { INT64_MIN, INT64_MAX, 0, 1700000000000LL };
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
    msg->body = ut_body_fill (msg->type, variant);
    return msg;
}

int
ut_decode_code (const void *data, size_t len)
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
//  Envelope builder

void
ut_pack_cstr (msgpack_packer *pk, const char *s)
{
    size_t len = strlen (s);
    msgpack_pack_str (pk, len);
    msgpack_pack_str_body (pk, s, len);
}

void
ut_pack_strn (msgpack_packer *pk, const char *s, size_t len)
{
    msgpack_pack_str (pk, len);
    msgpack_pack_str_body (pk, s, len);
}

msgpack_packer *
ut_env_add (ut_env_t *env, const char *key)
{
    CHECK (env->count < UT_ENV_SLOTS);
    ut_slot_t *slot = &env->slots [env->count++];
    slot->used = true;
    snprintf (slot->key, sizeof slot->key, "%s", key);
    msgpack_sbuffer_init (&slot->val);
    msgpack_packer_init (&slot->pk, &slot->val, msgpack_sbuffer_write);
    return &slot->pk;
}

msgpack_packer *
ut_env_set (ut_env_t *env, const char *key)
{
    for (size_t i = 0; i < env->count; i++) {
        ut_slot_t *slot = &env->slots [i];
        if (slot->used && strcmp (slot->key, key) == 0) {
            msgpack_sbuffer_clear (&slot->val);
            return &slot->pk;
        }
    }
    return ut_env_add (env, key);
}

void
ut_env_drop (ut_env_t *env, const char *key)
{
    for (size_t i = 0; i < env->count; i++)
        if (strcmp (env->slots [i].key, key) == 0)
            env->slots [i].used = false;
}

void
ut_env_init (ut_env_t *env, const char *type)
{
    memset (env, 0, sizeof *env);
    msgpack_pack_int (ut_env_add (env, "v"), MSG_VERSION);
    msgpack_pack_fix_uint64 (ut_env_add (env, "seq"), 0);
    ut_pack_cstr (ut_env_add (env, "id"), UT_ID);
    ut_pack_cstr (ut_env_add (env, "type"), type);
    ut_pack_cstr (ut_env_add (env, "from"), UT_FROM);
    ut_pack_cstr (ut_env_add (env, "to"), UT_TO);
    ut_pack_cstr (ut_env_add (env, "corr"), "");
    msgpack_pack_int64 (ut_env_add (env, "ts"), 0);
    msgpack_pack_false (ut_env_add (env, "dur"));
    msgpack_pack_map (ut_env_add (env, "body"), 0);
}

void
ut_env_release (ut_env_t *env)
{
    for (size_t i = 0; i < env->count; i++)
        msgpack_sbuffer_destroy (&env->slots [i].val);
    env->count = 0;
}

char *
ut_env_encode (const ut_env_t *env, size_t *len_p)
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
        const ut_slot_t *slot = &env->slots [i];
        if (!slot->used)
            continue;
        if (slot->int_key)
            msgpack_pack_int (&pk, 7);
        else
            ut_pack_cstr (&pk, slot->key);
        if (slot->val.size)
            msgpack_sbuffer_write (&sbuf, slot->val.data, slot->val.size);
    }
    *len_p = sbuf.size;
    return sbuf.data;
}

int
ut_env_code (ut_env_t *env)
{
    size_t len;
    char *data = ut_env_encode (env, &len);
    int code = ut_decode_code (data, len);
    free (data);
    ut_env_release (env);
    return code;
}

void
ut_pack_json (msgpack_packer *pk, const json_t *v, bool bin)
{
    switch (json_typeof (v)) {
        case JSON_OBJECT: {
            msgpack_pack_map (pk, json_object_size (v));
            const char *key;
            json_t *value;
            json_object_foreach ((json_t *) v, key, value) {
                ut_pack_cstr (pk, key);
                ut_pack_json (pk, value, false);
            }
            break;
        }
        case JSON_ARRAY:
            msgpack_pack_array (pk, json_array_size (v));
            for (size_t i = 0; i < json_array_size (v); i++)
                ut_pack_json (pk, json_array_get (v, i), bin);
            break;
        case JSON_STRING: {
            const char *s = json_string_value (v);
            size_t len = json_string_length (v);
            if (bin || !msg_pack_utf8_valid (s, len)) {
                msgpack_pack_bin (pk, len);
                msgpack_pack_bin_body (pk, s, len);
            }
            else
                ut_pack_strn (pk, s, len);
            break;
        }
        case JSON_INTEGER: msgpack_pack_int64 (pk, json_integer_value (v)); break;
        case JSON_REAL:    msgpack_pack_double (pk, json_real_value (v)); break;
        case JSON_TRUE:    msgpack_pack_true (pk); break;
        case JSON_FALSE:   msgpack_pack_false (pk); break;
        case JSON_NULL:    msgpack_pack_nil (pk); break;
    }
}

msgpack_packer *
ut_env_body (ut_env_t *env, const msg_type_t *type, const json_t *body, size_t extra)
{
    msgpack_packer *pk = ut_env_set (env, "type");
    ut_pack_cstr (pk, type->name);
    pk = ut_env_set (env, "body");
    msgpack_pack_map (pk, json_object_size (body) + extra);
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *) body, key, value) {
        const msg_field_t *field = msg_type_field (type, key, strlen (key));
        ut_pack_cstr (pk, key);
        ut_pack_json (pk, value, field && (field->type == MSG_FIELD_BIN
                                       || field->type == MSG_FIELD_BIN_ARRAY));
    }
    return pk;
}

msgpack_packer *
ut_env_ping_data (ut_env_t *env)
{
    ut_env_init (env, "ping");
    msgpack_packer *pk = ut_env_set (env, "body");
    msgpack_pack_map (pk, 1);
    ut_pack_cstr (pk, "data");
    return pk;
}
