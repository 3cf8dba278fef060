//  dyno domains, domains:add, domains:remove, domains:clear - an app's
//  domains (release-keeper)
//
//  `dyno domains` lists them (domain.list), Heroku's way: the default
//  domains first, then the custom ones in a table
//      === ⬢ my-app Default Domains
//      my-app.localhost
//
//      === ⬢ my-app Custom Domains
//      Domain Name      DNS Record Type  DNS Target
//      www.example.com  CNAME            sharp-rain-0f5c2a9e41b7.dynod.localhost
//  `domains:add HOST` (durable domain.add) prints `Adding HOST to ⬢ APP...
//  done` and the DNS target to point the domain at; `domains:remove HOST`
//  (durable domain.remove) and `domains:clear` (every custom domain) say
//  what they did. Release-keeper refuses a bad host name, a default domain,
//  one another app has, or a 1001st, with one line (exit 1). --json prints
//  release-keeper's answer as it is (domains:clear: the last list).
//
//  The app: -a/--app APP, else DYNOD_APP, else the app recorded for the
//  current directory (cli_resolve_app).

#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DOMAINS_ACTOR       "release-keeper"
#define DOMAINS_APP_MARK    "\xe2\xac\xa2"      // ⬢, as Heroku prints before an app

//  The DNS record a custom domain needs: a root domain (two labels) cannot
//  be a CNAME.
static const char *
s_record_type (const char *host)
{
    const char *dot = strchr (host, '.');
    return dot && !strchr (dot + 1, '.') ? "ALIAS or ANAME" : "CNAME";
}

static const char *
s_field (const json_t *domain, const char *key)
{
    const char *value = json_string_value (json_object_get (domain, key));
    return value ? value : "";
}

static void
s_print_list (const char *app, const json_t *domains)
{
    size_t i, width_name = strlen ("Domain Name"), width_type = strlen ("DNS Record Type");
    bool custom = false;
    json_t *domain;
    printf ("=== %s %s Default Domains\n", DOMAINS_APP_MARK, app);
    json_array_foreach (domains, i, domain) {
        const char *host = s_field (domain, "hostname");
        if (strcmp (s_field (domain, "kind"), "default") == 0) {
            printf ("%s\n", host);
            continue;
        }
        custom = true;
        if (strlen (host) > width_name)
            width_name = strlen (host);
        if (strlen (s_record_type (host)) > width_type)
            width_type = strlen (s_record_type (host));
    }
    if (!custom)
        return;
    printf ("\n=== %s %s Custom Domains\n", DOMAINS_APP_MARK, app);
    printf ("%-*s  %-*s  %s\n", (int) width_name, "Domain Name", (int) width_type,
            "DNS Record Type", "DNS Target");
    json_array_foreach (domains, i, domain) {
        const char *host = s_field (domain, "hostname");
        if (strcmp (s_field (domain, "kind"), "custom") == 0)
            printf ("%-*s  %-*s  %s\n", (int) width_name, host, (int) width_type,
                    s_record_type (host), s_field (domain, "dns_target"));
    }
}

//  Asks release-keeper for `app`'s domains. Returns 0 with *reply_p set
//  (caller owns it), or an exit code after printing why.
static int
s_list (cli_t *cli, const char *app, msg_t **reply_p)
{
    msg_t *req = cli_app_request (cli, MSG_TYPE_DOMAIN_LIST, DOMAINS_ACTOR, "app", app);
    if (!req)
        return CLI_EXIT_NOBROKER;
    return cli_call (cli, DOMAINS_ACTOR, &req, CLI_TIMEOUT_MS, reply_p);
}

//  Sends a durable domain.add or domain.remove of `host`. Returns 0 with
//  *reply_p set (caller owns it), or an exit code after printing why.
static int
s_change (cli_t *cli, msg_type_id_t type, const char *app, const char *host, msg_t **reply_p)
{
    msg_t *req = cli_app_request (cli, type, DOMAINS_ACTOR, "app", app);
    if (!req)
        return CLI_EXIT_NOBROKER;
    //  Journaled before release-keeper applies it; the answer is its own.
    req->durable = true;
    msg_set_str (req, "hostname", host);
    msg_set_str (req, "by", cli_user ());
    return cli_call (cli, DOMAINS_ACTOR, &req, CLI_TIMEOUT_MS, reply_p);
}

