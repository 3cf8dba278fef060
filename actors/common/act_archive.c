//  act_archive - safe .tar.gz reading (release-keeper's builds, the
//  dyno-supervisor's slugs)
//
//  See act_archive.h for the rules. Entry names are normalised first
//  (leading `./` dropped, repeated `/` collapsed), then checked; the
//  symlinks seen are kept in a map (path -> target) so that every entry's
//  path can be checked for running through one, and at the end every
//  symlink's target is resolved through the others as the kernel would,
//  hop by hop.

#include "act_archive.h"
#include "act_base.h"
#include "../../messages/msg_pack.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ARC_READ_BLOCK    (1024 * 1024)    // bytes libarchive reads at a time
#define ARC_QUOTE_MAX     120              // bytes of an entry name in a refusal
#define ARC_HOPS_MAX      40               // symlinks followed, as the kernel's limit

//  Writes `text` (any bytes) cut and made valid UTF-8 into `out`.
static void
s_quote (const char *text, char out [ARC_QUOTE_MAX + 4])
{
    size_t len = strlen (text);
    size_t n = len > ARC_QUOTE_MAX ? ARC_QUOTE_MAX : len;
    //  Every byte that is not part of valid UTF-8 (and NUL) becomes '?'.
    size_t i = 0;
    while (i < n) {
        size_t ok = msg_utf8_prefix (text + i, n - i);
        const char *nul = memchr (text + i, 0, ok);
        if (nul)
            ok = (size_t) (nul - (text + i));
        memcpy (out + i, text + i, ok);
        i += ok;
        if (i < n)
            out [i++] = '?';
    }
    out [n] = 0;
    if (n < len)
        strcat (out, "...");
}

//  Normalises an entry name into `out` (PATH_MAX): drops leading `./`,
//  collapses `//` and a trailing `/`. An absolute name keeps its `/`.
static void
s_normalise (const char *name, char out [PATH_MAX])
{
    size_t o = 0;
    if (name [0] == '/')
        out [o++] = '/';
    const char *p = name;
    while (*p) {
        while (*p == '/')
            p++;
        const char *end = strchr (p, '/');
        size_t len = end ? (size_t) (end - p) : strlen (p);
        bool dot = len == 1 && p [0] == '.';
        if (len && !dot && o + len + 2 < PATH_MAX) {
            if (o && out [o - 1] != '/')
                out [o++] = '/';
            memcpy (out + o, p, len);
            o += len;
        }
        p += len;
    }
    out [o] = 0;
}

//  True when a component of `path` is `..`.
static bool
s_has_dotdot (const char *path)
{
    const char *p = path;
    while ((p = strstr (p, "..")) != NULL) {
        bool start = p == path || p [-1] == '/';
        bool end = p [2] == 0 || p [2] == '/';
        if (start && end)
            return true;
        p += 2;
    }
    return false;
}

//  Checks a normalised path: relative, no `..`, not under a symlink the
//  archive made. Returns 0 or -1 with `why` filled, naming `entry`.
static int
s_check_path (const char *path, const char *entry, json_t *links, char *why)
{
    char q [ARC_QUOTE_MAX + 4];
    s_quote (entry, q);
    if (path [0] == '/') {
        snprintf (why, ACT_ARCHIVE_WHY_MAX, "tarball entry '%s' is an absolute path", q);
        return -1;
    }
    if (s_has_dotdot (path)) {
        snprintf (why, ACT_ARCHIVE_WHY_MAX, "tarball entry '%s' escapes the build directory", q);
        return -1;
    }
    char prefix [PATH_MAX];
    snprintf (prefix, sizeof prefix, "%s", path);
    for (char *slash = strchr (prefix, '/'); slash; slash = strchr (slash + 1, '/')) {
        *slash = 0;
        bool link = json_object_get (links, prefix) != NULL;
        *slash = '/';
        if (link) {
            snprintf (why, ACT_ARCHIVE_WHY_MAX,
                      "tarball entry '%s' goes through a symlink and could escape the build directory", q);
            return -1;
        }
    }
    return 0;
}

