//  sbx_fs - the sandbox's files on the host: work dirs and slug ownership
//
//  Owns nothing; every function works on paths it is given. Trees are
//  walked physically (symlinks are never followed) and without crossing
//  into another file system, so a dyno's symlinks or leftovers cannot
//  turn a removal or chown against host files.

#ifndef SBX_FS_H
#define SBX_FS_H

#include <stddef.h>
#include <sys/types.h>

//  Removes `path` and everything under it. Returns 0 (also when it does
//  not exist) or -errno of the first failure.
int sbx_fs_remove (const char *path);

//  Makes the dyno's work dir: `dir` (0700), dir/upper (0755, owned by
//  uid:gid: the dyno's /app root), dir/work and dir/lower (empty, the
//  lower layer when there is no slug). Returns 0 or -1 with why.
int sbx_fs_work_make (const char *dir, uid_t uid, gid_t gid, char *why, size_t why_len);

#endif
