//  assign - checks a dyno.assign and turns it into what to start and stop
//
//  See assign.h.

#include "assign.h"
#include "../../messages/msg.h"
#include "../common/act_base.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define SUP_APP_MIN         3
#define SUP_APP_MAX         30
#define SUP_NAME_MAX        64          // `worker-long-name.100`
#define SUP_SHA_LEN         64
#define SUP_CMD_MAX         16384
#define SUP_ENV_MAX         4096        // bytes of one extra variable's value... and key
#define SUP_MEM_MB_MAX      (1024 * 1024)

static bool
s_hex (const char *s, size_t len)
{
    if (strlen (s) != len)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((s [i] >= '0' && s [i] <= '9') || (s [i] >= 'a' && s [i] <= 'f')))
            return false;
    return true;
}

bool
sup_app_name_ok (const char *app)
{
    size_t len = strlen (app);
    if (len < SUP_APP_MIN || len > SUP_APP_MAX || app [0] < 'a' || app [0] > 'z')
        return false;
    for (size_t i = 1; i < len; i++)
        if (!((app [i] >= 'a' && app [i] <= 'z') || (app [i] >= '0' && app [i] <= '9') || app [i] == '-'))
            return false;
    return true;
}

//  `type.N`: type [a-z][a-z0-9_-]*, N 1..9 digits; also checks it starts
//  with `type`.
static bool
s_name_ok (const char *name, const char *type)
{
    size_t tlen = strlen (type);
    if (strlen (name) > SUP_NAME_MAX || tlen == 0 || type [0] < 'a' || type [0] > 'z')
        return false;
    for (size_t i = 0; i < tlen; i++)
        if (!((type [i] >= 'a' && type [i] <= 'z') || (type [i] >= '0' && type [i] <= '9')
              || type [i] == '_' || type [i] == '-'))
            return false;
    if (strncmp (name, type, tlen) != 0 || name [tlen] != '.')
        return false;
    const char *n = name + tlen + 1;
    size_t nlen = strlen (n);
    if (nlen == 0 || nlen > 9)
        return false;
    for (size_t i = 0; i < nlen; i++)
        if (n [i] < '0' || n [i] > '9')
            return false;
    return true;
}

static bool
s_env_name_ok (const char *key)
{
    if (!*key || strlen (key) > SUP_ENV_MAX || (key [0] >= '0' && key [0] <= '9'))
        return false;
    for (const char *p = key; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return false;
    return true;
}

//  An optional integer field within min..max.
static bool
s_int_ok (const json_t *entry, const char *key, bool required, int64_t min, int64_t max)
{
    const json_t *v = json_object_get (entry, key);
    if (!v)
        return !required;
    return json_is_integer (v) && json_integer_value (v) >= min && json_integer_value (v) <= max;
}

//  A refusal naming `what` (from the message, quoted to stay one line).
static bool
s_fail (char why [SUP_WHY_MAX], const char *fmt, const char *what)
{
    char quoted [SUP_WHY_MAX];
    snprintf (why, SUP_WHY_MAX, fmt, act_quote_line (what, 64, quoted, sizeof quoted));
    return false;
}

static bool
s_slug_ok (const json_t *slug, char why [SUP_WHY_MAX])
{
    if (!slug)
        return true;
    const char *blob = json_string_value (json_object_get (slug, "blob"));
    if (!json_is_object (slug) || !blob || !s_hex (blob, SUP_SHA_LEN))
        return s_fail (why, "%s: slug needs a `blob` of 64 hex digits", "slug");
    if (!s_int_ok (slug, "size", false, 0, INT64_MAX))
        return s_fail (why, "%s: slug size must be a non-negative integer", "slug");
    return true;
}

static bool
s_env_ok (const json_t *env, char why [SUP_WHY_MAX])
{
    if (!env)
        return true;
    if (!json_is_object (env))
        return s_fail (why, "%s must be a map", "env");
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *) env, key, value) {
        if (!s_env_name_ok (key))
            return s_fail (why, "env: '%.200s' is not a valid variable name", key);
        if (!json_is_string (value))
            return s_fail (why, "env: %.200s must be a string", key);
    }
    return true;
}

