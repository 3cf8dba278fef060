//  filter - which of an app's lines a reader wants
//
//  The filters of `dyno logs`, log.get and the websocket query: a source
//  (`app`, `dynod`), a dyno (the process exactly: `web.1`, `router`) and a
//  process type (`web` matches `web.1`, `web.2` and `web`: the process up
//  to its first dot). They combine; an empty one matches everything. A
//  line is judged by its formatted prefix, which line.c guarantees parses
//  back (`<time> <source>[<process>]: `), so rings and the store keep only
//  the formatted text.

#ifndef LPX_FILTER_H
#define LPX_FILTER_H

#include "line.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char source [8];                    // "" for any
    char dyno [LPX_NAME_MAX + 1];       // "" for any
    char ps [LPX_NAME_MAX + 1];         // "" for any
} lpx_filter_t;

//  Sets `self` (caller owns it) from the three filters, each NULL or ""
//  for none. Returns 0, or -EINVAL with *why (static text) saying which is
//  bad; `self` then matches everything.
int lpx_filter_init (lpx_filter_t *self, const char *source, const char *dyno, const char *ps,
                     const char **why);

//  True when the formatted `line` (`len` bytes) passes the filter.
bool lpx_filter_match (const lpx_filter_t *self, const char *line, size_t len);

#endif
