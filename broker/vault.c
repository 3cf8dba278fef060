//  brk vault - the broker's copy of release-keeper's blobs
//
//  See vault.h. The file handling comes first; the two control handlers
//  (vault.put, vault.get) at the end turn messages into calls of it.

#include "vault.h"
#include "broker_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VAULT_DIR_MODE   0700

//  One blob being received.
typedef struct {
    char sha [BRK_VAULT_SHA_HEX + 1];   // "" when the slot is free
    char owner [MSG_ADDR_MAX];          // the peer that started it
    char *tmp;                          // owned: its temp file
    int fd;
    EVP_MD_CTX *ctx;                    // owned
    int64_t size, received;
    int64_t last_ms;                    // monotonic: its last part
} s_put_t;

struct brk_vault {
    char *root;                         // owned: <data>/vault
    int64_t size_max;                   // bytes
    s_put_t puts [BRK_VAULT_PUTS_MAX];
};

static bool
s_sha_valid (const char *sha)
{
    size_t n = strspn (sha, "0123456789abcdef");
    return n == BRK_VAULT_SHA_HEX && sha [n] == 0;
}

//  The size limit from DYNOD_SLUG_MAX_MB (release-keeper's), in bytes.
static int64_t
s_size_max (void)
{
    const char *text = getenv ("DYNOD_SLUG_MAX_MB");
    char *end = NULL;
    long long mb = text && *text ? strtoll (text, &end, 10) : 0;
    if (!end || *end || mb <= 0)
        mb = BRK_VAULT_SIZE_MB;
    return (int64_t) mb * 1024 * 1024;
}

//  Removes the files a previous run left half-received.
static void
s_sweep_tmp (const char *root)
{
    char *dir = act_sprintf ("%s/tmp", root);
    DIR *d = opendir (dir);
    struct dirent *e;
    while (d && (e = readdir (d)) != NULL)
        if (e->d_name [0] != '.') {
            char *path = act_sprintf ("%s/%s", dir, e->d_name);
            unlink (path);
            free (path);
        }
    if (d)
        closedir (d);
    free (dir);
}

brk_vault_t *
brk_vault_new (const char *data_dir)
{
    brk_vault_t *self = act_calloc (1, sizeof *self);
    self->root = act_sprintf ("%s/vault", data_dir);
    self->size_max = s_size_max ();
    for (size_t i = 0; i < BRK_VAULT_PUTS_MAX; i++)
        self->puts [i].fd = -1;
    s_sweep_tmp (self->root);
    return self;
}

//  Frees slot `p` and removes its temp file.
static void
s_put_drop (s_put_t *p)
{
    if (p->fd >= 0)
        close (p->fd);
    if (p->tmp)
        unlink (p->tmp);
    free (p->tmp);
    EVP_MD_CTX_free (p->ctx);
    memset (p, 0, sizeof *p);
    p->fd = -1;
}

void
brk_vault_destroy (brk_vault_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    brk_vault_t *self = *self_p;
    for (size_t i = 0; i < BRK_VAULT_PUTS_MAX; i++)
        if (self->puts [i].sha [0])
            s_put_drop (&self->puts [i]);
    free (self->root);
    free (self);
    *self_p = NULL;
}

size_t
brk_vault_pending (const brk_vault_t *self)
{
    size_t n = 0;
    for (size_t i = 0; i < BRK_VAULT_PUTS_MAX; i++)
        n += self->puts [i].sha [0] != 0;
    return n;
}

static char *
s_blob_path (const brk_vault_t *self, const char *sha)
{
    return act_sprintf ("%s/sha256/%.2s/%s", self->root, sha, sha);
}

static s_put_t *
s_put_find (brk_vault_t *self, const char *sha)
{
    for (size_t i = 0; i < BRK_VAULT_PUTS_MAX; i++)
        if (strcmp (self->puts [i].sha, sha) == 0)
            return &self->puts [i];
    return NULL;
}

//  A slot for a new blob: a free one, else the one idle longest if it has
//  been idle for BRK_VAULT_IDLE_MS (its sender is gone). NULL when full.
static s_put_t *
s_put_slot (brk_vault_t *self)
{
    s_put_t *idle = NULL;
    for (size_t i = 0; i < BRK_VAULT_PUTS_MAX; i++) {
        s_put_t *p = &self->puts [i];
        if (!p->sha [0])
            return p;
        if (!idle || p->last_ms < idle->last_ms)
            idle = p;
    }
    if (act_mono_ms () - idle->last_ms < BRK_VAULT_IDLE_MS)
        return NULL;
    act_log_info ("vault: gave up blob %.12s (idle, %lld of %lld bytes)", idle->sha,
                  (long long) idle->received, (long long) idle->size);
    s_put_drop (idle);
    return idle;
}

