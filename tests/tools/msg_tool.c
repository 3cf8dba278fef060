//  msg-tool - send one message through the broker and print what comes back
//
//  Usage: msg-tool --broker EP --token-file FILE [--name NAME] --to ADDR
//                  --type TYPE [--body JSON] [--listen MS] [--until TYPE]
//                  [--input-every MS --input-to ADDR --input-id ID]
//                  [--broker-key KEY --key-file FILE]
//
//  A test tool (tests/integration/test_supervisor.sh): registers as a
//  client `NAME@<random>` (default `msg-tool`; `scheduler` to speak for the
//  scheduler to a dyno-supervisor), sends one message of TYPE to ADDR with
//  the body JSON, in which the text @SELF@ is replaced by the tool's own
//  address (an attached one-off's `attach`), then prints every message it
//  receives, one JSON line each ({"type", "from", "corr", "body"}, binary
//  fields as text), for MS ms (default 0: none) or until one of TYPE
//  arrives. With --input-every it sends an empty run.input {id} to
//  --input-to every MS ms while it listens (the CLI's keep-alive). With
//  --broker-key it connects over CURVE with the key pair in FILE
//  (tests/integration/test_curve.sh).
//
//  Exit codes: 0 sent (and TYPE seen, with --until), 1 failure or TYPE
//  not seen, 2 usage, 3 no broker.

#include "../../actors/common/act_client.h"
#include "../../actors/common/act_curve.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOOL_TIMEOUT_MS 5000
#define TOOL_TOKEN_MAX  256

typedef struct {
    const char *broker, *token_file, *name, *to, *type, *body, *until;
    const char *input_to, *input_id;
    const char *broker_key, *key_file;
    long listen_ms, input_every;
} tool_opts_t;

static int
s_usage (void)
{
    fprintf (stderr, "usage: msg-tool --broker EP --token-file FILE [--name NAME] --to ADDR --type TYPE\n"
                     "                [--body JSON] [--listen MS] [--until TYPE]\n"
                     "                [--input-every MS --input-to ADDR --input-id ID]\n"
                     "                [--broker-key KEY --key-file FILE]\n");
    return 2;
}

//  `text` with every @SELF@ replaced by `self`. Caller owns result.
static char *
s_substitute (const char *text, const char *self)
{
    size_t cap = strlen (text) * 2 + strlen (self) * 8 + 1, len = 0;
    char *out = act_malloc (cap);
    for (const char *p = text; *p; ) {
        if (strncmp (p, "@SELF@", 6) == 0) {
            size_t n = strlen (self);
            if (len + n + 1 > cap)
                out = act_realloc (out, cap = (len + n + 1) * 2);
            memcpy (out + len, self, n);
            len += n;
            p += 6;
        }
        else {
            if (len + 2 > cap)
                out = act_realloc (out, cap *= 2);
            out [len++] = *p++;
        }
    }
    out [len] = 0;
    return out;
}

static void
s_print (const msg_t *msg)
{
    json_t *line = json_pack ("{s:s, s:s, s:s, s:o}", "type", msg->type->name, "from", msg->from,
                              "corr", msg->corr, "body", json_deep_copy (msg->body));
    char *text = json_dumps (line, JSON_COMPACT | JSON_ENSURE_ASCII);
    if (!text) {
        //  Bytes that are not UTF-8 (a blob.chunk): print their count.
        json_t *body = json_object_get (line, "body");
        json_t *data = json_object_get (body, "data");
        json_object_set_new (body, "data_len", json_integer ((json_int_t) json_string_length (data)));
        json_object_del (body, "data");
        text = json_dumps (line, JSON_COMPACT | JSON_ENSURE_ASCII);
    }
    printf ("%s\n", text ? text : "{}");
    fflush (stdout);
    free (text);
    json_decref (line);
}

