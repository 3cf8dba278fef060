//  fuzz_dynos - libFuzzer target for what the dynos issue decodes
//
//  The first byte picks the decoder, the rest is its input:
//  - 0: `dyno ps:scale` / `ps:type` arguments (cli_scale_parse). A change
//    names a non-empty type and either `op` (=, + or -) with a quantity in
//    0..CLI_SCALE_MAX, or a `size`, or both; a refusal is one line.
//  - 1: a dyno.assign body as JSON, planned by the dyno-supervisor
//    (sup_assign_plan, nothing held, no epoch applied). A plan starts only
//    entries that pass sup_assign_entry_ok, with ids that are distinct and
//    SUP_ID_LEN hex digits, and stops nothing (nothing was held); a
//    refusal is one line.
//  A broken rule abort()s; `make fuzz` builds this with clang, the replay
//  main runs the corpus under gcc.

#include "../../cli/scale_grammar.h"
#include "../../actors/dyno-supervisor/assign.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ARG_MAX    4096        // bytes of a ps:scale argument tried

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
s_fail (const char *what)
{
    fprintf (stderr, "fuzz-dynos: %s\n", what);
    abort ();
}

static void
s_check_why (const char *why)
{
    if (!why [0] || strchr (why, '\n'))
        s_fail ("a refusal is not one line");
}

static void
s_scale (const uint8_t *data, size_t size)
{
    if (size > FUZZ_ARG_MAX)
        size = FUZZ_ARG_MAX;
    char arg [FUZZ_ARG_MAX + 1];
    memcpy (arg, data, size);
    arg [size] = 0;                 // argv strings end at the first NUL
    char why [256] = "";
    json_t *change = NULL;
    if (cli_scale_parse (arg, &change, why, sizeof why)) {
        if (change)
            s_fail ("a refusal left a change");
        s_check_why (why);
        return;
    }
    const char *type = json_string_value (json_object_get (change, "type"));
    if (!type || !type [0])
        s_fail ("a change names no type");
    const char *op = json_string_value (json_object_get (change, "op"));
    const json_t *size_value = json_object_get (change, "size");
    if (!op && !json_is_string (size_value))
        s_fail ("a change has neither a quantity nor a size");
    if (op) {
        if (strcmp (op, "=") && strcmp (op, "+") && strcmp (op, "-"))
            s_fail ("a change has an unknown op");
        json_t *quantity = json_object_get (change, "quantity");
        if (!json_is_integer (quantity) || json_integer_value (quantity) < 0
        ||  json_integer_value (quantity) > CLI_SCALE_MAX)
            s_fail ("a quantity is out of range");
    }
    json_decref (change);
}

static void
s_assign (const uint8_t *data, size_t size)
{
    json_t *body = json_loadb ((const char *) data, size, JSON_DECODE_ANY, NULL);
    if (!body)
        return;                     // not JSON: the message layer refuses it first
    json_t *held = json_array ();
    json_t *start = NULL, *stop = NULL;
    char why [SUP_WHY_MAX] = "";
    int rc = sup_assign_plan (body, -1, held, &start, &stop, why);
    if (rc == 0) {
        if (!json_is_array (start) || !json_is_array (stop) || json_array_size (stop) != 0)
            s_fail ("a plan with nothing held stops something");
        size_t i;
        json_t *entry;
        json_array_foreach (start, i, entry) {
            char entry_why [SUP_WHY_MAX];
            if (!sup_assign_entry_ok (entry, entry_why))
                s_fail ("a plan starts an entry the checker refuses");
            const char *id = json_string_value (json_object_get (entry, "id"));
            if (!id || strlen (id) != SUP_ID_LEN || strspn (id, "0123456789abcdef") != SUP_ID_LEN)
                s_fail ("a started id is not SUP_ID_LEN hex digits");
            for (size_t j = 0; j < i; j++)
                if (strcmp (id, json_string_value (json_object_get (json_array_get (start, j), "id"))) == 0)
                    s_fail ("a plan starts one id twice");
        }
    }
    else {
        if (start || stop)
            s_fail ("a refused plan left results");
        if (rc != SUP_ASSIGN_STALE)
            s_check_why (why);
    }
    json_decref (start);
    json_decref (stop);
    json_decref (held);
    json_decref (body);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data [0] % 2 == 0)
        s_scale (data + 1, size - 1);
    else
        s_assign (data + 1, size - 1);
    return 0;
}