//  Starts blob `sha` in slot `p`. Returns 0 or -errno.
static int
s_put_start (brk_vault_t *self, s_put_t *p, const char *owner, const char *sha, int64_t size)
{
    char *dir = act_sprintf ("%s/tmp", self->root);
    int rc = act_mkdir_p (dir, VAULT_DIR_MODE);
    char *tmp = act_sprintf ("%s/part-XXXXXX", dir);
    free (dir);
    int fd = rc ? -1 : mkstemp (tmp);
    if (fd < 0) {
        rc = rc ? rc : -errno;
        free (tmp);
        return rc;
    }
    snprintf (p->sha, sizeof p->sha, "%s", sha);
    snprintf (p->owner, sizeof p->owner, "%s", owner);
    p->tmp = tmp;
    p->fd = fd;
    p->ctx = EVP_MD_CTX_new ();
    if (!p->ctx || EVP_DigestInit_ex (p->ctx, EVP_sha256 (), NULL) != 1) {
        act_log_error ("cannot set up SHA-256 (OpenSSL)");
        abort ();
    }
    p->size = size;
    p->received = 0;
    p->last_ms = act_mono_ms ();
    return 0;
}

//  The last part is in: checks the SHA-256 and moves the file into place.
//  Returns 0 or a negative code with `why` set; the caller drops the slot.
static int
s_put_finish (brk_vault_t *self, s_put_t *p, char why [BRK_VAULT_WHY_MAX])
{
    if (p->received != p->size) {
        snprintf (why, BRK_VAULT_WHY_MAX, "vault.put of blob %.12s truncated: got %lld of %lld bytes",
                  p->sha, (long long) p->received, (long long) p->size);
        return ACT_EPROTO;
    }
    unsigned char md [EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char got [BRK_VAULT_SHA_HEX + 1] = "";
    EVP_DigestFinal_ex (p->ctx, md, &mdlen);
    for (unsigned int i = 0; i < mdlen && i < BRK_VAULT_SHA_HEX / 2; i++)
        snprintf (got + 2 * i, 3, "%02x", md [i]);
    if (strcmp (got, p->sha) != 0) {
        snprintf (why, BRK_VAULT_WHY_MAX, "vault.put corrupt: the bytes hash to %.12s, not blob %.12s",
                  got, p->sha);
        return -EBADMSG;
    }
    char *dir = act_sprintf ("%s/sha256/%.2s", self->root, p->sha);
    char *path = s_blob_path (self, p->sha);
    int rc = fchmod (p->fd, 0444) || fsync (p->fd) ? -errno : 0;
    if (rc == 0)
        rc = act_mkdir_p (dir, VAULT_DIR_MODE);
    if (rc == 0 && rename (p->tmp, path))
        rc = -errno;
    if (rc == 0) {
        free (p->tmp);
        p->tmp = NULL;              // in place: nothing to unlink
        rc = act_sync_dir (dir);
    }
    if (rc)
        snprintf (why, BRK_VAULT_WHY_MAX, "cannot keep blob %.12s: %s", p->sha, strerror (-rc));
    free (path);
    free (dir);
    return rc;
}

//  Offset 0 (re)starts blob `sha` (its sender begins again after a timeout
//  or a restart, of either side): drops *p_io if set, and sets it to a new
//  slot. Returns 0, or ACT_EFULL / -errno with `why` set.
static int
s_put_begin (brk_vault_t *self, s_put_t **p_io, const char *owner, const char *sha,
             int64_t size, char why [BRK_VAULT_WHY_MAX])
{
    if (*p_io)
        s_put_drop (*p_io);
    s_put_t *p = *p_io = s_put_slot (self);
    if (!p) {
        snprintf (why, BRK_VAULT_WHY_MAX, "too many blobs in progress (%d); try again",
                  BRK_VAULT_PUTS_MAX);
        return ACT_EFULL;
    }
    int rc = s_put_start (self, p, owner, sha, size);
    if (rc) {
        *p_io = NULL;               // the slot stays free
        snprintf (why, BRK_VAULT_WHY_MAX, "cannot store blob %.12s: %s", sha, strerror (-rc));
    }
    return rc;
}

//  Checks a part against blob `sha`'s slot `p`. Returns 0 or the refusal.
static int
s_put_check (const s_put_t *p, const char *owner, int64_t offset,
             int64_t size, size_t len, char why [BRK_VAULT_WHY_MAX])
{
    if (len > BRK_VAULT_PART_MAX) {
        snprintf (why, BRK_VAULT_WHY_MAX, "vault.put part of %zu bytes is over %d", len,
                  BRK_VAULT_PART_MAX);
        return -EMSGSIZE;
    }
    if (!p || strcmp (p->owner, owner) != 0 || offset != p->received) {
        snprintf (why, BRK_VAULT_WHY_MAX, "vault.put out of order: offset %lld, expected %lld",
                  (long long) offset, (long long) (p ? p->received : 0));
        return ACT_EPROTO;
    }
    if (size != p->size || (int64_t) len > size - offset) {
        snprintf (why, BRK_VAULT_WHY_MAX, "vault.put of blob %.12s: %lld bytes at %lld do not fit "
                  "its size %lld", p->sha, (long long) len, (long long) offset,
                  (long long) p->size);
        return -EINVAL;
    }
    return 0;
}

//  Whether blob `sha` is kept; sets *size_p (-1 when it is not).
static bool
s_kept (const brk_vault_t *self, const char *sha, int64_t *size_p)
{
    char *path = s_blob_path (self, sha);
    struct stat st;
    bool kept = stat (path, &st) == 0 && S_ISREG (st.st_mode);
    free (path);
    *size_p = kept ? (int64_t) st.st_size : -1;
    return kept;
}

int
brk_vault_put (brk_vault_t *self, const char *owner, const char *sha, int64_t offset,
               int64_t size, const void *data, size_t len, bool eof, int64_t *stored_p,
               bool *whole_p, char why [BRK_VAULT_WHY_MAX])
{
    *stored_p = 0;
    *whole_p = false;
    if (!s_sha_valid (sha)) {
        snprintf (why, BRK_VAULT_WHY_MAX, "'%.80s' is not a SHA-256 (64 lowercase hex digits)", sha);
        return -EINVAL;
    }
    if (size < 0 || size > self->size_max) {
        snprintf (why, BRK_VAULT_WHY_MAX, "blob of %lld bytes is over the limit of %lld MB",
                  (long long) size, (long long) (self->size_max / (1024 * 1024)));
        return -EFBIG;
    }
    s_put_t *p = s_put_find (self, sha);
    int64_t kept_size;
    if (s_kept (self, sha, &kept_size)) {
        if (p)
            s_put_drop (p);
        if (kept_size != size) {
            snprintf (why, BRK_VAULT_WHY_MAX, "blob %.12s is kept with %lld bytes, not %lld",
                      sha, (long long) kept_size, (long long) size);
            return -EINVAL;
        }
        *stored_p = size;
        *whole_p = true;
        return 0;
    }
    int rc = offset == 0 ? s_put_begin (self, &p, owner, sha, size, why) : 0;
    if (rc)
        return rc;
    rc = s_put_check (p, owner, offset, size, len, why);
    if (rc == 0) {
        rc = act_write_all (p->fd, data, len);
        if (rc)
            snprintf (why, BRK_VAULT_WHY_MAX, "cannot store blob %.12s: %s", sha, strerror (-rc));
    }
    if (rc == 0) {
        EVP_DigestUpdate (p->ctx, data, len);
        p->received += (int64_t) len;
        p->last_ms = act_mono_ms ();
        *stored_p = p->received;
        if (eof && (rc = s_put_finish (self, p, why)) == 0) {
            act_log_info ("vault: kept blob %.12s (%lld bytes)", sha, (long long) size);
            *whole_p = true;
            s_put_drop (p);
        }
    }
    if (rc && p)
        s_put_drop (p);
    return rc;
}

int
brk_vault_read (brk_vault_t *self, const char *sha, int64_t offset, size_t max,
                char **data_p, size_t *len_p, int64_t *size_p, char why [BRK_VAULT_WHY_MAX])
{
    *data_p = NULL;
    *len_p = 0;
    *size_p = 0;
    if (!s_sha_valid (sha)) {
        snprintf (why, BRK_VAULT_WHY_MAX, "'%.80s' is not a SHA-256 (64 lowercase hex digits)", sha);
        return -EINVAL;
    }
    char *path = s_blob_path (self, sha);
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    free (path);
    struct stat st;
    if (fd < 0 || fstat (fd, &st)) {
        if (fd >= 0)
            close (fd);
        snprintf (why, BRK_VAULT_WHY_MAX, "no blob %s in the vault", sha);
        return ACT_ENOTFOUND;
    }
    int64_t size = (int64_t) st.st_size;
    if (offset < 0 || offset > size) {
        close (fd);
        snprintf (why, BRK_VAULT_WHY_MAX, "offset %lld is outside blob %.12s (%lld bytes)",
                  (long long) offset, sha, (long long) size);
        return -EINVAL;
    }
    size_t want = size - offset < (int64_t) max ? (size_t) (size - offset) : max;
    char *buf = act_malloc (want ? want : 1);
    size_t got = 0;
    int rc = 0;
    while (got < want) {
        ssize_t n = pread (fd, buf + got, want - got, offset + (int64_t) got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? -errno : -EIO;
            break;
        }
        got += (size_t) n;
    }
    close (fd);
    if (rc) {
        free (buf);
        snprintf (why, BRK_VAULT_WHY_MAX, "cannot read blob %.12s: %s", sha, strerror (-rc));
        return rc;
    }
    *data_p = buf;
    *len_p = got;
    *size_p = size;
    return 0;
}

// ---------------------------------------------------------------------------
//  The control messages (control.c's table)

//  Only release-keeper keeps blobs here (the broker vouches for names;
//  with CURVE, the key is bound to the names it may use).
static bool
s_allowed (brk_t *self, brk_peer_t *peer, const void *rid, size_t rid_len, const msg_t *msg)
{
    if (peer->actor && strcmp (peer->name, BRK_VAULT_ACTOR) == 0) {
        if (!self->vault)
            self->vault = brk_vault_new (self->cfg.data_dir);
        return true;
    }
    brk_reject (self, rid, rid_len, BRK_REJ_BAD_CONTROL, msg->id, ACT_EREFUSED,
                "only release-keeper may use the vault", msg->type->name);
    return false;
}

void
brk_on_vault_put (brk_t *self, brk_peer_t *peer, const void *rid, size_t rid_len, msg_t *msg)
{
    if (!s_allowed (self, peer, rid, rid_len, msg))
        return;
    const char *sha = msg_str (msg, "blob", "");
    const json_t *data = json_object_get (msg->body, "data");
    int64_t stored;
    bool whole;
    char why [BRK_VAULT_WHY_MAX];
    int rc = brk_vault_put (self->vault, peer->address, sha, msg_int (msg, "offset", -1),
                            msg_int (msg, "size", -1), json_string_value (data),
                            json_string_length (data), msg_bool (msg, "eof", false), &stored,
                            &whole, why);
    if (rc) {
        if (rc == -EBADMSG)
            act_log_warn ("vault: refused from %s: %s", peer->address, why);
        brk_reject (self, rid, rid_len, BRK_REJ_BAD_CONTROL, msg->id, rc, why, "vault.put");
        return;
    }
    msg_t *reply = brk_msg_new (self, MSG_TYPE_VAULT_SAVED, peer->address);
    msg_set_corr (reply, msg->id);
    msg_set_str (reply, "blob", sha);
    msg_set_int (reply, "offset", stored);
    msg_set_bool (reply, "stored", whole);
    brk_send_msg (self, rid, rid_len, &reply);
}

void
brk_on_vault_get (brk_t *self, brk_peer_t *peer, const void *rid, size_t rid_len, msg_t *msg)
{
    if (!s_allowed (self, peer, rid, rid_len, msg))
        return;
    const char *sha = msg_str (msg, "blob", "");
    int64_t offset = msg_int (msg, "offset", -1);
    int64_t length = msg_int (msg, "length", BRK_VAULT_PART_MAX);
    if (length < 0 || length > BRK_VAULT_PART_MAX)
        length = BRK_VAULT_PART_MAX;
    char *data;
    size_t len;
    int64_t size;
    char why [BRK_VAULT_WHY_MAX];
    int rc = brk_vault_read (self->vault, sha, offset, (size_t) length, &data, &len, &size, why);
    if (rc) {
        brk_reject (self, rid, rid_len, BRK_REJ_BAD_CONTROL, msg->id, rc, why, "vault.get");
        return;
    }
    msg_t *reply = brk_msg_new (self, MSG_TYPE_BLOB_CHUNK, peer->address);
    msg_set_corr (reply, msg->id);
    msg_set_str (reply, "blob", sha);
    msg_set_int (reply, "offset", offset);
    msg_set_int (reply, "size", size);
    msg_set_json (reply, "data", json_stringn_nocheck (data, len));
    msg_set_bool (reply, "eof", offset + (int64_t) len == size);
    free (data);
    brk_send_msg (self, rid, rid_len, &reply);
}
