//  msg_types - the table of message types and their body schemas
//
//  One row per type. Field order here is the order documented; on the wire a
//  body is a map, so order does not matter there. Unknown body fields are
//  accepted and kept (newer senders), missing required ones are rejected.

#include "msg_types.h"
#include "../actors/common/act_base.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELDS(name) name, sizeof (name) / sizeof (name [0])

static const msg_field_t s_hello [] = {
    { "name",      MSG_FIELD_STR,   true,  "actor name (`scheduler`) or `cli` for a client" },
    { "instance",  MSG_FIELD_STR,   true,  "instance id, unique per name (default: the host name)" },
    { "host",      MSG_FIELD_STR,   true,  "host the peer runs on" },
    { "pid",       MSG_FIELD_INT,   true,  "process id on that host" },
    { "role",      MSG_FIELD_STR,   true,  "`actor` or `client`" },
    { "token",     MSG_FIELD_STR,   true,  "API token; never logged" },
    { "singleton", MSG_FIELD_BOOL,  false, "at most one live instance of this name" },
    { "topics",    MSG_FIELD_ARRAY, false, "topics to subscribe to (strings)" },
    { "started",   MSG_FIELD_INT,   false, "when the process started (ms since epoch)" },
};
static const msg_field_t s_welcome [] = {
    { "broker",       MSG_FIELD_STR, true, "broker instance id" },
    { "heartbeat_ms", MSG_FIELD_INT, true, "heartbeat interval both ways" },
    { "liveness",     MSG_FIELD_INT, true, "missed heartbeats before a peer is dead" },
    { "journal_head", MSG_FIELD_INT, true, "highest journaled sequence number" },
};
static const msg_field_t s_error [] = {
    { "code",   MSG_FIELD_INT, true,  "negative error code (see docs/protocol.md)" },
    { "reason", MSG_FIELD_STR, true,  "one line saying what was wrong" },
    { "type",   MSG_FIELD_STR, false, "type of the rejected message, when known" },
};
static const msg_field_t s_ack [] = {
    { "seq", MSG_FIELD_INT, true, "sequence number the durable message was journaled under" },
};
static const msg_field_t s_delivered [] = {
    { "seq", MSG_FIELD_INT, true, "the last durable message handled; covers every one the broker sent this peer before it" },
};
static const msg_field_t s_subscribe [] = {
    { "topic", MSG_FIELD_STR, true, "topic name, e.g. `actor.up`" },
};
static const msg_field_t s_actor_event [] = {
    { "name",     MSG_FIELD_STR, true,  "actor name" },
    { "instance", MSG_FIELD_STR, true,  "instance id" },
    { "host",     MSG_FIELD_STR, true,  "host name" },
    { "pid",      MSG_FIELD_INT, false, "process id" },
    { "reason",   MSG_FIELD_STR, false, "why it went down: `heartbeat`, `bye`, `replaced`" },
};
static const msg_field_t s_status_reply [] = {
    { "name",      MSG_FIELD_STR, true,  "actor name" },
    { "instance",  MSG_FIELD_STR, true,  "instance id" },
    { "host",      MSG_FIELD_STR, true,  "host name" },
    { "pid",       MSG_FIELD_INT, true,  "process id" },
    { "state",     MSG_FIELD_STR, true,  "`up` or `stopping`" },
    { "uptime_ms", MSG_FIELD_INT, true,  "time since the process started" },
    { "msgs_in",   MSG_FIELD_INT, true,  "messages received" },
    { "msgs_out",  MSG_FIELD_INT, true,  "messages sent" },
    { "last_seq",  MSG_FIELD_INT, false, "highest durable sequence number applied" },
    { "detail",    MSG_FIELD_MAP, false, "actor-specific figures" },
};
static const msg_field_t s_broker_status_reply [] = {
    { "instance",     MSG_FIELD_STR,   true, "broker instance id" },
    { "host",         MSG_FIELD_STR,   true, "host name" },
    { "pid",          MSG_FIELD_INT,   true, "process id" },
    { "endpoint",     MSG_FIELD_STR,   true, "the ROUTER endpoint" },
    { "uptime_ms",    MSG_FIELD_INT,   true, "time since the broker started" },
    { "msgs_in",      MSG_FIELD_INT,   true, "frames received" },
    { "msgs_out",     MSG_FIELD_INT,   true, "frames sent" },
    { "journal_head", MSG_FIELD_INT,   true, "highest journaled sequence number" },
    { "held",         MSG_FIELD_INT,   true, "durable messages awaiting delivery" },
    { "rejected",     MSG_FIELD_MAP,   true, "rejected inputs counted by reason" },
    { "peers",        MSG_FIELD_ARRAY, true, "live peers: maps of name, instance, host, pid, role, since_ms, last_seen_ms, msgs_in, msgs_out" },
};
static const msg_field_t s_journal_read [] = {
    { "from",  MSG_FIELD_INT, true,  "first sequence number wanted" },
    { "limit", MSG_FIELD_INT, false, "most entries to return (default 1000, max 10000); at least one matching entry is always returned when there is one" },
    { "type",  MSG_FIELD_STR, false, "only entries of this type" },
    { "to",    MSG_FIELD_STR, false, "only entries for this address: `name` matches the name and all its instances, `name@instance` that instance and the bare name" },
};
static const msg_field_t s_journal_batch [] = {
    { "entries", MSG_FIELD_BIN_ARRAY, true, "encoded messages, in sequence order" },
    { "head",    MSG_FIELD_INT,   true, "highest journaled sequence number" },
    { "next",    MSG_FIELD_INT,   true, "sequence number to ask for next" },
};
static const msg_field_t s_ping [] = {
    { "data", MSG_FIELD_ANY, false, "echoed back unchanged in the pong" },
};
static const msg_field_t s_app_create [] = {
    { "name", MSG_FIELD_STR, false, "app name, `[a-z][a-z0-9-]{2,29}`; a readable random one (`sharp-rain-8712`) when absent" },
    { "by",   MSG_FIELD_STR, false, "who asks (recorded as the app's creator)" },
};
static const msg_field_t s_app_name [] = {
    { "name", MSG_FIELD_STR, true, "app name" },
};
static const msg_field_t s_app_destroy [] = {
    { "name",    MSG_FIELD_STR, true, "app name" },
    { "confirm", MSG_FIELD_STR, true, "must equal `name` (`--confirm APP`)" },
};
static const msg_field_t s_app_info [] = {
    { "name",       MSG_FIELD_STR, true, "app name" },
    { "created_ms", MSG_FIELD_INT, true, "when it was created, ms since epoch (the `ts` of its `app.create`)" },
    { "by",         MSG_FIELD_STR, true, "who created it (empty when not said)" },
    { "releases",   MSG_FIELD_INT, true, "number of releases (0 until deploys exist)" },
};
static const msg_field_t s_app_list_reply [] = {
    { "apps", MSG_FIELD_ARRAY, true, "maps with the fields of `app.info`, sorted by name" },
};

