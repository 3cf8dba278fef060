//  fuzz_logline - libFuzzer target for log-plex's decoders of untrusted text
//
//  The input is split at its first two NUL bytes into a drain URL, a
//  process name and a log text (any bytes). Checked: lpx_drain_url_parse
//  either accepts (a known scheme, a non-empty host, a port in range) or
//  refuses with one line of valid UTF-8; lpx_line_piece never cuts a UTF-8
//  character and always makes progress; lpx_line_format makes one line of
//  valid UTF-8 (no control characters but tab) that a filter for its own
//  process and source matches, and that lpx_drain_frame turns into an
//  octet-counted frame whose count is right.
//
//  The whole input is also a log.batch's packed `lines` (msg_logbatch.h,
//  the bytes log-plex decodes from any producer): msg_logbatch_check either
//  counts its lines or refuses it with one line of valid UTF-8; when it
//  counts them, msg_logbatch_next reads exactly that many, each with a
//  source and process that log-plex's rules accept and a text inside the
//  input, each formats as above, and packing them again with
//  msg_logbatch_add gives the input back byte for byte. A broken rule
//  abort()s; `make fuzz` builds this with clang, the replay main runs the
//  corpus.

#include "../../actors/log-plex/drain_url.h"
#include "../../actors/log-plex/filter.h"
#include "../../actors/log-plex/line.h"
#include "../../messages/msg_logbatch.h"
#include "../../messages/msg_pack.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
s_fail (const char *what)
{
    fprintf (stderr, "fuzz-logline: %s\n", what);
    abort ();
}

//  A NUL-terminated copy of `len` bytes at `p`. Caller owns result.
static char *
s_str (const uint8_t *p, size_t len)
{
    char *s = malloc (len + 1);
    if (!s)
        abort ();
    memcpy (s, p, len);
    s [len] = 0;
    return s;
}

static void
s_check_url (const char *url)
{
    lpx_drain_url_t parsed;
    char why [256];
    memset (why, 0x55, sizeof why);
    if (lpx_drain_url_parse (url, &parsed, why, sizeof why) == 0) {
        if (!parsed.host [0] || parsed.port < 0 || parsed.port > 65535
        ||  parsed.scheme > LPX_DRAIN_HTTP)
            s_fail ("an accepted drain URL has no host, a bad port or scheme");
    }
    else if (!memchr (why, 0, sizeof why) || !why [0] || strchr (why, '\n')
         ||  !msg_pack_utf8_valid (why, strlen (why)))
        s_fail ("a drain URL refusal is not one line of valid UTF-8");
}

static void
s_check_line (const char *process, const char *text, size_t len)
{
    size_t off = 0;
    while (off < len) {
        size_t piece = lpx_line_piece (text + off, len - off);
        if (piece == 0 || piece > len - off || piece > LPX_TEXT_MAX)
            s_fail ("lpx_line_piece made no progress or too much");
        const char *source = (off & 1) ? "dynod" : "app";
        const char *proc = lpx_line_process_ok (process) ? process : "web.1";
        size_t flen;
        char *line = lpx_line_format (1700000000123456LL, source, proc, text + off, piece, &flen);
        if (!line || flen != strlen (line) || flen > LPX_LINE_MAX)
            s_fail ("a formatted line has the wrong length");
        if (!msg_pack_utf8_valid (line, flen))
            s_fail ("a formatted line is not valid UTF-8");
        for (size_t i = 0; i < flen; i++)
            if (((unsigned char) line [i] < 0x20 && line [i] != '\t') || line [i] == 0x7f)
                s_fail ("a formatted line holds a control character");
        lpx_filter_t filter;
        const char *why;
        if (lpx_filter_init (&filter, source, proc, NULL, &why) != 0)
            s_fail ("a filter for a valid source and process is refused");
        if (!lpx_filter_match (&filter, line, flen))
            s_fail ("a line does not match a filter for its own source and process");
        size_t cap = LPX_DRAIN_FRAME_MAX (flen);
        char *frame = malloc (cap);
        if (!frame)
            abort ();
        size_t n = lpx_drain_frame (line, flen, "d.00000000-0000-0000-0000-000000000000", frame, cap);
        if (n == 0)
            s_fail ("a formatted line makes no drain frame");
        char *sp = memchr (frame, ' ', n);
        if (!sp || strtoul (frame, NULL, 10) != n - (size_t) (sp - frame) - 1)
            s_fail ("a drain frame's octet count is wrong");
        free (frame);
        free (line);
        off += piece;
    }
}

static void
s_check_batch (const uint8_t *data, size_t size)
{
    const char *bytes = (const char *) data;
    char why [200];
    memset (why, 0x55, sizeof why);
    size_t lines = msg_logbatch_check (bytes, size, why, sizeof why);
    if (lines == 0) {
        if (!memchr (why, 0, sizeof why) || !why [0] || strchr (why, '\n')
        ||  !msg_pack_utf8_valid (why, strlen (why)))
            s_fail ("a batch refusal is not one line of valid UTF-8");
        return;
    }
    msg_logbatch_t again = { 0 };
    msg_logline_t line;
    size_t pos = 0, read = 0;
    while (msg_logbatch_next (bytes, size, &pos, &line)) {
        read++;
        if (!lpx_line_source_ok (line.source) || !lpx_line_process_ok (line.process))
            s_fail ("an accepted batch has a line with a bad source or process");
        if (line.text < bytes || line.text_len > size || line.text + line.text_len >= bytes + size
        ||  line.text [line.text_len] != 0)
            s_fail ("a line's text is outside the batch or lacks its NUL");
        if (msg_logbatch_add (&again, line.ts_us, line.source, line.process, line.text,
                              line.text_len) != 0)
            s_fail ("a line read back cannot be packed again");
        //  Format a bounded piece: the text rules are checked above in full.
        size_t piece = lpx_line_piece (line.text, line.text_len), flen;
        char *formatted = lpx_line_format (line.ts_us, line.source, line.process, line.text,
                                           piece, &flen);
        if (flen != strlen (formatted) || !msg_pack_utf8_valid (formatted, flen))
            s_fail ("a batch line formats to bad UTF-8 or the wrong length");
        free (formatted);
    }
    if (read != lines || pos != size)
        s_fail ("msg_logbatch_next read other lines than msg_logbatch_check counted");
    if (again.lines != lines || again.len != size || memcmp (again.data, data, size) != 0)
        s_fail ("a batch packed again differs from the input");
    msg_logbatch_release (&again);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    s_check_batch (data, size);
    const uint8_t *nul1 = memchr (data, 0, size);
    size_t url_len = nul1 ? (size_t) (nul1 - data) : size;
    char *url = s_str (data, url_len);
    s_check_url (url);
    free (url);
    if (!nul1)
        return 0;
    const uint8_t *rest = nul1 + 1;
    size_t rest_len = size - url_len - 1;
    const uint8_t *nul2 = memchr (rest, 0, rest_len);
    size_t proc_len = nul2 ? (size_t) (nul2 - rest) : rest_len;
    char *process = s_str (rest, proc_len);
    const char *text = nul2 ? (const char *) nul2 + 1 : "";
    size_t text_len = nul2 ? rest_len - proc_len - 1 : 0;
    s_check_line (process, text, text_len);
    free (process);
    return 0;
}
