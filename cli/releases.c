//  dyno releases, releases:info, rollback - an app's releases
//
//  releases asks release-keeper for the history (release.list) and prints
//  it newest first; releases:info one release (release.get); rollback
//  sends a durable release.rollback (journaled by the broker before
//  release-keeper applies it) and prints the release it made. Errors are
//  the reason of release-keeper's `error` reply, one line (exit 1); a bad
//  version or count is a usage error (exit 2).
//
//  The app: -a/--app APP, else DYNOD_APP, else the app recorded for the
//  current directory (cli_resolve_app).

#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RELEASES_ACTOR      "release-keeper"
#define RELEASES_NUM_DEFAULT 15         // rows `dyno releases` shows (heroku's)
#define RELEASES_NUM_MAX    1000000
#define RELEASES_BLOB_SHORT 12          // hex digits of a slug shown

//  -n/--num N, which only `releases` takes (on the others --num is refused
//  and -n an unknown option).
static const cli_option_t s_num [] = {
    { "num", 'n', CLI_OPT_ARG },
    { NULL, 0, 0 },
};
static const cli_option_t s_no_num [] = {
    { "num", 'n', CLI_OPT_ARG | CLI_OPT_LONG_ONLY | CLI_OPT_REFUSED },
    { NULL, 0, 0 },
};

//  Parses a positive integer of at most `max` from `text` (with an
//  optional leading `v` when `vee`). Returns it, or 0 when it is not one.
static long long
s_positive (const char *text, bool vee, long long max)
{
    if (vee && *text == 'v')
        text++;
    if (*text < '0' || *text > '9')
        return 0;
    char *end;
    errno = 0;
    long long n = strtoll (text, &end, 10);
    if (errno || *end || n < 1 || n > max)
        return 0;
    return n;
}

//  -n N into `data` (long long *).
static int
s_num_option (cli_t *cli, int key, const char *arg, void *data)
{
    (void) key;
    if (!(*(long long *) data = s_positive (arg, false, RELEASES_NUM_MAX)))
        return cli_fail (cli, CLI_EXIT_USAGE, "-n takes a count of 1 or more, not '%s'", arg);
    return -1;
}

//  Takes the optional [vN] operand into `data` (long long *; left 0 when
//  not given).
static int
s_version_operand (cli_t *cli, int argc, char **argv, void *data)
{
    if (optind < argc) {
        if (!(*(long long *) data = s_positive (argv [optind], true, INT64_MAX)))
            return cli_fail (cli, CLI_EXIT_USAGE, "'%s' is not a release: give v3 or 3",
                             argv [optind]);
        optind++;
    }
    return -1;
}

//  Sends release-keeper a `type` for `app` (and release `version` unless
//  0); a rollback goes durable (journaled by the broker before
//  release-keeper applies it; act_client_call skips the broker's ack and
//  returns release-keeper's answer) and says who asks. Returns the exit
//  code, with *reply_p set (caller owns it) on CLI_EXIT_OK, else NULL.
static int
s_call (cli_t *cli, msg_type_id_t type, const char *app, long long version, msg_t **reply_p)
{
    *reply_p = NULL;
    msg_t *req = cli_app_request (cli, type, RELEASES_ACTOR, "app", app);
    if (!req)
        return CLI_EXIT_NOBROKER;
    bool rollback = type == MSG_TYPE_RELEASE_ROLLBACK;
    if (rollback)
        req->durable = true;
    if (version)
        msg_set_int (req, "version", version);
    if (rollback)
        msg_set_str (req, "by", cli_user ());
    return cli_call (cli, RELEASES_ACTOR, &req, CLI_TIMEOUT_MS, reply_p);
}

static const char *
s_str (const json_t *obj, const char *key)
{
    const char *value = json_string_value (json_object_get (obj, key));
    return value ? value : "";
}

static long long
s_int (const json_t *obj, const char *key)
{
    return (long long) json_integer_value (json_object_get (obj, key));
}