static const msg_type_t s_types [] = {
    { MSG_TYPE_HELLO, "hello", MSG_KIND_CONTROL, false,
      "First message of every peer: registers it in the broker's directory. "
      "Answered by `welcome`, or by `error` (bad token, singleton already live).",
      FIELDS (s_hello) },
    { MSG_TYPE_WELCOME, "welcome", MSG_KIND_CONTROL, false,
      "The broker accepted a `hello`.", FIELDS (s_welcome) },
    { MSG_TYPE_HEARTBEAT, "heartbeat", MSG_KIND_CONTROL, false,
      "Sent both ways every `heartbeat_ms` when nothing else was sent; a peer "
      "silent for `liveness` intervals is dead.", NULL, 0 },
    { MSG_TYPE_BYE, "bye", MSG_KIND_CONTROL, false,
      "A peer leaves cleanly; the broker publishes `actor.down` at once.", NULL, 0 },
    { MSG_TYPE_ERROR, "error", MSG_KIND_REPLY, false,
      "A message was refused or failed; `corr` names it when its id was readable.",
      FIELDS (s_error) },
    { MSG_TYPE_ACK, "ack", MSG_KIND_CONTROL, false,
      "The broker journaled a durable message (fsync'd); `corr` is its id.",
      FIELDS (s_ack) },
    { MSG_TYPE_DELIVERED, "delivered", MSG_KIND_CONTROL, false,
      "An actor handled the durable message `seq` and everything the broker sent it before "
      "that one (it handles messages in arrival order, so one `delivered` covers a batch); "
      "the broker stops holding them.",
      FIELDS (s_delivered) },
    { MSG_TYPE_SUBSCRIBE, "subscribe", MSG_KIND_CONTROL, false,
      "Adds a topic subscription for the sending peer.", FIELDS (s_subscribe) },
    { MSG_TYPE_ACTOR_UP, "actor.up", MSG_KIND_EVENT, false,
      "Published on topic `actor.up` when an actor registers.", FIELDS (s_actor_event) },
    { MSG_TYPE_ACTOR_DOWN, "actor.down", MSG_KIND_EVENT, false,
      "Published on topic `actor.down` when an actor leaves or misses its heartbeats.",
      FIELDS (s_actor_event) },
    { MSG_TYPE_STATUS, "status", MSG_KIND_COMMAND, false,
      "Asks an actor for its status; answered by `status.reply`.", NULL, 0 },
    { MSG_TYPE_STATUS_REPLY, "status.reply", MSG_KIND_REPLY, false,
      "An actor's status.", FIELDS (s_status_reply) },
    { MSG_TYPE_BROKER_STATUS, "broker.status", MSG_KIND_CONTROL, false,
      "Asks the broker for its status and directory; answered by `broker.status.reply`.",
      NULL, 0 },
    { MSG_TYPE_BROKER_STATUS_REPLY, "broker.status.reply", MSG_KIND_REPLY, false,
      "The broker's status and its directory of live peers.", FIELDS (s_broker_status_reply) },
    { MSG_TYPE_JOURNAL_READ, "journal.read", MSG_KIND_CONTROL, false,
      "Reads journal entries from the broker (restore after a snapshot, `dynod journal`).",
      FIELDS (s_journal_read) },
    { MSG_TYPE_JOURNAL_BATCH, "journal.batch", MSG_KIND_REPLY, false,
      "Journal entries answering `journal.read`.", FIELDS (s_journal_batch) },
    { MSG_TYPE_PING, "ping", MSG_KIND_COMMAND, false,
      "Liveness probe any actor answers with `pong`; may be sent durable.",
      FIELDS (s_ping) },
    { MSG_TYPE_PONG, "pong", MSG_KIND_REPLY, false,
      "Answer to `ping`, carrying its `data`.", FIELDS (s_ping) },
    { MSG_TYPE_STOP, "stop", MSG_KIND_COMMAND, false,
      "Asks an actor to stop cleanly, as SIGTERM does.", NULL, 0 },
    { MSG_TYPE_APP_CREATE, "app.create", MSG_KIND_COMMAND, true,
      "Asks release-keeper to create an app; answered by `app.info`, or `error` "
      "(name taken or not valid).", FIELDS (s_app_create) },
    { MSG_TYPE_APP_GET, "app.get", MSG_KIND_COMMAND, false,
      "Asks release-keeper for one app; answered by `app.info`, or `error` "
      "(`ACT_ENOTFOUND`).", FIELDS (s_app_name) },
    { MSG_TYPE_APP_LIST, "app.list", MSG_KIND_COMMAND, false,
      "Asks release-keeper for every app; answered by `app.list.reply`.", NULL, 0 },
    { MSG_TYPE_APP_DESTROY, "app.destroy", MSG_KIND_COMMAND, true,
      "Asks release-keeper to destroy an app; answered by `app.destroyed`, or `error` "
      "(unknown app, `confirm` not equal to `name`).", FIELDS (s_app_destroy) },
    { MSG_TYPE_APP_INFO, "app.info", MSG_KIND_REPLY, false,
      "One app, answering `app.create` or `app.get`.", FIELDS (s_app_info) },
    { MSG_TYPE_APP_LIST_REPLY, "app.list.reply", MSG_KIND_REPLY, false,
      "Every app, answering `app.list`.", FIELDS (s_app_list_reply) },
    { MSG_TYPE_APP_DESTROYED, "app.destroyed", MSG_KIND_REPLY, false,
      "The app is gone, answering `app.destroy`.", FIELDS (s_app_name) },
};

