//  test_rel_apps - unit tests for release-keeper's app names
//
//  Covers actors/release-keeper/apps.h: the naming rule [a-z][a-z0-9-]{2,29}
//  at its boundaries with a reason for each refusal, and random names: of
//  the form adjective-noun-NNNN, always valid, the same for the same seed
//  and attempt (what a journal replay relies on), different across attempts.

#include "unit.h"
#include "../../actors/release-keeper/apps.h"

#include <regex.h>

static void
test_rel_app_name_rule (void)
{
    static const char *good [] = { "abc", "a-1", "my-app", "a23456789012345678901234567890", "x--" };
    static const char *bad [] = { "", "ab", "A", "Abc", "-ab", "1ab", "ab_c", "ab.c", "aBc",
                                  "a234567890123456789012345678901", "ab c", "é-ab" };
    char why [REL_APP_WHY_MAX];
    for (size_t i = 0; i < sizeof good / sizeof good [0]; i++)
        if (!rel_app_name_valid (good [i], why))
            UNIT_FAIL ("'%s' refused: %s", good [i], why);
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        why [0] = 0;
        if (rel_app_name_valid (bad [i], why))
            UNIT_FAIL ("'%s' accepted", bad [i]);
        CHECK (strlen (why) > 0);
    }
}

static void
test_rel_app_name_random (void)
{
    regex_t re;
    CHECK_OK (regcomp (&re, "^[a-z]+-[a-z]+-[0-9]{4}$", REG_EXTENDED | REG_NOSUB));
    char name [REL_APP_NAME_MAX + 1], again [REL_APP_NAME_MAX + 1], why [REL_APP_WHY_MAX];
    int distinct = 0;
    for (unsigned seed = 0; seed < 2000; seed++) {
        uint64_t s = rel_app_seed_from_id ("0123456789abcdef0123456789abcdef") + seed;
        rel_app_name_random (s, seed % 3, name, sizeof name);
        if (!rel_app_name_valid (name, why))
            UNIT_FAIL ("random name '%s' is not valid: %s", name, why);
        CHECK_OK (regexec (&re, name, 0, NULL, 0));
        rel_app_name_random (s, seed % 3, again, sizeof again);
        CHECK_STR_EQ (again, name);
        rel_app_name_random (s, seed % 3 + 1, again, sizeof again);
        distinct += strcmp (again, name) != 0;
    }
    //  A collision between attempts is possible but rare.
    CHECK (distinct > 1990);
    CHECK (rel_app_seed_from_id ("0123456789abcdef0123456789abcdef")
           != rel_app_seed_from_id ("0123456789abcdef0123456789abcdee"));
    regfree (&re);
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_rel_app_name_rule),
    UNIT_TEST (test_rel_app_name_random),
};

UNIT_SUITE (unit_suite_rel_apps, s_tests);
