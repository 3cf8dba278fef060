//  bho_relocate - relocation of each stateful actor holding N apps' state
//
//  The system: `dynod up --actors dyno-supervisor,router` (the broker and
//  the per-host actors) and the four stateful actors started by the bench
//  as `dynod actor NAME --instance host-a --data TMP/host-a`, so it can
//  stop them for good. The state: N apps (app.create), a config var each
//  (config.set: a release each, which the scheduler learns), and a log
//  token each (log.token), sent pipelined in windows.
//
//  Then, one actor at a time: SIGTERM (it writes its snapshot and hands it
//  to the broker), and the same actor started as `--instance host-b` on an
//  EMPTY data directory, as on another machine; it restores from the
//  broker's copy of its snapshot plus the journal after it. The clock
//  stops at its first answer equal to the one the old instance gave for
//  the newest app (app.get, config.get, ps.list, log.token): "time until
//  serving again" counts from the SIGTERM.

#include "bench.h"
#include "../../actors/common/act.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define BHO_WINDOW          500     // requests in flight while populating
#define BHO_CALL_MS         10000
#define BHO_PROBE_MS        200     // one probe's wait for its answer
#define BHO_SERVE_WAIT_S    120     // give up on a relocated actor after this
#define BHO_STOP_MS         30000

//  How each stateful actor is asked about the newest app, and which field
//  of the answer must come back the same.
static const struct {
    const char *name;
    msg_type_id_t type;
    const char *key;                // request body: key -> the app's name
    const char *field;              // compared field of the answer
} s_probes [BHO_RELOCATED_MAX] = {
    { "release-keeper", MSG_TYPE_APP_GET,    "name", "releases" },
    { "config-keeper",  MSG_TYPE_CONFIG_GET, "app",  "vars" },
    { "scheduler",      MSG_TYPE_PS_LIST,    "app",  "release" },
    { "log-plex",       MSG_TYPE_LOG_TOKEN,  "app",  "token" },
};

typedef struct {
    bho_relocate_t *out;
    bdy_t *b;
    act_client_t *client;
    pid_t pids [BHO_RELOCATED_MAX];
    char expect [BHO_RELOCATED_MAX][256];
    char last_app [32];
    char *why;
    size_t why_len;
} s_run_t;

static pid_t
s_actor_start (s_run_t *self, const char *name, const char *instance, const char *data)
{
    char log_path [400];
    snprintf (log_path, sizeof log_path, "%s/%s-%s.log", self->b->tmp, name, instance);
    mkdir (data, 0700);
    char *const argv [] = { "dynod", "actor", (char *) name, "--broker", self->b->endpoint,
                            "--data", (char *) data, "--instance", (char *) instance, NULL };
    int out = -1;
    pid_t pid = bcm_child_start (self->b->dynod, argv, log_path, &out);
    if (out >= 0)
        close (out);
    return pid;
}

//  Asks probe `i` about the newest app once. Returns 0 with the compared
//  field dumped into `got`, or an error code.
static int
s_probe (s_run_t *self, int i, int timeout_ms, char *got, size_t got_len)
{
    msg_t *req = act_client_msg_new (self->client, s_probes [i].type, s_probes [i].name);
    msg_set_str (req, s_probes [i].key, self->last_app);
    msg_t *reply = NULL;
    int rc = act_client_call (self->client, &req, timeout_ms, &reply);
    got [0] = 0;
    if (rc == 0) {
        json_t *field = json_object_get (reply->body, s_probes [i].field);
        char *text = field ? json_dumps (field, JSON_ENCODE_ANY | JSON_SORT_KEYS | JSON_COMPACT) : NULL;
        snprintf (got, got_len, "%s", text ? text : "");
        free (text);
        if (!text)
            rc = ACT_EPROTO;
    }
    msg_destroy (&reply);
    return rc;
}

//  Sends `n` requests made by `make` pipelined, at most BHO_WINDOW
//  unanswered, and waits for every answer. Returns 0 or -1.
typedef msg_t *(s_make_fn) (s_run_t *self, int k);

