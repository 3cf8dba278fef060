//  common - what the commands share: options, the app, the call
//
//  The parse of a command's arguments (its own options, the global ones
//  every command takes: --json, --broker, --token, --help, and its
//  operands), which app a command works on, one request and its answer,
//  and the formats of times and users.

#include "cli.h"

#include <assert.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

//  -a/--app, and the options every command takes.
static const cli_option_t s_app [] = {
    { "app", 'a', CLI_OPT_ARG },
    { NULL, 0, 0 },
};
static const cli_option_t s_common [] = {
    { "json", 'j', 0 },
    { "broker", 'b', CLI_OPT_ARG },
    { "token", 't', CLI_OPT_ARG },
    { "help", 'h', 0 },
    { NULL, 0, 0 },
};

#define CLI_OPTIONS_MAX     16      // the app's, a command's and the common ones

//  Adds `table` to the getopt_long tables `longs` (*n_p used) and `shorts`.
static void
s_add_options (const cli_option_t *table, struct option *longs, size_t *n_p, char *shorts)
{
    for (; table && table->name; table++) {
        assert (*n_p < CLI_OPTIONS_MAX);
        bool arg = table->flags & CLI_OPT_ARG;
        longs [(*n_p)++] = (struct option) {
            table->name, arg ? required_argument : no_argument, NULL, table->key
        };
        if (!(table->flags & CLI_OPT_LONG_ONLY)) {
            size_t len = strlen (shorts);
            shorts [len++] = table->key;
            if (arg)
                shorts [len++] = ':';
            shorts [len] = 0;
        }
    }
}

static const cli_option_t *
s_find_option (const cli_option_t *table, int key)
{
    for (; table && table->name; table++)
        if (table->key == key)
            return table;
    return NULL;
}

//  A common option getopt returned (`c` one of j b t h, `arg` its value),
//  or '?' after printing why. Returns -1 to go on, or the exit code to stop
//  with (after printing `usage` for -h).
static int
s_common_option (cli_t *cli, int c, const char *arg, const char *usage)
{
    switch (c) {
        case 'j': cli->json = true; return -1;
        case 'b': free (cli->broker); cli->broker = act_strdup (arg); return -1;
        case 't': free (cli->token); cli->token = act_strdup (arg); return -1;
        case 'h': fputs (usage, stdout); return CLI_EXIT_OK;
        default: return CLI_EXIT_USAGE;
    }
}

//  Between spec's min and max operands from optind on? Returns -1, or
//  CLI_EXIT_USAGE after saying why.
static int
s_count_operands (cli_t *cli, int argc, char **argv, const cli_spec_t *spec)
{
    int n = argc - optind;
    if (n < spec->min_operands)
        return cli_fail (cli, CLI_EXIT_USAGE, "%s", spec->too_few);
    if (spec->max_operands != CLI_OPERANDS_ANY && n > spec->max_operands)
        return cli_fail (cli, CLI_EXIT_USAGE, "unexpected argument '%s'",
                         argv [optind + spec->max_operands]);
    return -1;
}

int
cli_parse (cli_t *cli, int argc, char **argv, const cli_spec_t *spec, void *data, char **app_p)
{
    if (app_p)
        *app_p = NULL;
    struct option longs [CLI_OPTIONS_MAX + 1];
    char shorts [2 * CLI_OPTIONS_MAX + 1] = "";
    size_t n = 0;
    if (spec->takes_app)
        s_add_options (s_app, longs, &n, shorts);
    s_add_options (spec->options, longs, &n, shorts);
    s_add_options (s_common, longs, &n, shorts);
    longs [n] = (struct option) { NULL, 0, NULL, 0 };

    const char *given = NULL;           // -a, borrowed from argv
    int c;
    //  0, not 1: glibc then also forgets the "+" of main's global parse.
    optind = 0;
    while ((c = getopt_long (argc, argv, shorts, longs, NULL)) != -1) {
        const cli_option_t *own = s_find_option (spec->options, c);
        int code = -1;
        if (c == 'a' && spec->takes_app)
            given = optarg;
        else if (own && (own->flags & CLI_OPT_REFUSED))
            code = cli_fail (cli, CLI_EXIT_USAGE, "this command takes no --%s", own->name);
        else if (own)
            code = spec->option (cli, c, optarg, data);
        else
            code = s_common_option (cli, c, optarg, spec->usage);
        if (code >= 0)
            return code;
    }
    int code;
    if (spec->check && (code = spec->check (cli, argc, argv, data)) >= 0)
        return code;
    if (!spec->app_first && (code = s_count_operands (cli, argc, argv, spec)) >= 0)
        return code;
    if (spec->takes_app && (code = cli_resolve_app (cli, given, app_p)) != 0)
        return code;
    if (spec->app_first && (code = s_count_operands (cli, argc, argv, spec)) >= 0) {
        if (app_p) {
            free (*app_p);
            *app_p = NULL;
        }
        return code;
    }
    return -1;
}

int
cli_resolve_app (cli_t *cli, const char *given, char **app_p)
{
    *app_p = NULL;
    if (given)
        *app_p = act_strdup (given);
    else if (getenv ("DYNOD_APP") && *getenv ("DYNOD_APP"))
        *app_p = act_strdup (getenv ("DYNOD_APP"));
    else {
        char cwd [PATH_MAX];
        if (getcwd (cwd, sizeof cwd))
            *app_p = cli_records_find (cwd);
    }
    if (*app_p)
        return 0;
    return cli_fail (cli, CLI_EXIT_USAGE,
                     "no app: pass -a APP, set DYNOD_APP, or run this in the directory of an app");
}

msg_t *
cli_app_request (cli_t *cli, msg_type_id_t type, const char *actor, const char *key,
                 const char *app)
{
    act_client_t *client = cli_client (cli);
    if (!client)
        return NULL;
    msg_t *req = act_client_msg_new (client, type, actor);
    msg_set_str (req, key, app);
    return req;
}

int
cli_call (cli_t *cli, const char *actor, msg_t **req_p, int timeout_ms, msg_t **reply_p)
{
    *reply_p = NULL;
    act_client_t *client = cli_client (cli);
    if (!client) {
        msg_destroy (req_p);
        return CLI_EXIT_NOBROKER;
    }
    bool durable = (*req_p)->durable;
    int rc = act_client_call (client, req_p, timeout_ms, reply_p);
    if (rc == 0)
        return CLI_EXIT_OK;
    int code;
    if (*reply_p)
        code = cli_fail (cli, CLI_EXIT_FAIL, "%s", msg_str (*reply_p, "reason", act_strerror (rc)));
    else if (durable && rc == ACT_ETIMEDOUT)
        code = cli_fail (cli, CLI_EXIT_FAIL, "no answer from %s within %d s; if the broker "
                         "journaled the request it is applied when %s is back",
                         actor, timeout_ms / 1000, actor);
    else
        code = cli_fail (cli, CLI_EXIT_FAIL, "no answer from %s: %s", actor, act_strerror (rc));
    msg_destroy (reply_p);
    return code;
}

void
cli_format_time (int64_t ms, char *out, size_t len)
{
    time_t t = (time_t) (ms / 1000);
    struct tm tm;
    if (!gmtime_r (&t, &tm) || !strftime (out, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf (out, len, "?");
}

const char *
cli_user (void)
{
    const char *user = getenv ("DYNOD_USER");
    if (user && *user)
        return user;
    struct passwd *pw = getpwuid (getuid ());
    if (pw && pw->pw_name)
        return pw->pw_name;
    return getenv ("USER") ? getenv ("USER") : "";
}
