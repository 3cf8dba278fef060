//  logs_tail - `dyno logs --tail`: follow an app's log over log-plex's websocket
//
//  See logs_tail.c for the connection, reconnects and signals.

#ifndef CLI_LOGS_TAIL_H
#define CLI_LOGS_TAIL_H

#include "cli.h"
#include "logs_lines.h"

//  Prints `query`'s history, then every new line, until SIGINT or SIGTERM;
//  reconnects whenever the stream is lost. `colour`: colour by source.
//  Returns the exit code: CLI_EXIT_OK after a signal, CLI_EXIT_FAIL after
//  log-plex refused the app, the token or the filters (one line printed).
int cli_logs_tail (cli_t *cli, const cli_logs_query_t *query, bool colour);

#endif
