//  dyno config, config:get, config:set, config:unset - an app's config vars
//
//  config and config:get ask config-keeper for the current vars
//  (config.get) and print them. config:set and config:unset send one
//  durable config.set / config.unset, all the vars of the command in it,
//  so one command makes one config version and one release: config-keeper
//  checks it (answering `error` when a name or the size is wrong, nothing
//  changed) and asks release-keeper for the release, which answers this
//  command directly with its `release.info`.
//
//  Output: `KEY: value` lines (keys sorted, values aligned, bytes as they
//  are); --shell prints `KEY='value'` lines that `eval` turns back into
//  the exact values (any byte but NUL); --json prints JSON, where the bytes
//  of a value that is not UTF-8 show as U+FFFD (use --shell for the bytes).

#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_ACTOR        "config-keeper"
//  A set or unset is answered once release-keeper has cut the release.
#define CONFIG_RELEASE_TIMEOUT_MS  10000
#define CONFIG_REPLACEMENT  "\xef\xbf\xbd"      // U+FFFD in UTF-8

//  -s/--shell, which config and config:get take and config:set and
//  config:unset refuse.
static const cli_option_t s_shell [] = {
    { "shell", 's', 0 },
    { NULL, 0, 0 },
};
static const cli_option_t s_no_shell [] = {
    { "shell", 's', CLI_OPT_REFUSED },
    { NULL, 0, 0 },
};

//  -s/--shell into `data` (bool *).
static int
s_shell_option (cli_t *cli, int key, const char *arg, void *data)
{
    (void) cli;
    (void) key;
    (void) arg;
    *(bool *) data = true;
    return -1;
}

static int
s_check_shell (cli_t *cli, int argc, char **argv, void *data)
{
    (void) argc;
    (void) argv;
    if (*(bool *) data && cli->json)
        return cli_fail (cli, CLI_EXIT_USAGE, "--shell and --json do not go together");
    return -1;
}

// ---------------------------------------------------------------------------
//  Output

//  Length of the valid UTF-8 character at `s` (`len` bytes left), or 0
//  when the bytes there are not one.
static size_t
s_utf8_char (const unsigned char *s, size_t len)
{
    size_t n;
    uint32_t cp;
    if (s [0] < 0x80)
        return 1;
    else if (s [0] >= 0xc2 && s [0] <= 0xdf)
        n = 2, cp = s [0] & 0x1f;
    else if (s [0] >= 0xe0 && s [0] <= 0xef)
        n = 3, cp = s [0] & 0x0f;
    else if (s [0] >= 0xf0 && s [0] <= 0xf4)
        n = 4, cp = s [0] & 0x07;
    else
        return 0;
    if (n > len)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s [i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s [i] & 0x3f);
    }
    //  Overlong forms, UTF-16 surrogates, past U+10FFFF.
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || (cp >= 0xd800 && cp <= 0xdfff)
        || cp > 0x10ffff)
        return 0;
    return n;
}

//  `value` as a JSON string JSON text can hold: each byte that is not part
//  of a valid UTF-8 character becomes U+FFFD. Caller owns result.
static json_t *
s_json_text (const json_t *value)
{
    const unsigned char *s = (const unsigned char *) json_string_value (value);
    size_t len = json_string_length (value);
    char *out = act_malloc (len * 3 + 1);
    size_t used = 0;
    for (size_t i = 0; i < len;) {
        size_t n = s_utf8_char (s + i, len - i);
        if (n) {
            memcpy (out + used, s + i, n);
            used += n;
            i += n;
        }
        else {
            memcpy (out + used, CONFIG_REPLACEMENT, 3);
            used += 3;
            i++;
        }
    }
    json_t *text = json_stringn (out, used);
    free (out);
    return text;
}

//  Prints `vars` (KEY -> string) as a JSON map.
static void
s_print_json_safe (const json_t *vars)
{
    json_t *safe = json_object ();
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *) vars, key, value)
        json_object_set_new (safe, key, s_json_text (value));
    cli_print_json (safe);
    json_decref (safe);
}

static void
s_print_value (const json_t *value)
{
    fwrite (json_string_value (value), 1, json_string_length (value), stdout);
}

//  KEY='value', each ' in the value written '\'' so a POSIX shell reads
//  back exactly the bytes.
static void
s_print_shell (const char *key, const json_t *value)
{
    const char *s = json_string_value (value);
    size_t len = json_string_length (value);
    printf ("%s='", key);
    for (size_t i = 0; i < len; i++) {
        if (s [i] == '\'')
            fputs ("'\\''", stdout);
        else
            putchar (s [i]);
    }
    fputs ("'\n", stdout);
}

static int
s_by_name (const void *a, const void *b)
{
    return strcmp (*(const char *const *) a, *(const char *const *) b);
}

