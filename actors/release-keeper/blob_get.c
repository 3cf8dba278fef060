//  blob_get - release-keeper answers blob.get from its blob store
//
//  See blob_get.h.

#include "blob_get.h"
#include "blobs.h"
#include "vault.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

//  A blob this store lacks (release-keeper moved hosts) is fetched from
//  the broker's vault first; the request is handled again after.
static bool
s_fetch_first (rel_state_t *rel, const char *sha, msg_t *msg)
{
    json_t *shas = json_pack ("[s]", sha);
    bool parked = rel_vault_need (rel->vault, shas, msg, rel_on_blob_get);
    json_decref (shas);
    return parked;
}

int
rel_on_blob_get (void *state, act_t *act, msg_t *msg)
{
    const char *sha = msg_str (msg, "blob", "");
    int64_t offset = msg_int (msg, "offset", -1);
    int64_t length = msg_int (msg, "length", REL_BLOB_CHUNK_MAX);
    if (!rel_blob_sha_valid (sha))
        return act_reply_error (act, msg, -EINVAL, "'%.80s' is not a SHA-256 (64 lowercase hex digits)", sha);
    if (offset < 0 || length < 0)
        return act_reply_error (act, msg, -EINVAL, "offset and length must not be negative");
    if (s_fetch_first (state, sha, msg))
        return 0;
    if (length > REL_BLOB_CHUNK_MAX)
        length = REL_BLOB_CHUNK_MAX;
    const char *data_dir = act_data_dir (act);
    if (!data_dir)
        return act_reply_error (act, msg, ACT_ENOTFOUND, "no blob %s (no blob store)", sha);
    char *store = rel_blobs_dir (data_dir);
    char *path = rel_blob_path (store, sha);
    free (store);
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    free (path);
    struct stat st;
    if (fd < 0 || fstat (fd, &st)) {
        if (fd >= 0)
            close (fd);
        return act_reply_error (act, msg, ACT_ENOTFOUND, "no blob %s", sha);
    }
    int64_t size = st.st_size;
    if (offset > size) {
        close (fd);
        return act_reply_error (act, msg, -EINVAL, "offset %lld is past the end of blob %.12s (%lld bytes)",
                                (long long) offset, sha, (long long) size);
    }
    if (length > size - offset)
        length = size - offset;
    char *buf = act_malloc (length ? (size_t) length : 1);
    int64_t got = 0;
    while (got < length) {
        ssize_t n = pread (fd, buf + got, (size_t) (length - got), offset + got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += n;
    }
    int err = errno;
    close (fd);
    if (got < length) {
        free (buf);
        return act_reply_error (act, msg, -EIO, "cannot read blob %.12s: %s", sha,
                                act_strerror (got < 0 ? -err : -EIO));
    }
    msg_t *reply = act_msg_new (act, MSG_TYPE_BLOB_CHUNK, NULL);
    msg_set_str (reply, "blob", sha);
    msg_set_int (reply, "offset", offset);
    msg_set_int (reply, "size", size);
    msg_set_json (reply, "data", json_stringn_nocheck (buf, (size_t) length));
    msg_set_bool (reply, "eof", offset + length == size);
    free (buf);
    return act_reply (act, msg, &reply);
}
