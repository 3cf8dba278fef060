//  brk control - messages addressed to the broker itself
//
//  A table maps each control type to its handler. Handlers get the fully
//  decoded message (borrowed) and the sender's directory record (NULL only
//  for hello from a new connection).

#include "broker_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef void (brk_control_fn) (brk_t *self, brk_peer_t *peer, const void *rid, size_t rid_len,
                               msg_t *msg);

//  Compares tokens in time independent of where they differ.
static bool
s_token_ok (const char *want, const char *got)
{
    size_t wl = strlen (want), gl = strlen (got);
    unsigned char diff = (unsigned char) (wl != gl);
    for (size_t i = 0; i < wl; i++)
        diff |= (unsigned char) (want [i] ^ (i < gl ? got [i] : 0));
    return diff == 0;
}

//  Topics whose events carry secrets, and the one actor name that may
//  hear them: `route.app` holds certificates' private keys for routers.
static const struct {
    const char *topic, *actor;
} s_guarded [] = {
    { "route.app", "router" },
};

static bool
s_topic_ok (const brk_peer_t *peer, const char *topic)
{
    char name [MSG_ADDR_MAX], instance [MSG_ADDR_MAX], addr [MSG_ADDR_MAX];
    if (strlen (topic) >= BRK_TOPIC_LEN)
        return false;
    for (size_t i = 0; i < sizeof s_guarded / sizeof s_guarded [0]; i++)
        if (strcmp (topic, s_guarded [i].topic) == 0
        &&  (!peer->actor || strcmp (peer->name, s_guarded [i].actor) != 0))
            return false;
    snprintf (addr, sizeof addr, "topic:%s", topic);
    return msg_addr_split (addr, name, instance) == 0;
}

//  Whether the hello's clock (its envelope ts) is within the allowed skew
//  of ours; refuses it otherwise. A host whose clock is far off would stamp
//  journaled messages with times the others cannot trust.
static bool
s_hello_clock_ok (brk_t *self, const void *rid, size_t rid_len, msg_t *msg)
{
    int64_t skew = msg->ts - act_wall_ms ();
    if (skew <= self->cfg.max_clock_skew_ms && -skew <= self->cfg.max_clock_skew_ms)
        return true;
    char reason [200];
    snprintf (reason, sizeof reason, "the sender's clock is %lld ms %s the broker's (at most %d allowed)",
              (long long) (skew < 0 ? -skew : skew), skew < 0 ? "behind" : "ahead of",
              self->cfg.max_clock_skew_ms);
    act_log_warn ("refused hello from %s on '%s': %s", msg->from, msg_str (msg, "host", ""), reason);
    brk_reject (self, rid, rid_len, BRK_REJ_CLOCK, msg->id, ACT_EREFUSED, reason, "hello");
    return false;
}

//  The actors' names: receivers trust a sender's name (the part of `from`
//  before '@'), so over CURVE a client may not register under one.
static const char *const s_actor_names [] = {
    "release-keeper", "config-keeper", "scheduler", "dyno-supervisor", "log-plex", "router",
};

static bool
s_actor_name (const char *name)
{
    for (size_t i = 0; i < sizeof s_actor_names / sizeof s_actor_names [0]; i++)
        if (strcmp (name, s_actor_names [i]) == 0)
            return true;
    return false;
}