//  The keys of `vars` (borrowed), sorted when `sort`; NULL-terminated.
//  Caller owns the array.
static const char **
s_keys (const json_t *vars, bool sort)
{
    size_t n = json_object_size (vars), i = 0;
    const char **keys = act_calloc (n + 1, sizeof *keys);
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *) vars, key, value)
        keys [i++] = key;
    if (sort)
        qsort (keys, n, sizeof *keys, s_by_name);
    return keys;
}

//  `KEY: value` lines, values aligned as Heroku does; --shell form when
//  `shell`.
static void
s_print_vars (const json_t *vars, bool sort, bool shell)
{
    const char **keys = s_keys (vars, sort);
    int width = 0;
    for (size_t i = 0; keys [i]; i++)
        if ((int) strlen (keys [i]) + 1 > width)
            width = (int) strlen (keys [i]) + 1;
    for (size_t i = 0; keys [i]; i++) {
        const json_t *value = json_object_get (vars, keys [i]);
        if (shell)
            s_print_shell (keys [i], value);
        else {
            printf ("%s:%*s ", keys [i], width - (int) strlen (keys [i]) - 1, "");
            s_print_value (value);
            putchar ('\n');
        }
    }
    free (keys);
}

//  `FOO, BAR`: the keys of `vars` in their order. Caller owns result.
static char *
s_key_list (const json_t *vars)
{
    const char **keys = s_keys (vars, false);
    size_t len = 1;
    for (size_t i = 0; keys [i]; i++)
        len += strlen (keys [i]) + 2;
    char *list = act_calloc (len, 1);
    for (size_t i = 0; keys [i]; i++) {
        if (i)
            strcat (list, ", ");
        strcat (list, keys [i]);
    }
    free (keys);
    return list;
}

// ---------------------------------------------------------------------------
//  Requests

//  config.get for `app`: *reply_p set (caller owns it) on CLI_EXIT_OK.
static int
s_fetch (cli_t *cli, const char *app, msg_t **reply_p)
{
    msg_t *req = cli_app_request (cli, MSG_TYPE_CONFIG_GET, CONFIG_ACTOR, "app", app);
    return req ? cli_call (cli, CONFIG_ACTOR, &req, CLI_TIMEOUT_MS, reply_p) : CLI_EXIT_NOBROKER;
}

//  Sends a durable `type` for `app` with `field`: `value` (borrowed) and
//  who asks, then prints `VERB KEYS and restarting APP... done, vN` from
//  release-keeper's answer (KEYS: those of `keys_of`, in order), and
//  `shown` (the vars set, or NULL).
static int
s_change (cli_t *cli, msg_type_id_t type, const char *app, const char *field, json_t *value,
          const char *verb, const json_t *keys_of, const json_t *shown)
{
    msg_t *req = cli_app_request (cli, type, CONFIG_ACTOR, "app", app);
    if (!req)
        return CLI_EXIT_NOBROKER;
    req->durable = true;
    msg_set_json (req, field, json_incref (value));
    msg_set_str (req, "by", cli_user ());
    msg_t *reply;
    int code = cli_call (cli, CONFIG_ACTOR, &req, CONFIG_RELEASE_TIMEOUT_MS, &reply);
    if (code)
        return code;
    if (cli->json)
        cli_print_json (reply->body);
    else {
        char *list = s_key_list (keys_of);
        printf ("%s %s and restarting %s... done, v%lld\n", verb, list, app,
                (long long) msg_int (reply, "version", 0));
        free (list);
        if (shown)
            s_print_vars (shown, false, false);
    }
    msg_destroy (&reply);
    return CLI_EXIT_OK;
}

// ---------------------------------------------------------------------------
//  Commands

int
cli_cmd_config (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno config [-a APP] [--shell] [--json]\n"
                 "Shows the app's config vars: `KEY: value` lines, keys sorted.\n"
                 "  -s, --shell  KEY='value' lines: eval \"$(dyno config --shell)\" sets them\n"
                 "  --json       a JSON map (bytes that are not UTF-8 show as U+FFFD)\n"
                 CLI_USAGE_APP,
        .takes_app = true,
        .app_first = true,
        .options = s_shell,
        .option = s_shell_option,
        .check = s_check_shell,
    };
    bool shell = false;
    char *app;
    int code = cli_parse (cli, argc, argv, &spec, &shell, &app);
    if (code >= 0)
        return code;
    msg_t *reply;
    code = s_fetch (cli, app, &reply);
    if (code == CLI_EXIT_OK) {
        const json_t *vars = json_object_get (reply->body, "vars");
        if (cli->json)
            s_print_json_safe (vars);
        else {
            if (!shell)
                printf ("=== %s Config Vars\n", app);
            s_print_vars (vars, true, shell);
        }
        msg_destroy (&reply);
    }
    free (app);
    return code;
}

