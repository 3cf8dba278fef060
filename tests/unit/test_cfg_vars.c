//  test_cfg_vars - unit tests for config-keeper's config var rules
//
//  Covers actors/config-keeper/vars.h: the naming rule with a reason for
//  each refusal (leading digit, '-', empty, reserved `__` and `DYNOD_`),
//  values (any bytes but NUL), size accounting, release descriptions (in
//  the order given, cut with "and N more"), keys shown in reasons (cut at a
//  character boundary) and the snapshot encoding of values that are not
//  UTF-8 ({"b64": ...}), which must survive json_dumps / json_loads.

#include "unit.h"
#include "../../actors/config-keeper/vars.h"

static void
test_cfg_key_rule (void)
{
    static const char *good [] = { "FOO", "foo", "_", "_X", "a1", "A_B_C9", "DYNOD", "DYNODX",
                                   "dynod_x", "_DYNOD_X", "X__Y" };
    static const struct { const char *key, *why; } bad [] = {
        { "", "empty" },
        { "1ABC", "start with a letter" },
        { "A-B", "only letters, digits" },
        { "A B", "only letters, digits" },
        { "A.B", "only letters, digits" },
        { "É", "start with a letter" },
        { "AÉ", "only letters, digits" },
        { "__X", "reserved" },
        { "__", "reserved" },
        { "DYNOD_X", "reserved for dynod" },
        { "DYNOD_", "reserved for dynod" },
    };
    char why [CFG_WHY_MAX];
    for (size_t i = 0; i < sizeof good / sizeof good [0]; i++)
        if (!cfg_key_valid (good [i], why))
            UNIT_FAIL ("'%s' refused: %s", good [i], why);
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        why [0] = 0;
        if (cfg_key_valid (bad [i].key, why))
            UNIT_FAIL ("'%s' accepted", bad [i].key);
        if (!strstr (why, bad [i].why))
            UNIT_FAIL ("'%s': reason '%s' does not say '%s'", bad [i].key, why, bad [i].why);
    }
}

static void
test_cfg_value_rule (void)
{
    char why [CFG_WHY_MAX];
    json_t *ok = json_stringn_nocheck ("a\xff\n'\"", 5);
    json_t *empty = json_string ("");
    json_t *nul = json_stringn_nocheck ("a\0b", 3);
    json_t *number = json_integer (1);
    CHECK (cfg_value_valid (ok, why));
    CHECK (cfg_value_valid (empty, why));
    CHECK (!cfg_value_valid (nul, why));
    CHECK (strstr (why, "NUL") != NULL);
    CHECK (!cfg_value_valid (number, why));
    CHECK (strstr (why, "string") != NULL);
    json_decref (ok);
    json_decref (empty);
    json_decref (nul);
    json_decref (number);
}

static void
test_cfg_vars_size (void)
{
    json_t *vars = json_object ();
    CHECK_EQ (cfg_vars_size (vars), 0);
    json_object_set_new (vars, "FOO", json_string ("bar"));
    json_object_set_new (vars, "E", json_string (""));
    json_object_set_new (vars, "BIN", json_stringn_nocheck ("\xff\xfe", 2));
    CHECK_EQ (cfg_vars_size (vars), 3 + 3 + 1 + 0 + 3 + 2);
    json_decref (vars);
}

static void
test_cfg_describe (void)
{
    char out [CFG_DESC_MAX];
    json_t *keys = json_pack ("[s]", "FOO");
    cfg_describe ("Set", keys, out);
    CHECK_STR_EQ (out, "Set FOO config vars");
    json_array_append_new (keys, json_string ("BAR"));
    cfg_describe ("Remove", keys, out);
    CHECK_STR_EQ (out, "Remove FOO, BAR config vars");
    json_decref (keys);
    //  Many long names: cut, with the count of those left out, and short.
    keys = json_array ();
    char name [64];
    for (int i = 0; i < 100; i++) {
        snprintf (name, sizeof name, "KEY_NUMBER_%03d", i);
        json_array_append_new (keys, json_string (name));
    }
    cfg_describe ("Set", keys, out);
    CHECK (strlen (out) < CFG_DESC_MAX);
    CHECK (strncmp (out, "Set KEY_NUMBER_000, KEY_NUMBER_001, ", 36) == 0);
    CHECK (strstr (out, " more config vars") != NULL);
    int shown = 0, more = 0;
    for (const char *p = out; (p = strstr (p, "KEY_NUMBER_")); p++)
        shown++;
    CHECK (sscanf (strstr (out, "and "), "and %d more", &more) == 1);
    CHECK_EQ (shown + more, 100);
    json_decref (keys);
}