// ---------------------------------------------------------------------------
//  dyno releases

//  A release whose release phase or preboot failed (release.status).
#define RELEASES_FAILED      " (release failed)"
#define RELEASES_FAILED_LEN  ((int) sizeof RELEASES_FAILED - 1)
static bool
s_failed (const json_t *rel)
{
    return strcmp (s_str (rel, "status"), "failed") == 0;
}

static void
s_print_list (const char *app, const json_t *releases, long long num)
{
    size_t n = json_array_size (releases);
    if (n == 0) {
        printf ("=== %s Releases\n%s has no releases yet.\n", app, app);
        return;
    }
    printf ("=== %s Releases - Current: v%lld\n", app, s_int (json_array_get (releases, 0), "version"));
    size_t shown = (size_t) num < n ? (size_t) num : n;
    int wv = 0, wd = 0, wb = 0;
    for (size_t i = 0; i < shown; i++) {
        const json_t *rel = json_array_get (releases, i);
        char v [24];
        int len = snprintf (v, sizeof v, "v%lld", s_int (rel, "version"));
        wv = len > wv ? len : wv;
        len = (int) strlen (s_str (rel, "description")) + (s_failed (rel) ? RELEASES_FAILED_LEN : 0);
        wd = len > wd ? len : wd;
        len = (int) strlen (s_str (rel, "by"));
        wb = len > wb ? len : wb;
    }
    for (size_t i = 0; i < shown; i++) {
        const json_t *rel = json_array_get (releases, i);
        char v [24], when [32];
        snprintf (v, sizeof v, "v%lld", s_int (rel, "version"));
        cli_format_time (s_int (rel, "created_ms"), when, sizeof when);
        char *change = act_sprintf ("%s%s", s_str (rel, "description"),
                                    s_failed (rel) ? RELEASES_FAILED : "");
        printf ("%-*s  %-*s  %-*s  %s\n", wv, v, wd, change, wb, s_str (rel, "by"), when);
        free (change);
    }
}

int
cli_cmd_releases (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno releases [-a APP] [-n NUM] [--json]\n"
                 "Lists an app's releases, newest first: version, change, by whom, when (UTC).\n"
                 "-n NUM shows the newest NUM (default 15).\n"
                 CLI_USAGE_APP,
        .takes_app = true,
        .options = s_num,
        .option = s_num_option,
    };
    long long num = RELEASES_NUM_DEFAULT;
    char *app;
    int code = cli_parse (cli, argc, argv, &spec, &num, &app);
    if (code >= 0)
        return code;
    msg_t *reply;
    code = s_call (cli, MSG_TYPE_RELEASE_LIST, app, 0, &reply);
    if (code == CLI_EXIT_OK) {
        json_t *releases = json_object_get (reply->body, "releases");
        //  --json shows the same rows as the table.
        while (json_array_size (releases) > (size_t) num)
            json_array_remove (releases, json_array_size (releases) - 1);
        if (cli->json)
            cli_print_json (reply->body);
        else
            s_print_list (app, releases, num);
    }
    msg_destroy (&reply);
    free (app);
    return code;
}

// ---------------------------------------------------------------------------
//  dyno releases:info

//  `size` bytes as 512 B / 1.2 kB / 3.4 MB into `out`.
static void
s_format_size (long long size, char *out, size_t len)
{
    if (size < 1000)
        snprintf (out, len, "%lld B", size);
    else if (size < 1000 * 1000)
        snprintf (out, len, "%.1f kB", (double) size / 1e3);
    else if (size < 1000LL * 1000 * 1000)
        snprintf (out, len, "%.1f MB", (double) size / 1e6);
    else
        snprintf (out, len, "%.1f GB", (double) size / 1e9);
}

