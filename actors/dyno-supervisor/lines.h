//  lines - splits a dyno's output stream into log lines
//
//  Owns: the bytes of one stream (stdout or stderr) not yet ended by a
//  newline. Accepts: bytes as they are read. Emits: each complete line
//  (without its "\n", nor a "\r" before it) to a callback; a partial line
//  once it has waited SUP_LINE_WAIT_MS (a prompt, a progress bar) or has
//  grown to SUP_LINE_MAX bytes (a line that never ends), and whatever is
//  left when the stream closes. Pure: time is passed in.

#ifndef SUP_LINES_H
#define SUP_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SUP_LINE_MAX        10000       // bytes: a longer line is cut here
#define SUP_LINE_WAIT_MS    100         // a partial line waits this long

//  Called with one line (`len` bytes, not NUL-terminated, borrowed).
typedef void (sup_line_fn) (void *arg, const char *text, size_t len);

typedef struct {
    char buf [SUP_LINE_MAX];
    size_t len;
    int64_t since;                      // when the first pending byte came
    bool cut;                           // the last line was cut at SUP_LINE_MAX, at a read's end
} sup_lines_t;

//  An empty splitter (a caller-owned struct; nothing to release).
void sup_lines_init (sup_lines_t *self);

//  Adds `len` bytes read at `now`; calls fn for each line they complete.
void sup_lines_push (sup_lines_t *self, const char *data, size_t len, int64_t now,
                     sup_line_fn *fn, void *arg);

//  Emits the pending partial line when it has waited SUP_LINE_WAIT_MS by
//  `now`, or at once with `force` (end of stream).
void sup_lines_flush (sup_lines_t *self, int64_t now, bool force, sup_line_fn *fn, void *arg);

//  When sup_lines_flush next has something to do, or INT64_MAX.
int64_t sup_lines_deadline (const sup_lines_t *self);

#endif
