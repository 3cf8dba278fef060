//  procfile - Procfile and buildpack `bin/release` parsing, UTF-8 checks
//
//  See procfile.h for the rules. `bin/release` output is YAML, read with
//  libyaml's document loader. Everything here works on (pointer, length)
//  pairs: the inputs are file contents and may hold any bytes.

#include "procfile.h"
#include "../../messages/msg_pack.h"

#include <stdio.h>
#include <string.h>
#include <yaml.h>

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

bool
rel_proc_name_valid (const char *name, size_t len)
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
    if (!rel_proc_name_valid (name, name_len)) {
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

//  The value of `key` in the mapping node `map`, or NULL. Borrowed.
static yaml_node_t *
s_yaml_get (yaml_document_t *doc, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *pair = map->data.mapping.pairs.start;
         pair < map->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = yaml_document_get_node (doc, pair->key);
        if (k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == strlen (key)
            && memcmp (k->data.scalar.value, key, k->data.scalar.length) == 0)
            return yaml_document_get_node (doc, pair->value);
    }
    return NULL;
}

//  Adds `name: command` from one pair of default_process_types when both
//  keep the Procfile's rules (a command is one line); skips it otherwise.
static void
s_yaml_type (json_t *types, yaml_node_t *key, yaml_node_t *value)
{
    if (!key || !value || key->type != YAML_SCALAR_NODE || value->type != YAML_SCALAR_NODE)
        return;
    const char *name = (const char *) key->data.scalar.value;
    const char *cmd = (const char *) value->data.scalar.value;
    size_t name_len = key->data.scalar.length, cmd_len = value->data.scalar.length;
    s_trim (&cmd, &cmd_len);
    if (!rel_proc_name_valid (name, name_len) || cmd_len == 0
        || rel_utf8_valid_prefix (cmd, cmd_len) != cmd_len
        || memchr (cmd, '\n', cmd_len) || memchr (cmd, '\r', cmd_len)
        || json_object_size (types) >= REL_PROC_TYPES_MAX)
        return;
    char k [REL_PROC_NAME_MAX + 1];
    memcpy (k, name, name_len);
    k [name_len] = 0;
    json_object_set_new (types, k, json_stringn (cmd, cmd_len));
}

json_t *
rel_release_types_parse (const char *text, size_t len)
{
    json_t *types = json_object ();
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize (&parser))
        return types;
    yaml_parser_set_input_string (&parser, (const unsigned char *) text, len);
    //  Only the first document is read; a YAML error reads as no types.
    if (yaml_parser_load (&parser, &doc)) {
        yaml_node_t *map = s_yaml_get (&doc, yaml_document_get_root_node (&doc),
                                       "default_process_types");
        if (map && map->type == YAML_MAPPING_NODE)
            for (yaml_node_pair_t *pair = map->data.mapping.pairs.start;
                 pair < map->data.mapping.pairs.top; pair++)
                s_yaml_type (types, yaml_document_get_node (&doc, pair->key),
                             yaml_document_get_node (&doc, pair->value));
        yaml_document_delete (&doc);
    }
    yaml_parser_delete (&parser);
    return types;
}
