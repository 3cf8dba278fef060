//  archive - slug writing for the build runner
//
//  The folder is walked with libarchive's disk reader (symlinks stored as
//  symlinks, never followed) into a gzip'd tar written to an fd and hashed
//  on the way. Reading archives is actors/common/act_archive.c.

#include "archive.h"
#include "../common/act_base.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ARC_COPY_BLOCK    (256 * 1024)     // bytes copied per call when writing
#define ARC_GZIP_LEVEL    "1"              // fastest: slugs are written on every build

//  The slug writer's sink: the fd, the hash, the size and its limit.
typedef struct {
    int fd;
    rel_sha_t *sha;
    int64_t size;
    int64_t max;
    bool over;
} arc_sink_t;

static la_ssize_t
s_sink_write (struct archive *a, void *arg, const void *buf, size_t len)
{
    arc_sink_t *sink = arg;
    if (sink->size + (int64_t) len > sink->max) {
        sink->over = true;
        archive_set_error (a, EFBIG, "slug over the size limit");
        return -1;
    }
    const char *p = buf;
    size_t left = len;
    while (left) {
        ssize_t n = write (sink->fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            archive_set_error (a, errno, "cannot write the slug: %s", strerror (errno));
            return -1;
        }
        p += n;
        left -= (size_t) n;
    }
    rel_sha_update (sink->sha, buf, len);
    sink->size += (int64_t) len;
    return (la_ssize_t) len;
}

//  Copies one file's data from the disk reader to the writer.
static int
s_copy_data (struct archive *disk, struct archive *w, char *buf)
{
    for (;;) {
        la_ssize_t n = archive_read_data (disk, buf, ARC_COPY_BLOCK);
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        if (archive_write_data (w, buf, (size_t) n) < 0)
            return -1;
    }
}

//  Walks `dir` into the writer `w`, names relative to `dir`.
static int
s_write_tree (const char *dir, struct archive *w, char *why)
{
    struct archive *disk = archive_read_disk_new ();
    archive_read_disk_set_symlink_physical (disk);
    int rc = archive_read_disk_open (disk, dir) == ARCHIVE_OK ? 0 : -1;
    size_t prefix = strlen (dir);
    char *buf = act_malloc (ARC_COPY_BLOCK);
    struct archive_entry *entry = archive_entry_new ();
    while (rc == 0) {
        int r = archive_read_next_header2 (disk, entry);
        if (r == ARCHIVE_EOF)
            break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
            rc = -1;
            break;
        }
        if (archive_read_disk_can_descend (disk))
            archive_read_disk_descend (disk);
        const char *name = archive_entry_pathname (entry);
        if (strlen (name) <= prefix + 1)
            continue;               // the top folder itself
        archive_entry_set_pathname (entry, name + prefix + 1);
        if (archive_write_header (w, entry) != ARCHIVE_OK) {
            rc = -2;
            break;
        }
        if (archive_entry_filetype (entry) == AE_IFREG && archive_entry_size (entry) > 0
            && s_copy_data (disk, w, buf))
            rc = archive_errno (w) ? -2 : -1;
    }
    if (rc == -1)
        snprintf (why, REL_ARCHIVE_WHY_MAX, "cannot read the build directory: %s",
                  archive_error_string (disk) ? archive_error_string (disk) : "unknown error");
    else if (rc == -2)
        snprintf (why, REL_ARCHIVE_WHY_MAX, "cannot write the slug: %s",
                  archive_error_string (w) ? archive_error_string (w) : "unknown error");
    archive_entry_free (entry);
    free (buf);
    archive_read_free (disk);
    return rc ? -1 : 0;
}

int
rel_archive_write_dir (const char *dir, int fd, int64_t max_bytes, char sha [REL_SHA_HEX + 1],
                       int64_t *size_p, char why [REL_ARCHIVE_WHY_MAX])
{
    arc_sink_t sink = { .fd = fd, .sha = rel_sha_new (), .max = max_bytes };
    struct archive *w = archive_write_new ();
    archive_write_set_format_pax_restricted (w);
    archive_write_add_filter_gzip (w);
    archive_write_set_filter_option (w, "gzip", "compression-level", ARC_GZIP_LEVEL);
    archive_write_set_bytes_per_block (w, ARC_COPY_BLOCK);
    archive_write_set_bytes_in_last_block (w, 1);
    int rc = archive_write_open2 (w, &sink, NULL, s_sink_write, NULL, NULL) == ARCHIVE_OK ? 0 : -1;
    if (rc)
        snprintf (why, REL_ARCHIVE_WHY_MAX, "cannot start the slug: %s", archive_error_string (w));
    else
        rc = s_write_tree (dir, w, why);
    if (archive_write_close (w) != ARCHIVE_OK && rc == 0) {
        snprintf (why, REL_ARCHIVE_WHY_MAX, "cannot write the slug: %s", archive_error_string (w));
        rc = -1;
    }
    archive_write_free (w);
    if (sink.over)
        snprintf (why, REL_ARCHIVE_WHY_MAX, "slug is over the limit of %lld MB",
                  (long long) (max_bytes / (1024 * 1024)));
    rel_sha_final (sink.sha, sha);
    rel_sha_destroy (&sink.sha);
    *size_p = sink.size;
    return rc || sink.over ? -1 : 0;
}
