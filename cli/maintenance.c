//  dyno maintenance, maintenance:on, maintenance:off - an app's
//  maintenance mode (release-keeper)
//
//  `dyno maintenance` prints `on` or `off` (app.get's `maintenance`).
//  `maintenance:on` / `maintenance:off` send a durable maintenance.set and
//  print `Enabling maintenance mode for ⬢ APP... done` (or Disabling);
//  while it is on the router answers every request for the app with a 503
//  maintenance page (H80). --json prints release-keeper's app.info.
//
//  The app: -a/--app APP, else DYNOD_APP, else the app recorded for the
//  current directory (cli_resolve_app).

#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

#define MAINTENANCE_ACTOR     "release-keeper"
#define MAINTENANCE_APP_MARK  "\xe2\xac\xa2"    // ⬢, as Heroku prints before an app

int
cli_cmd_maintenance (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno maintenance [-a APP] [--json]\n"
                 "Prints whether the app is in maintenance mode: on or off.\n"
                 CLI_USAGE_APP,
        .takes_app = true,
    };
    char *app;
    int code = cli_parse (cli, argc, argv, &spec, NULL, &app);
    if (code >= 0)
        return code;
    msg_t *req = cli_app_request (cli, MSG_TYPE_APP_GET, MAINTENANCE_ACTOR, "name", app), *reply;
    free (app);
    if (!req)
        return CLI_EXIT_NOBROKER;
    code = cli_call (cli, MAINTENANCE_ACTOR, &req, CLI_TIMEOUT_MS, &reply);
    if (code != CLI_EXIT_OK)
        return code;
    if (cli->json)
        cli_print_json (reply->body);
    else
        printf ("%s\n", msg_bool (reply, "maintenance", false) ? "on" : "off");
    msg_destroy (&reply);
    return CLI_EXIT_OK;
}

static int
s_set (cli_t *cli, int argc, char **argv, bool on)
{
    const cli_spec_t spec = {
        .usage = on ? "usage: dyno maintenance:on [-a APP] [--json]\n"
                      "Puts the app in maintenance mode: the router answers every request with\n"
                      "a 503 maintenance page (H80) until maintenance:off. Dynos keep running.\n"
                      CLI_USAGE_APP
                    : "usage: dyno maintenance:off [-a APP] [--json]\n"
                      "Takes the app out of maintenance mode: requests reach its dynos again.\n"
                      CLI_USAGE_APP,
        .takes_app = true,
    };
    char *app;
    int code = cli_parse (cli, argc, argv, &spec, NULL, &app);
    if (code >= 0)
        return code;
    msg_t *req = cli_app_request (cli, MSG_TYPE_MAINTENANCE_SET, MAINTENANCE_ACTOR, "app", app);
    msg_t *reply;
    if (!req) {
        free (app);
        return CLI_EXIT_NOBROKER;
    }
    //  Journaled before release-keeper applies it; the answer is its own.
    req->durable = true;
    msg_set_bool (req, "on", on);
    msg_set_str (req, "by", cli_user ());
    code = cli_call (cli, MAINTENANCE_ACTOR, &req, CLI_TIMEOUT_MS, &reply);
    if (code == CLI_EXIT_OK) {
        if (cli->json)
            cli_print_json (reply->body);
        else
            printf ("%s maintenance mode for %s %s... done\n", on ? "Enabling" : "Disabling",
                    MAINTENANCE_APP_MARK, app);
        msg_destroy (&reply);
    }
    free (app);
    return code;
}

int
cli_cmd_maintenance_on (cli_t *cli, int argc, char **argv)
{
    return s_set (cli, argc, argv, true);
}

int
cli_cmd_maintenance_off (cli_t *cli, int argc, char **argv)
{
    return s_set (cli, argc, argv, false);
}
