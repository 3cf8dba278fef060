//  msg - the dynod wire format: envelope, type table, msgpack codec
//
//  Owns msg_t. Stateless otherwise; safe to use from any thread.

#include "msg.h"
#include "msg_pack.h"
#include "../actors/common/act_base.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENVELOPE_KEYS 10

//  The first bytes msg_encode writes: map of 10, "v": 1, "seq": uint64.
static const unsigned char s_prefix [] = {
    0x80 | ENVELOPE_KEYS, 0xa1, 'v', MSG_VERSION, 0xa3, 's', 'e', 'q', 0xcf
};

msg_t *
msg_new (msg_type_id_t type)
{
    msg_t *self = act_calloc (1, sizeof *self);
    self->tag = MSG_TAG;
    self->type = msg_type_by_id (type);
    if (!self->type) {
        act_log_error ("msg_new called with unknown type %d", (int) type);
        abort ();
    }
    self->durable = self->type->durable;
    self->body = json_object ();
    return self;
}

msg_t *
msg_new_addressed (msg_type_id_t type, act_rng_t *ids, const char *from, const char *to, int64_t ts)
{
    msg_t *self = msg_new (type);
    act_rng_id (ids, self->id);
    msg_set_from (self, from);
    if (to)
        msg_set_to (self, to);
    self->ts = ts;
    return self;
}

void
msg_destroy (msg_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    msg_t *self = *self_p;
    assert (self->tag == MSG_TAG);
    self->tag = MSG_TAG_DEAD;
    json_decref (self->body);
    free (self);
    *self_p = NULL;
}

msg_t *
msg_dup (const msg_t *self)
{
    assert (self->tag == MSG_TAG);
    msg_t *copy = act_malloc (sizeof *copy);
    *copy = *self;
    copy->body = self->body ? json_deep_copy (self->body) : NULL;
    return copy;
}

static int
s_set_addr (char *field, const char *addr)
{
    size_t len = strlen (addr);
    if (len >= MSG_ADDR_MAX)
        return MSG_EADDR;
    memcpy (field, addr, len + 1);
    return 0;
}

int msg_set_to (msg_t *self, const char *to) { assert (self->tag == MSG_TAG); return s_set_addr (self->to, to); }
int msg_set_from (msg_t *self, const char *from) { assert (self->tag == MSG_TAG); return s_set_addr (self->from, from); }

//  Copies at most MSG_ID_LEN characters and terminates.
static void
s_copy_id (char dst [MSG_ID_LEN + 1], const char *src)
{
    size_t len = strnlen (src, MSG_ID_LEN);
    memcpy (dst, src, len);
    dst [len] = 0;
}

void msg_set_id (msg_t *self, const char *id) { s_copy_id (self->id, id); }
void msg_set_corr (msg_t *self, const char *corr) { s_copy_id (self->corr, corr); }

void
msg_set_str (msg_t *self, const char *key, const char *value)
{
    json_object_set_new (self->body, key, json_string (value));
}

void
msg_set_int (msg_t *self, const char *key, int64_t value)
{
    json_object_set_new (self->body, key, json_integer (value));
}

void
msg_set_bool (msg_t *self, const char *key, bool value)
{
    json_object_set_new (self->body, key, json_boolean (value));
}

void
msg_set_json (msg_t *self, const char *key, json_t *value)
{
    json_object_set_new (self->body, key, value);
}

const char *
msg_str (const msg_t *self, const char *key, const char *dflt)
{
    json_t *v = self->body ? json_object_get (self->body, key) : NULL;
    return json_is_string (v) ? json_string_value (v) : dflt;
}

int64_t
msg_int (const msg_t *self, const char *key, int64_t dflt)
{
    json_t *v = self->body ? json_object_get (self->body, key) : NULL;
    return json_is_integer (v) ? json_integer_value (v) : dflt;
}

bool
msg_bool (const msg_t *self, const char *key, bool dflt)
{
    json_t *v = self->body ? json_object_get (self->body, key) : NULL;
    return json_is_boolean (v) ? json_is_true (v) : dflt;
}

static void
s_pack_cstr (msgpack_packer *pk, const char *s)
{
    size_t len = strlen (s);
    msgpack_pack_str (pk, len);
    msgpack_pack_str_body (pk, s, len);
}

