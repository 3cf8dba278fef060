//  dnd replay - replays an actor's journaled inputs and checks its outputs
//
//  dynod replay --journal DIR --actor NAME [--from SEQ] [--to SEQ] [--broker EP]
//  DIR is a data directory of `dynod up`/`dynod broker`, or a journal
//  directory. Exit 0 with the number of outputs matched, 1 at the first
//  divergence (printed: sequence, expected, got), 2 on bad arguments.

#include "dynod.h"
#include "replay.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *journal;        // borrowed from argv
    const char *actor;          // borrowed from argv
    const char *broker;         // borrowed from argv; NULL: the default
    uint64_t from, to;
    bool no_history;            // start empty at --from
} replay_args_t;

static const char *s_usage =
    "usage: dynod replay --journal DIR --actor NAME [--from SEQ] [--to SEQ] [--no-history]\n"
    "                    [--broker EP]\n"
    "Feeds the journaled messages addressed to actor NAME, in order and at their recorded\n"
    "times, into a fresh in-process instance, and compares each durable message it emits\n"
    "with the one the journal recorded (type, to, corr, body). Prints the number matched\n"
    "(exit 0), or the first divergence: sequence, expected, got (exit 1). DIR is a data\n"
    "directory (of `dynod up`) or a journal directory. --from/--to limit what is compared;\n"
    "the inputs before --from are replayed first to build the state, unless --no-history\n"
    "(then the instance starts empty at --from). See docs/replay.md.\n";

//  Parses a sequence number. Returns false when `text` is not one.
static bool
s_seq (const char *text, uint64_t *seq)
{
    char *end;
    if (!*text || *text == '-')
        return false;
    *seq = strtoull (text, &end, 10);
    return *end == 0;
}

//  Returns 0, -1 after --help, or an exit code.
static int
s_parse (replay_args_t *args, int argc, char **argv)
{
    static const struct option opts [] = {
        { "journal", required_argument, NULL, 'J' },
        { "actor", required_argument, NULL, 'a' },
        { "from", required_argument, NULL, 'f' },
        { "to", required_argument, NULL, 'T' },
        { "broker", required_argument, NULL, 'b' },
        { "no-history", no_argument, NULL, 'H' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long (argc, argv, "J:a:f:T:b:h", opts, NULL)) != -1) {
        switch (c) {
            case 'H': args->no_history = true; break;
            case 'J': args->journal = optarg; break;
            case 'a': args->actor = optarg; break;
            case 'b': args->broker = optarg; break;
            case 'f':
            case 'T':
                if (!s_seq (optarg, c == 'f' ? &args->from : &args->to)) {
                    fprintf (stderr, "dynod replay: --%s takes a sequence number, not '%s'\n",
                             c == 'f' ? "from" : "to", optarg);
                    return DND_EXIT_USAGE;
                }
                break;
            case 'h': fputs (s_usage, stdout); return -1;
            default: return DND_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        fprintf (stderr, "dynod replay: unexpected argument '%s'\n", argv [optind]);
        return DND_EXIT_USAGE;
    }
    if (!args->journal || !args->actor) {
        fprintf (stderr, "dynod replay: --journal DIR and --actor NAME are required\n");
        return DND_EXIT_USAGE;
    }
    if (!dnd_actor_find (args->actor)) {
        fprintf (stderr, "dynod replay: unknown actor '%s'\n", args->actor);
        return DND_EXIT_USAGE;
    }
    if (args->to && args->to < args->from) {
        fprintf (stderr, "dynod replay: --to is before --from\n");
        return DND_EXIT_USAGE;
    }
    return 0;
}

typedef struct {
    dnd_replay_t *replay;
    size_t unreadable;
} collect_t;

static bool
s_collect (void *arg, uint64_t seq, const void *data, size_t len)
{
    (void) seq;
    collect_t *collect = arg;
    if (!dnd_replay_add (collect->replay, data, len))
        collect->unreadable++;
    return true;
}

static void
s_print_side (const char *label, const json_t *view)
{
    char *text = view ? json_dumps (view, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    printf ("  %-9s %s\n", label, view ? (text ? text : "(not printable as JSON)") : "(nothing)");
    free (text);
}

int
dnd_cmd_replay (int argc, char **argv)
{
    replay_args_t args = { .from = 1 };
    int code = s_parse (&args, argc, argv);
    if (code)
        return code < 0 ? DND_EXIT_OK : code;
    collect_t collect = { .replay = dnd_replay_new (dnd_actor_find (args.actor), args.from, args.to,
                                                    !args.no_history) };
    code = dnd_journal_read ("replay", args.journal, args.broker,
                             args.no_history ? args.from : 1, s_collect, &collect);
    if (code == DND_EXIT_OK) {
        if (collect.unreadable)
            fprintf (stderr, "dynod replay: skipped %zu unreadable entries\n", collect.unreadable);
        dnd_replay_result_t result;
        int rc = dnd_replay_run (collect.replay, &result);
        if (rc == 0)
            printf ("replay %s: %zu inputs (seq %llu..%llu), %zu outputs matched\n", args.actor,
                    result.inputs, (unsigned long long) result.first_seq,
                    (unsigned long long) result.last_seq, result.matched);
        else {
            printf ("replay %s: divergence at seq %llu (%s), output %zu, after %zu matched\n",
                    args.actor, (unsigned long long) result.seq, result.input, result.index + 1,
                    result.matched);
            s_print_side ("expected:", result.expected);
            s_print_side ("got:", result.got);
            code = DND_EXIT_FAIL;
        }
        dnd_replay_result_release (&result);
    }
    dnd_replay_destroy (&collect.replay);
    return code;
}