//  Follows `path` from the folder `cur` (the resolved path so far, "" for
//  the top; PATH_MAX bytes, updated) through the archive's symlinks.
//  Returns 0 when it stays inside, -1 when it leaves (or loops).
static int
s_resolve (json_t *links, char *cur, const char *path, int *hops)
{
    if (path [0] == '/')
        return -1;
    const char *p = path;
    while (*p) {
        const char *end = strchr (p, '/');
        size_t len = end ? (size_t) (end - p) : strlen (p);
        const char *next = end ? end + 1 : p + len;
        if (len == 0 || (len == 1 && p [0] == '.')) {
            p = next;
            continue;
        }
        if (len == 2 && p [0] == '.' && p [1] == '.') {
            if (!cur [0])
                return -1;
            char *slash = strrchr (cur, '/');
            *(slash ? slash : cur) = 0;
            p = next;
            continue;
        }
        size_t o = strlen (cur);
        if (o + len + 2 >= PATH_MAX)
            return -1;
        if (o)
            cur [o++] = '/';
        memcpy (cur + o, p, len);
        cur [o + len] = 0;
        json_t *target = json_object_get (links, cur);
        if (target) {
            if (++*hops > ARC_HOPS_MAX)
                return -1;
            char *slash = strrchr (cur, '/');
            *(slash ? slash : cur) = 0;
            if (s_resolve (links, cur, json_string_value (target), hops))
                return -1;
        }
        p = next;
    }
    return 0;
}

//  Checks every symlink's target with all of the archive's links known.
static int
s_check_links (json_t *links, char *why)
{
    const char *path;
    json_t *target;
    json_object_foreach (links, path, target) {
        char cur [PATH_MAX];
        snprintf (cur, sizeof cur, "%s", path);
        char *slash = strrchr (cur, '/');
        *(slash ? slash : cur) = 0;
        int hops = 0;
        if (s_resolve (links, cur, json_string_value (target), &hops)) {
            char q [ARC_QUOTE_MAX + 4], t [ARC_QUOTE_MAX + 4];
            s_quote (path, q);
            s_quote (json_string_value (target), t);
            snprintf (why, ACT_ARCHIVE_WHY_MAX,
                      "tarball entry '%s' is a symlink to '%s', outside the build directory", q, t);
            return -1;
        }
    }
    return 0;
}

//  Checks one entry and records it in `links`; rewrites its names to the
//  normalised ones. Returns 0, 1 to skip it (the top folder), -1 refused.
static int
s_check_entry (struct archive_entry *entry, json_t *links, char *why)
{
    const char *name = archive_entry_pathname (entry);
    if (!name) {
        snprintf (why, ACT_ARCHIVE_WHY_MAX, "tarball has an entry without a name");
        return -1;
    }
    char path [PATH_MAX], q [ARC_QUOTE_MAX + 4];
    s_normalise (name, path);
    if (!path [0])
        return 1;
    if (s_check_path (path, name, links, why))
        return -1;
    s_quote (name, q);
    mode_t type = archive_entry_filetype (entry);
    if (type == AE_IFCHR || type == AE_IFBLK) {
        snprintf (why, ACT_ARCHIVE_WHY_MAX, "tarball entry '%s' is a device node", q);
        return -1;
    }
    if (type == AE_IFIFO || type == AE_IFSOCK) {
        snprintf (why, ACT_ARCHIVE_WHY_MAX, "tarball entry '%s' is a FIFO or socket", q);
        return -1;
    }
    const char *hardlink = archive_entry_hardlink (entry);
    if (hardlink) {
        char target [PATH_MAX], t [ARC_QUOTE_MAX + 4];
        s_normalise (hardlink, target);
        if (!target [0] || s_check_path (target, hardlink, links, why)) {
            s_quote (hardlink, t);
            snprintf (why, ACT_ARCHIVE_WHY_MAX,
                      "tarball entry '%s' is a hard link to '%s', outside the build directory", q, t);
            return -1;
        }
        archive_entry_set_hardlink (entry, target);
    }
    //  A hard link to one of the archive's symlinks is another symlink on
    //  disk, whose (same) target is read from the link's own folder.
    json_t *linked = hardlink ? json_incref (json_object_get (links, archive_entry_hardlink (entry)))
                              : NULL;
    if (json_object_get (links, path)) {
        snprintf (why, ACT_ARCHIVE_WHY_MAX,
                  "tarball entry '%s' replaces a symlink made earlier in the archive", q);
        json_decref (linked);
        return -1;
    }
    if (linked)
        json_object_set_new_nocheck (links, path, linked);
    if (type == AE_IFLNK) {
        const char *target = archive_entry_symlink (entry);
        if (!target || !target [0]) {
            snprintf (why, ACT_ARCHIVE_WHY_MAX, "tarball entry '%s' is a symlink to nothing", q);
            return -1;
        }
        json_object_set_new_nocheck (links, path, json_stringn_nocheck (target, strlen (target)));
    }
    archive_entry_set_pathname (entry, path);
    return 0;
}

