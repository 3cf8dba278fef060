//  oneoff - one-off dynos: `dyno run` and `dyno run:detached`
//
//  Accepts: run.start (from the CLI; not journaled).
//  Emits:   run.started, or error; the API log line `Starting process with
//           command `bash` by ann`; dyno.assign through placement.c.
//  State:   soft: `oneoffs` (app -> name -> assignment entry). A one-off is
//           dropped when its supervisor reports it down or crashed (it is
//           never restarted) or on ps.stop; one the scheduler lost in a
//           restart is adopted back from its supervisor's report.
//
//  Placement: the live supervisor with the most free memory. Names are
//  run.N, N in 1000..9999 from a hash of the request's id, unique in the
//  app. A command whose first word is a Procfile process type runs that
//  type's command with the rest appended (`worker 42`).

#include "sch_state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCH_RUN_FIRST       1000
#define SCH_RUN_SPAN        9000
#define SCH_RUN_ATTEMPTS    SCH_RUN_SPAN

bool
sch_oneoff_drop (sch_state_t *self, const char *app, const char *name)
{
    json_t *mine = json_object_get (self->oneoffs, app);
    json_t *entry = json_object_get (mine, name);
    if (!entry)
        return false;
    json_object_set_new (self->dropped, json_string_value (json_object_get (entry, "id")),
                         json_true ());
    json_object_del (mine, name);
    if (json_object_size (mine) == 0)
        json_object_del (self->oneoffs, app);
    return true;
}

//  `command` with a leading process type replaced by its command. Caller
//  owns result.
static char *
s_substitute (json_t *types, const char *command)
{
    size_t word = strcspn (command, " \t");
    char first [128];
    if (word == 0 || word >= sizeof first)
        return act_strdup (command);
    memcpy (first, command, word);
    first [word] = 0;
    const char *its = json_string_value (json_object_get (types, first));
    if (!its)
        return act_strdup (command);
    return act_sprintf ("%s%s", its, command + word);
}

//  A free name run.N for `app` into `name`. Returns 0 or -EEXIST.
static int
s_name (sch_state_t *self, const msg_t *msg, const char *app, char *name, size_t len)
{
    json_t *mine = json_object_get (self->oneoffs, app);
    char id [SCH_ID_LEN + 1];
    sch_dyno_id (msg, "run", id);
    uint64_t n = strtoull (id, NULL, 16);
    for (int i = 0; i < SCH_RUN_ATTEMPTS; i++) {
        snprintf (name, len, "run.%d", SCH_RUN_FIRST + (int) ((n + (uint64_t) i) % SCH_RUN_SPAN));
        if (!json_object_get (mine, name))
            return 0;
    }
    return -EEXIST;
}

//  The run.start's `env` as strings only, or NULL when absent. Returns
//  -EINVAL when a value is not a string. *env_p: caller owns it.
static int
s_env (const msg_t *msg, json_t **env_p)
{
    *env_p = NULL;
    json_t *env = json_object_get (msg->body, "env");
    if (!env)
        return 0;
    const char *key;
    json_t *value;
    json_object_foreach (env, key, value)
        if (!json_is_string (value) || !*key || strchr (key, '='))
            return -EINVAL;
    *env_p = json_deep_copy (env);
    return 0;
}

//  The one-off's size: `size` given, else the web type's, else the
//  default. NULL when `size` names none.
static const sch_size_t *
s_size (sch_state_t *self, json_t *app, const char *given)
{
    if (given)
        return sch_sizes_find (self->sizes, given);
    const char *web = json_string_value (json_object_get (
        json_object_get (json_object_get (app, "formation"), "web"), "size"));
    const sch_size_t *size = sch_sizes_find (self->sizes, web);
    return size ? size : sch_sizes_find (self->sizes, SCH_SIZE_DEFAULT);
}

