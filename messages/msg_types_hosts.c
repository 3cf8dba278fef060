//  msg_types_hosts - the rows of the many-hosts message types
//
//  Snapshots and blobs kept by the broker, so that an actor can move to
//  another host and carry on (relocation), and the host list. Same rules as
//  msg_types.c: one row per type, in id order.

#include "msg_types_internal.h"

static const msg_field_t s_snapshot_put [] = {
    { "name",   MSG_FIELD_STR, true, "the actor whose snapshot this is (must be the sender's name)" },
    { "seq",    MSG_FIELD_INT, true, "last journal sequence number the snapshot holds" },
    { "broker", MSG_FIELD_STR, true, "id of the journal those numbers belong to" },
    { "part",   MSG_FIELD_INT, true, "this part, from 0" },
    { "parts",  MSG_FIELD_INT, true, "how many parts the snapshot has" },
    { "size",   MSG_FIELD_INT, true, "the whole snapshot's size in bytes" },
    { "data",   MSG_FIELD_BIN, true, "the part's bytes" },
};
static const msg_field_t s_snapshot_saved [] = {
    { "name",  MSG_FIELD_STR, true, "actor name" },
    { "seq",   MSG_FIELD_INT, true, "sequence number of the snapshot" },
    { "part",  MSG_FIELD_INT, true, "the part stored" },
    { "parts", MSG_FIELD_INT, true, "how many parts it has; the last one stored makes it current" },
};
static const msg_field_t s_snapshot_get [] = {
    { "name", MSG_FIELD_STR, true, "the actor whose snapshot is wanted (must be the sender's name)" },
    { "part", MSG_FIELD_INT, true, "which part, from 0" },
};
static const msg_field_t s_snapshot_part [] = {
    { "name",   MSG_FIELD_STR, true, "actor name" },
    { "seq",    MSG_FIELD_INT, true, "last journal sequence number the snapshot holds" },
    { "broker", MSG_FIELD_STR, true, "id of the journal those numbers belong to" },
    { "part",   MSG_FIELD_INT, true, "this part" },
    { "parts",  MSG_FIELD_INT, true, "how many parts the snapshot has" },
    { "size",   MSG_FIELD_INT, true, "the whole snapshot's size in bytes" },
    { "data",   MSG_FIELD_BIN, true, "the part's bytes" },
};
static const msg_field_t s_vault_put [] = {
    { "blob",   MSG_FIELD_STR,  true, "sha256 of the blob" },
    { "offset", MSG_FIELD_INT,  true, "where `data` starts; parts come in order from 0" },
    { "size",   MSG_FIELD_INT,  true, "the blob's total size" },
    { "data",   MSG_FIELD_BIN,  true, "the bytes" },
    { "eof",    MSG_FIELD_BOOL, true, "`data` ends the blob: the broker checks the sha256 and keeps it" },
};
static const msg_field_t s_vault_saved [] = {
    { "blob",   MSG_FIELD_STR,  true, "sha256 of the blob" },
    { "offset", MSG_FIELD_INT,  true, "bytes stored so far" },
    { "stored", MSG_FIELD_BOOL, true, "the whole blob is kept (checked and synced)" },
};
static const msg_field_t s_vault_get [] = {
    { "blob",   MSG_FIELD_STR, true,  "sha256 of the blob" },
    { "offset", MSG_FIELD_INT, true,  "first byte wanted" },
    { "length", MSG_FIELD_INT, false, "bytes wanted (default and at most 900 KiB)" },
};
static const msg_field_t s_hosts_list_reply [] = {
    { "hosts", MSG_FIELD_ARRAY, true, "one map per live dyno-supervisor: host, supervisor, capacity_mb, used_mb, dynos (count), last_report_ms" },
};

const msg_type_t msg_types_hosts [] = {
    { MSG_TYPE_SNAPSHOT_PUT, "snapshot.put", MSG_KIND_CONTROL, false,
      "From a stateful actor to the broker: one part of its latest snapshot. The broker keeps the "
      "newest whole snapshot per actor name, so the actor can be restored on another host; "
      "answered by `snapshot.saved`, or `error`.", FIELDS (s_snapshot_put) },
    { MSG_TYPE_SNAPSHOT_SAVED, "snapshot.saved", MSG_KIND_REPLY, false,
      "A snapshot part is stored.", FIELDS (s_snapshot_saved) },
    { MSG_TYPE_SNAPSHOT_GET, "snapshot.get", MSG_KIND_CONTROL, false,
      "From an actor starting up to the broker: a part of the newest snapshot kept for its name; "
      "answered by `snapshot.part`, or `error` (code not found when there is none).",
      FIELDS (s_snapshot_get) },
    { MSG_TYPE_SNAPSHOT_PART, "snapshot.part", MSG_KIND_REPLY, false,
      "One part of a kept snapshot.", FIELDS (s_snapshot_part) },
    { MSG_TYPE_VAULT_PUT, "vault.put", MSG_KIND_CONTROL, false,
      "From release-keeper to the broker: a part of a blob (a slug, a source, a buildpack) to keep "
      "a copy of, so that release-keeper can move to another host; answered by `vault.saved`, or "
      "`error`.", FIELDS (s_vault_put) },
    { MSG_TYPE_VAULT_SAVED, "vault.saved", MSG_KIND_REPLY, false,
      "A blob part is stored.", FIELDS (s_vault_saved) },
    { MSG_TYPE_VAULT_GET, "vault.get", MSG_KIND_CONTROL, false,
      "From release-keeper to the broker: part of a kept blob; answered by `blob.chunk`, or `error`.",
      FIELDS (s_vault_get) },
    { MSG_TYPE_HOSTS_LIST, "hosts.list", MSG_KIND_COMMAND, false,
      "Asks the scheduler for the hosts it places dynos on; answered by `hosts.list.reply`.",
      NULL, 0 },
    { MSG_TYPE_HOSTS_LIST_REPLY, "hosts.list.reply", MSG_KIND_REPLY, false,
      "The live dyno-supervisors with their capacity and what is placed on them.",
      FIELDS (s_hosts_list_reply) },
};

_Static_assert (sizeof (msg_types_hosts) / sizeof (msg_types_hosts [0])
                == MSG_TYPE_COUNT - MSG_TYPE_BASE_COUNT,
                "every msg_type_id_t from MSG_TYPE_BASE_COUNT on needs a row in msg_types_hosts");
