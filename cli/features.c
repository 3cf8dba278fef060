//  dyno features, features:enable, features:disable, healthcheck:set,
//  healthcheck:clear - an app's features and web health check (scheduler)
//
//  The only feature is `preboot` (new web dynos start before the old ones
//  stop on a new release). The health check path makes a web dyno count
//  as up only after 3 answers in a row of 2xx/3xx on GET PATH. Changes
//  are durable requests; errors are one line, exit 1.

#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FEATURES_ACTOR  "scheduler"

static const char *
s_str (const json_t *obj, const char *key)
{
    const char *value = json_string_value (json_object_get (obj, key));
    return value ? value : "";
}

static void
s_print_features (const char *app, const json_t *features)
{
    printf ("=== App Features (%s)\n", app);
    size_t i;
    json_t *feature;
    json_array_foreach (features, i, feature)
        printf ("[%s] %-10s %s\n", json_is_true (json_object_get (feature, "enabled")) ? "+" : " ",
                s_str (feature, "name"), s_str (feature, "description"));
}

int
cli_cmd_features (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno features [-a APP] [--json]\n"
                 "Lists an app's features ([+] enabled): preboot.\n"
                 CLI_USAGE_APP,
        .takes_app = true,
    };
    char *app;
    int code = cli_parse (cli, argc, argv, &spec, NULL, &app);
    if (code >= 0)
        return code;
    msg_t *req = cli_app_request (cli, MSG_TYPE_FEATURE_LIST, FEATURES_ACTOR, "app", app);
    msg_t *reply = NULL;
    code = req ? cli_call (cli, FEATURES_ACTOR, &req, CLI_TIMEOUT_MS, &reply) : CLI_EXIT_NOBROKER;
    if (code == CLI_EXIT_OK && cli->json)
        cli_print_json (reply->body);
    else if (code == CLI_EXIT_OK)
        s_print_features (app, json_object_get (reply->body, "features"));
    msg_destroy (&reply);
    free (app);
    return code;
}

static int
s_feature_set (cli_t *cli, int argc, char **argv, bool enabled)
{
    static const cli_spec_t enable = {
        .usage = "usage: dyno features:enable [-a APP] NAME\n"
                 "Turns a feature on: preboot.\n"
                 CLI_USAGE_APP,
        .takes_app = true,
        .min_operands = 1,
        .max_operands = 1,
        .too_few = "which feature? (dyno features:enable preboot)",
    };
    static const cli_spec_t disable = {
        .usage = "usage: dyno features:disable [-a APP] NAME\n"
                 "Turns a feature off: preboot.\n"
                 CLI_USAGE_APP,
        .takes_app = true,
        .min_operands = 1,
        .max_operands = 1,
        .too_few = "which feature? (dyno features:disable preboot)",
    };
    char *app;
    int code = cli_parse (cli, argc, argv, enabled ? &enable : &disable, NULL, &app);
    if (code >= 0)
        return code;
    const char *name = argv [optind];
    msg_t *req = cli_app_request (cli, MSG_TYPE_FEATURE_SET, FEATURES_ACTOR, "app", app);
    msg_t *reply = NULL;
    code = CLI_EXIT_NOBROKER;
    if (req) {
        req->durable = true;
        msg_set_str (req, "feature", name);
        msg_set_bool (req, "enabled", enabled);
        msg_set_str (req, "by", cli_user ());
        code = cli_call (cli, FEATURES_ACTOR, &req, CLI_TIMEOUT_MS, &reply);
    }
    if (code == CLI_EXIT_OK && cli->json)
        cli_print_json (reply->body);
    else if (code == CLI_EXIT_OK)
        printf ("%s %s for ⬢ %s... done\n", enabled ? "Enabling" : "Disabling", name, app);
    msg_destroy (&reply);
    free (app);
    return code;
}

int
cli_cmd_features_enable (cli_t *cli, int argc, char **argv)
{
    return s_feature_set (cli, argc, argv, true);
}

int
cli_cmd_features_disable (cli_t *cli, int argc, char **argv)
{
    return s_feature_set (cli, argc, argv, false);
}

//  Sets the health check to `path` ("" clears it).
static int
s_healthcheck (cli_t *cli, const char *app, const char *path)
{
    msg_t *req = cli_app_request (cli, MSG_TYPE_HEALTHCHECK_SET, FEATURES_ACTOR, "app", app);
    if (!req)
        return CLI_EXIT_NOBROKER;
    req->durable = true;
    msg_set_str (req, "path", path);
    msg_set_str (req, "by", cli_user ());
    msg_t *reply;
    int code = cli_call (cli, FEATURES_ACTOR, &req, CLI_TIMEOUT_MS, &reply);
    if (code == CLI_EXIT_OK && cli->json)
        cli_print_json (reply->body);
    else if (code == CLI_EXIT_OK && *path)
        printf ("Setting health check for ⬢ %s to %s... done\n", app, path);
    else if (code == CLI_EXIT_OK)
        printf ("Clearing health check for ⬢ %s... done\n", app);
    msg_destroy (&reply);
    return code;
}

int
cli_cmd_healthcheck_set (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno healthcheck:set [-a APP] PATH\n"
                 "Makes a web dyno count as up only after 3 answers in a row of 2xx/3xx on\n"
                 "GET PATH (/health). Applies to web dynos as they (re)start.\n"
                 CLI_USAGE_APP,
        .takes_app = true,
        .min_operands = 1,
        .max_operands = 1,
        .too_few = "which path? (dyno healthcheck:set /health)",
    };
    char *app;
    int code = cli_parse (cli, argc, argv, &spec, NULL, &app);
    if (code >= 0)
        return code;
    const char *path = argv [optind];
    if (path [0] != '/') {
        code = cli_fail (cli, CLI_EXIT_USAGE, "'%s' is not a path: it must start with /", path);
        free (app);
        return code;
    }
    code = s_healthcheck (cli, app, path);
    free (app);
    return code;
}

int
cli_cmd_healthcheck_clear (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno healthcheck:clear [-a APP]\n"
                 "Removes the web health check: a web dyno is up once its port accepts.\n"
                 CLI_USAGE_APP,
        .takes_app = true,
    };
    char *app;
    int code = cli_parse (cli, argc, argv, &spec, NULL, &app);
    if (code >= 0)
        return code;
    code = s_healthcheck (cli, app, "");
    free (app);
    return code;
}
