//  msg_types - the table of message types and their body schemas
//
//  One row per type. Field order here is the order documented; on the wire a
//  body is a map, so order does not matter there. Unknown body fields are
//  accepted and kept (newer senders), missing required ones are rejected.
//  msg_types_hosts.c holds the rows of the many-hosts types,
//  msg_types_lookup.c the lookups, msg_types_doc.c the markdown.

#include "msg_types_internal.h"

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
    { "host_id",   MSG_FIELD_STR,   false, "the host's persistent id (`<data>/host-id`): tells a restart on the same host from another host with the same name" },
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
static const msg_field_t s_app_destroyed [] = {
    { "name",           MSG_FIELD_STR, true,  "app name" },
    { "app_created_ms", MSG_FIELD_INT, false, "to the scheduler: when the destroyed app was "
                                              "created (a later app of the same name is not it)" },
};
static const msg_field_t s_app_destroy [] = {
    { "name",    MSG_FIELD_STR, true, "app name" },
    { "confirm", MSG_FIELD_STR, true, "must equal `name` (`--confirm APP`)" },
};
static const msg_field_t s_app_info [] = {
    { "name",       MSG_FIELD_STR, true, "app name" },
    { "created_ms", MSG_FIELD_INT, true, "when it was created, ms since epoch (the `ts` of its `app.create`)" },
    { "by",         MSG_FIELD_STR, true, "who created it (empty when not said)" },
    { "releases",   MSG_FIELD_INT, true, "number of releases" },
    { "buildpacks", MSG_FIELD_ARRAY, false, "maps of `blob` and `name`: the buildpacks builds run (empty: the built-in one)" },
    { "maintenance", MSG_FIELD_BOOL, false, "maintenance mode is on: the router answers 503 (H80)" },
    { "acm",        MSG_FIELD_BOOL,  false, "automated certificate management is enabled" },
};
static const msg_field_t s_app_list_reply [] = {
    { "apps", MSG_FIELD_ARRAY, true, "maps with the fields of `app.info`, sorted by name" },
};

