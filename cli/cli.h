//  cli - the `dyno` command: shared context and the command table
//
//  Each command group lives in its own file and exports one `cli_cmd_*`
//  function per command, listed in main.c's table. A command returns the
//  exit code: CLI_EXIT_OK (0), CLI_EXIT_FAIL (1, the request failed),
//  CLI_EXIT_USAGE (2, bad arguments), CLI_EXIT_NOBROKER (3, cannot reach
//  the broker).

#ifndef CLI_H
#define CLI_H

#include "../actors/common/act_client.h"

#define CLI_EXIT_OK        0
#define CLI_EXIT_FAIL      1
#define CLI_EXIT_USAGE     2
#define CLI_EXIT_NOBROKER  3

#define CLI_TIMEOUT_MS     5000

typedef struct {
    char *broker;               // endpoint, owned
    char *token;                // owned
    bool json;                  // --json: machine-readable output on stdout
    const char *command;        // borrowed from argv
    act_client_t *client;       // connected on first use
} cli_t;

//  Connects (once) to the broker. Returns the client (borrowed, owned by
//  `cli`) or NULL after printing one line on stderr.
act_client_t *cli_client (cli_t *cli);
//  common.c: a new connection to cli->broker with cli->token, over CURVE
//  when a broker key is known (DYNOD_BROKER_KEY, else the credentials
//  file's `broker_key`) or the broker is not loopback; this user's key is
//  DYNOD_KEY_FILE, else ${XDG_CONFIG_HOME:-~/.config}/dynod/key. Returns
//  the client (caller owns result) or NULL after printing one line.
act_client_t *cli_client_open (cli_t *cli);
//  Prints `dyno COMMAND: <message>` on stderr. Returns `code`.
int cli_fail (cli_t *cli, int code, const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));
//  Prints `value` as indented JSON on stdout.
void cli_print_json (const json_t *value);
//  Formats a duration in ms as 3s / 4m12s / 2h05m / 3d04h into `out`.
void cli_format_duration (int64_t ms, char *out, size_t len);

//  common.c - shared by the commands.

//  cli_option_t flags.
#define CLI_OPT_ARG        1    // takes a value: --name VALUE, -key VALUE
#define CLI_OPT_LONG_ONLY  2    // --name only: -key is an unknown option
#define CLI_OPT_REFUSED    4    // known, but this command takes none: a
                                // usage error `this command takes no --name`

//  One option a command has besides -a/--app and the common ones; a table
//  of them ends with { NULL, 0, 0 }.
typedef struct {
    const char *name;           // the long form, --name
    char key;                   // the short form -key, and what spec->option gets
    int flags;                  // CLI_OPT_*
} cli_option_t;

#define CLI_OPERANDS_ANY   (-1) // max_operands: no limit

//  The last line of the --help of a command that takes -a/--app.
#define CLI_USAGE_APP \
    "The app: -a APP, else DYNOD_APP, else the app recorded for this directory.\n"

//  How a command parses its arguments; a static const one per command.
typedef struct {
    const char *usage;          // --help text, printed on stdout (exit 0)
    bool takes_app;             // -a/--app APP: cli_parse resolves the app
    const cli_option_t *options;    // the command's own, or NULL
    //  Called for each of `options` given that is not refused, with its
    //  value (NULL without CLI_OPT_ARG). Returns -1 to go on, or the exit
    //  code to stop with after printing why. NULL when `options` is.
    int (*option) (cli_t *cli, int key, const char *arg, void *data);
    //  When not NULL, called once the options are parsed, before the
    //  operands are counted and the app resolved: checks what the options
    //  leave, and may take leading operands by advancing optind. Returns
    //  -1 to go on, or the exit code to stop with after printing why.
    int (*check) (cli_t *cli, int argc, char **argv, void *data);
    int min_operands;           // fewer: the usage error `too_few`
    int max_operands;           // more: `unexpected argument 'X'`; or CLI_OPERANDS_ANY
    const char *too_few;        // set when min_operands > 0
    bool app_first;             // resolve the app before counting the operands
                                // (the order config's commands have always had)
} cli_spec_t;