static int
s_parse (int argc, char **argv, tool_opts_t *o)
{
    static const struct option opts [] = {
        { "broker", required_argument, NULL, 'b' }, { "token-file", required_argument, NULL, 'k' },
        { "name", required_argument, NULL, 'n' }, { "to", required_argument, NULL, 't' },
        { "type", required_argument, NULL, 'y' }, { "body", required_argument, NULL, 'd' },
        { "listen", required_argument, NULL, 'l' }, { "until", required_argument, NULL, 'u' },
        { "input-every", required_argument, NULL, 'e' }, { "input-to", required_argument, NULL, 'i' },
        { "input-id", required_argument, NULL, 'I' }, { "broker-key", required_argument, NULL, 'K' },
        { "key-file", required_argument, NULL, 'F' }, { NULL, 0, NULL, 0 },
    };
    memset (o, 0, sizeof *o);
    o->name = "msg-tool";
    o->body = "{}";
    int c;
    while ((c = getopt_long (argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
            case 'b': o->broker = optarg; break;
            case 'k': o->token_file = optarg; break;
            case 'n': o->name = optarg; break;
            case 't': o->to = optarg; break;
            case 'y': o->type = optarg; break;
            case 'd': o->body = optarg; break;
            case 'l': o->listen_ms = atol (optarg); break;
            case 'u': o->until = optarg; break;
            case 'e': o->input_every = atol (optarg); break;
            case 'i': o->input_to = optarg; break;
            case 'I': o->input_id = optarg; break;
            case 'K': o->broker_key = optarg; break;
            case 'F': o->key_file = optarg; break;
            default: return -1;
        }
    }
    if (optind != argc || !o->broker || !o->token_file || !o->to || !o->type)
        return -1;
    if (o->input_every > 0 && (!o->input_to || !o->input_id))
        return -1;
    return 0;
}

//  Reads the token file's first line into `token`. Returns 0 or -1.
static int
s_token (const char *path, char token [TOOL_TOKEN_MAX])
{
    FILE *f = fopen (path, "r");
    if (!f || !fgets (token, TOOL_TOKEN_MAX, f)) {
        if (f)
            fclose (f);
        return -1;
    }
    fclose (f);
    token [strcspn (token, "\r\n")] = 0;
    return 0;
}

static void
s_keepalive (act_client_t *client, const tool_opts_t *o)
{
    msg_t *in = act_client_msg_new (client, MSG_TYPE_RUN_INPUT, o->input_to);
    msg_set_str (in, "id", o->input_id);
    act_client_send (client, &in);
}

int
main (int argc, char **argv)
{
    tool_opts_t o;
    if (s_parse (argc, argv, &o))
        return s_usage ();
    const msg_type_t *type = msg_type_by_name (o.type, strlen (o.type));
    if (!type) {
        fprintf (stderr, "msg-tool: no message type '%s'\n", o.type);
        return 2;
    }
    char token [TOOL_TOKEN_MAX];
    if (s_token (o.token_file, token)) {
        fprintf (stderr, "msg-tool: cannot read a token from '%s'\n", o.token_file);
        return 1;
    }
    int rc = 0;
    act_curve_t curve = { .server_key = o.broker_key };
    if (o.broker_key && (!o.key_file || act_keypair_load (o.key_file, &curve.pair))) {
        fprintf (stderr, "msg-tool: --broker-key needs --key-file with a key pair\n");
        return 2;
    }
    act_client_t *client = act_client_new_curve (o.broker, token, o.name, TOOL_TIMEOUT_MS,
                                                 o.broker_key ? &curve : NULL, &rc);
    act_keypair_wipe (&curve.pair);
    if (!client) {
        fprintf (stderr, "msg-tool: cannot reach the broker: %s\n", act_strerror (rc));
        return 3;
    }
    char *text = s_substitute (o.body, act_client_address (client));
    json_error_t jerr;
    json_t *body = json_loads (text, 0, &jerr);
    free (text);
    if (!json_is_object (body)) {
        fprintf (stderr, "msg-tool: --body is not a JSON object: %s\n", jerr.text);
        json_decref (body);
        act_client_destroy (&client);
        return 2;
    }
    msg_t *msg = act_client_msg_new (client, type->id, o.to);
    json_decref (msg->body);
    msg->body = body;
    rc = act_client_send (client, &msg);
    if (rc) {
        fprintf (stderr, "msg-tool: cannot send: %s\n", act_strerror (rc));
        act_client_destroy (&client);
        return 1;
    }
    int code = o.until ? 1 : 0;
    int64_t end = act_mono_ms () + o.listen_ms, next_input = act_mono_ms ();
    while (act_mono_ms () < end) {
        if (o.input_every > 0 && act_mono_ms () >= next_input) {
            s_keepalive (client, &o);
            next_input = act_mono_ms () + o.input_every;
        }
        int64_t wait = end - act_mono_ms ();
        if (o.input_every > 0 && next_input - act_mono_ms () < wait)
            wait = next_input - act_mono_ms ();
        msg_t *in = act_client_recv (client, (int) (wait > 0 ? wait : 1), &rc);
        if (!in)
            continue;
        s_print (in);
        bool done = o.until && strcmp (in->type->name, o.until) == 0;
        msg_destroy (&in);
        if (done) {
            code = 0;
            break;
        }
    }
    act_client_destroy (&client);
    return code;
}