static int
s_pipeline (s_run_t *self, const char *what, s_make_fn *make)
{
    int n = self->out->apps, sent = 0, answered = 0, failed = 0;
    char first_error [200] = "";
    while (answered < n) {
        while (sent < n && sent - answered < BHO_WINDOW) {
            msg_t *msg = make (self, sent + 1);
            if (act_client_send (self->client, &msg)) {
                snprintf (self->why, self->why_len, "%s: cannot send", what);
                return -1;
            }
            sent++;
        }
        int rc;
        msg_t *reply = act_client_recv (self->client, BHO_CALL_MS, &rc);
        if (!reply) {
            snprintf (self->why, self->why_len, "%s: %d of %d answered, then nothing for %d s", what,
                      answered, n, BHO_CALL_MS / 1000);
            return -1;
        }
        if (reply->type->id != MSG_TYPE_ACK && reply->corr [0]) {
            answered++;
            if (reply->type->id == MSG_TYPE_ERROR && failed++ == 0)
                snprintf (first_error, sizeof first_error, "%s", msg_str (reply, "reason", "?"));
        }
        msg_destroy (&reply);
    }
    if (failed) {
        snprintf (self->why, self->why_len, "%s: %d of %d refused, first: %s", what, failed, n, first_error);
        return -1;
    }
    return 0;
}

static void
s_app_name (int k, char out [32])
{
    snprintf (out, 32, "bh-%05d", k);
}

static msg_t *
s_make_app (s_run_t *self, int k)
{
    char name [32];
    s_app_name (k, name);
    msg_t *msg = act_client_msg_new (self->client, MSG_TYPE_APP_CREATE, "release-keeper");
    msg->durable = true;
    msg_set_str (msg, "name", name);
    msg_set_str (msg, "by", "bench-hosts");
    return msg;
}

static msg_t *
s_make_config (s_run_t *self, int k)
{
    char name [32], value [48];
    s_app_name (k, name);
    snprintf (value, sizeof value, "value-%d", k);
    msg_t *msg = act_client_msg_new (self->client, MSG_TYPE_CONFIG_SET, "config-keeper");
    msg->durable = true;
    msg_set_str (msg, "app", name);
    msg_set_json (msg, "vars", json_pack ("{s:s}", "BENCH_VAR", value));
    msg_set_str (msg, "by", "bench-hosts");
    return msg;
}

static msg_t *
s_make_token (s_run_t *self, int k)
{
    char name [32];
    s_app_name (k, name);
    msg_t *msg = act_client_msg_new (self->client, MSG_TYPE_LOG_TOKEN, "log-plex");
    msg_set_str (msg, "app", name);
    return msg;
}

//  Waits until every stateful actor answers its probe (the app may not
//  exist yet: any answer will do). Returns 0 or -1.
static int
s_all_live (s_run_t *self)
{
    double deadline = bcm_now () + 60;
    for (int i = 0; i < BHO_RELOCATED_MAX; i++) {
        char got [256];
        int rc;
        while ((rc = s_probe (self, i, BHO_PROBE_MS, got, sizeof got)) == ACT_ETIMEDOUT
        ||     rc == ACT_ENOROUTE) {
            if (bcm_now () > deadline) {
                snprintf (self->why, self->why_len, "%s did not come up", s_probes [i].name);
                return -1;
            }
            bcm_sleep_ms (50);
        }
    }
    return 0;
}

static int
s_populate (s_run_t *self)
{
    double t0 = bcm_now ();
    printf ("  relocate  %d apps: app.create, config.set (a release each), log.token ...\n", self->out->apps);
    fflush (stdout);
    if (s_pipeline (self, "app.create", s_make_app) || s_pipeline (self, "config.set", s_make_config)
    ||  s_pipeline (self, "log.token", s_make_token))
        return -1;
    self->out->populate_s = bcm_now () - t0;
    s_app_name (self->out->apps, self->last_app);
    //  The scheduler learns each release from release-keeper's durable
    //  release.created: wait until it has the newest app's.
    double deadline = bcm_now () + 60;
    for (int i = 0; i < BHO_RELOCATED_MAX; i++) {
        while (s_probe (self, i, BHO_CALL_MS, self->expect [i], sizeof self->expect [i]) != 0) {
            if (bcm_now () > deadline) {
                snprintf (self->why, self->why_len, "%s has no answer about %s after populating",
                          s_probes [i].name, self->last_app);
                return -1;
            }
            bcm_sleep_ms (100);
        }
    }
    printf ("            populated in %.1f s; newest app %s: release-keeper releases=%s, "
            "scheduler release=%s\n", self->out->populate_s, self->last_app, self->expect [0],
            self->expect [2]);
    fflush (stdout);
    return 0;
}

