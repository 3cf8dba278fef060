//  dyno certs, certs:add, certs:remove, certs:info - an app's SSL
//  certificates (release-keeper)
//
//  `dyno certs` lists them (cert.list) in Heroku's table:
//      Name             Endpoint  Common Name(s)   Expires               Trusted  Type
//      ───────────────  ────────  ───────────────  ────────────────────  ───────  ────
//      sharp-rain-8712  (SNI)     www.example.com  2027-01-31 12:00 UTC  False    SNI
//  Every certificate is served by SNI on the router's HTTPS port, so the
//  endpoint is `(SNI)` for all. `certs:add CERT_FILE KEY_FILE` reads a PEM
//  chain (leaf first) and its PEM key and sends them in one cert.add (not
//  journaled: the key is in clear; release-keeper seals it before anything
//  reaches the journal) and prints the stored certificate; release-keeper
//  refuses a pair that does not parse, does not match or has expired with
//  one line (exit 1). `certs:remove NAME` (durable cert.remove) and
//  `certs:info NAME` (from cert.list) name a certificate by the name the
//  table shows. --json prints release-keeper's answer as it is.
//
//  The app: -a/--app APP, else DYNOD_APP, else the app recorded for the
//  current directory (cli_resolve_app).

#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CERTS_ACTOR         "release-keeper"
#define CERTS_APP_MARK      "\xe2\xac\xa2"      // ⬢, as Heroku prints before an app
#define CERTS_RULE          "\xe2\x94\x80"      // ─, Heroku's table rule
#define CERTS_ENDPOINT      "(SNI)"
#define CERTS_FILE_MAX      (1024 * 1024)       // bytes of a PEM file
#define CERTS_ADD_TIMEOUT   (2 * CLI_TIMEOUT_MS) // journaled, then applied

//  Expiry as `2027-01-31 12:00 UTC` into `out`.
static void
s_expires (const json_t *cert, char *out, size_t len)
{
    char iso [32];
    cli_format_time (json_integer_value (json_object_get (cert, "expires_ms")), iso, sizeof iso);
    //  2027-01-31T12:00:00Z -> 2027-01-31 12:00 UTC
    snprintf (out, len, "%.10s %.5s UTC", iso, iso + 11);
}

//  The certificate's names joined with ", ". Caller frees.
static char *
s_names (const json_t *cert)
{
    size_t i, len = 1;
    json_t *name;
    json_t *domains = json_object_get (cert, "domains");
    json_array_foreach (domains, i, name)
        len += strlen (json_string_value (name) ? json_string_value (name) : "") + 2;
    char *out = act_calloc (1, len);
    json_array_foreach (domains, i, name) {
        if (i)
            strcat (out, ", ");
        strcat (out, json_string_value (name) ? json_string_value (name) : "");
    }
    return out;
}

static const char *
s_str (const json_t *cert, const char *key)
{
    const char *value = json_string_value (json_object_get (cert, key));
    return value ? value : "";
}

static const char *
s_trusted (const json_t *cert)
{
    return json_is_true (json_object_get (cert, "trusted")) ? "True" : "False";
}

//  Prints `n` rule characters, then `gap` spaces.
static void
s_rule (size_t n, int gap)
{
    for (size_t i = 0; i < n; i++)
        fputs (CERTS_RULE, stdout);
    printf ("%*s", gap, "");
}

static void
s_print_table (const char *app, const json_t *certs)
{
    if (json_array_size (certs) == 0) {
        printf ("%s %s has no SSL certificates.\nUse dyno certs:add CERT_FILE KEY_FILE to add one.\n",
                CERTS_APP_MARK, app);
        return;
    }
    const char *heads [] = { "Name", "Endpoint", "Common Name(s)", "Expires", "Trusted", "Type" };
    size_t width [6];
    for (int c = 0; c < 6; c++)
        width [c] = strlen (heads [c]);
    size_t i;
    json_t *cert;
    char expires [40];
    json_array_foreach (certs, i, cert) {
        char *names = s_names (cert);
        s_expires (cert, expires, sizeof expires);
        size_t w [6] = { strlen (s_str (cert, "name")), strlen (CERTS_ENDPOINT), strlen (names),
                         strlen (expires), strlen (s_trusted (cert)), strlen (s_str (cert, "type")) };
        for (int c = 0; c < 6; c++)
            width [c] = w [c] > width [c] ? w [c] : width [c];
        free (names);
    }
    //  The last column unpadded: no trailing blanks.
    for (int c = 0; c < 6; c++)
        printf ("%-*s%s", c < 5 ? (int) width [c] : 0, heads [c], c < 5 ? "  " : "\n");
    for (int c = 0; c < 6; c++)
        s_rule (width [c], c < 5 ? 2 : 0);
    printf ("\n");
    json_array_foreach (certs, i, cert) {
        char *names = s_names (cert);
        s_expires (cert, expires, sizeof expires);
        const char *cells [6] = { s_str (cert, "name"), CERTS_ENDPOINT, names, expires,
                                  s_trusted (cert), s_str (cert, "type") };
        for (int c = 0; c < 6; c++)
            printf ("%-*s%s", c < 5 ? (int) width [c] : 0, cells [c], c < 5 ? "  " : "\n");
        free (names);
    }
}

