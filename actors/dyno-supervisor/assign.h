//  assign - checks a dyno.assign and turns it into what to start and stop
//
//  Owns: the rules a dyno.assign body must satisfy (app name, and each
//  dyno entry's id, name, type, command, sizes, slug, attach address,
//  environment) and the reconciliation: given the epoch last applied for
//  the app and the ids the supervisor holds for it, which entries to
//  start (ids it does not hold) and which ids to stop (held, not listed).
//  An assignment older than the one applied is stale and changes nothing;
//  the same epoch again is applied again (level-triggered: harmless).
//  Pure: no I/O, no clock.

#ifndef SUP_ASSIGN_H
#define SUP_ASSIGN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SUP_ID_LEN          16          // hex digits of a dyno id
#define SUP_WHY_MAX         256         // bytes of a refusal, with NUL
#define SUP_ASSIGN_STALE    1           // sup_assign_plan: older than applied

//  True when `app` is a valid app name ([a-z][a-z0-9-]{2,29}): it names
//  folders, so nothing else may pass.
bool sup_app_name_ok (const char *app);

//  Checks one entry of `dynos`. Returns true, or false with a reason.
bool sup_assign_entry_ok (const json_t *entry, char why [SUP_WHY_MAX]);

//  Plans a dyno.assign `body` for an app whose last applied epoch is
//  `applied` (-1: none) and whose held dyno ids are `held` (array of
//  strings, borrowed). Returns 0 with *start_p (array of the entries to
//  start, in assignment order) and *stop_p (array of the ids to stop, in
//  `held` order) set, caller owns both; SUP_ASSIGN_STALE with both NULL;
//  or -EINVAL with a reason (nothing planned).
int sup_assign_plan (const json_t *body, int64_t applied, const json_t *held, json_t **start_p,
                     json_t **stop_p, char why [SUP_WHY_MAX]);

#endif
