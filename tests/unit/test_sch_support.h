//  test_sch_support - drives the scheduler under act_offline for its suites
//
//  test_sch_formation.c, test_sch_placement.c and test_sch_rollout.c feed
//  the real scheduler definition messages as release-keeper, the CLI and
//  dyno-supervisors send them: journaled ones (release.created and the
//  formation commands) and soft ones (actor.up/down, dyno.report,
//  dyno.state; seq 0). The scheduler starts settled (it would wait
//  SCH_SETTLE_MS for reports after a real start).

#ifndef TEST_SCH_SUPPORT_H
#define TEST_SCH_SUPPORT_H

#include "unit.h"
#include "offline.h"
#include "../../actors/scheduler/scheduler.h"
#include "../../actors/scheduler/sch_state.h"

#define TS_BORN     1700000000000LL     // app_created_ms of the test apps

//  Opens the scheduler, settled.
void ts_open (ut_offline_t *t);
sch_state_t *ts_state (ut_offline_t *t);

//  release.created v`version` of `app` with process types `types`
//  (consumed; NULL: web only) and slug `blob` (may be NULL).
void ts_release (ut_offline_t *t, const char *app, int64_t version, json_t *types,
                 const char *blob);
//  A journaled command `type` from the CLI with `body` (consumed), by ann.
//  Returns its id in `id` when not NULL.
void ts_cmd (ut_offline_t *t, msg_type_id_t type, json_t *body);
//  A soft (not journaled) message `type` from `from` with `body` (consumed).
void ts_soft (ut_offline_t *t, msg_type_id_t type, const char *from, json_t *body);
//  ps.scale of `app` with one change parsed from e.g. "web", "=", 3.
void ts_scale (ut_offline_t *t, const char *app, const char *type, const char *op, int quantity);

//  actor.up / actor.down of dyno-supervisor@`instance`.
void ts_sup_up (ut_offline_t *t, const char *instance);
void ts_sup_down (ut_offline_t *t, const char *instance);
//  dyno.report from dyno-supervisor@`instance` with `capacity_mb` and
//  `dynos` (consumed; NULL: none).
void ts_report (ut_offline_t *t, const char *instance, int64_t capacity_mb, json_t *dynos);
//  dyno.state of dyno `id` (`name`) of `app` on `instance`: `state`, and
//  exit status `status` when >= 0.
void ts_dyno_state (ut_offline_t *t, const char *instance, const char *app, const char *name,
                    const char *id, const char *state, int status);

//  Feeds back the last output's release.status to the scheduler itself
//  (its journaled verdict, rollout.c), as the broker delivers it. False
//  when there is none.
bool ts_verdict (ut_offline_t *t);

//  The last output's dyno.assign to dyno-supervisor@`instance` for `app`,
//  or NULL. Borrowed.
msg_t *ts_assign (ut_offline_t *t, const char *instance, const char *app);
//  The names in an assignment, sorted, space-separated, into `out`.
void ts_names (const msg_t *assign, char *out, size_t len);
//  The id the app's formation dyno `name` has now, or NULL. Borrowed.
const char *ts_id (ut_offline_t *t, const char *app, const char *name);
//  The supervisor address dyno `id` is placed on, or NULL. Borrowed.
const char *ts_where (ut_offline_t *t, const char *id);
//  True when the last output has an API/dynod log line with `text`.
bool ts_logged (ut_offline_t *t, const char *text);
//  The app's formation quantity of `type` (-1: no entry).
int ts_quantity (ut_offline_t *t, const char *app, const char *type);

#endif
