//  sup - the dyno-supervisor's state, shared by its files
//
//  dyno-supervisor.c owns the struct (create, destroy), the handler table,
//  the tick and the reports; dyno.c owns each dyno's lifecycle, proc.c its
//  processes and their output, fetch.c slugs and config vars, logs.c the
//  log batches. Single-threaded: everything runs on the actor's thread.

#ifndef SUP_H
#define SUP_H

#include "../common/act.h"
#include "fetch.h"
#include "logs.h"
#include "sandbox.h"
#include "settings.h"

typedef struct sup_dyno sup_dyno_t;

typedef struct {
    act_t *act;                 // borrowed: the runtime running us
    sup_settings_t settings;
    char *data_dir;             // owned; NULL without one (offline): dynos cannot run
    char *home;                 // D/dyno-supervisor/<instance>
    char *uid_map;              // home/uids
    char *work_root;            // home/dynos
    char *cgroup_parent;        // dynod-<instance>-<hash of home>
    char host [256];            // gethostname
    sbx_cgroup_kind_t cg;
    json_t *epochs;             // app -> last applied dyno.assign epoch
    sup_dyno_t **dynos;         // owned, every dyno held (any phase)
    size_t dyno_count, dyno_cap;
    sup_fetch_t *fetch;         // owned
    sup_logs_t *logs;           // owned
    int timerfd;                // wakes the loop at the next deadline
    int64_t report_at;          // mono ms of the next dyno.report; 0: at once
    bool closing;               // in destroy: the runtime's watches and queues are gone
} sup_t;

//  act_unwatch_fd, unless the supervisor is being destroyed (the runtime
//  frees its watch table before calling destroy).
void sup_unwatch (sup_t *self, int fd);

//  Publishes `body` (consumed) as dyno.state on topic dyno.state.
void sup_publish_state (sup_t *self, json_t *body);

//  One log line for `app` (printf-style text): source `dynod` or `app`.
void sup_say (sup_t *self, const char *app, const char *source, const char *process,
              const char *text, size_t len);

#endif