static const msg_field_t s_app_created [] = {
    { "name", MSG_FIELD_STR, true,  "app name" },
    { "by",   MSG_FIELD_STR, false, "who created it" },
};
static const msg_field_t s_buildpacks_set [] = {
    { "app",        MSG_FIELD_STR,   true,  "app name" },
    { "buildpacks", MSG_FIELD_ARRAY, true,  "maps of `blob` (sha256 of an uploaded buildpack archive) and `name`, in the order they run; empty: the built-in buildpack" },
    { "by",         MSG_FIELD_STR,   false, "who asks" },
};
static const msg_field_t s_config_set [] = {
    { "app",  MSG_FIELD_STR, true,  "app name" },
    { "vars", MSG_FIELD_MAP, true,  "KEY -> value; keys `[A-Za-z_][A-Za-z0-9_]*`, not `__*` or `DYNOD_*`; values any bytes but NUL" },
    { "by",   MSG_FIELD_STR, false, "who asks" },
};
static const msg_field_t s_config_unset [] = {
    { "app",  MSG_FIELD_STR,   true,  "app name" },
    { "keys", MSG_FIELD_ARRAY, true,  "keys to remove (strings)" },
    { "by",   MSG_FIELD_STR,   false, "who asks" },
};
static const msg_field_t s_config_get [] = {
    { "app",     MSG_FIELD_STR, true,  "app name" },
    { "version", MSG_FIELD_INT, false, "config version wanted (default: the current one)" },
};
static const msg_field_t s_config_vars [] = {
    { "app",     MSG_FIELD_STR, true, "app name" },
    { "version", MSG_FIELD_INT, true, "config version (0: nothing set yet)" },
    { "vars",    MSG_FIELD_MAP, true, "KEY -> value" },
};
static const msg_field_t s_config_rollback [] = {
    { "app",     MSG_FIELD_STR, true,  "app name" },
    { "version",    MSG_FIELD_INT, true,  "config version whose vars become current again (the target release's)" },
    { "rollback",   MSG_FIELD_INT, true,  "this app's rollback number, 1, 2, ...; a repeat of one applied is dropped" },
    { "target",     MSG_FIELD_INT, true,  "the release rolled back to (`Rollback to v3`)" },
    { "release",    MSG_FIELD_MAP, true,  "the target's `slug`, `process_types` and `commit`, for the new release" },
    { "by",         MSG_FIELD_STR, false, "who asked for the rollback" },
    { "reply_to",   MSG_FIELD_STR, false, "the CLI that asked, for the resulting `release.info`" },
    { "reply_corr", MSG_FIELD_STR, false, "the id of its `release.rollback`" },
};
static const msg_field_t s_release_create [] = {
    { "app",            MSG_FIELD_STR,   true,  "app name" },
    { "kind",           MSG_FIELD_STR,   true,  "`config` or `rollback` (from config-keeper) or `deploy` (a finished build, from release-keeper itself); from anyone else refused" },
    { "description",    MSG_FIELD_STR,   true,  "`Set FOO, BAR config vars`, `Remove FOO config vars`, `Deploy 1a2b3c4`" },
    { "by",             MSG_FIELD_STR,   false, "who asked for the change" },
    { "config_version", MSG_FIELD_INT,   false, "kinds `config` and `rollback`: the config version the change made (a repeat of one already released is ignored)" },
    { "rollback_to",    MSG_FIELD_INT,   false, "kind `rollback`: the release rolled back to" },
    { "slug",           MSG_FIELD_MAP,   false, "kind `deploy`: `blob` (sha256), `size` (bytes), `buildpacks` (names)" },
    { "process_types",  MSG_FIELD_MAP,   false, "kind `deploy`: type -> command, from the Procfile" },
    { "commit",         MSG_FIELD_STR,   false, "kind `deploy`: the git commit deployed, when known" },
    { "reply_to",       MSG_FIELD_STR,   false, "address to send the resulting `release.info` to (the CLI that asked)" },
    { "reply_corr",     MSG_FIELD_STR,   false, "`corr` for that `release.info`: the id of the CLI's request" },
};
static const msg_field_t s_app_only [] = {
    { "app", MSG_FIELD_STR, true, "app name" },
};
static const msg_field_t s_release_list_reply [] = {
    { "app",      MSG_FIELD_STR,   true, "app name" },
    { "releases", MSG_FIELD_ARRAY, true, "maps with the fields of `release.info`, newest first" },
};
static const msg_field_t s_release_get [] = {
    { "app",     MSG_FIELD_STR, true,  "app name" },
    { "version", MSG_FIELD_INT, false, "release number (default: the current release)" },
};
static const msg_field_t s_release_info [] = {
    { "app",            MSG_FIELD_STR, true,  "app name" },
    { "version",        MSG_FIELD_INT, true,  "release number, 1, 2, ... per app" },
    { "description",    MSG_FIELD_STR, true,  "what changed" },
    { "by",             MSG_FIELD_STR, true,  "who changed it" },
    { "created_ms",     MSG_FIELD_INT, true,  "when, ms since epoch" },
    { "config_version", MSG_FIELD_INT, true,  "config version the release runs with" },
    { "slug",           MSG_FIELD_MAP, false, "`blob`, `size`, `buildpacks`; absent before the first deploy" },
    { "process_types",  MSG_FIELD_MAP, true,  "type -> command" },
    { "commit",         MSG_FIELD_STR, false, "git commit deployed, when known" },
    { "current",        MSG_FIELD_BOOL, false, "this is the app's newest release" },
    { "kind",           MSG_FIELD_STR, false, "`config`, `deploy` or `rollback`: what made the release" },
    { "rollback_to",    MSG_FIELD_INT, false, "kind `rollback`: the release rolled back to" },
    { "app_created_ms", MSG_FIELD_INT, false, "when the app was created: tells it from an earlier app of the same name" },
    { "status",         MSG_FIELD_STR, false, "`succeeded` or `failed` (release phase or preboot), once the scheduler told (`release.status`)" },
};
static const msg_field_t s_release_rollback [] = {
    { "app",     MSG_FIELD_STR, true,  "app name" },
    { "version", MSG_FIELD_INT, false, "release to go back to (default: the one before the current)" },
    { "by",      MSG_FIELD_STR, false, "who asks" },
};
static const msg_field_t s_upload_start [] = {
    { "app",     MSG_FIELD_STR, true, "app name" },
    { "purpose", MSG_FIELD_STR, true, "`source` (a .tar.gz to deploy) or `buildpack` (a .tar.gz buildpack)" },
};
static const msg_field_t s_upload_ready [] = {
    { "upload",    MSG_FIELD_STR, true, "upload id, named by the chunks" },
    { "chunk_max", MSG_FIELD_INT, true, "largest chunk accepted, bytes" },
    { "window",    MSG_FIELD_INT, true, "chunks the sender may have unanswered" },
};
static const msg_field_t s_upload_chunk [] = {
    { "upload", MSG_FIELD_STR, true, "upload id" },
    { "offset", MSG_FIELD_INT, true, "byte offset of this chunk; chunks come in order" },
    { "data",   MSG_FIELD_BIN, true, "the bytes" },
};
static const msg_field_t s_upload_progress [] = {
    { "upload",   MSG_FIELD_STR, true, "upload id" },
    { "received", MSG_FIELD_INT, true, "bytes stored so far" },
};
static const msg_field_t s_upload_finish [] = {
    { "upload", MSG_FIELD_STR, true, "upload id" },
    { "size",   MSG_FIELD_INT, true, "total bytes sent" },
    { "sha256", MSG_FIELD_STR, true, "SHA-256 of those bytes, 64 hex digits" },
};
static const msg_field_t s_upload_done [] = {
    { "upload", MSG_FIELD_STR, true, "upload id" },
    { "blob",   MSG_FIELD_STR, true, "content address: the sha256" },
    { "size",   MSG_FIELD_INT, true, "bytes" },
};
static const msg_field_t s_deploy_start [] = {
    { "app",         MSG_FIELD_STR, true,  "app name" },
    { "blob",        MSG_FIELD_STR, true,  "the uploaded source (`upload.done`'s `blob`)" },
    { "commit",      MSG_FIELD_STR, false, "git commit of the source, when it came from a work tree" },
    { "description", MSG_FIELD_STR, false, "release description (default `Deploy <short commit or blob>`)" },
    { "by",          MSG_FIELD_STR, false, "who deploys" },
};
static const msg_field_t s_deploy_output [] = {
    { "line", MSG_FIELD_STR, true, "one line of build output" },
};
static const msg_field_t s_log_batch [] = {
    { "app",   MSG_FIELD_STR,   true, "app name" },
    { "lines", MSG_FIELD_BIN,   true, "the lines packed back to back (messages/msg_logbatch.h), each: `ts` (microseconds since the epoch, int64 little-endian), `source` (`app`, `dynod`) and NUL, `process` (`web.1`, `api`, `router`: `[A-Za-z0-9._-]{1,64}`) and NUL, the text's length (uint32 little-endian), `text` (any bytes) and NUL" },
};
static const msg_field_t s_log_get [] = {
    { "app",     MSG_FIELD_STR, true,  "app name" },
    { "n",       MSG_FIELD_INT, false, "how many of the newest matching lines (default 100, at most 1500)" },
    { "source",  MSG_FIELD_STR, false, "only lines of this source (`app`, `dynod`)" },
    { "dyno",    MSG_FIELD_STR, false, "only lines of this process (`web.1`, `router`, `api`)" },
    { "ps",      MSG_FIELD_STR, false, "only lines of this process type (`web` matches `web.1`, `web.2`)" },
};
static const msg_field_t s_log_token [] = {
    { "app", MSG_FIELD_STR, true, "app name" },
};
static const msg_field_t s_log_token_reply [] = {
    { "app",   MSG_FIELD_STR, true, "app name" },
    { "token", MSG_FIELD_STR, true, "read-only token for this app's logs (websocket `token` parameter or `Authorization: Bearer`)" },
};
static const msg_field_t s_drain_add [] = {
    { "app", MSG_FIELD_STR, true,  "app name" },
    { "url", MSG_FIELD_STR, true,  "`syslog://H:P`, `syslog+tls://H:P`, `https://H[:P]/PATH` (`http://` to loopback only)" },
    { "by",  MSG_FIELD_STR, false, "who asked (for the API log line)" },
};
static const msg_field_t s_drain_list [] = {
    { "app", MSG_FIELD_STR, true, "app name" },
};
static const msg_field_t s_drain_list_reply [] = {
    { "app",    MSG_FIELD_STR,   true, "app name" },
    { "drains", MSG_FIELD_ARRAY, true, "the app's drains, oldest first: `[{url, token}]` (token `d.<uuid>`)" },
};
static const msg_field_t s_log_lines [] = {
    { "app",   MSG_FIELD_STR,   true, "app name" },
    { "lines", MSG_FIELD_ARRAY, true, "formatted lines, oldest first: `<RFC 3339 time> <source>[<process>]: <text>`" },
};