//  Parses a command's arguments (argv [0] is `dyno COMMAND`) by `spec`:
//  -a/--app when spec->takes_app, spec->options, and the common --json,
//  --broker, --token (into `cli`) and --help (prints spec->usage). Then
//  spec->check, the operand count, and the app (cli_resolve_app; before
//  the count when spec->app_first).
//  `data` is handed to spec->option and spec->check as it is.
//  Returns -1 to go on, with optind at the first operand and, when
//  spec->takes_app, *app_p set (caller owns it); else the exit code to
//  stop with, after --help (CLI_EXIT_OK) or one line on stderr: getopt's
//  for an unknown option or a missing value, `dyno COMMAND: ...` for the
//  rest (CLI_EXIT_USAGE unless resolving the app says otherwise); then
//  *app_p is NULL. Resets getopt first, so main's "+" parse is forgotten.
int cli_parse (cli_t *cli, int argc, char **argv, const cli_spec_t *spec, void *data,
               char **app_p);
//  The app to work on: `given` (-a), else DYNOD_APP, else the app recorded
//  for the current directory or one above. Returns 0 with *app_p set
//  (caller owns it), or CLI_EXIT_USAGE after printing why.
int cli_resolve_app (cli_t *cli, const char *given, char **app_p);
//  A request of `type` to `actor` about one app: `key` (name or app) set
//  to `app`; the caller adds the rest. Returns it (caller owns it), or NULL
//  after printing why the broker cannot be reached (exit CLI_EXIT_NOBROKER).
msg_t *cli_app_request (cli_t *cli, msg_type_id_t type, const char *actor, const char *key,
                        const char *app);
//  Sends *req_p (consumed) to `actor` and waits up to `timeout_ms` for the
//  answer. Returns 0 with *reply_p set (caller owns it), or an exit code
//  after printing one line: the reason of an `error`, or why none came.
int cli_call (cli_t *cli, const char *actor, msg_t **req_p, int timeout_ms, msg_t **reply_p);
//  The broker's `broker.status` body (*broker_p, caller owns it) over the
//  CLI's connection (*client_p, borrowed). Returns 0, or an exit code
//  after saying why.
int cli_broker_status (cli_t *cli, act_client_t **client_p, json_t **broker_p);
//  ms since the epoch as 2026-01-31T12:00:00Z.
void cli_format_time (int64_t ms, char *out, size_t len);
//  Who the user is, for `by` fields: DYNOD_USER, else the login name.
//  Borrowed, static storage.
const char *cli_user (void);

//  records.c - the app recorded for a directory (apps.json).
//  The app recorded for `cwd` or the nearest directory above, or NULL.
//  Caller owns result.
char *cli_records_find (const char *cwd);
//  Records `app` for `dir`. Returns 0 or -errno.
int cli_records_set (const char *dir, const char *app);
//  Forgets every directory recorded for `app` (best effort).
void cli_records_forget (const char *app);