bool
sup_assign_entry_ok (const json_t *entry, char why [SUP_WHY_MAX])
{
    if (!json_is_object (entry))
        return s_fail (why, "%s: each dyno must be a map", "dynos");
    const char *id = json_string_value (json_object_get (entry, "id"));
    const char *name = json_string_value (json_object_get (entry, "name"));
    const char *type = json_string_value (json_object_get (entry, "type"));
    const char *command = json_string_value (json_object_get (entry, "command"));
    if (!id || !s_hex (id, SUP_ID_LEN))
        return s_fail (why, "%s: a dyno id must be 16 hex digits", "id");
    if (!type || !name || !s_name_ok (name, type))
        return s_fail (why, "dyno %s: name must be TYPE.N of its type", id);
    if (!command || !*command || strlen (command) > SUP_CMD_MAX)
        return s_fail (why, "dyno %s: command must be a non-empty string", id);
    if (!s_int_ok (entry, "mem_mb", true, 1, SUP_MEM_MB_MAX)
    ||  !s_int_ok (entry, "procs_max", false, 0, INT32_MAX)
    ||  !s_int_ok (entry, "release", true, 0, INT32_MAX)
    ||  !s_int_ok (entry, "config_version", false, 0, INT32_MAX)
    ||  !s_int_ok (entry, "boot_timeout_ms", false, 1, INT32_MAX)
    ||  !s_int_ok (entry, "cols", false, 0, 65535) || !s_int_ok (entry, "rows", false, 0, 65535))
        return s_fail (why, "dyno %s: mem_mb, release, procs_max, config_version, boot_timeout_ms, "
                       "cols or rows out of range", id);
    if (!s_slug_ok (json_object_get (entry, "slug"), why) || !s_env_ok (json_object_get (entry, "env"), why))
        return false;
    const json_t *attach = json_object_get (entry, "attach");
    char n [MSG_ADDR_MAX], i [MSG_ADDR_MAX];
    if (attach && (!json_is_string (attach) || msg_addr_split (json_string_value (attach), n, i) || !i [0]))
        return s_fail (why, "dyno %s: attach must be an address name@instance", id);
    const json_t *health = json_object_get (entry, "healthcheck");
    if (health && (!json_is_string (health) || (json_string_length (health) && json_string_value (health) [0] != '/')
                   || strpbrk (json_string_value (health), " \r\n")))
        return s_fail (why, "dyno %s: healthcheck must be an absolute path", id);
    return true;
}

int
sup_assign_plan (const json_t *body, int64_t applied, const json_t *held, json_t **start_p,
                 json_t **stop_p, char why [SUP_WHY_MAX])
{
    *start_p = *stop_p = NULL;
    const char *app = json_string_value (json_object_get (body, "app"));
    const json_t *dynos = json_object_get (body, "dynos");
    const json_t *epoch = json_object_get (body, "epoch");
    if (!app || !sup_app_name_ok (app))
        return s_fail (why, "'%.64s' is not a valid app name", app ? app : ""), -EINVAL;
    if (!json_is_array (dynos) || !json_is_integer (epoch) || json_integer_value (epoch) < 0)
        return s_fail (why, "%s: dynos must be an array and epoch a non-negative integer", "dyno.assign"),
               -EINVAL;
    json_t *ids = json_object ();
    size_t k;
    json_t *entry;
    json_array_foreach (dynos, k, entry) {
        if (!sup_assign_entry_ok (entry, why)) {
            json_decref (ids);
            return -EINVAL;
        }
        const char *id = json_string_value (json_object_get (entry, "id"));
        if (json_object_get (ids, id)) {
            json_decref (ids);
            return s_fail (why, "dyno id %s is listed twice", id), -EINVAL;
        }
        json_object_set_new (ids, id, json_true ());
    }
    if (json_integer_value (epoch) < applied) {
        json_decref (ids);
        return SUP_ASSIGN_STALE;
    }
    json_t *have = json_object (), *start = json_array (), *stop = json_array ();
    json_t *id;
    json_array_foreach (held, k, id)
        json_object_set (have, json_string_value (id), json_true ());
    json_array_foreach (dynos, k, entry)
        if (!json_object_get (have, json_string_value (json_object_get (entry, "id"))))
            json_array_append (start, entry);
    json_array_foreach (held, k, id)
        if (!json_object_get (ids, json_string_value (id)))
            json_array_append (stop, id);
    json_decref (have);
    json_decref (ids);
    *start_p = start;
    *stop_p = stop;
    return 0;
}
