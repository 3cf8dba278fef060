//  builder - one build, run inside the `dynod build` process
//
//  Turns an uploaded source archive into a slug with the Heroku buildpack
//  API, writing progress lines Heroku-style (`-----> ...`, `       ...`)
//  on stdout, which release-keeper streams to the CLI line by line:
//
//  built-in buildpack (no buildpacks set): the archive is checked entry by
//  entry (archive.h) without being written to disk, the top-level Procfile
//  is read from it and parsed, and the slug IS the source blob (same
//  content address: nothing is recompressed);
//
//  buildpacks: the source is extracted into <work>/app (BUILD_DIR), each
//  buildpack archive into <work>/bp-N; every buildpack's `bin/detect
//  BUILD_DIR` runs (it must pass when there is one buildpack), then, in
//  order, `bin/compile BUILD_DIR CACHE_DIR ENV_DIR` and `bin/release
//  BUILD_DIR` (its default_process_types are read); the Procfile's types
//  override those; BUILD_DIR is written as a .tar.gz (gzip level 1) into
//  the blob store: the slug.
//
//  The result goes to <work>/result.json: {"slug": {"blob", "size",
//  "buildpacks": [names]}, "process_types": {...}} or {"error": "one
//  line"}. Everything under <work> but result.json is removed at the end.

#ifndef REL_BUILDER_H
#define REL_BUILDER_H

#include <stddef.h>
#include <stdint.h>

#define REL_BUILD_RESULT    "result.json"   // in the work folder

typedef struct {
    const char *store;              // the blob store (blobs.h)
    const char *work;               // an empty folder for this build
    const char *cache;              // the app's CACHE_DIR (created if absent)
    const char *source;             // sha256 of the source archive
    const char *commit;             // git commit (SOURCE_VERSION), or NULL
    int64_t slug_max;               // bytes
    size_t buildpack_count;
    const char *const *buildpack_blobs;     // sha256 of each buildpack archive
    const char *const *buildpack_names;
} rel_builder_opts_t;

//  Runs the build. Returns 0 when it made a slug, 1 when it failed (the
//  reason is in result.json and was printed as ` !     reason`).
int rel_builder_run (const rel_builder_opts_t *opts);

#endif
