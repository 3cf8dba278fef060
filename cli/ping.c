//  dyno ping - check that an actor (or the broker) answers
//
//  Sends `ping` to an actor name, `name@instance` or `broker` and waits for
//  the `pong`. With --durable the ping is journaled first: the broker acks
//  it with a sequence number and holds it until the actor is back, so
//  `dyno ping NAME --durable --timeout 60` waits through an actor restart.

#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    bool durable;               // --durable
    int count;                  // --count N
    int timeout_s;              // --timeout SECONDS
} ping_args_t;

static const cli_option_t s_options [] = {
    { "durable", 'd', 0 },
    { "count", 'c', CLI_OPT_ARG },
    { "timeout", 'T', CLI_OPT_ARG },
    { NULL, 0, 0 },
};

//  One of s_options into `data` (ping_args_t *); the counts are checked
//  once all are parsed.
static int
s_option (cli_t *cli, int key, const char *arg, void *data)
{
    (void) cli;
    ping_args_t *args = data;
    switch (key) {
        case 'd': args->durable = true; break;
        case 'c': args->count = atoi (arg); break;
        default: args->timeout_s = atoi (arg); break;
    }
    return -1;
}

//  One ping; fills `row`. Returns 0 or an error code.
static int
s_ping_once (act_client_t *client, const char *target, bool durable, int timeout_ms, json_t *row)
{
    msg_t *ping = act_client_msg_new (client, MSG_TYPE_PING, target);
    char id [MSG_ID_LEN + 1];
    memcpy (id, ping->id, sizeof id);
    msg_set_json (ping, "data", json_string (id));
    int64_t start = act_wall_us ();
    int rc;
    if (durable) {
        uint64_t seq = 0;
        msg_t *copy = msg_dup (ping);
        rc = act_client_send_durable (client, &copy, timeout_ms, &seq);
        json_object_set_new (row, "seq", json_integer ((json_int_t) seq));
        if (rc) {
            msg_destroy (&ping);
            return rc;
        }
        //  Wait for the pong answering the journaled ping.
        int64_t deadline = act_mono_ms () + timeout_ms;
        msg_destroy (&ping);
        rc = ACT_ETIMEDOUT;
        while (act_mono_ms () < deadline) {
            int r;
            msg_t *reply = act_client_recv (client, (int) (deadline - act_mono_ms ()), &r);
            if (!reply)
                break;
            bool match = strcmp (reply->corr, id) == 0 && reply->type->id != MSG_TYPE_ACK;
            if (match) {
                json_object_set_new (row, "from", json_string (reply->from));
                rc = reply->type->id == MSG_TYPE_PONG ? 0 : (int) msg_int (reply, "code", ACT_EPROTO);
            }
            msg_destroy (&reply);
            if (match)
                break;
        }
    }
    else {
        msg_t *reply = NULL;
        rc = act_client_call (client, &ping, timeout_ms, &reply);
        if (reply)
            json_object_set_new (row, "from", json_string (reply->from));
        msg_destroy (&reply);
    }
    json_object_set_new (row, "rtt_us", json_integer (act_wall_us () - start));
    return rc;
}

int
cli_cmd_ping (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno ping TARGET [--durable] [--count N] [--timeout SECONDS] [--json]\n"
                 "Pings an actor (name or name@instance) or `broker` and prints the round trip.\n"
                 "--durable journals the ping first; it is held until the actor is up again.\n",
        .options = s_options,
        .option = s_option,
        .max_operands = CLI_OPERANDS_ANY,   // one, checked below: one message for both
    };
    ping_args_t args = { .count = 1, .timeout_s = 5 };
    int code = cli_parse (cli, argc, argv, &spec, &args, NULL);
    if (code >= 0)
        return code;
    if (optind != argc - 1)
        return cli_fail (cli, CLI_EXIT_USAGE, "name one target (an actor, name@instance or broker)");
    if (args.count < 1 || args.count > 100000 || args.timeout_s < 1)
        return cli_fail (cli, CLI_EXIT_USAGE, "--count must be 1..100000 and --timeout at least 1");
    const char *target = argv [optind];
    char name [MSG_ADDR_MAX], instance [MSG_ADDR_MAX];
    if (msg_addr_split (target, name, instance) || msg_addr_is_topic (target))
        return cli_fail (cli, CLI_EXIT_USAGE, "'%s' is not an actor address", target);
    act_client_t *client = cli_client (cli);
    if (!client)
        return CLI_EXIT_NOBROKER;
    json_t *rows = json_array ();
    code = CLI_EXIT_OK;
    for (int i = 0; i < args.count && code == CLI_EXIT_OK; i++) {
        json_t *row = json_object ();
        int rc = s_ping_once (client, target, args.durable, args.timeout_s * 1000, row);
        json_array_append_new (rows, row);
        if (rc) {
            code = cli_fail (cli, CLI_EXIT_FAIL, "no pong from %s: %s", target, act_strerror (rc));
            break;
        }
        if (!cli->json) {
            json_int_t seq = json_integer_value (json_object_get (row, "seq"));
            printf ("pong from %s in %.3f ms", json_string_value (json_object_get (row, "from")),
                    (double) json_integer_value (json_object_get (row, "rtt_us")) / 1000.0);
            if (seq)
                printf (" (journaled as seq %lld)", (long long) seq);
            printf ("\n");
        }
    }
    if (cli->json)
        cli_print_json (rows);
    json_decref (rows);
    return code;
}
