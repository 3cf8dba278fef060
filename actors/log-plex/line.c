//  line - one log line in Logplex's format
//
//  Escaping writes at most 4 bytes per input byte (`\xNN`; U+FFFD is 3
//  bytes for 1, `\u00NN` 6 for 2), so the output size is bounded before
//  any byte is written.

#include "line.h"
#include "../common/act_base.h"
#include "../../messages/msg_pack.h"

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

bool
lpx_line_source_ok (const char *source)
{
    return strcmp (source, "app") == 0 || strcmp (source, "dynod") == 0;
}

bool
lpx_line_process_ok (const char *process)
{
    size_t len = strlen (process);
    if (len < 1 || len > LPX_NAME_MAX)
        return false;
    return strspn (process, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                            "0123456789._-") == len;
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

//  Appends the `len` bytes at `s`, valid UTF-8, to `out` at *pos, escaped.
static void
s_escape_valid (char *out, size_t *pos, const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s [i];
        //  U+0080..U+009F are the C1 controls (CSI is U+009B), as
        //  dangerous on a terminal as ESC: 0xc2 then 0x80..0x9f. In valid
        //  UTF-8, 0xc2 always has its continuation byte next.
        if (c == 0xc2 && s [i + 1] < 0xa0)
            s_hex (out, pos, "\\u00", s [++i]);
        else if (c == '\n' || c == '\r') {
            out [(*pos)++] = '\\';
            out [(*pos)++] = c == '\n' ? 'n' : 'r';
        }
        else if (c == '\t' || (c >= 0x20 && c != 0x7f))
            out [(*pos)++] = (char) c;
        else
            s_hex (out, pos, "\\x", c);
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

char *
lpx_line_format (int64_t ts_us, const char *source, const char *process,
                 const char *text, size_t text_len, size_t *len_p)
{
    size_t source_len = strnlen (source, LPX_NAME_MAX);
    size_t process_len = strnlen (process, LPX_NAME_MAX);
    text_len = lpx_line_piece (text, text_len);
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
