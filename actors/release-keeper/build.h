//  build - release-keeper's side of one build process
//
//  Starts `/proc/self/exe build ARGS...` (dynod build, builder.h) in its
//  own session and process group, with a clean environment, stdin
//  /dev/null, no inherited fds but a pipe that takes its stdout and
//  stderr, and SIGKILL when release-keeper dies. The pipe is read without
//  blocking (the actor watches rel_build_fd) and cut into lines. The
//  process is reaped without blocking too; whatever is left in its process
//  group then is killed, so a build leaves nothing running.
//
//  Call from the actor's thread only. fork is followed by async-signal-safe
//  calls only (the actor process has ZeroMQ's threads).

#ifndef REL_BUILD_H
#define REL_BUILD_H

#include <stdbool.h>
#include <sys/types.h>

#define REL_BUILD_LINE_MAX  4096    // bytes of an output line; longer ones are cut

typedef struct rel_build rel_build_t;

//  Called with each output line (no newline, valid UTF-8; borrowed).
typedef void (rel_build_line_fn) (void *arg, const char *line);

//  Starts the process with `args` (NULL-terminated, after `build`; copied)
//  in the folder `cwd`. Returns the build (caller owns result) or NULL
//  with *rc set to -errno.
rel_build_t *rel_build_start (const char *const *args, const char *cwd, int *rc);
//  Kills the process group (if still running), reaps, closes the pipe.
void rel_build_destroy (rel_build_t **self_p);

//  The read end of the output pipe (non-blocking). Borrowed.
int rel_build_fd (const rel_build_t *self);
pid_t rel_build_pid (const rel_build_t *self);

//  Reads what the pipe holds and calls `fn` for each complete line; at end
//  of file also for a last unterminated line. Returns true at end of file.
bool rel_build_read (rel_build_t *self, rel_build_line_fn *fn, void *arg);

//  SIGKILL to the whole process group.
void rel_build_kill (rel_build_t *self);

//  Without blocking: when the process has exited, kills what is left of
//  its group, reaps it, sets *status (waitpid's) and returns true.
bool rel_build_reap (rel_build_t *self, int *status);

#endif
