//  bcm_up - the measured system's processes for the benchmarks
//
//  Owns starting and stopping the children a benchmark measures (`dynod
//  up` on free ports, or any program whose stdout says when it is ready),
//  the temporary directory and environment they run in, and the /proc
//  readings taken of them: CPU times, VmRSS, a parent's children by argv.
//  Shared by bench/broker, bench/releases and bench/logs; link
//  bench/common/*.o into a benchmark and include this header.
//
//  Usage:
//      char tmp [256], token [33];
//      bcm_tmp_make (tmp, sizeof tmp, "bench-x", "dynod-bench-x");
//      bcm_env_setup (tmp, token);
//      bcm_up_t up;
//      if (bcm_up_start (&up, "bench-x", dynod, tmp, 40000, NULL) == 0) {
//          ... reach it on up.endpoint ...
//      }
//      bcm_up_stop (&up, 15000);
//      bcm_tmp_done (tmp, keep, "bench-x");
//
//  Children get SIGTERM if the benchmark dies first (PR_SET_PDEATHSIG).
//  Not thread-safe where it sets the environment; the /proc readers are.

#ifndef BCM_UP_H
#define BCM_UP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

//  A `dynod up` child.
typedef struct {
    pid_t pid;                      // the child; 0 when none
    pid_t actor;                    // the actor bcm_up_start was asked to find, else 0
    int out;                        // its stdout; -1 when none
    int logs_port;                  // its --logs-port
    char endpoint [64];             // its broker, tcp://127.0.0.1:PORT
    char log_path [300];            // its stderr: TMP/dynod-up.log
} bcm_up_t;

//  Creates `TMPDIR_or_/tmp/PATTERN-XXXXXX` into `tmp`. Returns 0, or -1
//  after saying why on stderr as `prog` (tmp is then "").
int bcm_tmp_make (char *tmp, size_t tmp_len, const char *prog, const char *pattern);
//  Removes `tmp` and everything in it; nothing when it is "".
void bcm_tmp_remove (const char *tmp);
//  With `keep`, says on stderr as `prog` that `tmp` was kept; else removes
//  it. Nothing when it is "".
void bcm_tmp_done (const char *tmp, bool keep, const char *prog);
//  What dynod up and every dyno child see: a fresh random token (into
//  `token`, also DYNOD_API_TOKEN), XDG config and data homes inside `tmp`,
//  no DYNOD_APP.
void bcm_env_setup (const char *tmp, char token [33]);

//  A TCP port on 127.0.0.1 nobody listens on right now, or -1.
int bcm_free_port (void);

//  Runs `path` with `argv` as a child: stdout into a pipe whose read end
//  goes to *out, stderr into `log_path` (truncated). Returns the pid, or -1.
pid_t bcm_child_start (const char *path, char *const argv [], const char *log_path, int *out);
//  Reads `fd` until a read holds `text`. Returns 0, or -1 when the child
//  closed it or `timeout_ms` passed.
int bcm_wait_line (int fd, const char *text, int timeout_ms);
//  SIGTERM, then SIGKILL after `stop_ms`; reaps the child. Nothing when
//  pid <= 0.
void bcm_child_stop (pid_t pid, int stop_ms);
//  Prints "PROG: 'PATH WHAT' did not become ready; the end of its log:" and
//  the last 2000 bytes of `log_path` on stderr.
void bcm_log_tail (const char *prog, const char *path, const char *what, const char *log_path);

//  Starts `dynod up` (`dynod` is its path) with --data TMP/data on four
//  free ports and waits up to `ready_ms` for its `dynod ready:` line; with
//  `actor`, also finds that actor's pid. Returns 0, or -1 after printing
//  the end of its log (the child, if any, is left in self->pid to stop).
int bcm_up_start (bcm_up_t *self, const char *prog, const char *dynod, const char *tmp,
                  int ready_ms, const char *actor);
//  Stops the child (see bcm_child_stop) and closes its stdout.
void bcm_up_stop (bcm_up_t *self, int stop_ms);

//  A /proc stat file's utime + stime in seconds; with `comm`, the task's
//  name; with `ppid`, its parent. Returns 0 or -errno.
int bcm_proc_stat (const char *path, char comm [32], long *ppid, double *seconds);
//  utime + stime of `pid` in seconds, or -1.
double bcm_cpu_s (pid_t pid);
//  VmRSS of `pid` in kB, or -1.
long bcm_rss_kb (pid_t pid);
//  Calls `fn` for each live child of `parent` with its CPU seconds and the
//  first three arguments after argv[0] ("" where there are fewer); stops
//  when `fn` returns true.
typedef bool bcm_child_fn (pid_t pid, double cpu_s, const char *const arg [3], void *ctx);
void bcm_children_each (pid_t parent, bcm_child_fn *fn, void *ctx);
//  The child of `parent` whose argv is `dynod actor NAME ...`, or 0.
pid_t bcm_find_actor (pid_t parent, const char *name);

#endif
