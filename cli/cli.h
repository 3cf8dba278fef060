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
//  Prints `dyno COMMAND: <message>` on stderr. Returns `code`.
int cli_fail (cli_t *cli, int code, const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));
//  Prints `value` as indented JSON on stdout.
void cli_print_json (const json_t *value);
//  Formats a duration in ms as 3s / 4m12s / 2h05m / 3d04h into `out`.
void cli_format_duration (int64_t ms, char *out, size_t len);

//  common.c - shared by the app commands.
//  Handles a global option getopt returned (`c` one of j b t h, `arg` its
//  optarg). Returns -1 to go on, or the exit code to stop with (after
//  printing `usage` for -h; CLI_EXIT_USAGE for anything else).
int cli_common_option (cli_t *cli, int c, const char *arg, const char *usage);
//  The app to work on: `given` (-a), else DYNOD_APP, else the app recorded
//  for the current directory or one above. Returns 0 with *app_p set
//  (caller owns it), or CLI_EXIT_USAGE after printing why.
int cli_resolve_app (cli_t *cli, const char *given, char **app_p);
//  Sends *req_p (consumed) to `actor` and waits up to `timeout_ms` for the
//  answer. Returns 0 with *reply_p set (caller owns it), or an exit code
//  after printing one line: the reason of an `error`, or why none came.
int cli_call (cli_t *cli, const char *actor, msg_t **req_p, int timeout_ms, msg_t **reply_p);
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
//  logs.c: an app's log lines (log-plex).
int cli_cmd_logs (cli_t *cli, int argc, char **argv);

#endif
