//  upload - one archive being streamed into the blob store
//
//  An upload appends chunks in order to a temp file while hashing them;
//  finishing checks the total size and SHA-256 the sender claims and, when
//  they match, stores the file as a blob (blobs.h). Destroying an upload
//  that was not finished removes its temp file. No actor runtime here:
//  release-keeper's deploy.c drives it from messages, the unit tests
//  directly.

#ifndef REL_UPLOAD_H
#define REL_UPLOAD_H

#include "blobs.h"

#include <stdint.h>

#define REL_UPLOAD_WHY_MAX  160     // bytes of a refusal, with NUL

typedef struct rel_upload rel_upload_t;

//  Starts an upload into `store` (borrowed: must outlive the upload) that
//  may grow to `max_bytes`. Returns the upload (caller owns result) or NULL
//  with *rc set to -errno.
rel_upload_t *rel_upload_new (const char *store, int64_t max_bytes, int *rc);
//  Removes the temp file unless the upload was stored.
void rel_upload_destroy (rel_upload_t **self_p);

//  Appends `len` bytes that the sender says start at `offset`. Returns 0,
//  or a negative code with `why` filled: -EPROTO (offset is not the bytes
//  received so far), -EFBIG (over max_bytes), -errno (the disk).
int rel_upload_append (rel_upload_t *self, int64_t offset, const void *data, size_t len,
                       char why [REL_UPLOAD_WHY_MAX]);

//  Bytes received so far.
int64_t rel_upload_received (const rel_upload_t *self);

//  Ends the upload: checks that `size` bytes were received and hash to
//  `sha256`, then stores them as a blob, whose address goes to `blob`.
//  Returns 0, or a negative code with `why` filled (`upload truncated: got
//  X of Y bytes`, `upload corrupt: sha256 mismatch`); the temp file is
//  removed either way, and the upload cannot be appended to afterwards.
int rel_upload_finish (rel_upload_t *self, int64_t size, const char *sha256,
                       char blob [REL_SHA_HEX + 1], char why [REL_UPLOAD_WHY_MAX]);

#endif
