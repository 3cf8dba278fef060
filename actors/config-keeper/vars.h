//  vars - the rules for config vars: names, values, size, descriptions
//
//  Pure functions, no state: config-keeper keeps the vars themselves.
//  Names follow Heroku's rule `[A-Za-z_][A-Za-z0-9_]*`, minus the reserved
//  prefixes `__` and `DYNOD_`; values are any bytes but NUL; one app's
//  config (every key plus every value, in bytes) fits in CFG_VARS_MAX.
//
//  Values may be arbitrary bytes, which JSON text cannot hold, so the
//  snapshot form of a set of vars (cfg_vars_encode / cfg_vars_decode)
//  writes a value that is not valid UTF-8 as `{"b64": "..."}`.

#ifndef CFG_VARS_H
#define CFG_VARS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define CFG_VARS_MAX     65536      // bytes of all keys + values of one app
#define CFG_WHY_MAX      96         // bytes of a rejection reason, with NUL
#define CFG_SHOWN_MAX    72         // bytes of a key quoted in a reason, with NUL
#define CFG_DESC_MAX     256        // bytes of a release description, with NUL
#define CFG_RESERVED_1   "__"
#define CFG_RESERVED_2   "DYNOD_"

//  True when `key` is a valid config var name. Otherwise false, with the
//  rule it breaks written into `why` (e.g. "it must start with a letter or
//  '_'").
bool cfg_key_valid (const char *key, char why [CFG_WHY_MAX]);

//  Writes `key` into `out` for an error reason: whole when it fits,
//  else cut at a character boundary and ended with "...".
void cfg_key_shown (const char *key, char out [CFG_SHOWN_MAX]);

//  True when `value` (a JSON string, possibly holding any bytes) is a valid
//  config var value. Otherwise false, with why into `why`.
bool cfg_value_valid (const json_t *value, char why [CFG_WHY_MAX]);

//  Bytes `vars` (KEY -> JSON string) takes against CFG_VARS_MAX: the sum
//  of every key's and every value's length.
size_t cfg_vars_size (const json_t *vars);

//  Writes `Set FOO, BAR config vars` (verb "Set") or `Remove FOO config
//  vars` into `out` (CFG_DESC_MAX bytes), naming the keys of `keys` (a JSON
//  array of strings) in their order. When the names do not fit, the list
//  ends with `and N more`.
void cfg_describe (const char *verb, const json_t *keys, char out [CFG_DESC_MAX]);

//  The snapshot form of `vars`: a copy where each value that is not valid
//  UTF-8 becomes {"b64": BASE64}. Caller owns result.
json_t *cfg_vars_encode (const json_t *vars);
//  The inverse of cfg_vars_encode. Returns the vars (caller owns result),
//  or NULL when `encoded` is not a map of strings and {"b64"} objects.
json_t *cfg_vars_decode (const json_t *encoded);

//  True when the `len` bytes at `s` are valid UTF-8 (what JSON text and the
//  wire's `str` type can hold).
bool cfg_utf8_valid (const char *s, size_t len);

#endif
