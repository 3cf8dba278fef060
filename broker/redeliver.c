//  redeliver - held durable messages going out to their actors
//
//  The broker's part of at-least-once delivery that runs after the journal:
//  which held messages are due to which actor, handing them out at most
//  BRK_INFLIGHT_MAX in flight per actor, and the per-actor backlog flag
//  (brk_flow_t) that says whether a later `delivered` or tick must send
//  more. State lives in brk_t (flows) and the directory's held list.

#include "broker_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---------------------------------------------------------------------------
//  Redelivery state per actor (brk_flow_t)

//  Borrowed, valid until the next brk_flow_forget; NULL before the actor's
//  first redelivery.
static brk_flow_t *
s_flow_find (brk_t *self, const char *address)
{
    for (size_t i = 0; i < self->flow_count; i++)
        if (strcmp (self->flows [i].address, address) == 0)
            return &self->flows [i];
    return NULL;
}

//  Records whether the actor at `address` has held messages left to send.
void
brk_flow_set (brk_t *self, const char *address, bool backlog)
{
    brk_flow_t *flow = s_flow_find (self, address);
    if (!flow) {
        //  One per live actor, so there is always room; were there none,
        //  that actor would only be rescanned on every brk_redeliver.
        if (self->flow_count == BRK_PEERS_MAX)
            return;
        flow = &self->flows [self->flow_count++];
        snprintf (flow->address, sizeof flow->address, "%s", address);
        flow->backlog = false;
    }
    if (backlog && !flow->backlog)
        self->backlog_count++;
    else if (!backlog && flow->backlog)
        self->backlog_count--;
    flow->backlog = backlog;
}

void
brk_flow_forget (brk_t *self, const char *address)
{
    brk_flow_t *flow = s_flow_find (self, address);
    if (!flow)
        return;
    if (flow->backlog)
        self->backlog_count--;
    *flow = self->flows [--self->flow_count];
}

// ---------------------------------------------------------------------------
//  Held messages

//  True when `held` should go to `peer` now: addressed to it or to its name,
//  and not with a live peer already (`peer` included: then it is in flight
//  there).
static bool
s_held_due (brk_t *self, const brk_peer_t *peer, const brk_held_t *held)
{
    if (strcmp (held->dest, peer->address) != 0 && strcmp (held->dest, peer->name) != 0)
        return false;
    return !held->assigned
        || (strcmp (held->assigned, peer->address) != 0
            && !brk_directory_by_address (self->dir, held->assigned));
}

//  Sends `peer` the held messages due to it, oldest first, until it has
//  BRK_INFLIGHT_MAX assigned. Returns true when none is left to send.
static bool
s_redeliver_some (brk_t *self, brk_peer_t *peer)
{
    size_t inflight = brk_held_assigned_count (self->dir, peer->address);
    size_t room = inflight < BRK_INFLIGHT_MAX ? BRK_INFLIGHT_MAX - inflight : 0;
    for (size_t i = 0; i < brk_held_count (self->dir); i++) {
        brk_held_t *held = brk_held_at (self->dir, i);
        if (!s_held_due (self, peer, held))
            continue;
        if (room == 0)
            return false;
        char *data;
        size_t len;
        int rc = brk_journal_get (self->journal, held->seq, &data, &len);
        if (rc) {
            //  Tried again at the actor's next hello.
            act_log_warn ("cannot read held message %llu for %s: %s",
                          (unsigned long long) held->seq, peer->address, act_strerror (rc));
            continue;
        }
        rc = brk_send_peer (self, peer, data, len);
        free (data);
        if (rc)
            return false;       // its queue is full or it is gone: later
        brk_held_assign (self->dir, held, peer->address);
        room--;
    }
    return true;
}

void
brk_redeliver (brk_t *self, brk_peer_t *peer)
{
    if (!peer->actor)
        return;                 // clients are never handed held messages
    brk_flow_t *flow = s_flow_find (self, peer->address);
    if (flow && !flow->backlog)
        return;                 // everything due to it went out already
    brk_flow_set (self, peer->address, !s_redeliver_some (self, peer));
}

//  Redeliveries cut short by a full queue get no `delivered` when nothing
//  else is in flight, so each tick tries them again.
void
brk_resume_backlogs (brk_t *self)
{
    for (size_t i = 0; i < self->flow_count && self->backlog_count > 0; i++) {
        if (!self->flows [i].backlog)
            continue;
        brk_peer_t *peer = brk_directory_by_address (self->dir, self->flows [i].address);
        if (peer)
            brk_redeliver (self, peer);
    }
}

