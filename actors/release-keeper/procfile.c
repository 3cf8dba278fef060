//  procfile - Procfile and buildpack `bin/release` parsing, UTF-8 checks
//
//  See procfile.h for the rules. Everything here works on (pointer, length)
//  pairs: the inputs are file contents and may hold any bytes.

#include "procfile.h"
#include "../../messages/msg_pack.h"

#include <stdio.h>
#include <string.h>

#define PROC_QUOTE_MAX  60      // bytes of a bad line quoted in a refusal

size_t
rel_utf8_valid_prefix (const char *s, size_t len)
{
    //  A NUL ends the valid text: these strings become C strings.
    const char *nul = memchr (s, 0, len);
    return msg_utf8_prefix (s, nul ? (size_t) (nul - s) : len);
}

void
rel_utf8_clean (const char *s, size_t len, char *out)
{
    size_t i = 0;
    while (i < len) {
        size_t ok = rel_utf8_valid_prefix (s + i, len - i);
        memcpy (out + i, s + i, ok);
        i += ok;
        if (i < len)
            out [i++] = '?';
    }
    out [len] = 0;
}

static bool
s_is_space (char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

//  Trims spaces on both sides of [*s, *s + *len).
static void
s_trim (const char **s, size_t *len)
{
    while (*len && s_is_space (**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len && s_is_space ((*s) [*len - 1]))
        (*len)--;
}

static bool
s_name_valid (const char *name, size_t len)
{
    if (len == 0 || len > REL_PROC_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name [i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '_' || c == '-'))
            return false;
    }
    return true;
}

//  Writes `Procfile line N: <what>` with the line's text quoted (cut to
//  PROC_QUOTE_MAX bytes, made valid UTF-8) where `what` holds `%s`.
static void
s_refuse (char *why, size_t lineno, const char *line, size_t len, const char *what)
{
    char quoted [PROC_QUOTE_MAX + 4];
    size_t n = len > PROC_QUOTE_MAX ? PROC_QUOTE_MAX : len;
    rel_utf8_clean (line, n, quoted);
    if (n < len)
        strcat (quoted, "...");
    int head = snprintf (why, REL_PROCFILE_WHY_MAX, "Procfile line %zu: ", lineno);
    snprintf (why + head, REL_PROCFILE_WHY_MAX - (size_t) head, what, quoted);
}

//  Parses one non-blank, non-comment line into `types`. Returns 0, or -1
//  with `why` filled.
static int
s_parse_line (json_t *types, size_t lineno, const char *line, size_t len, char *why)
{
    if (rel_utf8_valid_prefix (line, len) != len) {
        s_refuse (why, lineno, line, len, "'%s' is not valid UTF-8 text");
        return -1;
    }
    const char *colon = memchr (line, ':', len);
    if (!colon) {
        s_refuse (why, lineno, line, len, "'%s' is not 'name: command'");
        return -1;
    }
    const char *name = line, *cmd = colon + 1;
    size_t name_len = (size_t) (colon - line), cmd_len = len - name_len - 1;
    s_trim (&name, &name_len);
    s_trim (&cmd, &cmd_len);
    if (!s_name_valid (name, name_len)) {
        s_refuse (why, lineno, line, len,
                  "'%s': a process type name is 1-63 letters, digits, '_' or '-'");
        return -1;
    }
    if (cmd_len == 0) {
        s_refuse (why, lineno, line, len, "'%s' has no command");
        return -1;
    }
    char key [REL_PROC_NAME_MAX + 1];
    memcpy (key, name, name_len);
    key [name_len] = 0;
    if (json_object_get (types, key)) {
        char what [REL_PROC_NAME_MAX + 48];
        snprintf (what, sizeof what, "'%%s' declares process type '%s' a second time", key);
        s_refuse (why, lineno, line, len, what);
        return -1;
    }
    if (json_object_size (types) >= REL_PROC_TYPES_MAX) {
        s_refuse (why, lineno, line, len, "'%s' is past the limit of 100 process types");
        return -1;
    }
    json_object_set_new (types, key, json_stringn (cmd, cmd_len));
    return 0;
}

json_t *
rel_procfile_parse (const char *text, size_t len, char why [REL_PROCFILE_WHY_MAX])
{
    if (len > REL_PROCFILE_MAX) {
        snprintf (why, REL_PROCFILE_WHY_MAX, "Procfile is %zu bytes, over the limit of %d",
                  len, REL_PROCFILE_MAX);
        return NULL;
    }
    json_t *types = json_object ();
    size_t lineno = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr (p, '\n', (size_t) (end - p));
        const char *stop = nl ? nl : end;
        const char *line = p;
        size_t line_len = (size_t) (stop - p);
        p = nl ? nl + 1 : end;
        lineno++;
        s_trim (&line, &line_len);
        if (line_len == 0 || line [0] == '#')
            continue;
        if (s_parse_line (types, lineno, line, line_len, why)) {
            json_decref (types);
            return NULL;
        }
    }
    return types;
}

//  Strips one pair of matching quotes around [*s, *s + *len).
static void
s_unquote (const char **s, size_t *len)
{
    if (*len >= 2 && ((*s) [0] == '"' || (*s) [0] == '\'') && (*s) [*len - 1] == (*s) [0]) {
        (*s)++;
        *len -= 2;
    }
}

json_t *
rel_release_types_parse (const char *text, size_t len)
{
    json_t *types = json_object ();
    static const char key [] = "default_process_types:";
    bool inside = false;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr (p, '\n', (size_t) (end - p));
        const char *line = p;
        size_t line_len = (size_t) ((nl ? nl : end) - p);
        p = nl ? nl + 1 : end;
        bool indented = line_len && (line [0] == ' ' || line [0] == '\t');
        const char *t = line;
        size_t t_len = line_len;
        s_trim (&t, &t_len);
        if (t_len == 0 || t [0] == '#')
            continue;
        if (!indented) {
            inside = line_len >= sizeof key - 1 && memcmp (line, key, sizeof key - 1) == 0;
            continue;
        }
        if (!inside)
            continue;
        const char *colon = memchr (t, ':', t_len);
        if (!colon)
            continue;
        const char *name = t, *cmd = colon + 1;
        size_t name_len = (size_t) (colon - t), cmd_len = t_len - name_len - 1;
        s_trim (&name, &name_len);
        s_unquote (&name, &name_len);
        s_trim (&cmd, &cmd_len);
        s_unquote (&cmd, &cmd_len);
        s_trim (&cmd, &cmd_len);
        if (!s_name_valid (name, name_len) || cmd_len == 0
            || rel_utf8_valid_prefix (cmd, cmd_len) != cmd_len
            || json_object_size (types) >= REL_PROC_TYPES_MAX)
            continue;
        char k [REL_PROC_NAME_MAX + 1];
        memcpy (k, name, name_len);
        k [name_len] = 0;
        json_object_set_new (types, k, json_stringn (cmd, cmd_len));
    }
    return types;
}