int
sch_on_run_start (void *state, act_t *act, msg_t *msg)
{
    sch_state_t *self = state;
    const char *name = msg_str (msg, "app", "");
    json_t *app = sch_app (self, name);
    json_int_t live = json_integer_value (json_object_get (app, "live"));
    json_t *rel = app ? sch_app_rel (app, live) : NULL;
    if (!rel)
        return act_reply_error (act, msg, ACT_ENOTFOUND, "app '%s' has no releases yet", name);
    const char *given = msg_str (msg, "command", "");
    if (!given [strspn (given, " \t")])
        return act_reply_error (act, msg, -EINVAL, "no command to run");
    const sch_size_t *size = s_size (self, app, msg_str (msg, "size", NULL));
    if (!size) {
        char names [256];
        sch_sizes_names (self->sizes, names, sizeof names);
        return act_reply_error (act, msg, -EINVAL, "unknown dyno size '%s' (%s)",
                                msg_str (msg, "size", ""), names);
    }
    json_t *env;
    if (s_env (msg, &env))
        return act_reply_error (act, msg, -EINVAL, "env holds KEY -> string value pairs only");
    char dyno [32];
    if (s_name (self, msg, name, dyno, sizeof dyno)) {
        json_decref (env);
        return act_reply_error (act, msg, ACT_EFULL, "no free one-off dyno name on %s", name);
    }
    const char *addr = sch_roomiest (self, size->mem_mb);
    if (!addr) {
        json_decref (env);
        return act_reply_error (act, msg, ACT_EFULL, "no dyno-supervisor has room for a %s "
                                "dyno (%lld MB)", size->name, (long long) size->mem_mb);
    }
    char id [SCH_ID_LEN + 1];
    sch_dyno_id (msg, dyno, id);
    char *command = s_substitute (json_object_get (rel, "process_types"), given);
    json_t *entry = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:O, s:b, s:I}", "id", id,
                               "name", dyno, "type", "run", "command", command, "size", size->name,
                               "mem_mb", (json_int_t) size->mem_mb, "procs_max",
                               (json_int_t) size->procs_max, "release", live, "config_version",
                               json_object_get (rel, "config_version"), "oneoff", 1,
                               "boot_timeout_ms", (json_int_t) self->boot_timeout_ms);
    if (json_object_get (rel, "slug"))
        json_object_set (entry, "slug", json_object_get (rel, "slug"));
    if (msg_bool (msg, "attach", false))
        json_object_set_new (entry, "attach", json_string (msg->from));
    if (env)
        json_object_set_new (entry, "env", env);
    if (msg_bool (msg, "tty", false)) {
        json_object_set_new (entry, "tty", json_true ());
        json_object_set_new (entry, "cols", json_integer (msg_int (msg, "cols", 80)));
        json_object_set_new (entry, "rows", json_integer (msg_int (msg, "rows", 24)));
    }
    json_t *mine = json_object_get (self->oneoffs, name);
    if (!mine) {
        mine = json_object ();
        json_object_set_new (self->oneoffs, name, mine);
    }
    json_object_set_new (mine, dyno, entry);
    json_object_set_new (self->where, id, json_pack ("{s:s, s:s, s:s, s:I, s:I}", "sup", addr,
                                                     "app", name, "type", "run", "mem_mb",
                                                     (json_int_t) size->mem_mb, "since",
                                                     (json_int_t) act_now (act)));
    const char *by = msg_str (msg, "by", "");
    act_emit_log (act, name, "api", "Starting process with command `%s` by %s", command,
                  *by ? by : "unknown");
    //  The answer goes first: an attached CLI learns the id before the
    //  supervisor's first run.output is likely to reach it.
    msg_t *reply = act_msg_new (act, MSG_TYPE_RUN_STARTED, NULL);
    msg_set_str (reply, "app", name);
    msg_set_str (reply, "dyno", dyno);
    msg_set_str (reply, "id", id);
    msg_set_str (reply, "supervisor", addr);
    msg_set_str (reply, "command", command);
    free (command);
    int rc = act_reply (act, msg, &reply);
    sch_place (self, act, name);
    return rc;
}
