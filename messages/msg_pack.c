//  msg_pack - msgpack <-> jansson conversion and input guards
//
//  Private to messages/. Owns no state.

#include "msg_pack.h"

#include <stdio.h>
#include <string.h>

//  Big-endian reads for the header walk.
static uint32_t
s_be (const unsigned char *p, int width)
{
    uint32_t v = 0;
    for (int i = 0; i < width; i++)
        v = (v << 8) | p [i];
    return v;
}

//  What one header byte `b` says: payload bytes to skip, the width of a
//  length field that follows (its value adds to the skip), and whether it
//  opens a container whose count follows in `count_width` bytes (0 for
//  the fix forms, whose count is in `*children`). Returns 0 or
//  MSG_EMALFORMED for the reserved byte 0xc1.
static int
s_header (unsigned char b, uint64_t *skip, int *width, uint64_t *children, int *count_width,
          bool *container)
{
    *skip = 0, *width = 0, *children = 0, *count_width = 0;
    *container = (b >= 0x80 && b <= 0x9f) || (b >= 0xdc && b <= 0xdf);
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
        return 0;
    if (b >= 0x80 && b <= 0x8f)
        *children = 2u * (b & 0x0f);
    else if (b >= 0x90 && b <= 0x9f)
        *children = b & 0x0f;
    else if (b >= 0xa0 && b <= 0xbf)
        *skip = b & 0x1f;
    else switch (b) {
        case 0xc4: case 0xd9: *width = 1; break;         // bin8, str8
        case 0xc5: case 0xda: *width = 2; break;
        case 0xc6: case 0xdb: *width = 4; break;
        case 0xc7: *width = 1; *skip = 1; break;         // ext: + type byte
        case 0xc8: *width = 2; *skip = 1; break;
        case 0xc9: *width = 4; *skip = 1; break;
        case 0xca: *skip = 4; break;
        case 0xcb: *skip = 8; break;
        case 0xcc: case 0xd0: *skip = 1; break;
        case 0xcd: case 0xd1: *skip = 2; break;
        case 0xce: case 0xd2: *skip = 4; break;
        case 0xcf: case 0xd3: *skip = 8; break;
        case 0xd4: *skip = 2; break;                     // fixext: type + data
        case 0xd5: *skip = 3; break;
        case 0xd6: *skip = 5; break;
        case 0xd7: *skip = 9; break;
        case 0xd8: *skip = 17; break;
        case 0xdc: case 0xde: *count_width = 2; break;   // array16, map16
        case 0xdd: case 0xdf: *count_width = 4; break;
        default: return MSG_EMALFORMED;                  // 0xc1
    }
    return 0;
}

int
msg_pack_precheck (const unsigned char *data, size_t len, int max_depth)
{
    //  pending [d] = values still expected at depth d.
    uint64_t pending [MSG_MAX_DEPTH + 2];
    int depth = 0;
    pending [0] = 1;
    size_t pos = 0;
    while (depth >= 0) {
        if (pending [depth] == 0) {
            depth--;
            continue;
        }
        if (pos >= len)
            return MSG_EMALFORMED;
        pending [depth]--;
        unsigned char b = data [pos++];
        uint64_t skip, children;
        int width, count_width;
        bool container;
        if (s_header (b, &skip, &width, &children, &count_width, &container))
            return MSG_EMALFORMED;
        if (count_width) {
            if (len - pos < (size_t) count_width)
                return MSG_EMALFORMED;
            children = s_be (data + pos, count_width);
            if (children > MSG_MAX_ITEMS)
                return MSG_ETOOMANY;
            if (b >= 0xde)
                children *= 2;                            // maps: key + value
            pos += (size_t) count_width;
        }
        if (width) {
            if (len - pos < (size_t) width)
                return MSG_EMALFORMED;
            skip += s_be (data + pos, width);
            pos += (size_t) width;
        }
        if (skip > len - pos)
            return MSG_EMALFORMED;
        pos += (size_t) skip;
        //  An empty container is a level of nesting too.
        if (container && depth + 1 > max_depth)
            return MSG_ETOODEEP;
        if (children) {
            //  Every element takes at least one byte.
            if (children > len - pos)
                return MSG_EMALFORMED;
            pending [++depth] = children;
        }
    }
    return pos == len ? 0 : MSG_ETRAILING;
}

