//  fuzz_procfile - libFuzzer target for the Procfile and bin/release readers
//
//  Any bytes given to rel_procfile_parse either make a set of process types
//  or a refusal. A refusal is one line of valid UTF-8 starting `Procfile`.
//  Types keep the rules: at most REL_PROC_TYPES_MAX, names of [A-Za-z0-9_-]
//  (1-63 bytes), commands non-empty valid UTF-8 without line breaks or
//  surrounding spaces; written back as `name: command` lines they parse to
//  the same types. rel_release_types_parse makes types under the same rules,
//  and rel_utf8_clean always makes valid UTF-8 of the same length. A broken
//  rule abort()s; `make fuzz` builds this with clang, the replay main runs
//  the corpus under gcc.

#include "../../actors/release-keeper/procfile.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
s_fail (const char *what)
{
    fprintf (stderr, "fuzz-procfile: %s\n", what);
    abort ();
}

static void
s_check_types (const json_t *types)
{
    if (!json_is_object (types) || json_object_size (types) > REL_PROC_TYPES_MAX)
        s_fail ("types are not an object within the limit");
    const char *name;
    json_t *cmd;
    json_object_foreach ((json_t *) types, name, cmd) {
        size_t len = strlen (name);
        if (len == 0 || len > REL_PROC_NAME_MAX || strspn (name, "abcdefghijklmnopqrstuvwxyz"
                "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != len)
            s_fail ("a process type name breaks the rule");
        const char *text = json_string_value (cmd);
        size_t clen = json_string_length (cmd);
        if (!text || clen == 0 || rel_utf8_valid_prefix (text, clen) != clen)
            s_fail ("a command is empty or not valid UTF-8");
        if (memchr (text, '\n', clen) || text [0] == ' ' || text [clen - 1] == ' ')
            s_fail ("a command holds a line break or surrounding spaces");
    }
}

//  Writes `types` back as a Procfile and parses it again.
static void
s_check_round_trip (const json_t *types)
{
    size_t cap = 1, len = 0;
    const char *name;
    json_t *cmd;
    json_object_foreach ((json_t *) types, name, cmd)
        cap += strlen (name) + json_string_length (cmd) + 3;
    char *text = malloc (cap);
    if (!text)
        abort ();
    json_object_foreach ((json_t *) types, name, cmd)
        len += (size_t) sprintf (text + len, "%s: %s\n", name, json_string_value (cmd));
    char why [REL_PROCFILE_WHY_MAX];
    json_t *again = rel_procfile_parse (text, len, why);
    if (!again || !json_equal (again, (json_t *) types))
        s_fail ("types written back as a Procfile parse differently");
    json_decref (again);
    free (text);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    const char *text = (const char *) data;
    char why [REL_PROCFILE_WHY_MAX];
    memset (why, 0x55, sizeof why);
    json_t *types = rel_procfile_parse (text, size, why);
    if (types) {
        s_check_types (types);
        s_check_round_trip (types);
    }
    else {
        if (!memchr (why, 0, sizeof why) || strncmp (why, "Procfile", 8) != 0)
            s_fail ("a refusal does not start with `Procfile` or is not terminated");
        if (rel_utf8_valid_prefix (why, strlen (why)) != strlen (why) || strchr (why, '\n'))
            s_fail ("a refusal is not one line of valid UTF-8");
    }
    json_decref (types);
    json_t *defaults = rel_release_types_parse (text, size);
    s_check_types (defaults);
    json_decref (defaults);
    char *clean = malloc (size + 1);
    if (!clean)
        abort ();
    rel_utf8_clean (text, size, clean);
    if (rel_utf8_valid_prefix (clean, size) != size)
        s_fail ("rel_utf8_clean made invalid UTF-8");
    free (clean);
    return 0;
}
