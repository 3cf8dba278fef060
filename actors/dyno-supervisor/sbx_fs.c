//  sbx_fs - the sandbox's files on the host: work dirs and slug ownership
//
//  See sbx_fs.h (and sbx_slug_chown in sandbox.h). nftw's FTW_PHYS walks symlinks as links, FTW_MOUNT stays
//  on one file system, FTW_DEPTH visits a folder after its contents.

#define _GNU_SOURCE
#include "sbx_fs.h"
#include "sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FS_FDS_MAX 64                   // fds nftw may hold open

static int
s_remove_one (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) ftw;
    int rc = flag == FTW_DP ? rmdir (path) : unlink (path);
    return rc && errno != ENOENT ? errno : 0;
}

int
sbx_fs_remove (const char *path)
{
    struct stat st;
    if (lstat (path, &st))
        return errno == ENOENT ? 0 : -errno;
    int rc = nftw (path, s_remove_one, FS_FDS_MAX, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
    return rc > 0 ? -rc : rc < 0 ? -errno : 0;
}

//  nftw's callback takes no argument to carry the owner in (a static would
//  be file-scope mutable state), so the chown walk recurses itself, with
//  the same rules: lstat/lchown only, one file system. The depth is bounded
//  by PATH_MAX: every level adds at least two bytes to `sub`.
static int
s_chown_tree (const char *path, uid_t uid, gid_t gid)
{
    struct stat st;
    if (lstat (path, &st))
        return -errno;
    if (lchown (path, uid, gid))
        return -errno;
    if (!S_ISDIR (st.st_mode))
        return 0;
    DIR *d = opendir (path);
    if (!d)
        return -errno;
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir (d)) != NULL) {
        if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
            continue;
        char sub [PATH_MAX];
        if (snprintf (sub, sizeof sub, "%s/%s", path, e->d_name) >= (int) sizeof sub) {
            rc = -ENAMETOOLONG;
            break;
        }
        struct stat sst;
        if (lstat (sub, &sst)) {
            rc = -errno;
            break;
        }
        //  Another file system mounted inside is not the slug's.
        if (sst.st_dev != st.st_dev)
            continue;
        rc = s_chown_tree (sub, uid, gid);
    }
    closedir (d);
    return rc;
}

int
sbx_slug_chown (const char *slug_dir, uid_t uid, gid_t gid, char *why, size_t why_len)
{
    int rc = s_chown_tree (slug_dir, uid, gid);
    if (rc)
        snprintf (why, why_len, "cannot give '%s' to uid %u: %s", slug_dir, (unsigned) uid,
                  strerror (-rc));
    return rc ? -1 : 0;
}

int
sbx_fs_work_make (const char *dir, uid_t uid, gid_t gid, char *why, size_t why_len)
{
    //  A leftover of the same id (a destroy that failed) starts afresh.
    int rc = sbx_fs_remove (dir);
    if (rc) {
        snprintf (why, why_len, "cannot remove old '%s': %s", dir, strerror (-rc));
        return -1;
    }
    static const char *const subs [] = { "upper", "work", "lower" };
    char path [PATH_MAX];
    if (mkdir (dir, 0700)) {
        snprintf (why, why_len, "cannot create '%s': %s", dir, strerror (errno));
        return -1;
    }
    for (size_t i = 0; i < sizeof subs / sizeof subs [0]; i++) {
        snprintf (path, sizeof path, "%s/%s", dir, subs [i]);
        if (mkdir (path, 0755) || (i == 0 && chown (path, uid, gid))) {
            snprintf (why, why_len, "cannot create '%s': %s", path, strerror (errno));
            sbx_fs_remove (dir);
            return -1;
        }
    }
    return 0;
}
