//  dyno status - the broker and every actor at a glance
//
//  Asks the broker for its status and directory, then asks every actor in
//  it for its own status (all at once, one deadline), and prints one table.
//  An actor in the directory that does not answer is shown `unresponsive`.

#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATUS_ACTOR_TIMEOUT_MS 2000

//  Sends `status` to every actor peer and merges the answers into a list.
static json_t *
s_actor_status (act_client_t *client, json_t *peers)
{
    json_t *actors = json_array ();
    json_t *ids = json_object ();       // request id -> index in actors
    size_t i;
    json_t *peer;
    json_array_foreach (peers, i, peer) {
        if (strcmp (json_string_value (json_object_get (peer, "role")), "actor") != 0)
            continue;
        char to [MSG_ADDR_MAX];
        snprintf (to, sizeof to, "%s@%s", json_string_value (json_object_get (peer, "name")),
                  json_string_value (json_object_get (peer, "instance")));
        json_t *row = json_pack ("{s:O, s:O, s:O, s:O, s:s, s:I, s:I, s:I, s:I}",
            "name", json_object_get (peer, "name"), "instance", json_object_get (peer, "instance"),
            "host", json_object_get (peer, "host"), "pid", json_object_get (peer, "pid"),
            "state", "unresponsive", "uptime_ms", (json_int_t) 0,
            "msgs_in", json_integer_value (json_object_get (peer, "msgs_out")),
            "msgs_out", json_integer_value (json_object_get (peer, "msgs_in")),
            "last_seen_ms", json_integer_value (json_object_get (peer, "last_seen_ms")));
        msg_t *req = act_client_msg_new (client, MSG_TYPE_STATUS, to);
        json_object_set_new (ids, req->id, json_integer ((json_int_t) json_array_size (actors)));
        json_array_append_new (actors, row);
        act_client_send (client, &req);
    }
    int64_t deadline = act_mono_ms () + STATUS_ACTOR_TIMEOUT_MS;
    size_t waiting = json_object_size (ids);
    while (waiting > 0 && act_mono_ms () < deadline) {
        int rc;
        msg_t *reply = act_client_recv (client, (int) (deadline - act_mono_ms ()), &rc);
        if (!reply)
            break;
        json_t *index = json_object_get (ids, reply->corr);
        if (index && reply->type->id == MSG_TYPE_STATUS_REPLY) {
            json_t *row = json_array_get (actors, (size_t) json_integer_value (index));
            const char *keys [] = { "pid", "state", "uptime_ms", "msgs_in", "msgs_out", "last_seq", "detail" };
            for (size_t k = 0; k < sizeof keys / sizeof keys [0]; k++)
                if (json_object_get (reply->body, keys [k]))
                    json_object_set (row, keys [k], json_object_get (reply->body, keys [k]));
            json_object_del (ids, reply->corr);
            waiting--;
        }
        msg_destroy (&reply);
    }
    json_decref (ids);
    return actors;
}

static void
s_print_table (json_t *broker, json_t *actors)
{
    char up [32];
    cli_format_duration (json_integer_value (json_object_get (broker, "uptime_ms")), up, sizeof up);
    printf ("broker  %s  %s  pid %lld  up %s  in %lld  out %lld  journal head %lld  held %lld  peers %zu\n\n",
            json_string_value (json_object_get (broker, "endpoint")),
            json_string_value (json_object_get (broker, "host")),
            (long long) json_integer_value (json_object_get (broker, "pid")), up,
            (long long) json_integer_value (json_object_get (broker, "msgs_in")),
            (long long) json_integer_value (json_object_get (broker, "msgs_out")),
            (long long) json_integer_value (json_object_get (broker, "journal_head")),
            (long long) json_integer_value (json_object_get (broker, "held")),
            json_array_size (json_object_get (broker, "peers")));
    printf ("%-16s %-16s %-16s %-8s %-13s %-8s %10s %10s %10s\n",
            "ACTOR", "INSTANCE", "HOST", "PID", "STATE", "UPTIME", "MSGS IN", "MSGS OUT", "LAST SEQ");
    size_t i;
    json_t *row;
    json_array_foreach (actors, i, row) {
        cli_format_duration (json_integer_value (json_object_get (row, "uptime_ms")), up, sizeof up);
        //  An actor that did not answer has no last_seq: shown as `-`.
        json_t *seq = json_object_get (row, "last_seq");
        char last_seq [24] = "-";
        if (json_is_integer (seq))
            snprintf (last_seq, sizeof last_seq, "%lld", (long long) json_integer_value (seq));
        printf ("%-16s %-16s %-16s %-8lld %-13s %-8s %10lld %10lld %10s\n",
                json_string_value (json_object_get (row, "name")),
                json_string_value (json_object_get (row, "instance")),
                json_string_value (json_object_get (row, "host")),
                (long long) json_integer_value (json_object_get (row, "pid")),
                json_string_value (json_object_get (row, "state")), up,
                (long long) json_integer_value (json_object_get (row, "msgs_in")),
                (long long) json_integer_value (json_object_get (row, "msgs_out")), last_seq);
    }
    if (json_array_size (actors) == 0)
        printf ("(no actors registered)\n");
}

static int
s_by_name (const void *a, const void *b)
{
    return strcmp (json_string_value (json_object_get (*(json_t *const *) a, "name")),
                   json_string_value (json_object_get (*(json_t *const *) b, "name")));
}

//  Sorts the actor rows by name in place: a stable order for people and
//  scripts alike.
static void
s_sort_by_name (json_t *actors)
{
    size_t n = json_array_size (actors);
    json_t **rows = act_calloc (n, sizeof *rows);
    for (size_t i = 0; i < n; i++)
        rows [i] = json_incref (json_array_get (actors, i));
    qsort (rows, n, sizeof *rows, s_by_name);
    json_array_clear (actors);
    for (size_t i = 0; i < n; i++)
        json_array_append_new (actors, rows [i]);
    free (rows);
}

int
cli_cmd_status (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno status [--json]\n"
                 "Shows the broker (endpoint, host, pid, uptime, messages in/out, journal head,\n"
                 "held durable messages) and every registered actor (name, instance, host, pid,\n"
                 "state, uptime, messages in/out, last seq: the highest durable sequence number\n"
                 "it applied). An actor that does not answer within 2 s is shown as unresponsive\n"
                 "(last seq `-`).\n",
    };
    int code = cli_parse (cli, argc, argv, &spec, NULL, NULL);
    if (code >= 0)
        return code;
    act_client_t *client = NULL;
    json_t *broker = NULL;
    code = cli_broker_status (cli, &client, &broker);
    if (code)
        return code;
    json_t *actors = s_actor_status (client, json_object_get (broker, "peers"));
    s_sort_by_name (actors);
    if (cli->json) {
        json_t *out = json_pack ("{s:O, s:O}", "broker", broker, "actors", actors);
        json_object_del (json_object_get (out, "broker"), "peers");
        cli_print_json (out);
        json_decref (out);
    }
    else
        s_print_table (broker, actors);
    json_decref (actors);
    json_decref (broker);
    return CLI_EXIT_OK;
}
