//  test_msg_body - message bodies checked against the type table's schemas
//
//  Bodies refused by msg_decode (and by msg_encode where it can be given
//  them) with their MSG_E* code: not a map, a required field missing, a
//  field of the wrong wire type, a field twice, a key that is no string,
//  invalid UTF-8 anywhere, nesting past MSG_MAX_DEPTH, containers past
//  MSG_MAX_ITEMS or longer than the bytes left, ext values and integers
//  past INT64_MAX; and msg_pack.h's body checks driven directly with a
//  schema holding one field of every type. Cases are packed by hand with
//  msg_builder.h; framing and envelopes are in test_msg_reject.c.

#include "msg_builder.h"
#include "../../messages/msg_pack.h"

#include <stdint.h>

// ---------------------------------------------------------------------------
//  Malformed input: bodies

static void
test_msg_reject_body_not_map (void)
{
    for (int which = 0; which < 5; which++) {
        ut_env_t env;
        ut_env_init (&env, "heartbeat");
        msgpack_packer *pk = ut_env_set (&env, "body");
        switch (which) {
            case 0: msgpack_pack_array (pk, 0); break;
            case 1: ut_pack_cstr (pk, "{}"); break;
            case 2: msgpack_pack_nil (pk); break;
            case 3: msgpack_pack_int (pk, 0); break;
            default: msgpack_pack_bin (pk, 0); break;
        }
        CHECK_EQ (ut_env_code (&env), MSG_ENOTMAP);
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
            json_t *body = ut_body_fill (type, 0);
            CHECK_OK (json_object_del (body, type->fields [f].name));
            ut_env_t env;
            ut_env_init (&env, "ping");
            ut_env_body (&env, type, body, 0);
            CHECK_EQ (ut_env_code (&env), MSG_EBODY);

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
                ut_pack_cstr (pk, "7");
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
                ut_pack_cstr (pk, "x");
            else
                msgpack_pack_array (pk, 0);
            return true;
        case MSG_FIELD_MAP:
            if (which)
                msgpack_pack_array (pk, 0);
            else
                ut_pack_cstr (pk, "{}");
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
                ut_pack_cstr (pk, "x");
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
                json_t *body = ut_body_fill (type, 0);
                json_object_del (body, field->name);
                ut_env_t env;
                ut_env_init (&env, "ping");
                msgpack_packer *pk = ut_env_body (&env, type, body, 1);
                ut_pack_cstr (pk, field->name);
                if (!s_pack_wrong (pk, field->type, which)) {
                    msgpack_pack_nil (pk);
                    CHECK_OK (ut_env_code (&env));
                }
                else {
                    CHECK_EQ (ut_env_code (&env), MSG_EBODY);
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
    json_t *body = ut_body_fill (type, 0);
    ut_env_t env;
    ut_env_init (&env, "ping");
    msgpack_packer *pk = ut_env_body (&env, type, body, 1);
    ut_pack_cstr (pk, "host");
    ut_pack_cstr (pk, "other-host");
    CHECK_EQ (ut_env_code (&env), MSG_EBODY);
    json_decref (body);
}

static void
test_msg_reject_body_key_not_string (void)
{
    ut_env_t env;
    ut_env_init (&env, "ping");
    msgpack_packer *pk = ut_env_set (&env, "body");
    msgpack_pack_map (pk, 1);
    msgpack_pack_int (pk, 1);
    ut_pack_cstr (pk, "x");
    CHECK_EQ (ut_env_code (&env), MSG_EBODY);
    pk = ut_env_ping_data (&env);
    msgpack_pack_map (pk, 1);
    msgpack_pack_bin (pk, 1);
    msgpack_pack_bin_body (pk, "k", 1);
    msgpack_pack_nil (pk);
    CHECK_EQ (ut_env_code (&env), MSG_EBODY);
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
    for (int variant = 0; variant < UT_VARIANTS; variant++) {
        json_t *body = ut_body_fill (&s_all_type, variant);
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
        json_t *body = ut_body_fill (&s_all_type, 0);
        json_object_del (body, field->name);
        CHECK_EQ (msg_pack_check_json (body, &s_all_type, NULL), MSG_EBODY);
        msgpack_sbuffer sbuf;
        msgpack_sbuffer_init (&sbuf);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
        ut_pack_json (&pk, body, false);
        CHECK_EQ (s_check_packed (&sbuf, NULL), MSG_EBODY);
        //  Each field of a wrong wire type.
        for (int which = 0; which < 2; which++) {
            msgpack_sbuffer_clear (&sbuf);
            msgpack_pack_map (&pk, json_object_size (body) + 1);
            const char *key;
            json_t *value;
            json_object_foreach (body, key, value) {
                ut_pack_cstr (&pk, key);
                ut_pack_json (&pk, value, strcmp (key, "raw") == 0 || strcmp (key, "bins") == 0);
            }
            ut_pack_cstr (&pk, field->name);
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
        json_t *body = ut_body_fill (&s_all_type, 0);
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
    ut_env_t env;
    ut_env_init (&env, "error");
    msgpack_packer *pk = ut_env_set (&env, "body");
    msgpack_pack_map (pk, 2);
    ut_pack_cstr (pk, "code");
    msgpack_pack_int (pk, -1);
    ut_pack_cstr (pk, "reason");
    ut_pack_strn (pk, s, len);
    return ut_env_code (&env);
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
        ut_env_t env;
        ut_env_init (&env, "ping");
        msgpack_packer *pk = ut_env_set (&env, "body");
        msgpack_pack_map (pk, 1);
        ut_pack_cstr (pk, "x-unknown");
        ut_pack_strn (pk, s, len);
        CHECK_EQ (ut_env_code (&env), MSG_EUTF8);
        pk = ut_env_ping_data (&env);
        msgpack_pack_array (pk, 2);
        msgpack_pack_nil (pk);
        msgpack_pack_map (pk, 1);
        ut_pack_cstr (pk, "k");
        ut_pack_strn (pk, s, len);
        CHECK_EQ (ut_env_code (&env), MSG_EUTF8);
        pk = ut_env_ping_data (&env);
        msgpack_pack_map (pk, 1);
        ut_pack_strn (pk, s, len);
        msgpack_pack_nil (pk);
        CHECK_EQ (ut_env_code (&env), MSG_EUTF8);
        ut_env_init (&env, "ping");
        pk = ut_env_set (&env, "body");
        msgpack_pack_map (pk, 1);
        ut_pack_strn (pk, s, len);
        msgpack_pack_nil (pk);
        CHECK_EQ (ut_env_code (&env), MSG_EUTF8);

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
    ut_env_t env;
    msgpack_packer *pk = ut_env_ping_data (&env);
    for (size_t i = 0; i < levels; i++)
        msgpack_pack_array (pk, empty && i == levels - 1 ? 0 : 1);
    if (!empty)
        msgpack_pack_nil (pk);
    return ut_env_code (&env);
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
    ut_env_t env;
    msgpack_packer *pk = ut_env_ping_data (&env);
    for (int i = 0; i < MSG_MAX_DEPTH - 1; i++) {
        msgpack_pack_map (pk, 1);
        ut_pack_cstr (pk, "k");
    }
    msgpack_pack_nil (pk);
    CHECK_EQ (ut_env_code (&env), MSG_ETOODEEP);

    //  Only bytes: a long run of array headers.
    size_t len = 1000000;
    char *data = malloc (len);
    memset (data, 0x91, len);
    CHECK_EQ (ut_decode_code (data, len), MSG_ETOODEEP);
    free (data);
}

static void
test_msg_reject_huge_container_count (void)
{
    //  Containers declaring 2^32-1 elements in a few bytes. msgpack-c would
    //  allocate the slots before reading them; the pre-check refuses them
    //  first (MSG_ETOOMANY), where the allocation would end in
    //  MSG_EMALFORMED or an abort.
    CHECK_EQ (ut_decode_code ("\xdd\xff\xff\xff\xff", 5), MSG_ETOOMANY);
    CHECK_EQ (ut_decode_code ("\xdf\xff\xff\xff\xff", 5), MSG_ETOOMANY);
    CHECK_EQ (ut_decode_code ("\xdf\xff\xff\xff\xff\xa1v\x01", 8), MSG_ETOOMANY);
    ut_env_t env;
    msgpack_pack_array (ut_env_ping_data (&env), 0xffffffffu);
    CHECK_EQ (ut_env_code (&env), MSG_ETOOMANY);
    msgpack_pack_map (ut_env_ping_data (&env), 0xffffffffu);
    CHECK_EQ (ut_env_code (&env), MSG_ETOOMANY);
    //  Under the item limit but more elements than bytes left.
    msgpack_pack_array (ut_env_ping_data (&env), 60000);
    CHECK_EQ (ut_env_code (&env), MSG_EMALFORMED);
    msgpack_pack_map (ut_env_ping_data (&env), 16);
    CHECK_EQ (ut_env_code (&env), MSG_EMALFORMED);
    //  Strings and bins declaring more bytes than there are.
    msgpack_pack_str (ut_env_ping_data (&env), 0xffffffffu);
    CHECK_EQ (ut_env_code (&env), MSG_EMALFORMED);
    msgpack_pack_bin (ut_env_ping_data (&env), 0xffffffffu);
    CHECK_EQ (ut_env_code (&env), MSG_EMALFORMED);
    msgpack_pack_ext (ut_env_ping_data (&env), 0xffffffffu, 1);
    CHECK_EQ (ut_env_code (&env), MSG_EMALFORMED);
}

//  MSG_MAX_ITEMS bounds the elements of any one array or map.
static void
test_msg_item_limit (void)
{
    for (size_t n = MSG_MAX_ITEMS; n <= MSG_MAX_ITEMS + 1; n++) {
        ut_env_t env;
        msgpack_packer *pk = ut_env_ping_data (&env);
        msgpack_pack_array (pk, n);
        for (size_t i = 0; i < n; i++)
            msgpack_pack_nil (pk);
        CHECK_EQ (ut_env_code (&env), n <= MSG_MAX_ITEMS ? 0 : MSG_ETOOMANY);

        pk = ut_env_ping_data (&env);
        msgpack_pack_map (pk, n);
        for (size_t i = 0; i < n; i++) {
            char key [16];
            snprintf (key, sizeof key, "k%zu", i);
            ut_pack_cstr (pk, key);
            msgpack_pack_nil (pk);
        }
        CHECK_EQ (ut_env_code (&env), n <= MSG_MAX_ITEMS ? 0 : MSG_ETOOMANY);
    }
}

static void
test_msg_reject_ext (void)
{
    ut_env_t env;
    msgpack_packer *pk = ut_env_ping_data (&env);
    msgpack_pack_ext (pk, 1, 5);
    msgpack_pack_ext_body (pk, "x", 1);
    CHECK_EQ (ut_env_code (&env), MSG_EBODY);
    pk = ut_env_ping_data (&env);
    msgpack_pack_array (pk, 2);
    msgpack_pack_nil (pk);
    msgpack_pack_ext (pk, 20, -1);                  // ext8 with a negative type
    msgpack_pack_ext_body (pk, "01234567890123456789", 20);
    CHECK_EQ (ut_env_code (&env), MSG_EBODY);
    //  In an unknown field and as a map value.
    ut_env_init (&env, "ping");
    pk = ut_env_set (&env, "body");
    msgpack_pack_map (pk, 1);
    ut_pack_cstr (pk, "x-unknown");
    msgpack_pack_map (pk, 1);
    ut_pack_cstr (pk, "k");
    msgpack_pack_ext (pk, 4, 0);
    msgpack_pack_ext_body (pk, "abcd", 4);
    CHECK_EQ (ut_env_code (&env), MSG_EBODY);
    //  The msgpack timestamp extension is an ext like any other.
    pk = ut_env_ping_data (&env);
    msgpack_pack_ext (pk, 4, -1);
    msgpack_pack_ext_body (pk, "\0\0\0\1", 4);
    CHECK_EQ (ut_env_code (&env), MSG_EBODY);
}

static void
test_msg_reject_int_over_int64 (void)
{
    ut_env_t env;
    msgpack_pack_uint64 (ut_env_ping_data (&env), (uint64_t) INT64_MAX + 1);
    CHECK_EQ (ut_env_code (&env), MSG_EBODY);
    msgpack_pack_uint64 (ut_env_ping_data (&env), UINT64_MAX);
    CHECK_EQ (ut_env_code (&env), MSG_EBODY);
    msgpack_packer *pk = ut_env_ping_data (&env);
    msgpack_pack_array (pk, 1);
    msgpack_pack_uint64 (pk, UINT64_MAX);
    CHECK_EQ (ut_env_code (&env), MSG_EBODY);
    //  In an int field of the schema.
    ut_env_init (&env, "ack");
    pk = ut_env_set (&env, "body");
    msgpack_pack_map (pk, 1);
    ut_pack_cstr (pk, "seq");
    msgpack_pack_uint64 (pk, (uint64_t) INT64_MAX + 1);
    CHECK_EQ (ut_env_code (&env), MSG_EBODY);
    //  INT64_MAX itself, as a uint64 on the wire, is fine.
    msgpack_pack_uint64 (ut_env_ping_data (&env), INT64_MAX);
    size_t len;
    char *data = ut_env_encode (&env, &len);
    msg_t *msg = msg_decode (data, len, MSG_DECODE_FULL, NULL);
    CHECK_NOT_NULL (msg);
    CHECK_EQ (msg_int (msg, "data", 0), INT64_MAX);
    msg_destroy (&msg);
    free (data);
    ut_env_release (&env);
}

static const unit_test_t s_tests [] = {
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
};

UNIT_SUITE (unit_suite_msg_body, s_tests);
