//  dyno ps, ps:scale, ps:type, ps:restart, ps:stop - an app's dynos (scheduler)
//
//  ps asks the scheduler for the formation and the dynos its supervisors
//  reported, and prints them grouped as Heroku does; ps:scale and ps:type
//  parse Heroku's grammar here (scale_grammar.c) and send one durable
//  ps.scale, applied whole or not at all; ps:restart and ps:stop send
//  durable ps.restart / ps.stop. Errors: one line, exit 1 (refused) or 2
//  (bad arguments, nothing sent).

#include "cli.h"
#include "scale_grammar.h"

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PS_ACTOR        "scheduler"
#define PS_KEEPER       "release-keeper"
#define PS_WHY_MAX      256

static int
s_call (cli_t *cli, msg_t **req_p, msg_t **reply_p)
{
    return cli_call (cli, PS_ACTOR, req_p, CLI_TIMEOUT_MS, reply_p);
}

static const char *
s_str (const json_t *obj, const char *key)
{
    const char *value = json_string_value (json_object_get (obj, key));
    return value ? value : "";
}

//  standard-2x -> Standard-2X.
static void
s_size_display (const char *name, char *out, size_t len)
{
    size_t i = 0;
    bool start = true;
    for (; name [i] && i + 1 < len; i++) {
        char c = name [i];
        bool after_digit = i > 0 && isdigit ((unsigned char) name [i - 1]);
        out [i] = start || (c == 'x' && after_digit) ? (char) toupper ((unsigned char) c) : c;
        start = c == '-';
    }
    out [i] = 0;
}

//  `2026/11/28 10:01:02 +0000 (~ 3s ago)` for `ms`.
static void
s_since (int64_t ms, char *out, size_t len)
{
    if (ms <= 0) {
        snprintf (out, len, "(not started)");
        return;
    }
    time_t t = (time_t) (ms / 1000);
    struct tm tm;
    char when [40], ago [32];
    gmtime_r (&t, &tm);
    strftime (when, sizeof when, "%Y/%m/%d %H:%M:%S +0000", &tm);
    int64_t d = act_wall_ms () - ms;
    cli_format_duration (d > 0 ? d : 0, ago, sizeof ago);
    snprintf (out, len, "%s (~ %s ago)", when, ago);
}

//  The formation entry of `type`, or NULL. Borrowed.
static const json_t *
s_formation_of (const json_t *formation, const char *type)
{
    size_t i;
    json_t *entry;
    json_array_foreach (formation, i, entry)
        if (strcmp (s_str (entry, "type"), type) == 0)
            return entry;
    return NULL;
}

//  Prints one group's header and its dynos; `from`..`to` index `dynos`.
static void
s_print_group (const json_t *formation, const json_t *dynos, size_t from, size_t to)
{
    const json_t *first = json_array_get (dynos, from);
    const char *type = s_str (first, "type");
    bool oneoff = json_is_true (json_object_get (first, "oneoff"));
    char size [40];
    if (oneoff)
        printf ("=== %s: one-off processes (%zu)\n", type, to - from);
    else {
        const json_t *entry = s_formation_of (formation, type);
        s_size_display (entry ? s_str (entry, "size") : s_str (first, "size"), size, sizeof size);
        printf ("=== %s (%s): %s (%zu)\n", type, size,
                entry ? s_str (entry, "command") : s_str (first, "command"), to - from);
    }
    for (size_t i = from; i < to; i++) {
        const json_t *dyno = json_array_get (dynos, i);
        char since [80];
        s_since (json_integer_value (json_object_get (dyno, "since_ms")), since, sizeof since);
        //  The supervisor's instance names the host (`dyno-supervisor@host-b`);
        //  a web dyno's address follows (the router's target).
        const char *supervisor = s_str (dyno, "supervisor");
        const char *at = strchr (supervisor, '@');
        const char *host = at ? at + 1 : s_str (dyno, "host");
        json_int_t port = json_integer_value (json_object_get (dyno, "port"));
        if (oneoff) {
            s_size_display (s_str (dyno, "size"), size, sizeof size);
            printf ("%s (%s): %s %s: %s", s_str (dyno, "name"), size, s_str (dyno, "state"), since,
                    s_str (dyno, "command"));
        }
        else
            printf ("%s: %s %s", s_str (dyno, "name"), s_str (dyno, "state"), since);
        printf ("%s%s", *host ? " on " : "", host);
        if (port > 0)
            printf (" (%s:%lld)", s_str (dyno, "host"), (long long) port);
        printf ("\n");
    }
}