static void
s_print_details (const json_t *cert)
{
    char *names = s_names (cert);
    char expires [40];
    s_expires (cert, expires, sizeof expires);
    printf ("Certificate details:\n"
            "Common Name(s): %s\n"
            "Expires At:     %s\n"
            "Issuer:         %s\n"
            "Trusted:        %s\n"
            "Type:           %s%s\n",
            names, expires, s_str (cert, "issuer"), s_trusted (cert), s_str (cert, "type"),
            json_is_true (json_object_get (cert, "auto")) ? " (ACM)" : "");
    free (names);
}

//  Asks release-keeper for `app`'s certificates. Returns 0 with *reply_p
//  set (caller owns it), or an exit code after printing why.
static int
s_list (cli_t *cli, const char *app, msg_t **reply_p)
{
    msg_t *req = cli_app_request (cli, MSG_TYPE_CERT_LIST, CERTS_ACTOR, "app", app);
    if (!req)
        return CLI_EXIT_NOBROKER;
    return cli_call (cli, CERTS_ACTOR, &req, CLI_TIMEOUT_MS, reply_p);
}

int
cli_cmd_certs (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno certs [-a APP] [--json]\n"
                 "Lists the app's SSL certificates: name, the names each covers, when it\n"
                 "expires, whether a trusted root signed it, and its type (SNI: the router\n"
                 "picks it by the name the client asks for).\n"
                 CLI_USAGE_APP,
        .takes_app = true,
    };
    char *app;
    int code = cli_parse (cli, argc, argv, &spec, NULL, &app);
    if (code >= 0)
        return code;
    msg_t *reply;
    code = s_list (cli, app, &reply);
    if (code == CLI_EXIT_OK) {
        if (cli->json)
            cli_print_json (reply->body);
        else
            s_print_table (app, json_object_get (reply->body, "certs"));
        msg_destroy (&reply);
    }
    free (app);
    return code;
}

//  Reads a whole PEM file into *text_p (caller frees and wipes). Returns 0
//  or an exit code after printing why.
static int
s_read (cli_t *cli, const char *path, char **text_p, size_t *len_p)
{
    *text_p = NULL;
    int rc = act_read_file (path, text_p, len_p);
    if (rc == 0 && *len_p > CERTS_FILE_MAX)
        rc = -EFBIG;
    if (rc == 0 && strlen (*text_p) != *len_p)
        rc = -EINVAL;           // a NUL byte: not PEM text
    if (rc) {
        free (*text_p);
        *text_p = NULL;
        return cli_fail (cli, CLI_EXIT_FAIL, "cannot read '%s': %s", path, act_strerror (rc));
    }
    return CLI_EXIT_OK;
}

