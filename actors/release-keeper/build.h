//  build - release-keeper's side of one build process
//
//  Starts a program (`/proc/self/exe build ARGS...`, i.e. dynod build,
//  builder.h) in its own session and process group, with a clean
//  environment, stdin /dev/null, no inherited fds but a pipe that takes its
//  stdout and stderr, and SIGKILL when release-keeper dies. The pipe is
//  read without blocking (the actor watches rel_build_fd) and cut into
//  lines, with bounded work per call and a cap on the output of one build
//  (past it one truncation line, then the rest is read and dropped, so the
//  build never blocks on a full pipe). The process is reaped without
//  blocking too; whatever is left in its process group then is killed, and
//  rel_build_gone says when the group is empty, so that nothing the build
//  started can still change its work folder. Also checks a build's
//  result.json before release-keeper trusts it.
//
//  Call from the actor's thread only. fork is followed by async-signal-safe
//  calls only (the actor process has ZeroMQ's threads).

#ifndef REL_BUILD_H
#define REL_BUILD_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define REL_BUILD_EXE        "/proc/self/exe"
#define REL_BUILD_LINE_MAX   4096               // bytes of an output line; longer ones are cut
#define REL_BUILD_READ_MAX   (64 * 1024)        // bytes read per rel_build_read call, at most
#define REL_BUILD_CALL_LINES 1024               // lines per call before it stops reading
#define REL_BUILD_OUTPUT_MAX (4 * 1024 * 1024)  // bytes of output shown per build
#define REL_BUILD_LINES_MAX  50000              // lines of output shown per build
//  The last line shown when a build's output is over either cap.
#define REL_BUILD_TRUNCATED  "-----> output truncated: over 50000 lines or 4 MB; the rest is not shown"

typedef struct rel_build rel_build_t;

//  Called with each output line (no newline, valid UTF-8; borrowed).
typedef void (rel_build_line_fn) (void *arg, const char *line);

//  Starts `exe` with `argv` (NULL-terminated, argv[0] included; copied) in
//  the folder `cwd`. Returns the build (caller owns result) or NULL with
//  *rc set to -errno.
rel_build_t *rel_build_start (const char *exe, const char *const *argv, const char *cwd, int *rc);
//  Kills the process group (if still running), reaps, closes the pipe.
void rel_build_destroy (rel_build_t **self_p);

//  The read end of the output pipe (non-blocking). Borrowed.
int rel_build_fd (const rel_build_t *self);
pid_t rel_build_pid (const rel_build_t *self);

//  Reads at most REL_BUILD_READ_MAX bytes from the pipe (less once
//  REL_BUILD_CALL_LINES lines were handed over) and calls `fn` for each
//  complete line; at end of file also for a last unterminated line. Past
//  the build's caps `fn` gets REL_BUILD_TRUNCATED once, then nothing.
//  Returns 0 when more may come (call again when the fd is readable: what
//  was left unread keeps it so), 1 at end of file, or -errno when the
//  pipe cannot be read (stop watching it, as at end of file).
int rel_build_read (rel_build_t *self, rel_build_line_fn *fn, void *arg);

//  SIGKILL to the whole process group.
void rel_build_kill (rel_build_t *self);

//  Without blocking: when the process has exited, kills what is left of
//  its group, reaps it, sets *status (waitpid's) and returns true.
bool rel_build_reap (rel_build_t *self, int *status);

//  After rel_build_reap: kills what is left of the process group again and
//  returns true when nothing in it is alive (dead members init has not
//  reaped yet do not count).
bool rel_build_gone (rel_build_t *self);

//  Checks a build's result.json (`result`) before it makes a release:
//  {"slug": {"blob": SHA256 stored in `store` with exactly "size" bytes
//  (<= slug_max), "buildpacks": [names]}, "process_types": {1-100 valid
//  names -> one-line commands}}. Returns 0, or -1 with a one-line reason
//  in `why` (`len` bytes).
int rel_build_result_check (const json_t *result, const char *store, int64_t slug_max,
                            char *why, size_t len);

#endif
