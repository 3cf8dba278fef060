//  brk_directory - the broker's directory of live peers and held messages
//
//  Peers live in a fixed array (swap-remove); held messages in a growing
//  array kept in seq order with a moving start, since releases come mostly
//  in order.

#include "directory.h"
#include "../actors/common/act_base.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define DIRECTORY_TAG      0x64697221u  // "dir!"
#define DIRECTORY_TAG_DEAD 0xdeadbeefu

struct brk_directory {
    uint32_t tag;                       // DIRECTORY_TAG; asserted on entry
    brk_peer_t *peers;
    size_t peer_count;
    size_t rotate;                      // round-robin cursor for pick
    brk_held_t *held;
    size_t held_start, held_end, held_cap;
    uint64_t sent_order;                // last order handed out by assign
};

brk_directory_t *
brk_directory_new (void)
{
    brk_directory_t *self = act_calloc (1, sizeof *self);
    self->tag = DIRECTORY_TAG;
    self->peers = act_calloc (BRK_PEERS_MAX, sizeof *self->peers);
    self->held_cap = 1024;
    self->held = act_calloc (self->held_cap, sizeof *self->held);
    return self;
}

void
brk_directory_destroy (brk_directory_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    brk_directory_t *self = *self_p;
    assert (self->tag == DIRECTORY_TAG);
    self->tag = DIRECTORY_TAG_DEAD;
    for (size_t i = self->held_start; i < self->held_end; i++) {
        free (self->held [i].dest);
        free (self->held [i].assigned);
    }
    free (self->held);
    free (self->peers);
    free (self);
    *self_p = NULL;
}

brk_peer_t *
brk_directory_by_rid (brk_directory_t *self, const void *rid, size_t len)
{
    for (size_t i = 0; i < self->peer_count; i++)
        if (self->peers [i].rid_len == len && memcmp (self->peers [i].rid, rid, len) == 0)
            return &self->peers [i];
    return NULL;
}

brk_peer_t *
brk_directory_by_address (brk_directory_t *self, const char *address)
{
    for (size_t i = 0; i < self->peer_count; i++)
        if (strcmp (self->peers [i].address, address) == 0)
            return &self->peers [i];
    return NULL;
}

brk_peer_t *
brk_directory_pick (brk_directory_t *self, const char *name)
{
    size_t n = self->peer_count;
    for (size_t k = 0; k < n; k++) {
        size_t i = (self->rotate + k) % n;
        if (self->peers [i].actor && strcmp (self->peers [i].name, name) == 0) {
            self->rotate = i + 1;
            return &self->peers [i];
        }
    }
    return NULL;
}

brk_peer_t *
brk_directory_other (brk_directory_t *self, const char *name, const brk_peer_t *except)
{
    for (size_t i = 0; i < self->peer_count; i++)
        if (&self->peers [i] != except && self->peers [i].actor
        &&  strcmp (self->peers [i].name, name) == 0)
            return &self->peers [i];
    return NULL;
}

brk_peer_t *
brk_directory_add (brk_directory_t *self)
{
    assert (self->tag == DIRECTORY_TAG);
    if (self->peer_count >= BRK_PEERS_MAX)
        return NULL;
    brk_peer_t *peer = &self->peers [self->peer_count++];
    memset (peer, 0, sizeof *peer);
    return peer;
}

void
brk_directory_remove (brk_directory_t *self, brk_peer_t *peer)
{
    size_t i = (size_t) (peer - self->peers);
    if (i >= self->peer_count)
        return;
    self->peers [i] = self->peers [--self->peer_count];
}

size_t brk_directory_count (brk_directory_t *self) { return self->peer_count; }
brk_peer_t *brk_directory_at (brk_directory_t *self, size_t i) { return &self->peers [i]; }

bool
brk_peer_subscribed (const brk_peer_t *peer, const char *topic)
{
    for (size_t i = 0; i < peer->topic_count; i++)
        if (strcmp (peer->topics [i], topic) == 0)
            return true;
    return false;
}

int
brk_held_push (brk_directory_t *self, uint64_t seq, const char *dest)
{
    assert (self->tag == DIRECTORY_TAG);
    if (self->held_end - self->held_start >= BRK_HELD_MAX)
        return ACT_EFULL;
    if (self->held_end == self->held_cap) {
        size_t live = self->held_end - self->held_start;
        if (self->held_start > self->held_cap / 2)
            memmove (self->held, self->held + self->held_start, live * sizeof *self->held);
        else {
            self->held_cap *= 2;
            self->held = act_realloc (self->held, self->held_cap * sizeof *self->held);
            memmove (self->held, self->held + self->held_start, live * sizeof *self->held);
        }
        self->held_start = 0;
        self->held_end = live;
    }
    brk_held_t *h = &self->held [self->held_end++];
    h->seq = seq;
    h->dest = act_strdup (dest);
    h->assigned = NULL;
    return 0;
}

static size_t
s_held_index (brk_directory_t *self, uint64_t seq)
{
    size_t lo = self->held_start, hi = self->held_end;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (self->held [mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

brk_held_t *
brk_held_find (brk_directory_t *self, uint64_t seq)
{
    size_t i = s_held_index (self, seq);
    return i < self->held_end && self->held [i].seq == seq ? &self->held [i] : NULL;
}

bool
brk_held_release (brk_directory_t *self, uint64_t seq)
{
    size_t i = s_held_index (self, seq);
    if (i >= self->held_end || self->held [i].seq != seq)
        return false;
    free (self->held [i].dest);
    free (self->held [i].assigned);
    if (i == self->held_start)
        self->held_start++;
    else {
        memmove (&self->held [i], &self->held [i + 1], (self->held_end - i - 1) * sizeof *self->held);
        self->held_end--;
    }
    if (self->held_start == self->held_end)
        self->held_start = self->held_end = 0;
    return true;
}

size_t brk_held_count (brk_directory_t *self) { return self->held_end - self->held_start; }
brk_held_t *brk_held_at (brk_directory_t *self, size_t i) { return &self->held [self->held_start + i]; }

void
brk_held_assign (brk_directory_t *self, brk_held_t *held, const char *address)
{
    if (!address || !held->assigned || strcmp (held->assigned, address) != 0) {
        free (held->assigned);
        held->assigned = address ? act_strdup (address) : NULL;
    }
    held->sent_order = address ? ++self->sent_order : 0;
}

size_t
brk_held_release_through (brk_directory_t *self, const char *address, uint64_t seq,
                          void (*fn) (void *arg, uint64_t seq), void *arg)
{
    brk_held_t *mark = brk_held_find (self, seq);
    if (!mark || !mark->assigned || strcmp (mark->assigned, address) != 0)
        return 0;
    uint64_t through = mark->sent_order;
    size_t released = 0;
    size_t i = self->held_start;
    while (i < self->held_end) {
        brk_held_t *h = &self->held [i];
        if (h->assigned && h->sent_order <= through && strcmp (h->assigned, address) == 0) {
            uint64_t done = h->seq;
            brk_held_release (self, done);  // slot i now holds the next one
            if (i < self->held_start)
                i = self->held_start;      // released at the head
            if (fn)
                fn (arg, done);
            released++;
        }
        else
            i++;
    }
    return released;
}

size_t
brk_held_assigned_count (brk_directory_t *self, const char *address)
{
    size_t count = 0;
    for (size_t i = self->held_start; i < self->held_end; i++)
        if (self->held [i].assigned && strcmp (self->held [i].assigned, address) == 0)
            count++;
    return count;
}
