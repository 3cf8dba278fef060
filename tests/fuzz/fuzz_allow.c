//  fuzz_allow - libFuzzer target for the broker's allow-list parser
//
//  Any bytes given to brk_allow_parse either make a list or a refusal. A
//  refusal is one line (no line break, NUL-terminated within its buffer)
//  naming `allow-list line N`. A list keeps the rules: at most
//  BRK_ALLOW_MAX entries, each a valid CURVE key (act_key_valid) listed
//  once, found by brk_allow_find, with a non-empty host and an actor list
//  that brk_allow_permits agrees with name by name; written back with
//  brk_allow_format it parses to the same text again. A broken rule
//  abort()s; `make fuzz` builds this with clang, the replay main runs the
//  corpus under gcc.

#include "../../broker/allow.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
s_fail (const char *what)
{
    fprintf (stderr, "fuzz-allow: %s\n", what);
    abort ();
}

static void
s_check_entry (const brk_allow_t *list, const brk_allow_entry_t *e)
{
    if (!act_key_valid (e->key) || brk_allow_find (list, e->key) != e)
        s_fail ("an entry's key is not valid or not found as itself");
    if (!e->host [0] || strchr (e->host, ' ') || strchr (e->host, '\n'))
        s_fail ("an entry's host is empty or holds a separator");
    char copy [BRK_ALLOW_ACTORS_MAX];
    snprintf (copy, sizeof copy, "%s", e->actors);
    char *save = NULL;
    for (char *t = strtok_r (copy, ",", &save); t; t = strtok_r (NULL, ",", &save))
        if (!brk_allow_permits (e, t))
            s_fail ("a listed actor is not permitted");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char err [300];
    memset (err, 0x55, sizeof err);
    brk_allow_t *list = brk_allow_parse ((const char *) data, size, err, sizeof err);
    if (!list) {
        if (!memchr (err, 0, sizeof err) || strchr (err, '\n') || strncmp (err, "allow-list line ", 16) != 0)
            s_fail ("a refusal is not one line naming its line");
        return 0;
    }
    size_t count = brk_allow_count (list);
    if (count > BRK_ALLOW_MAX)
        s_fail ("more entries than BRK_ALLOW_MAX");
    for (size_t i = 0; i < count; i++)
        s_check_entry (list, brk_allow_at (list, i));
    char *text = brk_allow_format (list);
    brk_allow_t *again = brk_allow_parse (text, strlen (text), err, sizeof err);
    if (!again)
        s_fail ("a list written back is refused");
    char *text2 = brk_allow_format (again);
    if (strcmp (text, text2) != 0 || brk_allow_count (again) != count)
        s_fail ("a list written back parses differently");
    free (text2);
    free (text);
    brk_allow_destroy (&again);
    brk_allow_destroy (&list);
    return 0;
}
