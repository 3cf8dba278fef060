//  msg - the dynod wire format: envelope, type table, msgpack codec
//
//  The only module that knows how a message looks on the wire. A message is
//  one ZeroMQ frame holding a msgpack map (the envelope) whose `body` is a
//  msgpack map checked against the schema of its type in the type table
//  (msg_types.c). In memory a message is a msg_t whose body is a jansson
//  object, so handlers read fields with jansson and `--json` output is free.
//
//  Envelope keys, in the order the encoder writes them (see docs/protocol.md):
//      v     protocol version (MSG_VERSION)
//      seq   broker sequence number, 0 until journaled (always 9 bytes)
//      id    unique message id, 32 hex chars
//      type  message type name from the table
//      from  sender address  `name@instance`
//      to    destination     `name`, `name@instance`, `topic:NAME`, `broker`
//      corr  id of the request this replies to, "" if none
//      ts    sender's clock, milliseconds since the epoch
//      dur   durable flag: journaled by the broker before delivery
//      body  map, checked against the type's schema
//
//  msg_t is a plain struct: callers read its fields directly and set them
//  through the helpers below so the fixed-size buffers stay terminated.

#ifndef MSG_H
#define MSG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msg_types.h"
#include "../actors/common/act_base.h"

#define MSG_VERSION        1
#define MSG_ID_LEN         32
#define MSG_ADDR_MAX       128     // name@instance or topic:NAME, with NUL
#define MSG_MAX_SIZE       (1024 * 1024)
#define MSG_MAX_DEPTH      16
#define MSG_MAX_ITEMS      65536   // elements in any one map or array

//  Decode errors, each with its own text from msg_strerror.
enum {
    MSG_EFIRST      = -1100,
    MSG_ETOOBIG     = -1100,   // over MSG_MAX_SIZE
    MSG_EMALFORMED  = -1101,   // not a complete msgpack value
    MSG_ETRAILING   = -1102,   // bytes after the envelope
    MSG_ETOODEEP    = -1103,   // nesting over MSG_MAX_DEPTH
    MSG_ETOOMANY    = -1104,   // a container over MSG_MAX_ITEMS
    MSG_ENOTMAP     = -1105,   // envelope or body is not a map
    MSG_EVERSION    = -1106,   // unsupported protocol version
    MSG_EFIELD      = -1107,   // envelope key missing or of wrong type
    MSG_EUNKNOWNKEY = -1108,   // unknown envelope key
    MSG_EBADTYPE    = -1109,   // type not in the table
    MSG_EBODY       = -1110,   // body does not match the type's schema
    MSG_EUTF8       = -1111,   // a string is not valid UTF-8
    MSG_EADDR       = -1112,   // malformed address
    MSG_ELAST       = -1112,
};

#define MSG_TAG         0x6d736721u     // "msg!": a live msg_t
#define MSG_TAG_DEAD    0xdeadbeefu     // written by msg_destroy

typedef struct {
    uint32_t tag;                   // MSG_TAG; asserted on entry (STYLE §3)
    uint64_t seq;                   // broker sequence, 0 when not journaled
    char id [MSG_ID_LEN + 1];
    const msg_type_t *type;         // borrowed from the static type table
    char from [MSG_ADDR_MAX];
    char to [MSG_ADDR_MAX];
    char corr [MSG_ID_LEN + 1];
    int64_t ts;
    bool durable;
    json_t *body;                   // owned; always a JSON object
} msg_t;

//  A decoder's verdict: the code and a human-readable reason naming the
//  offending key or field.
typedef struct {
    int code;
    char reason [160];
} msg_error_t;

//  Creates a message of `type` with an empty body, a zero id and the type's
//  default durability. Caller owns result.
msg_t *msg_new (msg_type_id_t type);
void msg_destroy (msg_t **self_p);
//  A message ready to send: id drawn from `ids`, `from`, `to` (may be NULL)
//  and `ts` set. Caller owns result.
msg_t *msg_new_addressed (msg_type_id_t type, act_rng_t *ids, const char *from, const char *to,
                          int64_t ts);
//  Deep copy. Caller owns result.
msg_t *msg_dup (const msg_t *self);

//  Setters for the fixed-size fields; addresses over MSG_ADDR_MAX-1 bytes
//  return MSG_EADDR and leave the field unchanged.
int msg_set_to (msg_t *self, const char *to);
int msg_set_from (msg_t *self, const char *from);
void msg_set_id (msg_t *self, const char *id);
void msg_set_corr (msg_t *self, const char *corr);

//  Body helpers. Setters take a copy of strings. Getters return borrowed
//  values valid while the message lives, or the default when the field is
//  absent or of another type.
void msg_set_str (msg_t *self, const char *key, const char *value);
void msg_set_int (msg_t *self, const char *key, int64_t value);
void msg_set_bool (msg_t *self, const char *key, bool value);
//  Ownership of `value` passes to the message.
void msg_set_json (msg_t *self, const char *key, json_t *value);
const char *msg_str (const msg_t *self, const char *key, const char *dflt);
int64_t msg_int (const msg_t *self, const char *key, int64_t dflt);
bool msg_bool (const msg_t *self, const char *key, bool dflt);

//  Encodes the message. Returns 0 and a malloc'd buffer (caller owns *buf_p),
//  or MSG_EBODY if the body does not satisfy the schema (with `err` filled
//  when non-NULL). The `seq` value always occupies 9 bytes at a fixed offset
//  so the broker can stamp it without re-encoding (msg_stamp_seq).
int msg_encode (const msg_t *self, char **buf_p, size_t *len_p, msg_error_t *err);

//  Decoding depth. Every mode validates everything (envelope and body
//  schema). MSG_DECODE_HEAD leaves `body` NULL: the broker forwards the
//  original bytes. MSG_DECODE_BROKER builds the body only for messages the
//  broker handles itself (kind control, or addressed to `broker` or
//  `broker@…`), so the broker decodes every frame exactly once.
typedef enum { MSG_DECODE_FULL, MSG_DECODE_HEAD, MSG_DECODE_BROKER } msg_decode_mode_t;

//  True when `self` is for the broker itself (see MSG_DECODE_BROKER).
bool msg_is_for_broker (const msg_t *self);

//  Decodes and validates one message. Returns a new message (caller owns
//  result) or NULL with `err` filled. Never crashes on any input.
msg_t *msg_decode (const void *data, size_t len, msg_decode_mode_t mode, msg_error_t *err);

//  Writes `seq` into an encoded message in place. Returns 0, or MSG_EFIELD
//  when the buffer was not produced by msg_encode's canonical layout.
int msg_stamp_seq (void *data, size_t len, uint64_t seq);

//  Text for a MSG_E* code. Borrowed, static storage.
const char *msg_strerror (int code);

//  Splits `name@instance` into its parts. Returns 0 or MSG_EADDR. The
//  instance is "" when absent. Names are [a-z][a-z0-9.-]*, instances
//  [A-Za-z0-9._-]+, topics (`topic:NAME`) [a-z0-9._-]+.
int msg_addr_split (const char *addr, char name [MSG_ADDR_MAX], char instance [MSG_ADDR_MAX]);
bool msg_addr_is_topic (const char *addr);

#endif
