//  domains - release-keeper's custom domains and maintenance mode
//
//  Accepts: domain.add (durable), domain.remove (durable), domain.list,
//           maintenance.set (durable).
//  Emits:   domain.info (answering domain.add and domain.remove),
//           domain.list.reply, app.info (answering maintenance.set),
//           error; route.app (route.c) after every change; API log lines
//           (`Add HOST domain by USER`, `Remove HOST domain by USER`,
//           `Enable maintenance mode by USER`, `Disable maintenance mode
//           by USER`) to log-plex.
//  State:   each app's `domains` and `maintenance` in rel_state_t's `apps`
//           (see rel_state.h), so the snapshot holds them.
//
//  Rules (Heroku's): a custom domain is an RFC 1123 host name of at least
//  two labels, at most 253 bytes, stored lower case, no trailing dot; a
//  wildcard `*` may only be its whole first label. A domain belongs to one
//  app. Default domains (`APP.localhost`, `APP.<DYNOD_BASE_DOMAIN>`) are
//  every app's by its name: nothing under `localhost`, nor one label under
//  the base domain, can be added. At most REL_DOMAINS_MAX per app. Each
//  gets a DNS target `word-word-<12 hex>.<base domain>` drawn from the
//  domain.add's id, so a replay draws the same one.
//
//  Repeats: adding a domain the app has answers the record it has (a
//  replayed or re-sent domain.add changes nothing); removing one it does
//  not have is an error that changes nothing.

#include "rel_state.h"
#include "apps.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REL_DOMAINS_MAX       1000      // custom domains per app (Heroku's limit)
#define REL_HOST_MAX          253       // bytes of a host name
#define REL_LABEL_MAX         63        // bytes of one label
#define REL_HOST_WHY_MAX      96        // bytes of a rejection reason, with NUL
#define REL_LOCAL_DOMAIN      "localhost"
#define REL_TARGET_DOMAIN     "dynod.localhost"     // DNS targets without a base domain
#define REL_TARGET_HEX        12        // hex digits in a DNS target
#define REL_TARGET_MASK       0xffffffffffffULL     // 12 hex digits
#define REL_TARGET_ATTEMPTS   8         // DNS targets tried before giving up

//  The base domain (`example.net`: apps are also APP.example.net), or NULL.
//  From the environment, which is the same on every replay. Borrowed.
static const char *
s_base_domain (void)
{
    const char *base = getenv ("DYNOD_BASE_DOMAIN");
    return base && *base ? base : NULL;
}

//  Who asked: `by`, or `unknown`. Borrowed.
static const char *
s_by (const msg_t *msg)
{
    const char *by = msg_str (msg, "by", "");
    return *by ? by : "unknown";
}

// ---------------------------------------------------------------------------
//  Host names

//  True when `label` (`len` bytes) is an RFC 1123 label: letters, digits and
//  inner hyphens, 1 to 63 bytes.
static bool
s_label_valid (const char *label, size_t len)
{
    if (len == 0 || len > REL_LABEL_MAX || label [0] == '-' || label [len - 1] == '-')
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum ((unsigned char) label [i]) && label [i] != '-')
            return false;
    return true;
}

