//  upload - streams an archive to release-keeper (dyno deploy, buildpacks:set)
//
//  See upload.h. One chunk buffer of the size release-keeper allows; when
//  it fills it goes out as an upload.chunk (the message copies it) and is
//  reused. Progress answers are collected only when the window is full, and
//  all of them before upload.finish.

#include "upload.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UPLOAD_ACTOR       "release-keeper"
#define UPLOAD_WAIT_MS     60000          // for one chunk's answer
#define UPLOAD_CHUNK_MIN   1024
#define UPLOAD_READ_BLOCK  (256 * 1024)   // bytes read from a file at a time
#define UPLOAD_GZIP_LEVEL  "1"

struct cli_upload {
    cli_t *cli;                 // borrowed
    act_client_t *client;       // borrowed from cli
    char id [MSG_ID_LEN + 1];
    size_t chunk_max;
    int window;
    int unanswered;             // chunks sent, not answered yet
    int64_t offset;             // bytes sent
    char *buf;                  // owned; chunk_max bytes
    size_t buf_len;
    EVP_MD_CTX *sha;            // owned
    int failed;                 // exit code once a step failed, else 0
};

cli_upload_t *
cli_upload_new (cli_t *cli, const char *app, const char *purpose, int *code)
{
    act_client_t *client = cli_client (cli);
    if (!client) {
        *code = CLI_EXIT_NOBROKER;
        return NULL;
    }
    msg_t *req = act_client_msg_new (client, MSG_TYPE_UPLOAD_START, UPLOAD_ACTOR);
    msg_set_str (req, "app", app);
    msg_set_str (req, "purpose", purpose);
    msg_t *reply;
    *code = cli_call (cli, UPLOAD_ACTOR, &req, CLI_TIMEOUT_MS, &reply);
    if (*code)
        return NULL;
    cli_upload_t *self = act_calloc (1, sizeof *self);
    self->cli = cli;
    self->client = client;
    snprintf (self->id, sizeof self->id, "%s", msg_str (reply, "upload", ""));
    int64_t chunk = msg_int (reply, "chunk_max", 0);
    self->chunk_max = chunk < UPLOAD_CHUNK_MIN ? UPLOAD_CHUNK_MIN : (size_t) chunk;
    int64_t window = msg_int (reply, "window", 1);
    self->window = window < 1 ? 1 : window > 64 ? 64 : (int) window;
    self->buf = act_malloc (self->chunk_max);
    self->sha = EVP_MD_CTX_new ();
    if (!self->sha || EVP_DigestInit_ex (self->sha, EVP_sha256 (), NULL) != 1) {
        fprintf (stderr, "dyno: cannot set up SHA-256 (OpenSSL)\n");
        abort ();
    }
    msg_destroy (&reply);
    return self;
}

void
cli_upload_destroy (cli_upload_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cli_upload_t *self = *self_p;
    EVP_MD_CTX_free (self->sha);
    free (self->buf);
    free (self);
    *self_p = NULL;
}

//  Waits for one answer to a chunk. Returns 0 or an exit code.
static int
s_wait_one (cli_upload_t *self)
{
    for (;;) {
        int rc;
        msg_t *msg = act_client_recv (self->client, UPLOAD_WAIT_MS, &rc);
        if (!msg)
            return self->failed = cli_fail (self->cli, CLI_EXIT_FAIL,
                                            "no answer from release-keeper to the upload: %s",
                                            act_strerror (rc));
        bool ours = strcmp (msg_str (msg, "upload", ""), self->id) == 0;
        if (msg->type->id == MSG_TYPE_UPLOAD_PROGRESS && ours) {
            msg_destroy (&msg);
            self->unanswered--;
            return 0;
        }
        if (msg->type->id == MSG_TYPE_ERROR) {
            self->failed = cli_fail (self->cli, CLI_EXIT_FAIL, "%s",
                                     msg_str (msg, "reason", "upload refused"));
            msg_destroy (&msg);
            return self->failed;
        }
        msg_destroy (&msg);
    }
}

//  Sends the buffer as one chunk, first waiting when the window is full.
static int
s_send_chunk (cli_upload_t *self)
{
    if (self->buf_len == 0)
        return 0;
    if (self->unanswered >= self->window && s_wait_one (self))
        return self->failed;
    msg_t *chunk = act_client_msg_new (self->client, MSG_TYPE_UPLOAD_CHUNK, UPLOAD_ACTOR);
    msg_set_str (chunk, "upload", self->id);
    msg_set_int (chunk, "offset", self->offset);
    msg_set_json (chunk, "data", json_stringn_nocheck (self->buf, self->buf_len));
    int rc = act_client_send (self->client, &chunk);
    if (rc)
        return self->failed = cli_fail (self->cli, CLI_EXIT_FAIL, "cannot send the upload: %s",
                                        act_strerror (rc));
    self->unanswered++;
    self->offset += (int64_t) self->buf_len;
    self->buf_len = 0;
    return 0;
}

int
cli_upload_write (cli_upload_t *self, const void *data, size_t len)
{
    if (self->failed)
        return self->failed;
    EVP_DigestUpdate (self->sha, data, len);
    const char *p = data;
    while (len) {
        size_t n = self->chunk_max - self->buf_len;
        if (n > len)
            n = len;
        memcpy (self->buf + self->buf_len, p, n);
        self->buf_len += n;
        p += n;
        len -= n;
        if (self->buf_len == self->chunk_max && s_send_chunk (self))
            return self->failed;
    }
    return 0;
}