//  Reads the current entry's data (a `want` file) into `out`.
static int
s_read_want (struct archive *a, size_t max, act_extract_t *out, char *why)
{
    out->data = act_malloc (max + 2);
    out->len = 0;
    while (out->len < max + 1) {
        la_ssize_t n = archive_read_data (a, out->data + out->len, max + 1 - out->len);
        if (n < 0) {
            snprintf (why, ACT_ARCHIVE_WHY_MAX, "tarball is corrupt or truncated: %s",
                      archive_error_string (a));
            return -1;
        }
        if (n == 0)
            break;
        out->len += (size_t) n;
    }
    out->data [out->len] = 0;
    return 0;
}

static struct archive *
s_reader_new (void)
{
    struct archive *a = archive_read_new ();
    archive_read_support_filter_gzip (a);
    archive_read_support_filter_none (a);
    archive_read_support_format_tar (a);
    archive_read_support_format_gnutar (a);
    return a;
}

static struct archive *
s_disk_new (void)
{
    struct archive *disk = archive_write_disk_new ();
    archive_write_disk_set_options (disk, ARCHIVE_EXTRACT_SECURE_NODOTDOT
                                    | ARCHIVE_EXTRACT_SECURE_SYMLINKS
                                    | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS
                                    | ARCHIVE_EXTRACT_TIME);
    return disk;
}

//  Handles one entry's data: extracted, read into `out`, or skipped.
static int
s_entry_data (struct archive *a, struct archive *disk, struct archive_entry *entry,
              const act_extract_opts_t *opts, act_extract_t *out, char *why)
{
    int64_t size = archive_entry_size (entry);
    if (opts->max_bytes && size > opts->max_bytes - out->bytes) {
        bool mb = opts->max_bytes >= 1024 * 1024;
        snprintf (why, ACT_ARCHIVE_WHY_MAX, "tarball expands to over %lld %s, the limit for a build",
                  (long long) (mb ? opts->max_bytes / (1024 * 1024) : opts->max_bytes),
                  mb ? "MB" : "bytes");
        return -1;
    }
    out->bytes += size > 0 ? size : 0;
    if (disk) {
        if (archive_read_extract2 (a, entry, disk) != ARCHIVE_OK) {
            char q [ARC_QUOTE_MAX + 4], e [ARC_QUOTE_MAX + 4];
            s_quote (archive_entry_pathname (entry), q);
            s_quote (archive_error_string (a) ? archive_error_string (a) : "unknown error", e);
            snprintf (why, ACT_ARCHIVE_WHY_MAX, "cannot extract tarball entry '%s': %s", q, e);
            return -1;
        }
        return 0;
    }
    if (opts->want && strcmp (archive_entry_pathname (entry), opts->want) == 0) {
        free (out->data);
        out->data = NULL;
        out->found = true;
        out->is_link = archive_entry_filetype (entry) == AE_IFLNK;
        if (archive_entry_filetype (entry) == AE_IFREG)
            return s_read_want (a, opts->want_max, out, why);
    }
    if (archive_read_data_skip (a) != ARCHIVE_OK) {
        char e [ARC_QUOTE_MAX + 4];
        s_quote (archive_error_string (a) ? archive_error_string (a) : "unknown error", e);
        snprintf (why, ACT_ARCHIVE_WHY_MAX, "tarball is corrupt or truncated: %s", e);
        return -1;
    }
    return 0;
}

