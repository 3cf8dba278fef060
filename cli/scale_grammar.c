//  scale_grammar - Heroku's ps:scale and ps:type arguments, parsed CLI-side
//
//  See scale_grammar.h. POSIX extended regexes, leftmost-longest, so the
//  type takes every dash it can and the operator is the last [=+-]
//  followed by digits.

#include "scale_grammar.h"
#include "../actors/common/act_base.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLI_SCALE_RE  "^([A-Za-z0-9_-]+)([=+-])([0-9]{1,9})(:([A-Za-z0-9_-]+))?$"
#define CLI_SIZE_RE   "^([A-Za-z0-9_-]+)=([A-Za-z][A-Za-z0-9_-]*)$"
#define CLI_SCALE_GROUPS 6
#define CLI_SCALE_QUOTE_MAX 300     // an argument quoted in an error line, with NUL

//  Group `i` of a match of `arg` as a new string (caller owns result).
static json_t *
s_group (const char *arg, const regmatch_t *m, int i)
{
    return json_stringn (arg + m [i].rm_so, (size_t) (m [i].rm_eo - m [i].rm_so));
}

int
cli_scale_parse (const char *arg, json_t **change_p, char *why, size_t len)
{
    *change_p = NULL;
    regex_t scale, size;
    regmatch_t m [CLI_SCALE_GROUPS];
    if (regcomp (&scale, CLI_SCALE_RE, REG_EXTENDED) != 0)
        return snprintf (why, len, "cannot compile the scale grammar"), -1;
    if (regcomp (&size, CLI_SIZE_RE, REG_EXTENDED) != 0) {
        regfree (&scale);
        return snprintf (why, len, "cannot compile the scale grammar"), -1;
    }
    int rc = 0;
    if (regexec (&scale, arg, CLI_SCALE_GROUPS, m, 0) == 0) {
        long quantity = strtol (arg + m [3].rm_so, NULL, 10);
        if (quantity > CLI_SCALE_MAX) {
            char quoted [CLI_SCALE_QUOTE_MAX];
            snprintf (why, len, "'%s': at most %d dynos",
                      act_quote_line (arg, 64, quoted, sizeof quoted), CLI_SCALE_MAX);
            rc = -1;
        }
        else {
            json_t *change = json_pack ("{s:o, s:o, s:I}", "type", s_group (arg, m, 1), "op",
                                        s_group (arg, m, 2), "quantity", (json_int_t) quantity);
            if (m [5].rm_so >= 0)
                json_object_set_new (change, "size", s_group (arg, m, 5));
            *change_p = change;
        }
    }
    else if (regexec (&size, arg, 3, m, 0) == 0)
        *change_p = json_pack ("{s:o, s:o}", "type", s_group (arg, m, 1), "size",
                               s_group (arg, m, 2));
    else {
        char quoted [CLI_SCALE_QUOTE_MAX];
        snprintf (why, len, "'%s' is not TYPE=N, TYPE+N, TYPE-N, TYPE=N:SIZE or TYPE=SIZE",
                  act_quote_line (arg, 64, quoted, sizeof quoted));
        rc = -1;
    }
    regfree (&scale);
    regfree (&size);
    return rc;
}
