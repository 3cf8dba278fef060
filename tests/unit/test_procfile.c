//  test_procfile - unit tests for release-keeper's Procfile and bin/release
//  readers (actors/release-keeper/procfile.h)
//
//  Procfile: names, commands, comments, blank lines, CRLF, spaces; every
//  refusal names the line number and quotes the line (bad name, no colon,
//  no command, a type declared twice, bytes that are not UTF-8, over the
//  size and type limits); no types is an empty object, not an error.
//  bin/release (libyaml): default_process_types in block and flow style,
//  quoted and folded values, anchors, other keys and comments ignored,
//  pairs that break the Procfile's rules (bad name, empty or multi-line
//  command, a non-scalar value) skipped, nothing when absent or when the
//  YAML does not parse. UTF-8 helpers: the valid prefix and the cleaning copy.

#include "unit.h"
#include "../../actors/release-keeper/procfile.h"

static json_t *
s_parse (const char *text, char why [REL_PROCFILE_WHY_MAX])
{
    why [0] = 0;
    return rel_procfile_parse (text, strlen (text), why);
}

static void
s_check_type (const json_t *types, const char *name, const char *cmd)
{
    CHECK_NOT_NULL (json_object_get (types, name));
    CHECK_STR_EQ (json_string_value (json_object_get (types, name)), cmd);
}

static void
test_procfile_good (void)
{
    char why [REL_PROCFILE_WHY_MAX];
    json_t *types = s_parse ("# the processes\n"
                             "web: python3 app.py --port $PORT\n"
                             "\n"
                             "   worker:bash -c 'while :; do sleep 1; done'  \r\n"
                             "clock_2-x :  ./clock.sh\n"
                             "release: echo a:b:c", why);
    CHECK_NOT_NULL (types);
    CHECK_EQ (json_object_size (types), 4);
    s_check_type (types, "web", "python3 app.py --port $PORT");
    s_check_type (types, "worker", "bash -c 'while :; do sleep 1; done'");
    s_check_type (types, "clock_2-x", "./clock.sh");
    s_check_type (types, "release", "echo a:b:c");
    json_decref (types);
}

static void
test_procfile_empty (void)
{
    char why [REL_PROCFILE_WHY_MAX];
    const char *empties [] = { "", "\n\n", "# only a comment\n   \n#web: x\n" };
    for (size_t i = 0; i < sizeof empties / sizeof empties [0]; i++) {
        json_t *types = s_parse (empties [i], why);
        CHECK_NOT_NULL (types);
        CHECK_EQ (json_object_size (types), 0);
        json_decref (types);
    }
}

//  `text` is refused, with `want` in the reason.
static void
s_refused (const char *text, size_t len, const char *want)
{
    char why [REL_PROCFILE_WHY_MAX] = "";
    json_t *types = rel_procfile_parse (text, len, why);
    if (types)
        UNIT_FAIL ("accepted: '%s'", text);
    if (!strstr (why, want))
        UNIT_FAIL ("reason '%s' lacks '%s'", why, want);
    CHECK_EQ (rel_utf8_valid_prefix (why, strlen (why)), strlen (why));
    CHECK (strchr (why, '\n') == NULL);
}
#define REFUSED(text, want) s_refused (text, strlen (text), want)

static void
test_procfile_bad_lines (void)
{
    REFUSED ("web: ok\nthis is not a process\n", "Procfile line 2: 'this is not a process' is not 'name: command'");
    REFUSED ("web: ok\n\n# x\nweb server: run\n", "Procfile line 4: 'web server: run'");
    REFUSED ("we.b: run\n", "Procfile line 1: 'we.b: run': a process type name");
    REFUSED (": run\n", "Procfile line 1");
    REFUSED ("web:\n", "Procfile line 1: 'web:' has no command");
    REFUSED ("web:    \t\n", "has no command");
    REFUSED ("web: a\nworker: b\nweb: c\n", "Procfile line 3: 'web: c' declares process type 'web' a second time");
    REFUSED ("web: caf\xc3\n", "Procfile line 1: 'web: caf?' is not valid UTF-8 text");
    s_refused ("web: a\0b\n", 9, "Procfile line 1");
    //  A long line is quoted cut short.
    char long_line [400];
    memset (long_line, 'x', sizeof long_line - 1);
    long_line [sizeof long_line - 1] = 0;
    REFUSED (long_line, "...' is not 'name: command'");
    //  Names of 63 bytes pass, 64 do not.
    char name [80];
    memset (name, 'n', 63);
    strcpy (name + 63, ": run\n");
    char why [REL_PROCFILE_WHY_MAX];
    json_t *types = s_parse (name, why);
    CHECK_NOT_NULL (types);
    json_decref (types);
    memset (name, 'n', 64);
    strcpy (name + 64, ": run\n");
    REFUSED (name, "a process type name");
}

