//  common - what every app command shares: options, the app, the call
//
//  The global options every command takes (--json, --broker, --token,
//  --help), which app a command works on, one request and its answer, and
//  the formats of times and users.

#include "cli.h"

#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int
cli_common_option (cli_t *cli, int c, const char *arg, const char *usage)
{
    switch (c) {
        case 'j': cli->json = true; return -1;
        case 'b': free (cli->broker); cli->broker = act_strdup (arg); return -1;
        case 't': free (cli->token); cli->token = act_strdup (arg); return -1;
        case 'h': fputs (usage, stdout); return CLI_EXIT_OK;
        default: return CLI_EXIT_USAGE;
    }
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
