//  msg_logbatch - the packed `lines` field of a log.batch
//
//  A log.batch carries its lines in one bin field, so decoding a batch
//  costs one allocation however many lines it holds (the jansson string of
//  the field), not a map, four keys and four values per line. The bytes
//  are records back to back, one per line:
//
//      ts_us    int64, little-endian: µs since the epoch
//      source   `app` or `dynod`, then a NUL byte
//      process  1 to MSG_LOGBATCH_NAME_MAX of `[A-Za-z0-9._-]`, then a NUL
//      length   uint32, little-endian: bytes of text
//      text     that many bytes (any bytes: the reader repairs and escapes
//               them), then a NUL byte
//
//  The NULs make every field usable as a C string in place (a text with a
//  NUL inside still has its length). A batch is well formed when its bytes
//  are exactly a run of such records, at least one; msg_logbatch_check
//  says why not. Producers build batches with msg_logbatch_add, which
//  refuses a line that would make the batch malformed.
//
//  Owns nothing but the builder's buffer; no state.

#ifndef MSG_LOGBATCH_H
#define MSG_LOGBATCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MSG_LOGBATCH_NAME_MAX   64      // bytes of a process name
//  The fixed bytes of a record: ts, two NULs, length, the text's NUL.
#define MSG_LOGBATCH_OVERHEAD   (8 + 2 + 4 + 1)

//  One line read from a batch. Every pointer is borrowed from the batch's
//  bytes, valid while they are; each field is followed by a NUL.
typedef struct {
    int64_t ts_us;
    const char *source;
    const char *process;
    const char *text;
    size_t text_len;
} msg_logline_t;

//  A batch being built: caller-owned, start it zeroed
//  (`msg_logbatch_t batch = { 0 };`), msg_logbatch_release at the end.
typedef struct {
    char *data;                 // owned
    size_t len;                 // bytes of records
    size_t cap;
    size_t lines;               // records in data
} msg_logbatch_t;

//  True for a line's source: `app`, `dynod`.
bool msg_logbatch_source_ok (const char *source);
//  True for a process name: 1 to MSG_LOGBATCH_NAME_MAX of `[A-Za-z0-9._-]`.
bool msg_logbatch_process_ok (const char *process);

//  Appends one line (`text_len` bytes at `text`, any bytes). Returns 0, or
//  -EINVAL (nothing appended) for a bad source or process or a text over
//  UINT32_MAX bytes.
int msg_logbatch_add (msg_logbatch_t *self, int64_t ts_us, const char *source,
                      const char *process, const char *text, size_t text_len);

//  The records as a jansson string for the `lines` field (caller owns
//  result: give it to msg_set_json); the builder is emptied for the next
//  batch and keeps its buffer.
json_t *msg_logbatch_take (msg_logbatch_t *self);

//  Frees the builder's buffer; it may be used again as if zeroed.
void msg_logbatch_release (msg_logbatch_t *self);

//  Checks that the `len` bytes at `data` are a well-formed batch. Returns
//  the number of lines (at least 1), or 0 with one line saying what is
//  wrong and where in `why` (`why_len` bytes).
size_t msg_logbatch_check (const char *data, size_t len, char *why, size_t why_len);

//  Reads the line at *pos (start at 0) into `line` and moves *pos past it.
//  Returns false at the end or at a malformed record (check first to tell
//  which).
bool msg_logbatch_next (const char *data, size_t len, size_t *pos, msg_logline_t *line);

//  Line `index` of a log.batch body's `lines`, or false when there is no
//  such line or the field is missing or malformed (for tests and tools).
bool msg_logbatch_get (const json_t *body, size_t index, msg_logline_t *line);

#endif