static int
s_by_key (const void *a, const void *b)
{
    return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static void
s_print_process_types (const json_t *types)
{
    size_t n = json_object_size (types), i = 0;
    if (n == 0) {
        printf ("Process types: none\n");
        return;
    }
    const char **keys = act_calloc (n, sizeof *keys);
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *) types, key, value)
        keys [i++] = key;
    qsort (keys, n, sizeof *keys, s_by_key);
    for (i = 0; i < n; i++)
        printf ("%-15s%s: %s\n", i == 0 ? "Process types:" : "", keys [i],
                s_str (types, keys [i]));
    free (keys);
}

static void
s_print_info (const json_t *rel)
{
    char when [32];
    cli_format_time (s_int (rel, "created_ms"), when, sizeof when);
    printf ("=== Release v%lld\n", s_int (rel, "version"));
    printf ("%-15s%s\n", "Change:", s_str (rel, "description"));
    printf ("%-15s%s\n", "By:", s_str (rel, "by"));
    printf ("%-15s%s\n", "When:", when);
    printf ("%-15sversion %lld\n", "Config:", s_int (rel, "config_version"));
    if (*s_str (rel, "status"))
        printf ("%-15s%s\n", "Status:", s_str (rel, "status"));
    const json_t *slug = json_object_get (rel, "slug");
    if (json_is_object (slug)) {
        char size [32];
        s_format_size (s_int (slug, "size"), size, sizeof size);
        printf ("%-15s%.*s (%s)\n", "Slug:", RELEASES_BLOB_SHORT, s_str (slug, "blob"), size);
    }
    else
        printf ("%-15snone (nothing deployed yet)\n", "Slug:");
    if (*s_str (rel, "commit"))
        printf ("%-15s%s\n", "Commit:", s_str (rel, "commit"));
    s_print_process_types (json_object_get (rel, "process_types"));
}

int
cli_cmd_releases_info (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno releases:info [vN] [-a APP] [--json]\n"
                 "Shows one release (default: the current one): change, by whom, when,\n"
                 "config version, slug and process types. vN may be given as v3 or 3.\n"
                 CLI_USAGE_APP,
        .takes_app = true,
        .options = s_no_num,
        .check = s_version_operand,
    };
    long long version = 0;
    char *app;
    int code = cli_parse (cli, argc, argv, &spec, &version, &app);
    if (code >= 0)
        return code;
    msg_t *reply;
    code = s_call (cli, MSG_TYPE_RELEASE_GET, app, version, &reply);
    if (code == CLI_EXIT_OK && cli->json)
        cli_print_json (reply->body);
    else if (code == CLI_EXIT_OK)
        s_print_info (reply->body);
    msg_destroy (&reply);
    free (app);
    return code;
}

// ---------------------------------------------------------------------------
//  dyno rollback

int
cli_cmd_rollback (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno rollback [vN] [-a APP] [--json]\n"
                 "Makes a new release that runs release vN's code and config vars again\n"
                 "(default: the release before the current one). vN may be v3 or 3.\n"
                 CLI_USAGE_APP,
        .takes_app = true,
        .options = s_no_num,
        .check = s_version_operand,
    };
    long long version = 0;
    char *app;
    int code = cli_parse (cli, argc, argv, &spec, &version, &app);
    if (code >= 0)
        return code;
    msg_t *reply;
    code = s_call (cli, MSG_TYPE_RELEASE_ROLLBACK, app, version, &reply);
    if (code == CLI_EXIT_OK && cli->json)
        cli_print_json (reply->body);
    else if (code == CLI_EXIT_OK) {
        long long made = msg_int (reply, "version", 0);
        long long to = msg_int (reply, "rollback_to", version);
        printf ("Rolling back %s to v%lld... done, v%lld\n", app, to, made);
        printf ("Rollback affects code and config vars; it doesn't add or remove addons.\n");
        printf ("To undo, run: dyno rollback v%lld\n", made - 1);
    }
    msg_destroy (&reply);
    free (app);
    return code;
}
