//  seal - release-keeper's key for secrets at rest (see seal.h)
//
//  Owns the 32-byte key, read from or written to DATA_DIR/release-keeper/
//  seal.key (0600) once, at construction. AES-256-GCM through OpenSSL's
//  EVP interface, a random 12-byte nonce per seal, the app name as
//  additional authenticated data. Not deterministic (the nonce), so it is
//  only called where the result is then journaled (cert.add's handler
//  seals, cert.stored carries the sealed bytes) or never kept (route.app).

#include "seal.h"
#include "../common/act_base.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEAL_KEY_LEN    32
#define SEAL_NONCE_LEN  12
#define SEAL_TAG_LEN    16

struct rel_seal {
    unsigned char key [SEAL_KEY_LEN];
};

rel_seal_t *
rel_seal_new (const char *data_dir, char *err, size_t err_len)
{
    rel_seal_t *self = act_calloc (1, sizeof *self);
    if (!data_dir) {
        if (RAND_bytes (self->key, SEAL_KEY_LEN) != 1) {
            snprintf (err, err_len, "no random bytes for the seal key");
            free (self);
            return NULL;
        }
        return self;
    }
    char *dir = act_sprintf ("%s/release-keeper", data_dir);
    char *path = act_sprintf ("%s/seal.key", dir);
    char *data = NULL;
    size_t len = 0;
    int rc = act_read_file (path, &data, &len);
    if (rc == 0 && len == SEAL_KEY_LEN)
        memcpy (self->key, data, SEAL_KEY_LEN);
    else if (rc == 0) {
        snprintf (err, err_len, "'%s' is not a seal key (%zu bytes, not %d)", path, len,
                  SEAL_KEY_LEN);
        rc = -EINVAL;
    }
    else if (rc == -ENOENT) {
        if (RAND_bytes (self->key, SEAL_KEY_LEN) != 1)
            rc = -EIO;
        else if ((rc = act_mkdir_p (dir, 0700)) == 0)
            rc = act_write_file (path, self->key, SEAL_KEY_LEN, 0600);
        if (rc)
            snprintf (err, err_len, "cannot create '%s': %s", path, strerror (-rc));
    }
    else
        snprintf (err, err_len, "cannot read '%s': %s", path, strerror (-rc));
    if (data) {
        OPENSSL_cleanse (data, len);
        free (data);
    }
    free (path);
    free (dir);
    if (rc)
        rel_seal_destroy (&self);
    return self;
}

void
rel_seal_destroy (rel_seal_t **self_p)
{
    rel_seal_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    OPENSSL_cleanse (self->key, sizeof self->key);
    free (self);
    *self_p = NULL;
}

//  Runs AES-256-GCM one way over `in` into `out` (same length). On
//  decryption `tag` is checked, on encryption written. Returns 0, or
//  -EINVAL when the tag does not match, -ENOMEM when OpenSSL failed.
static int
s_gcm (const rel_seal_t *self, bool encrypt, const char *app, const unsigned char *nonce,
       const unsigned char *in, size_t len, unsigned char *out, unsigned char *tag)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new ();
    int n = 0, fin = 0;
    bool ok = ctx && len <= (size_t) INT32_MAX
           && EVP_CipherInit_ex (ctx, EVP_aes_256_gcm (), NULL, NULL, NULL, encrypt)
           && EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_GCM_SET_IVLEN, SEAL_NONCE_LEN, NULL)
           && EVP_CipherInit_ex (ctx, NULL, NULL, self->key, nonce, encrypt)
           && EVP_CipherUpdate (ctx, NULL, &n, (const unsigned char *) app, (int) strlen (app))
           && EVP_CipherUpdate (ctx, out, &n, in, (int) len)
           && (encrypt || EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG_LEN, tag));
    int rc = ok ? 0 : -ENOMEM;
    if (ok && EVP_CipherFinal_ex (ctx, out + n, &fin) != 1)
        rc = -EINVAL;
    if (rc == 0 && encrypt && !EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_LEN, tag))
        rc = -ENOMEM;
    EVP_CIPHER_CTX_free (ctx);
    return rc;
}

int
rel_seal_close (rel_seal_t *self, const char *app, const void *plain, size_t len, char **out,
                size_t *out_len)
{
    size_t total = SEAL_NONCE_LEN + len + SEAL_TAG_LEN;
    unsigned char *buf = act_malloc (total);
    int rc = RAND_bytes (buf, SEAL_NONCE_LEN) == 1 ? 0 : -EIO;
    if (rc == 0)
        rc = s_gcm (self, true, app, buf, plain, len, buf + SEAL_NONCE_LEN,
                    buf + SEAL_NONCE_LEN + len);
    if (rc) {
        free (buf);
        return rc;
    }
    *out = (char *) buf;
    *out_len = total;
    return 0;
}

int
rel_seal_open (rel_seal_t *self, const char *app, const void *sealed, size_t len, char **out,
               size_t *out_len)
{
    if (len < SEAL_NONCE_LEN + SEAL_TAG_LEN)
        return -EINVAL;
    const unsigned char *in = sealed;
    size_t plain_len = len - SEAL_NONCE_LEN - SEAL_TAG_LEN;
    unsigned char tag [SEAL_TAG_LEN];
    memcpy (tag, in + len - SEAL_TAG_LEN, SEAL_TAG_LEN);
    unsigned char *buf = act_malloc (plain_len + 1);
    int rc = s_gcm (self, false, app, in, in + SEAL_NONCE_LEN, plain_len, buf, tag);
    if (rc) {
        OPENSSL_cleanse (buf, plain_len + 1);
        free (buf);
        return rc;
    }
    buf [plain_len] = 0;
    *out = (char *) buf;
    *out_len = plain_len;
    return 0;
}
