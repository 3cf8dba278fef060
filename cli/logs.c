//  dyno logs, logs:token - an app's log lines, and its read-only log token
//
//  `dyno logs` asks log-plex for the app's newest N matching lines
//  (log.get with n and the filters source / dyno / ps) and prints them
//  (none: release-keeper says whether the app exists, app.get),
//  oldest first, in Logplex's format:
//      2026-11-28T10:15:30.123000+00:00 dynod[api]: Release v2 created by ann
//  coloured by source on a terminal (logs_lines.c). --json prints
//  log-plex's answer as it is. --tail follows the log over log-plex's
//  websocket instead (logs_tail.c).
//
//  `dyno logs:token` asks log-plex for the app's read-only log token
//  (log.token): for a browser or a script that may read the app's log
//  and nothing else.
//
//  The app: -a/--app APP, else DYNOD_APP, else the app recorded for the
//  current directory (cli_resolve_app).

#include "cli.h"
#include "logs_lines.h"
#include "logs_tail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOGS_ACTOR          "log-plex"

//  -t is --tail here, as in the Heroku CLI, though every command's common
//  options make -t --token: the command's options come first in getopt's
//  short options, so -t is --tail, and --token (which takes a value) comes
//  to s_option with its value under the same key.
static const cli_option_t s_options [] = {
    { "num", 'n', CLI_OPT_ARG },
    { "tail", 't', 0 },
    { "source", 's', CLI_OPT_ARG },
    { "dyno", 'd', CLI_OPT_ARG },
    { "process-type", 'p', CLI_OPT_ARG },
    { NULL, 0, 0 },
};

typedef struct {
    cli_logs_query_t query;
    bool tail;
} logs_args_t;

static int
s_option (cli_t *cli, int key, const char *arg, void *data)
{
    logs_args_t *args = data;
    switch (key) {
        case 'n':
            if (!(args->query.num = cli_logs_num_parse (arg)))
                return cli_fail (cli, CLI_EXIT_USAGE, "-n takes a count from 1 to %d, not '%s'",
                                 CLI_LOGS_NUM_MAX, arg);
            return -1;
        case 't':
            if (arg) {                  // --token T
                free (cli->token);
                cli->token = act_strdup (arg);
            }
            else
                args->tail = true;
            return -1;
        case 's':
            if (!cli_logs_source_valid (arg))
                return cli_fail (cli, CLI_EXIT_USAGE, "--source takes app or dynod, not '%s'", arg);
            args->query.source = arg;
            return -1;
        case 'd':
            if (!cli_logs_name_valid (arg, true))
                return cli_fail (cli, CLI_EXIT_USAGE, "--dyno takes a process name like web.1 or "
                                 "router, not '%s'", arg);
            args->query.dyno = arg;
            return -1;
        case 'p':
            if (!cli_logs_name_valid (arg, false))
                return cli_fail (cli, CLI_EXIT_USAGE, "--process-type takes a process type like "
                                 "web, not '%s'", arg);
            args->query.ps = arg;
            return -1;
        default:
            return -1;
    }
}

//  --json and --tail do not go together: the tail prints lines as they come.
static int
s_check (cli_t *cli, int argc, char **argv, void *data)
{
    (void) argc;
    (void) argv;
    logs_args_t *args = data;
    if (args->tail && cli->json)
        return cli_fail (cli, CLI_EXIT_USAGE, "--tail prints lines, not JSON: drop --json");
    return -1;
}

//  log-plex knows an app by its lines; when it has none to show, the app
//  may not exist: release-keeper, which owns the apps, says. Returns
//  CLI_EXIT_OK, or an exit code after printing why (`app 'x' does not
//  exist`).
static int
s_app_exists (cli_t *cli, const char *app)
{
    msg_t *req = cli_app_request (cli, MSG_TYPE_APP_GET, "release-keeper", "name", app), *reply;
    if (!req)
        return CLI_EXIT_NOBROKER;
    int code = cli_call (cli, "release-keeper", &req, CLI_TIMEOUT_MS, &reply);
    msg_destroy (&reply);
    return code;
}

