//  mounts - the dyno's view of the file system, made inside its mount
//  namespace
//
//  Owns the mounts of one dyno's mount namespace (they die with it; none
//  is ever made on the host): / made private (recursively) so nothing
//  propagates back, the slug as an overlay at /app (lower: the unpacked
//  slug, or an empty folder; upper and work: the dyno's work dir), a
//  fresh /proc for the dyno's PID namespace, private tmpfs on /tmp,
//  /var/tmp and /dev/shm (the world-writable places, so dynos of
//  different apps share nothing there), and an empty read-only tmpfs
//  over each hidden folder (/dev/null over a hidden file).
//
//  Runs in the dyno's pid 1, as root, before any command starts.

#ifndef SBX_MOUNTS_H
#define SBX_MOUNTS_H

#include <stddef.h>

#define SBX_APP_DIR "/app"

typedef struct {
    const char *lower;              // the slug folder, or the work dir's empty one
    const char *work_dir;           // holds upper/ and work/
    const char *const *hide;        // NULL-terminated, may be NULL
} sbx_mounts_t;

//  True when `path` can be given to overlayfs as a layer (no `,`, `:` or
//  `\`, which its option syntax would take as separators).
int sbx_mounts_path_ok (const char *path);

//  Makes the mounts. Returns 0 or -1 with a one-line reason in why.
int sbx_mounts_setup (const sbx_mounts_t *self, char *why, size_t why_len);

#endif
