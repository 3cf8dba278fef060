//  test_sch_grammar - Heroku's ps:scale grammar, parsed CLI-side
//
//  Covers cli/scale_grammar.c: TYPE=N, TYPE+N, TYPE-N, TYPE=N:SIZE,
//  TYPE=SIZE, types with dashes (Heroku's regex takes the last operator),
//  and every malformed form refused with a reason.

#include "unit.h"
#include "../../cli/scale_grammar.h"

#include <string.h>

static void
s_good (const char *arg, const char *type, const char *op, int quantity, const char *size)
{
    json_t *change;
    char why [256] = "";
    if (cli_scale_parse (arg, &change, why, sizeof why) != 0)
        UNIT_FAIL ("'%s' refused: %s", arg, why);
    CHECK_STR_EQ (json_string_value (json_object_get (change, "type")), type);
    if (op) {
        CHECK_STR_EQ (json_string_value (json_object_get (change, "op")), op);
        CHECK_EQ (json_integer_value (json_object_get (change, "quantity")), quantity);
    }
    else {
        CHECK_NULL (json_object_get (change, "op"));
        CHECK_NULL (json_object_get (change, "quantity"));
    }
    if (size)
        CHECK_STR_EQ (json_string_value (json_object_get (change, "size")), size);
    else
        CHECK_NULL (json_object_get (change, "size"));
    json_decref (change);
}

static void
test_sch_grammar_good (void)
{
    s_good ("web=3", "web", "=", 3, NULL);
    s_good ("worker+1", "worker", "+", 1, NULL);
    s_good ("web-1", "web", "-", 1, NULL);
    s_good ("web=0", "web", "=", 0, NULL);
    s_good ("web=2:standard-2x", "web", "=", 2, "standard-2x");
    s_good ("web=2:Standard-2X", "web", "=", 2, "Standard-2X");
    s_good ("web=standard-2x", "web", NULL, 0, "standard-2x");
    s_good ("my-worker-2", "my-worker", "-", 2, NULL);
    s_good ("other-2", "other", "-", 2, NULL);
    s_good ("a_b=100", "a_b", "=", 100, NULL);
}

static void
test_sch_grammar_bad (void)
{
    const char *bad [] = { "", "web", "web=", "=3", "web=3:", "web==3", "web=3x", "web=-1",
                           "web 3", "web=101", "web=9999999999", "web=3:std 1x", "wéb=1",
                           "web*2", "web=1:2:3", ":web=1" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        json_t *change = (json_t *) 1;
        char why [256] = "";
        if (cli_scale_parse (bad [i], &change, why, sizeof why) == 0)
            UNIT_FAIL ("'%s' accepted", bad [i]);
        CHECK_NULL (change);
        CHECK (strlen (why) > 0);
    }
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_sch_grammar_good),
    UNIT_TEST (test_sch_grammar_bad),
};

UNIT_SUITE (unit_suite_sch_grammar, s_tests);
