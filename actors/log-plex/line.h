//  line - one log line in Logplex's format
//
//  `2026-11-28T10:15:30.123000+00:00 app[web.1]: text`: the time in RFC
//  3339 UTC with microseconds, the source, the process in brackets, the
//  text. Control characters other than tab are escaped (`\n`, `\r`,
//  `\xNN` for the rest), so a line never spans two terminal lines and never
//  holds a NUL; other bytes pass unchanged (an app's log may hold any
//  bytes). Source and process are escaped the same way and cut to
//  LPX_NAME_MAX bytes, the text to LPX_TEXT_MAX (Logplex's 10,000-byte
//  limit), never inside a UTF-8 character.

#ifndef LPX_LINE_H
#define LPX_LINE_H

#include <stddef.h>
#include <stdint.h>

#define LPX_TEXT_MAX    10000   // bytes of text kept, before escaping
#define LPX_NAME_MAX    64      // bytes of source / process kept
#define LPX_TIME_LEN    32      // `2026-11-28T10:15:30.123000+00:00` = 32

//  Writes the time `ts_us` (microseconds since the epoch, clamped to years
//  1970..9999) into `out` (at least LPX_TIME_LEN + 1 bytes): always
//  LPX_TIME_LEN characters.
void lpx_line_time (int64_t ts_us, char *out);

//  The formatted line for `text` (`text_len` bytes, any bytes), with its
//  length in *len_p. Caller owns result (free).
char *lpx_line_format (int64_t ts_us, const char *source, const char *process,
                       const char *text, size_t text_len, size_t *len_p);

#endif
