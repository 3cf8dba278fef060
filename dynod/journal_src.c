//  journal_src - reading the broker's journal for `dynod journal` and
//  `dynod replay`
//
//  Reads the LevelDB journal directly; when a running broker holds its
//  lock, asks that broker with `journal.read` instead.

#include "dynod.h"
#include "../actors/common/act_client.h"
#include "../broker/journal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SRC_BATCH_LIMIT  10000      // entries per journal.read
#define SRC_TIMEOUT_MS   5000

//  Reads through a running broker. Returns an exit code.
static int
s_via_broker (const char *who, const char *endpoint, const char *token, uint64_t from,
              brk_journal_fn *fn, void *arg)
{
    int rc;
    act_client_t *client = act_client_new (endpoint, token, "cli", SRC_TIMEOUT_MS, &rc);
    if (!client) {
        fprintf (stderr, "dynod %s: the journal is locked and the broker at %s did not answer: %s\n",
                 who, endpoint, act_strerror (rc));
        return DND_EXIT_NOBROKER;
    }
    bool more = true;
    while (more) {
        msg_t *req = act_client_msg_new (client, MSG_TYPE_JOURNAL_READ, "broker");
        msg_set_int (req, "from", (int64_t) from);
        msg_set_int (req, "limit", SRC_BATCH_LIMIT);
        msg_t *reply = NULL;
        rc = act_client_call (client, &req, SRC_TIMEOUT_MS, &reply);
        if (rc) {
            fprintf (stderr, "dynod %s: %s\n", who, act_strerror (rc));
            msg_destroy (&reply);
            act_client_destroy (&client);
            return DND_EXIT_FAIL;
        }
        size_t i;
        json_t *entry;
        json_array_foreach (json_object_get (reply->body, "entries"), i, entry)
            if (more)
                more = fn (arg, 0, json_string_value (entry), json_string_length (entry));
        uint64_t next = (uint64_t) msg_int (reply, "next", 0);
        uint64_t head = (uint64_t) msg_int (reply, "head", 0);
        msg_destroy (&reply);
        if (next <= from || next > head)
            break;
        from = next;
    }
    act_client_destroy (&client);
    return DND_EXIT_OK;
}

//  DIR is a data directory (holding journal/) or a journal itself (holding
//  LevelDB's CURRENT). Caller owns result.
static char *
s_journal_path (const char *dir)
{
    struct stat st;
    char *current = act_sprintf ("%s/CURRENT", dir);
    bool is_journal = stat (current, &st) == 0;
    free (current);
    return is_journal ? act_strdup (dir) : act_sprintf ("%s/journal", dir);
}

int
dnd_journal_read (const char *who, const char *dir, const char *broker, uint64_t from,
                  brk_journal_fn *fn, void *arg)
{
    char *path = s_journal_path (dir);
    char reason [512];
    int code = DND_EXIT_OK;
    struct stat st;
    brk_journal_t *journal = NULL;
    if (stat (path, &st) != 0)
        snprintf (reason, sizeof reason, "no journal in '%s'", dir);
    else
        journal = brk_journal_open (path, false, reason, sizeof reason);
    if (journal) {
        brk_journal_scan (journal, from, fn, arg);
        brk_journal_destroy (&journal);
    }
    else if (strstr (reason, "lock")) {
        char *token = dnd_token_for (dir);
        char *endpoint = broker ? act_strdup (broker) : dnd_broker_endpoint ();
        code = s_via_broker (who, endpoint, token, from, fn, arg);
        free (endpoint);
        free (token);
    }
    else {
        fprintf (stderr, "dynod %s: %s\n", who, reason);
        code = DND_EXIT_FAIL;
    }
    free (path);
    return code;
}