int cli_cmd_status (cli_t *cli, int argc, char **argv);
int cli_cmd_ping (cli_t *cli, int argc, char **argv);
//  hosts.c: the hosts (broker directory, scheduler placement).
int cli_cmd_hosts (cli_t *cli, int argc, char **argv);
//  apps.c: the apps release-keeper owns.
int cli_cmd_apps (cli_t *cli, int argc, char **argv);
int cli_cmd_apps_create (cli_t *cli, int argc, char **argv);
int cli_cmd_apps_info (cli_t *cli, int argc, char **argv);
int cli_cmd_apps_destroy (cli_t *cli, int argc, char **argv);
//  deploy.c: deploys and buildpacks (release-keeper).
int cli_cmd_deploy (cli_t *cli, int argc, char **argv);
int cli_cmd_buildpacks (cli_t *cli, int argc, char **argv);
int cli_cmd_buildpacks_set (cli_t *cli, int argc, char **argv);
int cli_cmd_buildpacks_clear (cli_t *cli, int argc, char **argv);
//  config.c: an app's config vars (config-keeper).
int cli_cmd_config (cli_t *cli, int argc, char **argv);
int cli_cmd_config_get (cli_t *cli, int argc, char **argv);
int cli_cmd_config_set (cli_t *cli, int argc, char **argv);
int cli_cmd_config_unset (cli_t *cli, int argc, char **argv);
//  releases.c: an app's releases (release-keeper).
int cli_cmd_releases (cli_t *cli, int argc, char **argv);
int cli_cmd_releases_info (cli_t *cli, int argc, char **argv);
int cli_cmd_rollback (cli_t *cli, int argc, char **argv);
//  logs.c: an app's log lines and log token (log-plex).
int cli_cmd_logs (cli_t *cli, int argc, char **argv);
int cli_cmd_logs_token (cli_t *cli, int argc, char **argv);
//  drains.c: an app's log drains (log-plex).
int cli_cmd_drains (cli_t *cli, int argc, char **argv);
int cli_cmd_drains_add (cli_t *cli, int argc, char **argv);
int cli_cmd_drains_remove (cli_t *cli, int argc, char **argv);
//  ps.c: an app's formation and dynos (scheduler).
int cli_cmd_ps (cli_t *cli, int argc, char **argv);
int cli_cmd_ps_scale (cli_t *cli, int argc, char **argv);
int cli_cmd_ps_type (cli_t *cli, int argc, char **argv);
int cli_cmd_ps_restart (cli_t *cli, int argc, char **argv);
int cli_cmd_ps_stop (cli_t *cli, int argc, char **argv);
//  run.c: one-off dynos (scheduler, dyno-supervisor).
int cli_cmd_run (cli_t *cli, int argc, char **argv);
int cli_cmd_run_detached (cli_t *cli, int argc, char **argv);
//  features.c: app features and the web health check (scheduler).
int cli_cmd_features (cli_t *cli, int argc, char **argv);
int cli_cmd_features_enable (cli_t *cli, int argc, char **argv);
int cli_cmd_features_disable (cli_t *cli, int argc, char **argv);
int cli_cmd_healthcheck_set (cli_t *cli, int argc, char **argv);
int cli_cmd_healthcheck_clear (cli_t *cli, int argc, char **argv);
//  certs.c: an app's SSL certificates (release-keeper).
int cli_cmd_certs (cli_t *cli, int argc, char **argv);
int cli_cmd_certs_add (cli_t *cli, int argc, char **argv);
int cli_cmd_certs_remove (cli_t *cli, int argc, char **argv);
int cli_cmd_certs_info (cli_t *cli, int argc, char **argv);
//  domains.c: an app's default and custom domains (release-keeper).
int cli_cmd_domains (cli_t *cli, int argc, char **argv);
int cli_cmd_domains_add (cli_t *cli, int argc, char **argv);
int cli_cmd_domains_remove (cli_t *cli, int argc, char **argv);
int cli_cmd_domains_clear (cli_t *cli, int argc, char **argv);
//  maintenance.c: an app's maintenance mode (release-keeper).
int cli_cmd_maintenance (cli_t *cli, int argc, char **argv);
int cli_cmd_maintenance_on (cli_t *cli, int argc, char **argv);
int cli_cmd_maintenance_off (cli_t *cli, int argc, char **argv);
//  acm.c: automated certificate management (release-keeper).
int cli_cmd_certs_auto (cli_t *cli, int argc, char **argv);
int cli_cmd_certs_auto_enable (cli_t *cli, int argc, char **argv);
int cli_cmd_certs_auto_disable (cli_t *cli, int argc, char **argv);

#endif
