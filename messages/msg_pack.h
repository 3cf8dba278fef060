//  msg_pack - msgpack <-> jansson conversion and input guards
//
//  Private to messages/: msg.c uses these to validate bodies and convert
//  them. Nothing outside messages/ includes this header.

#ifndef MSG_PACK_H
#define MSG_PACK_H

#include <jansson.h>
#include <msgpack.h>
#include <stdbool.h>

#include "msg.h"

//  Walks the msgpack headers of `data` without allocating and checks that
//  it holds exactly one value, no container declares more elements than
//  bytes remain or than MSG_MAX_ITEMS, and nesting stays within `max_depth`.
//  msgpack-c allocates a container's slots from its declared count before
//  reading them, so this guard runs first to keep that allocation bounded by
//  the input size. Returns 0 or a MSG_E* code.
int msg_pack_precheck (const unsigned char *data, size_t len, int max_depth);

//  True when the `len` bytes at `s` are valid UTF-8 (no overlong forms,
//  surrogates or values past U+10FFFF; NUL is valid).
bool msg_pack_utf8_valid (const char *s, size_t len);
//  The length of the longest valid UTF-8 prefix of the `len` bytes at `s`
//  (never cutting a character).
size_t msg_utf8_prefix (const char *s, size_t len);

//  Checks a decoded body against `type`'s schema (and UTF-8 everywhere).
//  Returns 0 or MSG_EBODY / MSG_EUTF8 with the reason written to `err`.
int msg_pack_check_body (const msgpack_object *body, const msg_type_t *type, msg_error_t *err);
//  Same check on a jansson body before encoding.
int msg_pack_check_json (const json_t *body, const msg_type_t *type, msg_error_t *err);

//  Converts a checked body to jansson. Caller owns result.
json_t *msg_pack_to_json (const msgpack_object *body, const msg_type_t *type);
//  Packs a jansson body (checked) into `pk`.
void msg_pack_from_json (msgpack_packer *pk, const json_t *body, const msg_type_t *type);

#endif
