//  apps - app names for release-keeper: the naming rule and random names
//
//  Pure functions, no state: release-keeper keeps the apps themselves.

#ifndef REL_APPS_H
#define REL_APPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REL_APP_NAME_MIN  3         // [a-z][a-z0-9-]{2,29}
#define REL_APP_NAME_MAX  30
#define REL_APP_WHY_MAX   96        // bytes of a rejection reason, with NUL

//  True when `name` is a valid app name. Otherwise false, with why it is
//  not written into `why` (REL_APP_WHY_MAX bytes, e.g. "it must start with
//  a lowercase letter").
bool rel_app_name_valid (const char *name, char why [REL_APP_WHY_MAX]);

//  Writes a readable name of the form adjective-noun-NNNN (`sharp-rain-8712`)
//  into `out` (at least REL_APP_NAME_MAX + 1 bytes), drawn from `seed`. The
//  name is a function of (seed, attempt) only, so a replay reproduces it;
//  callers step `attempt` until the name is free.
void rel_app_name_random (uint64_t seed, unsigned attempt, char *out, size_t len);

//  A seed from a message id (32 hex characters): the same id, the same seed.
uint64_t rel_app_seed_from_id (const char *id);

#endif