static void
test_cfg_key_shown (void)
{
    char out [CFG_SHOWN_MAX];
    cfg_key_shown ("SHORT", out);
    CHECK_STR_EQ (out, "SHORT");
    char key [400];
    //  "é" is two bytes: a cut at an odd offset would split one.
    key [0] = 'a';
    size_t len = 1;
    for (int i = 0; i < 150; i++) {
        memcpy (key + len, "\xc3\xa9", 2);
        len += 2;
    }
    key [len] = 0;
    cfg_key_shown (key, out);
    CHECK (strlen (out) < CFG_SHOWN_MAX);
    CHECK (strcmp (out + strlen (out) - 3, "...") == 0);
    out [strlen (out) - 3] = 0;
    CHECK (cfg_utf8_valid (out, strlen (out)));
    CHECK (strncmp (out, key, strlen (out)) == 0);
}

static void
test_cfg_vars_b64_round_trip (void)
{
    json_t *vars = json_object ();
    json_object_set_new (vars, "TEXT", json_string ("plain é ✓"));
    json_object_set_new (vars, "EMPTY", json_string (""));
    //  Not UTF-8, with each padding length (1, 2 and 3 bytes mod 3).
    json_object_set_new (vars, "FF", json_stringn_nocheck ("\xff", 1));
    json_object_set_new (vars, "FF2", json_stringn_nocheck ("a\xff", 2));
    json_object_set_new (vars, "FF3", json_stringn_nocheck ("\xc3\x28z", 3));
    json_object_set_new (vars, "NL", json_stringn_nocheck ("line1\nline2\x80'", 13));
    json_t *encoded = cfg_vars_encode (vars);
    CHECK (json_is_string (json_object_get (encoded, "TEXT")));
    CHECK (json_is_object (json_object_get (encoded, "FF")));
    char *text = json_dumps (encoded, JSON_COMPACT);
    CHECK_NOT_NULL (text);
    json_t *loaded = json_loads (text, 0, NULL);
    CHECK_NOT_NULL (loaded);
    json_t *decoded = cfg_vars_decode (loaded);
    CHECK_NOT_NULL (decoded);
    CHECK (json_equal (decoded, vars));
    CHECK_EQ (json_string_length (json_object_get (decoded, "FF3")), 3);
    free (text);
    json_decref (loaded);
    json_decref (decoded);
    json_decref (encoded);
    json_decref (vars);
}

static void
test_cfg_vars_decode_rejects (void)
{
    static const char *bad [] = {
        "[]", "{\"A\": 1}", "{\"A\": {}}", "{\"A\": {\"b64\": 1}}", "{\"A\": {\"b64\": \"abc\"}}",
        "{\"A\": {\"b64\": \"////\", \"x\": 1}}", "{\"A\": {\"b64\": \"!!!!\"}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        json_t *encoded = json_loads (bad [i], 0, NULL);
        CHECK_NOT_NULL (encoded);
        json_t *decoded = cfg_vars_decode (encoded);
        if (decoded)
            UNIT_FAIL ("'%s' decoded", bad [i]);
        json_decref (encoded);
    }
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_cfg_key_rule),
    UNIT_TEST (test_cfg_value_rule),
    UNIT_TEST (test_cfg_vars_size),
    UNIT_TEST (test_cfg_describe),
    UNIT_TEST (test_cfg_key_shown),
    UNIT_TEST (test_cfg_vars_b64_round_trip),
    UNIT_TEST (test_cfg_vars_decode_rejects),
};

UNIT_SUITE (unit_suite_cfg_vars, s_tests);
