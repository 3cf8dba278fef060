//  dnd journal - print the durable journal
//
//  Reads the journal in DIR through journal_src.c: LevelDB directly, or the
//  running broker that holds its lock.

#include "dynod.h"
#include "../broker/journal.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    const char *type;
    bool json;
    json_t *out;                // --json: array of entries
    size_t count;
} jr_t;

static json_t *
s_entry_json (const msg_t *m)
{
    return json_pack ("{s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:b, s:O}",
                      "seq", (json_int_t) m->seq, "id", m->id, "type", m->type->name,
                      "from", m->from, "to", m->to, "corr", m->corr, "ts", (json_int_t) m->ts,
                      "durable", m->durable, "body", m->body);
}

static bool
s_print (void *arg, uint64_t seq, const void *data, size_t len)
{
    jr_t *jr = arg;
    msg_error_t err;
    msg_t *m = msg_decode (data, len, MSG_DECODE_FULL, &err);
    if (!m) {
        fprintf (stderr, "dynod journal: entry %llu is unreadable: %s\n", (unsigned long long) seq, err.reason);
        return true;
    }
    if (!jr->type || strcmp (jr->type, m->type->name) == 0) {
        jr->count++;
        if (jr->json)
            json_array_append_new (jr->out, s_entry_json (m));
        else {
            char ts [32];
            time_t secs = (time_t) (m->ts / 1000);
            struct tm tm;
            gmtime_r (&secs, &tm);
            strftime (ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
            char *body = json_dumps (m->body, JSON_COMPACT | JSON_SORT_KEYS);
            printf ("%8llu  %s.%03dZ  %-14s %s -> %s  %s\n", (unsigned long long) m->seq, ts,
                    (int) (m->ts % 1000), m->type->name, m->from, m->to, body);
            free (body);
        }
    }
    msg_destroy (&m);
    return true;
}

typedef struct {
    const char *data;           // borrowed from argv; NULL: the default
    const char *broker;         // borrowed from argv; NULL: dnd_broker_endpoint
    uint64_t from;
} jr_args_t;

//  Parses `dynod journal` options into `args` and `jr`. Returns 0, -1 after
//  --help, or an exit code.
static int
s_parse (jr_args_t *args, jr_t *jr, int argc, char **argv)
{
    static const struct option opts [] = {
        { "data", required_argument, NULL, 'd' },
        { "from", required_argument, NULL, 'f' },
        { "type", required_argument, NULL, 't' },
        { "json", no_argument, NULL, 'j' },
        { "broker", required_argument, NULL, 'b' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long (argc, argv, "d:f:t:jb:h", opts, NULL)) != -1) {
        switch (c) {
            case 'd': args->data = optarg; break;
            case 'f': {
                char *end;
                args->from = strtoull (optarg, &end, 10);
                if (*end || !*optarg) {
                    fprintf (stderr, "dynod journal: --from takes a sequence number\n");
                    return DND_EXIT_USAGE;
                }
                break;
            }
            case 't':
                if (!msg_type_by_name (optarg, strlen (optarg))) {
                    fprintf (stderr, "dynod journal: unknown message type '%s'\n", optarg);
                    return DND_EXIT_USAGE;
                }
                jr->type = optarg;
                break;
            case 'j': jr->json = true; break;
            case 'b': args->broker = optarg; break;
            case 'h':
                printf ("usage: dynod journal [--data DIR] [--from SEQ] [--type T] [--json] [--broker EP]\n"
                        "Prints journaled messages: seq, time, type, from -> to, body. When a running\n"
                        "broker holds the journal, reads through it: --broker, else DYNOD_BROKER, else\n"
                        "the credentials file's, else tcp://127.0.0.1:7700.\n");
                return -1;
            default:
                return DND_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        fprintf (stderr, "dynod journal: unexpected argument '%s'\n", argv [optind]);
        return DND_EXIT_USAGE;
    }
    return 0;
}

int
dnd_cmd_journal (int argc, char **argv)
{
    jr_args_t args = { .from = 1 };
    jr_t jr = { 0 };
    int code = s_parse (&args, &jr, argc, argv);
    if (code)
        return code < 0 ? DND_EXIT_OK : code;
    char *dir = args.data ? act_strdup (args.data) : dnd_default_data_dir ();
    jr.out = json_array ();
    code = dnd_journal_read ("journal", dir, args.broker, args.from, s_print, &jr);
    if (code == DND_EXIT_OK && jr.json) {
        char *text = json_dumps (jr.out, JSON_INDENT (2));
        puts (text);
        free (text);
    }
    json_decref (jr.out);
    free (dir);
    return code;
}
