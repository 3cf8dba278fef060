//  offline - an actor definition driven under act_offline, message by message
//
//  See offline.h.

#include "offline.h"

void
ut_offline_open (ut_offline_t *self, const act_def_t *def, uint64_t seed)
{
    memset (self, 0, sizeof *self);
    self->name = def->name;
    self->act = act_offline_new (def, "t1", seed);
    CHECK_NOT_NULL (self->act);
}

void
ut_offline_close (ut_offline_t *self)
{
    act_offline_free_out (&self->out, self->count);
    self->count = 0;
    act_offline_destroy (&self->act);
}

void *
ut_offline_state (ut_offline_t *self)
{
    return act_offline_state (self->act);
}

msg_t *
ut_offline_msg (ut_offline_t *self, msg_type_id_t type, const char *from)
{
    msg_t *msg = msg_new (type);
    char id [MSG_ID_LEN + 1];
    self->next_id++;
    snprintf (id, sizeof id, "%032x", self->next_id);
    msg_set_id (msg, id);
    msg_set_from (msg, from);
    msg_set_to (msg, self->name);
    msg->seq = (uint64_t) self->next_id;
    msg->ts = UT_OFFLINE_TS + self->next_id;
    return msg;
}

void
ut_offline_feed (ut_offline_t *self, msg_t *msg)
{
    act_offline_free_out (&self->out, self->count);
    act_offline_feed (self->act, msg, &self->out, &self->count);
}

void
ut_offline_feed_take (ut_offline_t *self, msg_t **msg_p)
{
    ut_offline_feed (self, *msg_p);
    msg_destroy (msg_p);
}

msg_t *
ut_offline_out_nth (ut_offline_t *self, msg_type_id_t type, int nth)
{
    for (size_t i = 0; i < self->count; i++)
        if (self->out [i]->type->id == type && nth-- == 0)
            return self->out [i];
    return NULL;
}

msg_t *
ut_offline_out (ut_offline_t *self, msg_type_id_t type)
{
    return ut_offline_out_nth (self, type, 0);
}

int
ut_offline_count (ut_offline_t *self, msg_type_id_t type)
{
    int n = 0;
    for (size_t i = 0; i < self->count; i++)
        n += self->out [i]->type->id == type;
    return n;
}
