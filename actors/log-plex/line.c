//  line - one log line in Logplex's format
//
//  Escaping writes at most 4 bytes per input byte (`\xNN`), so the output
//  size is bounded before any byte is written.

#include "line.h"
#include "../common/act_base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

//  9999-12-31T23:59:59.999999 UTC.
#define LPX_TIME_MAX_US     INT64_C(253402300799999999)

void
lpx_line_time (int64_t ts_us, char *out)
{
    //  Clamped to years 1970..9999, so the text is always LPX_TIME_LEN long.
    if (ts_us < 0)
        ts_us = 0;
    if (ts_us > LPX_TIME_MAX_US)
        ts_us = LPX_TIME_MAX_US;
    int64_t secs = ts_us / 1000000, us = ts_us % 1000000;
    time_t t = (time_t) secs;
    struct tm tm;
    char date [24];
    if (!gmtime_r (&t, &tm) || !strftime (date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm))
        snprintf (date, sizeof date, "0000-00-00T00:00:00");
    char full [64];
    snprintf (full, sizeof full, "%s.%06d+00:00", date, (int) us);
    memcpy (out, full, LPX_TIME_LEN);
    out [LPX_TIME_LEN] = 0;
}

//  How many of the `len` bytes at `s` fit in `max` without cutting a UTF-8
//  character in two.
static size_t
s_cut (const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max;
    //  Back off over continuation bytes to the start of the character the
    //  cut falls in (at most 3).
    while (n > 0 && max - n < 3 && ((unsigned char) s [n] & 0xc0) == 0x80)
        n--;
    return n;
}

//  Appends the `len` bytes at `s` to `out` at *pos, escaped.
static void
s_escape (char *out, size_t *pos, const char *s, size_t len)
{
    static const char hex [] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) s [i];
        if (c == '\t' || (c >= 0x20 && c != 0x7f))
            out [(*pos)++] = (char) c;
        else if (c == '\n' || c == '\r') {
            out [(*pos)++] = '\\';
            out [(*pos)++] = c == '\n' ? 'n' : 'r';
        }
        else {
            out [(*pos)++] = '\\';
            out [(*pos)++] = 'x';
            out [(*pos)++] = hex [c >> 4];
            out [(*pos)++] = hex [c & 15];
        }
    }
}

char *
lpx_line_format (int64_t ts_us, const char *source, const char *process,
                 const char *text, size_t text_len, size_t *len_p)
{
    size_t source_len = s_cut (source, strlen (source), LPX_NAME_MAX);
    size_t process_len = s_cut (process, strlen (process), LPX_NAME_MAX);
    text_len = s_cut (text, text_len, LPX_TEXT_MAX);
    //  Time, space, `[`, `]: `, NUL, and 4 bytes per escaped input byte.
    size_t cap = LPX_TIME_LEN + 5 + 1 + 4 * (source_len + process_len + text_len);
    char *out = act_malloc (cap);
    lpx_line_time (ts_us, out);
    size_t pos = LPX_TIME_LEN;
    out [pos++] = ' ';
    s_escape (out, &pos, source, source_len);
    out [pos++] = '[';
    s_escape (out, &pos, process, process_len);
    memcpy (out + pos, "]: ", 3);
    pos += 3;
    s_escape (out, &pos, text, text_len);
    out [pos] = 0;
    *len_p = pos;
    return out;
}
