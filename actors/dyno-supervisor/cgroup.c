//  cgroup - one dyno's control group, on cgroup v1 or v2
//
//  See cgroup.h. Every file is written with one write(2), as the cgroup
//  file systems want; errors keep the kernel's reason.

#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CG_V1_MEMORY    "/sys/fs/cgroup/memory"
#define CG_V1_PIDS      "/sys/fs/cgroup/pids"
#define CG_V2_ROOT      "/sys/fs/cgroup"
#define CG_V2_ROOT_ENV  "DYNOD_CGROUP2_ROOT"
#define CG_READ_MAX     (256 * 1024)    // bytes of a cgroup file read
#define CG_REMOVE_TRIES 400             // x CG_REMOVE_STEP_NS: ~2 s to empty a leaf
#define CG_REMOVE_STEP_NS (5 * 1000 * 1000)
#define CG_PIDS_MAX     4096            // pids killed per round

//  out = a/b. Returns 0 or -ENAMETOOLONG.
static int
s_join (char out [PATH_MAX], const char *a, const char *b)
{
    size_t alen = strlen (a), blen = strlen (b);
    if (alen + 1 + blen >= PATH_MAX)
        return -ENAMETOOLONG;
    memmove (out, a, alen);
    out [alen] = '/';
    memcpy (out + alen + 1, b, blen + 1);
    return 0;
}

static bool
s_exists (const char *path)
{
    return access (path, F_OK) == 0;
}

sbx_cgroup_kind_t
sbx_cgroup_detect (void)
{
    //  A hybrid host has a cgroup2 mount too (at .../unified), but its
    //  controllers are bound to the v1 hierarchies.
    if (s_exists (CG_V2_ROOT "/cgroup.controllers") && !s_exists (CG_V1_MEMORY "/cgroup.procs"))
        return SBX_CGROUP_V2;
    if (s_exists (CG_V1_MEMORY "/cgroup.procs") && s_exists (CG_V1_PIDS "/cgroup.procs"))
        return SBX_CGROUP_V1;
    return SBX_CGROUP_NONE;
}

static const char *
s_v2_root (void)
{
    const char *root = getenv (CG_V2_ROOT_ENV);
    return root && *root ? root : CG_V2_ROOT;
}

