//  router - the HTTP(S) front door (one instance per host)
//
//  Accepts: dyno.state (topic `dyno.state`), actor.down (topic `actor.down`:
//           a lost dyno-supervisor's dynos are forgotten at once, so no
//           request goes to a host the broker gave up on), route.app (topic `route.app`,
//           from release-keeper: an app's domains and flags, applied to
//           hosts.c, and its certificates, to tls.c), acme.challenge (topic `acme.challenge`, from
//           release-keeper: HTTP-01 answers, challenges.c); status, ping,
//           stop (answered
//           by the runtime).
//  Emits:   log.batch to log-plex (one `dynod[router]` line per request,
//           batched by logq.c); status.reply, pong.
//  State:   the routing table (table.c), shared with the HTTP thread
//           (http.c, proxy.c) that serves DYNOD_ROUTER_ADDR (default
//           127.0.0.1; an IPv4 address, 0.0.0.0 for every interface) on
//           DYNOD_HTTP_PORT (default 8080). Nothing is durable: the table
//           is learned again from dyno.state events.

#include "router.h"
#include "challenges.h"
#include "hosts.h"
#include "http.h"
#include "logq.h"
#include "table.h"
#include "tls.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#define RTR_HTTP_PORT   8080
#define RTR_HTTPS_PORT  8443
#define RTR_ADDR        "127.0.0.1"
#define RTR_SUPERVISOR  "dyno-supervisor"

typedef struct {
    rtr_table_t *table;         // owned
    rtr_hosts_t *hosts;         // owned; Host -> app, from route.app
    rtr_challenges_t *challenges;   // owned; ACME HTTP-01 answers, from acme.challenge
    rtr_logq_t *logq;           // owned
    rtr_tls_t *tls;             // owned; certificates by SNI, from route.app;
                                // NULL: no HTTPS listener
    int https_port;
    rtr_http_t *http;           // owned; NULL when the port could not be bound
    int port;
    char addr [INET_ADDRSTRLEN];    // what the listeners bind
    uint64_t states;            // dyno.state events applied
    uint64_t sups_lost;         // dyno-supervisors whose dynos were forgotten
} rtr_state_t;

static void
s_on_logq (void *state, act_t *act, int fd, void *arg)
{
    (void) fd;
    (void) arg;
    rtr_state_t *self = state;
    rtr_logq_send (self->logq, act);
}

static void *
s_create (act_t *act)
{
    rtr_state_t *self = act_calloc (1, sizeof *self);
    self->table = rtr_table_new ();
    self->hosts = rtr_hosts_new (getenv ("DYNOD_BASE_DOMAIN"));
    self->logq = rtr_logq_new ();
    if (!self->logq) {
        act_log_error ("cannot make the log queue's pipe");
        rtr_table_destroy (&self->table);
        free (self);
        return NULL;
    }
    self->challenges = rtr_challenges_new ();
    const char *port = getenv ("DYNOD_HTTPS_PORT");
    self->https_port = port && atoi (port) > 0 && atoi (port) < 65536 ? atoi (port) : RTR_HTTPS_PORT;
    char tls_err [256];
    self->tls = rtr_tls_new (getenv ("DYNOD_CA_DIR"), tls_err, sizeof tls_err);
    if (!self->tls)
        act_log_error ("no HTTPS: %s", tls_err);
    port = getenv ("DYNOD_HTTP_PORT");
    self->port = port && atoi (port) > 0 && atoi (port) < 65536 ? atoi (port) : RTR_HTTP_PORT;
    const char *addr = getenv ("DYNOD_ROUTER_ADDR");
    struct in_addr parsed;
    if (!addr || !*addr)
        addr = RTR_ADDR;
    if (inet_pton (AF_INET, addr, &parsed) != 1)
        //  Bad input changes nothing: no listener on a guessed address.
        act_log_error ("not listening: DYNOD_ROUTER_ADDR '%.64s' is not an IPv4 address "
                       "(such as 127.0.0.1, 10.0.0.2 or 0.0.0.0)", addr);
    else {
        inet_ntop (AF_INET, &parsed, self->addr, sizeof self->addr);
        int err = 0;
        rtr_http_config_t http = {
            .table = self->table, .logq = self->logq, .hosts = self->hosts,
            .challenges = self->challenges, .listen_addr = self->addr, .http_port = self->port,
            .tls = self->tls, .https_port = self->https_port,
        };
        self->http = rtr_http_new (&http, &err);
        if (!self->http)
            act_log_error ("cannot listen on '%s:%d': %s", self->addr, self->port,
                           act_strerror (err));
    }
    act_watch_fd (act, rtr_logq_fd (self->logq), s_on_logq, NULL);
    return self;
}

static void
s_destroy (void **state_p)
{
    rtr_state_t *self = *state_p;
    if (!self)
        return;
    rtr_http_destroy (&self->http);     // first: it writes the queue, reads the table
    rtr_logq_destroy (&self->logq);
    rtr_table_destroy (&self->table);
    rtr_hosts_destroy (&self->hosts);
    rtr_challenges_destroy (&self->challenges);
    rtr_tls_destroy (&self->tls);
    free (self);
    *state_p = NULL;
}

