//  tester - the test actor the act suites run with act_run
//
//  `tester` counts the `actor.up` events it handles and, for each
//  `actor.down` it gets, sends an act_request `ping` to the address in the
//  event's `name`, waiting `pid` ms; its status `detail` shows the counts
//  and the last request's outcome (ups, asked, answered, request_rc,
//  request_from). `counter` is the same actor with snapshot hooks. (`ping`,
//  `status` and `stop` are answered by the runtime itself, so the durable
//  messages a test counts are `actor.up` events.) Each runs in a forked
//  child that owns all of its state.

#ifndef UT_TESTER_H
#define UT_TESTER_H

#include "support.h"

#define UT_FIXED_NOW_MS 1700000000000LL

//  The plain test actor.
extern const act_def_t ut_tester;
//  The same actor, stateful: snapshots every 2 durable messages and at stop.
extern const act_def_t ut_counter;

//  How to run one of them. The caller owns the struct and the strings.
typedef struct {
    const act_def_t *def;
    const char *endpoint;
    const char *instance;
    const char *data_dir;               // NULL: no snapshots
    int heartbeat_ms;                   // 0: the runtime's default
    uint64_t seed;                      // 0: from the OS
    bool fixed_clock;                   // act_now answers UT_FIXED_NOW_MS
} ut_actor_t;

//  Forks a child that runs the actor (token UT_TOKEN, host `unit-host`)
//  and exits 0 when act_run returns 0. Returns the child's pid; the caller
//  reaps it (ut_wait_exit).
pid_t ut_actor_start (const ut_actor_t *a);

//  The integer `key` of a status reply's detail (borrowed); fails the test
//  when there is none.
int64_t ut_detail_int (const msg_t *status, const char *key);

#endif
