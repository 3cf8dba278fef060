//  brk vault - the broker's copy of release-keeper's blobs
//
//  Owns <data>/vault: whole blobs (sources, buildpacks, slugs) under
//      <data>/vault/sha256/ab/abcdef...     (mode 0444, never changed)
//  and the blobs being received, one temp file each in <data>/vault/tmp
//  (swept when the vault is opened). release-keeper sends a blob in parts,
//  in order from offset 0 (vault.put); the last part (eof) makes the vault
//  check the SHA-256 of the whole, fsync the file, rename it into place and
//  fsync the folder, so a blob that exists is whole and is what its name
//  says. A part at offset 0 (re)starts a blob; a blob kept already is
//  answered as stored at once; anything else out of order, too large, or
//  a wrong SHA-256 drops the partial file and is refused. At most
//  BRK_VAULT_PUTS_MAX blobs are in progress at once (one idle for
//  BRK_VAULT_IDLE_MS gives way to a new one). Blobs are read back in parts
//  (vault.get, answered with blob.chunk).
//
//  The file handling here knows nothing of the wire; brk_on_vault_put and
//  brk_on_vault_get (broker_internal.h) answer the messages with it, for
//  release-keeper only. Disk I/O happens on the broker's thread: a part is
//  one write (at most BRK_VAULT_PART_MAX bytes), a blob one fsync.

#ifndef BRK_VAULT_H
#define BRK_VAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BRK_VAULT_SHA_HEX    64                 // hex digits of a SHA-256
#define BRK_VAULT_PART_MAX   (900 * 1024)       // bytes of one vault.put / blob.chunk
#define BRK_VAULT_PUTS_MAX   4                  // blobs in progress at once
#define BRK_VAULT_IDLE_MS    30000              // an idle one may be given up after
#define BRK_VAULT_SIZE_MB    500                // DYNOD_SLUG_MAX_MB, as release-keeper
#define BRK_VAULT_ACTOR      "release-keeper"   // the one actor that may use it
#define BRK_VAULT_WHY_MAX    200                // bytes of a refusal's reason

typedef struct brk_vault brk_vault_t;

//  Opens the vault under `data_dir` (folders made on first use) and
//  removes partial files a previous run left. Caller owns result.
brk_vault_t *brk_vault_new (const char *data_dir);
//  Closes and removes the blobs in progress. Accepts NULL.
void brk_vault_destroy (brk_vault_t **self_p);

//  Takes one part of blob `sha` (`size` bytes in all) from peer `owner`:
//  `len` bytes at `offset`, `eof` when they end it. Sets *stored_p to the
//  bytes the vault holds of it now and *whole_p when the blob is kept
//  (checked and synced, or kept before). Returns 0, or a negative code
//  with a one-line reason in `why` (the partial file is dropped then):
//  -EINVAL (not a SHA-256, a size that disagrees), -EFBIG (over the size
//  limit), ACT_EPROTO (out of order, truncated), -EBADMSG (SHA-256
//  mismatch), ACT_EFULL (too many blobs in progress), -errno (disk).
int brk_vault_put (brk_vault_t *self, const char *owner, const char *sha, int64_t offset,
                   int64_t size, const void *data, size_t len, bool eof, int64_t *stored_p,
                   bool *whole_p, char why [BRK_VAULT_WHY_MAX]);

//  Reads at most `max` bytes of kept blob `sha` from `offset` into a new
//  buffer *data_p (caller owns it; *len_p bytes) and sets *size_p to the
//  blob's size. Returns 0, or ACT_ENOTFOUND (not kept), -EINVAL (not a
//  SHA-256, offset past the end) or -errno, with the reason in `why`.
int brk_vault_read (brk_vault_t *self, const char *sha, int64_t offset, size_t max,
                    char **data_p, size_t *len_p, int64_t *size_p, char why [BRK_VAULT_WHY_MAX]);

//  How many blobs are in progress (tests).
size_t brk_vault_pending (const brk_vault_t *self);

#endif