//  On a CURVE connection: the key must still be allowed and, for an actor,
//  allow its name and host (the binding `dynod keys allow` made); a client
//  may not take an actor's name.
static bool
s_hello_key_ok (brk_t *self, const void *rid, size_t rid_len, msg_t *msg, bool actor)
{
    if (!self->frame_key [0])
        return true;                    // the loopback endpoint
    const char *name = msg_str (msg, "name", ""), *host = msg_str (msg, "host", "");
    const brk_allow_entry_t *entry = brk_zap_allowed (self, self->frame_key);
    char reason [400] = "";
    brk_reject_t why = BRK_REJ_KEY_BINDING;
    if (!entry) {
        why = BRK_REJ_KEY;
        snprintf (reason, sizeof reason, "this key is no longer on the allow-list");
    }
    else if (actor && !brk_allow_permits (entry, name))
        snprintf (reason, sizeof reason, "this key may not register actor '%.64s' (it may: %.200s)",
                  name, entry->actors [0] ? entry->actors : "none, clients only");
    else if (actor && strcmp (entry->host, host) != 0)
        snprintf (reason, sizeof reason, "this key is bound to host '%.64s', not '%.64s'", entry->host, host);
    else if (!actor && s_actor_name (name))
        snprintf (reason, sizeof reason, "a client may not register as actor name '%.64s'", name);
    if (!reason [0])
        return true;
    act_log_warn ("refused hello as %s (key %.*s...): %s", msg->from, ACT_KEY_PREFIX, self->frame_key, reason);
    brk_reject (self, rid, rid_len, why, msg->id, ACT_EAUTH, reason, "hello");
    return false;
}

//  An actor's host name may be live with one host id only (the id in
//  <data>/host-id), when either side came over CURVE: another machine that
//  joins under a live host's name is refused. Loopback peers all run on
//  the broker's own machine, so their names cannot collide that way.
static bool
s_hello_host_ok (brk_t *self, const void *rid, size_t rid_len, msg_t *msg)
{
    const char *host = msg_str (msg, "host", ""), *host_id = msg_str (msg, "host_id", "");
    for (size_t i = 0; i < brk_directory_count (self->dir); i++) {
        const brk_peer_t *p = brk_directory_at (self->dir, i);
        if (!p->actor || strcmp (p->host, host) != 0 || strcmp (p->host_id, host_id) == 0
        ||  (!p->key [0] && !self->frame_key [0]))
            continue;
        char reason [400];
        snprintf (reason, sizeof reason, "host '%.64s' is live with another host id (as %.100s)", host,
                  p->address);
        act_log_warn ("refused hello from %s: %s", msg->from, reason);
        brk_reject (self, rid, rid_len, BRK_REJ_HOST_ID, msg->id, ACT_EREFUSED, reason, "hello");
        return false;
    }
    return true;
}

//  Whether this hello may register `address`: token, well-formed names,
//  clock, key binding, singletons, host identity, and no takeover of a live
//  address by another role or host.
//  Answers the refusal itself and returns false; otherwise sets *old_p to
//  the record this hello replaces (NULL if none).
static bool
s_hello_admit (brk_t *self, brk_peer_t *peer, const void *rid, size_t rid_len, msg_t *msg,
               const char *address, brk_peer_t **old_p)
{
    const char *name = msg_str (msg, "name", "");
    const char *role = msg_str (msg, "role", "");
    char n [MSG_ADDR_MAX], i [MSG_ADDR_MAX];
    if (self->cfg.token && !s_token_ok (self->cfg.token, msg_str (msg, "token", ""))) {
        act_log_warn ("refused hello from '%s': bad token", msg->from);
        brk_reject (self, rid, rid_len, BRK_REJ_AUTH, msg->id, ACT_EAUTH, "bad or missing API token", "hello");
        return false;
    }
    if (!address [0] || msg_addr_split (address, n, i) || !i [0] || strcmp (address, msg->from) != 0
    ||  (strcmp (role, "actor") != 0 && strcmp (role, "client") != 0) || strcmp (name, "broker") == 0) {
        brk_reject (self, rid, rid_len, BRK_REJ_BAD_CONTROL, msg->id, MSG_EBODY,
                    "hello needs a valid name, instance and role, and from = name@instance", "hello");
        return false;
    }
    bool actor = strcmp (role, "actor") == 0;
    if (!s_hello_clock_ok (self, rid, rid_len, msg) || !s_hello_key_ok (self, rid, rid_len, msg, actor)
    ||  (actor && !s_hello_host_ok (self, rid, rid_len, msg)))
        return false;
    //  Either side being a singleton excludes the other: a live singleton
    //  admits no second instance, whatever the newcomer claims.
    brk_peer_t *other = actor ? brk_directory_other (self->dir, name, NULL) : NULL;
    if (other && strcmp (other->address, address) != 0
    &&  (msg_bool (msg, "singleton", false) || other->singleton)) {
        char reason [300];
        snprintf (reason, sizeof reason, "singleton '%s' is already live as %s", name, other->address);
        act_log_warn ("refused %s: %s", address, reason);
        brk_reject (self, rid, rid_len, BRK_REJ_SINGLETON, msg->id, ACT_EREFUSED, reason, "hello");
        return false;
    }
    //  The same address again is the same actor restarted (or reconnected):
    //  the new connection replaces the old one. A different role, host or
    //  key cannot be the same peer, so it may not take the address over.
    brk_peer_t *old = peer ? peer : brk_directory_by_address (self->dir, address);
    if (old && (old->actor != actor || strcmp (old->host, msg_str (msg, "host", "")) != 0
            ||  strcmp (old->key, self->frame_key) != 0)) {
        act_log_warn ("refused hello as %s from another %s", address,
                      old->actor != actor ? "role" : strcmp (old->key, self->frame_key) != 0 ? "key" : "host");
        brk_reject (self, rid, rid_len, BRK_REJ_SPOOFED, msg->id, ACT_ESPOOF,
                    "that address is live with another role, host or key", "hello");
        return false;
    }
    *old_p = old;
    return true;
}

