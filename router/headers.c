//  headers - what the router adds to, and strips from, proxied messages

#include "headers.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const s_hop [] = {
    "connection", "keep-alive", "proxy-connection", "proxy-authorization", "te",
    "trailer", "trailers", "transfer-encoding", "upgrade",
};
static const char *const s_replaced [] = {
    "x-forwarded-for", "x-forwarded-proto", "x-forwarded-port", "x-request-start",
    "x-request-id", "via", "content-length", "expect",
};

static bool
s_in (const char *name, size_t len, const char *const *list, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (strlen (list [i]) == len && strncasecmp (list [i], name, len) == 0)
            return true;
    return false;
}

bool
rtr_headers_hop (const char *name, size_t len, const char *connection)
{
    if (s_in (name, len, s_hop, sizeof s_hop / sizeof s_hop [0]))
        return true;
    //  Connection: a comma list of tokens.
    for (const char *p = connection; p && *p; ) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *start = p;
        while (*p && *p != ',' && *p != ' ' && *p != '\t')
            p++;
        if ((size_t) (p - start) == len && len && strncasecmp (start, name, len) == 0)
            return true;
    }
    return false;
}

bool
rtr_headers_replaced (const char *name, size_t len)
{
    return s_in (name, len, s_replaced, sizeof s_replaced / sizeof s_replaced [0]);
}

bool
rtr_headers_request_id_ok (const char *id, size_t len)
{
    if (len == 0 || len > RTR_REQUEST_ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum ((unsigned char) id [i]) && !strchr ("+=/-", id [i]))
            return false;
    return true;
}

//  splitmix64: one step of the worker's generator.
static uint64_t
s_next (uint64_t *rng)
{
    uint64_t z = (*rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void
rtr_headers_uuid (char *out, uint64_t *rng)
{
    static const char hex [] = "0123456789abcdef";
    uint8_t b [16];
    uint64_t hi = s_next (rng), lo = s_next (rng);
    memcpy (b, &hi, 8);
    memcpy (b + 8, &lo, 8);
    b [6] = (b [6] & 0x0f) | 0x40;
    b [8] = (b [8] & 0x3f) | 0x80;
    char *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hex [b [i] >> 4];
        *p++ = hex [b [i] & 15];
    }
    *p = 0;
}

bool
rtr_headers_app (const char *host, size_t len, char *out, size_t cap)
{
    static const char suffix [] = ".localhost";
    const char *colon = memchr (host, ':', len);
    if (colon) {
        for (const char *p = colon + 1; p < host + len; p++)
            if (!isdigit ((unsigned char) *p))
                return false;
        len = (size_t) (colon - host);
    }
    size_t slen = sizeof suffix - 1;
    if (len <= slen || strncasecmp (host + len - slen, suffix, slen) != 0)
        return false;
    size_t alen = len - slen;
    if (alen >= cap)
        return false;
    for (size_t i = 0; i < alen; i++) {
        char c = (char) tolower ((unsigned char) host [i]);
        if (!isalnum ((unsigned char) c) && c != '-')
            return false;
        out [i] = c;
    }
    out [alen] = 0;
    return true;
}