size_t
msg_utf8_prefix (const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *) str;
    size_t i = 0;
    while (i < len) {
        //  ASCII, the common case, 8 bytes at a time.
        while (len - i >= 8) {
            uint64_t word;
            memcpy (&word, s + i, 8);
            if (word & UINT64_C(0x8080808080808080))
                break;
            i += 8;
        }
        if (i == len)
            break;
        unsigned char c = s [i];
        size_t n;
        uint32_t cp;
        if (c < 0x80) { i++; continue; }
        else if ((c & 0xe0) == 0xc0) { n = 1; cp = c & 0x1f; }
        else if ((c & 0xf0) == 0xe0) { n = 2; cp = c & 0x0f; }
        else if ((c & 0xf8) == 0xf0) { n = 3; cp = c & 0x07; }
        else return i;
        if (len - i - 1 < n)
            return i;
        for (size_t k = 1; k <= n; k++) {
            if ((s [i + k] & 0xc0) != 0x80)
                return i;
            cp = (cp << 6) | (s [i + k] & 0x3f);
        }
        //  Reject overlong forms, surrogates and values past U+10FFFF.
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)
        ||  (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
            return i;
        i += n + 1;
    }
    return len;
}

bool
msg_pack_utf8_valid (const char *str, size_t len)
{
    return msg_utf8_prefix (str, len) == len;
}

static int
s_fail (msg_error_t *err, int code, const char *fmt, const char *what)
{
    if (err) {
        err->code = code;
        snprintf (err->reason, sizeof err->reason, fmt, what);
    }
    return code;
}

//  Every string in a value must be UTF-8 and every map key a string without
//  NUL bytes.
static int
s_check_value (const msgpack_object *o, const char *field, msg_error_t *err)
{
    switch (o->type) {
        case MSGPACK_OBJECT_STR:
            if (!msg_pack_utf8_valid (o->via.str.ptr, o->via.str.size))
                return s_fail (err, MSG_EUTF8, "field '%s' holds invalid UTF-8", field);
            return 0;
        case MSGPACK_OBJECT_ARRAY:
            for (uint32_t i = 0; i < o->via.array.size; i++) {
                int rc = s_check_value (&o->via.array.ptr [i], field, err);
                if (rc)
                    return rc;
            }
            return 0;
        case MSGPACK_OBJECT_MAP:
            for (uint32_t i = 0; i < o->via.map.size; i++) {
                const msgpack_object_kv *kv = &o->via.map.ptr [i];
                if (kv->key.type != MSGPACK_OBJECT_STR)
                    return s_fail (err, MSG_EBODY, "field '%s' has a map key that is not a string", field);
                //  jansson finds, copies and compares keys as C strings.
                //  Keys are short and ASCII: one pass for both checks.
                const unsigned char *key = (const unsigned char *) kv->key.via.str.ptr;
                size_t key_len = kv->key.via.str.size, k = 0;
                while (k < key_len && key [k] > 0 && key [k] < 0x80)
                    k++;
                if (k < key_len && memchr (key + k, 0, key_len - k))
                    return s_fail (err, MSG_EBODY, "field '%s' has a map key holding a NUL byte", field);
                int rc = k < key_len ? s_check_value (&kv->key, field, err) : 0;
                if (!rc)
                    rc = s_check_value (&kv->val, field, err);
                if (rc)
                    return rc;
            }
            return 0;
        case MSGPACK_OBJECT_EXT:
            return s_fail (err, MSG_EBODY, "field '%s' holds an ext value", field);
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
            if (o->via.u64 > INT64_MAX)
                return s_fail (err, MSG_EBODY, "field '%s' holds an integer over 2^63-1", field);
            return 0;
        default:
            return 0;
    }
}