int
cli_cmd_config_get (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno config:get KEY [-a APP] [--shell] [--json]\n"
                 "Prints the value of one config var as it is, then a newline; nothing when\n"
                 "KEY is not set (exit 0 all the same, like Heroku).\n"
                 "  -s, --shell  KEY='value', quoted for a POSIX shell\n"
                 "  --json       the value as a JSON string, or null when not set\n"
                 CLI_USAGE_APP,
        .takes_app = true,
        .app_first = true,
        .options = s_shell,
        .option = s_shell_option,
        .check = s_check_shell,
        .min_operands = 1,
        .max_operands = 1,
        .too_few = "which config var? (dyno config:get KEY)",
    };
    bool shell = false;
    char *app;
    int code = cli_parse (cli, argc, argv, &spec, &shell, &app);
    if (code >= 0)
        return code;
    const char *key = argv [optind];
    msg_t *reply;
    code = s_fetch (cli, app, &reply);
    free (app);
    if (code)
        return code;
    const json_t *value = json_object_get (json_object_get (reply->body, "vars"), key);
    if (cli->json) {
        json_t *text = value ? s_json_text (value) : json_null ();
        char *out = json_dumps (text, JSON_ENCODE_ANY);
        puts (out);
        free (out);
        json_decref (text);
    }
    else if (value && shell)
        s_print_shell (key, value);
    else if (value) {
        s_print_value (value);
        putchar ('\n');
    }
    msg_destroy (&reply);
    return CLI_EXIT_OK;
}

int
cli_cmd_config_set (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno config:set KEY=VALUE [KEY2=VALUE2 ...] [-a APP] [--json]\n"
                 "Sets config vars, all in one new release (the app restarts). Each argument\n"
                 "splits at its first '='; KEY= sets the empty string. Names are\n"
                 "[A-Za-z_][A-Za-z0-9_]*, not starting with __ or DYNOD_; values any bytes\n"
                 "but NUL; all keys and values of the app together at most 64 kB.\n"
                 "--json prints the release made.\n"
                 CLI_USAGE_APP,
        .takes_app = true,
        .app_first = true,
        .options = s_no_shell,
        .min_operands = 1,
        .max_operands = CLI_OPERANDS_ANY,
        .too_few = "nothing to set (dyno config:set KEY=VALUE ...)",
    };
    char *app;
    int code = cli_parse (cli, argc, argv, &spec, NULL, &app);
    if (code >= 0)
        return code;
    json_t *vars = json_object ();
    for (int i = optind; i < argc && code < 0; i++) {
        char *eq = strchr (argv [i], '=');
        if (!eq) {
            code = cli_fail (cli, CLI_EXIT_USAGE, "'%s' is not KEY=VALUE", argv [i]);
            break;
        }
        char *key = act_strndup (argv [i], (size_t) (eq - argv [i]));
        //  jansson keys must be UTF-8; such a name is not valid anyway.
        if (json_object_set_new (vars, key, json_stringn_nocheck (eq + 1, strlen (eq + 1))))
            code = cli_fail (cli, CLI_EXIT_FAIL,
                             "'%s' is not a valid config var name: only letters, digits and "
                             "'_' are allowed", key);
        free (key);
    }
    if (code < 0)
        code = s_change (cli, MSG_TYPE_CONFIG_SET, app, "vars", vars, "Setting", vars, vars);
    json_decref (vars);
    free (app);
    return code;
}

int
cli_cmd_config_unset (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno config:unset KEY [KEY2 ...] [-a APP] [--json]\n"
                 "Removes config vars, all in one new release (the app restarts); a name\n"
                 "that is not set is no error. --json prints the release made.\n"
                 CLI_USAGE_APP,
        .takes_app = true,
        .app_first = true,
        .options = s_no_shell,
        .min_operands = 1,
        .max_operands = CLI_OPERANDS_ANY,
        .too_few = "nothing to unset (dyno config:unset KEY ...)",
    };
    char *app;
    int code = cli_parse (cli, argc, argv, &spec, NULL, &app);
    if (code >= 0)
        return code;
    json_t *keys = json_array ();
    json_t *named = json_object ();         // the keys in order, once each
    for (int i = optind; i < argc && code < 0; i++) {
        json_t *key = json_string (argv [i]);
        if (!key) {
            code = cli_fail (cli, CLI_EXIT_FAIL,
                             "'%s' is not a valid config var name: only letters, digits and "
                             "'_' are allowed", argv [i]);
            break;
        }
        json_array_append_new (keys, key);
        json_object_set_new (named, argv [i], json_null ());
    }
    if (code < 0)
        code = s_change (cli, MSG_TYPE_CONFIG_UNSET, app, "keys", keys, "Unsetting", named, NULL);
    json_decref (keys);
    json_decref (named);
    free (app);
    return code;
}
