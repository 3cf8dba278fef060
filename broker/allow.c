//  brk_allow - the broker's allow-list of CURVE public keys
//
//  Owns an array of entries, in file order. Lookups scan it: the list is
//  consulted once per handshake and per hello, never per message.

#include "allow.h"
#include "../actors/common/act_base.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALLOW_LINE_MAX  2048            // bytes of one line

struct brk_allow {
    brk_allow_entry_t *entries;
    size_t count, size;
};

brk_allow_t *
brk_allow_new (void)
{
    return act_calloc (1, sizeof (brk_allow_t));
}

void
brk_allow_destroy (brk_allow_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->entries);
    free (*self_p);
    *self_p = NULL;
}

size_t brk_allow_count (const brk_allow_t *self) { return self->count; }

const brk_allow_entry_t *
brk_allow_at (const brk_allow_t *self, size_t index)
{
    return index < self->count ? &self->entries [index] : NULL;
}

const brk_allow_entry_t *
brk_allow_find (const brk_allow_t *self, const char *key)
{
    for (size_t i = 0; self && key && i < self->count; i++)
        if (strcmp (self->entries [i].key, key) == 0)
            return &self->entries [i];
    return NULL;
}

bool
brk_allow_permits (const brk_allow_entry_t *entry, const char *name)
{
    size_t n = strlen (name);
    for (const char *p = entry->actors; n && *p; ) {
        size_t len = strcspn (p, ",");
        if (len == n && strncmp (p, name, n) == 0)
            return true;
        p += len + (p [len] == ',');
    }
    return false;
}

//  A host name: 1-255 of [A-Za-z0-9._-].
static bool
s_host_ok (const char *s, size_t len)
{
    if (len == 0 || len >= BRK_ALLOW_HOST_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!strchr ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", s [i]) || !s [i])
            return false;
    return true;
}

//  Actor names, comma-separated: each 1-63 of [a-z0-9-]; may be empty.
static bool
s_actors_ok (const char *s, size_t len)
{
    if (len >= BRK_ALLOW_ACTORS_MAX)
        return false;
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        if (s [i] == ',') {
            if (run == 0)
                return false;
            run = 0;
        }
        else if (s [i] && strchr ("abcdefghijklmnopqrstuvwxyz0123456789-", s [i]) && ++run < 64)
            continue;
        else
            return false;
    }
    return len == 0 || run > 0;
}

int
brk_allow_put (brk_allow_t *self, const char *key, const char *host, const char *actors,
               char *err, size_t err_len)
{
    if (!actors)
        actors = "";
    if (!act_key_valid (key)) {
        snprintf (err, err_len, "not a CURVE public key (40 Z85 characters)");
        return -EINVAL;
    }
    if (!host || !s_host_ok (host, strlen (host))) {
        snprintf (err, err_len, "bad host name (1-255 of A-Z a-z 0-9 . _ -)");
        return -EINVAL;
    }
    if (!s_actors_ok (actors, strlen (actors))) {
        snprintf (err, err_len, "bad actor list (names of a-z 0-9 -, comma-separated)");
        return -EINVAL;
    }
    brk_allow_entry_t *entry = (brk_allow_entry_t *) brk_allow_find (self, key);
    if (!entry) {
        if (self->count >= BRK_ALLOW_MAX) {
            snprintf (err, err_len, "the allow-list is full (%d keys)", BRK_ALLOW_MAX);
            return ACT_EFULL;
        }
        if (self->count == self->size) {
            self->size = self->size ? self->size * 2 : 8;
            self->entries = act_realloc (self->entries, self->size * sizeof *self->entries);
        }
        entry = &self->entries [self->count++];
    }
    memset (entry, 0, sizeof *entry);
    memcpy (entry->key, key, ACT_KEY_LEN);
    snprintf (entry->host, sizeof entry->host, "%s", host);
    snprintf (entry->actors, sizeof entry->actors, "%s", actors);
    return 0;
}

