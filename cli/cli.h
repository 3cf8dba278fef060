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

int cli_cmd_status (cli_t *cli, int argc, char **argv);
int cli_cmd_ping (cli_t *cli, int argc, char **argv);
//  apps.c: the apps release-keeper owns.
int cli_cmd_apps (cli_t *cli, int argc, char **argv);
int cli_cmd_apps_create (cli_t *cli, int argc, char **argv);
int cli_cmd_apps_info (cli_t *cli, int argc, char **argv);
int cli_cmd_apps_destroy (cli_t *cli, int argc, char **argv);

#endif
