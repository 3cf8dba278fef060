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
//  Buildpack programs run as opts->uid/gid when opts->drop (dynod build
//  sets it as root: the `nobody` user), through opts->isolate in each
//  program's child, which then sees its folders at the REL_SANDBOX_*
//  paths; BUILD_DIR, ENV_DIR, TMPDIR and CACHE_DIR are chowned to that
//  user first, while extraction and the slug stay with this process. ENV_DIR holds one file per config var (opts->config: a JSON
//  object KEY -> value, read and removed at the start), mode 0600.
//
//  The result goes to <work>/result.json: {"slug": {"blob", "size",
//  "buildpacks": [names]}, "process_types": {...}} or {"error": "one
//  line"}. Everything under <work> but result.json is removed at the end.
//  The reason of a failure is only in the result (release-keeper shows it
//  once, as the deploy's error), not in the output.

#ifndef REL_BUILDER_H
#define REL_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define REL_BUILD_RESULT    "result.json"   // in the work folder
#define REL_BUILD_CONFIG    "config.json"   // in the work folder, root-only

//  Where buildpack programs see their folders when isolated (the
//  sandbox's /tmp is a fresh tmpfs; these are bind mounts in it).
#define REL_SANDBOX_APP       "/tmp/build"       // BUILD_DIR, also HOME
#define REL_SANDBOX_CACHE     "/tmp/cache"       // CACHE_DIR
#define REL_SANDBOX_ENV       "/tmp/env"         // ENV_DIR
#define REL_SANDBOX_TMP       "/tmp/tmpdir"      // TMPDIR
#define REL_SANDBOX_BUILDPACK "/tmp/buildpack"   // the buildpack being run

//  The folders of one buildpack program run.
typedef struct {
    const char *app;
    const char *cache;
    const char *env;
    const char *tmp;
    const char *buildpack;
} rel_builder_dirs_t;

typedef struct rel_builder_opts rel_builder_opts_t;
struct rel_builder_opts {
    const char *store;              // the blob store (blobs.h)
    const char *work;               // an empty folder for this build
    const char *cache;              // the app's CACHE_DIR (created if absent)
    const char *source;             // sha256 of the source archive
    const char *commit;             // git commit (SOURCE_VERSION), or NULL
    const char *config;             // config vars file (JSON), or NULL
    const char *hide;               // the data folder, kept from buildpacks; or NULL
    int64_t slug_max;               // bytes
    int64_t extract_max;            // bytes an archive may expand to; 0: no limit
    size_t buildpack_count;
    const char *const *buildpack_blobs;     // sha256 of each buildpack archive
    const char *const *buildpack_names;
    bool drop;                      // run buildpack programs as uid/gid
    uid_t uid;
    gid_t gid;
    //  Called in each buildpack program's child before exec (may be
    //  NULL): the isolation and the change of user; `real` names the real
    //  folders, to be shown at the REL_SANDBOX_* paths the program is
    //  given instead. Returns 0, or -errno and the program does not run.
    int (*isolate) (const rel_builder_opts_t *opts, const rel_builder_dirs_t *real);
};

//  Runs the build. Returns 0 when it made a slug, 1 when it failed (the
//  reason is in result.json).
int rel_builder_run (const rel_builder_opts_t *opts);

#endif
