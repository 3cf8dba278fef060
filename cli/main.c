//  dyno - the command-line client
//
//  Usage: dyno [--broker EP] [--token T] [--json] COMMAND [ARGS]
//  The broker and token come from --broker/--token, else DYNOD_BROKER /
//  DYNOD_API_TOKEN, else the credentials file `dynod up` writes under
//  ${XDG_CONFIG_HOME:-$HOME/.config}/dynod/credentials.

#include "cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    int (*run) (cli_t *cli, int argc, char **argv);
    const char *summary;
} cli_command_t;

static const cli_command_t s_commands [] = {
    { "status", cli_cmd_status, "show the broker and every actor: state, uptime, traffic, journal head" },
    { "ping",   cli_cmd_ping,   "check that an actor or the broker answers (optionally through the journal)" },
    { "hosts",  cli_cmd_hosts,  "list the hosts: actors, dynos, memory used/free, last heartbeat" },
    { "apps",         cli_cmd_apps,         "list the apps" },
    { "apps:create",  cli_cmd_apps_create,  "create an app (NAME, or a random one) for this directory" },
    { "apps:info",    cli_cmd_apps_info,    "show an app: created, by, releases" },
    { "apps:destroy", cli_cmd_apps_destroy, "destroy an app (--confirm APP)" },
    { "deploy",           cli_cmd_deploy,           "build and release a folder, git work tree or .tar.gz" },
    { "buildpacks",       cli_cmd_buildpacks,       "list an app's buildpacks" },
    { "buildpacks:set",   cli_cmd_buildpacks_set,   "set an app's buildpacks (folders or .tar.gz)" },
    { "buildpacks:clear", cli_cmd_buildpacks_clear, "go back to the built-in buildpack" },
    { "config",         cli_cmd_config,         "show an app's config vars (--shell: KEY='value' lines)" },
    { "config:get",     cli_cmd_config_get,     "print one config var's value" },
    { "config:set",     cli_cmd_config_set,     "set config vars KEY=VALUE ... (one release)" },
    { "config:unset",   cli_cmd_config_unset,   "remove config vars KEY ... (one release)" },
    { "releases",      cli_cmd_releases,      "list an app's releases, newest first" },
    { "releases:info", cli_cmd_releases_info, "show one release: change, by, when, config, slug" },
    { "rollback",      cli_cmd_rollback,      "make a new release with an earlier release's code and config" },
    { "logs",          cli_cmd_logs,          "show an app's newest log lines (--tail: follow them)" },
    { "logs:token",    cli_cmd_logs_token,    "print an app's read-only log token" },
    { "drains",        cli_cmd_drains,        "list an app's log drains" },
    { "drains:add",    cli_cmd_drains_add,    "send an app's log lines to a syslog or https drain" },
    { "drains:remove", cli_cmd_drains_remove, "stop sending an app's log lines to a drain" },
    { "ps",                cli_cmd_ps,                "list an app's dynos by process type" },
    { "ps:scale",          cli_cmd_ps_scale,          "scale dynos: web=3 worker+1 web=2:standard-2x" },
    { "ps:type",           cli_cmd_ps_type,           "show or set process types' dyno sizes" },
    { "ps:restart",        cli_cmd_ps_restart,        "restart every dyno, one type's or one dyno" },
    { "ps:stop",           cli_cmd_ps_stop,           "stop a dyno (a formation dyno comes back)" },
    { "run",               cli_cmd_run,               "run a command in a one-off dyno attached here" },
    { "run:detached",      cli_cmd_run_detached,      "run a command in a one-off dyno, output to logs" },
    { "features",          cli_cmd_features,          "list an app's features (preboot)" },
    { "features:enable",   cli_cmd_features_enable,   "turn an app feature on" },
    { "features:disable",  cli_cmd_features_disable,  "turn an app feature off" },
    { "healthcheck:set",   cli_cmd_healthcheck_set,   "make web dynos pass GET PATH before they are up" },
    { "healthcheck:clear", cli_cmd_healthcheck_clear, "remove the web health check" },
    { "certs",             cli_cmd_certs,             "list an app's SSL certificates" },
    { "certs:add",         cli_cmd_certs_add,         "add an SSL certificate and key (PEM files) to an app" },
    { "certs:remove",      cli_cmd_certs_remove,      "remove an app's SSL certificate" },
    { "certs:info",        cli_cmd_certs_info,        "show one of an app's SSL certificates" },
    { "domains",           cli_cmd_domains,           "list an app's domains and their DNS targets" },
    { "domains:add",       cli_cmd_domains_add,       "add a custom domain (www.example.com) to an app" },
    { "domains:remove",    cli_cmd_domains_remove,    "remove a custom domain from an app" },
    { "domains:clear",     cli_cmd_domains_clear,     "remove every custom domain of an app" },
    { "maintenance",       cli_cmd_maintenance,       "show whether an app is in maintenance mode" },
    { "maintenance:on",    cli_cmd_maintenance_on,    "serve a 503 maintenance page (H80) for an app" },
    { "maintenance:off",   cli_cmd_maintenance_off,   "take an app out of maintenance mode" },
    { "certs:auto",        cli_cmd_certs_auto,        "show Automatic Certificate Management: status per domain" },
    { "certs:auto:enable", cli_cmd_certs_auto_enable, "order and renew certificates for custom domains (ACME)" },
    { "certs:auto:disable", cli_cmd_certs_auto_disable, "stop ordering certificates automatically" },
};