//  Fills a new directory record from an admitted hello.
static void
s_peer_fill (brk_peer_t *peer, const void *rid, size_t rid_len, const char *address, msg_t *msg)
{
    memcpy (peer->rid, rid, rid_len);
    peer->rid_len = rid_len;
    snprintf (peer->address, sizeof peer->address, "%s", address);
    snprintf (peer->name, sizeof peer->name, "%s", msg_str (msg, "name", ""));
    snprintf (peer->instance, sizeof peer->instance, "%s", msg_str (msg, "instance", ""));
    snprintf (peer->host, sizeof peer->host, "%s", msg_str (msg, "host", ""));
    snprintf (peer->host_id, sizeof peer->host_id, "%s", msg_str (msg, "host_id", ""));
    peer->pid = msg_int (msg, "pid", 0);
    peer->actor = strcmp (msg_str (msg, "role", ""), "actor") == 0;
    peer->singleton = msg_bool (msg, "singleton", false);
    peer->since_wall = act_wall_ms ();
    peer->last_seen = act_mono_ms ();
    peer->msgs_in = 1;
    size_t k;
    json_t *topic;
    json_array_foreach (json_object_get (msg->body, "topics"), k, topic) {
        if (json_is_string (topic) && peer->topic_count < BRK_TOPICS_MAX
        &&  s_topic_ok (peer, json_string_value (topic)))
            snprintf (peer->topics [peer->topic_count++], BRK_TOPIC_LEN, "%s", json_string_value (topic));
    }
}