//  log.get's answer, line by line.
static void
s_print_lines (const json_t *lines)
{
    bool colour = cli_logs_colour (STDOUT_FILENO);
    size_t i;
    json_t *line;
    json_array_foreach (lines, i, line) {
        //  Lines may hold any bytes but NUL (log-plex escapes those).
        if (json_is_string (line))
            cli_logs_line_print (stdout, json_string_value (line), json_string_length (line),
                                 colour);
    }
}

int
cli_cmd_logs (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno logs [-a APP] [-n NUM] [-t|--tail] [-s|--source app|dynod]\n"
                 "                 [-d|--dyno NAME] [-p|--process-type TYPE] [--json]\n"
                 "Prints an app's newest log lines, oldest first: NUM of them (default 100, at\n"
                 "most 1500, what log-plex keeps per app). The filters combine: --source app\n"
                 "(the app's own output) or dynod (the platform's lines), --dyno one process\n"
                 "(web.1, router, api), --process-type every process of a type (web).\n"
                 "--tail then keeps printing new lines until Ctrl-C, over log-plex's websocket\n"
                 "(port DYNOD_LOGS_PORT, else 7780); when log-plex restarts it reconnects and\n"
                 "prints no line twice. Colour by source on a terminal, unless NO_COLOR is set.\n"
                 CLI_USAGE_APP,
        .takes_app = true,
        .options = s_options,
        .option = s_option,
        .check = s_check,
    };
    logs_args_t args = { .query = { .num = CLI_LOGS_NUM_DEFAULT } };
    char *app;
    int code = cli_parse (cli, argc, argv, &spec, &args, &app);
    if (code >= 0)
        return code;
    args.query.app = app;
    if (args.tail) {
        code = cli_logs_tail (cli, &args.query, cli_logs_colour (STDOUT_FILENO));
        free (app);
        return code;
    }
    msg_t *req = cli_app_request (cli, MSG_TYPE_LOG_GET, LOGS_ACTOR, "app", app), *reply = NULL;
    if (!req) {
        free (app);
        return CLI_EXIT_NOBROKER;
    }
    msg_set_int (req, "n", args.query.num);
    if (args.query.source)
        msg_set_str (req, "source", args.query.source);
    if (args.query.dyno)
        msg_set_str (req, "dyno", args.query.dyno);
    if (args.query.ps)
        msg_set_str (req, "ps", args.query.ps);
    code = cli_call (cli, LOGS_ACTOR, &req, CLI_TIMEOUT_MS, &reply);
    if (code == CLI_EXIT_OK && json_array_size (json_object_get (reply->body, "lines")) == 0)
        code = s_app_exists (cli, args.query.app);
    if (code == CLI_EXIT_OK && cli->json)
        cli_print_json (reply->body);
    else if (code == CLI_EXIT_OK)
        s_print_lines (json_object_get (reply->body, "lines"));
    msg_destroy (&reply);
    free (app);
    return code;
}

int
cli_cmd_logs_token (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno logs:token [-a APP] [--json]\n"
                 "Prints the app's read-only log token: it opens the app's log stream\n"
                 "(ws://127.0.0.1:7780/apps/APP/logs?token=T, or the page at /apps/APP/#token=T)\n"
                 "and nothing else. The same token every time, across restarts.\n"
                 CLI_USAGE_APP,
        .takes_app = true,
    };
    char *app;
    int code = cli_parse (cli, argc, argv, &spec, NULL, &app);
    if (code >= 0)
        return code;
    msg_t *req = cli_app_request (cli, MSG_TYPE_LOG_TOKEN, LOGS_ACTOR, "app", app), *reply = NULL;
    free (app);
    if (!req)
        return CLI_EXIT_NOBROKER;
    code = cli_call (cli, LOGS_ACTOR, &req, CLI_TIMEOUT_MS, &reply);
    if (code == CLI_EXIT_OK && cli->json)
        cli_print_json (reply->body);
    else if (code == CLI_EXIT_OK)
        printf ("%s\n", msg_str (reply, "token", ""));
    msg_destroy (&reply);
    return code;
}