int
cli_cmd_certs_add (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno certs:add CERT_FILE KEY_FILE [-a APP] [--json]\n"
                 "Adds an SSL certificate to the app: CERT_FILE holds the PEM chain, leaf\n"
                 "first, KEY_FILE the leaf's PEM private key (without a passphrase). The\n"
                 "router serves it by SNI for every name it covers (its DNS subjectAltNames).\n"
                 "The key is stored encrypted. An expired certificate or a key that does not\n"
                 "match is refused.\n"
                 CLI_USAGE_APP,
        .takes_app = true,
        .min_operands = 2,
        .max_operands = 2,
        .too_few = "give CERT_FILE and KEY_FILE",
    };
    char *app;
    int code = cli_parse (cli, argc, argv, &spec, NULL, &app);
    if (code >= 0)
        return code;
    char *cert = NULL, *key = NULL;
    size_t cert_len = 0, key_len = 0;
    code = s_read (cli, argv [optind], &cert, &cert_len);
    if (code == CLI_EXIT_OK)
        code = s_read (cli, argv [optind + 1], &key, &key_len);
    msg_t *req = code == CLI_EXIT_OK
               ? cli_app_request (cli, MSG_TYPE_CERT_ADD, CERTS_ACTOR, "app", app) : NULL;
    if (code == CLI_EXIT_OK && !req)
        code = CLI_EXIT_NOBROKER;
    msg_t *reply = NULL;
    if (req) {
        msg_set_str (req, "cert", cert);
        msg_set_str (req, "key", key);
        msg_set_str (req, "by", cli_user ());
        code = cli_call (cli, CERTS_ACTOR, &req, CERTS_ADD_TIMEOUT, &reply);
    }
    if (key) {
        memset (key, 0, key_len);
        free (key);
    }
    free (cert);
    if (code == CLI_EXIT_OK) {
        if (cli->json)
            cli_print_json (reply->body);
        else {
            printf ("Adding SSL certificate to %s %s... done\n", CERTS_APP_MARK, app);
            printf ("%s %s now served by SNI certificate %s.\n", CERTS_APP_MARK, app,
                    msg_str (reply, "name", ""));
            s_print_details (reply->body);
        }
    }
    msg_destroy (&reply);
    free (app);
    return code;
}

int
cli_cmd_certs_remove (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno certs:remove NAME [-a APP] [--json]\n"
                 "Removes the app's SSL certificate NAME (see dyno certs); the router then\n"
                 "serves its names with a certificate from the local CA.\n"
                 CLI_USAGE_APP,
        .takes_app = true,
        .min_operands = 1,
        .max_operands = 1,
        .too_few = "no certificate name given (see dyno certs)",
    };
    char *app;
    int code = cli_parse (cli, argc, argv, &spec, NULL, &app);
    if (code >= 0)
        return code;
    msg_t *req = cli_app_request (cli, MSG_TYPE_CERT_REMOVE, CERTS_ACTOR, "app", app);
    if (!req) {
        free (app);
        return CLI_EXIT_NOBROKER;
    }
    //  Journaled before release-keeper applies it; the answer is its own.
    req->durable = true;
    msg_set_str (req, "name", argv [optind]);
    msg_set_str (req, "by", cli_user ());
    msg_t *reply;
    code = cli_call (cli, CERTS_ACTOR, &req, CLI_TIMEOUT_MS, &reply);
    if (code == CLI_EXIT_OK) {
        if (cli->json)
            cli_print_json (reply->body);
        else
            printf ("Removing SSL certificate %s from %s %s... done\n",
                    msg_str (reply, "name", argv [optind]), CERTS_APP_MARK, app);
        msg_destroy (&reply);
    }
    free (app);
    return code;
}

int
cli_cmd_certs_info (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno certs:info NAME [-a APP] [--json]\n"
                 "Shows the app's SSL certificate NAME: the names it covers, when it\n"
                 "expires, its issuer, whether a trusted root signed it.\n"
                 CLI_USAGE_APP,
        .takes_app = true,
        .min_operands = 1,
        .max_operands = 1,
        .too_few = "no certificate name given (see dyno certs)",
    };
    char *app;
    int code = cli_parse (cli, argc, argv, &spec, NULL, &app);
    if (code >= 0)
        return code;
    msg_t *reply;
    code = s_list (cli, app, &reply);
    if (code == CLI_EXIT_OK) {
        const json_t *found = NULL;
        size_t i;
        json_t *cert;
        json_array_foreach (json_object_get (reply->body, "certs"), i, cert)
            if (strcmp (s_str (cert, "name"), argv [optind]) == 0)
                found = cert;
        if (!found)
            code = cli_fail (cli, CLI_EXIT_FAIL, "app '%s' has no certificate '%s'", app,
                             argv [optind]);
        else if (cli->json)
            cli_print_json (found);
        else {
            printf ("=== %s\n", argv [optind]);
            s_print_details (found);
        }
        msg_destroy (&reply);
    }
    free (app);
    return code;
}
