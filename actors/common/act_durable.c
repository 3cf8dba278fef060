//  act_durable - at-least-once delivery, the actor's side
//
//  Sending: a durable message is kept (encoded) until the broker's `ack`
//  says it is journaled; after a reconnect every unacked one is sent again
//  with the same id, and receivers drop the repeat by id.
//
//  Receiving: the actor handles messages in the order the broker sent them,
//  so after each batch one `delivered` naming the last durable message it
//  received (handled, or dropped as a duplicate) covers the whole batch.
//  Journal replays and topic messages are not held by the broker for this
//  actor, so they never move the mark.

#include "act_internal.h"

#include <stdlib.h>
#include <string.h>

int
act_durable_track (act_t *self, const char *id, const char *data, size_t len)
{
    if (!self->unacked) {
        self->unacked = act_calloc (ACT_UNACKED_MAX, sizeof *self->unacked);
        self->unacked_ids = act_calloc (ACT_UNACKED_MAX, sizeof *self->unacked_ids);
    }
    if (self->unacked_len >= ACT_UNACKED_MAX)
        return ACT_EFULL;
    act_frame_t *frame = &self->unacked [self->unacked_len];
    frame->data = act_malloc (len);
    memcpy (frame->data, data, len);
    frame->len = len;
    memcpy (self->unacked_ids [self->unacked_len], id, MSG_ID_LEN + 1);
    self->unacked_len++;
    return 0;
}

void
act_durable_on_ack (act_t *self, const char *id)
{
    //  Acks come in send order, so the match is almost always the first.
    for (size_t i = 0; i < self->unacked_len; i++)
        if (strcmp (self->unacked_ids [i], id) == 0) {
            free (self->unacked [i].data);
            memmove (&self->unacked [i], &self->unacked [i + 1],
                     (self->unacked_len - i - 1) * sizeof *self->unacked);
            memmove (&self->unacked_ids [i], &self->unacked_ids [i + 1],
                     (self->unacked_len - i - 1) * sizeof *self->unacked_ids);
            self->unacked_len--;
            return;
        }
}

void
act_durable_resend (act_t *self)
{
    for (size_t i = 0; i < self->unacked_len; i++) {
        char *copy = act_malloc (self->unacked [i].len);
        memcpy (copy, self->unacked [i].data, self->unacked [i].len);
        act_send_frame (self, copy, self->unacked [i].len);
    }
}

void
act_durable_received (act_t *self, const msg_t *msg)
{
    if (self->replaying || msg_addr_is_topic (msg->to))
        return;
    self->delivered_mark = msg->seq;
    self->delivered_dirty = true;
}

void
act_flush_delivered (act_t *self)
{
    if (!self->delivered_dirty || self->conn != ACT_CONN_READY)
        return;
    msg_t *done = act_control_msg_new (self, MSG_TYPE_DELIVERED, "broker");
    msg_set_int (done, "seq", (int64_t) self->delivered_mark);
    if (act_send_internal (self, &done, true) == 0)
        self->delivered_dirty = false;
}

void
act_durable_release (act_t *self)
{
    for (size_t i = 0; i < self->unacked_len; i++)
        free (self->unacked [i].data);
    free (self->unacked);
    free (self->unacked_ids);
    self->unacked = NULL;
    self->unacked_ids = NULL;
    self->unacked_len = 0;
}
