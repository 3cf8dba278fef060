//  request - what an HTTP request to log-plex asks for, and whether it may

#include "request.h"
#include "page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
    LPX_ARG_TOKEN = 1, LPX_ARG_N = 2, LPX_ARG_SOURCE = 4, LPX_ARG_DYNO = 8, LPX_ARG_PS = 16,
    LPX_ARG_TAIL = 32,
};

void
lpx_request_init (lpx_request_t *self)
{
    memset (self, 0, sizeof *self);
    self->n = LPX_HISTORY_DEFAULT;
    self->tail = true;
}

//  Sets why and returns `status`.
static int
s_refuse (lpx_request_t *self, int status, const char *why)
{
    self->why = why;
    return status;
}

int
lpx_request_path (lpx_request_t *self, const char *path)
{
    if (strstr (path, "..") || strstr (path, "//") || strpbrk (path, "%\\"))
        return s_refuse (self, 400, "bad path");
    if (strncmp (path, "/apps/", 6) != 0)
        return s_refuse (self, 404, "not found");
    const char *app = path + 6, *slash = strchr (app, '/');
    size_t app_len = slash ? (size_t) (slash - app) : strlen (app);
    if (app_len > LPX_APP_MAX)
        return s_refuse (self, 404, "no such app");
    memcpy (self->app, app, app_len);
    self->app [app_len] = 0;
    if (!lpx_app_name_ok (self->app))
        return s_refuse (self, 404, "no such app");
    const char *rest = slash ? slash + 1 : NULL;
    if (!rest)
        self->kind = LPX_REQ_REDIRECT;
    else if (strcmp (rest, "logs") == 0)
        self->kind = LPX_REQ_LOGS;
    else {
        const lpx_page_file_t *file = lpx_page_find (*rest ? rest : "index.html");
        if (!file)
            return s_refuse (self, 404, "not found");
        self->kind = LPX_REQ_FILE;
        self->file = file->name;
    }
    return 0;
}

//  Copies `value` into `out` (`cap` bytes); false when it does not fit.
static bool
s_copy (char *out, size_t cap, const char *value)
{
    size_t len = strlen (value);
    if (len >= cap)
        return false;
    memcpy (out, value, len + 1);
    return true;
}

int
lpx_request_arg (lpx_request_t *self, const char *arg)
{
    static const struct { const char *name; unsigned bit; } s_names [] = {
        { "token", LPX_ARG_TOKEN }, { "n", LPX_ARG_N }, { "source", LPX_ARG_SOURCE },
        { "dyno", LPX_ARG_DYNO }, { "ps", LPX_ARG_PS }, { "tail", LPX_ARG_TAIL },
    };
    const char *eq = strchr (arg, '=');
    size_t name_len = eq ? (size_t) (eq - arg) : strlen (arg);
    const char *value = eq ? eq + 1 : "";
    unsigned bit = 0;
    for (size_t i = 0; i < sizeof s_names / sizeof s_names [0]; i++)
        if (strlen (s_names [i].name) == name_len && memcmp (arg, s_names [i].name, name_len) == 0)
            bit = s_names [i].bit;
    if (!bit)
        return s_refuse (self, 400, "unknown query parameter");
    if (self->seen & bit)
        return s_refuse (self, 400, "query parameter given twice");
    self->seen |= bit;
    switch (bit) {
        case LPX_ARG_TOKEN:
            if (!s_copy (self->token, sizeof self->token, value))
                self->token_long = true;
            return 0;
        case LPX_ARG_N: {
            char *end;
            long n = strtol (value, &end, 10);
            if (!*value || *end || n < 1 || n > LPX_LINES_MAX)
                return s_refuse (self, 400, "n must be 1 to 1500");
            self->n = (int) n;
            return 0;
        }
        case LPX_ARG_TAIL:
            if (strcmp (value, "0") && strcmp (value, "1"))
                return s_refuse (self, 400, "tail must be 0 or 1");
            self->tail = value [0] == '1';
            return 0;
        case LPX_ARG_SOURCE:
            return s_copy (self->source, sizeof self->source, value)
                 ? 0 : s_refuse (self, 400, "bad source");
        case LPX_ARG_DYNO:
            return s_copy (self->dyno, sizeof self->dyno, value)
                 ? 0 : s_refuse (self, 400, "bad dyno");
        default:
            return s_copy (self->ps, sizeof self->ps, value)
                 ? 0 : s_refuse (self, 400, "bad process type");
    }
}

int
lpx_request_auth (lpx_request_t *self, const char *authorization)
{
    if (self->seen & LPX_ARG_TOKEN || strncasecmp (authorization, "Bearer ", 7) != 0)
        return 0;
    const char *token = authorization + 7;
    while (*token == ' ')
        token++;
    if (!s_copy (self->token, sizeof self->token, token))
        self->token_long = true;
    return 0;
}

int
lpx_request_finish (lpx_request_t *self)
{
    const char *why = NULL;
    if (lpx_filter_init (&self->filter, self->source, self->dyno, self->ps, &why))
        return s_refuse (self, 400, why);
    return 0;
}

//  True when the `len` bytes at `s` are exactly `want`.
static bool
s_is (const char *s, size_t len, const char *want)
{
    return strlen (want) == len && memcmp (s, want, len) == 0;
}

bool
lpx_request_origin_ok (const char *origin, int port, const char *extra)
{
    if (!origin)
        return true;
    char own [64];
    snprintf (own, sizeof own, "http://127.0.0.1:%d", port);
    if (strcmp (origin, own) == 0)
        return true;
    snprintf (own, sizeof own, "http://localhost:%d", port);
    if (strcmp (origin, own) == 0)
        return true;
    for (const char *p = extra; p && *p; ) {
        p += strspn (p, " ");
        size_t len = strcspn (p, ",");
        size_t trimmed = len;
        while (trimmed > 0 && p [trimmed - 1] == ' ')
            trimmed--;
        if (trimmed > 0 && s_is (p, trimmed, origin))
            return true;
        p += len;
        if (*p == ',')
            p++;
    }
    return false;
}
