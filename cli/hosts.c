//  dyno hosts - the hosts of the installation: actors, dynos, capacity
//
//  Asks the broker for its directory (`broker.status`: every live peer
//  with its host and when it was last heard from) and the scheduler for
//  the hosts it places dynos on (`hosts.list`: each live dyno-supervisor's
//  capacity, the memory placed there and how many dynos), and prints one
//  row per host. A host is named by the `host` its actors said hello with;
//  a supervisor's row is the host of its broker peer. When the scheduler
//  does not answer, the hosts are still listed (dynos and memory `-`) and
//  the command exits 1.

#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOSTS_SCHEDULER     "scheduler"
#define HOSTS_SUPERVISOR    "dyno-supervisor"

static const char *
s_str (const json_t *obj, const char *key)
{
    const char *value = json_string_value (json_object_get (obj, key));
    return value ? value : "";
}

static json_int_t
s_int (const json_t *obj, const char *key)
{
    return json_integer_value (json_object_get (obj, key));
}

//  The row of host `name` in `rows` (host -> row), made when new.
//  Borrowed.
static json_t *
s_row (json_t *rows, const char *name)
{
    json_t *row = json_object_get (rows, name);
    if (!row) {
        row = json_pack ("{s:s, s:[], s:[], s:I}", "host", name, "actors", "supervisors",
                         "last_heartbeat_ms", (json_int_t) -1);
        json_object_set_new (rows, name, row);
    }
    return row;
}

//  One row per host from the broker's status (its own host included, with
//  the actor `broker`). Caller owns result (host -> row).
static json_t *
s_rows_from_broker (const json_t *broker)
{
    json_t *rows = json_object ();
    json_t *row = s_row (rows, s_str (broker, "host"));
    json_array_append_new (json_object_get (row, "actors"),
                           json_pack ("{s:s, s:O, s:O, s:I}", "name", "broker", "instance",
                                      json_object_get (broker, "instance"), "pid",
                                      json_object_get (broker, "pid"), "last_seen_ms",
                                      (json_int_t) 0));
    size_t i;
    json_t *peer;
    json_array_foreach (json_object_get (broker, "peers"), i, peer) {
        if (strcmp (s_str (peer, "role"), "actor") != 0)
            continue;
        row = s_row (rows, s_str (peer, "host"));
        json_array_append_new (json_object_get (row, "actors"),
                               json_pack ("{s:O, s:O, s:O, s:O}", "name",
                                          json_object_get (peer, "name"), "instance",
                                          json_object_get (peer, "instance"), "pid",
                                          json_object_get (peer, "pid"), "last_seen_ms",
                                          json_object_get (peer, "last_seen_ms")));
        //  The host's heartbeat: the most recent word from any actor on it.
        json_int_t seen = s_int (peer, "last_seen_ms");
        json_int_t best = s_int (row, "last_heartbeat_ms");
        if (best < 0 || seen < best)
            json_object_set_new (row, "last_heartbeat_ms", json_integer (seen));
    }
    return rows;
}

//  The host of peer `address` in the broker's directory, or NULL.
static const char *
s_peer_host (const json_t *broker, const char *address)
{
    size_t i;
    json_t *peer;
    json_array_foreach (json_object_get (broker, "peers"), i, peer) {
        char peer_address [MSG_ADDR_MAX];
        snprintf (peer_address, sizeof peer_address, "%s@%s", s_str (peer, "name"),
                  s_str (peer, "instance"));
        if (strcmp (peer_address, address) == 0)
            return s_str (peer, "host");
    }
    return NULL;
}

//  Adds the scheduler's view (`hosts`, its hosts.list.reply; NULL: none
//  came) to the rows: supervisors, dynos, capacity, used and free memory.
static void
s_add_capacity (json_t *rows, const json_t *broker, const json_t *hosts)
{
    const char *name;
    json_t *row;
    json_object_foreach (rows, name, row) {
        json_object_set_new (row, "dynos", hosts ? json_integer (0) : json_null ());
        json_object_set_new (row, "capacity_mb", hosts ? json_integer (0) : json_null ());
        json_object_set_new (row, "used_mb", hosts ? json_integer (0) : json_null ());
    }
    size_t i;
    json_t *sup;
    json_array_foreach (hosts, i, sup) {
        const char *host = s_peer_host (broker, s_str (sup, "supervisor"));
        row = s_row (rows, host ? host : s_str (sup, "host"));
        json_array_append_new (json_object_get (row, "supervisors"),
                               json_pack ("{s:O, s:O, s:O, s:O, s:O}", "supervisor",
                                          json_object_get (sup, "supervisor"), "capacity_mb",
                                          json_object_get (sup, "capacity_mb"), "used_mb",
                                          json_object_get (sup, "used_mb"), "dynos",
                                          json_object_get (sup, "dynos"), "last_report_ms",
                                          json_object_get (sup, "last_report_ms")));
        const char *keys [] = { "dynos", "capacity_mb", "used_mb" };
        for (size_t k = 0; k < sizeof keys / sizeof keys [0]; k++) {
            json_int_t add = s_int (sup, keys [k]);
            json_int_t now = s_int (row, keys [k]);
            //  Capacity not reported yet (-1) stays unknown.
            if (add < 0 || now < 0)
                json_object_set_new (row, keys [k], json_integer (-1));
            else
                json_object_set_new (row, keys [k], json_integer (now + add));
        }
    }
    json_object_foreach (rows, name, row) {
        json_int_t capacity = s_int (row, "capacity_mb");
        bool known = hosts && capacity >= 0 && json_array_size (json_object_get (row, "supervisors"));
        json_object_set_new (row, "free_mb", known ? json_integer (capacity - s_int (row, "used_mb"))
                                                   : json_null ());
    }
}