int
msg_encode (const msg_t *self, char **buf_p, size_t *len_p, msg_error_t *err)
{
    assert (self->tag == MSG_TAG);
    int rc = msg_pack_check_json (self->body, self->type, err);
    if (rc)
        return rc;
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, ENVELOPE_KEYS);
    s_pack_cstr (&pk, "v");
    msgpack_pack_int (&pk, MSG_VERSION);
    s_pack_cstr (&pk, "seq");
    msgpack_pack_fix_uint64 (&pk, self->seq);
    s_pack_cstr (&pk, "id");
    s_pack_cstr (&pk, self->id);
    s_pack_cstr (&pk, "type");
    s_pack_cstr (&pk, self->type->name);
    s_pack_cstr (&pk, "from");
    s_pack_cstr (&pk, self->from);
    s_pack_cstr (&pk, "to");
    s_pack_cstr (&pk, self->to);
    s_pack_cstr (&pk, "corr");
    s_pack_cstr (&pk, self->corr);
    s_pack_cstr (&pk, "ts");
    msgpack_pack_int64 (&pk, self->ts);
    s_pack_cstr (&pk, "dur");
    if (self->durable)
        msgpack_pack_true (&pk);
    else
        msgpack_pack_false (&pk);
    s_pack_cstr (&pk, "body");
    msg_pack_from_json (&pk, self->body, self->type);
    if (sbuf.size > MSG_MAX_SIZE) {
        msgpack_sbuffer_destroy (&sbuf);
        if (err) {
            err->code = MSG_ETOOBIG;
            snprintf (err->reason, sizeof err->reason, "encoded %s is over %d bytes",
                      self->type->name, MSG_MAX_SIZE);
        }
        return MSG_ETOOBIG;
    }
    *buf_p = sbuf.data;
    *len_p = sbuf.size;
    return 0;
}

bool
msg_is_for_broker (const msg_t *self)
{
    return self->type->kind == MSG_KIND_CONTROL || strcmp (self->to, "broker") == 0
        || strncmp (self->to, "broker@", 7) == 0;
}

int
msg_stamp_seq (void *data, size_t len, uint64_t seq)
{
    unsigned char *p = data;
    if (len < sizeof s_prefix + 8 || memcmp (p, s_prefix, sizeof s_prefix) != 0)
        return MSG_EFIELD;
    for (int i = 0; i < 8; i++)
        p [sizeof s_prefix + (size_t) i] = (unsigned char) (seq >> (56 - 8 * i));
    return 0;
}

static int
s_reject (msg_error_t *err, int code, const char *fmt, const char *what)
{
    if (err) {
        err->code = code;
        snprintf (err->reason, sizeof err->reason, fmt, what);
    }
    return code;
}