//  Moves actor `i` from host-a to host-b. Returns 0 or -1.
static int
s_move (s_run_t *self, int i)
{
    bho_moved_t *m = &self->out->moved [self->out->moved_count];
    const char *name = s_probes [i].name;
    char path [400], data [400];
    m->name = name;
    snprintf (path, sizeof path, "%s/host-a/%s.snapshot", self->b->tmp, name);
    double t0 = bcm_now ();
    kill (self->pids [i], SIGTERM);
    waitpid (self->pids [i], NULL, 0);
    self->pids [i] = 0;
    m->stop_s = bcm_now () - t0;
    struct stat st;
    m->snapshot_bytes = stat (path, &st) == 0 ? (long) st.st_size : -1;
    snprintf (data, sizeof data, "%s/host-b-%s", self->b->tmp, name);
    double t1 = bcm_now ();
    self->pids [i] = s_actor_start (self, name, "host-b", data);
    if (self->pids [i] < 0) {
        self->pids [i] = 0;
        snprintf (self->why, self->why_len, "cannot start %s again", name);
        return -1;
    }
    char got [256] = "";
    while (bcm_now () - t1 < BHO_SERVE_WAIT_S) {
        if (s_probe (self, i, BHO_PROBE_MS, got, sizeof got) == 0 && strcmp (got, self->expect [i]) == 0) {
            double t2 = bcm_now ();
            m->start_s = t2 - t1;
            m->total_s = t2 - t0;
            self->out->moved_count++;
            printf ("            %-15s snapshot %7ld bytes; stop %.3f s, start -> serving %.3f s, "
                    "in all %.3f s\n", name, m->snapshot_bytes, m->stop_s, m->start_s, m->total_s);
            fflush (stdout);
            return 0;
        }
        bcm_sleep_ms (5);
    }
    snprintf (self->why, self->why_len, "%s on an empty data directory did not answer as before "
              "within %d s (last: '%.80s', wanted '%.80s')", name, BHO_SERVE_WAIT_S, got, self->expect [i]);
    return -1;
}

int
bho_relocate_run (bho_relocate_t *out, char *why, size_t why_len)
{
    s_run_t self = { .out = out, .b = out->bench, .why = why, .why_len = why_len };
    int rc = bdy_system_start (self.b, "dyno-supervisor,router", "data-relocate", why, why_len);
    char host_a [400];
    snprintf (host_a, sizeof host_a, "%s/host-a", self.b->tmp);
    for (int i = 0; rc == 0 && i < BHO_RELOCATED_MAX; i++) {
        self.pids [i] = s_actor_start (&self, s_probes [i].name, "host-a", host_a);
        if (self.pids [i] < 0) {
            self.pids [i] = 0;
            snprintf (why, why_len, "cannot start %s", s_probes [i].name);
            rc = -1;
        }
    }
    if (rc == 0) {
        self.client = act_client_new (self.b->endpoint, self.b->token, "bench-relocate", BHO_CALL_MS, &rc);
        if (!self.client)
            snprintf (why, why_len, "cannot register with the broker: %s", act_strerror (rc));
        rc = self.client ? 0 : -1;
    }
    if (rc == 0)
        rc = s_all_live (&self);
    if (rc == 0)
        rc = s_populate (&self);
    for (int i = 0; rc == 0 && i < BHO_RELOCATED_MAX; i++)
        rc = s_move (&self, i);
    act_client_destroy (&self.client);
    for (int i = 0; i < BHO_RELOCATED_MAX; i++)
        if (self.pids [i] > 0)
            bcm_child_stop (self.pids [i], BHO_STOP_MS);
    bdy_system_stop (self.b);
    return rc;
}