static void
s_on_hello (brk_t *self, brk_peer_t *peer, const void *rid, size_t rid_len, msg_t *msg)
{
    char address [MSG_ADDR_MAX];
    int n = snprintf (address, sizeof address, "%s@%s", msg_str (msg, "name", ""),
                      msg_str (msg, "instance", ""));
    if (n < 0 || (size_t) n >= sizeof address)
        address [0] = 0;            // refused as malformed by s_hello_admit
    brk_peer_t *old = NULL;
    if (!s_hello_admit (self, peer, rid, rid_len, msg, address, &old))
        return;
    if (old)
        brk_peer_drop (self, old, "replaced");
    peer = brk_directory_add (self->dir);
    if (!peer) {
        brk_reject (self, rid, rid_len, BRK_REJ_PEERS_FULL, msg->id, ACT_EFULL, "too many peers", "hello");
        return;
    }
    s_peer_fill (peer, rid, rid_len, address, msg);
    snprintf (peer->key, sizeof peer->key, "%s", self->frame_key);
    msg_t *welcome = brk_msg_new (self, MSG_TYPE_WELCOME, address);
    msg_set_corr (welcome, msg->id);
    msg_set_str (welcome, "broker", brk_journal_instance (self->journal));
    msg_set_int (welcome, "heartbeat_ms", self->cfg.heartbeat_ms);
    msg_set_int (welcome, "liveness", self->cfg.liveness);
    msg_set_int (welcome, "journal_head", (int64_t) brk_journal_head (self->journal));
    brk_send_msg (self, rid, rid_len, &welcome);
    if (!peer->actor)
        return;
    if (peer->key [0])
        act_log_info ("actor %s up (pid %lld on %s, CURVE key %.*s...)", address, (long long) peer->pid,
                      peer->host, ACT_KEY_PREFIX, peer->key);
    else
        act_log_info ("actor %s up (pid %lld on %s)", address, (long long) peer->pid, peer->host);
    msg_t *up = brk_msg_new (self, MSG_TYPE_ACTOR_UP, "topic:actor.up");
    msg_set_str (up, "name", peer->name);
    msg_set_str (up, "instance", peer->instance);
    msg_set_str (up, "host", peer->host);
    msg_set_int (up, "pid", peer->pid);
    brk_publish (self, &up, "actor.up");
    brk_redeliver (self, peer);
}

static void
s_on_heartbeat (brk_t *self, brk_peer_t *peer, const void *rid, size_t rid_len, msg_t *msg)
{
    (void) self; (void) peer; (void) rid; (void) rid_len; (void) msg;
}

static void
s_on_bye (brk_t *self, brk_peer_t *peer, const void *rid, size_t rid_len, msg_t *msg)
{
    (void) rid; (void) rid_len; (void) msg;
    brk_peer_drop (self, peer, "bye");
}

static void
s_release_record (void *arg, uint64_t seq)
{
    brk_journal_stage_release (((brk_t *) arg)->journal, seq);
}

//  `delivered {seq}` is cumulative in send order: the peer handled the held
//  message `seq` and everything the broker sent it before that one (it
//  handles what it receives in arrival order). Then it has room for more.
static void
s_on_delivered (brk_t *self, brk_peer_t *peer, const void *rid, size_t rid_len, msg_t *msg)
{
    (void) rid; (void) rid_len;
    uint64_t seq = (uint64_t) msg_int (msg, "seq", 0);
    if (brk_held_release_through (self->dir, peer->address, seq, s_release_record, self) > 0)
        brk_redeliver (self, peer);
}

static void
s_on_subscribe (brk_t *self, brk_peer_t *peer, const void *rid, size_t rid_len, msg_t *msg)
{
    const char *topic = msg_str (msg, "topic", "");
    if (!s_topic_ok (peer, topic) || peer->topic_count >= BRK_TOPICS_MAX) {
        brk_reject (self, rid, rid_len, BRK_REJ_BAD_CONTROL, msg->id, MSG_EBODY,
                    "bad topic, a topic this peer may not hear, or too many subscriptions",
                    "subscribe");
        return;
    }
    if (!brk_peer_subscribed (peer, topic))
        snprintf (peer->topics [peer->topic_count++], BRK_TOPIC_LEN, "%s", topic);
}