static bool
s_is_id (const msgpack_object *o, bool allow_empty)
{
    if (o->type != MSGPACK_OBJECT_STR)
        return false;
    if (o->via.str.size == 0)
        return allow_empty;
    if (o->via.str.size != MSG_ID_LEN)
        return false;
    for (uint32_t i = 0; i < MSG_ID_LEN; i++) {
        char c = o->via.str.ptr [i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

static int
s_copy_addr (char *dst, const msgpack_object *o, const char *key, msg_error_t *err)
{
    if (o->type != MSGPACK_OBJECT_STR || o->via.str.size == 0 || o->via.str.size >= MSG_ADDR_MAX)
        return s_reject (err, MSG_EADDR, "envelope '%s' is not an address", key);
    memcpy (dst, o->via.str.ptr, o->via.str.size);
    dst [o->via.str.size] = 0;
    char name [MSG_ADDR_MAX], instance [MSG_ADDR_MAX];
    if (strlen (dst) != o->via.str.size || msg_addr_split (dst, name, instance))
        return s_reject (err, MSG_EADDR, "envelope '%s' is not an address", key);
    return 0;
}

//  Checks one envelope key/value pair and stores it in `self`. Returns the
//  key's index (0..9) or a MSG_E* code.
static int
s_take_key (msg_t *self, int position, const msgpack_object *key, const msgpack_object *val,
            const msgpack_object **body, msg_error_t *err)
{
    static const char *keys [ENVELOPE_KEYS] = {
        "v", "seq", "id", "type", "from", "to", "corr", "ts", "dur", "body"
    };
    static const uint32_t lens [ENVELOPE_KEYS] = { 1, 3, 2, 4, 4, 2, 4, 2, 3, 4 };
    if (key->type != MSGPACK_OBJECT_STR)
        return s_reject (err, MSG_EFIELD, "%s", "envelope key is not a string");
    //  Our encoder writes the keys in table order, so try the key expected at
    //  this position first; any order is accepted.
    int which = -1;
    for (int k = 0; k < ENVELOPE_KEYS && which < 0; k++) {
        int i = (position + k) % ENVELOPE_KEYS;
        if (lens [i] == key->via.str.size && memcmp (keys [i], key->via.str.ptr, lens [i]) == 0)
            which = i;
    }
    if (which < 0) {
        char name [40];
        snprintf (name, sizeof name, "%.*s", (int) (key->via.str.size > 32 ? 32 : key->via.str.size),
                  key->via.str.ptr);
        return s_reject (err, MSG_EUNKNOWNKEY, "unknown envelope key '%s'", name);
    }
    int rc = 0;
    switch (which) {
        case 0:
            if (val->type != MSGPACK_OBJECT_POSITIVE_INTEGER || val->via.u64 != MSG_VERSION)
                return s_reject (err, MSG_EVERSION, "%s", "unsupported protocol version");
            break;
        case 1:
            if (val->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
                return s_reject (err, MSG_EFIELD, "envelope '%s' must be an unsigned integer", "seq");
            self->seq = val->via.u64;
            break;
        case 2:
        case 6:
            if (!s_is_id (val, which == 6))
                return s_reject (err, MSG_EFIELD, "envelope '%s' must be 32 lowercase hex characters",
                                 keys [which]);
            memcpy (which == 2 ? self->id : self->corr, val->via.str.ptr, val->via.str.size);
            break;
        case 3:
            if (val->type != MSGPACK_OBJECT_STR)
                return s_reject (err, MSG_EFIELD, "envelope '%s' must be a string", "type");
            self->type = msg_type_by_name (val->via.str.ptr, val->via.str.size);
            if (!self->type) {
                char name [40];
                snprintf (name, sizeof name, "%.*s",
                          (int) (val->via.str.size > 32 ? 32 : val->via.str.size), val->via.str.ptr);
                return s_reject (err, MSG_EBADTYPE, "unknown message type '%s'", name);
            }
            break;
        case 4: rc = s_copy_addr (self->from, val, "from", err); break;
        case 5: rc = s_copy_addr (self->to, val, "to", err); break;
        case 7:
            //  A positive value past INT64_MAX would wrap to a negative ts.
            if ((val->type != MSGPACK_OBJECT_POSITIVE_INTEGER && val->type != MSGPACK_OBJECT_NEGATIVE_INTEGER)
            ||  (val->type == MSGPACK_OBJECT_POSITIVE_INTEGER && val->via.u64 > INT64_MAX))
                return s_reject (err, MSG_EFIELD, "envelope '%s' must be a 64-bit signed integer", "ts");
            self->ts = val->via.i64;
            break;
        case 8:
            if (val->type != MSGPACK_OBJECT_BOOLEAN)
                return s_reject (err, MSG_EFIELD, "envelope '%s' must be a boolean", "dur");
            self->durable = val->via.boolean;
            break;
        default:
            *body = val;
            break;
    }
    return rc ? rc : which;
}

static msg_t *
s_decode_object (const msgpack_object *root, msg_decode_mode_t mode, msg_error_t *err)
{
    if (root->type != MSGPACK_OBJECT_MAP) {
        s_reject (err, MSG_ENOTMAP, "%s", "envelope is not a map");
        return NULL;
    }
    if (root->via.map.size != ENVELOPE_KEYS) {
        s_reject (err, MSG_EFIELD, "%s", "envelope must have exactly its 10 keys");
        return NULL;
    }
    msg_t *self = act_calloc (1, sizeof *self);
    self->tag = MSG_TAG;
    const msgpack_object *body = NULL;
    unsigned seen = 0;
    for (uint32_t i = 0; i < root->via.map.size; i++) {
        const msgpack_object_kv *kv = &root->via.map.ptr [i];
        int which = s_take_key (self, (int) i, &kv->key, &kv->val, &body, err);
        if (which < 0)
            goto fail;
        //  Ten distinct known keys in a map of ten means none is missing.
        if (seen & (1u << which)) {
            s_reject (err, MSG_EFIELD, "%s", "envelope key appears twice");
            goto fail;
        }
        seen |= 1u << which;
    }
    if (!self->type || !body || self->id [0] == 0 || self->from [0] == 0 || self->to [0] == 0) {
        s_reject (err, MSG_EFIELD, "%s", "envelope key missing");
        goto fail;
    }
    if (msg_pack_check_body (body, self->type, err))
        goto fail;
    if (mode == MSG_DECODE_FULL || (mode == MSG_DECODE_BROKER && msg_is_for_broker (self)))
        self->body = msg_pack_to_json (body, self->type);
    return self;
fail:
    free (self);
    return NULL;
}

msg_t *
msg_decode (const void *data, size_t len, msg_decode_mode_t mode, msg_error_t *err)
{
    if (len > MSG_MAX_SIZE) {
        s_reject (err, MSG_ETOOBIG, "%s", "message is over the size limit");
        return NULL;
    }
    int rc = msg_pack_precheck (data, len, MSG_MAX_DEPTH);
    if (rc) {
        s_reject (err, rc, "%s", msg_strerror (rc));
        return NULL;
    }
    //  The tree takes about twice the bytes of the message: one chunk for
    //  it, not a chain of doubling ones.
    msgpack_zone zone;
    msgpack_zone_init (&zone, len < 1024 ? 2048 : 2 * len + 1024);
    msgpack_object root;
    size_t offset = 0;
    msgpack_unpack_return ur = msgpack_unpack (data, len, &offset, &zone, &root);
    msg_t *self = NULL;
    if (ur != MSGPACK_UNPACK_SUCCESS)
        s_reject (err, MSG_EMALFORMED, "%s", "not a complete msgpack value");
    else
        self = s_decode_object (&root, mode, err);
    msgpack_zone_destroy (&zone);
    return self;
}

const char *
msg_strerror (int code)
{
    switch (code) {
        case MSG_ETOOBIG:     return "message too big";
        case MSG_EMALFORMED:  return "malformed msgpack";
        case MSG_ETRAILING:   return "trailing bytes after the message";
        case MSG_ETOODEEP:    return "nesting too deep";
        case MSG_ETOOMANY:    return "too many elements in a container";
        case MSG_ENOTMAP:     return "not a map";
        case MSG_EVERSION:    return "unsupported protocol version";
        case MSG_EFIELD:      return "bad envelope field";
        case MSG_EUNKNOWNKEY: return "unknown envelope key";
        case MSG_EBADTYPE:    return "unknown message type";
        case MSG_EBODY:       return "body does not match its schema";
        case MSG_EUTF8:       return "invalid UTF-8";
        case MSG_EADDR:       return "malformed address";
        default:              return "unknown message error";
    }
}

static bool
s_chars_ok (const char *s, size_t len, const char *extra, bool upper)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s [i];
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (upper && c >= 'A' && c <= 'Z'))
            continue;
        if (!strchr (extra, c) || c == 0)
            return false;
    }
    return true;
}

bool
msg_addr_is_topic (const char *addr)
{
    return strncmp (addr, "topic:", 6) == 0;
}

int
msg_addr_split (const char *addr, char name [MSG_ADDR_MAX], char instance [MSG_ADDR_MAX])
{
    size_t len = strlen (addr);
    if (len == 0 || len >= MSG_ADDR_MAX)
        return MSG_EADDR;
    if (msg_addr_is_topic (addr)) {
        if (!s_chars_ok (addr + 6, len - 6, "._-", false))
            return MSG_EADDR;
        memcpy (name, addr, len + 1);
        instance [0] = 0;
        return 0;
    }
    const char *at = strchr (addr, '@');
    size_t name_len = at ? (size_t) (at - addr) : len;
    if (!s_chars_ok (addr, name_len, ".-", false) || addr [0] < 'a' || addr [0] > 'z')
        return MSG_EADDR;
    if (at && !s_chars_ok (at + 1, len - name_len - 1, "._-", true))
        return MSG_EADDR;
    memcpy (name, addr, name_len);
    name [name_len] = 0;
    if (at)
        memcpy (instance, at + 1, len - name_len);
    else
        instance [0] = 0;
    return 0;
}
