//  dyno certs:auto, certs:auto:enable, certs:auto:disable - automated
//  certificate management (release-keeper)
//
//  certs:auto:enable/disable send a durable acm.set and print Heroku's
//  `Enabling Automatic Certificate Management... done`. certs:auto shows
//  whether ACM is on (app.get), the ACM certificate (cert.list: names,
//  expiry, issuer) and one row per custom domain (domain.list, whose
//  `acm_status` release-keeper fills from its orders) as Heroku's table:
//  Domain, Status (`Cert issued`, `Pending`, `Failed`), Last Updated;
//  then why each failed domain failed (the CA's reason).

#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ACM_ACTOR   "release-keeper"

static const cli_option_t s_none [] = {
    { NULL, 0, 0 },
};

//  Sends the acm.set of `enabled` for the app of argv.
static int
s_set (cli_t *cli, int argc, char **argv, bool enabled, const cli_spec_t *spec)
{
    char *app;
    int code = cli_parse (cli, argc, argv, spec, NULL, &app);
    if (code >= 0)
        return code;
    msg_t *req = cli_app_request (cli, MSG_TYPE_ACM_SET, ACM_ACTOR, "app", app);
    if (!req) {
        free (app);
        return CLI_EXIT_NOBROKER;
    }
    req->durable = true;
    msg_set_json (req, "enabled", json_boolean (enabled));
    msg_set_str (req, "by", cli_user ());
    msg_t *reply;
    code = cli_call (cli, ACM_ACTOR, &req, CLI_TIMEOUT_MS, &reply);
    if (code == CLI_EXIT_OK) {
        if (cli->json)
            cli_print_json (reply->body);
        else
            printf ("%s Automatic Certificate Management... done\n",
                    enabled ? "Enabling" : "Disabling");
    }
    msg_destroy (&reply);
    free (app);
    return code;
}

int
cli_cmd_certs_auto_enable (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno certs:auto:enable [-a APP] [--json]\n"
                 "Turns on Automatic Certificate Management: release-keeper orders a certificate\n"
                 "covering the app's custom domains from the ACME directory (DYNOD_ACME_DIRECTORY,\n"
                 "default Let's Encrypt), answers its HTTP-01 challenges on the router's HTTP port,\n"
                 "and renews it 30 days before it expires. `dyno certs:auto` shows the progress.\n"
                 CLI_USAGE_APP,
        .takes_app = true,
        .options = s_none,
    };
    return s_set (cli, argc, argv, true, &spec);
}

int
cli_cmd_certs_auto_disable (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno certs:auto:disable [-a APP] [--json]\n"
                 "Turns off Automatic Certificate Management: no more orders or renewals; the\n"
                 "certificate issued so far stays until it expires or is removed.\n"
                 CLI_USAGE_APP,
        .takes_app = true,
        .options = s_none,
    };
    return s_set (cli, argc, argv, false, &spec);
}

//  Asks release-keeper `type` about `app`; NULL (nothing printed) when it
//  does not answer it. Caller owns result.
static msg_t *
s_ask_quietly (cli_t *cli, msg_type_id_t type, const char *app)
{
    msg_t *req = cli_app_request (cli, type, ACM_ACTOR, "app", app);
    msg_t *reply = NULL;
    if (req && act_client_call (cli_client (cli), &req, CLI_TIMEOUT_MS, &reply) != 0)
        msg_destroy (&reply);
    msg_destroy (&req);
    return reply;
}

//  True when a certificate of `certs` (cert.info maps) names `host` and
//  has not expired.
static bool
s_cert_covers (const json_t *certs, const char *host)
{
    int64_t now = (int64_t) time (NULL) * 1000;
    size_t i, k;
    json_t *cert, *name;
    json_array_foreach (certs, i, cert) {
        if (json_integer_value (json_object_get (cert, "expires_ms")) <= now)
            continue;
        json_array_foreach (json_object_get (cert, "domains"), k, name)
            if (json_is_string (name) && strcasecmp (json_string_value (name), host) == 0)
                return true;
    }
    return false;
}

//  The rows of the table: one map per custom domain, {hostname, status,
//  reason, updated_ms}. Caller owns result.
static json_t *
s_rows (const json_t *domains, const json_t *certs)
{
    json_t *rows = json_array ();
    size_t i;
    json_t *domain;
    json_array_foreach (domains, i, domain) {
        const char *kind = json_string_value (json_object_get (domain, "kind"));
        const char *host = json_string_value (json_object_get (domain, "hostname"));
        if (!host || (kind && strcmp (kind, "custom") != 0))
            continue;
        const char *status = json_string_value (json_object_get (domain, "acm_status"));
        //  Without a status from release-keeper: what the certificates say.
        if (!status)
            status = s_cert_covers (certs, host) ? "issued" : "pending";
        json_t *row = json_pack ("{s:s, s:s}", "hostname", host, "status", status);
        json_t *reason = json_object_get (domain, "acm_reason");
        if (json_is_string (reason))
            json_object_set (row, "reason", reason);
        json_t *updated = json_object_get (domain, "acm_updated_ms");
        if (json_is_integer (updated))
            json_object_set (row, "updated_ms", updated);
        json_array_append_new (rows, row);
    }
    return rows;
}

