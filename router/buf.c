//  buf - the byte buffers connections queue bytes in, the header lists
//  parser callbacks fill, and the clock the workers' deadlines use (see
//  conn.h)

#include "conn.h"
#include "../actors/common/act_base.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

void
rtr_buf_add (rtr_buf_t *self, const void *data, size_t len)
{
    if (self->off && self->off == self->len)
        self->off = self->len = 0;
    if (self->len + len > self->cap) {
        if (self->off) {        // reclaim what was consumed first
            memmove (self->data, self->data + self->off, self->len - self->off);
            self->len -= self->off;
            self->off = 0;
        }
        if (self->len + len > self->cap) {
            self->cap = (self->len + len) * 2 + 256;
            self->data = act_realloc (self->data, self->cap);
        }
    }
    if (len)
        memcpy (self->data + self->len, data, len);
    self->len += len;
}

void
rtr_buf_header (rtr_buf_t *self, const char *name, size_t nlen, const char *value, size_t vlen)
{
    rtr_buf_add (self, name, nlen);
    rtr_buf_add (self, ": ", 2);
    rtr_buf_add (self, value, vlen);
    rtr_buf_add (self, "\r\n", 2);
}

void
rtr_buf_printf (rtr_buf_t *self, const char *fmt, ...)
{
    char small [512];
    va_list ap;
    va_start (ap, fmt);
    int n = vsnprintf (small, sizeof small, fmt, ap);
    va_end (ap);
    if (n < 0)
        return;
    if ((size_t) n < sizeof small) {
        rtr_buf_add (self, small, (size_t) n);
        return;
    }
    char *big = act_malloc ((size_t) n + 1);
    va_start (ap, fmt);
    vsnprintf (big, (size_t) n + 1, fmt, ap);
    va_end (ap);
    rtr_buf_add (self, big, (size_t) n);
    free (big);
}

size_t
rtr_buf_pending (const rtr_buf_t *self)
{
    return self->len - self->off;
}

void
rtr_buf_reset (rtr_buf_t *self)
{
    self->len = self->off = 0;
}

void
rtr_buf_release (rtr_buf_t *self)
{
    free (self->data);
    memset (self, 0, sizeof *self);
}

int64_t
rtr_mono_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

//  --- header lists

int
rtr_hdrs_field (rtr_hdrs_t *self, const char *at, size_t len)
{
    if (self->count == 0 || self->in_value) {
        if (self->count == RTR_HEADERS_MAX) {
            self->limit = 431;
            return -1;
        }
        if (self->count == self->cap) {
            self->cap = self->cap ? self->cap * 2 : 16;
            self->list = act_realloc (self->list, self->cap * sizeof *self->list);
        }
        self->list [self->count++] = (rtr_hdr_t) { .name_off = self->raw.len };
        self->in_value = false;
    }
    //  libhttp-parser takes `Name : value` with the space in the name.
    if (memchr (at, ' ', len) || memchr (at, '\t', len))
        return -1;
    rtr_hdr_t *hdr = &self->list [self->count - 1];
    rtr_buf_add (&self->raw, at, len);
    hdr->name_len += len;
    if (hdr->name_len > RTR_HEADER_NAME_MAX) {
        self->limit = 431;
        return -1;
    }
    return 0;
}

int
rtr_hdrs_value (rtr_hdrs_t *self, const char *at, size_t len)
{
    if (self->count == 0)
        return -1;
    rtr_hdr_t *hdr = &self->list [self->count - 1];
    if (!self->in_value) {
        self->in_value = true;
        hdr->val_off = self->raw.len;
    }
    rtr_buf_add (&self->raw, at, len);
    hdr->val_len += len;
    if (hdr->name_len + hdr->val_len > (self->line_max ? self->line_max : RTR_LINE_MAX)) {
        self->limit = 431;
        return -1;
    }
    return 0;
}

void
rtr_hdrs_reset (rtr_hdrs_t *self)
{
    rtr_buf_reset (&self->raw);
    self->count = 0;
    self->in_value = false;
    self->limit = 0;
}

void
rtr_hdrs_release (rtr_hdrs_t *self)
{
    rtr_buf_release (&self->raw);
    free (self->list);
    memset (self, 0, sizeof *self);
}

const char *
rtr_hdrs_name (const rtr_hdrs_t *self, size_t i)
{
    return self->raw.data + self->list [i].name_off;
}

const char *
rtr_hdrs_val (const rtr_hdrs_t *self, size_t i)
{
    return self->raw.data + self->list [i].val_off;
}

bool
rtr_hdrs_is (const rtr_hdrs_t *self, size_t i, const char *name)
{
    return self->list [i].name_len == strlen (name)
        && strncasecmp (rtr_hdrs_name (self, i), name, self->list [i].name_len) == 0;
}

int
rtr_hdrs_find (const rtr_hdrs_t *self, const char *name, size_t *count)
{
    int at = -1;
    size_t n = 0;
    for (size_t i = 0; i < self->count; i++)
        if (rtr_hdrs_is (self, i, name)) {
            if (at < 0)
                at = (int) i;
            n++;
        }
    if (count)
        *count = n;
    return at;
}

const char *
rtr_hdrs_get (const rtr_hdrs_t *self, const char *name, char *out, size_t cap)
{
    int at = rtr_hdrs_find (self, name, NULL);
    if (at < 0)
        return NULL;
    snprintf (out, cap, "%.*s", (int) self->list [at].val_len, rtr_hdrs_val (self, (size_t) at));
    return out;
}