static const msg_field_t s_ps_scale [] = {
    { "app",     MSG_FIELD_STR,   true,  "app name" },
    { "changes", MSG_FIELD_ARRAY, true,  "maps of `type` (process type), `op` (`=`, `+` or `-`), `quantity` (int, 0..100) and optional `size` (`standard-1x`, ...); applied together or not at all" },
    { "by",      MSG_FIELD_STR,   false, "who asks" },
};
static const msg_field_t s_ps_list_reply [] = {
    { "app",         MSG_FIELD_STR,   true,  "app name" },
    { "formation",   MSG_FIELD_ARRAY, true,  "maps of `type`, `quantity`, `size`, `command`, sorted by type" },
    { "dynos",       MSG_FIELD_ARRAY, true,  "maps of `name` (`web.1`, `run.1234`), `id`, `type`, `state`, `since_ms`, `command`, `host`, `supervisor`, `size`, `release`, `port` (web dynos), sorted by type then number" },
    { "release",     MSG_FIELD_INT,   false, "the release the app's dynos run (absent before the first release)" },
    { "features",    MSG_FIELD_MAP,   false, "feature name -> enabled (`preboot`)" },
    { "healthcheck", MSG_FIELD_STR,   false, "health check path of web dynos, when set" },
};
static const msg_field_t s_formation_info [] = {
    { "app",       MSG_FIELD_STR,   true, "app name" },
    { "formation", MSG_FIELD_ARRAY, true, "maps of `type`, `quantity`, `size`, `command`, sorted by type" },
};
static const msg_field_t s_ps_restart [] = {
    { "app",    MSG_FIELD_STR, true,  "app name" },
    { "target", MSG_FIELD_STR, false, "a process type (`web`) or a dyno (`web.1`); absent: every dyno" },
    { "by",     MSG_FIELD_STR, false, "who asks" },
};
static const msg_field_t s_ps_stop [] = {
    { "app",  MSG_FIELD_STR, true,  "app name" },
    { "dyno", MSG_FIELD_STR, true,  "dyno name (`web.1`, `run.1234`) or a process type (every dyno of it)" },
    { "by",   MSG_FIELD_STR, false, "who asks" },
};
static const msg_field_t s_ps_done [] = {
    { "app",   MSG_FIELD_STR,   true, "app name" },
    { "dynos", MSG_FIELD_ARRAY, true, "names of the dynos restarted or stopped" },
};
static const msg_field_t s_feature_set [] = {
    { "app",     MSG_FIELD_STR,  true,  "app name" },
    { "feature", MSG_FIELD_STR,  true,  "feature name (`preboot`)" },
    { "enabled", MSG_FIELD_BOOL, true,  "on or off" },
    { "by",      MSG_FIELD_STR,  false, "who asks" },
};
static const msg_field_t s_feature_list_reply [] = {
    { "app",      MSG_FIELD_STR,   true, "app name" },
    { "features", MSG_FIELD_ARRAY, true, "maps of `name`, `enabled`, `description`" },
};
static const msg_field_t s_healthcheck_set [] = {
    { "app",  MSG_FIELD_STR, true,  "app name" },
    { "path", MSG_FIELD_STR, true,  "absolute path checked on web dynos (`/health`); empty clears it" },
    { "by",   MSG_FIELD_STR, false, "who asks" },
};
static const msg_field_t s_run_start [] = {
    { "app",      MSG_FIELD_STR,  true,  "app name" },
    { "command",  MSG_FIELD_STR,  true,  "shell command; a leading Procfile process type is replaced by its command (`worker 42`)" },
    { "attach",   MSG_FIELD_BOOL, true,  "relay stdin/stdout/stderr and the exit status to the sender (`dyno run`); false: output to the logs (`run:detached`)" },
    { "size",     MSG_FIELD_STR,  false, "dyno size (default: the web type's, else `standard-1x`)" },
    { "env",      MSG_FIELD_MAP,  false, "extra environment, KEY -> value" },
    { "tty",      MSG_FIELD_BOOL, false, "attach a pseudo-terminal (the CLI's stdin is a terminal)" },
    { "cols",     MSG_FIELD_INT,  false, "terminal width" },
    { "rows",     MSG_FIELD_INT,  false, "terminal height" },
    { "by",       MSG_FIELD_STR,  false, "who asks" },
};
static const msg_field_t s_run_started [] = {
    { "app",        MSG_FIELD_STR, true, "app name" },
    { "dyno",       MSG_FIELD_STR, true, "one-off dyno name (`run.1234`)" },
    { "id",         MSG_FIELD_STR, true, "dyno id, named by `run.input` / `run.output` / `run.exit`" },
    { "supervisor", MSG_FIELD_STR, true, "address of the dyno-supervisor running it (`dyno-supervisor@host`); `run.input` goes there" },
    { "command",    MSG_FIELD_STR, true, "the command as it runs (after Procfile substitution)" },
};
static const msg_field_t s_run_input [] = {
    { "id",   MSG_FIELD_STR,  true,  "dyno id" },
    { "data", MSG_FIELD_BIN,  false, "bytes for the dyno's stdin" },
    { "eof",  MSG_FIELD_BOOL, false, "stdin is closed" },
    { "cols", MSG_FIELD_INT,  false, "new terminal width (tty only)" },
    { "rows", MSG_FIELD_INT,  false, "new terminal height (tty only)" },
    { "signal", MSG_FIELD_INT, false, "signal to send to the dyno's processes (SIGINT on Ctrl-C, SIGHUP when the client leaves)" },
};
static const msg_field_t s_run_output [] = {
    { "id",     MSG_FIELD_STR, true, "dyno id" },
    { "stream", MSG_FIELD_STR, true, "`stdout` or `stderr` (a tty has only `stdout`)" },
    { "data",   MSG_FIELD_BIN, true, "the bytes, in order per stream" },
};
static const msg_field_t s_run_exit [] = {
    { "id",     MSG_FIELD_STR, true,  "dyno id" },
    { "status", MSG_FIELD_INT, true,  "exit status (128 + N when killed by signal N)" },
    { "reason", MSG_FIELD_STR, false, "why it ended, when not by itself (`R15`, `R16`, `stopped`, `failed to start: ...`)" },
};
static const msg_field_t s_dyno_assign [] = {
    { "app",     MSG_FIELD_STR,   true,  "app name" },
    { "dynos",   MSG_FIELD_ARRAY, true,  "every dyno of the app this supervisor should run (empty: none): maps of `id` (unique per incarnation), `name`, `type`, `command`, `size`, `mem_mb`, `procs_max`, `release`, `slug` (`blob`, `size`; absent: no slug, an empty /app), `config_version`, `oneoff` (bool), `attach` (CLI address, attached one-offs), `tty`, `cols`, `rows`, `env` (extra vars), `healthcheck` (path, web dynos), `boot_timeout_ms`" },
    { "epoch",   MSG_FIELD_INT,   true,  "scheduler's counter for this app, growing; an assignment older than one applied is ignored" },
};
static const msg_field_t s_dyno_state [] = {
    { "app",         MSG_FIELD_STR,  true,  "app name" },
    { "id",          MSG_FIELD_STR,  true,  "dyno id" },
    { "name",        MSG_FIELD_STR,  true,  "dyno name (`web.1`)" },
    { "type",        MSG_FIELD_STR,  true,  "process type" },
    { "state",       MSG_FIELD_STR,  true,  "`starting`, `up`, `crashed` or `down`" },
    { "since_ms",    MSG_FIELD_INT,  true,  "when it entered this state, ms since epoch" },
    { "supervisor",  MSG_FIELD_STR,  true,  "address of the dyno-supervisor (`dyno-supervisor@instance`)" },
    { "host",        MSG_FIELD_STR,  true,  "host address the dyno's port is reached on (`127.0.0.1`)" },
    { "port",        MSG_FIELD_INT,  false, "web dynos: the `PORT` it listens on" },
    { "release",     MSG_FIELD_INT,  true,  "release it runs" },
    { "command",     MSG_FIELD_STR,  false, "its command" },
    { "size",        MSG_FIELD_STR,  false, "its size" },
    { "oneoff",      MSG_FIELD_BOOL, false, "a one-off dyno (`run.N`, release phase)" },
    { "exit_status", MSG_FIELD_INT,  false, "states `crashed` / `down`: how the process ended (128 + N for signal N)" },
    { "restarts",    MSG_FIELD_INT,  false, "crash restarts since it last started cleanly" },
    { "reason",      MSG_FIELD_STR,  false, "why, when not by itself (`R10`, `R15`, `stopped`, `cycling`)" },
};
static const msg_field_t s_dyno_report [] = {
    { "supervisor",  MSG_FIELD_STR,   true, "address of the reporting dyno-supervisor" },
    { "host",        MSG_FIELD_STR,   true, "its host" },
    { "capacity_mb", MSG_FIELD_INT,   true, "memory it offers to dynos, MB" },
    { "dynos",       MSG_FIELD_ARRAY, true, "every dyno it runs, as `dyno.state` bodies" },
};
static const msg_field_t s_blob_get [] = {
    { "blob",   MSG_FIELD_STR, true,  "sha256 of the blob (a slug)" },
    { "offset", MSG_FIELD_INT, true,  "first byte wanted" },
    { "length", MSG_FIELD_INT, false, "bytes wanted (default and at most 1 MiB)" },
};
static const msg_field_t s_blob_chunk [] = {
    { "blob",   MSG_FIELD_STR,  true, "sha256 of the blob" },
    { "offset", MSG_FIELD_INT,  true, "where `data` starts" },
    { "size",   MSG_FIELD_INT,  true, "the blob's total size" },
    { "data",   MSG_FIELD_BIN,  true, "the bytes" },
    { "eof",    MSG_FIELD_BOOL, true, "`data` ends the blob" },
};
static const msg_field_t s_release_status [] = {
    { "app",     MSG_FIELD_STR, true,  "app name" },
    { "version", MSG_FIELD_INT, true,  "release number" },
    { "status",  MSG_FIELD_STR, true,  "`succeeded` or `failed`" },
    { "reason",  MSG_FIELD_STR, false, "why it failed (`release command exited with status 1`, `new dynos did not come up`)" },
};

