//  cgroup - one dyno's control group, on cgroup v1 or v2
//
//  Owns: the leaf <root>/<parent>/<app>/<id> (v1: one in the memory and
//  one in the pids hierarchy; v2: one in the unified hierarchy, with
//  +memory +pids enabled in subtree_control on the way down), its limits,
//  and its removal. Reads the leaf's cgroup.procs and memory figures.
//  The roots are /sys/fs/cgroup/{memory,pids} (v1) and /sys/fs/cgroup
//  (v2); DYNOD_CGROUP2_ROOT overrides the v2 root (tests run the v2 code
//  on a hybrid host's /sys/fs/cgroup/unified, which has no controllers:
//  a limit then fails to apply with a clear reason).
//
//  Not thread-safe; used by sandbox.c only.

#ifndef SBX_CGROUP_H
#define SBX_CGROUP_H

#include "sandbox.h"

#include <limits.h>
#include <stdint.h>

#define SBX_CG_DIRS 2               // v1: memory and pids; v2: one

//  A caller-owned struct: the leaf's folders ("" when unused).
typedef struct {
    sbx_cgroup_kind_t kind;
    char dir [SBX_CG_DIRS][PATH_MAX];
} sbx_cg_t;

//  Creates the leaf (and its parents) with the limits (0: none). Returns
//  0, or -1 with why (the leaf removed again).
int sbx_cg_create (sbx_cg_t *self, sbx_cgroup_kind_t kind, const char *parent, const char *app,
                   const char *id, int64_t mem_limit, int64_t procs_max, char *why, size_t why_len);

//  Opens each leaf's cgroup.procs for writing (O_CLOEXEC) into fds
//  (SBX_CG_DIRS, -1 where unused): a process writes "0" to join. Returns
//  0 or -1 with why (nothing left open).
int sbx_cg_open_procs (const sbx_cg_t *self, int fds [SBX_CG_DIRS], char *why, size_t why_len);

//  The pids in the leaf (the reader's PID namespace), at most max. Returns
//  how many, or -1 when the leaf cannot be read.
int sbx_cg_pids (const sbx_cg_t *self, pid_t *pids, int max);

//  RSS + swap of the leaf, bytes; -1 unknown.
int64_t sbx_cg_memory (const sbx_cg_t *self);

//  How many processes the kernel's OOM killer killed in the leaf (its hard
//  memory limit reached); -1 unknown.
int64_t sbx_cg_oom_kills (const sbx_cg_t *self);

//  SIGKILLs everything in the leaf (v2: cgroup.kill when present) until it
//  is empty or ~2 s passed, then removes it and its app folder when that
//  is empty. Returns 0, or -1 when the leaf is still there.
int sbx_cg_remove (sbx_cg_t *self);

//  Removes every leaf under <root>/<parent> (killing their processes),
//  the app folders and the parent itself.
void sbx_cg_sweep (sbx_cgroup_kind_t kind, const char *parent);

#endif