//  Writes `text` to dir/file in one write. Returns 0 or -errno.
static int
s_write (const char *dir, const char *file, const char *text)
{
    char path [PATH_MAX];
    if (s_join (path, dir, file))
        return -ENAMETOOLONG;
    int fd = open (path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t len = strlen (text);
    ssize_t n = write (fd, text, len);
    int rc = n == (ssize_t) len ? 0 : n < 0 ? -errno : -EIO;
    close (fd);
    return rc;
}

//  Reads dir/file (at most CG_READ_MAX bytes). Caller owns result; NULL
//  when it cannot be read.
static char *
s_read (const char *dir, const char *file)
{
    char path [PATH_MAX];
    if (s_join (path, dir, file))
        return NULL;
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    char *buf = malloc (CG_READ_MAX + 1);
    size_t got = 0;
    while (buf && got < CG_READ_MAX) {
        ssize_t n = read (fd, buf + got, CG_READ_MAX - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t) n;
    }
    close (fd);
    if (buf)
        buf [got] = 0;
    return buf;
}

//  The value of `key` in a `key value` per line file; -1 when absent.
static int64_t
s_stat_value (const char *text, const char *key)
{
    size_t klen = strlen (key);
    for (const char *p = text; p && *p; p = strchr (p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp (p, key, klen) == 0 && p [klen] == ' ')
            return strtoll (p + klen + 1, NULL, 10);
    return -1;
}

//  Creates dir (EEXIST is fine). v2: first enables the memory and pids
//  controllers (those the level has) for its children in `up`.
static int
s_mkdir (const char *up, const char *dir, bool v2)
{
    if (v2 && up) {
        char *have = s_read (up, "cgroup.controllers");
        if (have && strstr (have, "memory"))
            s_write (up, "cgroup.subtree_control", "+memory");
        if (have && strstr (have, "pids"))
            s_write (up, "cgroup.subtree_control", "+pids");
        free (have);
    }
    return mkdir (dir, 0755) == 0 || errno == EEXIST ? 0 : -errno;
}

//  Creates root/parent/app/id as `leaf` (PATH_MAX). Returns 0 or -errno.
static int
s_make_leaf (const char *root, const char *parent, const char *app, const char *id, bool v2,
             char *leaf)
{
    char level [2][PATH_MAX];
    if (s_join (level [0], root, parent) || s_join (level [1], level [0], app)
        || s_join (leaf, level [1], id))
        return -ENAMETOOLONG;
    int rc = s_mkdir (root, level [0], v2);
    if (rc == 0)
        rc = s_mkdir (level [0], level [1], v2);
    if (rc == 0)
        rc = s_mkdir (level [1], leaf, v2);
    return rc;
}

//  Writes one limit, failing with a reason naming the file.
static int
s_limit (const char *dir, const char *file, int64_t value, char *why, size_t why_len)
{
    char text [32];
    snprintf (text, sizeof text, "%lld", (long long) value);
    int rc = s_write (dir, file, text);
    if (rc)
        snprintf (why, why_len, "cannot set %s/%s to %s: %s", dir, file, text, strerror (-rc));
    return rc ? -1 : 0;
}

static int
s_limits_v1 (sbx_cg_t *self, int64_t mem, int64_t procs, char *why, size_t why_len)
{
    char path [PATH_MAX];
    s_join (path, self->dir [0], "memory.memsw.limit_in_bytes");
    //  memsw (memory + swap) may never be below the memory limit: set the
    //  memory one first. Equal limits: swapping does not buy room.
    if (mem && (s_limit (self->dir [0], "memory.limit_in_bytes", mem, why, why_len)
                || (s_exists (path)
                    && s_limit (self->dir [0], "memory.memsw.limit_in_bytes", mem, why, why_len))))
        return -1;
    if (procs && s_limit (self->dir [1], "pids.max", procs, why, why_len))
        return -1;
    return 0;
}

static int
s_limits_v2 (sbx_cg_t *self, int64_t mem, int64_t procs, char *why, size_t why_len)
{
    char path [PATH_MAX];
    s_join (path, self->dir [0], "memory.swap.max");
    //  No swap: as v1's equal memsw limit, memory + swap stays under mem.
    if (mem && (s_limit (self->dir [0], "memory.max", mem, why, why_len)
                || (s_exists (path) && s_limit (self->dir [0], "memory.swap.max", 0, why, why_len))))
        return -1;
    if (procs && s_limit (self->dir [0], "pids.max", procs, why, why_len))
        return -1;
    return 0;
}

int
sbx_cg_create (sbx_cg_t *self, sbx_cgroup_kind_t kind, const char *parent, const char *app,
               const char *id, int64_t mem_limit, int64_t procs_max, char *why, size_t why_len)
{
    memset (self, 0, sizeof *self);
    self->kind = kind;
    if (kind == SBX_CGROUP_NONE)
        return 0;
    bool v2 = kind == SBX_CGROUP_V2;
    const char *roots [SBX_CG_DIRS] = { v2 ? s_v2_root () : CG_V1_MEMORY, v2 ? NULL : CG_V1_PIDS };
    for (int i = 0; i < SBX_CG_DIRS && roots [i]; i++) {
        int rc = s_make_leaf (roots [i], parent, app, id, v2, self->dir [i]);
        if (rc) {
            snprintf (why, why_len, "cannot create cgroup '%s': %s", self->dir [i], strerror (-rc));
            sbx_cg_remove (self);
            return -1;
        }
    }
    int rc = v2 ? s_limits_v2 (self, mem_limit, procs_max, why, why_len)
                : s_limits_v1 (self, mem_limit, procs_max, why, why_len);
    if (rc)
        sbx_cg_remove (self);
    return rc;
}

int
sbx_cg_open_procs (const sbx_cg_t *self, int fds [SBX_CG_DIRS], char *why, size_t why_len)
{
    for (int i = 0; i < SBX_CG_DIRS; i++)
        fds [i] = -1;
    for (int i = 0; i < SBX_CG_DIRS && self->dir [i][0]; i++) {
        char path [PATH_MAX];
        s_join (path, self->dir [i], "cgroup.procs");
        fds [i] = open (path, O_WRONLY | O_CLOEXEC);
        if (fds [i] < 0) {
            snprintf (why, why_len, "cannot open '%s': %s", path, strerror (errno));
            for (int j = 0; j < i; j++)
                close (fds [j]);
            return -1;
        }
    }
    return 0;
}

int
sbx_cg_pids (const sbx_cg_t *self, pid_t *pids, int max)
{
    //  v1: the pids hierarchy holds the same processes as the memory one.
    const char *dir = self->dir [1][0] ? self->dir [1] : self->dir [0];
    if (!dir [0])
        return -1;
    char *text = s_read (dir, "cgroup.procs");
    if (!text)
        return -1;
    int count = 0;
    for (char *p = text, *end; *p && count < max; p = end) {
        long pid = strtol (p, &end, 10);
        if (end == p)
            break;
        if (pid > 0)
            pids [count++] = (pid_t) pid;
    }
    free (text);
    return count;
}

int64_t
sbx_cg_memory (const sbx_cg_t *self)
{
    if (!self->dir [0][0])
        return -1;
    char *stat = s_read (self->dir [0], "memory.stat");
    if (!stat)
        return -1;
    int64_t used = -1;
    if (self->kind == SBX_CGROUP_V1) {
        used = s_stat_value (stat, "total_rss");
        int64_t swap = s_stat_value (stat, "total_swap");
        if (used >= 0 && swap > 0)
            used += swap;
    }
    else {
        used = s_stat_value (stat, "anon");
        char *swap = s_read (self->dir [0], "memory.swap.current");
        if (used >= 0 && swap)
            used += strtoll (swap, NULL, 10);
        free (swap);
    }
    free (stat);
    return used;
}

int64_t
sbx_cg_oom_kills (const sbx_cg_t *self)
{
    if (!self->dir [0][0])
        return -1;
    //  v1 (Linux 4.13+): memory.oom_control; v2: memory.events.
    char *text = s_read (self->dir [0], self->kind == SBX_CGROUP_V1 ? "memory.oom_control"
                                                                      : "memory.events");
    if (!text)
        return -1;
    int64_t kills = s_stat_value (text, "oom_kill");
    free (text);
    return kills;
}

//  Kills what the leaf holds now. Returns how many pids were left, or -1
//  when the leaf cannot be read (gone).
static int
s_kill_round (sbx_cg_t *self, bool *killed_group)
{
    pid_t pids [CG_PIDS_MAX];
    int count = sbx_cg_pids (self, pids, CG_PIDS_MAX);
    if (count <= 0)
        return count;
    //  cgroup.kill (v2, Linux 5.14) kills the whole leaf at once, forks in
    //  flight included; elsewhere round after round of kill(2) wins against
    //  a fork bomb because the pids limit caps what it can respawn.
    if (self->kind == SBX_CGROUP_V2 && !*killed_group)
        *killed_group = s_write (self->dir [0], "cgroup.kill", "1") == 0;
    if (!*killed_group)
        for (int i = 0; i < count; i++)
            kill (pids [i], SIGKILL);
    return count;
}

int
sbx_cg_remove (sbx_cg_t *self)
{
    if (self->kind == SBX_CGROUP_NONE)
        return 0;
    bool killed_group = false;
    int left = 0;
    for (int tries = 0; tries < CG_REMOVE_TRIES; tries++) {
        left = 0;
        if (s_kill_round (self, &killed_group) > 0)
            left = 1;
        for (int i = 0; i < SBX_CG_DIRS && !left; i++)
            if (self->dir [i][0] && rmdir (self->dir [i]) && errno != ENOENT)
                left = 1;
        if (!left)
            break;
        struct timespec step = { 0, CG_REMOVE_STEP_NS };
        nanosleep (&step, NULL);
    }
    if (left)
        return -1;
    //  The app's folder goes with its last dyno (another may be starting:
    //  EBUSY / ENOTEMPTY leave it).
    for (int i = 0; i < SBX_CG_DIRS; i++) {
        char *slash = self->dir [i][0] ? strrchr (self->dir [i], '/') : NULL;
        if (slash) {
            *slash = 0;
            rmdir (self->dir [i]);
        }
        self->dir [i][0] = 0;
    }
    return 0;
}

//  Calls fn (dir) for every subfolder of dir.
static void
s_each_dir (const char *dir, void (*fn) (const char *, sbx_cgroup_kind_t), sbx_cgroup_kind_t kind)
{
    DIR *d = opendir (dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir (d)) != NULL) {
        if (e->d_type != DT_DIR || e->d_name [0] == '.')
            continue;
        char sub [PATH_MAX];
        if (s_join (sub, dir, e->d_name) == 0)
            fn (sub, kind);
    }
    closedir (d);
}

static void
s_sweep_leaf (const char *leaf, sbx_cgroup_kind_t kind)
{
    sbx_cg_t cg = { .kind = kind };
    if (strlen (leaf) >= PATH_MAX)
        return;
    memcpy (cg.dir [0], leaf, strlen (leaf) + 1);
    sbx_cg_remove (&cg);
}

static void
s_sweep_app (const char *app, sbx_cgroup_kind_t kind)
{
    s_each_dir (app, s_sweep_leaf, kind);
    rmdir (app);
}

void
sbx_cg_sweep (sbx_cgroup_kind_t kind, const char *parent)
{
    if (kind == SBX_CGROUP_NONE)
        return;
    const char *roots [SBX_CG_DIRS] = { kind == SBX_CGROUP_V2 ? s_v2_root () : CG_V1_MEMORY,
                                        kind == SBX_CGROUP_V2 ? NULL : CG_V1_PIDS };
    for (int i = 0; i < SBX_CG_DIRS && roots [i]; i++) {
        char dir [PATH_MAX];
        if (s_join (dir, roots [i], parent))
            continue;
        s_each_dir (dir, s_sweep_app, kind);
        rmdir (dir);
    }
}