//  Checks `given` and writes it lower case into `host` (REL_HOST_MAX + 1
//  bytes). Returns true, or false with why in `why`.
static bool
s_host_parse (const char *given, char host [REL_HOST_MAX + 1], char why [REL_HOST_WHY_MAX])
{
    size_t len = strlen (given);
    if (len == 0 || len > REL_HOST_MAX) {
        snprintf (why, REL_HOST_WHY_MAX, "it must be 1 to %d characters long", REL_HOST_MAX);
        return false;
    }
    for (size_t i = 0; i <= len; i++)
        host [i] = (char) tolower ((unsigned char) given [i]);
    if (host [len - 1] == '.') {
        snprintf (why, REL_HOST_WHY_MAX, "it must not end with a dot");
        return false;
    }
    size_t labels = 0;
    const char *label = host, *last = host;
    while (label) {
        const char *dot = strchr (label, '.');
        size_t n = dot ? (size_t) (dot - label) : strlen (label);
        bool wildcard = labels == 0 && n == 1 && label [0] == '*';
        if (!wildcard && !s_label_valid (label, n)) {
            snprintf (why, REL_HOST_WHY_MAX, n == 1 && label [0] == '*'
                      ? "a wildcard '*' may only be the first label"
                      : "each label must be 1 to 63 letters, digits or inner hyphens");
            return false;
        }
        last = label;
        labels++;
        label = dot ? dot + 1 : NULL;
    }
    if (labels < 2) {
        snprintf (why, REL_HOST_WHY_MAX, "it must have at least two labels (www.example.com)");
        return false;
    }
    if (host [0] == '*' && labels < 3) {
        snprintf (why, REL_HOST_WHY_MAX, "a wildcard needs a domain of two labels (*.example.com)");
        return false;
    }
    bool numeric = true;
    for (const char *c = last; *c; c++)
        numeric = numeric && isdigit ((unsigned char) *c);
    if (numeric) {
        snprintf (why, REL_HOST_WHY_MAX, "an IP address is not a domain name");
        return false;
    }
    return true;
}

//  True when `host` ends with `.suffix`; sets *first_label_only when what
//  precedes it is one label (or the wildcard).
static bool
s_under (const char *host, const char *suffix, bool *first_label_only)
{
    size_t hl = strlen (host), sl = strlen (suffix);
    if (hl <= sl + 1 || host [hl - sl - 1] != '.' || strcmp (host + hl - sl, suffix) != 0)
        return false;
    *first_label_only = memchr (host, '.', hl - sl - 1) == NULL;
    return true;
}

//  True when `host` is in the default domains' space: under `localhost`,
//  or one label under the base domain (every app's `APP.<base>`).
static bool
s_default_space (const char *host)
{
    bool one = false;
    if (s_under (host, REL_LOCAL_DOMAIN, &one))
        return true;
    const char *base = s_base_domain ();
    return base && (strcmp (host, base) == 0 || (s_under (host, base, &one) && one));
}

// ---------------------------------------------------------------------------
//  Records

//  The custom domain `host` of `app`, or NULL; its index in *index_p.
//  Borrowed.
static json_t *
s_find (const json_t *app, const char *host, size_t *index_p)
{
    size_t i;
    json_t *domain;
    json_array_foreach (json_object_get (app, "domains"), i, domain) {
        const char *its = json_string_value (json_object_get (domain, "hostname"));
        if (its && strcmp (its, host) == 0) {
            if (index_p)
                *index_p = i;
            return domain;
        }
    }
    return NULL;
}

//  The app other than `name` that has `host`, or NULL. Borrowed.
static const char *
s_owner (rel_state_t *self, const char *name, const char *host)
{
    const char *key;
    json_t *app;
    json_object_foreach (self->apps, key, app)
        if (strcmp (key, name) != 0 && s_find (app, host, NULL))
            return key;
    return NULL;
}

//  True when some app's domain has `target` as its DNS target.
static bool
s_target_taken (rel_state_t *self, const char *target)
{
    const char *key;
    json_t *app;
    json_object_foreach (self->apps, key, app) {
        size_t i;
        json_t *domain;
        json_array_foreach (json_object_get (app, "domains"), i, domain)
            if (strcmp (json_string_value (json_object_get (domain, "dns_target")), target) == 0)
                return true;
    }
    return false;
}

