//  replay - feeds an actor's journaled inputs into a fresh instance and
//  compares what it emits with what the journal recorded

#include "replay.h"
#include "../actors/common/act_offline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLAY_INSTANCE "replay"
#define REPLAY_SEED     1

struct dnd_replay {
    const act_def_t *def;       // borrowed, static
    uint64_t from, to;
    bool history;               // inputs before `from` build the state first
    msg_t **entries;            // owned, in sequence order
    size_t count, cap;
};

dnd_replay_t *
dnd_replay_new (const act_def_t *def, uint64_t from, uint64_t to, bool history)
{
    dnd_replay_t *self = act_calloc (1, sizeof *self);
    self->def = def;
    self->from = from ? from : 1;
    self->to = to ? to : UINT64_MAX;
    self->history = history;
    return self;
}

void
dnd_replay_destroy (dnd_replay_t **self_p)
{
    dnd_replay_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->count; i++)
        msg_destroy (&self->entries [i]);
    free (self->entries);
    free (self);
    *self_p = NULL;
}

bool
dnd_replay_add (dnd_replay_t *self, const void *data, size_t len)
{
    msg_error_t err;
    msg_t *msg = msg_decode (data, len, MSG_DECODE_FULL, &err);
    if (!msg)
        return false;
    if (msg->seq < self->from && !self->history) {
        msg_destroy (&msg);
        return true;
    }
    if (self->count == self->cap) {
        self->cap = self->cap ? self->cap * 2 : 256;
        self->entries = act_realloc (self->entries, self->cap * sizeof *self->entries);
    }
    self->entries [self->count++] = msg;
    return true;
}

//  True when `addr` (name or name@instance) names the actor.
static bool
s_is_actor (const dnd_replay_t *self, const char *addr)
{
    size_t n = strlen (self->def->name);
    return strncmp (addr, self->def->name, n) == 0 && (addr [n] == 0 || addr [n] == '@');
}

static bool
s_is_input (const dnd_replay_t *self, const msg_t *msg)
{
    if (msg->seq > self->to)
        return false;
    if (s_is_actor (self, msg->to))
        return true;
    if (msg_addr_is_topic (msg->to) && self->def->topics)
        for (const char *const *t = self->def->topics; *t; t++)
            if (strcmp (msg->to + strlen ("topic:"), *t) == 0)
                return true;
    return false;
}

//  What is compared of an output. Caller owns result.
static json_t *
s_view (const msg_t *msg)
{
    return json_pack ("{s:s, s:s, s:s, s:O}", "type", msg->type->name, "to", msg->to,
                      "corr", msg->corr, "body", msg->body);
}

//  Indexes the actor's recorded outputs by `corr`: corr -> [entry index].
//  Caller owns result.
static json_t *
s_index (dnd_replay_t *self)
{
    json_t *by_corr = json_object ();
    for (size_t i = 0; i < self->count; i++) {
        msg_t *m = self->entries [i];
        if (!m->corr [0] || !s_is_actor (self, m->from))
            continue;
        json_t *list = json_object_get (by_corr, m->corr);
        if (!list) {
            list = json_array ();
            json_object_set_new (by_corr, m->corr, list);
        }
        json_array_append_new (list, json_integer ((json_int_t) i));
    }
    return by_corr;
}

//  The recorded outputs of `input`, in order, skipping ids already used
//  (a follow-on re-sent after a restart is journaled twice). Sets *out_p
//  (caller owns the array; the messages are borrowed); returns how many.
static size_t
s_recorded (dnd_replay_t *self, const json_t *by_corr, const msg_t *input, json_t *used,
            msg_t ***out_p)
{
    json_t *list = json_object_get (by_corr, input->id);
    msg_t **out = act_calloc (json_array_size (list) + 1, sizeof *out);
    size_t n = 0, i;
    json_t *index;
    json_array_foreach (list, i, index) {
        msg_t *m = self->entries [json_integer_value (index)];
        if (json_object_get (used, m->id))
            continue;
        json_object_set_new (used, m->id, json_true ());
        out [n++] = m;
    }
    *out_p = out;
    return n;
}

//  Compares one input's outputs. Returns true when they match; otherwise
//  fills the divergence in `result`.
static bool
s_compare (msg_t **recorded, size_t nrec, msg_t **emitted, size_t nemit,
           dnd_replay_result_t *result)
{
    size_t k = 0;
    for (size_t e = 0; e < nemit || k < nrec; e++) {
        while (e < nemit && !emitted [e]->durable)
            e++;
        if (e >= nemit && k >= nrec)
            break;
        json_t *want = k < nrec ? s_view (recorded [k]) : NULL;
        json_t *got = e < nemit ? s_view (emitted [e]) : NULL;
        if (!want || !got || !json_equal (want, got)) {
            result->index = k;
            result->expected = want;
            result->got = got;
            return false;
        }
        json_decref (want);
        json_decref (got);
        result->matched++;
        k++;
    }
    return true;
}

int
dnd_replay_run (dnd_replay_t *self, dnd_replay_result_t *result)
{
    memset (result, 0, sizeof *result);
    act_t *act = act_offline_new (self->def, REPLAY_INSTANCE, REPLAY_SEED);
    json_t *used = json_object ();
    json_t *by_corr = s_index (self);
    int rc = 0;
    for (size_t i = 0; i < self->count && rc == 0; i++) {
        msg_t *input = self->entries [i];
        if (!s_is_input (self, input))
            continue;
        if (input->seq < self->from) {
            //  History: builds the state the compared inputs start from.
            msg_t **out;
            size_t n;
            act_offline_feed (act, input, &out, &n);
            act_offline_free_out (&out, n);
            continue;
        }
        if (!result->first_seq)
            result->first_seq = input->seq;
        result->last_seq = input->seq;
        result->inputs++;
        msg_t **emitted;
        size_t nemit;
        act_offline_feed (act, input, &emitted, &nemit);
        msg_t **recorded;
        size_t nrec = s_recorded (self, by_corr, input, used, &recorded);
        if (!s_compare (recorded, nrec, emitted, nemit, result)) {
            result->seq = input->seq;
            snprintf (result->input, sizeof result->input, "%s %s", input->type->name, input->id);
            rc = 1;
        }
        free (recorded);
        act_offline_free_out (&emitted, nemit);
    }
    json_decref (used);
    json_decref (by_corr);
    act_offline_destroy (&act);
    return rc;
}

void
dnd_replay_result_release (dnd_replay_result_t *result)
{
    json_decref (result->expected);
    json_decref (result->got);
    result->expected = result->got = NULL;
}