static void
s_usage (FILE *out)
{
    fprintf (out, "usage: dyno [--broker EP] [--token T] [--json] COMMAND [ARGS]\n\ncommands:\n");
    //  The command column as wide as the longest name, so every row lines up.
    size_t count = sizeof s_commands / sizeof s_commands [0], width = 0;
    for (size_t i = 0; i < count; i++)
        if (strlen (s_commands [i].name) > width)
            width = strlen (s_commands [i].name);
    for (size_t i = 0; i < count; i++)
        fprintf (out, "  %-*s %s\n", (int) width, s_commands [i].name, s_commands [i].summary);
    fprintf (out, "\nEvery command takes --help and --json. Exit codes: 0 ok, 1 failure, 2 usage\n"
                  "error, 3 cannot reach the broker.\n");
}

int
cli_fail (cli_t *cli, int code, const char *fmt, ...)
{
    char line [1024];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (line, sizeof line, fmt, ap);
    va_end (ap);
    fprintf (stderr, "dyno %s: %s\n", cli->command ? cli->command : "", line);
    return code;
}

void
cli_print_json (const json_t *value)
{
    char *text = json_dumps (value, JSON_INDENT (2) | JSON_SORT_KEYS);
    puts (text);
    free (text);
}

void
cli_format_duration (int64_t ms, char *out, size_t len)
{
    int64_t s = ms / 1000;
    if (s < 60)
        snprintf (out, len, "%llds", (long long) s);
    else if (s < 3600)
        snprintf (out, len, "%lldm%02llds", (long long) (s / 60), (long long) (s % 60));
    else if (s < 86400)
        snprintf (out, len, "%lldh%02lldm", (long long) (s / 3600), (long long) (s % 3600 / 60));
    else
        snprintf (out, len, "%lldd%02lldh", (long long) (s / 86400), (long long) (s % 86400 / 3600));
}

//  Fills broker and token from the environment and the credentials file.
static void
s_credentials (cli_t *cli)
{
    if (!cli->broker && getenv ("DYNOD_BROKER"))
        cli->broker = act_strdup (getenv ("DYNOD_BROKER"));
    if (!cli->token && getenv ("DYNOD_API_TOKEN"))
        cli->token = act_strdup (getenv ("DYNOD_API_TOKEN"));
    if (cli->broker && cli->token)
        return;
    const char *base = getenv ("XDG_CONFIG_HOME");
    char *path = base && *base ? act_sprintf ("%s/dynod/credentials", base)
                               : act_sprintf ("%s/.config/dynod/credentials", getenv ("HOME") ? getenv ("HOME") : "/root");
    json_t *creds = json_load_file (path, 0, NULL);
    free (path);
    if (!cli->broker && json_is_string (json_object_get (creds, "broker")))
        cli->broker = act_strdup (json_string_value (json_object_get (creds, "broker")));
    if (!cli->token && json_is_string (json_object_get (creds, "token")))
        cli->token = act_strdup (json_string_value (json_object_get (creds, "token")));
    json_decref (creds);
    if (!cli->broker)
        cli->broker = act_strdup ("tcp://127.0.0.1:7700");
}

act_client_t *
cli_client (cli_t *cli)
{
    if (cli->client)
        return cli->client;
    s_credentials (cli);
    if (!cli->token) {
        cli_fail (cli, CLI_EXIT_NOBROKER, "no API token: run `dynod up`, or set DYNOD_API_TOKEN or --token");
        return NULL;
    }
    cli->client = cli_client_open (cli);
    return cli->client;
}

//  Parses the global options, those before the command; "+" stops getopt
//  at the first non-option, the command, which parses the rest (and takes
//  --json/--broker/--token too). Returns the command's index in argv, or
//  -1 after --help, or -2 on a usage error (getopt printed why).
static int
s_global_options (cli_t *cli, int argc, char **argv)
{
    static const struct option opts [] = {
        { "json", no_argument, NULL, 'j' },
        { "broker", required_argument, NULL, 'b' },
        { "token", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long (argc, argv, "+h", opts, NULL)) != -1) {
        switch (c) {
            case 'j': cli->json = true; break;
            case 'b': free (cli->broker); cli->broker = act_strdup (optarg); break;
            case 't': free (cli->token); cli->token = act_strdup (optarg); break;
            case 'h': s_usage (stdout); return -1;
            default: return -2;
        }
    }
    return optind;
}

int
main (int argc, char **argv)
{
    act_log_init ("dyno");
    cli_t cli = { 0 };
    //  getopt names argv[0] in its messages.
    argv [0] = "dyno";
    int i = s_global_options (&cli, argc, argv);
    int code = -1;
    if (i == -1)
        code = CLI_EXIT_OK;
    else if (i < 0)
        code = CLI_EXIT_USAGE;
    else if (i >= argc) {
        s_usage (stderr);
        code = CLI_EXIT_USAGE;
    }
    for (size_t k = 0; code < 0 && k < sizeof s_commands / sizeof s_commands [0]; k++)
        if (strcmp (argv [i], s_commands [k].name) == 0) {
            cli.command = s_commands [k].name;
            //  getopt names the command in its messages: `dyno status`.
            char *name = act_sprintf ("dyno %s", argv [i]);
            argv [i] = name;
            code = s_commands [k].run (&cli, argc - i, argv + i);
            free (name);
        }
    if (code < 0) {
        fprintf (stderr, "dyno: unknown command '%s' (see dyno --help)\n", argv [i]);
        code = CLI_EXIT_USAGE;
    }
    act_client_destroy (&cli.client);
    free (cli.broker);
    free (cli.token);
    return code;
}
