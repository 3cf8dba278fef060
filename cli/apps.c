//  dyno apps, apps:create, apps:info, apps:destroy - the apps release-keeper owns
//
//  Each command sends one request to release-keeper (app.create and
//  app.destroy durable, so the broker journals them before release-keeper
//  applies them) and prints its answer, or the reason of its `error` reply
//  as one line (exit 1).
//
//  The app a command works on: -a/--app APP, else DYNOD_APP, else the app
//  recorded for the current directory (records.c); apps:create records
//  the app it created for the current directory, apps:destroy forgets it.

#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define APPS_ACTOR      "release-keeper"

//  --confirm APP, which only apps:destroy takes; apps and apps:create
//  take no --app either (-a is an unknown option there).
static const cli_option_t s_confirm [] = {
    { "confirm", 'c', CLI_OPT_ARG | CLI_OPT_LONG_ONLY },
    { NULL, 0, 0 },
};
static const cli_option_t s_no_confirm [] = {
    { "confirm", 'c', CLI_OPT_ARG | CLI_OPT_LONG_ONLY | CLI_OPT_REFUSED },
    { NULL, 0, 0 },
};
static const cli_option_t s_no_app [] = {
    { "app", 'a', CLI_OPT_ARG | CLI_OPT_LONG_ONLY | CLI_OPT_REFUSED },
    { "confirm", 'c', CLI_OPT_ARG | CLI_OPT_LONG_ONLY | CLI_OPT_REFUSED },
    { NULL, 0, 0 },
};

//  --confirm APP into `data` (const char **; borrowed from argv).
static int
s_confirm_option (cli_t *cli, int key, const char *arg, void *data)
{
    (void) cli;
    (void) key;
    *(const char **) data = arg;
    return -1;
}

//  Sends `req` (consumed) to release-keeper and waits for its answer.
static int
s_call (cli_t *cli, msg_t **req_p, msg_t **reply_p)
{
    return cli_call (cli, APPS_ACTOR, req_p, CLI_TIMEOUT_MS, reply_p);
}

int
cli_cmd_apps_create (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno apps:create [NAME] [--json]\n"
                 "Creates an app. NAME is [a-z][a-z0-9-]{2,29}; without one a readable random\n"
                 "name is chosen (sharp-rain-8712). The app is recorded for the current\n"
                 "directory, so app commands run here or below need no -a.\n",
        .options = s_no_app,
        .max_operands = 1,
    };
    int code = cli_parse (cli, argc, argv, &spec, NULL, NULL);
    if (code >= 0)
        return code;
    act_client_t *client = cli_client (cli);
    if (!client)
        return CLI_EXIT_NOBROKER;
    msg_t *req = act_client_msg_new (client, MSG_TYPE_APP_CREATE, APPS_ACTOR);
    //  Journaled before release-keeper applies it; act_client_call skips
    //  the broker's ack and returns release-keeper's answer.
    req->durable = true;
    if (optind < argc)
        msg_set_str (req, "name", argv [optind]);
    msg_set_str (req, "by", cli_user ());
    msg_t *reply;
    code = s_call (cli, &req, &reply);
    if (code)
        return code;
    const char *name = msg_str (reply, "name", "");
    if (cli->json)
        cli_print_json (reply->body);
    else
        printf ("Created app %s\n", name);
    char cwd [PATH_MAX];
    int rc = getcwd (cwd, sizeof cwd) ? cli_records_set (cwd, name) : -errno;
    if (rc)
        cli_fail (cli, CLI_EXIT_OK, "created %s but could not record it for this directory: %s",
                  name, act_strerror (rc));
    msg_destroy (&reply);
    return CLI_EXIT_OK;
}

static void
s_print_list (const json_t *apps)
{
    if (json_array_size (apps) == 0) {
        printf ("You have no apps.\n");
        return;
    }
    printf ("=== Apps\n%-32s %-22s %s\n", "NAME", "CREATED", "BY");
    size_t i;
    json_t *app;
    json_array_foreach (apps, i, app) {
        char created [32];
        cli_format_time (json_integer_value (json_object_get (app, "created_ms")), created,
                       sizeof created);
        printf ("%-32s %-22s %s\n", json_string_value (json_object_get (app, "name")), created,
                json_string_value (json_object_get (app, "by")));
    }
}

int
cli_cmd_apps (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno apps [--json]\n"
                 "Lists every app: name, when it was created (UTC) and by whom.\n",
        .options = s_no_app,
    };
    int code = cli_parse (cli, argc, argv, &spec, NULL, NULL);
    if (code >= 0)
        return code;
    act_client_t *client = cli_client (cli);
    if (!client)
        return CLI_EXIT_NOBROKER;
    msg_t *req = act_client_msg_new (client, MSG_TYPE_APP_LIST, APPS_ACTOR);
    msg_t *reply;
    code = s_call (cli, &req, &reply);
    if (code)
        return code;
    if (cli->json)
        cli_print_json (reply->body);
    else
        s_print_list (json_object_get (reply->body, "apps"));
    msg_destroy (&reply);
    return CLI_EXIT_OK;
}

int
cli_cmd_apps_info (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno apps:info [-a APP] [--json]\n"
                 "Shows an app: name, when it was created (UTC), by whom, number of releases.\n"
                 CLI_USAGE_APP,
        .takes_app = true,
        .options = s_no_confirm,
    };
    char *app;
    int code = cli_parse (cli, argc, argv, &spec, NULL, &app);
    if (code >= 0)
        return code;
    msg_t *req = cli_app_request (cli, MSG_TYPE_APP_GET, APPS_ACTOR, "name", app);
    free (app);
    if (!req)
        return CLI_EXIT_NOBROKER;
    msg_t *reply;
    if ((code = s_call (cli, &req, &reply)))
        return code;
    if (cli->json)
        cli_print_json (reply->body);
    else {
        char created [32];
        cli_format_time (msg_int (reply, "created_ms", 0), created, sizeof created);
        printf ("=== %s\nCreated:  %s\nBy:       %s\nReleases: %lld\n", msg_str (reply, "name", ""),
                created, msg_str (reply, "by", ""), (long long) msg_int (reply, "releases", 0));
    }
    msg_destroy (&reply);
    return CLI_EXIT_OK;
}

int
cli_cmd_apps_destroy (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno apps:destroy [-a APP] --confirm APP [--json]\n"
                 "Destroys an app, permanently. --confirm must repeat the app's name.\n"
                 CLI_USAGE_APP,
        .takes_app = true,
        .options = s_confirm,
        .option = s_confirm_option,
    };
    const char *confirm = NULL;
    char *app;
    int code = cli_parse (cli, argc, argv, &spec, &confirm, &app);
    if (code >= 0)
        return code;
    if (!confirm) {
        code = cli_fail (cli, CLI_EXIT_USAGE, "destroying %s is permanent: pass --confirm %s",
                         app, app);
        free (app);
        return code;
    }
    msg_t *req = cli_app_request (cli, MSG_TYPE_APP_DESTROY, APPS_ACTOR, "name", app);
    msg_t *reply = NULL;
    code = CLI_EXIT_NOBROKER;
    if (req) {
        req->durable = true;
        msg_set_str (req, "confirm", confirm);
        code = s_call (cli, &req, &reply);
    }
    if (code == CLI_EXIT_OK) {
        cli_records_forget (app);
        if (cli->json)
            cli_print_json (reply->body);
        else
            printf ("Destroyed app %s\n", app);
    }
    msg_destroy (&reply);
    free (app);
    return code;
}
