//  msg_types - the table of message types and their body schemas
//
//  Each type is declared once here (its id) and once in msg_types.c (name,
//  kind, durability, documentation and fields). docs/protocol.md is
//  generated from that table and a test keeps the two equal.

#ifndef MSG_TYPES_H
#define MSG_TYPES_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    MSG_TYPE_HELLO,
    MSG_TYPE_WELCOME,
    MSG_TYPE_HEARTBEAT,
    MSG_TYPE_BYE,
    MSG_TYPE_ERROR,
    MSG_TYPE_ACK,
    MSG_TYPE_DELIVERED,
    MSG_TYPE_SUBSCRIBE,
    MSG_TYPE_ACTOR_UP,
    MSG_TYPE_ACTOR_DOWN,
    MSG_TYPE_STATUS,
    MSG_TYPE_STATUS_REPLY,
    MSG_TYPE_BROKER_STATUS,
    MSG_TYPE_BROKER_STATUS_REPLY,
    MSG_TYPE_JOURNAL_READ,
    MSG_TYPE_JOURNAL_BATCH,
    MSG_TYPE_PING,
    MSG_TYPE_PONG,
    MSG_TYPE_STOP,
    MSG_TYPE_APP_CREATE,
    MSG_TYPE_APP_GET,
    MSG_TYPE_APP_LIST,
    MSG_TYPE_APP_DESTROY,
    MSG_TYPE_APP_INFO,
    MSG_TYPE_APP_LIST_REPLY,
    MSG_TYPE_APP_DESTROYED,
    MSG_TYPE_APP_CREATED,
    MSG_TYPE_BUILDPACKS_SET,
    MSG_TYPE_CONFIG_SET,
    MSG_TYPE_CONFIG_UNSET,
    MSG_TYPE_CONFIG_GET,
    MSG_TYPE_CONFIG_VARS,
    MSG_TYPE_CONFIG_ROLLBACK,
    MSG_TYPE_RELEASE_CREATE,
    MSG_TYPE_RELEASE_LIST,
    MSG_TYPE_RELEASE_LIST_REPLY,
    MSG_TYPE_RELEASE_GET,
    MSG_TYPE_RELEASE_INFO,
    MSG_TYPE_RELEASE_ROLLBACK,
    MSG_TYPE_RELEASE_CREATED,
    MSG_TYPE_UPLOAD_START,
    MSG_TYPE_UPLOAD_READY,
    MSG_TYPE_UPLOAD_CHUNK,
    MSG_TYPE_UPLOAD_PROGRESS,
    MSG_TYPE_UPLOAD_FINISH,
    MSG_TYPE_UPLOAD_DONE,
    MSG_TYPE_DEPLOY_START,
    MSG_TYPE_DEPLOY_OUTPUT,
    MSG_TYPE_LOG_BATCH,
    MSG_TYPE_LOG_GET,
    MSG_TYPE_LOG_LINES,
    MSG_TYPE_LOG_TOKEN,
    MSG_TYPE_LOG_TOKEN_REPLY,
    MSG_TYPE_DRAIN_ADD,
    MSG_TYPE_DRAIN_REMOVE,
    MSG_TYPE_DRAIN_LIST,
    MSG_TYPE_DRAIN_LIST_REPLY,
    MSG_TYPE_PS_SCALE,
    MSG_TYPE_PS_LIST,
    MSG_TYPE_PS_LIST_REPLY,
    MSG_TYPE_FORMATION_INFO,
    MSG_TYPE_PS_RESTART,
    MSG_TYPE_PS_STOP,
    MSG_TYPE_PS_DONE,
    MSG_TYPE_FEATURE_SET,
    MSG_TYPE_FEATURE_LIST,
    MSG_TYPE_FEATURE_LIST_REPLY,
    MSG_TYPE_HEALTHCHECK_SET,
    MSG_TYPE_RUN_START,
    MSG_TYPE_RUN_STARTED,
    MSG_TYPE_RUN_INPUT,
    MSG_TYPE_RUN_OUTPUT,
    MSG_TYPE_RUN_EXIT,
    MSG_TYPE_DYNO_ASSIGN,
    MSG_TYPE_DYNO_STATE,
    MSG_TYPE_DYNO_REPORT,
    MSG_TYPE_BLOB_GET,
    MSG_TYPE_BLOB_CHUNK,
    MSG_TYPE_RELEASE_STATUS,
    MSG_TYPE_DOMAIN_ADD,
    MSG_TYPE_DOMAIN_REMOVE,
    MSG_TYPE_DOMAIN_LIST,
    MSG_TYPE_DOMAIN_INFO,
    MSG_TYPE_DOMAIN_LIST_REPLY,
    MSG_TYPE_MAINTENANCE_SET,
    MSG_TYPE_CERT_ADD,
    MSG_TYPE_CERT_STORED,
    MSG_TYPE_CERT_REMOVE,
    MSG_TYPE_CERT_LIST,
    MSG_TYPE_CERT_INFO,
    MSG_TYPE_CERT_LIST_REPLY,
    MSG_TYPE_ACM_SET,
    MSG_TYPE_ROUTE_APP,
    MSG_TYPE_ACME_CHALLENGE,
    MSG_TYPE_BASE_COUNT,                // rows above: msg_types.c; below: msg_types_hosts.c
    MSG_TYPE_SNAPSHOT_PUT = MSG_TYPE_BASE_COUNT,
    MSG_TYPE_SNAPSHOT_SAVED,
    MSG_TYPE_SNAPSHOT_GET,
    MSG_TYPE_SNAPSHOT_PART,
    MSG_TYPE_VAULT_PUT,
    MSG_TYPE_VAULT_SAVED,
    MSG_TYPE_VAULT_GET,
    MSG_TYPE_HOSTS_LIST,
    MSG_TYPE_HOSTS_LIST_REPLY,
    MSG_TYPE_COUNT
} msg_type_id_t;

