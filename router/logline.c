//  logline - the router's per-request log line, in Heroku's format

#include "logline.h"

#include <stdio.h>
#include <string.h>

static const struct { const char *code, *desc; } s_descs [] = {
    { "H10", "App crashed" },
    { "H12", "Request timeout" },
    { "H13", "Connection closed without response" },
    { "H14", "No web processes running" },
    { "H15", "Idle connection" },
    { "H17", "Poorly formatted HTTP response" },
    { "H18", "Server Request Interrupted" },
    { "H19", "Backend connection timeout" },
    { "H20", "App boot timeout" },
    { "H21", "Backend connection refused" },
    { "H25", "HTTP Restriction" },
    { "H26", "Request Error" },
    { "H27", "Client Request Interrupted" },
    { "H28", "Client Connection Idle" },
    { "H80", "Maintenance mode" },
    { "H81", "Blank app" },
};

//  Heroku's level for a code: the client's own doing is a warning, the
//  app's chosen states (maintenance, nothing deployed) are info.
static const char *
s_level (const char *code)
{
    if (strcmp (code, "H27") == 0 || strcmp (code, "H28") == 0)
        return "warning";
    if (strcmp (code, "H80") == 0 || strcmp (code, "H81") == 0)
        return "info";
    return "error";
}

const char *
rtr_logline_desc (const char *code)
{
    for (size_t i = 0; i < sizeof s_descs / sizeof s_descs [0]; i++)
        if (strcmp (s_descs [i].code, code) == 0)
            return s_descs [i].desc;
    return NULL;
}

static void
s_ms (char *buf, size_t cap, int64_t ms, const char *unit)
{
    if (ms < 0)
        buf [0] = 0;
    else
        snprintf (buf, cap, "%lld%s", (long long) ms, unit);
}

static const char *
s_or (const char *s)
{
    return s ? s : "";
}

void
rtr_logline_format (const rtr_logline_t *line, char *out, size_t cap)
{
    char head [160] = "at=info";
    if (line->code) {
        const char *desc = rtr_logline_desc (line->code);
        snprintf (head, sizeof head, "at=%s code=%.8s desc=\"%s\"", s_level (line->code),
                  line->code, s_or (desc));
    }
    char sock [32] = "";
    if (line->sock)
        snprintf (sock, sizeof sock, " sock=%.16s", line->sock);
    char connect [32], service [32], status [16], bytes [32];
    s_ms (connect, sizeof connect, line->connect_ms, "ms");
    s_ms (service, sizeof service, line->service_ms, "ms");
    s_ms (status, sizeof status, line->status, "");
    s_ms (bytes, sizeof bytes, line->bytes, "");
    snprintf (out, cap, "%s%s method=%s path=\"%s\" host=%s request_id=%s fwd=\"%s\" dyno=%s "
              "connect=%s service=%s status=%s bytes=%s protocol=%s",
              head, sock, s_or (line->method), s_or (line->path), s_or (line->host),
              s_or (line->request_id), s_or (line->fwd), s_or (line->dyno), connect, service,
              status, bytes, line->protocol ? line->protocol : "http");
}
