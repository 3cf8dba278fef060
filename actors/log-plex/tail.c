//  tail - the queue of lines one tail session has yet to send
//
//  A circular array of `max_lines` entry pointers; `head` is the oldest.

#include "tail.h"
#include "line.h"
#include "../common/act_base.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LPX_TAIL_TAG        0x7461696cu     // "tail"
#define LPX_TAIL_TAG_DEAD   0xdeadbeefu

struct lpx_tail {
    uint32_t tag;
    lpx_entry_t **slots;        // one reference each, `max_lines` of them
    size_t max_lines;
    size_t max_bytes;
    size_t head;
    size_t count;
    size_t bytes;
    uint64_t dropped;           // since the last notice
    int64_t dropped_since_us;   // when the first of them was dropped
    uint64_t dropped_total;
};

lpx_tail_t *
lpx_tail_new (size_t max_lines, size_t max_bytes)
{
    assert (max_lines >= 1);
    lpx_tail_t *self = act_calloc (1, sizeof *self);
    self->tag = LPX_TAIL_TAG;
    self->slots = act_calloc (max_lines, sizeof *self->slots);
    self->max_lines = max_lines;
    self->max_bytes = max_bytes;
    return self;
}

//  Removes the oldest line; returns it (the caller owns the reference).
static lpx_entry_t *
s_pop (lpx_tail_t *self)
{
    lpx_entry_t *entry = self->slots [self->head];
    self->slots [self->head] = NULL;
    self->head = (self->head + 1) % self->max_lines;
    self->count--;
    self->bytes -= entry->len;
    return entry;
}

void
lpx_tail_destroy (lpx_tail_t **self_p)
{
    lpx_tail_t *self = *self_p;
    if (!self)
        return;
    assert (self->tag == LPX_TAIL_TAG);
    while (self->count) {
        lpx_entry_t *entry = s_pop (self);
        lpx_entry_unref (&entry);
    }
    free (self->slots);
    self->tag = LPX_TAIL_TAG_DEAD;
    free (self);
    *self_p = NULL;
}

void
lpx_tail_lost (lpx_tail_t *self, uint64_t count, int64_t now_us)
{
    assert (self && self->tag == LPX_TAIL_TAG);
    if (count == 0)
        return;
    if (self->dropped == 0)
        self->dropped_since_us = now_us;
    self->dropped += count;
    self->dropped_total += count;
}

void
lpx_tail_push (lpx_tail_t *self, lpx_entry_t *entry, int64_t now_us)
{
    assert (self && self->tag == LPX_TAIL_TAG);
    while (self->count > 0
       && (self->count == self->max_lines || self->bytes + entry->len > self->max_bytes)) {
        lpx_entry_t *old = s_pop (self);
        lpx_entry_unref (&old);
        lpx_tail_lost (self, 1, now_us);
    }
    self->slots [(self->head + self->count) % self->max_lines] = entry;
    self->count++;
    self->bytes += entry->len;
}

bool
lpx_tail_pending (const lpx_tail_t *self)
{
    return self->count > 0 || self->dropped > 0;
}

uint64_t
lpx_tail_dropped (const lpx_tail_t *self)
{
    return self->dropped_total;
}

size_t
lpx_tail_fill (lpx_tail_t *self, char *buf, size_t cap, int64_t now_us)
{
    assert (self && self->tag == LPX_TAIL_TAG);
    size_t pos = 0;
    if (self->dropped) {
        char now [LPX_TIME_LEN + 1], since [LPX_TIME_LEN + 1];
        lpx_line_time (now_us, now);
        lpx_line_time (self->dropped_since_us, since);
        int n = snprintf (buf, cap, "%s dynod[log-plex]: Error L11 (Tail buffer overflow) -> "
                          "This tail session dropped %" PRIu64 " messages since %s\n",
                          now, self->dropped, since);
        if (n < 0 || (size_t) n >= cap)
            return 0;
        pos = (size_t) n;
        self->dropped = 0;
    }
    while (self->count > 0) {
        lpx_entry_t *entry = self->slots [self->head];
        size_t len = entry->len;
        if (pos + len + 1 > cap) {
            if (pos > 0)
                break;
            len = cap - 1;
        }
        memcpy (buf + pos, entry->text, len);
        buf [pos + len] = '\n';
        pos += len + 1;
        entry = s_pop (self);
        lpx_entry_unref (&entry);
    }
    return pos;
}