typedef enum {
    MSG_KIND_CONTROL,       // between a peer and the broker itself
    MSG_KIND_COMMAND,       // asks an actor to do something
    MSG_KIND_REPLY,         // answers a command (corr set)
    MSG_KIND_EVENT,         // something happened; usually published
    MSG_KIND_STREAM,        // high-volume, never journaled
} msg_kind_t;

typedef enum {
    MSG_FIELD_STR,          // UTF-8 string
    MSG_FIELD_INT,          // signed or unsigned integer
    MSG_FIELD_BOOL,
    MSG_FIELD_BIN,          // raw bytes
    MSG_FIELD_MAP,          // nested map with string keys
    MSG_FIELD_ARRAY,
    MSG_FIELD_ANY,          // any value within the depth limit
    MSG_FIELD_BIN_ARRAY,    // array of raw byte strings
} msg_field_type_t;

typedef struct {
    const char *name;
    msg_field_type_t type;
    bool required;
    const char *doc;
} msg_field_t;

typedef struct {
    msg_type_id_t id;
    const char *name;
    msg_kind_t kind;
    bool durable;           // default for the envelope flag
    const char *doc;
    const msg_field_t *fields;
    size_t field_count;
} msg_type_t;

//  True for a type that carries a secret in clear (`cert.add`'s key): the
//  broker refuses it sent durable, so it never reaches the journal.
bool msg_type_secret (const msg_type_t *type);

//  Borrowed, static storage; NULL when unknown.
const msg_type_t *msg_type_by_id (msg_type_id_t id);
const msg_type_t *msg_type_by_name (const char *name, size_t len);
//  Field of a type by name; NULL when the schema has no such field.
//  Borrowed, static storage.
const msg_field_t *msg_type_field (const msg_type_t *type, const char *name, size_t len);
//  Names for documentation and errors. Borrowed, static storage.
const char *msg_kind_name (msg_kind_t kind);
const char *msg_field_type_name (msg_field_type_t type);

//  Writes the type reference section of docs/protocol.md (markdown) to a
//  malloc'd string. Caller owns result.
char *msg_types_markdown (void);

#endif
