//  ring - a bounded buffer of log lines, oldest dropped first
//
//  A circular array of `capacity` slots; `head` is the slot the next line
//  goes to, so once full it is also the oldest line's slot.

#include "ring.h"
#include "../common/act_base.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define LPX_RING_TAG        0x72696e67u     // "ring"
#define LPX_RING_TAG_DEAD   0xdeadbeefu

struct lpx_ring {
    uint32_t tag;
    lpx_entry_t **slots;        // one reference each, `capacity` of them
    size_t capacity;
    size_t count;
    size_t head;                // next slot written
    uint64_t total;
    size_t bytes;
};

lpx_ring_t *
lpx_ring_new (size_t capacity)
{
    assert (capacity >= 1);
    lpx_ring_t *self = act_calloc (1, sizeof *self);
    self->tag = LPX_RING_TAG;
    self->slots = act_calloc (capacity, sizeof *self->slots);
    self->capacity = capacity;
    return self;
}

void
lpx_ring_destroy (lpx_ring_t **self_p)
{
    lpx_ring_t *self = *self_p;
    if (!self)
        return;
    assert (self->tag == LPX_RING_TAG);
    for (size_t i = 0; i < self->capacity; i++)
        lpx_entry_unref (&self->slots [i]);
    free (self->slots);
    self->tag = LPX_RING_TAG_DEAD;
    free (self);
    *self_p = NULL;
}

void
lpx_ring_push (lpx_ring_t *self, const char *line, size_t len)
{
    lpx_ring_push_entry (self, lpx_entry_new (line, len));
}

void
lpx_ring_push_entry (lpx_ring_t *self, lpx_entry_t *entry)
{
    assert (self && self->tag == LPX_RING_TAG);
    lpx_entry_t **slot = &self->slots [self->head];
    if (*slot) {
        self->bytes -= (*slot)->len;
        lpx_entry_unref (slot);
    }
    else
        self->count++;
    *slot = entry;
    self->bytes += entry->len;
    self->head = (self->head + 1) % self->capacity;
    self->total++;
}

size_t
lpx_ring_count (const lpx_ring_t *self)
{
    assert (self && self->tag == LPX_RING_TAG);
    return self->count;
}

size_t
lpx_ring_capacity (const lpx_ring_t *self)
{
    assert (self && self->tag == LPX_RING_TAG);
    return self->capacity;
}

uint64_t
lpx_ring_total (const lpx_ring_t *self)
{
    assert (self && self->tag == LPX_RING_TAG);
    return self->total;
}

size_t
lpx_ring_bytes (const lpx_ring_t *self)
{
    assert (self && self->tag == LPX_RING_TAG);
    return self->bytes;
}

lpx_entry_t *
lpx_ring_entry (const lpx_ring_t *self, size_t i)
{
    assert (self && self->tag == LPX_RING_TAG);
    if (i >= self->count)
        return NULL;
    //  The oldest line sits at head once the ring is full, at 0 before.
    size_t oldest = self->count == self->capacity ? self->head : 0;
    return self->slots [(oldest + i) % self->capacity];
}

const char *
lpx_ring_get (const lpx_ring_t *self, size_t i, size_t *len_p)
{
    lpx_entry_t *entry = lpx_ring_entry (self, i);
    if (!entry)
        return NULL;
    if (len_p)
        *len_p = entry->len;
    return entry->text;
}
