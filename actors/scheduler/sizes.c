//  sizes - dyno sizes: memory and process limits by name
//
//  See sizes.h. The table is fixed once made: the scheduler reads
//  DYNOD_SIZES when it starts.

#include "sizes.h"
#include "../common/act_base.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SCH_SIZES_MAX   32

struct sch_sizes {
    sch_size_t sizes [SCH_SIZES_MAX];
    size_t count;
};

static const sch_size_t s_builtin [] = {
    { "eco",           512,   256 },
    { "basic",         512,   256 },
    { "standard-1x",   512,   256 },
    { "standard-2x",   1024,  512 },
    { "performance-m", 2560,  16384 },
    { "performance-l", 14336, 32768 },
};

static sch_size_t *
s_find (sch_sizes_t *self, const char *name, size_t len)
{
    for (size_t i = 0; i < self->count; i++)
        if (strlen (self->sizes [i].name) == len && strncasecmp (self->sizes [i].name, name, len) == 0)
            return &self->sizes [i];
    return NULL;
}

//  One `name=MB/procs` entry of `len` bytes. Returns 0 or -1.
static int
s_apply (sch_sizes_t *self, const char *entry, size_t len)
{
    const char *eq = memchr (entry, '=', len);
    if (!eq || eq == entry || (size_t) (eq - entry) >= SCH_SIZE_NAME_MAX)
        return -1;
    for (const char *p = entry; p < eq; p++)
        if (!isalnum ((unsigned char) *p) && *p != '-')
            return -1;
    char nums [64];
    size_t nlen = len - (size_t) (eq + 1 - entry);
    if (nlen == 0 || nlen >= sizeof nums)
        return -1;
    memcpy (nums, eq + 1, nlen);
    nums [nlen] = 0;
    long long mb, procs;
    int used = 0;
    if (sscanf (nums, "%lld/%lld%n", &mb, &procs, &used) != 2 || (size_t) used != nlen || mb < 1
    ||  procs < 1)
        return -1;
    sch_size_t *size = s_find (self, entry, (size_t) (eq - entry));
    if (!size) {
        if (self->count == SCH_SIZES_MAX)
            return -1;
        size = &self->sizes [self->count++];
        for (size_t i = 0; i < (size_t) (eq - entry); i++)
            size->name [i] = (char) tolower ((unsigned char) entry [i]);
        size->name [eq - entry] = 0;
    }
    size->mem_mb = mb;
    size->procs_max = procs;
    return 0;
}

sch_sizes_t *
sch_sizes_new (const char *spec, const char **bad_p)
{
    sch_sizes_t *self = act_calloc (1, sizeof *self);
    self->count = sizeof s_builtin / sizeof s_builtin [0];
    memcpy (self->sizes, s_builtin, sizeof s_builtin);
    for (const char *p = spec; p && *p;) {
        const char *end = strchr (p, ',');
        size_t len = end ? (size_t) (end - p) : strlen (p);
        if (len && s_apply (self, p, len)) {
            if (bad_p)
                *bad_p = p;
            free (self);
            return NULL;
        }
        p = end ? end + 1 : p + len;
    }
    return self;
}

void
sch_sizes_destroy (sch_sizes_t **self_p)
{
    free (*self_p);
    *self_p = NULL;
}

const sch_size_t *
sch_sizes_find (const sch_sizes_t *self, const char *name)
{
    return name ? s_find ((sch_sizes_t *) self, name, strlen (name)) : NULL;
}

void
sch_sizes_names (const sch_sizes_t *self, char *out, size_t len)
{
    size_t used = 0;
    out [0] = 0;
    for (size_t i = 0; i < self->count && used < len; i++) {
        int n = snprintf (out + used, len - used, "%s%s", i ? ", " : "", self->sizes [i].name);
        if (n < 0)
            break;
        used += (size_t) n;
    }
}

size_t
sch_sizes_count (const sch_sizes_t *self)
{
    return self->count;
}

const sch_size_t *
sch_sizes_nth (const sch_sizes_t *self, size_t n)
{
    return n < self->count ? &self->sizes [n] : NULL;
}

void
sch_size_display (const char *name, char *out, size_t len)
{
    if (len == 0)
        return;
    size_t i = 0;
    bool word_start = true;
    for (; name [i] && i + 1 < len; i++) {
        char c = name [i];
        bool after_digit = i > 0 && isdigit ((unsigned char) name [i - 1]);
        out [i] = (word_start || (c == 'x' && after_digit)) ? (char) toupper ((unsigned char) c) : c;
        word_start = c == '-';
    }
    out [i] = 0;
}
