//  blobs - release-keeper's content-addressed blob store and SHA-256
//
//  See blobs.h. Paths are built with act_sprintf; every function returns
//  -errno captured right after the call that failed.

#include "blobs.h"
#include "../common/act_base.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOBS_DIR_MODE  0755

struct rel_sha {
    EVP_MD_CTX *ctx;
};

char *
rel_blobs_dir (const char *data_dir)
{
    return act_sprintf ("%s/release-keeper/blobs", data_dir);
}

bool
rel_blob_sha_valid (const char *sha)
{
    if (!sha)
        return false;
    size_t i = 0;
    for (; sha [i]; i++)
        if (!((sha [i] >= '0' && sha [i] <= '9') || (sha [i] >= 'a' && sha [i] <= 'f')))
            return false;
    return i == REL_SHA_HEX;
}

char *
rel_blob_path (const char *store, const char *sha)
{
    return act_sprintf ("%s/sha256/%.2s/%s", store, sha, sha);
}

bool
rel_blob_exists (const char *store, const char *sha, int64_t *size_p)
{
    if (!rel_blob_sha_valid (sha))
        return false;
    char *path = rel_blob_path (store, sha);
    struct stat st;
    bool found = stat (path, &st) == 0 && S_ISREG (st.st_mode);
    free (path);
    if (found && size_p)
        *size_p = (int64_t) st.st_size;
    return found;
}

int
rel_blob_tmp_open (const char *store, char **path_p)
{
    *path_p = NULL;
    char *dir = act_sprintf ("%s/tmp", store);
    int rc = act_mkdir_p (dir, BLOBS_DIR_MODE);
    if (rc) {
        free (dir);
        return rc;
    }
    char *path = act_sprintf ("%s/part-XXXXXX", dir);
    free (dir);
    int fd = mkstemp (path);
    if (fd < 0) {
        rc = -errno;
        free (path);
        return rc;
    }
    *path_p = path;
    return fd;
}

int
rel_blob_commit (const char *store, const char *tmp_path, int fd, const char *sha)
{
    if (!rel_blob_sha_valid (sha))
        return -EINVAL;
    if (rel_blob_exists (store, sha, NULL)) {
        unlink (tmp_path);
        return 0;
    }
    //  Blobs are read by the build runner and dyno-supervisor: world-readable
    //  like the folders, never writable.
    if (fchmod (fd, 0444) || fsync (fd))
        return -errno;
    char *dir = act_sprintf ("%s/sha256/%.2s", store, sha);
    char *path = rel_blob_path (store, sha);
    int rc = act_mkdir_p (dir, BLOBS_DIR_MODE);
    if (rc == 0 && rename (tmp_path, path))
        rc = -errno;
    if (rc == 0)
        rc = act_sync_dir (dir);
    free (path);
    free (dir);
    return rc;
}

rel_sha_t *
rel_sha_new (void)
{
    rel_sha_t *self = act_calloc (1, sizeof *self);
    self->ctx = EVP_MD_CTX_new ();
    if (!self->ctx || EVP_DigestInit_ex (self->ctx, EVP_sha256 (), NULL) != 1) {
        act_log_error ("cannot set up SHA-256 (OpenSSL)");
        abort ();
    }
    return self;
}

void
rel_sha_destroy (rel_sha_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    EVP_MD_CTX_free ((*self_p)->ctx);
    free (*self_p);
    *self_p = NULL;
}

void
rel_sha_update (rel_sha_t *self, const void *data, size_t len)
{
    EVP_DigestUpdate (self->ctx, data, len);
}

void
rel_sha_final (rel_sha_t *self, char hex [REL_SHA_HEX + 1])
{
    unsigned char md [EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex (self->ctx, md, &len);
    for (unsigned int i = 0; i < len && i < REL_SHA_HEX / 2; i++)
        snprintf (hex + 2 * i, 3, "%02x", md [i]);
    hex [REL_SHA_HEX] = 0;
}