_Static_assert (sizeof (s_types) / sizeof (s_types [0]) == MSG_TYPE_COUNT,
                "every msg_type_id_t needs a row in s_types");

const msg_type_t *
msg_type_by_id (msg_type_id_t id)
{
    if ((unsigned) id >= MSG_TYPE_COUNT)
        return NULL;
    return &s_types [id];
}

const msg_type_t *
msg_type_by_name (const char *name, size_t len)
{
    for (size_t i = 0; i < MSG_TYPE_COUNT; i++)
        if (len > 0 && s_types [i].name [0] == name [0] && strlen (s_types [i].name) == len
        &&  memcmp (s_types [i].name, name, len) == 0)
            return &s_types [i];
    return NULL;
}

const msg_field_t *
msg_type_field (const msg_type_t *type, const char *name, size_t len)
{
    for (size_t i = 0; i < type->field_count; i++)
        if (len > 0 && type->fields [i].name [0] == name [0] && strlen (type->fields [i].name) == len
        &&  memcmp (type->fields [i].name, name, len) == 0)
            return &type->fields [i];
    return NULL;
}

const char *
msg_kind_name (msg_kind_t kind)
{
    static const char *names [] = { "control", "command", "reply", "event", "stream" };
    return names [kind];
}

const char *
msg_field_type_name (msg_field_type_t type)
{
    static const char *names [] = { "str", "int", "bool", "bin", "map", "array", "any", "bin array" };
    return names [type];
}

