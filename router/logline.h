//  logline - the router's per-request log line, in Heroku's format
//
//  `at=info method=GET path="/" host=APP.localhost request_id=… fwd="127.0.0.1"
//  dyno=web.1 connect=1ms service=18ms status=200 bytes=13 protocol=http`;
//  errors start `at=error code=H14 desc="No web processes running"` (H27
//  and H28 `at=warning`, H80 and H81 `at=info`) and leave the fields that
//  do not apply empty (`dyno= connect= service=`).
//  Pure formatting: no state.

#ifndef RTR_LOGLINE_H
#define RTR_LOGLINE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *code;           // `H14`, or NULL for at=info
    const char *sock;           // `backend` (H18), or NULL
    const char *method;
    const char *path;
    const char *host;
    const char *request_id;
    const char *fwd;
    const char *dyno;           // NULL: empty
    int64_t connect_ms;         // < 0: empty
    int64_t service_ms;         // < 0: empty
    int status;
    int64_t bytes;              // < 0: empty
    const char *protocol;       // `http`
} rtr_logline_t;

//  Heroku's description of an H code (`No web processes running`), or
//  NULL for a code it does not know. Borrowed, static storage.
const char *rtr_logline_desc (const char *code);

//  Writes the line into `out` (`cap` bytes, truncated, NUL-terminated).
void rtr_logline_format (const rtr_logline_t *line, char *out, size_t cap);

#endif
