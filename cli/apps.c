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

//  What the options of one command may hold.
typedef struct {
    const char *usage;          // --help text, static
    bool takes_app;             // -a/--app APP
    bool takes_confirm;         // --confirm APP
    const char *app;            // borrowed from argv; NULL when not given
    const char *confirm;        // borrowed from argv; NULL when not given
} apps_args_t;

static const struct option s_opts [] = {
    { "app", required_argument, NULL, 'a' },
    { "confirm", required_argument, NULL, 'c' },
    { "json", no_argument, NULL, 'j' },
    { "broker", required_argument, NULL, 'b' },
    { "token", required_argument, NULL, 't' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

//  Parses the options of one command into `args`. Returns -1 to go on, or
//  the exit code to stop with (after --help, or a usage error).
static int
s_parse (cli_t *cli, int argc, char **argv, apps_args_t *args)
{
    int c;
    //  0, not 1: glibc then also forgets the "+" of main's global parse.
    optind = 0;
    const char *shorts = args->takes_app ? "a:jb:t:h" : "jb:t:h";
    while ((c = getopt_long (argc, argv, shorts, s_opts, NULL)) != -1) {
        int code = -1;
        if (c == 'a' && args->takes_app)
            args->app = optarg;
        else if (c == 'c' && args->takes_confirm)
            args->confirm = optarg;
        else if (c == 'a' || c == 'c')
            code = cli_fail (cli, CLI_EXIT_USAGE, "this command takes no --%s",
                             c == 'a' ? "app" : "confirm");
        else
            code = cli_common_option (cli, c, optarg, args->usage);
        if (code >= 0)
            return code;
    }
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
    apps_args_t args = {
        .usage = "usage: dyno apps:create [NAME] [--json]\n"
                 "Creates an app. NAME is [a-z][a-z0-9-]{2,29}; without one a readable random\n"
                 "name is chosen (sharp-rain-8712). The app is recorded for the current\n"
                 "directory, so app commands run here or below need no -a.\n",
    };
    int code = s_parse (cli, argc, argv, &args);
    if (code >= 0)
        return code;
    if (argc - optind > 1)
        return cli_fail (cli, CLI_EXIT_USAGE, "unexpected argument '%s'", argv [optind + 1]);
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
    apps_args_t args = {
        .usage = "usage: dyno apps [--json]\n"
                 "Lists every app: name, when it was created (UTC) and by whom.\n",
    };
    int code = s_parse (cli, argc, argv, &args);
    if (code >= 0)
        return code;
    if (optind != argc)
        return cli_fail (cli, CLI_EXIT_USAGE, "unexpected argument '%s'", argv [optind]);
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

//  The start of a command that works on one app: options, no stray
//  arguments, then the app. Returns -1 with *app_p set (caller owns it), or
//  the exit code to stop with.
static int
s_app_command (cli_t *cli, int argc, char **argv, apps_args_t *args, char **app_p)
{
    *app_p = NULL;
    int code = s_parse (cli, argc, argv, args);
    if (code >= 0)
        return code;
    if (optind != argc)
        return cli_fail (cli, CLI_EXIT_USAGE, "unexpected argument '%s'", argv [optind]);
    code = cli_resolve_app (cli, args->app, app_p);
    return code ? code : -1;
}

int
cli_cmd_apps_info (cli_t *cli, int argc, char **argv)
{
    apps_args_t args = {
        .usage = "usage: dyno apps:info [-a APP] [--json]\n"
                 "Shows an app: name, when it was created (UTC), by whom, number of releases.\n"
                 "The app: -a APP, else DYNOD_APP, else the app recorded for this directory.\n",
        .takes_app = true,
    };
    char *app;
    int code = s_app_command (cli, argc, argv, &args, &app);
    if (code >= 0)
        return code;
    act_client_t *client = cli_client (cli);
    if (!client) {
        free (app);
        return CLI_EXIT_NOBROKER;
    }
    msg_t *req = act_client_msg_new (client, MSG_TYPE_APP_GET, APPS_ACTOR);
    msg_set_str (req, "name", app);
    free (app);
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
    apps_args_t args = {
        .usage = "usage: dyno apps:destroy [-a APP] --confirm APP [--json]\n"
                 "Destroys an app, permanently. --confirm must repeat the app's name.\n"
                 "The app: -a APP, else DYNOD_APP, else the app recorded for this directory.\n",
        .takes_app = true,
        .takes_confirm = true,
    };
    char *app;
    int code = s_app_command (cli, argc, argv, &args, &app);
    if (code >= 0)
        return code;
    if (!args.confirm) {
        code = cli_fail (cli, CLI_EXIT_USAGE, "destroying %s is permanent: pass --confirm %s",
                         app, app);
        free (app);
        return code;
    }
    act_client_t *client = cli_client (cli);
    msg_t *reply = NULL;
    code = CLI_EXIT_NOBROKER;
    if (client) {
        msg_t *req = act_client_msg_new (client, MSG_TYPE_APP_DESTROY, APPS_ACTOR);
        req->durable = true;
        msg_set_str (req, "name", app);
        msg_set_str (req, "confirm", args.confirm);
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