//  A DNS target for the domain `msg` adds: Heroku's word-word-<hex>, both
//  drawn from a hash of the message id, unique among every app's domains.
//  Caller owns result.
static char *
s_target_new (rel_state_t *self, const msg_t *msg)
{
    const char *base = s_base_domain ();
    uint64_t seed = rel_app_seed_from_id (msg->id);
    char *target = NULL;
    for (unsigned attempt = 0; attempt < REL_TARGET_ATTEMPTS; attempt++) {
        char words [REL_APP_NAME_MAX + 1];
        rel_app_name_random (seed, attempt, words, sizeof words);
        char *digits = strrchr (words, '-');    // adjective-noun-NNNN: drop -NNNN
        if (digits)
            *digits = 0;
        //  Another mix of the same hash for the hex part (splitmix64's).
        uint64_t mix = seed + (attempt + 1) * 0x9e3779b97f4a7c15ULL;
        mix = (mix ^ (mix >> 30)) * 0xbf58476d1ce4e5b9ULL;
        mix = (mix ^ (mix >> 27)) * 0x94d049bb133111ebULL;
        mix ^= mix >> 31;
        free (target);
        target = act_sprintf ("%s-%0*llx.%s", words, REL_TARGET_HEX,
                              (unsigned long long) (mix & REL_TARGET_MASK),
                              base ? base : REL_TARGET_DOMAIN);
        if (!s_target_taken (self, target))
            break;
    }
    return target;
}

//  The fields of `domain.info` for a custom domain record of app `name`,
//  with its ACM status when ACM is on (acm.c). Caller owns result.
static json_t *
s_custom_view (rel_state_t *self, const char *name, const json_t *domain)
{
    json_t *view = json_deep_copy (domain);
    json_object_set_new (view, "app", json_string (name));
    json_object_set_new (view, "kind", json_string ("custom"));
    rel_acm_domain_view (self, name, json_string_value (json_object_get (domain, "hostname")), view);
    return view;
}

static int
s_reply_domain (rel_state_t *self, act_t *act, const msg_t *req, const char *name,
                const json_t *domain)
{
    msg_t *reply = act_msg_new (act, MSG_TYPE_DOMAIN_INFO, NULL);
    json_decref (reply->body);
    reply->body = s_custom_view (self, name, domain);
    return act_reply (act, req, &reply);
}

//  The app the request names, or NULL after answering with an error.
static json_t *
s_app_or_refuse (rel_state_t *self, act_t *act, const msg_t *msg, const char **name_p)
{
    *name_p = msg_str (msg, "app", "");
    json_t *app = rel_app (self, *name_p);
    if (!app)
        act_reply_error (act, msg, ACT_ENOTFOUND, "app '%s' does not exist", *name_p);
    return app;
}

//  The host name a domain.add or domain.remove names, checked and lower
//  case in `host`; false after answering with an error.
static bool
s_host_or_refuse (act_t *act, const msg_t *msg, char host [REL_HOST_MAX + 1])
{
    const char *given = msg_str (msg, "hostname", "");
    char why [REL_HOST_WHY_MAX];
    if (s_host_parse (given, host, why))
        return true;
    char quoted [REL_HOST_MAX + 8];
    act_quote_line (given, REL_HOST_MAX + 1, quoted, sizeof quoted);
    act_reply_error (act, msg, -EINVAL, "'%s' is not a valid domain name: %s", quoted, why);
    return false;
}

// ---------------------------------------------------------------------------
//  Handlers

int
rel_on_domain_add (void *state, act_t *act, msg_t *msg)
{
    rel_state_t *self = state;
    const char *name;
    json_t *app = s_app_or_refuse (self, act, msg, &name);
    char host [REL_HOST_MAX + 1];
    if (!app || !s_host_or_refuse (act, msg, host))
        return 0;
    json_t *domain = s_find (app, host, NULL);
    if (domain)
        return s_reply_domain (self, act, msg, name, domain);     // a repeat
    if (s_default_space (host))
        return act_reply_error (act, msg, -EINVAL,
                                "%s is a default domain name and cannot be added", host);
    if (s_owner (self, name, host))
        return act_reply_error (act, msg, -EEXIST, "%s is already in use by another app", host);
    json_t *domains = json_object_get (app, "domains");
    if (!domains) {
        domains = json_array ();
        json_object_set_new (app, "domains", domains);
    }
    if (json_array_size (domains) >= REL_DOMAINS_MAX)
        return act_reply_error (act, msg, -ENOSPC,
                                "%s already has %d custom domains, the most an app may have",
                                name, REL_DOMAINS_MAX);
    char *target = s_target_new (self, msg);
    domain = json_pack ("{s:s, s:s, s:I}", "hostname", host, "dns_target", target,
                        "created_ms", (json_int_t) act_now (act));
    free (target);
    json_array_append_new (domains, domain);
    act_log_info ("app '%s': added domain '%s'", name, host);
    act_emit_log (act, name, "api", "Add %s domain by %s", host, s_by (msg));
    rel_route_publish (self, act, name);
    return s_reply_domain (self, act, msg, name, domain);
}