static bool
s_type_matches (const msgpack_object *o, msg_field_type_t type)
{
    switch (type) {
        case MSG_FIELD_STR:  return o->type == MSGPACK_OBJECT_STR;
        case MSG_FIELD_INT:  return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER
                                 || o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER;
        case MSG_FIELD_BOOL: return o->type == MSGPACK_OBJECT_BOOLEAN;
        case MSG_FIELD_BIN:  return o->type == MSGPACK_OBJECT_BIN;
        case MSG_FIELD_MAP:  return o->type == MSGPACK_OBJECT_MAP;
        case MSG_FIELD_ARRAY: return o->type == MSGPACK_OBJECT_ARRAY;
        case MSG_FIELD_BIN_ARRAY:
            if (o->type != MSGPACK_OBJECT_ARRAY)
                return false;
            for (uint32_t i = 0; i < o->via.array.size; i++)
                if (o->via.array.ptr [i].type != MSGPACK_OBJECT_BIN)
                    return false;
            return true;
        case MSG_FIELD_ANY:  return true;
    }
    return false;
}

int
msg_pack_check_body (const msgpack_object *body, const msg_type_t *type, msg_error_t *err)
{
    if (body->type != MSGPACK_OBJECT_MAP)
        return s_fail (err, MSG_ENOTMAP, "%s body is not a map", type->name);
    int rc = s_check_value (body, "body", err);
    if (rc)
        return rc;
    bool seen [32] = { false };
    for (uint32_t i = 0; i < body->via.map.size; i++) {
        const msgpack_object_kv *kv = &body->via.map.ptr [i];
        const msg_field_t *field = msg_type_field (type, kv->key.via.str.ptr, kv->key.via.str.size);
        if (!field)
            continue;               // unknown fields are kept for newer peers
        size_t index = (size_t) (field - type->fields);
        if (seen [index])
            return s_fail (err, MSG_EBODY, "field '%s' appears twice", field->name);
        seen [index] = true;
        if (!s_type_matches (&kv->val, field->type)) {
            char what [96];
            snprintf (what, sizeof what, "%s' must be %s", field->name,
                      msg_field_type_name (field->type));
            return s_fail (err, MSG_EBODY, "field '%s", what);
        }
    }
    for (size_t f = 0; f < type->field_count; f++)
        if (type->fields [f].required && !seen [f])
            return s_fail (err, MSG_EBODY, "required field '%s' is missing", type->fields [f].name);
    return 0;
}

static bool
s_json_matches (const json_t *v, msg_field_type_t type)
{
    switch (type) {
        case MSG_FIELD_STR:  return json_is_string (v)
                                 && msg_pack_utf8_valid (json_string_value (v), json_string_length (v));
        case MSG_FIELD_INT:  return json_is_integer (v);
        case MSG_FIELD_BOOL: return json_is_boolean (v);
        case MSG_FIELD_BIN:  return json_is_string (v);
        case MSG_FIELD_MAP:  return json_is_object (v);
        case MSG_FIELD_ARRAY: return json_is_array (v);
        case MSG_FIELD_BIN_ARRAY: {
            if (!json_is_array (v))
                return false;
            for (size_t i = 0; i < json_array_size (v); i++)
                if (!json_is_string (json_array_get (v, i)))
                    return false;
            return true;
        }
        case MSG_FIELD_ANY:  return true;
    }
    return false;
}

int
msg_pack_check_json (const json_t *body, const msg_type_t *type, msg_error_t *err)
{
    if (!json_is_object (body))
        return s_fail (err, MSG_ENOTMAP, "%s body is not an object", type->name);
    for (size_t f = 0; f < type->field_count; f++) {
        const msg_field_t *field = &type->fields [f];
        json_t *v = json_object_get (body, field->name);
        if (!v) {
            if (field->required)
                return s_fail (err, MSG_EBODY, "required field '%s' is missing", field->name);
            continue;
        }
        if (!s_json_matches (v, field->type))
            return s_fail (err, MSG_EBODY, "field '%s' has the wrong type", field->name);
    }
    return 0;
}

