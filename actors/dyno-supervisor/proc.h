//  proc - a dyno's processes: start, output, input, end
//
//  Owns: the fds between the supervisor and the dyno (stdout and stderr
//  pipes, or a pty; stdin for attached one-offs), the pidfd of its pid 1,
//  and the sandbox (sandbox.h) it runs in. Accepts: the dyno's output,
//  run.input bytes, signals to send. Emits: its output as `app[NAME]` log
//  lines, or as run.output to the attached client (chunks of at most
//  SUP_OUTPUT_CHUNK bytes, in order).
//
//  The process has ended (sup_proc_done) once its pid 1 exited and its
//  output is drained: both streams closed, or SUP_DRAIN_MS after the exit
//  (a grandchild outside the dyno's PID namespace could hold them open).

#ifndef SUP_PROC_H
#define SUP_PROC_H

#include "dyno.h"

#define SUP_OUTPUT_CHUNK    65536       // bytes read at once / per run.output
#define SUP_DRAIN_MS        1000
#define SUP_STDIN_MAX       (1024 * 1024)   // stdin bytes buffered at most

//  Initialises the process fields of a new dyno (nothing running).
void sup_proc_init (sup_dyno_t *d);

//  Starts the dyno's command in its sandbox with the slug at `slug_dir`
//  (NULL: an empty /app) and config vars `vars` (borrowed). Returns 0, or
//  -1 with a one-line reason in why.
int sup_proc_start (sup_dyno_t *d, const char *slug_dir, const json_t *vars, char *why, size_t why_len);

//  True while a process runs (started, not yet done).
bool sup_proc_running (const sup_dyno_t *d);
//  True once it exited and its output is drained; sets *status (exit
//  code, or 128 + signal) and d->oom_kills.
bool sup_proc_done (sup_dyno_t *d, int64_t mono, int *status);
//  Signals every process of the dyno.
void sup_proc_signal (sup_dyno_t *d, int sig);
//  Memory the dyno uses, bytes, or -1.
int64_t sup_proc_memory (const sup_dyno_t *d);
//  Processes of the dyno the kernel OOM-killed at its hard limit, or -1.
int64_t sup_proc_oom_kills (const sup_dyno_t *d);
//  Frees the sandbox and closes every fd (kills what is left).
void sup_proc_release (sup_dyno_t *d);

//  Flushes partial lines and pending stdin; the next time it needs to.
void sup_proc_tick (sup_dyno_t *d, int64_t mono);
int64_t sup_proc_deadline (const sup_dyno_t *d);

//  Applies a run.input: stdin bytes, end of input, a resize, a signal.
void sup_proc_input (sup_dyno_t *d, const msg_t *msg);

#endif
