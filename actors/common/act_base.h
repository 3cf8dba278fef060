//  act_base - memory wrappers, error codes and structured logging
//
//  The lowest layer of the project: every other folder may include this
//  header. It owns no state except the process-wide log identity, which is
//  set once at start-up (see act_log_init) before any thread exists.

#ifndef ACT_BASE_H
#define ACT_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Our own error codes live below -1000 so they never collide with -errno.
enum {
    ACT_EPROTO     = -1001,     // peer broke the protocol
    ACT_ETIMEDOUT  = -1002,     // no reply within the deadline
    ACT_ENOTFOUND  = -1003,     // no such actor, key or record
    ACT_EREFUSED   = -1004,     // the broker refused us (auth, singleton)
    ACT_ESTOPPED   = -1005,     // the runtime is stopping
    ACT_EFULL      = -1006,     // a bounded queue is full
    ACT_ESTORE     = -1007,     // the journal / LevelDB failed
    ACT_ENOTREG    = -1008,     // sender has not said hello (or was forgotten)
    ACT_ESPOOF     = -1009,     // sender claimed an address that is not its own
    ACT_ENOROUTE   = -1010,     // no live actor for a non-durable message
    ACT_EAUTH      = -1011,     // bad or missing API token
};

//  Allocation wrappers: abort with a log line on OOM, never return NULL.
void *act_malloc (size_t size);
void *act_calloc (size_t count, size_t size);
void *act_realloc (void *ptr, size_t size);
//  Caller owns result.
char *act_strdup (const char *s);
//  Caller owns result.
char *act_strndup (const char *s, size_t n);
//  Caller owns result; printf-style.
char *act_sprintf (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

//  Text for any code returned by our functions (negative errno, ACT_E*,
//  MSG_E*). Borrowed, static storage.
const char *act_strerror (int rc);
//  `text` made fit for a one-line message: control bytes as \xNN, cut at
//  `max_in` input bytes and to `out_len` (NUL included). Returns `out`.
char *act_quote_line (const char *text, size_t max_in, char *out, size_t out_len);

//  Logging: one line per call on stderr, `ts level actor msg`.
typedef enum { ACT_LOG_DEBUG, ACT_LOG_INFO, ACT_LOG_WARN, ACT_LOG_ERROR } act_level_t;

//  Sets the name printed on every line and the lowest level printed
//  (DYNOD_LOG_LEVEL=debug|info|warn|error overrides). Call once in main.
void act_log_init (const char *ident);
void act_log (act_level_t level, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
#define act_log_debug(...) act_log (ACT_LOG_DEBUG, __VA_ARGS__)
#define act_log_info(...)  act_log (ACT_LOG_INFO, __VA_ARGS__)
#define act_log_warn(...)  act_log (ACT_LOG_WARN, __VA_ARGS__)
#define act_log_error(...) act_log (ACT_LOG_ERROR, __VA_ARGS__)

//  Wall clock in milliseconds / microseconds, and a monotonic clock in
//  milliseconds. These read the real clocks; actors use act_clock_t.
int64_t act_wall_ms (void);
int64_t act_wall_us (void);
int64_t act_mono_ms (void);

//  Injectable clock: actors read time only through one of these so that a
//  replay can feed recorded time. `now_ms` returns wall milliseconds.
typedef struct act_clock act_clock_t;
struct act_clock {
    int64_t (*now_ms) (act_clock_t *self);
    int64_t fixed_ms;           // used by act_clock_fixed
};
//  The real clock. Borrowed, static storage.
act_clock_t *act_clock_real (void);
//  Initialises a caller-owned clock that always answers `ms` (tests, replay).
void act_clock_fixed_init (act_clock_t *self, int64_t ms);

//  Seeded random source (splitmix64): deterministic given the seed.
typedef struct { uint64_t state; } act_rng_t;
void act_rng_init (act_rng_t *self, uint64_t seed);
uint64_t act_rng_next (act_rng_t *self);
//  Writes 32 lowercase hex characters and a NUL into `out` (33 bytes).
void act_rng_id (act_rng_t *self, char out [33]);
//  A seed from the kernel's random source.
uint64_t act_seed_from_os (void);

//  Directory and file helpers. Return 0 or -errno.
int act_mkdir_p (const char *path, int mode);
//  Writes `len` bytes to `path` atomically (temp file, fsync, rename).
int act_write_file (const char *path, const void *data, size_t len, int mode);
//  Reads a whole file; caller owns *data_p (NUL-terminated for convenience).
int act_read_file (const char *path, char **data_p, size_t *len_p);
//  Writes all `len` bytes to `fd` (retrying short writes and EINTR).
int act_write_all (int fd, const void *data, size_t len);
//  fsyncs the folder `dir`, so a rename into it is durable.
int act_sync_dir (const char *dir);

#endif