static void
s_print_ps (const char *app, const json_t *reply)
{
    const json_t *formation = json_object_get (reply, "formation");
    const json_t *dynos = json_object_get (reply, "dynos");
    size_t n = json_array_size (dynos);
    if (n == 0) {
        printf ("No dynos on %s\n", app);
        return;
    }
    //  The scheduler sorts by type, then number: groups are runs.
    for (size_t from = 0; from < n;) {
        size_t to = from + 1;
        const char *type = s_str (json_array_get (dynos, from), "type");
        while (to < n && strcmp (s_str (json_array_get (dynos, to), "type"), type) == 0)
            to++;
        if (from)
            printf ("\n");
        s_print_group (formation, dynos, from, to);
        from = to;
    }
}

//  The scheduler knows apps from their first release: for one it does not
//  know, release-keeper tells whether the app exists. Returns the exit
//  code after printing.
static int
s_unknown_app (cli_t *cli, const char *app, msg_t **reply_p)
{
    msg_destroy (reply_p);
    msg_t *req = cli_app_request (cli, MSG_TYPE_APP_GET, PS_KEEPER, "name", app);
    if (!req)
        return CLI_EXIT_NOBROKER;
    msg_t *reply;
    int code = cli_call (cli, PS_KEEPER, &req, CLI_TIMEOUT_MS, &reply);
    if (code == CLI_EXIT_OK) {
        if (cli->json)
            printf ("{\"app\": \"%s\", \"formation\": [], \"dynos\": []}\n", app);
        else
            printf ("No dynos on %s\n", app);
    }
    msg_destroy (&reply);
    return code;
}

//  Asks for `app`'s ps.list.reply. Returns 0 with *reply_p set, or the
//  exit code after printing (an app with no release: `No dynos`, with
//  *reply_p NULL).
static int
s_ps_list (cli_t *cli, const char *app, msg_t **reply_p)
{
    *reply_p = NULL;
    msg_t *req = cli_app_request (cli, MSG_TYPE_PS_LIST, PS_ACTOR, "app", app);
    if (!req)
        return CLI_EXIT_NOBROKER;
    act_client_t *client = cli_client (cli);
    int rc = act_client_call (client, &req, CLI_TIMEOUT_MS, reply_p);
    if (rc == 0)
        return CLI_EXIT_OK;
    if (rc == ACT_ENOTFOUND && *reply_p)
        return s_unknown_app (cli, app, reply_p);
    int code = cli_fail (cli, CLI_EXIT_FAIL, "%s", *reply_p ? msg_str (*reply_p, "reason", "")
                         : "no answer from the scheduler");
    msg_destroy (reply_p);
    return code;
}

int
cli_cmd_ps (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno ps [-a APP] [--json]\n"
                 "Lists an app's dynos by process type: state, since when, host.\n"
                 CLI_USAGE_APP,
        .takes_app = true,
    };
    char *app;
    int code = cli_parse (cli, argc, argv, &spec, NULL, &app);
    if (code >= 0)
        return code;
    msg_t *reply;
    code = s_ps_list (cli, app, &reply);
    if (code == CLI_EXIT_OK && reply) {
        if (cli->json)
            cli_print_json (reply->body);
        else
            s_print_ps (app, reply->body);
    }
    msg_destroy (&reply);
    free (app);
    return code;
}

//  `web=1:Standard-1X worker=0:Standard-1X`, or for `only` (changes
//  made) `web at 3:Standard-1X, worker at 1:Standard-1X`.
static void
s_print_formation (const json_t *formation, const json_t *only)
{
    size_t i, shown = 0;
    json_t *entry;
    json_array_foreach (formation, i, entry) {
        const char *type = s_str (entry, "type");
        if (only && !json_object_get (only, type))
            continue;
        char size [40];
        s_size_display (s_str (entry, "size"), size, sizeof size);
        long long quantity = (long long) json_integer_value (json_object_get (entry, "quantity"));
        if (only)
            printf ("%s%s at %lld:%s", shown ? ", " : "", type, quantity, size);
        else
            printf ("%s%s=%lld:%s", shown ? " " : "", type, quantity, size);
        shown++;
    }
    printf ("\n");
}

