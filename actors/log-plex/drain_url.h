//  drain_url - a log drain's URL, checked strictly, and its RFC 5424 frames
//
//  URLs (at most LPX_DRAIN_URL_MAX bytes, printable ASCII, no spaces):
//    syslog://HOST:PORT        RFC 5424 over TCP, octet-counted (RFC 6587)
//    syslog+tls://HOST:PORT    the same over TLS
//    https://[USER:PASS@]HOST[:PORT][/PATH]   POSTs application/logplex-1
//    http://...                as https, but only to 127.0.0.1 or localhost
//                              (tests, a local collector): never cleartext
//                              over a network
//  HOST is a name or an IPv4 address (`[A-Za-z0-9.-]`, at most 253 bytes;
//  no IPv6 literals). Syslog URLs carry nothing else (no userinfo, path,
//  query or fragment) and need the port. No URL may hold a fragment.
//
//  A frame is `LEN SP MSG` where MSG is, from a formatted line
//  (`TIME SOURCE[PROCESS]: TEXT`, line.h):
//    <190>1 TIME TOKEN SOURCE PROCESS - - TEXT
//  PRI 190 is local7.info for every line; HOSTNAME is the drain token
//  (`d.<uuid>`), as Logplex puts it there, so a receiver tells its drains
//  apart; APP-NAME the source (`app`, `dynod`), PROCID the process (`web.1`,
//  `router`), MSGID and STRUCTURED-DATA nil (`-`). Pure functions: any thread.

#ifndef LPX_DRAIN_URL_H
#define LPX_DRAIN_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LPX_DRAIN_URL_MAX   512
#define LPX_DRAIN_HOST_MAX  253
#define LPX_DRAIN_TOKEN_LEN 38          // `d.` and a 36-character uuid

typedef enum {
    LPX_DRAIN_SYSLOG,
    LPX_DRAIN_SYSLOG_TLS,
    LPX_DRAIN_HTTPS,
    LPX_DRAIN_HTTP,
} lpx_drain_scheme_t;

typedef struct {
    lpx_drain_scheme_t scheme;
    char host [LPX_DRAIN_HOST_MAX + 1];
    int port;                   // 0 for http(s) without one
} lpx_drain_url_t;

//  Checks `url` (borrowed) and fills *out. Returns 0, or -EINVAL with why
//  in `why` (`why_len` bytes, one line, no trailing period).
int lpx_drain_url_parse (const char *url, lpx_drain_url_t *out, char *why, size_t why_len);

//  Writes one octet-counted frame for the formatted `line` (`len` bytes)
//  into `out` (`cap` bytes). Returns the bytes written, 0 when `line` does
//  not parse (never for a line log-plex made) or `cap` is too small.
size_t lpx_drain_frame (const char *line, size_t len, const char *token, char *out, size_t cap);

//  The bytes lpx_drain_frame may write for a line of `len` bytes, at most.
#define LPX_DRAIN_FRAME_MAX(len)  ((len) + LPX_DRAIN_TOKEN_LEN + 32)

//  Writes the L10 frame: `dropped` lines dropped since `since_us`, at
//  `now_us` (microseconds since the epoch). Returns the bytes written.
size_t lpx_drain_frame_l10 (uint64_t dropped, int64_t since_us, int64_t now_us,
                            const char *token, char *out, size_t cap);

//  Writes a random uuid v4 (36 characters and a NUL) into `out`. Returns 0
//  or -EIO.
int lpx_drain_uuid (char *out);

#endif