int
cli_upload_from_fd (cli_upload_t *self, int fd)
{
    char *block = act_malloc (UPLOAD_READ_BLOCK);
    int code = 0;
    for (;;) {
        ssize_t n = read (fd, block, UPLOAD_READ_BLOCK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            code = cli_fail (self->cli, CLI_EXIT_FAIL, "cannot read the source: %s", strerror (errno));
            break;
        }
        if (n == 0 || (code = cli_upload_write (self, block, (size_t) n)) != 0)
            break;
    }
    free (block);
    return code;
}

static la_ssize_t
s_archive_write (struct archive *a, void *arg, const void *buf, size_t len)
{
    (void) a;
    return cli_upload_write (arg, buf, len) ? -1 : (la_ssize_t) len;
}

//  True for a `.git` entry (folder, or file in a submodule) at any depth.
static bool
s_is_git (const char *path)
{
    const char *base = strrchr (path, '/');
    return strcmp (base ? base + 1 : path, ".git") == 0;
}

//  Copies one file's bytes from the disk reader into the writer.
static int
s_copy_file (struct archive *disk, struct archive *w, char *block)
{
    for (;;) {
        la_ssize_t n = archive_read_data (disk, block, UPLOAD_READ_BLOCK);
        if (n <= 0)
            return (int) n;
        if (archive_write_data (w, block, (size_t) n) < 0)
            return -1;
    }
}

//  Walks `dir` into the writer. Returns 0, or -1 (disk) / -2 (writer).
static int
s_walk (struct archive *w, const char *dir)
{
    struct archive *disk = archive_read_disk_new ();
    archive_read_disk_set_symlink_physical (disk);
    int rc = archive_read_disk_open (disk, dir) == ARCHIVE_OK ? 0 : -1;
    size_t prefix = strlen (dir);
    char *block = act_malloc (UPLOAD_READ_BLOCK);
    struct archive_entry *entry = archive_entry_new ();
    while (rc == 0) {
        int r = archive_read_next_header2 (disk, entry);
        if (r == ARCHIVE_EOF)
            break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
            rc = -1;
            break;
        }
        const char *name = archive_entry_pathname (entry);
        bool top = strlen (name) <= prefix + 1;
        if (s_is_git (name) && !top)
            continue;               // not descended into either
        if (archive_read_disk_can_descend (disk))
            archive_read_disk_descend (disk);
        if (top)
            continue;
        archive_entry_set_pathname (entry, name + prefix + 1);
        if (archive_write_header (w, entry) != ARCHIVE_OK)
            rc = -2;
        else if (archive_entry_filetype (entry) == AE_IFREG && archive_entry_size (entry) > 0)
            rc = s_copy_file (disk, w, block) == 0 ? 0 : archive_errno (w) ? -2 : -1;
    }
    if (rc == -1)
        fprintf (stderr, "dyno: cannot read '%s': %s\n", dir,
                 archive_error_string (disk) ? archive_error_string (disk) : "unknown error");
    archive_entry_free (entry);
    free (block);
    archive_read_free (disk);
    return rc;
}

int
cli_upload_dir (cli_upload_t *self, const char *dir)
{
    //  libarchive names entries after the path it was given: strip trailing
    //  slashes so the prefix cut below is exact.
    char *top = act_strdup (dir);
    for (size_t len = strlen (top); len > 1 && top [len - 1] == '/'; len--)
        top [len - 1] = 0;
    struct archive *w = archive_write_new ();
    archive_write_set_format_pax_restricted (w);
    archive_write_add_filter_gzip (w);
    archive_write_set_filter_option (w, "gzip", "compression-level", UPLOAD_GZIP_LEVEL);
    archive_write_set_bytes_per_block (w, 0);
    int rc = archive_write_open2 (w, self, NULL, s_archive_write, NULL, NULL) == ARCHIVE_OK ? 0 : -2;
    if (rc == 0)
        rc = s_walk (w, top);
    if (archive_write_close (w) != ARCHIVE_OK && rc == 0)
        rc = -2;
    int code = self->failed;
    if (!code && rc == -2)
        code = cli_fail (self->cli, CLI_EXIT_FAIL, "cannot archive '%s': %s", top,
                         archive_error_string (w) ? archive_error_string (w) : "unknown error");
    else if (!code && rc)
        code = cli_fail (self->cli, CLI_EXIT_FAIL, "cannot archive '%s'", top);
    archive_write_free (w);
    free (top);
    return code;
}

int
cli_upload_finish (cli_upload_t *self, char blob [65], int64_t *size_p)
{
    if (self->failed || s_send_chunk (self))
        return self->failed;
    while (self->unanswered > 0)
        if (s_wait_one (self))
            return self->failed;
    unsigned char md [EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex (self->sha, md, &len);
    char hex [65] = "";
    for (unsigned int i = 0; i < len && i < 32; i++)
        snprintf (hex + 2 * i, 3, "%02x", md [i]);
    msg_t *req = act_client_msg_new (self->client, MSG_TYPE_UPLOAD_FINISH, UPLOAD_ACTOR);
    msg_set_str (req, "upload", self->id);
    msg_set_int (req, "size", self->offset);
    msg_set_str (req, "sha256", hex);
    msg_t *reply;
    //  Storing means an fsync of the whole archive: allow for a slow disk.
    int code = cli_call (self->cli, UPLOAD_ACTOR, &req, UPLOAD_WAIT_MS, &reply);
    if (code)
        return self->failed = code;
    snprintf (blob, 65, "%s", msg_str (reply, "blob", ""));
    *size_p = msg_int (reply, "size", self->offset);
    msg_destroy (&reply);
    return 0;
}
