//  common - what the commands share: options, the app, the call
//
//  The parse of a command's arguments (its own options, the global ones
//  every command takes: --json, --broker, --token, --help, and its
//  operands), which app a command works on, the connection to the broker
//  (CURVE when it is remote), one request and its answer, and the formats
//  of times and users.

#include "cli.h"

#include <assert.h>
#include <errno.h>
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

//  The broker's public key: DYNOD_BROKER_KEY, else the credentials file's
//  `broker_key` (written by `dynod up --join`). Caller owns result; NULL
//  when neither is there.
static char *
s_broker_key (void)
{
    const char *env = getenv ("DYNOD_BROKER_KEY");
    if (env && *env)
        return act_strdup (env);
    const char *base = getenv ("XDG_CONFIG_HOME");
    char *path = base && *base ? act_sprintf ("%s/dynod/credentials", base)
                               : act_sprintf ("%s/.config/dynod/credentials",
                                              getenv ("HOME") ? getenv ("HOME") : "/root");
    json_t *creds = json_load_file (path, 0, NULL);
    free (path);
    json_t *key = json_object_get (creds, "broker_key");
    char *result = json_is_string (key) ? act_strdup (json_string_value (key)) : NULL;
    json_decref (creds);
    return result;
}

//  This user's key file: DYNOD_KEY_FILE, else ~/.config/dynod/key. Caller
//  owns result.
static char *
s_key_file (void)
{
    const char *env = getenv ("DYNOD_KEY_FILE");
    if (env && *env)
        return act_strdup (env);
    const char *base = getenv ("XDG_CONFIG_HOME");
    return base && *base ? act_sprintf ("%s/dynod/key", base)
                         : act_sprintf ("%s/.config/dynod/key", getenv ("HOME") ? getenv ("HOME") : "/root");
}

//  Fills `curve` for a CURVE connection (a broker key known, or a broker
//  that is not loopback). Returns -1 with *use false (NULL security) or
//  true, or an exit code after saying why.
static int
s_curve (cli_t *cli, act_curve_t *curve, char **server_key_p, bool *use)
{
    *server_key_p = s_broker_key ();
    *use = *server_key_p || !act_endpoint_is_loopback (cli->broker);
    if (!*use)
        return -1;
    if (!*server_key_p)
        return cli_fail (cli, CLI_EXIT_NOBROKER, "the broker at %s is not loopback, so it takes CURVE: "
                         "set DYNOD_BROKER_KEY to its public key (`dynod keys` on its host)", cli->broker);
    if (!act_key_valid (*server_key_p))
        return cli_fail (cli, CLI_EXIT_USAGE, "the broker key is not a CURVE public key (40 Z85 characters)");
    curve->server_key = *server_key_p;
    char *path = s_key_file ();
    int rc = act_keypair_load (path, &curve->pair);
    int code = -1;
    if (rc == -ENOENT)
        code = cli_fail (cli, CLI_EXIT_NOBROKER, "no key '%s': create it with `dynod keys --out %s`, "
                         "then have the broker allow it (dynod keys allow KEY --host NAME)", path, path);
    else if (rc)
        code = cli_fail (cli, CLI_EXIT_NOBROKER, "cannot use the key '%s': %s", path,
                         rc == ACT_EPROTO ? "not a key file (public=, secret= lines)" : act_strerror (rc));
    free (path);
    return code;
}

act_client_t *
cli_client_open (cli_t *cli)
{
    act_curve_t curve;
    memset (&curve, 0, sizeof curve);
    char *server_key = NULL;
    bool use = false;
    int rc = 0;
    act_client_t *client = NULL;
    if (s_curve (cli, &curve, &server_key, &use) < 0)
        client = act_client_new_curve (cli->broker, cli->token, "cli", CLI_TIMEOUT_MS,
                                       use ? &curve : NULL, &rc);
    act_keypair_wipe (&curve.pair);
    free (server_key);
    if (client || rc == 0)
        return client;
    if (rc == ACT_EAUTH)
        cli_fail (cli, CLI_EXIT_NOBROKER, "the broker at %s refused the API token or this key", cli->broker);
    else if (use && rc == ACT_ETIMEDOUT)
        cli_fail (cli, CLI_EXIT_NOBROKER, "no CURVE handshake with the broker at %s: is it up, is "
                  "DYNOD_BROKER_KEY its key, and is this key on its allow-list?", cli->broker);
    else
        cli_fail (cli, CLI_EXIT_NOBROKER, "cannot reach the broker at %s: %s", cli->broker, act_strerror (rc));
    return NULL;
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

int
cli_broker_status (cli_t *cli, act_client_t **client_p, json_t **broker_p)
{
    act_client_t *client = cli_client (cli);
    if (!client)
        return CLI_EXIT_NOBROKER;
    msg_t *req = act_client_msg_new (client, MSG_TYPE_BROKER_STATUS, "broker");
    msg_t *reply = NULL;
    int rc = act_client_call (client, &req, CLI_TIMEOUT_MS, &reply);
    if (rc) {
        msg_destroy (&reply);
        return cli_fail (cli, rc == ACT_ETIMEDOUT ? CLI_EXIT_NOBROKER : CLI_EXIT_FAIL,
                         "broker status failed: %s", act_strerror (rc));
    }
    *broker_p = json_incref (reply->body);
    *client_p = client;
    msg_destroy (&reply);
    return 0;
}
