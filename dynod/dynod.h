//  dnd - the `dynod` program: subcommands, paths and credentials
//
//  Shared by the files of dynod/: each subcommand is one `dnd_cmd_*`
//  function taking argc/argv (argv[0] is the subcommand name) and
//  returning the process exit code (0 ok, 1 runtime failure, 2 usage,
//  3 cannot reach the broker).

#ifndef DND_DYNOD_H
#define DND_DYNOD_H

#include "../actors/common/act.h"
#include "../broker/journal.h"

#define DND_EXIT_OK       0
#define DND_EXIT_FAIL     1
#define DND_EXIT_USAGE    2
#define DND_EXIT_NOBROKER 3

#define DND_DEFAULT_BROKER_PORT 7700
#define DND_DEFAULT_HTTP_PORT   8080
#define DND_DEFAULT_HTTPS_PORT  8443
#define DND_DEFAULT_LOGS_PORT   7780

int dnd_cmd_up (int argc, char **argv);
int dnd_cmd_broker (int argc, char **argv);
int dnd_cmd_actor (int argc, char **argv);
int dnd_cmd_journal (int argc, char **argv);
int dnd_cmd_protocol (int argc, char **argv);
int dnd_cmd_replay (int argc, char **argv);

//  Calls `fn` for each journal entry from `from` on (seq 0 when read
//  through a broker: the entry carries its own), reading DIR (a data
//  directory, or a journal directory) directly, or through the broker that
//  holds its lock (`broker`, else dnd_broker_endpoint). Errors are printed
//  as `dynod WHO: ...`. Returns an exit code.
int dnd_journal_read (const char *who, const char *dir, const char *broker, uint64_t from,
                      brk_journal_fn *fn, void *arg);

//  The actor definitions by name, in start order. Borrowed, static.
const act_def_t *dnd_actor_find (const char *name);
const act_def_t *dnd_actor_at (size_t index);
size_t dnd_actor_count (void);

//  ${XDG_DATA_HOME:-$HOME/.local/share}/dynod. Caller owns result.
char *dnd_default_data_dir (void);
//  ${XDG_CONFIG_HOME:-$HOME/.config}/dynod/credentials. Caller owns result.
char *dnd_credentials_path (void);
//  The local CA of data directory `data`: creates DATA/ca/root.pem and
//  root.key (router/localca.h) unless they exist, and copies root.pem to
//  ${XDG_CONFIG_HOME:-$HOME/.config}/dynod/ca.pem, next to the credentials,
//  for `curl --cacert`. Returns 0 with the CA directory in *dir_p (caller
//  owns it), or a negative code with a reason in `err`.
int dnd_local_ca (const char *data, char **dir_p, char *err, size_t err_len);
//  The broker endpoint: DYNOD_BROKER, else the credentials file's, else
//  tcp://127.0.0.1:7700. Caller owns result.
char *dnd_broker_endpoint (void);
//  Reads <data>/api-token, creating it (0600, 32 random hex chars) when
//  `create`. Caller owns *token_p. Returns 0 or a negative code.
int dnd_token_load (const char *data_dir, bool create, char **token_p);
//  The API token for a process: DYNOD_API_TOKEN, else <data>/api-token.
//  Caller owns result; NULL when neither exists.
char *dnd_token_for (const char *data_dir);

//  keys_cmd.c: `dynod keys`, and what up, broker and actor share.
int dnd_cmd_keys (int argc, char **argv);
#define DND_HOST_ID_LEN  32             // hex characters of <data>/host-id
//  Reads <data>/host-id, creating it (0600, 32 random hex characters) if
//  missing. Returns 0 with `out` filled, or a negative code.
int dnd_host_id (const char *data, char out [DND_HOST_ID_LEN + 1]);
//  <data>/keys/host.key. Caller owns result.
char *dnd_host_key_path (const char *data);
//  What a process with data directory `data` needs to reach `endpoint`:
//  CURVE when a broker key is given (`broker_key`, else DYNOD_BROKER_KEY)
//  or the endpoint is not loopback (then the key is required), with
//  <data>/keys/host.key (*use true, `curve` filled; its server_key borrowed
//  from the argument or the environment); else nothing (*use false).
//  Returns 0, or prints `dynod WHO: <why>` and returns DND_EXIT_USAGE.
int dnd_curve_for (const char *who, const char *endpoint, const char *data, const char *broker_key,
                   act_curve_t *curve, bool *use);

#endif
