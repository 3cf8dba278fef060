//  archive - safe .tar.gz reading and slug writing for the build runner
//
//  All archive work goes through libarchive. Reading refuses, and does not
//  skip, any entry that could land outside the build folder: absolute
//  paths, `..` components, paths that go through a symlink, symlinks whose
//  target (followed through the archive's other symlinks) leaves the
//  folder or is absolute, hard links to such paths, and device nodes,
//  FIFOs and sockets, and an entry that replaces one of the archive's
//  own symlinks (a hard link made to it earlier would stay a symlink on
//  disk). More than opts->max_entries entries or opts->max_bytes bytes of
//  data refuse the archive too. Extraction also sets libarchive's SECURE_* flags, so
//  the disk writer checks again. A corrupt or truncated archive is refused
//  with libarchive's reason.
//
//  Runs in the `dynod build` process (single-threaded, its own cwd).

#ifndef REL_ARCHIVE_H
#define REL_ARCHIVE_H

#include "blobs.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REL_ARCHIVE_WHY_MAX     320         // bytes of a refusal, with NUL
#define REL_ARCHIVE_ENTRIES_MAX 100000      // what builds use as max_entries

typedef struct {
    //  Extract into this existing folder; NULL: only check every entry
    //  (what the built-in buildpack needs: its slug is the archive itself).
    const char *dest;
    //  A top-level regular file to read into memory while checking (only
    //  without `dest`), e.g. "Procfile"; NULL for none.
    const char *want;
    size_t want_max;                    // read at most this many bytes + 1
    //  Limits against decompression bombs; 0: none. The bytes are the
    //  entries' declared sizes (sparse files count in full).
    int64_t max_bytes;
    uint64_t max_entries;
} rel_extract_opts_t;

typedef struct {
    bool found;                         // `want` is in the archive
    bool is_link;                       // ... but as a symlink, not read
    char *data;                         // owned: its bytes, NUL-terminated
    size_t len;                         // at most want_max + 1
    uint64_t entries;                   // entries in the archive
    int64_t bytes;                      // bytes of file data
} rel_extract_t;

//  Checks (and with opts->dest extracts) the archive at `path`. Returns 0
//  with `out` filled (free out->data), or -1 with a one-line reason in
//  `why`, e.g. `tarball entry '../x' escapes the build directory`.
int rel_archive_extract (const char *path, const rel_extract_opts_t *opts, rel_extract_t *out,
                         char why [REL_ARCHIVE_WHY_MAX]);

//  Writes the folder `dir` as a .tar.gz (gzip level 1) to `fd`, hashing
//  it on the way. Returns 0 with `sha` and *size_p set, or -1 with `why`
//  filled (including when the archive grows over `max_bytes`).
int rel_archive_write_dir (const char *dir, int fd, int64_t max_bytes, char sha [REL_SHA_HEX + 1],
                           int64_t *size_p, char why [REL_ARCHIVE_WHY_MAX]);

#endif
