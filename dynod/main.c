//  dynod - the daemon: runs the broker and the actors
//
//  Subcommands (one table, one function each):
//      up        start the broker and the six actors, supervise them
//      broker    run the broker alone
//      actor     run one actor alone
//      journal   print the durable journal
//      protocol  print the message type reference (docs/protocol.md)
//      replay    replay an actor's journaled inputs, compare its outputs
//      log-emit  send log lines to log-plex as any source (a test tool)
//      keys      CURVE keys and the broker's allow-list (keys_cmd.c)
//  Exit codes: 0 ok, 1 runtime failure, 2 usage error, 3 cannot reach the
//  broker.

#include "dynod.h"
#include "build_cmd.h"
#include "log_emit.h"
#include "../broker/broker.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    int (*fn) (int argc, char **argv);
    const char *summary;
} s_commands [] = {
    { "up",       dnd_cmd_up,       "start the broker and the six actors and supervise them" },
    { "broker",   dnd_cmd_broker,   "run the broker on its own" },
    { "actor",    dnd_cmd_actor,    "run one actor on its own" },
    { "journal",  dnd_cmd_journal,  "print the durable journal" },
    { "protocol", dnd_cmd_protocol, "print the message type reference in markdown" },
    { "replay",   dnd_cmd_replay,   "replay an actor's journaled inputs and compare its outputs" },
    { "log-emit", dnd_cmd_log_emit, "send log lines to log-plex as any source (a test tool)" },
    { "keys",     dnd_cmd_keys,     "create CURVE keys; allow, revoke and list keys the broker admits" },
    { "build",    dnd_cmd_build,    NULL },     // hidden: one build, for release-keeper
};

