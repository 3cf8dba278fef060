//  dyno apps, apps:create, apps:info, apps:destroy - the apps release-keeper owns
//
//  Each command sends one request to release-keeper (app.create and
//  app.destroy durable, so the broker journals them before release-keeper
//  applies them) and prints its answer, or the reason of its `error` reply
//  as one line (exit 1).
//
//  The app a command works on: -a/--app APP, else DYNOD_APP, else the app
//  recorded for the current directory or the nearest directory above it.
//  apps:create records the app it created for the current directory in
//  ${XDG_CONFIG_HOME:-$HOME/.config}/dynod/apps.json (an object: absolute
//  directory -> app name, mode 0600); apps:destroy forgets it again.

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
#define APPS_FILE       "apps.json"
#define APPS_DIR_MODE   0700
#define APPS_FILE_MODE  0600

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
        switch (c) {
            case 'a':
                if (!args->takes_app)
                    return cli_fail (cli, CLI_EXIT_USAGE, "this command takes no --app");
                args->app = optarg;
                break;
            case 'c':
                if (!args->takes_confirm)
                    return cli_fail (cli, CLI_EXIT_USAGE, "this command takes no --confirm");
                args->confirm = optarg;
                break;
            case 'j': cli->json = true; break;
            case 'b': free (cli->broker); cli->broker = act_strdup (optarg); break;
            case 't': free (cli->token); cli->token = act_strdup (optarg); break;
            case 'h': fputs (args->usage, stdout); return CLI_EXIT_OK;
            default: return CLI_EXIT_USAGE;
        }
    }
    return -1;
}

//  ${XDG_CONFIG_HOME:-$HOME/.config}/dynod; caller owns result.
static char *
s_config_dir (void)
{
    const char *base = getenv ("XDG_CONFIG_HOME");
    if (base && *base)
        return act_sprintf ("%s/dynod", base);
    const char *home = getenv ("HOME");
    return act_sprintf ("%s/.config/dynod", home ? home : "/root");
}

//  The directory -> app records; an empty object when there are none.
//  Caller owns result.
static json_t *
s_records_load (void)
{
    char *dir = s_config_dir ();
    char *path = act_sprintf ("%s/%s", dir, APPS_FILE);
    json_t *records = json_load_file (path, 0, NULL);
    free (path);
    free (dir);
    if (!json_is_object (records)) {
        json_decref (records);
        records = json_object ();
    }
    return records;
}

//  Writes the records back (0600, atomically). Returns 0 or -errno.
static int
s_records_save (const json_t *records)
{
    char *dir = s_config_dir ();
    int rc = act_mkdir_p (dir, APPS_DIR_MODE);
    if (rc == 0) {
        char *path = act_sprintf ("%s/%s", dir, APPS_FILE);
        char *text = json_dumps (records, JSON_INDENT (2) | JSON_SORT_KEYS);
        rc = act_write_file (path, text, strlen (text), APPS_FILE_MODE);
        free (text);
        free (path);
    }
    free (dir);
    return rc;
}

//  The app recorded for `cwd` or the nearest directory above it, or NULL.
//  Caller owns result.
static char *
s_records_find (const char *cwd)
{
    json_t *records = s_records_load ();
    char *dir = act_strdup (cwd);
    char *app = NULL;
    for (;;) {
        json_t *name = json_object_get (records, dir);
        if (json_is_string (name)) {
            app = act_strdup (json_string_value (name));
            break;
        }
        char *slash = strrchr (dir, '/');
        if (!slash || dir [1] == 0)
            break;
        //  "/a" goes up to "/", "/a/b" to "/a".
        slash [slash == dir ? 1 : 0] = 0;
    }
    free (dir);
    json_decref (records);
    return app;
}

//  The app to work on (see the file header). Returns 0 with *app_p set
//  (caller owns it), or CLI_EXIT_USAGE after printing why.
static int
s_resolve_app (cli_t *cli, const apps_args_t *args, char **app_p)
{
    *app_p = NULL;
    if (args->app)
        *app_p = act_strdup (args->app);
    else if (getenv ("DYNOD_APP") && *getenv ("DYNOD_APP"))
        *app_p = act_strdup (getenv ("DYNOD_APP"));
    else {
        char cwd [PATH_MAX];
        if (getcwd (cwd, sizeof cwd))
            *app_p = s_records_find (cwd);
    }
    if (*app_p)
        return 0;
    return cli_fail (cli, CLI_EXIT_USAGE,
                     "no app: pass -a APP, set DYNOD_APP, or run this in the directory of an app");
}

