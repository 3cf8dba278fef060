//  logs_lines - what `dyno logs` and its tail share, without I/O
//
//  See logs_lines.h. Owns no state beyond the caller's cli_logs_resume_t.

#include "logs_lines.h"
#include "../actors/common/act_base.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINES_COLOUR_APP    "\033[36m"      // cyan
#define LINES_COLOUR_DYNOD  "\033[35m"      // magenta
#define LINES_COLOUR_OFF    "\033[0m"

//  A decimal in `text` within min..max, or 0.
static long
s_decimal (const char *text, long min, long max)
{
    if (!text || *text < '0' || *text > '9')
        return 0;
    char *end;
    errno = 0;
    long n = strtol (text, &end, 10);
    return errno || *end || n < min || n > max ? 0 : n;
}

long
cli_logs_num_parse (const char *text)
{
    return s_decimal (text, 1, CLI_LOGS_NUM_MAX);
}

int
cli_logs_port_parse (const char *text)
{
    return (int) s_decimal (text, 1, 65535);
}

bool
cli_logs_source_valid (const char *text)
{
    return strcmp (text, "app") == 0 || strcmp (text, "dynod") == 0;
}

bool
cli_logs_name_valid (const char *text, bool dot)
{
    size_t len = strlen (text);
    if (len == 0 || len > CLI_LOGS_NAME_MAX)
        return false;
    for (const char *p = text; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
              || *p == '_' || *p == '-' || (dot && *p == '.')))
            return false;
    return true;
}

//  Appends `value` percent-encoded (all but A-Z a-z 0-9 - . _ ~) to
//  `out` (`*len_p` used), which has room for 3 bytes per byte of it.
static void
s_encode (char *out, size_t *len_p, const char *value)
{
    static const char hex [] = "0123456789ABCDEF";
    size_t len = *len_p;
    for (const unsigned char *p = (const unsigned char *) value; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
            || *p == '-' || *p == '.' || *p == '_' || *p == '~')
            out [len++] = (char) *p;
        else {
            out [len++] = '%';
            out [len++] = hex [*p >> 4];
            out [len++] = hex [*p & 15];
        }
    }
    out [len] = 0;
    *len_p = len;
}

//  Appends `&name=value` (`sep` first) to `out`, `value` encoded.
static void
s_param (char *out, size_t *len_p, char sep, const char *name, const char *value)
{
    *len_p += (size_t) sprintf (out + *len_p, "%c%s=", sep, name);
    s_encode (out, len_p, value);
}

//  The app is encoded too, so `/`, `?`, `%` and `..` in a name can never
//  reach another path.
char *
cli_logs_tail_path (const cli_logs_query_t *query, const char *token, long num)
{
    const char *values [] = { query->app, token, query->source, query->dyno, query->ps };
    size_t room = 128;
    for (size_t i = 0; i < sizeof values / sizeof values [0]; i++)
        room += values [i] ? 3 * strlen (values [i]) + 16 : 0;
    char *out = act_malloc (room);
    size_t len = (size_t) sprintf (out, "/apps/");
    s_encode (out, &len, query->app);
    len += (size_t) sprintf (out + len, "/logs");
    s_param (out, &len, '?', "token", token ? token : "");
    len += (size_t) sprintf (out + len, "&n=%ld&tail=1", num);
    if (query->source)
        s_param (out, &len, '&', "source", query->source);
    if (query->dyno)
        s_param (out, &len, '&', "dyno", query->dyno);
    if (query->ps)
        s_param (out, &len, '&', "ps", query->ps);
    return out;
}

int
cli_logs_backoff_ms (unsigned attempt)
{
    int ms = CLI_LOGS_BACKOFF_FIRST;
    for (unsigned i = 0; i < attempt && ms < CLI_LOGS_BACKOFF_MAX; i++)
        ms *= 2;
    return ms < CLI_LOGS_BACKOFF_MAX ? ms : CLI_LOGS_BACKOFF_MAX;
}

void
cli_logs_resume_init (cli_logs_resume_t *self)
{
    memset (self, 0, sizeof *self);
}

void
cli_logs_resume_release (cli_logs_resume_t *self)
{
    free (self->last);
    memset (self, 0, sizeof *self);
}

bool
cli_logs_resume_any (const cli_logs_resume_t *self)
{
    return self->last != NULL;
}

void
cli_logs_resume_reconnected (cli_logs_resume_t *self)
{
    self->skipping = self->last != NULL;
}

//  The time of `line` into `out` (sizeof newest): the bytes before the
//  first space, cut to fit.
static void
s_time (const char *line, size_t len, char *out, size_t size)
{
    const char *space = memchr (line, ' ', len);
    size_t n = space ? (size_t) (space - line) : len;
    if (n >= size)
        n = size - 1;
    memcpy (out, line, n);
    out [n] = 0;
}

bool
cli_logs_resume_take (cli_logs_resume_t *self, const char *line, size_t len)
{
    char time [sizeof self->newest];
    s_time (line, len, time, sizeof time);
    if (self->skipping) {
        if (len == self->last_len && memcmp (line, self->last, len) == 0) {
            self->skipping = false;     // the last one printed: the rest are new
            return false;
        }
        if (strcmp (time, self->newest) <= 0)
            return false;
        self->skipping = false;
    }
    free (self->last);
    self->last = act_malloc (len + 1);
    memcpy (self->last, line, len);
    self->last [len] = 0;
    self->last_len = len;
    if (strcmp (time, self->newest) > 0)
        memcpy (self->newest, time, sizeof time);
    return true;
}

void
cli_logs_line_print (FILE *out, const char *line, size_t len, bool colour)
{
    //  `<time> <source>[<process>]: <text>`: colour from the source to the
    //  colon. log-plex escapes `]` nowhere in names, but a process name
    //  never holds `]: `, so the first one ends the prefix.
    const char *space = colour ? memchr (line, ' ', len) : NULL;
    const char *on = NULL;
    size_t from = 0, to = 0;
    if (space) {
        from = (size_t) (space - line) + 1;
        if (len - from > 4 && memcmp (line + from, "app[", 4) == 0)
            on = LINES_COLOUR_APP;
        else if (len - from > 6 && memcmp (line + from, "dynod[", 6) == 0)
            on = LINES_COLOUR_DYNOD;
        for (to = from; on && to + 2 < len; to++)
            if (line [to] == ']' && line [to + 1] == ':' && line [to + 2] == ' ')
                break;
        if (!on || to + 2 >= len)
            on = NULL;
        else
            to += 2;                    // through the colon
    }
    if (on) {
        fwrite (line, 1, from, out);
        fputs (on, out);
        fwrite (line + from, 1, to - from, out);
        fputs (LINES_COLOUR_OFF, out);
        fwrite (line + to, 1, len - to, out);
    }
    else
        fwrite (line, 1, len, out);
    fputc ('\n', out);
}

bool
cli_logs_colour (int fd)
{
    const char *no = getenv ("NO_COLOR");
    return isatty (fd) && !(no && *no);
}
