//  settings - the dyno-supervisor's tunables and its crash back-off table
//
//  Owns: sup_settings_t, read once from the environment when the actor
//  starts (tests set small values), and the pure functions over the
//  back-off table: parsing DYNOD_RESTART_BACKOFF_MS and the cool-off
//  before a given crash restart. No I/O beyond getenv and /proc/meminfo.
//
//      DYNOD_STOP_TIMEOUT_MS      30000     SIGTERM -> SIGKILL grace (R12)
//      DYNOD_RESTART_BACKOFF_MS   0,1200000,2400000,3600000,10800000,19200000
//                                           cool-off before the 1st, 2nd, ...
//                                           crash restart; the last repeats
//      DYNOD_CYCLE_MS             86400000  daily cycling period
//      DYNOD_CYCLE_JITTER_MS      12960000  + 0..jitter, derived from the id
//      DYNOD_REPORT_MS            10000     dyno.report period
//      DYNOD_SUPERVISOR_MEM_MB    MemTotal  capacity offered to dynos
//      DYNOD_BOOT_TIMEOUT_MS      60000     when an assignment has none
//      DYNOD_ATTACH_TIMEOUT_MS    30000     attached one-off without run.input -> R16
//      DYNOD_ADVERTISE_HOST       127.0.0.1 the IPv4 address routers reach
//                                           this host's dynos on (`host` in
//                                           dyno.state); `dynod up --advertise`

#ifndef SUP_SETTINGS_H
#define SUP_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SUP_ADVERTISE_DEFAULT   "127.0.0.1"
#define SUP_ADVERTISE_MAX       16          // "255.255.255.255" and a NUL

#define SUP_BACKOFF_MAX         32          // entries in the back-off table
#define SUP_BACKOFF_DEFAULT     "0,1200000,2400000,3600000,10800000,19200000"

typedef struct {
    int64_t table [SUP_BACKOFF_MAX];        // ms before the 1st, 2nd, ... restart
    size_t count;                           // at least 1
} sup_backoff_t;

typedef struct {
    int64_t stop_timeout_ms;
    int64_t cycle_ms;
    int64_t cycle_jitter_ms;
    int64_t report_ms;
    int64_t capacity_mb;
    int64_t boot_timeout_ms;
    int64_t attach_timeout_ms;
    char advertise [SUP_ADVERTISE_MAX];     // dotted IPv4
    sup_backoff_t backoff;
} sup_settings_t;

//  Fills `self` from the environment; a malformed or out-of-range value
//  is logged and replaced by its default.
void sup_settings_load (sup_settings_t *self);

//  Checks that `text` is an IPv4 address a router can connect to (not
//  0.0.0.0) and writes it, normalised, to `out`. Returns 0 or -EINVAL.
int sup_advertise_parse (const char *text, char out [SUP_ADVERTISE_MAX]);

//  Parses a comma list of non-negative ms ("0,100,200"). Returns 0, or
//  -EINVAL (empty, not a number, negative, over SUP_BACKOFF_MAX entries)
//  leaving `self` unchanged.
int sup_backoff_parse (sup_backoff_t *self, const char *text);

//  The cool-off before crash restart number `restarts` + 1 (0: the first):
//  table [restarts], the last entry once past the end.
int64_t sup_backoff_delay (const sup_backoff_t *self, int restarts);

//  How long a dyno must run without crashing for its restart count to go
//  back to 0: the first non-zero cool-off (0 when every entry is 0: the
//  count then never matters).
int64_t sup_backoff_reset_ms (const sup_backoff_t *self);

//  The cycling jitter of dyno `id`, 0..jitter_ms-1, the same for the same
//  id (FNV-1a of the id), so a restart of the supervisor keeps it.
int64_t sup_cycle_jitter (const char *id, int64_t jitter_ms);

#endif