static void
s_on_broker_status (brk_t *self, brk_peer_t *peer, const void *rid, size_t rid_len, msg_t *msg)
{
    msg_t *reply = brk_msg_new (self, MSG_TYPE_BROKER_STATUS_REPLY, peer->address);
    msg_set_corr (reply, msg->id);
    msg_set_str (reply, "instance", brk_journal_instance (self->journal));
    msg_set_str (reply, "host", self->host);
    msg_set_int (reply, "pid", getpid ());
    msg_set_str (reply, "endpoint", self->cfg.endpoint);
    msg_set_int (reply, "uptime_ms", act_mono_ms () - self->started_mono);
    msg_set_int (reply, "msgs_in", (int64_t) self->msgs_in);
    msg_set_int (reply, "msgs_out", (int64_t) self->msgs_out + 1);
    msg_set_int (reply, "journal_head", (int64_t) brk_journal_head (self->journal));
    msg_set_int (reply, "held", (int64_t) brk_held_count (self->dir));
    json_t *rejected = json_object ();
    for (int i = 0; i < BRK_REJ_COUNT; i++)
        json_object_set_new (rejected, brk_reject_name ((brk_reject_t) i),
                             json_integer ((json_int_t) self->rejected [i]));
    msg_set_json (reply, "rejected", rejected);
    json_t *peers = json_array ();
    int64_t now = act_mono_ms ();
    for (size_t i = 0; i < brk_directory_count (self->dir); i++) {
        brk_peer_t *p = brk_directory_at (self->dir, i);
        json_array_append_new (peers, json_pack ("{s:s, s:s, s:s, s:I, s:s, s:I, s:I, s:I, s:I}",
            "name", p->name, "instance", p->instance, "host", p->host, "pid", (json_int_t) p->pid,
            "role", p->actor ? "actor" : "client", "since_ms", (json_int_t) p->since_wall,
            "last_seen_ms", (json_int_t) (now - p->last_seen),
            "msgs_in", (json_int_t) p->msgs_in, "msgs_out", (json_int_t) p->msgs_out));
    }
    msg_set_json (reply, "peers", peers);
    brk_send_msg (self, rid, rid_len, &reply);
}

typedef struct {
    json_t *entries;
    size_t bytes, limit, scanned, scanned_bytes;
    const char *type;
    char to_name [MSG_ADDR_MAX];        // filter on `to`, split
    char to_instance [MSG_ADDR_MAX];
    bool to_filter;
    uint64_t next;
} s_read_t;

//  Filter `name@instance` matches entries sent to that address or to the
//  bare name (what that actor may have been handed); filter `name` matches
//  the name and every instance of it.
static bool
s_read_to_matches (const s_read_t *r, const char *to)
{
    char name [MSG_ADDR_MAX], instance [MSG_ADDR_MAX];
    if (msg_addr_split (to, name, instance) || strcmp (name, r->to_name) != 0)
        return false;
    return !r->to_instance [0] || !instance [0] || strcmp (instance, r->to_instance) == 0;
}

static bool
s_read_entry (void *arg, uint64_t seq, const void *data, size_t len)
{
    s_read_t *r = arg;
    bool first = json_array_size (r->entries) == 0;
    //  Every reply carries at least one matching entry (durable frames are
    //  capped so one always fits), or the reader could never get past it.
    if (json_array_size (r->entries) >= r->limit || r->scanned >= BRK_SCAN_MAX
    ||  r->scanned_bytes >= BRK_SCAN_BYTES_MAX || (!first && r->bytes + len > BRK_READ_BYTES_MAX))
        return false;
    r->scanned++;
    r->scanned_bytes += len;
    r->next = seq + 1;
    msg_t *m = msg_decode (data, len, MSG_DECODE_HEAD, NULL);
    bool match = m != NULL && (!r->type || strcmp (m->type->name, r->type) == 0)
              && (!r->to_filter || s_read_to_matches (r, m->to));
    msg_destroy (&m);
    if (match) {
        json_array_append_new (r->entries, json_stringn_nocheck (data, len));
        r->bytes += len;
    }
    return true;
}