static void
test_procfile_limits (void)
{
    //  Over the size limit.
    char *big = malloc (REL_PROCFILE_MAX + 2);
    memset (big, '#', REL_PROCFILE_MAX + 1);
    big [REL_PROCFILE_MAX + 1] = 0;
    s_refused (big, REL_PROCFILE_MAX + 1, "over the limit");
    free (big);
    //  At most REL_PROC_TYPES_MAX types.
    char text [8192] = "";
    for (int i = 0; i <= REL_PROC_TYPES_MAX; i++)
        sprintf (text + strlen (text), "p%d: run\n", i);
    REFUSED (text, "Procfile line 101: 'p100: run' is past the limit of 100 process types");
}

static void
test_release_yaml (void)
{
    const char *yaml = "---\n"
                       "addons: []\n"
                       "config_vars:\n"
                       "  PATH: /app/bin\n"
                       "default_process_types:\n"
                       "  # the server\n"
                       "  web: bundle exec puma -p $PORT\n"
                       "\n"
                       "  worker: \"rake jobs:work\"\n"
                       "  clock: 'ruby clock.rb'\n"
                       "  bad name: skipped\n"
                       "  empty:\n"
                       "later:\n"
                       "  other: not a process\n";
    json_t *types = rel_release_types_parse (yaml, strlen (yaml));
    CHECK_EQ (json_object_size (types), 3);
    s_check_type (types, "web", "bundle exec puma -p $PORT");
    s_check_type (types, "worker", "rake jobs:work");
    s_check_type (types, "clock", "ruby clock.rb");
    json_decref (types);
    const char *none [] = { "", "---\naddons: []\n", "default_process_types: {}\n",
                            "config_vars:\n  web: not a process\n" };
    for (size_t i = 0; i < sizeof none / sizeof none [0]; i++) {
        types = rel_release_types_parse (none [i], strlen (none [i]));
        CHECK_NOT_NULL (types);
        CHECK_EQ (json_object_size (types), 0);
        json_decref (types);
    }
}

static void
test_release_yaml_flow_and_more (void)
{
    const char *flow = "--- {addons: [], default_process_types: {web: \"bundle exec puma\", "
                       "worker: 'rake jobs:work', bad.name: x}}\n";
    json_t *types = rel_release_types_parse (flow, strlen (flow));
    CHECK_EQ (json_object_size (types), 2);
    s_check_type (types, "web", "bundle exec puma");
    s_check_type (types, "worker", "rake jobs:work");
    json_decref (types);
    const char *block = "cmd: &run ./run.sh --fast\n"
                        "default_process_types:\n"
                        "  web: *run\n"
                        "  folded: >-\n"
                        "    python3\n"
                        "    app.py\n"
                        "  multi: |\n"
                        "    line one\n"
                        "    line two\n"
                        "  list: [a, b]\n"
                        "  blank: '   '\n";
    types = rel_release_types_parse (block, strlen (block));
    CHECK_EQ (json_object_size (types), 2);
    s_check_type (types, "web", "./run.sh --fast");
    s_check_type (types, "folded", "python3 app.py");
    json_decref (types);
    const char *bad [] = { "default_process_types: {web: x\n", "- a list\n- web: x\n",
                           "default_process_types: [web, x]\n", "\xff\xfe: x\n",
                           "default_process_types:\n  web: \"a\\0b\"\n" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        types = rel_release_types_parse (bad [i], strlen (bad [i]));
        CHECK_NOT_NULL (types);
        if (json_object_size (types) != 0)
            UNIT_FAIL ("'%s' gave types", bad [i]);
        json_decref (types);
    }
}

static void
test_utf8_helpers (void)
{
    CHECK_EQ (rel_utf8_valid_prefix ("abc", 3), 3);
    CHECK_EQ (rel_utf8_valid_prefix ("caf\xc3\xa9", 5), 5);
    CHECK_EQ (rel_utf8_valid_prefix ("ab\xc3", 3), 2);             // cut sequence
    CHECK_EQ (rel_utf8_valid_prefix ("ab\xc0\xaf", 4), 2);         // overlong
    CHECK_EQ (rel_utf8_valid_prefix ("a\xed\xa0\x80", 4), 1);      // surrogate
    CHECK_EQ (rel_utf8_valid_prefix ("a\xf4\x90\x80\x80", 5), 1);  // past U+10FFFF
    CHECK_EQ (rel_utf8_valid_prefix ("a\0b", 3), 1);
    char out [16];
    rel_utf8_clean ("a\xff" "b\xc3\xa9\xc3", 6, out);
    CHECK_STR_EQ (out, "a?b\xc3\xa9?");
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_procfile_good),
    UNIT_TEST (test_procfile_empty),
    UNIT_TEST (test_procfile_bad_lines),
    UNIT_TEST (test_procfile_limits),
    UNIT_TEST (test_release_yaml),
    UNIT_TEST (test_release_yaml_flow_and_more),
    UNIT_TEST (test_utf8_helpers),
};

UNIT_SUITE (unit_suite_procfile, s_tests);
