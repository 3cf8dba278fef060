//  request - what an HTTP request to log-plex asks for, and whether it may
//
//  The rules of log-plex's HTTP surface, apart from libwebsockets (ws.c
//  feeds them the decoded path, each decoded query argument, and the
//  Authorization and Origin headers), so they are tested on their own:
//
//    /apps/APP/logs?token=T&n=N&source=S&dyno=D&ps=P&tail=0|1
//                                 websocket: history then live lines
//    /apps/APP/, /apps/APP/index.html, /apps/APP/app.js,
//    /apps/APP/style.css         the browser page (no token: it holds none)
//    /apps/APP                   redirect to /apps/APP/
//
//  Anything else is 404; a path with `..`, `//`, `%` or a backslash left
//  after decoding is 400; an APP that is not a valid app name is 404.
//  Query arguments: each at most once, known names only, n 1..1500, the
//  filters as filter.h says, tail 0 or 1: else 400. The token comes from
//  `token=` or `Authorization: Bearer T` (the query wins when both).

#ifndef LPX_REQUEST_H
#define LPX_REQUEST_H

#include "filter.h"
#include "hub.h"

#include <stdbool.h>

#define LPX_TOKEN_MAX       128     // bytes of a token we look at
#define LPX_HISTORY_DEFAULT 100     // lines of history when n is absent

typedef enum {
    LPX_REQ_LOGS,               // the websocket
    LPX_REQ_FILE,               // a file of the page
    LPX_REQ_REDIRECT,           // to /apps/APP/
} lpx_req_kind_t;

typedef struct {
    lpx_req_kind_t kind;
    char app [LPX_APP_MAX + 1];
    const char *file;           // LPX_REQ_FILE: the page file's name (static)
    lpx_filter_t filter;        // set by lpx_request_finish
    int n;
    bool tail;
    char token [LPX_TOKEN_MAX + 1];     // "" when none
    bool token_long;            // longer than LPX_TOKEN_MAX: never valid
    const char *why;            // static text: why a 4xx
    //  Raw filters until lpx_request_finish; which arguments were seen.
    char source [LPX_NAME_MAX + 1];
    char dyno [LPX_NAME_MAX + 1];
    char ps [LPX_NAME_MAX + 1];
    unsigned seen;
} lpx_request_t;

//  Resets `self` (caller owns it) to defaults: n 100, tail on.
void lpx_request_init (lpx_request_t *self);
//  Reads the decoded `path`. Returns 0, or 400 / 404 with self->why set.
int lpx_request_path (lpx_request_t *self, const char *path);
//  Reads one decoded query argument `name=value`. Returns 0 or 400.
int lpx_request_arg (lpx_request_t *self, const char *arg);
//  Reads an Authorization header value. Returns 0 (a non-Bearer scheme is
//  ignored).
int lpx_request_auth (lpx_request_t *self, const char *authorization);
//  Checks the arguments together and sets the filter. Returns 0 or 400.
int lpx_request_finish (lpx_request_t *self);

//  True when a websocket from a page of `origin` (NULL: no Origin header,
//  as from the CLI) may read logs: absent, http://127.0.0.1:PORT,
//  http://localhost:PORT, or one of the comma-separated `extra` (may be
//  NULL) exactly.
bool lpx_request_origin_ok (const char *origin, int port, const char *extra);

#endif
