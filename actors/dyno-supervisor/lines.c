//  lines - splits a dyno's output stream into log lines
//
//  See lines.h.

#include "lines.h"

#include <string.h>

void
sup_lines_init (sup_lines_t *self)
{
    self->len = 0;
    self->since = 0;
    self->cut = false;
}

static void
s_emit (sup_lines_t *self, sup_line_fn *fn, void *arg)
{
    size_t len = self->len;
    if (len && self->buf [len - 1] == '\r')
        len--;
    fn (arg, self->buf, len);
    self->len = 0;
}

void
sup_lines_push (sup_lines_t *self, const char *data, size_t len, int64_t now, sup_line_fn *fn,
                void *arg)
{
    //  A newline right after a line cut at SUP_LINE_MAX ends that line: no
    //  empty line for it, even when it comes in a later read.
    if (self->cut && len > 0 && data [0] == '\n') {
        data++;
        len--;
    }
    if (len > 0)
        self->cut = false;
    while (len > 0) {
        const char *nl = memchr (data, '\n', len);
        size_t piece = nl ? (size_t) (nl - data) : len;
        size_t room = SUP_LINE_MAX - self->len;
        if (piece >= room) {
            //  Fill the buffer up and cut there: the rest of this line
            //  starts a new one.
            if (self->len == 0)
                self->since = now;
            memcpy (self->buf + self->len, data, room);
            self->len = SUP_LINE_MAX;
            data += room;
            len -= room;
            s_emit (self, fn, arg);
            self->cut = len == 0;
            if (piece == room && nl) {
                data++;             // the newline ends the cut line
                len--;
                self->cut = false;
            }
            continue;
        }
        if (piece && self->len == 0)
            self->since = now;
        memcpy (self->buf + self->len, data, piece);
        self->len += piece;
        data += piece;
        len -= piece;
        if (nl) {
            s_emit (self, fn, arg);
            data++;
            len--;
        }
    }
}

void
sup_lines_flush (sup_lines_t *self, int64_t now, bool force, sup_line_fn *fn, void *arg)
{
    if (self->len && (force || now - self->since >= SUP_LINE_WAIT_MS))
        s_emit (self, fn, arg);
}

int64_t
sup_lines_deadline (const sup_lines_t *self)
{
    return self->len ? self->since + SUP_LINE_WAIT_MS : INT64_MAX;
}
