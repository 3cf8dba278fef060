//  blob_get - release-keeper answers blob.get from its blob store
//
//  Accepts: blob.get {blob, offset, length} (from the dyno-supervisors,
//  fetching slugs). Emits: blob.chunk {blob, offset, size, data, eof}
//  with at most REL_BLOB_CHUNK_MAX bytes, or error: a malformed sha
//  (-EINVAL), an offset or length out of range (-EINVAL), a blob not in
//  the store (ACT_ENOTFOUND). Reads the blob file (blobs.h) with one
//  pread. A blob missing from the store is fetched from the broker's
//  vault (vault.h) before the answer.

#ifndef REL_BLOB_GET_H
#define REL_BLOB_GET_H

#include "../common/act.h"

//  1 MiB less room for the envelope and the other fields: a blob.chunk
//  must fit in MSG_MAX_SIZE.
#define REL_BLOB_CHUNK_MAX  (MSG_MAX_SIZE - 64 * 1024)

act_handler_fn rel_on_blob_get;

#endif