static const msg_field_t s_domain_change [] = {
    { "app",      MSG_FIELD_STR, true,  "app name" },
    { "hostname", MSG_FIELD_STR, true,  "the custom domain (`www.example.com`), lower case; a domain belongs to one app" },
    { "by",       MSG_FIELD_STR, false, "who asked" },
};
static const msg_field_t s_domain_info [] = {
    { "app",        MSG_FIELD_STR, true,  "app name" },
    { "hostname",   MSG_FIELD_STR, true,  "the domain" },
    { "kind",       MSG_FIELD_STR, true,  "`default` (`APP.localhost`, `APP.<base domain>`) or `custom`" },
    { "dns_target", MSG_FIELD_STR, false, "custom domains: the name to point a CNAME at, unique per domain" },
    { "created_ms", MSG_FIELD_INT, false, "custom domains: when it was added" },
    { "acm_status", MSG_FIELD_STR, false, "custom domains with ACM on: `pending`, `issued`, `failed`" },
    { "acm_reason", MSG_FIELD_STR, false, "custom domains with ACM on whose last order failed: the CA's reason" },
    { "acm_updated_ms", MSG_FIELD_INT, false, "custom domains with ACM on: when the last order started or ended" },
};
static const msg_field_t s_domain_list_reply [] = {
    { "app",     MSG_FIELD_STR,   true, "app name" },
    { "domains", MSG_FIELD_ARRAY, true, "maps with the fields of `domain.info`, default domains first" },
};
static const msg_field_t s_maintenance_set [] = {
    { "app", MSG_FIELD_STR,  true,  "app name" },
    { "on",  MSG_FIELD_BOOL, true,  "maintenance mode on or off" },
    { "by",  MSG_FIELD_STR,  false, "who asked" },
};
static const msg_field_t s_cert_add [] = {
    { "app",  MSG_FIELD_STR, true,  "app name" },
    { "cert", MSG_FIELD_STR, true,  "PEM certificate chain, leaf first" },
    { "key",  MSG_FIELD_STR, true,  "PEM private key of the leaf; never journaled or logged" },
    { "by",   MSG_FIELD_STR, false, "who asked" },
};
static const msg_field_t s_cert_stored [] = {
    { "app",        MSG_FIELD_STR,   true,  "app name" },
    { "name",       MSG_FIELD_STR,   true,  "certificate name, unique per app" },
    { "cert",       MSG_FIELD_STR,   true,  "PEM certificate chain, leaf first" },
    { "key_sealed", MSG_FIELD_BIN,   true,  "the private key, encrypted with release-keeper's key (AES-256-GCM)" },
    { "domains",    MSG_FIELD_ARRAY, true,  "names the certificate covers (strings)" },
    { "expires_ms", MSG_FIELD_INT,   true,  "its notAfter, ms since epoch" },
    { "issuer",     MSG_FIELD_STR,   false, "issuer's common name" },
    { "trusted",    MSG_FIELD_BOOL,  false, "the chain verified against the system's trusted roots when it was added" },
    { "auto",       MSG_FIELD_BOOL,  false, "issued by ACM" },
    { "by",         MSG_FIELD_STR,   false, "who asked" },
};
static const msg_field_t s_cert_remove [] = {
    { "app",  MSG_FIELD_STR, true,  "app name" },
    { "name", MSG_FIELD_STR, true,  "certificate name" },
    { "by",   MSG_FIELD_STR, false, "who asked" },
};
static const msg_field_t s_cert_info [] = {
    { "app",        MSG_FIELD_STR,   true,  "app name" },
    { "name",       MSG_FIELD_STR,   true,  "certificate name" },
    { "domains",    MSG_FIELD_ARRAY, true,  "names it covers (strings)" },
    { "expires_ms", MSG_FIELD_INT,   true,  "its notAfter, ms since epoch" },
    { "issuer",     MSG_FIELD_STR,   false, "issuer's common name" },
    { "type",       MSG_FIELD_STR,   false, "`SNI`" },
    { "trusted",    MSG_FIELD_BOOL,  false, "the chain verified against the system's trusted roots when it was added" },
    { "auto",       MSG_FIELD_BOOL,  false, "issued by ACM" },
};
static const msg_field_t s_cert_list_reply [] = {
    { "app",   MSG_FIELD_STR,   true, "app name" },
    { "certs", MSG_FIELD_ARRAY, true, "maps with the fields of `cert.info`" },
};
static const msg_field_t s_acm_set [] = {
    { "app",     MSG_FIELD_STR,  true,  "app name" },
    { "enabled", MSG_FIELD_BOOL, true,  "ACM on or off" },
    { "by",      MSG_FIELD_STR,  false, "who asked" },
};
static const msg_field_t s_route_app [] = {
    { "app",         MSG_FIELD_STR,   true,  "app name" },
    { "destroyed",   MSG_FIELD_BOOL,  false, "the app is gone: forget it" },
    { "released",    MSG_FIELD_BOOL,  false, "it has a release (without one the router answers H81)" },
    { "maintenance", MSG_FIELD_BOOL,  false, "maintenance mode (H80)" },
    { "domains",     MSG_FIELD_ARRAY, false, "its custom domains (strings)" },
    { "certs",       MSG_FIELD_ARRAY, false, "maps of `name`, `domains`, `cert` (PEM chain), `key` (PEM, clear: this event is never journaled), `expires_ms`" },
};
static const msg_field_t s_acme_challenge [] = {
    { "token",      MSG_FIELD_STR,  true,  "the HTTP-01 token" },
    { "key_auth",   MSG_FIELD_STR,  true,  "the key authorization to answer with" },
    { "remove",     MSG_FIELD_BOOL, false, "the challenge is over: stop answering it" },
};

