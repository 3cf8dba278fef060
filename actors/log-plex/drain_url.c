//  drain_url - a log drain's URL, checked strictly, and its RFC 5424 frames

#include "drain_url.h"
#include "line.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define HOST_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-"

static int
s_bad (char *why, size_t why_len, const char *reason)
{
    snprintf (why, why_len, "%s", reason);
    return -EINVAL;
}

int
lpx_drain_url_parse (const char *url, lpx_drain_url_t *out, char *why, size_t why_len)
{
    memset (out, 0, sizeof *out);
    size_t len = strlen (url);
    if (len > LPX_DRAIN_URL_MAX)
        return s_bad (why, why_len, "the drain URL is longer than 512 bytes");
    for (size_t i = 0; i < len; i++)
        if ((unsigned char) url [i] <= 0x20 || (unsigned char) url [i] >= 0x7f)
            return s_bad (why, why_len, "the drain URL holds a space, a control or a non-ASCII byte");
    if (strchr (url, '#'))
        return s_bad (why, why_len, "the drain URL may not hold a fragment ('#')");
    const char *rest;
    if (strncmp (url, "syslog://", 9) == 0)
        out->scheme = LPX_DRAIN_SYSLOG, rest = url + 9;
    else
    if (strncmp (url, "syslog+tls://", 13) == 0)
        out->scheme = LPX_DRAIN_SYSLOG_TLS, rest = url + 13;
    else
    if (strncmp (url, "https://", 8) == 0)
        out->scheme = LPX_DRAIN_HTTPS, rest = url + 8;
    else
    if (strncmp (url, "http://", 7) == 0)
        out->scheme = LPX_DRAIN_HTTP, rest = url + 7;
    else
        return s_bad (why, why_len, "the drain URL must start with syslog://, syslog+tls:// "
                      "or https://");
    bool syslog = out->scheme == LPX_DRAIN_SYSLOG || out->scheme == LPX_DRAIN_SYSLOG_TLS;
    size_t auth_len = strcspn (rest, "/?");
    if (syslog && rest [auth_len])
        return s_bad (why, why_len, "a syslog drain URL is syslog[+tls]://HOST:PORT, with no path "
                      "or query");
    //  Userinfo: up to the last '@' of the authority.
    const char *host = rest;
    for (const char *p = rest; p < rest + auth_len; p++)
        if (*p == '@')
            host = p + 1;
    if (host != rest && syslog)
        return s_bad (why, why_len, "a syslog drain URL may not hold credentials");
    size_t host_len = strcspn (host, ":/?");
    if (host_len == 0)
        return s_bad (why, why_len, "the drain URL has no host");
    bool dots = false;
    for (size_t i = 0; i + 1 < host_len; i++)
        dots |= host [i] == '.' && host [i + 1] == '.';
    if (host_len > LPX_DRAIN_HOST_MAX || strspn (host, HOST_CHARS) < host_len
    ||  host [0] == '.' || host [0] == '-' || dots)
        return s_bad (why, why_len, "the drain URL's host is not a host name or IPv4 address");
    memcpy (out->host, host, host_len);
    out->host [host_len] = 0;
    const char *after = host + host_len;
    if (*after == ':') {
        char *end;
        long port = strtol (after + 1, &end, 10);
        if (end == after + 1 || after [1] < '0' || after [1] > '9' || port < 1 || port > 65535
        ||  (*end && *end != '/' && *end != '?'))
            return s_bad (why, why_len, "the drain URL's port must be 1 to 65535");
        out->port = (int) port;
        after = end;
    }
    if (syslog && out->port == 0)
        return s_bad (why, why_len, "a syslog drain URL needs a port (syslog://HOST:PORT)");
    if (out->scheme == LPX_DRAIN_HTTP && strcmp (out->host, "127.0.0.1") != 0
    &&  strcmp (out->host, "localhost") != 0)
        return s_bad (why, why_len, "an http:// drain may only go to 127.0.0.1 or localhost: "
                      "use https://");
    return 0;
}

size_t
lpx_drain_frame (const char *line, size_t len, const char *token, char *out, size_t cap)
{
    //  `TIME SOURCE[PROCESS]: TEXT`: the source ends at '[', the process
    //  at "]: " (neither may hold those characters: line.h).
    if (len < LPX_TIME_LEN + 6 || line [LPX_TIME_LEN] != ' ')
        return 0;
    const char *source = line + LPX_TIME_LEN + 1;
    const char *end = line + len;
    const char *bracket = memchr (source, '[', (size_t) (end - source));
    if (!bracket || bracket == source)
        return 0;
    const char *process = bracket + 1;
    const char *close = NULL;
    for (const char *p = process; p + 3 <= end; p++)
        if (p [0] == ']' && p [1] == ':' && p [2] == ' ') {
            close = p;
            break;
        }
    if (!close || close == process)
        return 0;
    const char *text = close + 3;
    char head [LPX_DRAIN_TOKEN_LEN + 2 * LPX_NAME_MAX + LPX_TIME_LEN + 32];
    int n = snprintf (head, sizeof head, "<190>1 %.*s %s %.*s %.*s - - ", LPX_TIME_LEN, line,
                      token, (int) (bracket - source), source, (int) (close - process), process);
    if (n < 0 || (size_t) n >= sizeof head)
        return 0;
    size_t msg_len = (size_t) n + (size_t) (end - text);
    char prefix [24];
    int p = snprintf (prefix, sizeof prefix, "%zu ", msg_len);
    if ((size_t) p + msg_len > cap)
        return 0;
    memcpy (out, prefix, (size_t) p);
    memcpy (out + p, head, (size_t) n);
    memcpy (out + p + n, text, (size_t) (end - text));
    return (size_t) p + msg_len;
}

size_t
lpx_drain_frame_l10 (uint64_t dropped, int64_t since_us, int64_t now_us, const char *token,
                     char *out, size_t cap)
{
    char now [LPX_TIME_LEN + 1], since [LPX_TIME_LEN + 1];
    lpx_line_time (now_us, now);
    lpx_line_time (since_us, since);
    char line [256];
    int n = snprintf (line, sizeof line, "%s dynod[log-plex]: Error L10 (output buffer overflow): "
                      "%" PRIu64 " messages dropped since %s", now, dropped, since);
    if (n < 0 || (size_t) n >= sizeof line)
        return 0;
    return lpx_drain_frame (line, (size_t) n, token, out, cap);
}

int
lpx_drain_uuid (char *out)
{
    unsigned char raw [16];
    if (getrandom (raw, sizeof raw, 0) != (ssize_t) sizeof raw)
        return -EIO;
    raw [6] = (unsigned char) ((raw [6] & 0x0f) | 0x40);
    raw [8] = (unsigned char) ((raw [8] & 0x3f) | 0x80);
    size_t pos = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out [pos++] = '-';
        snprintf (out + pos, 3, "%02x", raw [i]);
        pos += 2;
    }
    out [pos] = 0;
    return 0;
}