int
brk_allow_remove (brk_allow_t *self, const char *key)
{
    const brk_allow_entry_t *entry = brk_allow_find (self, key);
    if (!entry)
        return ACT_ENOTFOUND;
    size_t i = (size_t) (entry - self->entries);
    memmove (&self->entries [i], &self->entries [i + 1], (self->count - i - 1) * sizeof *self->entries);
    self->count--;
    return 0;
}

//  Parses one line's fields (`KEY host=NAME actors=a,b`) into `self`.
//  Returns 0 or -EINVAL with a reason in `err`.
static int
s_parse_line (brk_allow_t *self, char *line, char *err, size_t err_len)
{
    char *save = NULL;
    char *key = strtok_r (line, " \t", &save);
    const char *host = NULL, *actors = NULL;
    for (char *f = strtok_r (NULL, " \t", &save); f; f = strtok_r (NULL, " \t", &save)) {
        if (strncmp (f, "host=", 5) == 0 && !host)
            host = f + 5;
        else if (strncmp (f, "actors=", 7) == 0 && !actors)
            actors = f + 7;
        else {
            snprintf (err, err_len, "unknown or repeated field (want host=NAME actors=a,b)");
            return -EINVAL;
        }
    }
    if (brk_allow_find (self, key)) {
        snprintf (err, err_len, "the key is listed twice");
        return -EINVAL;
    }
    if (!host) {
        snprintf (err, err_len, "no host=NAME");
        return -EINVAL;
    }
    int rc = brk_allow_put (self, key, host, actors, err, err_len);
    return rc == ACT_EFULL ? -EINVAL : rc;
}

brk_allow_t *
brk_allow_parse (const char *text, size_t len, char *err, size_t err_len)
{
    brk_allow_t *self = brk_allow_new ();
    char line [ALLOW_LINE_MAX];
    size_t lineno = 0;
    for (size_t pos = 0; pos < len; ) {
        const char *nl = memchr (text + pos, '\n', len - pos);
        size_t n = nl ? (size_t) (nl - (text + pos)) : len - pos;
        lineno++;
        char why [160] = "";
        if (n >= sizeof line)
            snprintf (why, sizeof why, "line too long");
        else if (memchr (text + pos, 0, n))
            snprintf (why, sizeof why, "NUL byte");
        else {
            memcpy (line, text + pos, n);
            line [n] = 0;
            if (n && line [n - 1] == '\r')
                line [n - 1] = 0;
            //  Z85 has '#', but no key starts with it (a 5-character group
            //  starting with the 85th digit overflows 32 bits).
            const char *p = line + strspn (line, " \t");
            if (*p && *p != '#')
                s_parse_line (self, line, why, sizeof why);
        }
        if (why [0]) {
            snprintf (err, err_len, "allow-list line %zu: %s", lineno, why);
            brk_allow_destroy (&self);
            return NULL;
        }
        pos += n + (nl != NULL);
    }
    return self;
}

brk_allow_t *
brk_allow_load (const char *path, char *err, size_t err_len)
{
    char *text = NULL;
    size_t len = 0;
    int rc = act_read_file (path, &text, &len);
    if (rc == -ENOENT)
        return brk_allow_new ();
    if (rc) {
        snprintf (err, err_len, "cannot read '%s': %s", path, act_strerror (rc));
        return NULL;
    }
    brk_allow_t *self = NULL;
    if (len > BRK_ALLOW_FILE_MAX)
        snprintf (err, err_len, "'%s' is larger than %d bytes", path, BRK_ALLOW_FILE_MAX);
    else
        self = brk_allow_parse (text, len, err, err_len);
    free (text);
    return self;
}

char *
brk_allow_format (const brk_allow_t *self)
{
    size_t cap = 1 + self->count * (sizeof (brk_allow_entry_t) + 32);
    char *out = act_malloc (cap);
    size_t used = 0;
    out [0] = 0;
    for (size_t i = 0; i < self->count; i++) {
        const brk_allow_entry_t *e = &self->entries [i];
        int n = snprintf (out + used, cap - used, "%s host=%s actors=%s\n", e->key, e->host, e->actors);
        used += (size_t) n;
    }
    return out;
}
