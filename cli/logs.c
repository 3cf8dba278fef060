//  dyno logs - an app's newest log lines
//
//  Asks log-plex for the app's newest N lines (log.get) and prints them,
//  oldest first, in Logplex's format:
//      2026-11-28T10:15:30.123000+00:00 dynod[api]: Release v2 created by ann
//  --json prints log-plex's answer as it is. Following the log (--tail),
//  filters and the websocket stream come with the full log-plex.
//
//  The app: -a/--app APP, else DYNOD_APP, else the app recorded for the
//  current directory (cli_resolve_app).

#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOGS_ACTOR          "log-plex"
#define LOGS_NUM_DEFAULT    100
#define LOGS_NUM_MAX        1500        // what log-plex keeps per app

static const struct option s_opts [] = {
    { "app", required_argument, NULL, 'a' },
    { "num", required_argument, NULL, 'n' },
    { "json", no_argument, NULL, 'j' },
    { "broker", required_argument, NULL, 'b' },
    { "token", required_argument, NULL, 't' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

static const char s_usage [] =
    "usage: dyno logs [-a APP] [-n NUM] [--json]\n"
    "Prints an app's newest log lines, oldest first: NUM of them (default 100, at\n"
    "most 1500, what log-plex keeps per app).\n"
    "The app: -a APP, else DYNOD_APP, else the app recorded for this directory.\n";

//  The count in `text` (1..LOGS_NUM_MAX), or 0 when it is not one.
static long
s_num (const char *text)
{
    if (*text < '0' || *text > '9')
        return 0;
    char *end;
    errno = 0;
    long n = strtol (text, &end, 10);
    return errno || *end || n < 1 || n > LOGS_NUM_MAX ? 0 : n;
}

int
cli_cmd_logs (cli_t *cli, int argc, char **argv)
{
    const char *given = NULL;
    long num = LOGS_NUM_DEFAULT;
    //  0, not 1: glibc then also forgets the "+" of main's global parse.
    optind = 0;
    int c;
    while ((c = getopt_long (argc, argv, "a:n:jb:t:h", s_opts, NULL)) != -1) {
        int code = -1;
        if (c == 'a')
            given = optarg;
        else if (c == 'n' && !(num = s_num (optarg)))
            code = cli_fail (cli, CLI_EXIT_USAGE, "-n takes a count from 1 to %d, not '%s'",
                             LOGS_NUM_MAX, optarg);
        else if (c != 'n')
            code = cli_common_option (cli, c, optarg, s_usage);
        if (code >= 0)
            return code;
    }
    if (optind < argc)
        return cli_fail (cli, CLI_EXIT_USAGE, "unexpected argument '%s'", argv [optind]);
    char *app;
    int code = cli_resolve_app (cli, given, &app);
    if (code)
        return code;
    act_client_t *client = cli_client (cli);
    if (!client) {
        free (app);
        return CLI_EXIT_NOBROKER;
    }
    msg_t *req = act_client_msg_new (client, MSG_TYPE_LOG_GET, LOGS_ACTOR), *reply = NULL;
    msg_set_str (req, "app", app);
    msg_set_int (req, "n", num);
    free (app);
    code = cli_call (cli, LOGS_ACTOR, &req, CLI_TIMEOUT_MS, &reply);
    if (code == CLI_EXIT_OK && cli->json)
        cli_print_json (reply->body);
    else if (code == CLI_EXIT_OK) {
        size_t i;
        json_t *line;
        json_array_foreach (json_object_get (reply->body, "lines"), i, line) {
            //  Lines may hold any bytes but NUL (log-plex escapes those).
            if (!json_is_string (line))
                continue;
            fwrite (json_string_value (line), 1, json_string_length (line), stdout);
            fputc ('\n', stdout);
        }
    }
    msg_destroy (&reply);
    return code;
}
