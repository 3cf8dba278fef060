//  seal - release-keeper's key for secrets at rest (certificate and ACME
//  account private keys)
//
//  The key is 32 random bytes in DATA_DIR/release-keeper/seal.key, created
//  0600 on first use. A sealed secret is nonce (12) | ciphertext | tag (16),
//  AES-256-GCM with the app name as additional data, so a sealed key cannot
//  be moved to another app's record.

#ifndef REL_SEAL_H
#define REL_SEAL_H

#include <stddef.h>

typedef struct rel_seal rel_seal_t;

//  Loads or creates the key under `data_dir` (NULL: a key kept in memory
//  only, for tests). Caller owns result; NULL with a reason in `err`.
rel_seal_t *rel_seal_new (const char *data_dir, char *err, size_t err_len);
void rel_seal_destroy (rel_seal_t **self_p);

//  Seals `len` bytes for `app`. Returns 0 with a new buffer in *out
//  (caller frees), or a negative code.
int rel_seal_close (rel_seal_t *self, const char *app, const void *plain, size_t len,
                    char **out, size_t *out_len);
//  Opens what rel_seal_close made. Returns 0 with a new NUL-terminated
//  buffer in *out (caller frees, and should wipe), or a negative code
//  when it was not sealed by this key for this app.
int rel_seal_open (rel_seal_t *self, const char *app, const void *sealed, size_t len,
                   char **out, size_t *out_len);

#endif
