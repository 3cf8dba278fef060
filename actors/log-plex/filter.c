//  filter - which of an app's lines a reader wants

#include "filter.h"

#include <errno.h>
#include <string.h>

int
lpx_filter_init (lpx_filter_t *self, const char *source, const char *dyno, const char *ps,
                 const char **why)
{
    memset (self, 0, sizeof *self);
    source = source ? source : "";
    dyno = dyno ? dyno : "";
    ps = ps ? ps : "";
    if (*source && !lpx_line_source_ok (source))
        *why = "source must be app or dynod";
    else if (*dyno && !lpx_line_process_ok (dyno))
        *why = "dyno must be 1 to 64 of A-Z a-z 0-9 . _ -";
    else if (*ps && (!lpx_line_process_ok (ps) || strchr (ps, '.')))
        *why = "process type must be 1 to 64 of A-Z a-z 0-9 _ -";
    else {
        strcpy (self->source, source);
        strcpy (self->dyno, dyno);
        strcpy (self->ps, ps);
        return 0;
    }
    return -EINVAL;
}

bool
lpx_filter_match (const lpx_filter_t *self, const char *line, size_t len)
{
    if (!self->source [0] && !self->dyno [0] && !self->ps [0])
        return true;
    //  `<time> <source>[<process>]: `: neither name holds `[` or `]`.
    if (len < LPX_TIME_LEN + 1)
        return false;
    const char *source = line + LPX_TIME_LEN + 1, *end = line + len;
    const char *open = memchr (source, '[', (size_t) (end - source));
    if (!open)
        return false;
    const char *process = open + 1;
    const char *close = memchr (process, ']', (size_t) (end - process));
    if (!close)
        return false;
    size_t source_len = (size_t) (open - source), process_len = (size_t) (close - process);
    if (self->source [0]
    &&  (source_len != strlen (self->source) || memcmp (source, self->source, source_len)))
        return false;
    if (self->dyno [0]
    &&  (process_len != strlen (self->dyno) || memcmp (process, self->dyno, process_len)))
        return false;
    if (self->ps [0]) {
        const char *dot = memchr (process, '.', process_len);
        size_t type_len = dot ? (size_t) (dot - process) : process_len;
        if (type_len != strlen (self->ps) || memcmp (process, self->ps, type_len))
            return false;
    }
    return true;
}
