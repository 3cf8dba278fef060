//  logs_lines - what `dyno logs` and its tail share, without I/O
//
//  The query (app, count, filters) and its checks, the websocket path of a
//  tail with every parameter percent-encoded, the reconnect schedule, the
//  filter that keeps a reconnected tail from printing a line twice, and
//  the colouring of a line by its source. Pure functions and one
//  caller-owned struct: the unit tests link this file alone.

#ifndef CLI_LOGS_LINES_H
#define CLI_LOGS_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CLI_LOGS_NUM_DEFAULT    100
#define CLI_LOGS_NUM_MAX        1500    // what log-plex keeps per app
#define CLI_LOGS_PORT_DEFAULT   7780
#define CLI_LOGS_BACKOFF_FIRST  250     // ms before the first reconnect
#define CLI_LOGS_BACKOFF_MAX    5000    // ms, the longest wait
#define CLI_LOGS_NAME_MAX       64      // bytes of a --dyno / --process-type

//  What to ask log-plex for; the strings are borrowed (argv).
typedef struct {
    const char *app;
    long num;                   // 1..CLI_LOGS_NUM_MAX
    const char *source;         // NULL, "app" or "dynod"
    const char *dyno;           // NULL or a process: web.1, router, api
    const char *ps;             // NULL or a process type: web
} cli_logs_query_t;

//  The count in `text` (1..CLI_LOGS_NUM_MAX), or 0 when it is not one.
long cli_logs_num_parse (const char *text);
//  Is `text` a source log-plex knows (app, dynod)?
bool cli_logs_source_valid (const char *text);
//  Is `text` a process name (`web.1`, `router`): 1..CLI_LOGS_NAME_MAX of
//  [A-Za-z0-9_.-]? A process type (`web`) takes no dot: `dot` false.
bool cli_logs_name_valid (const char *text, bool dot);
//  The port in `text` (1..65535), or 0 when it is not one.
int cli_logs_port_parse (const char *text);

//  The path and query of the websocket a tail opens:
//      /apps/APP/logs?token=T&n=N&tail=1[&source=S][&dyno=D][&ps=P]
//  with `num` for n (not query->num: a reconnect asks for more) and every
//  value percent-encoded (all but A-Z a-z 0-9 - . _ ~). Caller owns result.
char *cli_logs_tail_path (const cli_logs_query_t *query, const char *token, long num);

//  Milliseconds to wait before reconnect `attempt` (0 for the first after
//  a loss): 250, 500, 1000, 2000, 4000, then 5000 for ever.
int cli_logs_backoff_ms (unsigned attempt);

//  Keeps a tail that reconnects from printing lines it printed before.
//  Lines carry `<RFC 3339 µs UTC time> ...`, fixed width, so times compare
//  as strings. After a reconnect (which asks for the whole history) the
//  lines are skipped until the last line printed comes again (skipped
//  too) or a line newer than any printed does; from then on every line
//  is printed. A line of a producer whose clock lags the others, sent
//  while the tail was away, is skipped when the last line printed is not
//  in the history any more (log-plex lost it, or trimmed it): the price of
//  never printing twice.
typedef struct {
    char *last;                 // the last line printed (owned), or NULL
    size_t last_len;
    char newest [48];           // the newest time printed, "" before any
    bool skipping;              // reconnected, not yet past the old lines
} cli_logs_resume_t;

void cli_logs_resume_init (cli_logs_resume_t *self);
void cli_logs_resume_release (cli_logs_resume_t *self);
//  Has a line been printed? (Then a reconnect asks for all the history.)
bool cli_logs_resume_any (const cli_logs_resume_t *self);
//  A new connection is about to send its history.
void cli_logs_resume_reconnected (cli_logs_resume_t *self);
//  Should `line` (`len` bytes, no newline) be printed? Remembers it when
//  it should.
bool cli_logs_resume_take (cli_logs_resume_t *self, const char *line, size_t len);

//  Writes `line` (`len` bytes, no newline) and a newline to `out`; with
//  `colour`, its `source[process]:` in cyan for app lines and magenta for
//  dynod lines (as the Heroku CLI colours its sources).
void cli_logs_line_print (FILE *out, const char *line, size_t len, bool colour);
//  Colour for a stream on `fd`: a terminal, and NO_COLOR unset or empty.
bool cli_logs_colour (int fd);

#endif
