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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOGS_ACTOR          "log-plex"
#define LOGS_NUM_DEFAULT    100
#define LOGS_NUM_MAX        1500        // what log-plex keeps per app

static const cli_option_t s_options [] = {
    { "num", 'n', CLI_OPT_ARG },
    { NULL, 0, 0 },
};

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

//  -n N into `data` (long *).
static int
s_num_option (cli_t *cli, int key, const char *arg, void *data)
{
    (void) key;
    if (!(*(long *) data = s_num (arg)))
        return cli_fail (cli, CLI_EXIT_USAGE, "-n takes a count from 1 to %d, not '%s'",
                         LOGS_NUM_MAX, arg);
    return -1;
}

int
cli_cmd_logs (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno logs [-a APP] [-n NUM] [--json]\n"
                 "Prints an app's newest log lines, oldest first: NUM of them (default 100, at\n"
                 "most 1500, what log-plex keeps per app).\n"
                 CLI_USAGE_APP,
        .takes_app = true,
        .options = s_options,
        .option = s_num_option,
    };
    long num = LOGS_NUM_DEFAULT;
    char *app;
    int code = cli_parse (cli, argc, argv, &spec, &num, &app);
    if (code >= 0)
        return code;
    msg_t *req = cli_app_request (cli, MSG_TYPE_LOG_GET, LOGS_ACTOR, "app", app), *reply = NULL;
    free (app);
    if (!req)
        return CLI_EXIT_NOBROKER;
    msg_set_int (req, "n", num);
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
