//  blobs - release-keeper's content-addressed blob store and SHA-256
//
//  Sources, buildpacks and slugs are stored once each, under their SHA-256:
//      <store>/sha256/ab/abcdef...      (store = <data>/release-keeper/blobs)
//  A blob is written to a temp file in <store>/tmp, fsync'd, then renamed
//  into place (and the directory fsync'd), so a blob that exists is whole.
//  Blobs are never changed or removed once stored. Used by release-keeper
//  (uploads) and by the build runner (slugs), possibly at the same time:
//  both only ever add whole files with rename.

#ifndef REL_BLOBS_H
#define REL_BLOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REL_SHA_HEX     64          // hex digits of a SHA-256

//  The store's folder under a data directory. Caller owns result.
char *rel_blobs_dir (const char *data_dir);

//  True when `sha` is 64 lowercase hex digits.
bool rel_blob_sha_valid (const char *sha);

//  The path of blob `sha` (which must be valid). Caller owns result.
char *rel_blob_path (const char *store, const char *sha);

//  True when blob `sha` is stored; sets *size_p (may be NULL) to its size.
bool rel_blob_exists (const char *store, const char *sha, int64_t *size_p);

//  Creates a new empty temp file in <store>/tmp (creating folders as
//  needed). Returns its fd with *path_p set (caller owns it), or -errno.
int rel_blob_tmp_open (const char *store, char **path_p);

//  Makes the temp file `tmp_path` (its fd `fd`, still open; the caller
//  closes it) the blob `sha`: fsync, rename, fsync of the folder. When the
//  blob already exists the temp file is removed instead. Returns 0 or -errno.
int rel_blob_commit (const char *store, const char *tmp_path, int fd, const char *sha);

//  Incremental SHA-256 (OpenSSL EVP).
typedef struct rel_sha rel_sha_t;
//  Caller owns result.
rel_sha_t *rel_sha_new (void);
void rel_sha_destroy (rel_sha_t **self_p);
void rel_sha_update (rel_sha_t *self, const void *data, size_t len);
//  Writes the digest as 64 hex digits and a NUL into `hex`; the object
//  cannot be updated afterwards.
void rel_sha_final (rel_sha_t *self, char hex [REL_SHA_HEX + 1]);

#endif