//  Sends `req` (consumed) to release-keeper and waits for its answer.
//  Returns 0 with *reply_p set (caller owns it), or an exit code after
//  printing one line: the reason of an `error` reply, or why none came.
static int
s_call (cli_t *cli, msg_t **req_p, msg_t **reply_p)
{
    *reply_p = NULL;
    act_client_t *client = cli_client (cli);
    if (!client) {
        msg_destroy (req_p);
        return CLI_EXIT_NOBROKER;
    }
    bool durable = (*req_p)->durable;
    int rc = act_client_call (client, req_p, CLI_TIMEOUT_MS, reply_p);
    if (rc == 0)
        return CLI_EXIT_OK;
    int code;
    if (*reply_p)
        code = cli_fail (cli, CLI_EXIT_FAIL, "%s", msg_str (*reply_p, "reason", act_strerror (rc)));
    else if (durable && rc == ACT_ETIMEDOUT)
        code = cli_fail (cli, CLI_EXIT_FAIL, "no answer from %s within %d s; if the broker "
                         "journaled the request it is applied when %s is back",
                         APPS_ACTOR, CLI_TIMEOUT_MS / 1000, APPS_ACTOR);
    else
        code = cli_fail (cli, CLI_EXIT_FAIL, "no answer from %s: %s", APPS_ACTOR, act_strerror (rc));
    msg_destroy (reply_p);
    return code;
}

//  Formats ms since the epoch as 2026-01-31T12:00:00Z into `out`.
static void
s_format_time (int64_t ms, char *out, size_t len)
{
    time_t t = (time_t) (ms / 1000);
    struct tm tm;
    if (!gmtime_r (&t, &tm) || !strftime (out, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf (out, len, "?");
}

//  The user recorded as an app's creator. Borrowed, static storage.
static const char *
s_user (void)
{
    struct passwd *pw = getpwuid (getuid ());
    if (pw && pw->pw_name)
        return pw->pw_name;
    return getenv ("USER") ? getenv ("USER") : "";
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
    msg_set_str (req, "by", s_user ());
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
    json_t *records = s_records_load ();
    int rc = getcwd (cwd, sizeof cwd) ? 0 : -errno;
    if (rc == 0) {
        json_object_set_new (records, cwd, json_string (name));
        rc = s_records_save (records);
    }
    if (rc)
        cli_fail (cli, CLI_EXIT_OK, "created %s but could not record it for this directory: %s",
                  name, act_strerror (rc));
    json_decref (records);
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
        s_format_time (json_integer_value (json_object_get (app, "created_ms")), created,
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
    code = s_resolve_app (cli, args, app_p);
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
        s_format_time (msg_int (reply, "created_ms", 0), created, sizeof created);
        printf ("=== %s\nCreated:  %s\nBy:       %s\nReleases: %lld\n", msg_str (reply, "name", ""),
                created, msg_str (reply, "by", ""), (long long) msg_int (reply, "releases", 0));
    }
    msg_destroy (&reply);
    return CLI_EXIT_OK;
}

//  Forgets every directory recorded for `app`. Best effort: a destroyed
//  app left in the records only makes a later lookup answer "does not
//  exist".
static void
s_records_forget (const char *app)
{
    json_t *records = s_records_load ();
    const char *dir;
    json_t *name, *tmp;
    bool changed = false;
    json_object_foreach_safe (records, tmp, dir, name)
        if (json_is_string (name) && strcmp (json_string_value (name), app) == 0) {
            json_object_del (records, dir);
            changed = true;
        }
    if (changed)
        s_records_save (records);
    json_decref (records);
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
        s_records_forget (app);
        if (cli->json)
            cli_print_json (reply->body);
        else
            printf ("Destroyed app %s\n", app);
    }
    msg_destroy (&reply);
    free (app);
    return code;
}
