//  act_curve - CURVE key pairs and key files, for every peer of the broker
//
//  Owns no state. A key file holds two lines, `public=<Z85>` and
//  `secret=<Z85>` (40 characters each), and is created 0600; the secret key
//  never leaves it except into a socket option. Which endpoints need CURVE:
//  every TCP endpoint that is not loopback-only (act_endpoint_is_loopback).
//
//  Used by the actor runtime (act.c), act_client, `dynod keys` and the
//  broker (its server key).

#ifndef ACT_CURVE_H
#define ACT_CURVE_H

#include <stdbool.h>
#include <stddef.h>

#define ACT_KEY_LEN     40              // a Z85 CURVE key, in characters
#define ACT_KEY_PREFIX  8               // characters of a public key in logs

//  A key pair as Z85 text. `secret` is sensitive: never log it.
typedef struct {
    char public_key [ACT_KEY_LEN + 1];
    char secret_key [ACT_KEY_LEN + 1];
} act_keypair_t;

//  What a CURVE client needs: the server's public key (borrowed) and its
//  own pair.
typedef struct {
    const char *server_key;             // Z85, 40 chars
    act_keypair_t pair;
} act_curve_t;

//  True when `key` is 40 characters of the Z85 alphabet that decode to a
//  key.
bool act_key_valid (const char *key);

//  True for endpoints that cannot be reached from another host: ipc://,
//  inproc://, and tcp:// on 127.0.0.0/8, ::1 or `localhost`.
bool act_endpoint_is_loopback (const char *endpoint);

//  Reads the key file `path` into *pair. Returns 0, -ENOENT when it does not
//  exist, or ACT_EPROTO when it is not two valid key lines (the
//  file's content is never echoed).
int act_keypair_load (const char *path, act_keypair_t *pair);

//  Loads `path`, or creates it (0600, a new pair, its directory 0700) when
//  it does not exist. *created tells which (may be NULL). Returns 0 or a
//  negative code.
int act_keypair_ensure (const char *path, act_keypair_t *pair, bool *created);

//  Makes ZeroMQ socket `sock` a CURVE client of `curve->server_key`.
//  Returns 0 or -errno.
int act_curve_client_apply (void *sock, const act_curve_t *curve);

//  Wipes a key pair's secret from memory.
void act_keypair_wipe (act_keypair_t *pair);

#endif