static const char *
s_status_text (const char *status)
{
    return strcmp (status, "issued") == 0   ? "Cert issued"
         : strcmp (status, "failed") == 0   ? "Failed"
         : strcmp (status, "pending") == 0  ? "Pending"
                                            : status;
}

static void
s_print_cert (const json_t *certs)
{
    size_t i, k;
    json_t *cert, *name;
    json_array_foreach (certs, i, cert) {
        if (!json_is_true (json_object_get (cert, "auto")))
            continue;
        char expires [32];
        cli_format_time (json_integer_value (json_object_get (cert, "expires_ms")), expires,
                         sizeof expires);
        printf ("Certificate details:\nDomain(s):  ");
        json_array_foreach (json_object_get (cert, "domains"), k, name)
            printf ("%s%s", k ? ", " : "", json_string_value (name));
        const char *issuer = json_string_value (json_object_get (cert, "issuer"));
        printf ("\nExpires At: %s\nIssuer:     %s\n\n", expires, issuer ? issuer : "");
        return;
    }
}

static void
s_print_rows (const json_t *rows)
{
    if (json_array_size (rows) == 0) {
        printf ("The app has no custom domains: add one with dyno domains:add HOST.\n");
        return;
    }
    size_t width = strlen ("Domain"), i;
    json_t *row;
    json_array_foreach (rows, i, row)
        if (strlen (json_string_value (json_object_get (row, "hostname"))) > width)
            width = strlen (json_string_value (json_object_get (row, "hostname")));
    printf ("%-*s  %-11s  %s\n", (int) width, "Domain", "Status", "Last Updated");
    json_array_foreach (rows, i, row) {
        char when [32] = "";
        json_t *updated = json_object_get (row, "updated_ms");
        if (updated)
            cli_format_time (json_integer_value (updated), when, sizeof when);
        printf ("%-*s  %-11s  %s\n", (int) width, json_string_value (json_object_get (row, "hostname")),
                s_status_text (json_string_value (json_object_get (row, "status"))), when);
    }
    json_array_foreach (rows, i, row) {
        const char *reason = json_string_value (json_object_get (row, "reason"));
        if (reason)
            printf ("\n=== %s failed: %s", json_string_value (json_object_get (row, "hostname")),
                    reason);
    }
    printf ("\n");
}

int
cli_cmd_certs_auto (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno certs:auto [-a APP] [--json]\n"
                 "Shows Automatic Certificate Management for an app: on or off, its certificate,\n"
                 "and each custom domain's status (Cert issued, Pending, Failed, with the CA's\n"
                 "reason).\n"
                 CLI_USAGE_APP,
        .takes_app = true,
        .options = s_none,
    };
    char *app;
    int code = cli_parse (cli, argc, argv, &spec, NULL, &app);
    if (code >= 0)
        return code;
    msg_t *req = cli_app_request (cli, MSG_TYPE_APP_GET, ACM_ACTOR, "name", app);
    msg_t *info = NULL;
    code = req ? cli_call (cli, ACM_ACTOR, &req, CLI_TIMEOUT_MS, &info) : CLI_EXIT_NOBROKER;
    if (code) {
        free (app);
        return code;
    }
    bool on = json_is_true (json_object_get (info->body, "acm"));
    msg_t *domains = on ? s_ask_quietly (cli, MSG_TYPE_DOMAIN_LIST, app) : NULL;
    msg_t *certs = on ? s_ask_quietly (cli, MSG_TYPE_CERT_LIST, app) : NULL;
    json_t *cert_list = certs ? json_object_get (certs->body, "certs") : NULL;
    json_t *rows = s_rows (domains ? json_object_get (domains->body, "domains") : NULL, cert_list);
    if (on && !domains)
        code = cli_fail (cli, CLI_EXIT_FAIL, "release-keeper did not list the domains of %s", app);
    else if (cli->json) {
        json_t *out = json_pack ("{s:s, s:b, s:O}", "app", app, "acm", on, "domains", rows);
        cli_print_json (out);
        json_decref (out);
    }
    else {
        printf ("=== Automatic Certificate Management is %s on %s\n\n", on ? "enabled" : "disabled",
                app);
        if (on) {
            s_print_cert (cert_list);
            s_print_rows (rows);
        }
    }
    json_decref (rows);
    msg_destroy (&certs);
    msg_destroy (&domains);
    msg_destroy (&info);
    free (app);
    return code;
}