//  `broker, dyno-supervisor@host-b, router` into `out`: an actor's name,
//  with its instance when that is not the host's name.
static void
s_actor_list (const json_t *row, char *out, size_t len)
{
    size_t used = 0, i;
    json_t *actor;
    out [0] = 0;
    json_array_foreach (json_object_get (row, "actors"), i, actor) {
        const char *instance = s_str (actor, "instance");
        bool named = strcmp (s_str (actor, "name"), "broker") != 0
                  && strcmp (instance, s_str (row, "host")) != 0;
        int n = snprintf (out + used, len - used, "%s%s%s%s", i ? "," : "", s_str (actor, "name"),
                          named ? "@" : "", named ? instance : "");
        if (n < 0 || (size_t) n >= len - used)
            break;
        used += (size_t) n;
    }
}

static void
s_print_table (const json_t *list)
{
    //  The actors last: their list is as long as it is.
    printf ("%-20s %5s %21s  %-14s  %s\n", "HOST", "DYNOS", "MEMORY USED/FREE", "LAST HEARTBEAT",
            "ACTORS");
    size_t i;
    json_t *row;
    json_array_foreach (list, i, row) {
        char actors [1024], dynos [24] = "-", memory [48] = "-", beat [32] = "-";
        s_actor_list (row, actors, sizeof actors);
        if (json_is_integer (json_object_get (row, "dynos")) && s_int (row, "dynos") >= 0)
            snprintf (dynos, sizeof dynos, "%lld", (long long) s_int (row, "dynos"));
        if (json_is_integer (json_object_get (row, "free_mb")))
            snprintf (memory, sizeof memory, "%lld/%lld MB", (long long) s_int (row, "used_mb"),
                      (long long) s_int (row, "free_mb"));
        else if (json_array_size (json_object_get (row, "supervisors")))
            snprintf (memory, sizeof memory, "%lld/? MB", (long long) s_int (row, "used_mb"));
        if (s_int (row, "last_heartbeat_ms") >= 0) {
            cli_format_duration (s_int (row, "last_heartbeat_ms"), beat, sizeof beat);
            strncat (beat, " ago", sizeof beat - strlen (beat) - 1);
        }
        printf ("%-20s %5s %21s  %-14s  %s\n", s_str (row, "host"), dynos, memory, beat, actors);
    }
}

static int
s_by_host (const void *a, const void *b)
{
    return strcmp (s_str (*(json_t *const *) a, "host"), s_str (*(json_t *const *) b, "host"));
}

static int
s_by_actor (const void *a, const void *b)
{
    const json_t *x = *(json_t *const *) a, *y = *(json_t *const *) b;
    int c = strcmp (s_str (x, "name"), s_str (y, "name"));
    return c ? c : strcmp (s_str (x, "instance"), s_str (y, "instance"));
}

//  `array` sorted by `cmp`, in place.
static void
s_sort (json_t *array, int (*cmp) (const void *, const void *))
{
    size_t n = json_array_size (array), i;
    json_t **items = act_calloc (n + 1, sizeof *items);
    for (i = 0; i < n; i++)
        items [i] = json_incref (json_array_get (array, i));
    qsort (items, n, sizeof *items, cmp);
    json_array_clear (array);
    for (i = 0; i < n; i++)
        json_array_append_new (array, items [i]);
    free (items);
}

//  The rows as an array sorted by host, each row's actors by name. Caller
//  owns result.
static json_t *
s_sorted (json_t *rows)
{
    json_t *list = json_array ();
    const char *name;
    json_t *row;
    json_object_foreach (rows, name, row) {
        s_sort (json_object_get (row, "actors"), s_by_actor);
        json_array_append (list, row);
    }
    s_sort (list, s_by_host);
    return list;
}

int
cli_cmd_hosts (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno hosts [--json]\n"
                 "Lists the hosts: the actors each runs (the broker's directory), its dynos and\n"
                 "the memory they take and leave free (the scheduler's placement over the host's\n"
                 "dyno-supervisors), and how long ago any of its actors was last heard from.\n"
                 "When the scheduler does not answer, dynos and memory are `-` and the exit\n"
                 "code is 1.\n",
    };
    int code = cli_parse (cli, argc, argv, &spec, NULL, NULL);
    if (code >= 0)
        return code;
    act_client_t *client = NULL;
    json_t *broker = NULL;
    msg_t *req, *reply = NULL;
    code = cli_broker_status (cli, &client, &broker);
    if (code)
        return code;
    req = act_client_msg_new (client, MSG_TYPE_HOSTS_LIST, HOSTS_SCHEDULER);
    code = cli_call (cli, HOSTS_SCHEDULER, &req, CLI_TIMEOUT_MS, &reply);
    json_t *rows = s_rows_from_broker (broker);
    s_add_capacity (rows, broker, reply ? json_object_get (reply->body, "hosts") : NULL);
    msg_destroy (&reply);
    json_t *list = s_sorted (rows);
    if (cli->json) {
        json_t *out = json_pack ("{s:O}", "hosts", list);
        cli_print_json (out);
        json_decref (out);
    }
    else
        s_print_table (list);
    json_decref (list);
    json_decref (rows);
    json_decref (broker);
    return code;
}
