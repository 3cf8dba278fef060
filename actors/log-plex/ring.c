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

typedef struct {
    char *text;                 // owned, NUL-terminated
    size_t len;
} lpx_slot_t;

struct lpx_ring {
    uint32_t tag;
    lpx_slot_t *slots;          // owned, `capacity` of them
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
        free (self->slots [i].text);
    free (self->slots);
    self->tag = LPX_RING_TAG_DEAD;
    free (self);
    *self_p = NULL;
}

void
lpx_ring_push (lpx_ring_t *self, const char *line, size_t len)
{
    assert (self && self->tag == LPX_RING_TAG);
    lpx_slot_t *slot = &self->slots [self->head];
    if (slot->text) {
        self->bytes -= slot->len;
        free (slot->text);
    }
    else
        self->count++;
    slot->text = act_malloc (len + 1);
    memcpy (slot->text, line, len);
    slot->text [len] = 0;
    slot->len = len;
    self->bytes += len;
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

const char *
lpx_ring_get (const lpx_ring_t *self, size_t i, size_t *len_p)
{
    assert (self && self->tag == LPX_RING_TAG);
    if (i >= self->count)
        return NULL;
    //  The oldest line sits at head once the ring is full, at 0 before.
    size_t oldest = self->count == self->capacity ? self->head : 0;
    const lpx_slot_t *slot = &self->slots [(oldest + i) % self->capacity];
    if (len_p)
        *len_p = slot->len;
    return slot->text;
}
