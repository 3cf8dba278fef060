//  dyno drains, drains:add, drains:remove - an app's log drains (log-plex)
//
//  `dyno drains` lists the app's drains (drain.list), one per line:
//      syslog+tls://logs.example.com:6514  (d.0f5c...)
//  `drains:add URL` (drain.add) and `drains:remove URL` (drain.remove) say
//  what they did; log-plex checks the URL and refuses a bad one, one the
//  app has, or a 6th drain, with one line (exit 1). --json prints
//  log-plex's answer, `{app, drains: [{url, token}]}`, as it is.
//
//  The app: -a/--app APP, else DYNOD_APP, else the app recorded for the
//  current directory (cli_resolve_app).

#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DRAINS_ACTOR        "log-plex"

//  Sends a drain request of `type` for `app` (with `url` when not NULL)
//  and prints the answer: `done` (a format with the URL) or the list.
static int
s_drains (cli_t *cli, msg_type_id_t type, const char *app, const char *url, const char *done)
{
    msg_t *req = cli_app_request (cli, type, DRAINS_ACTOR, "app", app), *reply = NULL;
    if (!req)
        return CLI_EXIT_NOBROKER;
    if (url)
        msg_set_str (req, "url", url);
    if (type == MSG_TYPE_DRAIN_ADD)
        msg_set_str (req, "by", cli_user ());
    int code = cli_call (cli, DRAINS_ACTOR, &req, CLI_TIMEOUT_MS, &reply);
    if (code != CLI_EXIT_OK)
        return code;
    json_t *drains = json_object_get (reply->body, "drains");
    if (cli->json)
        cli_print_json (reply->body);
    else if (done) {
        const char *token = "";
        size_t i;
        json_t *drain;
        json_array_foreach (drains, i, drain)
            if (strcmp (json_string_value (json_object_get (drain, "url")), url) == 0)
                token = json_string_value (json_object_get (drain, "token"));
        printf (done, url, app);
        printf (*token ? "  (%s)\n" : "\n", token);
    }
    else if (json_array_size (drains) == 0)
        printf ("%s has no drains.\n", app);
    else {
        size_t i;
        json_t *drain;
        printf ("=== %s Drains\n", app);
        json_array_foreach (drains, i, drain)
            printf ("%s  (%s)\n", json_string_value (json_object_get (drain, "url")),
                    json_string_value (json_object_get (drain, "token")));
    }
    msg_destroy (&reply);
    return code;
}

int
cli_cmd_drains (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno drains [-a APP] [--json]\n"
                 "Lists the app's log drains with their tokens (d.<uuid>), sorted by URL.\n"
                 CLI_USAGE_APP,
        .takes_app = true,
    };
    char *app;
    int code = cli_parse (cli, argc, argv, &spec, NULL, &app);
    if (code >= 0)
        return code;
    code = s_drains (cli, MSG_TYPE_DRAIN_LIST, app, NULL, NULL);
    free (app);
    return code;
}

//  drains:add and drains:remove: one URL operand.
static int
s_change (cli_t *cli, int argc, char **argv, const char *usage, msg_type_id_t type,
          const char *done)
{
    const cli_spec_t spec = {
        .usage = usage,
        .takes_app = true,
        .min_operands = 1,
        .max_operands = 1,
        .too_few = "no drain URL given",
    };
    char *app;
    int code = cli_parse (cli, argc, argv, &spec, NULL, &app);
    if (code >= 0)
        return code;
    code = s_drains (cli, type, app, argv [optind], done);
    free (app);
    return code;
}

int
cli_cmd_drains_add (cli_t *cli, int argc, char **argv)
{
    return s_change (cli, argc, argv,
                     "usage: dyno drains:add URL [-a APP] [--json]\n"
                     "Sends the app's log lines to URL: syslog://HOST:PORT, syslog+tls://HOST:PORT\n"
                     "(RFC 5424, octet-counted) or https://HOST[:PORT]/PATH (POSTs of\n"
                     "application/logplex-1; http:// to 127.0.0.1 only). At most 5 per app.\n"
                     CLI_USAGE_APP,
                     MSG_TYPE_DRAIN_ADD, "Successfully added drain %s to %s");
}

int
cli_cmd_drains_remove (cli_t *cli, int argc, char **argv)
{
    return s_change (cli, argc, argv,
                     "usage: dyno drains:remove URL [-a APP] [--json]\n"
                     "Stops sending the app's log lines to URL (lines not sent yet are lost).\n"
                     CLI_USAGE_APP,
                     MSG_TYPE_DRAIN_REMOVE, "Successfully removed drain %s from %s");
}
