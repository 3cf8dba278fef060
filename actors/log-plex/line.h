//  line - one log line in Logplex's format
//
//  `2026-11-28T10:15:30.123000+00:00 app[web.1]: text`: the time in RFC
//  3339 UTC with microseconds, the source, the process in brackets, the
//  text. The text is made safe for a terminal and for a websocket TEXT
//  frame: control characters other than tab are escaped (`\n`, `\r`,
//  `\xNN` for the other C0 bytes and DEL, `\u00NN` for the C1 controls),
//  so a line never spans two terminal lines and never holds a NUL, and
//  each byte that is not part of valid UTF-8 becomes U+FFFD. A text longer
//  than LPX_TEXT_MAX bytes is split by the caller into pieces
//  (lpx_line_piece), one line each, never inside a UTF-8 character.
//
//  The source is `app` or `dynod` and the process matches
//  `[A-Za-z0-9._-]{1,64}` (lpx_line_source_ok / lpx_line_process_ok): a
//  line with anything else is refused by log-plex, so no text can forge
//  another source's prefix and a line's prefix parses back unambiguously
//  (filter.c relies on it).

#ifndef LPX_LINE_H
#define LPX_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LPX_TEXT_MAX    10000   // bytes of text per line, before escaping
#define LPX_NAME_MAX    64      // bytes of a process name
#define LPX_TIME_LEN    32      // `2026-11-28T10:15:30.123000+00:00` = 32
//  The longest formatted line: time, ` `, source, `[`, process, `]: `,
//  and at most 4 bytes per byte of text after escaping.
#define LPX_LINE_MAX    (LPX_TIME_LEN + 1 + 5 + 1 + LPX_NAME_MAX + 3 + 4 * LPX_TEXT_MAX)

//  Writes the time `ts_us` (microseconds since the epoch, clamped to years
//  1970..9999) into `out` (at least LPX_TIME_LEN + 1 bytes): always
//  LPX_TIME_LEN characters.
void lpx_line_time (int64_t ts_us, char *out);

//  A formatter's memory of the last second it wrote, so a run of lines in
//  the same second costs no calendar arithmetic. Caller-owned; start it
//  zeroed (`lpx_line_clock_t clock = { 0 };`), one per thread.
typedef struct {
    bool set;
    int64_t secs;                   // seconds since the epoch of `date`
    char date [20];                 // `2026-11-28T10:15:30`, no NUL
} lpx_line_clock_t;

//  As lpx_line_time, through `clock` (which it updates).
void lpx_line_time_cached (lpx_line_clock_t *clock, int64_t ts_us, char *out);

//  True for the sources a line may have: `app`, `dynod`.
bool lpx_line_source_ok (const char *source);
//  True for a process name: 1 to LPX_NAME_MAX of `[A-Za-z0-9._-]`.
bool lpx_line_process_ok (const char *process);

//  How many of the `len` bytes at `text` make the next line: all of them
//  up to LPX_TEXT_MAX, else at most LPX_TEXT_MAX without cutting a UTF-8
//  character (at least 1 when len > 0).
size_t lpx_line_piece (const char *text, size_t len);

//  The formatted line for `text` (`text_len` bytes, any bytes; cut to
//  lpx_line_piece's length), with its length in *len_p. `source` and
//  `process` should have passed the checks above; they are escaped anyway.
//  Caller owns result (free).
char *lpx_line_format (int64_t ts_us, const char *source, const char *process,
                       const char *text, size_t text_len, size_t *len_p);

//  As lpx_line_format, into `out` (at least LPX_LINE_MAX + 1 bytes, or
//  lpx_line_cap's bytes), with the time through `clock` (may be NULL).
//  Returns the length written (a NUL follows).
size_t lpx_line_format_to (lpx_line_clock_t *clock, int64_t ts_us, const char *source,
                           const char *process, const char *text, size_t text_len, char *out);
//  The bytes lpx_line_format_to may write for these lengths, NUL included.
size_t lpx_line_cap (size_t source_len, size_t process_len, size_t text_len);

#endif