//  Appends printf-style text to a growing buffer.
static void __attribute__ ((format (printf, 4, 5)))
s_append (char **out, size_t *len, size_t *cap, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    int n = vsnprintf (*out + *len, *cap - *len, fmt, ap);
    va_end (ap);
    if ((size_t) n >= *cap - *len) {
        while ((size_t) n >= *cap - *len)
            *cap *= 2;
        *out = act_realloc (*out, *cap);
        va_start (ap, fmt);
        vsnprintf (*out + *len, *cap - *len, fmt, ap);
        va_end (ap);
    }
    *len += (size_t) n;
}

char *
msg_types_markdown (void)
{
    size_t cap = 16384, len = 0;
    char *out = act_malloc (cap);
    out [0] = 0;
    for (size_t i = 0; i < MSG_TYPE_COUNT; i++) {
        const msg_type_t *t = &s_types [i];
        s_append (&out, &len, &cap, "### `%s`\n\nKind: %s. Durable by default: %s.\n\n%s\n\n",
                  t->name, msg_kind_name (t->kind), t->durable ? "yes" : "no", t->doc);
        if (t->field_count == 0) {
            s_append (&out, &len, &cap, "Body: empty map.\n\n");
            continue;
        }
        s_append (&out, &len, &cap, "| field | type | required | meaning |\n|---|---|---|---|\n");
        for (size_t f = 0; f < t->field_count; f++)
            s_append (&out, &len, &cap, "| `%s` | %s | %s | %s |\n", t->fields [f].name,
                      msg_field_type_name (t->fields [f].type),
                      t->fields [f].required ? "yes" : "no", t->fields [f].doc);
        s_append (&out, &len, &cap, "\n");
    }
    return out;
}