int
cli_cmd_domains (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno domains [-a APP] [--json]\n"
                 "Lists the app's domains: the default ones (APP.localhost, and\n"
                 "APP.$DYNOD_BASE_DOMAIN when set), then the custom ones with the DNS\n"
                 "record each needs and its DNS target.\n"
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
            s_print_list (app, json_object_get (reply->body, "domains"));
        msg_destroy (&reply);
    }
    free (app);
    return code;
}

//  domains:add and domains:remove: one HOST operand.
static int
s_one (cli_t *cli, int argc, char **argv, const char *usage, msg_type_id_t type)
{
    const cli_spec_t spec = {
        .usage = usage,
        .takes_app = true,
        .min_operands = 1,
        .max_operands = 1,
        .too_few = "no domain name given",
    };
    char *app;
    int code = cli_parse (cli, argc, argv, &spec, NULL, &app);
    if (code >= 0)
        return code;
    msg_t *reply;
    code = s_change (cli, type, app, argv [optind], &reply);
    if (code == CLI_EXIT_OK) {
        const char *host = msg_str (reply, "hostname", argv [optind]);
        if (cli->json)
            cli_print_json (reply->body);
        else if (type == MSG_TYPE_DOMAIN_ADD)
            printf ("Adding %s to %s %s... done\n"
                    "Configure your app's DNS provider to point to the DNS Target %s.\n",
                    host, DOMAINS_APP_MARK, app, msg_str (reply, "dns_target", ""));
        else
            printf ("Removing %s from %s %s... done\n", host, DOMAINS_APP_MARK, app);
        msg_destroy (&reply);
    }
    free (app);
    return code;
}

int
cli_cmd_domains_add (cli_t *cli, int argc, char **argv)
{
    return s_one (cli, argc, argv,
                  "usage: dyno domains:add HOST [-a APP] [--json]\n"
                  "Adds a custom domain (www.example.com, or a wildcard *.example.com) to the\n"
                  "app and prints the DNS target to point it at (a CNAME; ALIAS or ANAME for\n"
                  "a root domain). A domain belongs to one app; at most 1000 per app.\n"
                  CLI_USAGE_APP,
                  MSG_TYPE_DOMAIN_ADD);
}

int
cli_cmd_domains_remove (cli_t *cli, int argc, char **argv)
{
    return s_one (cli, argc, argv,
                  "usage: dyno domains:remove HOST [-a APP] [--json]\n"
                  "Removes a custom domain from the app; the router stops answering for it.\n"
                  CLI_USAGE_APP,
                  MSG_TYPE_DOMAIN_REMOVE);
}

int
cli_cmd_domains_clear (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno domains:clear [-a APP] [--json]\n"
                 "Removes every custom domain of the app (the default ones stay).\n"
                 CLI_USAGE_APP,
        .takes_app = true,
    };
    char *app;
    int code = cli_parse (cli, argc, argv, &spec, NULL, &app);
    if (code >= 0)
        return code;
    msg_t *list;
    code = s_list (cli, app, &list);
    if (code != CLI_EXIT_OK) {
        free (app);
        return code;
    }
    size_t i;
    json_t *domain;
    json_array_foreach (json_object_get (list->body, "domains"), i, domain) {
        if (strcmp (s_field (domain, "kind"), "custom") != 0)
            continue;
        msg_t *reply;
        code = s_change (cli, MSG_TYPE_DOMAIN_REMOVE, app, s_field (domain, "hostname"), &reply);
        msg_destroy (&reply);
        if (code != CLI_EXIT_OK)
            break;
    }
    msg_destroy (&list);
    if (code == CLI_EXIT_OK && cli->json) {
        code = s_list (cli, app, &list);
        if (code == CLI_EXIT_OK)
            cli_print_json (list->body);
        msg_destroy (&list);
    }
    else if (code == CLI_EXIT_OK)
        printf ("Removing all domains from %s %s... done\n", DOMAINS_APP_MARK, app);
    free (app);
    return code;
}