static void
s_on_journal_read (brk_t *self, brk_peer_t *peer, const void *rid, size_t rid_len, msg_t *msg)
{
    int64_t from = msg_int (msg, "from", 1);
    int64_t limit = msg_int (msg, "limit", BRK_READ_DEFAULT);
    s_read_t r = {
        .entries = json_array (),
        .limit = limit < 1 ? 1 : limit > BRK_READ_MAX ? BRK_READ_MAX : (size_t) limit,
        .type = msg_str (msg, "type", NULL),
        .next = from < 1 ? 1 : (uint64_t) from,
    };
    const char *to = msg_str (msg, "to", NULL);
    if (to && msg_addr_split (to, r.to_name, r.to_instance)) {
        json_decref (r.entries);
        brk_reject (self, rid, rid_len, BRK_REJ_BAD_CONTROL, msg->id, MSG_EADDR,
                    "journal.read 'to' is not an address", "journal.read");
        return;
    }
    //  The journal holds every app's config: from another host (CURVE),
    //  an actor reads only what was sent to it (its restore), nobody the
    //  rest. On loopback the API token is the key to everything anyway.
    if (peer->key [0] && (!peer->actor || !to || strcmp (r.to_name, peer->name) != 0
                          || (r.to_instance [0] && strcmp (r.to_instance, peer->instance) != 0))) {
        json_decref (r.entries);
        act_log_warn ("refused journal.read from %s: over CURVE an actor reads only its own entries",
                      peer->address);
        brk_reject (self, rid, rid_len, BRK_REJ_SPOOFED, msg->id, ACT_EREFUSED,
                    "over CURVE, journal.read is only for an actor's own entries (to = its address)",
                    "journal.read");
        return;
    }
    r.to_filter = to != NULL;
    brk_journal_scan (self->journal, r.next, s_read_entry, &r);
    //  Nothing scanned: there is nothing at or after `from`.
    if (r.scanned == 0)
        r.next = brk_journal_head (self->journal) + 1;
    msg_t *reply = brk_msg_new (self, MSG_TYPE_JOURNAL_BATCH, peer->address);
    msg_set_corr (reply, msg->id);
    msg_set_json (reply, "entries", r.entries);
    msg_set_int (reply, "head", (int64_t) brk_journal_head (self->journal));
    msg_set_int (reply, "next", (int64_t) r.next);
    brk_send_msg (self, rid, rid_len, &reply);
}

static void
s_on_ping (brk_t *self, brk_peer_t *peer, const void *rid, size_t rid_len, msg_t *msg)
{
    msg_t *pong = brk_msg_new (self, MSG_TYPE_PONG, peer->address);
    msg_set_corr (pong, msg->id);
    json_t *data = json_object_get (msg->body, "data");
    if (data)
        msg_set_json (pong, "data", json_incref (data));
    brk_send_msg (self, rid, rid_len, &pong);
}

static const struct {
    msg_type_id_t type;
    brk_control_fn *fn;
} s_routes [] = {
    { MSG_TYPE_HELLO,         s_on_hello },
    { MSG_TYPE_HEARTBEAT,     s_on_heartbeat },
    { MSG_TYPE_BYE,           s_on_bye },
    { MSG_TYPE_DELIVERED,     s_on_delivered },
    { MSG_TYPE_SUBSCRIBE,     s_on_subscribe },
    { MSG_TYPE_BROKER_STATUS, s_on_broker_status },
    { MSG_TYPE_JOURNAL_READ,  s_on_journal_read },
    { MSG_TYPE_PING,          s_on_ping },
    { MSG_TYPE_SNAPSHOT_PUT,  brk_on_snapshot_put },
    { MSG_TYPE_SNAPSHOT_GET,  brk_on_snapshot_get },
    { MSG_TYPE_VAULT_PUT,     brk_on_vault_put },
    { MSG_TYPE_VAULT_GET,     brk_on_vault_get },
};

void
brk_control (brk_t *self, brk_peer_t *peer, const void *rid, size_t rid_len, msg_t *msg)
{
    for (size_t i = 0; i < sizeof s_routes / sizeof s_routes [0]; i++)
        if (s_routes [i].type == msg->type->id) {
            s_routes [i].fn (self, peer, rid, rid_len, msg);
            return;
        }
    brk_reject (self, rid, rid_len, BRK_REJ_BAD_CONTROL, msg->id, ACT_EPROTO,
                "the broker does not take this message type", msg->type->name);
}