//  Parses argv [optind..] into ps.scale changes. Returns them (caller
//  owns), or NULL after printing why (exit 2).
static json_t *
s_changes (cli_t *cli, int argc, char **argv, bool size_only)
{
    json_t *changes = json_array ();
    for (int i = optind; i < argc; i++) {
        json_t *change;
        char why [PS_WHY_MAX];
        if (cli_scale_parse (argv [i], &change, why, sizeof why) == 0 && size_only
        &&  json_object_get (change, "op")) {
            json_decref (change);
            snprintf (why, sizeof why, "'%s' is not TYPE=SIZE", argv [i]);
            change = NULL;
        }
        if (!change) {
            cli_fail (cli, CLI_EXIT_USAGE, "%s", why);
            json_decref (changes);
            return NULL;
        }
        json_array_append_new (changes, change);
    }
    return changes;
}

//  Sends `changes` (consumed) as one durable ps.scale. Returns 0 with
//  *reply_p (formation.info), or the exit code after printing.
static int
s_scale (cli_t *cli, const char *app, json_t *changes, msg_t **reply_p)
{
    *reply_p = NULL;
    msg_t *req = cli_app_request (cli, MSG_TYPE_PS_SCALE, PS_ACTOR, "app", app);
    if (!req) {
        json_decref (changes);
        return CLI_EXIT_NOBROKER;
    }
    req->durable = true;
    msg_set_json (req, "changes", changes);
    msg_set_str (req, "by", cli_user ());
    return s_call (cli, &req, reply_p);
}

int
cli_cmd_ps_scale (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno ps:scale [-a APP] [TYPE=N[:SIZE] | TYPE+N | TYPE-N | TYPE=SIZE ...]\n"
                 "Changes the number (and size) of an app's dynos, all changes or none:\n"
                 "  dyno ps:scale web=3 worker+1 web=2:standard-2x\n"
                 "At most 100 dynos per app. With no arguments prints the formation in the\n"
                 "same form (web=1:Standard-1X worker=0:Standard-1X).\n"
                 CLI_USAGE_APP,
        .takes_app = true,
        .max_operands = CLI_OPERANDS_ANY,
    };
    char *app;
    int code = cli_parse (cli, argc, argv, &spec, NULL, &app);
    if (code >= 0)
        return code;
    msg_t *reply = NULL;
    if (optind == argc) {
        code = s_ps_list (cli, app, &reply);
        if (code == CLI_EXIT_OK && reply && cli->json)
            cli_print_json (json_object_get (reply->body, "formation"));
        else if (code == CLI_EXIT_OK && reply)
            s_print_formation (json_object_get (reply->body, "formation"), NULL);
    }
    else {
        json_t *changes = s_changes (cli, argc, argv, false);
        json_t *types = json_object ();
        size_t i;
        json_t *change;
        json_array_foreach (changes, i, change)
            json_object_set_new (types, s_str (change, "type"), json_true ());
        code = changes ? s_scale (cli, app, changes, &reply) : CLI_EXIT_USAGE;
        if (code == CLI_EXIT_OK && cli->json)
            cli_print_json (reply->body);
        else if (code == CLI_EXIT_OK) {
            printf ("Scaling dynos... done, now running ");
            s_print_formation (json_object_get (reply->body, "formation"), types);
        }
        json_decref (types);
    }
    msg_destroy (&reply);
    free (app);
    return code;
}

static void
s_print_types (const json_t *formation)
{
    printf ("=== Dyno Types\n%-16s %-15s %s\n", "TYPE", "SIZE", "QTY");
    size_t i;
    json_t *entry;
    json_array_foreach (formation, i, entry) {
        char size [40];
        s_size_display (s_str (entry, "size"), size, sizeof size);
        printf ("%-16s %-15s %lld\n", s_str (entry, "type"), size,
                (long long) json_integer_value (json_object_get (entry, "quantity")));
    }
}

