//  offline - an actor definition driven under act_offline, message by message
//
//  The suites that test one actor's handlers (test_cfg_keeper.c,
//  test_rel_releases.c, test_lpx_plex.c, test_sch_releases.c) run the real
//  definition with no broker: they build messages as the journal (or the
//  CLI) would deliver them, feed them one at a time, and look at what the
//  actor sent while handling the last one.
//
//  The caller owns the ut_offline_t (on its stack, usually); open/close own
//  the actor and the last output in it. A failed check ends the test with
//  UNIT_FAIL, so nothing here returns an error.

#ifndef UT_OFFLINE_H
#define UT_OFFLINE_H

#include "unit.h"
#include "../../actors/common/act_offline.h"

#include <stddef.h>
#include <stdint.h>

//  The timestamp of the messages made: UT_OFFLINE_TS + their number.
#define UT_OFFLINE_TS   1700000000000LL

typedef struct {
    act_t *act;                 // `def->name`@t1
    const char *name;           // def->name: the `to` of what is fed
    msg_t **out;                // what the actor sent for the last message fed
    size_t count;
    int next_id;                // the number of the last message made: its id,
                                // journal seq and timestamp come from it
} ut_offline_t;

//  Creates the actor of `def` as `def->name`@t1, its rng seeded by `seed`.
void ut_offline_open (ut_offline_t *self, const act_def_t *def, uint64_t seed);

//  Destroys the actor and the last output.
void ut_offline_close (ut_offline_t *self);

//  The actor's state (what def->create returned). Borrowed.
void *ut_offline_state (ut_offline_t *self);

//  A journaled message `type` from `from` to the actor: the next number
//  makes its id (%032x), seq and ts (UT_OFFLINE_TS + number). Set seq to 0
//  for one that is not journaled. The caller fills the body and owns the
//  result.
msg_t *ut_offline_msg (ut_offline_t *self, msg_type_id_t type, const char *from);

//  Feeds `msg` (borrowed); what the actor sent replaces the last output.
void ut_offline_feed (ut_offline_t *self, msg_t *msg);

//  Feeds, then destroys *msg_p.
void ut_offline_feed_take (ut_offline_t *self, msg_t **msg_p);

//  The `nth` (0: first) message of `type` in the last output, or NULL.
//  Borrowed.
msg_t *ut_offline_out_nth (ut_offline_t *self, msg_type_id_t type, int nth);

//  The first message of `type` in the last output, or NULL. Borrowed.
msg_t *ut_offline_out (ut_offline_t *self, msg_type_id_t type);

//  How many messages of `type` the last output holds.
int ut_offline_count (ut_offline_t *self, msg_type_id_t type);

#endif
