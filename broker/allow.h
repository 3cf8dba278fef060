//  brk_allow - the broker's allow-list of CURVE public keys
//
//  Owns the parsed list. The file (DATA/keys/allowed, 0600, written by
//  `dynod keys allow|revoke`) has one key a line:
//
//      KEY host=NAME actors=a,b
//
//  KEY is a Z85 public key (40 characters); `host` the one host name the
//  key's actors may claim in hello; `actors` the actor names it may register
//  (empty or absent: the key may connect as a client only). Blank lines and
//  lines starting with `#` are ignored (no Z85 key starts with `#`). Any other line makes the whole file
//  invalid: the parser names the line and the reason, never echoing a key.
//  No I/O but brk_allow_load; brk_allow_parse is pure (the fuzz target).

#ifndef BRK_ALLOW_H
#define BRK_ALLOW_H

#include "../actors/common/act_curve.h"

#include <stdbool.h>
#include <stddef.h>

#define BRK_ALLOW_MAX       4096            // keys in one list
#define BRK_ALLOW_FILE_MAX  (1024 * 1024)   // bytes of the file
#define BRK_ALLOW_HOST_MAX  256             // host name, with NUL
#define BRK_ALLOW_ACTORS_MAX 512            // `a,b,...`, with NUL

typedef struct {
    char key [ACT_KEY_LEN + 1];
    char host [BRK_ALLOW_HOST_MAX];
    char actors [BRK_ALLOW_ACTORS_MAX];     // comma-separated, may be ""
} brk_allow_entry_t;

typedef struct brk_allow brk_allow_t;

//  An empty list. Caller owns result.
brk_allow_t *brk_allow_new (void);
void brk_allow_destroy (brk_allow_t **self_p);

//  Parses `len` bytes of `text` (need not be NUL-terminated). Returns the
//  list (caller owns result), or NULL with a one-line reason in `err`.
brk_allow_t *brk_allow_parse (const char *text, size_t len, char *err, size_t err_len);

//  Reads and parses the file `path`; a missing file is an empty list.
//  Returns the list (caller owns result) or NULL with a reason in `err`.
brk_allow_t *brk_allow_load (const char *path, char *err, size_t err_len);

//  The entry of `key`, or NULL. Borrowed, valid until the list changes.
const brk_allow_entry_t *brk_allow_find (const brk_allow_t *self, const char *key);
size_t brk_allow_count (const brk_allow_t *self);
//  Borrowed, valid until the list changes.
const brk_allow_entry_t *brk_allow_at (const brk_allow_t *self, size_t index);

//  True when `entry` lets its key register actor `name`.
bool brk_allow_permits (const brk_allow_entry_t *entry, const char *name);

//  Adds `key`, or replaces its entry. `actors` may be NULL or "". Returns 0,
//  -EINVAL (bad key, host or actor names: `err` says which), or ACT_EFULL.
int brk_allow_put (brk_allow_t *self, const char *key, const char *host, const char *actors,
                   char *err, size_t err_len);
//  Removes `key`. Returns 0 or ACT_ENOTFOUND.
int brk_allow_remove (brk_allow_t *self, const char *key);

//  The list in the file format, one line per key. Caller owns result.
char *brk_allow_format (const brk_allow_t *self);

#endif
