//  mounts - the dyno's view of the file system, made inside its mount
//  namespace
//
//  See mounts.h. The order matters: the overlay is mounted first (its
//  layers may live under a hidden folder or under /tmp), /proc next, then
//  the hidden paths (one may be under /tmp), then the private tmpfs.

#define _GNU_SOURCE
#include "mounts.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#define MNT_OPTS_MAX    4096            // overlayfs takes one page of options
#define MNT_SAFE        (MS_NOSUID | MS_NODEV)

int
sbx_mounts_path_ok (const char *path)
{
    return path && path [0] == '/' && !strpbrk (path, ",:\\");
}

static int
s_fail (char *why, size_t why_len, const char *what, const char *path)
{
    snprintf (why, why_len, "cannot %s '%s': %s", what, path, strerror (errno));
    return -1;
}

//  Covers one hidden path; a missing one has nothing to hide.
static int
s_hide (const char *path, char *why, size_t why_len)
{
    struct stat st;
    if (lstat (path, &st))
        return errno == ENOENT ? 0 : s_fail (why, why_len, "look at hidden path", path);
    if (S_ISDIR (st.st_mode)) {
        if (mount ("tmpfs", path, "tmpfs", MNT_SAFE | MS_NOEXEC | MS_RDONLY, "size=4k,mode=0755"))
            return s_fail (why, why_len, "hide", path);
        return 0;
    }
    if (mount ("/dev/null", path, NULL, MS_BIND, NULL))
        return s_fail (why, why_len, "hide", path);
    return 0;
}

int
sbx_mounts_setup (const sbx_mounts_t *self, char *why, size_t why_len)
{
    if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
        return s_fail (why, why_len, "make private", "/");
    char opts [MNT_OPTS_MAX];
    int n = snprintf (opts, sizeof opts, "lowerdir=%s,upperdir=%s/upper,workdir=%s/work",
                      self->lower, self->work_dir, self->work_dir);
    if (n < 0 || (size_t) n >= sizeof opts) {
        snprintf (why, why_len, "overlay paths are too long");
        return -1;
    }
    if (mount ("overlay", SBX_APP_DIR, "overlay", MNT_SAFE, opts))
        return s_fail (why, why_len, "mount the slug overlay on", SBX_APP_DIR);
    if (mount ("proc", "/proc", "proc", MNT_SAFE | MS_NOEXEC, NULL))
        return s_fail (why, why_len, "mount", "/proc");
    for (const char *const *h = self->hide; h && *h; h++)
        if (s_hide (*h, why, why_len))
            return -1;
    static const char *const tmps [] = { "/tmp", "/var/tmp", "/dev/shm" };
    for (size_t i = 0; i < sizeof tmps / sizeof tmps [0]; i++) {
        struct stat st;
        if (stat (tmps [i], &st) || !S_ISDIR (st.st_mode))
            continue;
        if (mount ("tmpfs", tmps [i], "tmpfs", MNT_SAFE, "mode=1777"))
            return s_fail (why, why_len, "mount a private tmpfs on", tmps [i]);
    }
    return 0;
}
