//  archive - slug writing for the build runner
//
//  Reading and checking archives (source uploads, buildpacks) is
//  act_archive_extract in actors/common/act_archive.h; this module writes
//  a build folder as the slug.
//
//  Runs in the `dynod build` process (single-threaded, its own cwd).

#ifndef REL_ARCHIVE_H
#define REL_ARCHIVE_H

#include "blobs.h"
#include "../common/act_archive.h"

#include <stdint.h>

#define REL_ARCHIVE_WHY_MAX     ACT_ARCHIVE_WHY_MAX     // bytes of a refusal, with NUL
#define REL_ARCHIVE_ENTRIES_MAX 100000      // what builds use as max_entries

//  Writes the folder `dir` as a .tar.gz (gzip level 1) to `fd`, hashing
//  it on the way. Returns 0 with `sha` and *size_p set, or -1 with `why`
//  filled (including when the archive grows over `max_bytes`).
int rel_archive_write_dir (const char *dir, int fd, int64_t max_bytes, char sha [REL_SHA_HEX + 1],
                           int64_t *size_p, char why [REL_ARCHIVE_WHY_MAX]);

#endif
