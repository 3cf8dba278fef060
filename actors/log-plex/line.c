//  line - one log line in Logplex's format
//
//  Escaping writes at most 4 bytes per input byte (`\xNN`; U+FFFD is 3
//  bytes for 1, `\u00NN` 6 for 2), so the output size is bounded before
//  any byte is written.

#include "line.h"
#include "../common/act_base.h"
#include "../../messages/msg_logbatch.h"
#include "../../messages/msg_pack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

//  9999-12-31T23:59:59.999999 UTC.
#define LPX_TIME_MAX_US     INT64_C(253402300799999999)

//  `ts_us` clamped to years 1970..9999, so the text is always LPX_TIME_LEN
//  long.
static int64_t
s_clamp (int64_t ts_us)
{
    return ts_us < 0 ? 0 : ts_us > LPX_TIME_MAX_US ? LPX_TIME_MAX_US : ts_us;
}

//  `YYYY-MM-DDTHH:MM:SS` of `secs` into `date` (20 bytes, no NUL kept).
static void
s_date (int64_t secs, char date [20])
{
    time_t t = (time_t) secs;
    struct tm tm;
    char buf [24];
    if (!gmtime_r (&t, &tm) || !strftime (buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm))
        snprintf (buf, sizeof buf, "0000-00-00T00:00:00");
    memcpy (date, buf, 19);
}

//  The date, then `.UUUUUU+00:00` and a NUL.
static void
s_time_out (const char date [20], int64_t us, char *out)
{
    memcpy (out, date, 19);
    out [19] = '.';
    for (int i = 25; i >= 20; i--) {
        out [i] = (char) ('0' + us % 10);
        us /= 10;
    }
    memcpy (out + 26, "+00:00", 7);
}

void
lpx_line_time (int64_t ts_us, char *out)
{
    ts_us = s_clamp (ts_us);
    char date [20];
    s_date (ts_us / 1000000, date);
    s_time_out (date, ts_us % 1000000, out);
}

void
lpx_line_time_cached (lpx_line_clock_t *clock, int64_t ts_us, char *out)
{
    ts_us = s_clamp (ts_us);
    int64_t secs = ts_us / 1000000;
    if (!clock->set || clock->secs != secs) {
        s_date (secs, clock->date);
        clock->secs = secs;
        clock->set = true;
    }
    s_time_out (clock->date, ts_us % 1000000, out);
}

//  The rules are the log.batch wire form's (msg_logbatch.h): one place.
bool
lpx_line_source_ok (const char *source)
{
    return msg_logbatch_source_ok (source);
}

bool
lpx_line_process_ok (const char *process)
{
    return msg_logbatch_process_ok (process);
}

size_t
lpx_line_piece (const char *text, size_t len)
{
    if (len <= LPX_TEXT_MAX)
        return len;
    size_t n = LPX_TEXT_MAX;
    //  Back off over continuation bytes to the start of the character the
    //  cut falls in (at most 3).
    while (n > 0 && LPX_TEXT_MAX - n < 3 && ((unsigned char) text [n] & 0xc0) == 0x80)
        n--;
    return n ? n : LPX_TEXT_MAX;
}

//  Appends `prefix` (`\x` or `\u00`) and byte `c` in two hex digits.
static void
s_hex (char *out, size_t *pos, const char *prefix, unsigned char c)
{
    static const char hex [] = "0123456789abcdef";
    size_t len = strlen (prefix);
    memcpy (out + *pos, prefix, len);
    *pos += len;
    out [(*pos)++] = hex [c >> 4];
    out [(*pos)++] = hex [c & 15];
}

//  Bytes copied as they are: printable ASCII and tab.
static bool
s_plain (unsigned char c)
{
    return (c >= 0x20 && c < 0x7f) || c == '\t';
}

//  Appends the `len` bytes at `s`, valid UTF-8, to `out` at *pos, escaped.
static void
s_escape_valid (char *out, size_t *pos, const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        //  A run of plain bytes in one copy: most lines are nothing else.
        size_t run = i;
        while (run < len && s_plain (s [run]))
            run++;
        memcpy (out + *pos, s + i, run - i);
        *pos += run - i;
        i = run;
        if (i == len)
            break;
        unsigned char c = s [i];
        //  U+0080..U+009F are the C1 controls (CSI is U+009B), as
        //  dangerous on a terminal as ESC: 0xc2 then 0x80..0x9f. In valid
        //  UTF-8, 0xc2 always has its continuation byte next.
        if (c == 0xc2 && s [i + 1] < 0xa0) {
            s_hex (out, pos, "\\u00", s [i + 1]);
            i += 2;
            continue;
        }
        if (c == '\n' || c == '\r') {
            out [(*pos)++] = '\\';
            out [(*pos)++] = c == '\n' ? 'n' : 'r';
        }
        else if (c >= 0x80)
            out [(*pos)++] = (char) c;
        else
            s_hex (out, pos, "\\x", c);
        i++;
    }
}

//  Appends the `len` bytes at `s` (any bytes) to `out` at *pos, escaped,
//  each byte outside valid UTF-8 replaced by U+FFFD.
static void
s_escape (char *out, size_t *pos, const char *s, size_t len)
{
    while (len > 0) {
        size_t valid = msg_utf8_prefix (s, len);
        s_escape_valid (out, pos, (const unsigned char *) s, valid);
        s += valid;
        len -= valid;
        if (len > 0) {
            memcpy (out + *pos, "\xef\xbf\xbd", 3);
            *pos += 3;
            s++;
            len--;
        }
    }
}

size_t
lpx_line_cap (size_t source_len, size_t process_len, size_t text_len)
{
    //  Time, space, `[`, `]: `, NUL, and 4 bytes per escaped input byte.
    return LPX_TIME_LEN + 5 + 1 + 4 * (source_len + process_len + text_len);
}

size_t
lpx_line_format_to (lpx_line_clock_t *clock, int64_t ts_us, const char *source,
                    const char *process, const char *text, size_t text_len, char *out)
{
    size_t source_len = strnlen (source, LPX_NAME_MAX);
    size_t process_len = strnlen (process, LPX_NAME_MAX);
    text_len = lpx_line_piece (text, text_len);
    if (clock)
        lpx_line_time_cached (clock, ts_us, out);
    else
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
    return pos;
}

char *
lpx_line_format (int64_t ts_us, const char *source, const char *process,
                 const char *text, size_t text_len, size_t *len_p)
{
    size_t cap = lpx_line_cap (strnlen (source, LPX_NAME_MAX), strnlen (process, LPX_NAME_MAX),
                               lpx_line_piece (text, text_len));
    char *out = act_malloc (cap);
    *len_p = lpx_line_format_to (NULL, ts_us, source, process, text, text_len, out);
    return out;
}
