//  upload - one archive being streamed into the blob store
//
//  See upload.h. The bytes go straight from the message to the temp file
//  with write(2) (the page cache absorbs them; the fsync is at finish), and
//  through the hash once, so a chunk costs one copy into the kernel.

#include "upload.h"
#include "../common/act_base.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct rel_upload {
    const char *store;          // borrowed
    char *tmp_path;             // owned; NULL once finished
    int fd;                     // -1 once finished
    rel_sha_t *sha;             // owned
    int64_t received;
    int64_t max_bytes;
};

rel_upload_t *
rel_upload_new (const char *store, int64_t max_bytes, int *rc)
{
    char *path;
    int fd = rel_blob_tmp_open (store, &path);
    if (fd < 0) {
        *rc = fd;
        return NULL;
    }
    rel_upload_t *self = act_calloc (1, sizeof *self);
    self->store = store;
    self->tmp_path = path;
    self->fd = fd;
    self->sha = rel_sha_new ();
    self->max_bytes = max_bytes;
    *rc = 0;
    return self;
}

//  Closes and removes the temp file (the upload is over).
static void
s_discard (rel_upload_t *self)
{
    if (self->fd >= 0)
        close (self->fd);
    if (self->tmp_path)
        unlink (self->tmp_path);
    self->fd = -1;
    free (self->tmp_path);
    self->tmp_path = NULL;
}

void
rel_upload_destroy (rel_upload_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    rel_upload_t *self = *self_p;
    s_discard (self);
    rel_sha_destroy (&self->sha);
    free (self);
    *self_p = NULL;
}

int
rel_upload_append (rel_upload_t *self, int64_t offset, const void *data, size_t len,
                   char why [REL_UPLOAD_WHY_MAX])
{
    if (self->fd < 0) {
        snprintf (why, REL_UPLOAD_WHY_MAX, "upload is already finished");
        return -EPROTO;
    }
    if (offset != self->received) {
        snprintf (why, REL_UPLOAD_WHY_MAX, "upload chunk out of order: offset %lld, expected %lld",
                  (long long) offset, (long long) self->received);
        return -EPROTO;
    }
    if ((int64_t) len > self->max_bytes - self->received) {
        snprintf (why, REL_UPLOAD_WHY_MAX, "upload too large: over the limit of %lld MB",
                  (long long) (self->max_bytes / (1024 * 1024)));
        return -EFBIG;
    }
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t n = write (self->fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int rc = -errno;
            snprintf (why, REL_UPLOAD_WHY_MAX, "cannot store the upload: %s", strerror (-rc));
            return rc;
        }
        p += n;
        left -= (size_t) n;
    }
    rel_sha_update (self->sha, data, len);
    self->received += (int64_t) len;
    return 0;
}

int64_t
rel_upload_received (const rel_upload_t *self)
{
    return self->received;
}

int
rel_upload_finish (rel_upload_t *self, int64_t size, const char *sha256,
                   char blob [REL_SHA_HEX + 1], char why [REL_UPLOAD_WHY_MAX])
{
    blob [0] = 0;
    if (self->fd < 0) {
        snprintf (why, REL_UPLOAD_WHY_MAX, "upload is already finished");
        return -EPROTO;
    }
    if (size != self->received) {
        snprintf (why, REL_UPLOAD_WHY_MAX, "upload truncated: got %lld of %lld bytes",
                  (long long) self->received, (long long) size);
        s_discard (self);
        return -EPROTO;
    }
    char got [REL_SHA_HEX + 1];
    rel_sha_final (self->sha, got);
    if (!sha256 || strcmp (got, sha256) != 0) {
        snprintf (why, REL_UPLOAD_WHY_MAX, "upload corrupt: sha256 mismatch");
        s_discard (self);
        return -EPROTO;
    }
    int rc = rel_blob_commit (self->store, self->tmp_path, self->fd, got);
    if (rc) {
        snprintf (why, REL_UPLOAD_WHY_MAX, "cannot store the upload: %s", strerror (-rc));
        s_discard (self);
        return rc;
    }
    //  Renamed (or removed as a duplicate): nothing left to unlink.
    free (self->tmp_path);
    self->tmp_path = NULL;
    close (self->fd);
    self->fd = -1;
    memcpy (blob, got, sizeof got);
    return 0;
}
