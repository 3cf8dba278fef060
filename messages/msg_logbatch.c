//  msg_logbatch - the packed `lines` field of a log.batch
//
//  See msg_logbatch.h for the record layout. Integers are read and written
//  byte by byte, so neither alignment nor the host's byte order matters.

#include "msg_logbatch.h"
#include "../actors/common/act_base.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool
msg_logbatch_source_ok (const char *source)
{
    return strcmp (source, "app") == 0 || strcmp (source, "dynod") == 0;
}

bool
msg_logbatch_process_ok (const char *process)
{
    size_t len = 0;
    for (; process [len]; len++) {
        char c = process [len];
        if (len == MSG_LOGBATCH_NAME_MAX
        ||  !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
           || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return len >= 1;
}

static void
s_put_le (char *out, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++, v >>= 8)
        out [i] = (char) (v & 0xff);
}

static uint64_t
s_get_le (const char *in, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = (v << 8) | (unsigned char) in [i];
    return v;
}

int
msg_logbatch_add (msg_logbatch_t *self, int64_t ts_us, const char *source,
                  const char *process, const char *text, size_t text_len)
{
    if (!msg_logbatch_source_ok (source) || !msg_logbatch_process_ok (process)
    ||  text_len > UINT32_MAX)
        return -EINVAL;
    size_t source_len = strlen (source), process_len = strlen (process);
    size_t need = MSG_LOGBATCH_OVERHEAD + source_len + process_len + text_len;
    if (self->cap - self->len < need) {
        size_t cap = self->cap ? self->cap : 4096;
        while (cap - self->len < need)
            cap *= 2;
        self->data = act_realloc (self->data, cap);
        self->cap = cap;
    }
    char *p = self->data + self->len;
    s_put_le (p, (uint64_t) ts_us, 8);
    p += 8;
    memcpy (p, source, source_len + 1);
    p += source_len + 1;
    memcpy (p, process, process_len + 1);
    p += process_len + 1;
    s_put_le (p, text_len, 4);
    p += 4;
    if (text_len)
        memcpy (p, text, text_len);
    p [text_len] = 0;
    self->len += need;
    self->lines++;
    return 0;
}

json_t *
msg_logbatch_take (msg_logbatch_t *self)
{
    json_t *lines = json_stringn_nocheck (self->data ? self->data : "", self->len);
    self->len = 0;
    self->lines = 0;
    return lines;
}

void
msg_logbatch_release (msg_logbatch_t *self)
{
    free (self->data);
    memset (self, 0, sizeof *self);
}

//  Reads one record at *pos; on failure says why (when `why` is not NULL)
//  and leaves *pos where the record starts.
static bool
s_read (const char *data, size_t len, size_t *pos, msg_logline_t *line, char *why,
        size_t why_len)
{
    const char *problem = NULL;
    size_t at = *pos, left = len - at;
    const char *p = data + at;
    if (left < 8) {
        problem = "is cut short in its time";
        goto fail;
    }
    line->ts_us = (int64_t) s_get_le (p, 8);
    p += 8;
    left -= 8;
    //  The source and process: a NUL within reach, then the name rules.
    const char *names [2];
    for (int i = 0; i < 2; i++) {
        size_t reach = left < MSG_LOGBATCH_NAME_MAX + 1 ? left : MSG_LOGBATCH_NAME_MAX + 1;
        const char *nul = memchr (p, 0, reach);
        if (!nul) {
            problem = i == 0 ? "has a source without its NUL or over 64 bytes"
                             : "has a process without its NUL or over 64 bytes";
            goto fail;
        }
        names [i] = p;
        left -= (size_t) (nul - p) + 1;
        p = nul + 1;
    }
    if (!msg_logbatch_source_ok (names [0])) {
        problem = "has a source other than app or dynod";
        goto fail;
    }
    if (!msg_logbatch_process_ok (names [1])) {
        problem = "has a process name outside [A-Za-z0-9._-]{1,64}";
        goto fail;
    }
    if (left < 4) {
        problem = "is cut short in its text length";
        goto fail;
    }
    uint64_t text_len = s_get_le (p, 4);
    p += 4;
    left -= 4;
    if (text_len >= left) {
        problem = "has a text longer than the bytes left";
        goto fail;
    }
    if (p [text_len] != 0) {
        problem = "has a text without its NUL";
        goto fail;
    }
    line->source = names [0];
    line->process = names [1];
    line->text = p;
    line->text_len = (size_t) text_len;
    *pos = (size_t) (p + text_len + 1 - data);
    return true;
fail:
    if (why)
        snprintf (why, why_len, "the record at byte %zu %s", at, problem);
    return false;
}

size_t
msg_logbatch_check (const char *data, size_t len, char *why, size_t why_len)
{
    if (len == 0) {
        snprintf (why, why_len, "the batch holds no line");
        return 0;
    }
    size_t pos = 0, lines = 0;
    msg_logline_t line;
    while (pos < len) {
        if (!s_read (data, len, &pos, &line, why, why_len))
            return 0;
        lines++;
    }
    return lines;
}

bool
msg_logbatch_next (const char *data, size_t len, size_t *pos, msg_logline_t *line)
{
    return *pos < len && s_read (data, len, pos, line, NULL, 0);
}

bool
msg_logbatch_get (const json_t *body, size_t index, msg_logline_t *line)
{
    const json_t *lines = json_object_get (body, "lines");
    if (!json_is_string (lines))
        return false;
    const char *data = json_string_value (lines);
    size_t len = json_string_length (lines), pos = 0;
    for (size_t i = 0; i <= index; i++)
        if (!msg_logbatch_next (data, len, &pos, line))
            return false;
    return true;
}