int
cli_cmd_ps_type (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno ps:type [-a APP] [TYPE=SIZE ...]\n"
                 "Shows each process type's dyno size, or changes it (the type's dynos restart\n"
                 "on the new size). Sizes: eco, basic, standard-1x (512 MB), standard-2x (1 GB),\n"
                 "performance-m (2.5 GB), performance-l (14 GB).\n"
                 CLI_USAGE_APP,
        .takes_app = true,
        .max_operands = CLI_OPERANDS_ANY,
    };
    char *app;
    int code = cli_parse (cli, argc, argv, &spec, NULL, &app);
    if (code >= 0)
        return code;
    msg_t *reply = NULL;
    if (optind == argc)
        code = s_ps_list (cli, app, &reply);
    else {
        json_t *changes = s_changes (cli, argc, argv, true);
        code = changes ? s_scale (cli, app, changes, &reply) : CLI_EXIT_USAGE;
    }
    if (code == CLI_EXIT_OK && reply && cli->json)
        cli_print_json (json_object_get (reply->body, "formation"));
    else if (code == CLI_EXIT_OK && reply)
        s_print_types (json_object_get (reply->body, "formation"));
    msg_destroy (&reply);
    free (app);
    return code;
}

//  ps:restart and ps:stop: one durable request naming `target` (may be
//  NULL), answered by ps.done.
static int
s_act (cli_t *cli, const char *app, msg_type_id_t type, const char *key, const char *target,
       msg_t **reply_p)
{
    msg_t *req = cli_app_request (cli, type, PS_ACTOR, "app", app);
    if (!req)
        return CLI_EXIT_NOBROKER;
    req->durable = true;
    if (target)
        msg_set_str (req, key, target);
    msg_set_str (req, "by", cli_user ());
    return s_call (cli, &req, reply_p);
}

int
cli_cmd_ps_restart (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno ps:restart [-a APP] [TYPE | DYNO]\n"
                 "Restarts every dyno, the dynos of one process type (web) or one dyno (web.1):\n"
                 "each gets SIGTERM and a new incarnation starts at once.\n"
                 CLI_USAGE_APP,
        .takes_app = true,
        .max_operands = 1,
    };
    char *app;
    int code = cli_parse (cli, argc, argv, &spec, NULL, &app);
    if (code >= 0)
        return code;
    const char *target = optind < argc ? argv [optind] : NULL;
    msg_t *reply = NULL;
    code = s_act (cli, app, MSG_TYPE_PS_RESTART, "target", target, &reply);
    if (code == CLI_EXIT_OK && cli->json)
        cli_print_json (reply->body);
    else if (code == CLI_EXIT_OK && !target)
        printf ("Restarting dynos on ⬢ %s... done\n", app);
    else if (code == CLI_EXIT_OK)
        printf ("Restarting %s %s on ⬢ %s... done\n", target, strchr (target, '.') ? "dyno" : "dynos",
                app);
    msg_destroy (&reply);
    free (app);
    return code;
}

int
cli_cmd_ps_stop (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno ps:stop [-a APP] DYNO\n"
                 "Stops a dyno (web.1, run.1234) or every dyno of a type. A formation dyno comes\n"
                 "back as a new incarnation (the formation still wants it); a one-off does not.\n"
                 CLI_USAGE_APP,
        .takes_app = true,
        .min_operands = 1,
        .max_operands = 1,
        .too_few = "which dyno? (dyno ps:stop web.1)",
    };
    char *app;
    int code = cli_parse (cli, argc, argv, &spec, NULL, &app);
    if (code >= 0)
        return code;
    const char *target = argv [optind];
    msg_t *reply = NULL;
    code = s_act (cli, app, MSG_TYPE_PS_STOP, "dyno", target, &reply);
    if (code == CLI_EXIT_OK && cli->json)
        cli_print_json (reply->body);
    else if (code == CLI_EXIT_OK)
        printf ("Stopping %s %s on ⬢ %s... done\n", target, strchr (target, '.') ? "dyno" : "dynos",
                app);
    msg_destroy (&reply);
    free (app);
    return code;
}