const msg_type_t msg_types_base [] = {
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
      "The app is gone: answers `app.destroy`, and goes durable to config-keeper (its config "
      "goes), log-plex (its lines go) and the scheduler (its dynos stop).",
      FIELDS (s_app_destroyed) },
    { MSG_TYPE_APP_CREATED, "app.created", MSG_KIND_EVENT, true,
      "release-keeper created an app; sent to config-keeper, which then accepts config for it.",
      FIELDS (s_app_created) },
    { MSG_TYPE_BUILDPACKS_SET, "buildpacks.set", MSG_KIND_COMMAND, true,
      "Sets the buildpacks an app's builds run; answered by `app.info`.", FIELDS (s_buildpacks_set) },
    { MSG_TYPE_CONFIG_SET, "config.set", MSG_KIND_COMMAND, true,
      "Asks config-keeper to set config vars (one new config version); release-keeper answers "
      "with the `release.info` of the release it makes, or config-keeper with `error` (unknown app, "
      "bad key, over 64 kB).", FIELDS (s_config_set) },
    { MSG_TYPE_CONFIG_UNSET, "config.unset", MSG_KIND_COMMAND, true,
      "Asks config-keeper to remove config vars; answered as `config.set`.", FIELDS (s_config_unset) },
    { MSG_TYPE_CONFIG_GET, "config.get", MSG_KIND_COMMAND, false,
      "Asks config-keeper for an app's config vars; answered by `config.vars`.", FIELDS (s_config_get) },
    { MSG_TYPE_CONFIG_VARS, "config.vars", MSG_KIND_REPLY, false,
      "An app's config vars at one version.", FIELDS (s_config_vars) },
    { MSG_TYPE_CONFIG_ROLLBACK, "config.rollback", MSG_KIND_COMMAND, true,
      "release-keeper checked a `release.rollback`: config-keeper makes the vars of `version` "
      "current again as its next config version (so rollbacks and config changes are ordered "
      "in one place) and asks release-keeper for the release (`release.create`, kind "
      "`rollback`), which answers `reply_to`.", FIELDS (s_config_rollback) },
    { MSG_TYPE_RELEASE_CREATE, "release.create", MSG_KIND_COMMAND, true,
      "Asks release-keeper to cut the next release: from config-keeper after a config change, or "
      "from release-keeper itself after a build. It answers `reply_to` with `release.info`.",
      FIELDS (s_release_create) },
    { MSG_TYPE_RELEASE_LIST, "release.list", MSG_KIND_COMMAND, false,
      "Asks release-keeper for an app's releases; answered by `release.list.reply`.",
      FIELDS (s_app_only) },
    { MSG_TYPE_RELEASE_LIST_REPLY, "release.list.reply", MSG_KIND_REPLY, false,
      "An app's releases.", FIELDS (s_release_list_reply) },
    { MSG_TYPE_RELEASE_GET, "release.get", MSG_KIND_COMMAND, false,
      "Asks release-keeper for one release; answered by `release.info`.", FIELDS (s_release_get) },
    { MSG_TYPE_RELEASE_INFO, "release.info", MSG_KIND_REPLY, false,
      "One release: answers `release.get`, `release.rollback`, `deploy.start`, and `config.set` / "
      "`config.unset` (through `release.create`'s `reply_to`).", FIELDS (s_release_info) },
    { MSG_TYPE_RELEASE_ROLLBACK, "release.rollback", MSG_KIND_COMMAND, true,
      "Asks for a new release with an earlier release's slug and config: release-keeper checks "
      "it (`error` when there is no such release) and passes it to config-keeper as "
      "`config.rollback`; the answer is the `release.info` of the new release.",
      FIELDS (s_release_rollback) },
    { MSG_TYPE_RELEASE_CREATED, "release.created", MSG_KIND_EVENT, true,
      "A new release exists; sent to the scheduler, which runs the app's dynos on it.",
      FIELDS (s_release_info) },
    { MSG_TYPE_UPLOAD_START, "upload.start", MSG_KIND_COMMAND, false,
      "Begins streaming an archive to release-keeper; answered by `upload.ready`.",
      FIELDS (s_upload_start) },
    { MSG_TYPE_UPLOAD_READY, "upload.ready", MSG_KIND_REPLY, false,
      "release-keeper takes the upload.", FIELDS (s_upload_ready) },
    { MSG_TYPE_UPLOAD_CHUNK, "upload.chunk", MSG_KIND_STREAM, false,
      "A piece of an upload; answered by `upload.progress`, or `error` (unknown upload, out of "
      "order, over the size limit).", FIELDS (s_upload_chunk) },
    { MSG_TYPE_UPLOAD_PROGRESS, "upload.progress", MSG_KIND_REPLY, false,
      "A chunk is stored.", FIELDS (s_upload_progress) },
    { MSG_TYPE_UPLOAD_FINISH, "upload.finish", MSG_KIND_COMMAND, false,
      "Ends an upload; release-keeper checks the size and SHA-256 and stores the blob under its "
      "hash. Answered by `upload.done`, or `error` (truncated, corrupt).", FIELDS (s_upload_finish) },
    { MSG_TYPE_UPLOAD_DONE, "upload.done", MSG_KIND_REPLY, false,
      "The upload is stored.", FIELDS (s_upload_done) },
    { MSG_TYPE_DEPLOY_START, "deploy.start", MSG_KIND_COMMAND, false,
      "Builds an uploaded source into a slug and releases it. release-keeper streams "
      "`deploy.output` lines while the build runs, then answers with `release.info`, or `error` "
      "saying why the build failed.", FIELDS (s_deploy_start) },
    { MSG_TYPE_DEPLOY_OUTPUT, "deploy.output", MSG_KIND_STREAM, false,
      "A line of build output; `corr` is the `deploy.start`.", FIELDS (s_deploy_output) },
    { MSG_TYPE_LOG_BATCH, "log.batch", MSG_KIND_STREAM, false,
      "Log lines for log-plex, at least one; a batch with any malformed line is refused whole.",
      FIELDS (s_log_batch) },
    { MSG_TYPE_LOG_GET, "log.get", MSG_KIND_COMMAND, false,
      "Asks log-plex for an app's newest lines; answered by `log.lines`.", FIELDS (s_log_get) },
    { MSG_TYPE_LOG_LINES, "log.lines", MSG_KIND_REPLY, false,
      "An app's log lines.", FIELDS (s_log_lines) },
    { MSG_TYPE_LOG_TOKEN, "log.token", MSG_KIND_COMMAND, false,
      "Asks log-plex for the app's read-only log token (made on first use, kept across "
      "restarts); answered by `log.token.reply`.", FIELDS (s_log_token) },
    { MSG_TYPE_LOG_TOKEN_REPLY, "log.token.reply", MSG_KIND_REPLY, false,
      "An app's read-only log token.", FIELDS (s_log_token_reply) },
    { MSG_TYPE_DRAIN_ADD, "drain.add", MSG_KIND_COMMAND, false,
      "Adds a log drain to an app (at most 5; log-plex stores it, fsync, before it answers); "
      "answered by `drain.list.reply`.", FIELDS (s_drain_add) },
    { MSG_TYPE_DRAIN_REMOVE, "drain.remove", MSG_KIND_COMMAND, false,
      "Removes an app's log drain by URL (stored before the answer); answered by "
      "`drain.list.reply`.", FIELDS (s_drain_add) },
    { MSG_TYPE_DRAIN_LIST, "drain.list", MSG_KIND_COMMAND, false,
      "Asks log-plex for an app's drains; answered by `drain.list.reply`.", FIELDS (s_drain_list) },
    { MSG_TYPE_DRAIN_LIST_REPLY, "drain.list.reply", MSG_KIND_REPLY, false,
      "An app's log drains.", FIELDS (s_drain_list_reply) },
    { MSG_TYPE_PS_SCALE, "ps.scale", MSG_KIND_COMMAND, true,
      "Changes an app's formation (`dyno ps:scale web=3 worker+1 web=2:standard-2x`); the scheduler "
      "checks every change (known process type and size, at most 100 dynos per app) and applies "
      "all or none. Answered by `formation.info`, or `error`.", FIELDS (s_ps_scale) },
    { MSG_TYPE_PS_LIST, "ps.list", MSG_KIND_COMMAND, false,
      "Asks the scheduler for an app's formation and dynos; answered by `ps.list.reply`.",
      FIELDS (s_app_only) },
    { MSG_TYPE_PS_LIST_REPLY, "ps.list.reply", MSG_KIND_REPLY, false,
      "An app's formation and its dynos as the supervisors last reported them.",
      FIELDS (s_ps_list_reply) },
    { MSG_TYPE_FORMATION_INFO, "formation.info", MSG_KIND_REPLY, false,
      "An app's formation after a change.", FIELDS (s_formation_info) },
    { MSG_TYPE_PS_RESTART, "ps.restart", MSG_KIND_COMMAND, true,
      "Restarts an app's dynos (all, one type, or one dyno): each is replaced by a new incarnation, "
      "started as soon as the old one is sent SIGTERM. Answered by `ps.done`.", FIELDS (s_ps_restart) },
    { MSG_TYPE_PS_STOP, "ps.stop", MSG_KIND_COMMAND, true,
      "Stops a dyno: a formation dyno comes back (as on Heroku), a one-off does not. Answered by "
      "`ps.done`.", FIELDS (s_ps_stop) },
    { MSG_TYPE_PS_DONE, "ps.done", MSG_KIND_REPLY, false,
      "The dynos a `ps.restart` or `ps.stop` acted on.", FIELDS (s_ps_done) },
    { MSG_TYPE_FEATURE_SET, "feature.set", MSG_KIND_COMMAND, true,
      "Turns an app feature on or off (`preboot`); answered by `feature.list.reply`.",
      FIELDS (s_feature_set) },
    { MSG_TYPE_FEATURE_LIST, "feature.list", MSG_KIND_COMMAND, false,
      "Asks the scheduler for an app's features; answered by `feature.list.reply`.",
      FIELDS (s_app_only) },
    { MSG_TYPE_FEATURE_LIST_REPLY, "feature.list.reply", MSG_KIND_REPLY, false,
      "An app's features.", FIELDS (s_feature_list_reply) },
    { MSG_TYPE_HEALTHCHECK_SET, "healthcheck.set", MSG_KIND_COMMAND, true,
      "Sets (or clears) the path a web dyno must answer 2xx/3xx on, 3 times in a row, before it "
      "counts as `up`; answered by `ps.list.reply`.", FIELDS (s_healthcheck_set) },
    { MSG_TYPE_RUN_START, "run.start", MSG_KIND_COMMAND, false,
      "Starts a one-off dyno (`dyno run`, `run:detached`); the scheduler places it and answers "
      "`run.started`, or `error`.", FIELDS (s_run_start) },
    { MSG_TYPE_RUN_STARTED, "run.started", MSG_KIND_REPLY, false,
      "A one-off dyno is placed; an attached one then streams `run.output` and ends with "
      "`run.exit` to the sender of `run.start`.", FIELDS (s_run_started) },
    { MSG_TYPE_RUN_INPUT, "run.input", MSG_KIND_STREAM, false,
      "From the attached CLI to the supervisor: stdin bytes, end of input, a terminal resize or a "
      "signal. Also a keep-alive: an attached one-off that hears nothing from its client for 30 s "
      "is treated as detached (R16).", FIELDS (s_run_input) },
    { MSG_TYPE_RUN_OUTPUT, "run.output", MSG_KIND_STREAM, false,
      "From the supervisor to the attached CLI: the one-off's output.", FIELDS (s_run_output) },
    { MSG_TYPE_RUN_EXIT, "run.exit", MSG_KIND_REPLY, false,
      "From the supervisor to the attached CLI: the one-off ended (after its last `run.output`).",
      FIELDS (s_run_exit) },
    { MSG_TYPE_DYNO_ASSIGN, "dyno.assign", MSG_KIND_COMMAND, false,
      "From the scheduler to one dyno-supervisor: the whole set of dynos of one app it should run. "
      "The supervisor starts the ids it does not run and stops (SIGTERM, SIGKILL after the grace "
      "period) the ones not listed. Level-triggered, so repeats and resends are harmless.",
      FIELDS (s_dyno_assign) },
    { MSG_TYPE_DYNO_STATE, "dyno.state", MSG_KIND_EVENT, false,
      "A dyno changed state; published on topic `dyno.state` (the scheduler and routers "
      "subscribe).", FIELDS (s_dyno_state) },
    { MSG_TYPE_DYNO_REPORT, "dyno.report", MSG_KIND_EVENT, false,
      "From a dyno-supervisor to the scheduler: everything it runs. Sent when it starts, when a "
      "scheduler comes up, and every 10 s; the scheduler answers with `dyno.assign` for each app "
      "whose dynos there differ from what it wants.", FIELDS (s_dyno_report) },
    { MSG_TYPE_BLOB_GET, "blob.get", MSG_KIND_COMMAND, false,
      "Asks release-keeper for part of a stored blob (a slug); answered by `blob.chunk`, or "
      "`error` (no such blob, offset past the end).", FIELDS (s_blob_get) },
    { MSG_TYPE_BLOB_CHUNK, "blob.chunk", MSG_KIND_REPLY, false,
      "Part of a blob.", FIELDS (s_blob_chunk) },
    { MSG_TYPE_RELEASE_STATUS, "release.status", MSG_KIND_EVENT, true,
      "From the scheduler to release-keeper: a release went live (`succeeded`) or did not "
      "(`failed`: its release phase command failed, or with preboot its new dynos never came up); "
      "`dyno releases` shows it. The scheduler first sends it to itself, so the journal holds "
      "the verdict it acts on.", FIELDS (s_release_status) },
    { MSG_TYPE_DOMAIN_ADD, "domain.add", MSG_KIND_COMMAND, true,
      "Asks release-keeper to add a custom domain to an app; answered by `domain.info`, or `error` "
      "(not a valid host name, taken by another app, a default domain, over 1000).", FIELDS (s_domain_change) },
    { MSG_TYPE_DOMAIN_REMOVE, "domain.remove", MSG_KIND_COMMAND, true,
      "Asks release-keeper to remove a custom domain; answered by `domain.info` (the removed one), "
      "or `error`.", FIELDS (s_domain_change) },
    { MSG_TYPE_DOMAIN_LIST, "domain.list", MSG_KIND_COMMAND, false,
      "Asks release-keeper for an app's domains; answered by `domain.list.reply`.", FIELDS (s_app_only) },
    { MSG_TYPE_DOMAIN_INFO, "domain.info", MSG_KIND_REPLY, false,
      "One domain of an app.", FIELDS (s_domain_info) },
    { MSG_TYPE_DOMAIN_LIST_REPLY, "domain.list.reply", MSG_KIND_REPLY, false,
      "An app's domains.", FIELDS (s_domain_list_reply) },
    { MSG_TYPE_MAINTENANCE_SET, "maintenance.set", MSG_KIND_COMMAND, true,
      "Turns an app's maintenance mode on or off; answered by `app.info`.", FIELDS (s_maintenance_set) },
    { MSG_TYPE_CERT_ADD, "cert.add", MSG_KIND_COMMAND, false,
      "Uploads a certificate and key for an app's domains; never journaled (it carries the key "
      "in clear). Release-keeper checks the pair, encrypts the key and sends itself `cert.stored`; "
      "answered by `cert.info`, or `error`.", FIELDS (s_cert_add) },
    { MSG_TYPE_CERT_STORED, "cert.stored", MSG_KIND_EVENT, true,
      "From release-keeper to itself (after `cert.add` or an ACM issuance): a certificate to keep, "
      "its key encrypted. Replaces one of the same name.", FIELDS (s_cert_stored) },
    { MSG_TYPE_CERT_REMOVE, "cert.remove", MSG_KIND_COMMAND, true,
      "Removes a certificate; answered by `cert.info` (the removed one), or `error`.", FIELDS (s_cert_remove) },
    { MSG_TYPE_CERT_LIST, "cert.list", MSG_KIND_COMMAND, false,
      "Asks release-keeper for an app's certificates; answered by `cert.list.reply`.", FIELDS (s_app_only) },
    { MSG_TYPE_CERT_INFO, "cert.info", MSG_KIND_REPLY, false,
      "One certificate (never its key).", FIELDS (s_cert_info) },
    { MSG_TYPE_CERT_LIST_REPLY, "cert.list.reply", MSG_KIND_REPLY, false,
      "An app's certificates.", FIELDS (s_cert_list_reply) },
    { MSG_TYPE_ACM_SET, "acm.set", MSG_KIND_COMMAND, true,
      "Turns automated certificate management on or off for an app (`certs:auto:enable`); "
      "answered by `app.info`.", FIELDS (s_acm_set) },
    { MSG_TYPE_ROUTE_APP, "route.app", MSG_KIND_EVENT, false,
      "What routers need to know of one app: published by release-keeper on topic `route.app` "
      "whenever it changes, and sent to a router directly for every app when it comes up.",
      FIELDS (s_route_app) },
    { MSG_TYPE_ACME_CHALLENGE, "acme.challenge", MSG_KIND_EVENT, false,
      "An HTTP-01 challenge every router answers at `/.well-known/acme-challenge/TOKEN` on its "
      "HTTP listener; published by release-keeper's ACME client on topic `acme.challenge`.",
      FIELDS (s_acme_challenge) },
};

_Static_assert (sizeof (msg_types_base) / sizeof (msg_types_base [0]) == MSG_TYPE_BASE_COUNT,
                "every msg_type_id_t before MSG_TYPE_BASE_COUNT needs a row in msg_types_base");