int
rel_on_domain_remove (void *state, act_t *act, msg_t *msg)
{
    rel_state_t *self = state;
    const char *name;
    json_t *app = s_app_or_refuse (self, act, msg, &name);
    char host [REL_HOST_MAX + 1];
    if (!app || !s_host_or_refuse (act, msg, host))
        return 0;
    size_t index;
    json_t *domain = s_find (app, host, &index);
    if (!domain) {
        if (s_default_space (host))
            return act_reply_error (act, msg, -EINVAL,
                                    "%s is a default domain name and cannot be removed", host);
        return act_reply_error (act, msg, ACT_ENOTFOUND, "%s is not a domain of %s", host, name);
    }
    json_incref (domain);
    json_array_remove (json_object_get (app, "domains"), index);
    act_log_info ("app '%s': removed domain '%s'", name, host);
    act_emit_log (act, name, "api", "Remove %s domain by %s", host, s_by (msg));
    rel_route_publish (self, act, name);
    s_reply_domain (self, act, msg, name, domain);
    json_decref (domain);
    return 0;
}

static int
s_by_hostname (const void *a, const void *b)
{
    const char *x = json_string_value (json_object_get (*(json_t *const *) a, "hostname"));
    const char *y = json_string_value (json_object_get (*(json_t *const *) b, "hostname"));
    return strcmp (x, y);
}

int
rel_on_domain_list (void *state, act_t *act, msg_t *msg)
{
    rel_state_t *self = state;
    const char *name;
    json_t *app = s_app_or_refuse (self, act, msg, &name);
    if (!app)
        return 0;
    json_t *list = json_array ();
    char *local = act_sprintf ("%s.%s", name, REL_LOCAL_DOMAIN);
    json_array_append_new (list, json_pack ("{s:s, s:s, s:s}", "app", name, "hostname", local,
                                            "kind", "default"));
    free (local);
    const char *base = s_base_domain ();
    if (base) {
        char *host = act_sprintf ("%s.%s", name, base);
        json_array_append_new (list, json_pack ("{s:s, s:s, s:s}", "app", name, "hostname", host,
                                                "kind", "default"));
        free (host);
    }
    json_t *domains = json_object_get (app, "domains");
    size_t n = json_array_size (domains);
    json_t **sorted = act_calloc (n + 1, sizeof *sorted);
    for (size_t i = 0; i < n; i++)
        sorted [i] = json_array_get (domains, i);
    qsort (sorted, n, sizeof *sorted, s_by_hostname);
    for (size_t i = 0; i < n; i++)
        json_array_append_new (list, s_custom_view (self, name, sorted [i]));
    free (sorted);
    msg_t *reply = act_msg_new (act, MSG_TYPE_DOMAIN_LIST_REPLY, NULL);
    msg_set_str (reply, "app", name);
    msg_set_json (reply, "domains", list);
    return act_reply (act, msg, &reply);
}

int
rel_on_maintenance_set (void *state, act_t *act, msg_t *msg)
{
    rel_state_t *self = state;
    const char *name;
    json_t *app = s_app_or_refuse (self, act, msg, &name);
    if (!app)
        return 0;
    bool on = json_is_true (json_object_get (msg->body, "on"));
    //  Setting what is already set changes nothing and says nothing.
    if (json_is_true (json_object_get (app, "maintenance")) != on) {
        json_object_set_new (app, "maintenance", json_boolean (on));
        act_log_info ("app '%s': maintenance mode %s", name, on ? "on" : "off");
        act_emit_log (act, name, "api", "%s maintenance mode by %s", on ? "Enable" : "Disable",
                      s_by (msg));
        rel_route_publish (self, act, name);
    }
    return rel_reply_app_info (act, msg, name, app);
}
