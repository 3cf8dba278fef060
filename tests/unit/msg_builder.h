//  msg_builder - sample messages and hand-built msgpack for the msg suites
//
//  Samples: bodies that fill every schema field of a type (ut_body_fill)
//  and whole messages with envelope extremes (ut_msg_sample). Decoding:
//  ut_decode_code runs msg_decode every way and returns its MSG_E* code.
//  The envelope builder (ut_env_t) packs messages by hand with msgpack-c;
//  its default output is byte-for-byte what msg_encode writes, so a case
//  built with it differs from a valid message only in the way it names.
//  Every helper fails the test (UNIT_FAIL) on a broken invariant rather
//  than return an error.

#ifndef UT_MSG_BUILDER_H
#define UT_MSG_BUILDER_H

#include "unit.h"
#include "../../messages/msg.h"

#include <jansson.h>
#include <msgpack.h>
#include <stdbool.h>

#define UT_ID       "0123456789abcdef0123456789abcdef"
#define UT_FROM     "cli@host-1"
#define UT_TO       "scheduler"
#define UT_VARIANTS 4           // body variants per type, see ut_body_fill
#define UT_ENV_SLOTS 16         // envelope keys a ut_env_t holds

// ---------------------------------------------------------------------------
//  Samples

//  A body for `type`: every field for variants 0..2 (0 with INT64_MIN,
//  1 with INT64_MAX, 2 with small and empty values), only the required
//  ones for variant 3, plus an unknown field always. Caller owns result.
json_t *ut_body_fill (const msg_type_t *type, int variant);

//  A message of `type` with body variant `variant` and envelope extremes.
//  Caller owns result.
msg_t *ut_msg_sample (msg_type_id_t type, int variant);

//  Decodes `data` in both modes and without an error out-parameter, and
//  returns 0 when it decoded or the MSG_E* code. The modes must agree, a
//  failure must leave no message and give a reason.
int ut_decode_code (const void *data, size_t len);

// ---------------------------------------------------------------------------
//  Envelope builder

//  One envelope key and its packed value. Slots are never moved, so the
//  packer's pointer to `val` stays valid.
typedef struct {
    bool used;
    bool int_key;               // write the key as an integer, not a string
    char key [32];
    msgpack_sbuffer val;
    msgpack_packer pk;
} ut_slot_t;

//  The caller owns the struct (on its stack); ut_env_init/ut_env_release
//  own the slots' buffers.
typedef struct {
    ut_slot_t slots [UT_ENV_SLOTS];
    size_t count;
} ut_env_t;

//  The envelope msg_encode writes for a `type` message (UT_ID, UT_FROM,
//  UT_TO) with an empty body.
void ut_env_init (ut_env_t *env, const char *type);
void ut_env_release (ut_env_t *env);

//  Appends a key (duplicates allowed); returns the packer for its value,
//  borrowed, valid until ut_env_release.
msgpack_packer *ut_env_add (ut_env_t *env, const char *key);

//  Replaces the value of `key` in place (appends the key if absent);
//  returns the packer for it, borrowed, valid until ut_env_release.
msgpack_packer *ut_env_set (ut_env_t *env, const char *key);

//  Leaves `key` out of the envelope.
void ut_env_drop (ut_env_t *env, const char *key);

//  The envelope as one msgpack map. Caller owns result (free).
char *ut_env_encode (const ut_env_t *env, size_t *len_p);

//  Encodes the envelope, decodes it, releases it and returns the code
//  (ut_decode_code).
int ut_env_code (ut_env_t *env);

//  Replaces the envelope's type and body: the body map holds `body`'s
//  entries plus `extra` more that the caller packs into the returned
//  packer (borrowed, valid until ut_env_release).
msgpack_packer *ut_env_body (ut_env_t *env, const msg_type_t *type, const json_t *body,
                             size_t extra);

//  Initialises *env as a ping whose body is {"data": <value the caller
//  packs into the returned packer>} (borrowed, valid until ut_env_release).
msgpack_packer *ut_env_ping_data (ut_env_t *env);

//  msgpack str values.
void ut_pack_cstr (msgpack_packer *pk, const char *s);
void ut_pack_strn (msgpack_packer *pk, const char *s, size_t len);

//  Packs a JSON value as the encoder does: strings as bin when `bin` or when
//  they are not UTF-8, as str otherwise.
void ut_pack_json (msgpack_packer *pk, const json_t *v, bool bin);

#endif