static int
s_on_dyno_state (void *state, act_t *act, msg_t *msg)
{
    (void) act;
    rtr_state_t *self = state;
    const char *app = msg_str (msg, "app", NULL), *id = msg_str (msg, "id", NULL);
    const char *name = msg_str (msg, "name", NULL), *type = msg_str (msg, "type", NULL);
    const char *st = msg_str (msg, "state", NULL), *host = msg_str (msg, "host", NULL);
    //  Only a supervisor speaks for its dynos (the broker vouches for
    //  `from`): anyone else could point an app's traffic elsewhere.
    const char *sup = msg->from;
    if (!app || !id || !name || !type || !st || !host || !act_msg_from_actor (msg, "dyno-supervisor"))
        return 0;
    rtr_table_apply (self->table, app, id, sup, name, type, st, host,
                     (int) msg_int (msg, "port", 0));
    self->states++;
    return 0;
}

//  An actor left or missed its heartbeats: when it is a dyno-supervisor,
//  its dynos may be cut off with it (or replaced on another host by now),
//  so none of them is routed to any more. If it comes back, it publishes
//  the state of each dyno it still runs.
static int
s_on_actor_down (void *state, act_t *act, msg_t *msg)
{
    (void) act;
    rtr_state_t *self = state;
    if (!act_msg_from_actor (msg, "broker")
    ||  strcmp (msg_str (msg, "name", ""), RTR_SUPERVISOR) != 0)
        return 0;
    char sup [MSG_ADDR_MAX];
    snprintf (sup, sizeof sup, "%s@%s", RTR_SUPERVISOR, msg_str (msg, "instance", ""));
    size_t dropped = rtr_table_drop_sup (self->table, sup);
    self->sups_lost++;
    act_log_info ("forgot %zu web dynos of %s (%s)", dropped, sup, msg_str (msg, "reason", "down"));
    return 0;
}

//  An app's routing picture from release-keeper: its domains and flags.
static int
s_on_route_app (void *state, act_t *act, msg_t *msg)
{
    (void) act;
    rtr_state_t *self = state;
    if (!act_msg_from_actor (msg, "release-keeper"))
        return 0;               // only the owner of apps may say where they are
    rtr_hosts_apply (self->hosts, msg->body);
    if (self->tls)
        rtr_tls_apply (self->tls, msg->body);
    return 0;
}

//  An HTTP-01 challenge to answer (or stop answering) for release-keeper's
//  ACME client.
static int
s_on_acme_challenge (void *state, act_t *act, msg_t *msg)
{
    (void) act;
    rtr_state_t *self = state;
    if (!act_msg_from_actor (msg, "release-keeper"))
        return 0;               // only the owner of certificates may ask
    rtr_challenges_apply (self->challenges, msg->body);
    return 0;
}

static void
s_status (void *state, json_t *detail)
{
    rtr_state_t *self = state;
    json_object_set_new (detail, "http_port", json_integer (self->port));
    json_object_set_new (detail, "listening", json_boolean (self->http != NULL));
    json_object_set_new (detail, "web_dynos_up",
                         json_integer ((json_int_t) rtr_table_up_count (self->table)));
    json_object_set_new (detail, "dyno_states", json_integer ((json_int_t) self->states));
    json_object_set_new (detail, "listen_addr", json_string (self->addr));
    json_object_set_new (detail, "supervisors_lost", json_integer ((json_int_t) self->sups_lost));
    json_object_set_new (detail, "requests",
                         json_integer ((json_int_t) (self->http ? rtr_http_requests (self->http) : 0)));
    if (self->http) {
        json_object_set_new (detail, "workers", json_integer (rtr_http_workers (self->http)));
        json_object_set_new (detail, "clients",
                             json_integer ((json_int_t) rtr_http_clients (self->http)));
        json_object_set_new (detail, "pooled",
                             json_integer ((json_int_t) rtr_http_pooled (self->http)));
    }
    json_object_set_new (detail, "sidelined",
                         json_integer ((json_int_t) rtr_table_sidelined (self->table)));
    if (self->tls) {
        json_object_set_new (detail, "https_port", json_integer (self->https_port));
        json_object_set_new (detail, "tls_handshakes",
                             json_integer ((json_int_t) rtr_tls_handshakes (self->tls)));
        json_object_set_new (detail, "tls_resumed",
                             json_integer ((json_int_t) rtr_tls_resumed (self->tls)));
        json_object_set_new (detail, "tls_cert_names",
                             json_integer ((json_int_t) rtr_tls_cert_names (self->tls)));
        json_object_set_new (detail, "tls_minted",
                             json_integer ((json_int_t) rtr_tls_minted (self->tls)));
    }
    json_object_set_new (detail, "log_lines_dropped",
                         json_integer ((json_int_t) rtr_logq_dropped (self->logq)));
}

static const act_route_t s_routes [] = {
    { MSG_TYPE_DYNO_STATE, s_on_dyno_state },
    { MSG_TYPE_ACTOR_DOWN, s_on_actor_down },
    { MSG_TYPE_ROUTE_APP,  s_on_route_app },
    { MSG_TYPE_ACME_CHALLENGE, s_on_acme_challenge },
};
static const char *const s_topics [] = { "dyno.state", "actor.down", "route.app", "acme.challenge",
                                         NULL };

static const act_def_t s_def = {
    .name = "router",
    .singleton = false,
    .routes = s_routes,
    .route_count = sizeof s_routes / sizeof s_routes [0],
    .topics = s_topics,
    .create = s_create,
    .destroy = s_destroy,
    .status = s_status,
};

const act_def_t *
rtr_actor_def (void)
{
    return &s_def;
}