static json_t *
s_to_json (const msgpack_object *o)
{
    switch (o->type) {
        case MSGPACK_OBJECT_NIL: return json_null ();
        case MSGPACK_OBJECT_BOOLEAN: return json_boolean (o->via.boolean);
        case MSGPACK_OBJECT_POSITIVE_INTEGER: return json_integer ((json_int_t) o->via.u64);
        case MSGPACK_OBJECT_NEGATIVE_INTEGER: return json_integer ((json_int_t) o->via.i64);
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64: return json_real (o->via.f64);
        case MSGPACK_OBJECT_STR: return json_stringn_nocheck (o->via.str.ptr, o->via.str.size);
        case MSGPACK_OBJECT_BIN: return json_stringn_nocheck (o->via.bin.ptr, o->via.bin.size);
        case MSGPACK_OBJECT_ARRAY: {
            json_t *a = json_array ();
            for (uint32_t i = 0; i < o->via.array.size; i++)
                json_array_append_new (a, s_to_json (&o->via.array.ptr [i]));
            return a;
        }
        case MSGPACK_OBJECT_MAP: {
            json_t *m = json_object ();
            for (uint32_t i = 0; i < o->via.map.size; i++) {
                const msgpack_object_kv *kv = &o->via.map.ptr [i];
                json_object_setn_new_nocheck (m, kv->key.via.str.ptr, kv->key.via.str.size,
                                              s_to_json (&kv->val));
            }
            return m;
        }
        default: return json_null ();       // ext: rejected by the check
    }
}

json_t *
msg_pack_to_json (const msgpack_object *body, const msg_type_t *type)
{
    (void) type;
    return s_to_json (body);
}

static void
s_pack_str (msgpack_packer *pk, const char *s, size_t len, bool as_bin)
{
    if (as_bin) {
        msgpack_pack_bin (pk, len);
        msgpack_pack_bin_body (pk, s, len);
    }
    else {
        msgpack_pack_str (pk, len);
        msgpack_pack_str_body (pk, s, len);
    }
}

//  Strings go out as str when they are UTF-8 and as bin otherwise, unless the
//  schema says bin; decoding turns both back into jansson strings.
static void
s_pack (msgpack_packer *pk, const json_t *v, msg_field_type_t type)
{
    switch (json_typeof (v)) {
        case JSON_OBJECT: {
            msgpack_pack_map (pk, json_object_size (v));
            const char *key;
            json_t *value;
            json_object_foreach ((json_t *) v, key, value) {
                s_pack_str (pk, key, strlen (key), false);
                s_pack (pk, value, MSG_FIELD_ANY);
            }
            break;
        }
        case JSON_ARRAY: {
            msgpack_pack_array (pk, json_array_size (v));
            msg_field_type_t inner = type == MSG_FIELD_BIN_ARRAY ? MSG_FIELD_BIN : MSG_FIELD_ANY;
            for (size_t i = 0; i < json_array_size (v); i++)
                s_pack (pk, json_array_get (v, i), inner);
            break;
        }
        case JSON_STRING: {
            const char *s = json_string_value (v);
            size_t len = json_string_length (v);
            s_pack_str (pk, s, len, type == MSG_FIELD_BIN || !msg_pack_utf8_valid (s, len));
            break;
        }
        case JSON_INTEGER: msgpack_pack_int64 (pk, json_integer_value (v)); break;
        case JSON_REAL:    msgpack_pack_double (pk, json_real_value (v)); break;
        case JSON_TRUE:    msgpack_pack_true (pk); break;
        case JSON_FALSE:   msgpack_pack_false (pk); break;
        case JSON_NULL:    msgpack_pack_nil (pk); break;
    }
}

void
msg_pack_from_json (msgpack_packer *pk, const json_t *body, const msg_type_t *type)
{
    msgpack_pack_map (pk, json_object_size (body));
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *) body, key, value) {
        const msg_field_t *field = msg_type_field (type, key, strlen (key));
        s_pack_str (pk, key, strlen (key), false);
        s_pack (pk, value, field ? field->type : MSG_FIELD_ANY);
    }
}