//  The loop over entries of an opened reader.
static int
s_extract_entries (struct archive *a, struct archive *disk, const act_extract_opts_t *opts,
                   act_extract_t *out, char *why)
{
    json_t *links = json_object ();
    struct archive_entry *entry;
    int rc = 0;
    for (;;) {
        int r = archive_read_next_header (a, &entry);
        if (r == ARCHIVE_EOF)
            break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
            char e [ARC_QUOTE_MAX + 4];
            s_quote (archive_error_string (a) ? archive_error_string (a) : "unknown error", e);
            //  EILSEQ: libarchive's (private) ARCHIVE_ERRNO_FILE_FORMAT, "not
            //  an archive"; anything else is a damaged one.
            bool format = !out->entries && archive_errno (a) == EILSEQ;
            snprintf (why, ACT_ARCHIVE_WHY_MAX, format ? "tarball is not a valid .tar.gz: %s"
                                                       : "tarball is corrupt or truncated: %s", e);
            rc = -1;
            break;
        }
        if (opts->max_entries && out->entries == opts->max_entries) {
            snprintf (why, ACT_ARCHIVE_WHY_MAX, "tarball has over %llu entries, the limit for a build",
                      (unsigned long long) opts->max_entries);
            rc = -1;
            break;
        }
        out->entries++;
        int check = s_check_entry (entry, links, why);
        if (check < 0 || (check == 0 && s_entry_data (a, disk, entry, opts, out, why))) {
            rc = -1;
            break;
        }
    }
    if (rc == 0)
        rc = s_check_links (links, why);
    json_decref (links);
    return rc;
}

int
act_archive_extract (const char *path, const act_extract_opts_t *opts, act_extract_t *out,
                     char why [ACT_ARCHIVE_WHY_MAX])
{
    memset (out, 0, sizeof *out);
    struct archive *a = s_reader_new ();
    if (archive_read_open_filename (a, path, ARC_READ_BLOCK) != ARCHIVE_OK) {
        char e [ARC_QUOTE_MAX + 4];
        s_quote (archive_error_string (a) ? archive_error_string (a) : "unknown error", e);
        snprintf (why, ACT_ARCHIVE_WHY_MAX, archive_errno (a) == EILSEQ
                  ? "tarball is not a valid .tar.gz: %s" : "tarball is corrupt or truncated: %s", e);
        archive_read_free (a);
        return -1;
    }
    //  Entry names are relative: extract from inside the destination.
    int cwd = -1;
    struct archive *disk = NULL;
    if (opts->dest) {
        cwd = open (".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cwd < 0 || chdir (opts->dest)) {
            snprintf (why, ACT_ARCHIVE_WHY_MAX, "cannot enter '%s': %s", opts->dest, strerror (errno));
            if (cwd >= 0)
                close (cwd);
            archive_read_free (a);
            return -1;
        }
        disk = s_disk_new ();
    }
    int rc = s_extract_entries (a, disk, opts, out, why);
    if (disk) {
        if (archive_write_close (disk) != ARCHIVE_OK && rc == 0) {
            snprintf (why, ACT_ARCHIVE_WHY_MAX, "cannot finish extracting: %s",
                      archive_error_string (disk));
            rc = -1;
        }
        archive_write_free (disk);
        if (fchdir (cwd) != 0 && rc == 0) {
            snprintf (why, ACT_ARCHIVE_WHY_MAX, "cannot return to the work folder");
            rc = -1;
        }
        close (cwd);
    }
    archive_read_free (a);
    if (rc) {
        free (out->data);
        out->data = NULL;
    }
    return rc;
}
