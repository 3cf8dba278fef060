//  sizes - dyno sizes: memory and process limits by name
//
//  The built-in table (eco, basic, standard-1x 512 MB / 256 processes,
//  standard-2x 1024 / 512, performance-m 2560 / 16384, performance-l
//  14336 / 32768), overridden or extended by DYNOD_SIZES
//  ("name=MB/procs,name=MB/procs"). Names are matched without regard to
//  case and stored lower case; Heroku's display form is Standard-1X.

#ifndef SCH_SIZES_H
#define SCH_SIZES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCH_SIZE_NAME_MAX   32          // bytes of a size name, with NUL
#define SCH_SIZE_DEFAULT    "standard-1x"

typedef struct {
    char name [SCH_SIZE_NAME_MAX];      // lower case
    int64_t mem_mb;
    int64_t procs_max;
} sch_size_t;

typedef struct sch_sizes sch_sizes_t;

//  The built-in table with `spec` (DYNOD_SIZES syntax; NULL or "" for
//  none) applied over it. Returns NULL with *bad_p pointing at the entry
//  that does not parse when it is malformed. Caller owns result.
sch_sizes_t *sch_sizes_new (const char *spec, const char **bad_p);
void sch_sizes_destroy (sch_sizes_t **self_p);

//  The size named `name` (any case), or NULL. Borrowed, valid while
//  `self` lives.
const sch_size_t *sch_sizes_find (const sch_sizes_t *self, const char *name);

//  The names, comma-separated, in table order, into `out`.
void sch_sizes_names (const sch_sizes_t *self, char *out, size_t len);

//  How many sizes / the nth (0-based). Borrowed.
size_t sch_sizes_count (const sch_sizes_t *self);
const sch_size_t *sch_sizes_nth (const sch_sizes_t *self, size_t n);

//  `name` in display form: each word capitalised, `x` after a digit upper
//  case (standard-2x -> Standard-2X, performance-l -> Performance-L).
void sch_size_display (const char *name, char *out, size_t len);

#endif
