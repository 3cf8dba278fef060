//  act_archive - safe .tar.gz reading (release-keeper's builds, the
//  dyno-supervisor's slugs)
//
//  All archive work goes through libarchive. Reading refuses, and does not
//  skip, any entry that could land outside the destination folder:
//  absolute paths, `..` components, paths that go through a symlink,
//  symlinks whose target (followed through the archive's other symlinks)
//  leaves the folder or is absolute, hard links to such paths, and device
//  nodes, FIFOs and sockets, and an entry that replaces one of the
//  archive's own symlinks (a hard link made to it earlier would stay a
//  symlink on disk). More than opts->max_entries entries or
//  opts->max_bytes bytes of data refuse the archive too. Extraction also
//  sets libarchive's SECURE_* flags, so the disk writer checks again. A
//  corrupt or truncated archive is refused with libarchive's reason. The
//  refusals word the folder as "the build directory" (what users of
//  `dyno deploy` see).
//
//  Extraction changes the process's working directory for its duration
//  (and restores it): single-threaded callers only.

#ifndef ACT_ARCHIVE_H
#define ACT_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACT_ARCHIVE_WHY_MAX     320         // bytes of a refusal, with NUL

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
} act_extract_opts_t;

typedef struct {
    bool found;                         // `want` is in the archive
    bool is_link;                       // ... but as a symlink, not read
    char *data;                         // owned: its bytes, NUL-terminated
    size_t len;                         // at most want_max + 1
    uint64_t entries;                   // entries in the archive
    int64_t bytes;                      // bytes of file data
} act_extract_t;

//  Checks (and with opts->dest extracts) the archive at `path`. Returns 0
//  with `out` filled (caller frees out->data), or -1 with a one-line reason
//  in `why`, e.g. `tarball entry '../x' escapes the build directory`.
int act_archive_extract (const char *path, const act_extract_opts_t *opts, act_extract_t *out,
                         char why [ACT_ARCHIVE_WHY_MAX]);

#endif