static void
s_usage (FILE *out)
{
    fprintf (out, "usage: dynod COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof s_commands / sizeof s_commands [0]; i++)
        if (s_commands [i].summary)
            fprintf (out, "  %-9s %s\n", s_commands [i].name, s_commands [i].summary);
    fprintf (out, "\n`dynod COMMAND --help` describes each. Exit codes: 0 ok, 1 failure, "
                  "2 usage error, 3 cannot reach the broker.\n");
}

typedef struct {
    char *data;                 // owned; NULL: the default data directory
    char *endpoint;             // owned; NULL: BRK_DEFAULT_ENDPOINT
    char *listen;               // owned; NULL: no CURVE endpoint
    bool no_sync;
} broker_args_t;

//  Parses `dynod broker` options into `args`. Returns 0, -1 after --help,
//  or an exit code.
static int
s_broker_parse (broker_args_t *args, int argc, char **argv)
{
    static const struct option opts [] = {
        { "data", required_argument, NULL, 'd' },
        { "endpoint", required_argument, NULL, 'e' },
        { "port", required_argument, NULL, 'p' },
        { "no-sync", no_argument, NULL, 'n' },
        { "listen", required_argument, NULL, 'l' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long (argc, argv, "d:e:p:nl:h", opts, NULL)) != -1) {
        switch (c) {
            case 'l': free (args->listen); args->listen = act_strdup (optarg); break;
            case 'd': free (args->data); args->data = act_strdup (optarg); break;
            case 'e': free (args->endpoint); args->endpoint = act_strdup (optarg); break;
            case 'p': {
                char *end;
                long port = strtol (optarg, &end, 10);
                if (*end || port < 1 || port > 65535) {
                    fprintf (stderr, "dynod broker: --port takes a port number (1-65535)\n");
                    return DND_EXIT_USAGE;
                }
                free (args->endpoint);
                args->endpoint = act_sprintf ("tcp://127.0.0.1:%ld", port);
                break;
            }
            case 'n': args->no_sync = true; break;
            case 'h':
                printf ("usage: dynod broker [--data DIR] [--endpoint EP | --port N] [--listen tcp://ADDR:PORT]\n"
                        "                    [--no-sync]\n"
                        "Runs the broker. The API token is DYNOD_API_TOKEN or DIR/api-token (created).\n"
                        "--endpoint must be loopback (NULL security); --listen adds an endpoint for other\n"
                        "hosts that always uses CURVE (server key DIR/keys/host.key, admitting the keys of\n"
                        "DIR/keys/allowed: see dynod keys). DYNOD_MAX_CLOCK_SKEW_MS (default 30000) bounds\n"
                        "how far a hello's clock may be from the broker's.\n"
                        "--no-sync skips fsync: for routing benchmarks only, never for real data.\n");
                return -1;
            default:
                return DND_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        fprintf (stderr, "dynod broker: unexpected argument '%s'\n", argv [optind]);
        return DND_EXIT_USAGE;
    }
    if (args->endpoint && !act_endpoint_is_loopback (args->endpoint)) {
        fprintf (stderr, "dynod broker: --endpoint %s is not loopback; other hosts connect to "
                 "--listen, which uses CURVE\n", args->endpoint);
        return DND_EXIT_USAGE;
    }
    if (args->listen && strncmp (args->listen, "tcp://", 6) != 0) {
        fprintf (stderr, "dynod broker: --listen takes tcp://ADDR:PORT\n");
        return DND_EXIT_USAGE;
    }
    return 0;
}

//  Finds or creates the API token and runs the broker until it stops.
//  Returns an exit code.
static int
s_broker_run (broker_args_t *args)
{
    if (!args->data)
        args->data = dnd_default_data_dir ();
    char *token = dnd_token_for (args->data);
    if (!token && dnd_token_load (args->data, true, &token)) {
        fprintf (stderr, "dynod broker: cannot create the API token in '%s'\n", args->data);
        return DND_EXIT_FAIL;
    }
    brk_config_t cfg = {
        .endpoint = args->endpoint ? args->endpoint : BRK_DEFAULT_ENDPOINT,
        .data_dir = args->data,
        .token = token,
        .no_sync = args->no_sync,
        .listen = args->listen,
    };
    const char *skew = getenv ("DYNOD_MAX_CLOCK_SKEW_MS");
    if (skew && atoi (skew) > 0)
        cfg.max_clock_skew_ms = atoi (skew);
    int rc = brk_run (&cfg);
    free (token);
    return rc ? DND_EXIT_FAIL : DND_EXIT_OK;
}

int
dnd_cmd_broker (int argc, char **argv)
{
    broker_args_t args = { 0 };
    int rc = s_broker_parse (&args, argc, argv);
    if (rc == 0)
        rc = s_broker_run (&args);
    free (args.data);
    free (args.endpoint);
    free (args.listen);
    return rc < 0 ? DND_EXIT_OK : rc;
}

typedef struct {
    const char *broker, *data, *instance, *host, *broker_key;   // borrowed from argv
    uint64_t seed;
    const act_def_t *def;
} actor_args_t;

//  Parses `dynod actor` options into `args`. Returns -1 to go on, or an
//  exit code.
static int
s_actor_parse (actor_args_t *args, int argc, char **argv)
{
    static const struct option opts [] = {
        { "broker", required_argument, NULL, 'b' },
        { "join", required_argument, NULL, 'b' },
        { "broker-key", required_argument, NULL, 'k' },
        { "data", required_argument, NULL, 'd' },
        { "instance", required_argument, NULL, 'i' },
        { "host", required_argument, NULL, 'H' },
        { "seed", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long (argc, argv, "b:k:d:i:H:s:h", opts, NULL)) != -1) {
        switch (c) {
            case 'b': args->broker = optarg; break;
            case 'k': args->broker_key = optarg; break;
            case 'd': args->data = optarg; break;
            case 'i': args->instance = optarg; break;
            case 'H': args->host = optarg; break;
            case 's': args->seed = strtoull (optarg, NULL, 0); break;
            case 'h':
                printf ("usage: dynod actor NAME [--broker|--join EP] [--broker-key KEY] [--data DIR]\n"
                        "                        [--instance ID] [--host H] [--seed N]\nactors:");
                for (size_t i = 0; i < dnd_actor_count (); i++)
                    printf (" %s", dnd_actor_at (i)->name);
                printf ("\nThe API token comes from DYNOD_API_TOKEN or DIR/api-token. A broker that is\n"
                        "not on loopback takes CURVE: its key from --broker-key or DYNOD_BROKER_KEY,\n"
                        "this host's from DIR/keys/host.key (dynod keys). DIR/host-id (created) names\n"
                        "this host to the broker.\n");
                return DND_EXIT_OK;
            default:
                return DND_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf (stderr, "dynod actor: name exactly one actor (see --help)\n");
        return DND_EXIT_USAGE;
    }
    args->def = dnd_actor_find (argv [optind]);
    if (!args->def) {
        fprintf (stderr, "dynod actor: no actor named '%s'\n", argv [optind]);
        return DND_EXIT_USAGE;
    }
    if (!args->broker)
        args->broker = BRK_DEFAULT_ENDPOINT;
    return -1;
}

int
dnd_cmd_actor (int argc, char **argv)
{
    actor_args_t args = { 0 };
    int code = s_actor_parse (&args, argc, argv);
    if (code >= 0)
        return code;
    act_log_init (args.def->name);
    char *data = args.data ? act_strdup (args.data) : dnd_default_data_dir ();
    act_curve_t curve;
    bool use_curve = false;
    char host_id [DND_HOST_ID_LEN + 1] = "";
    code = dnd_curve_for ("actor", args.broker, data, args.broker_key, &curve, &use_curve);
    int rc = code ? 0 : dnd_host_id (data, host_id);
    if (rc) {
        fprintf (stderr, "dynod actor: cannot read or create '%s/host-id': %s\n", data, act_strerror (rc));
        code = DND_EXIT_FAIL;
    }
    if (code == 0) {
        char *token = dnd_token_for (data);
        act_config_t cfg = {
            .broker = args.broker,
            .instance = args.instance,
            .host = args.host,
            .token = token,
            .data_dir = data,
            .seed = args.seed,
            .host_id = host_id,
            .curve = use_curve ? &curve : NULL,
        };
        code = act_run (args.def, &cfg) ? DND_EXIT_FAIL : DND_EXIT_OK;
        free (token);
    }
    act_keypair_wipe (&curve.pair);
    free (data);
    return code;
}

int
dnd_cmd_protocol (int argc, char **argv)
{
    if (argc == 2 && (strcmp (argv [1], "--help") == 0 || strcmp (argv [1], "-h") == 0)) {
        printf ("usage: dynod protocol\nPrints the message type reference that docs/protocol.md holds.\n");
        return DND_EXIT_OK;
    }
    if (argc > 1) {
        fprintf (stderr, "dynod protocol: unexpected argument '%s'\n", argv [1]);
        return DND_EXIT_USAGE;
    }
    char *text = msg_types_markdown ();
    fputs (text, stdout);
    free (text);
    return DND_EXIT_OK;
}

int
main (int argc, char **argv)
{
    act_log_init ("dynod");
    if (argc < 2) {
        s_usage (stderr);
        return DND_EXIT_USAGE;
    }
    if (strcmp (argv [1], "--help") == 0 || strcmp (argv [1], "-h") == 0 || strcmp (argv [1], "help") == 0) {
        s_usage (stdout);
        return DND_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof s_commands / sizeof s_commands [0]; i++)
        if (strcmp (argv [1], s_commands [i].name) == 0) {
            if (strcmp (argv [1], "broker") == 0)
                act_log_init ("broker");
            //  getopt names argv[0] in its messages: make it `dynod up`.
            char *name = act_sprintf ("dynod %s", argv [1]);
            argv [1] = name;
            int code = s_commands [i].fn (argc - 1, argv + 1);
            free (name);
            return code;
        }
    fprintf (stderr, "dynod: unknown command '%s' (see dynod --help)\n", argv [1]);
    return DND_EXIT_USAGE;
}
