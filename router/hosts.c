//  hosts - which app a request's Host names, and the app's routing flags
//
//  Owns two tables behind one read-write lock: custom domain -> app (exact
//  names and wildcards `*.example.com`, as release-keeper stored them:
//  lower case, no trailing dot) and app -> flags (released, maintenance)
//  with the list of its domains, so the next `route.app` for the app can
//  take back exactly what the last one gave.
//
//  Threading: rtr_hosts_apply runs on the actor thread and takes the lock
//  for writing; rtr_hosts_lookup runs on the HTTP worker threads and takes
//  it for reading, for two hash lookups and a copy of the app's name.
//
//  Resolution: an exact custom domain, then a default name (`APP.localhost`,
//  `APP.<base domain>`: one label before the suffix), then a wildcard one
//  label deep (`a.example.com` matches `*.example.com`; `a.b.example.com`
//  and `example.com` do not). Release-keeper refuses custom domains in the
//  default names' space, so the order only matters between exact and
//  wildcard: exact wins.

#include "hosts.h"

#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../actors/common/act_base.h"

#define RTR_HOST_MAX        253     // bytes of a host name
#define RTR_LOCAL_DOMAIN    "localhost"

struct rtr_hosts {
    pthread_rwlock_t lock;
    char *base_domain;          // owned, lower case; NULL when none
    json_t *domains;            // owned: { host: app name }
    json_t *apps;               // owned: { app: { released, maintenance, domains: [host] } }
};

rtr_hosts_t *
rtr_hosts_new (const char *base_domain)
{
    rtr_hosts_t *self = act_calloc (1, sizeof *self);
    pthread_rwlock_init (&self->lock, NULL);
    if (base_domain && *base_domain) {
        self->base_domain = act_strdup (base_domain);
        for (char *c = self->base_domain; *c; c++)
            *c = (char) tolower ((unsigned char) *c);
    }
    self->domains = json_object ();
    self->apps = json_object ();
    return self;
}

void
rtr_hosts_destroy (rtr_hosts_t **self_p)
{
    rtr_hosts_t *self = *self_p;
    if (!self)
        return;
    pthread_rwlock_destroy (&self->lock);
    json_decref (self->domains);
    json_decref (self->apps);
    free (self->base_domain);
    free (self);
    *self_p = NULL;
}

//  Takes back the domains app `name` holds (only those still its own: a
//  newer picture of another app may have taken one). Lock held.
static void
s_forget (rtr_hosts_t *self, const char *name)
{
    json_t *app = json_object_get (self->apps, name);
    size_t i;
    json_t *host;
    json_array_foreach (json_object_get (app, "domains"), i, host) {
        const char *owner = json_string_value (json_object_get (self->domains,
                                                                json_string_value (host)));
        if (owner && strcmp (owner, name) == 0)
            json_object_del (self->domains, json_string_value (host));
    }
    json_object_del (self->apps, name);
}

void
rtr_hosts_apply (rtr_hosts_t *self, const json_t *route_app)
{
    const char *name = json_string_value (json_object_get (route_app, "app"));
    if (!name || strlen (name) >= RTR_APP_MAX)
        return;
    bool destroyed = json_is_true (json_object_get (route_app, "destroyed"));
    //  Built outside the lock: only the swap is inside.
    json_t *app = NULL;
    if (!destroyed) {
        json_t *domains = json_array ();
        size_t i;
        json_t *host;
        json_array_foreach (json_object_get (route_app, "domains"), i, host)
            if (json_is_string (host) && json_string_length (host) <= RTR_HOST_MAX)
                json_array_append (domains, host);
        app = json_pack ("{s:b, s:b, s:o}",
                         "released", json_is_true (json_object_get (route_app, "released")),
                         "maintenance", json_is_true (json_object_get (route_app, "maintenance")),
                         "domains", domains);
    }
    pthread_rwlock_wrlock (&self->lock);
    s_forget (self, name);
    if (app) {
        size_t i;
        json_t *host;
        json_array_foreach (json_object_get (app, "domains"), i, host)
            json_object_set_new (self->domains, json_string_value (host), json_string (name));
        json_object_set_new (self->apps, name, app);
    }
    pthread_rwlock_unlock (&self->lock);
}

//  When `host` is `LABEL.suffix`, copies LABEL into `app` and returns true.
static bool
s_default_name (const char *host, size_t len, const char *suffix, char app [RTR_APP_MAX])
{
    if (!suffix)
        return false;
    size_t sl = strlen (suffix);
    if (len <= sl + 1 || host [len - sl - 1] != '.' || memcmp (host + len - sl, suffix, sl) != 0)
        return false;
    size_t label = len - sl - 1;
    if (label >= RTR_APP_MAX || memchr (host, '.', label))
        return false;
    memcpy (app, host, label);
    app [label] = 0;
    return true;
}

//  The app's state, lock held for reading.
static rtr_host_t
s_flags (rtr_hosts_t *self, const char *name)
{
    json_t *app = json_object_get (self->apps, name);
    if (!app)
        return RTR_HOST_OK;     // not told of yet: the routing table decides
    if (json_is_true (json_object_get (app, "maintenance")))
        return RTR_HOST_MAINTENANCE;
    if (!json_is_true (json_object_get (app, "released")))
        return RTR_HOST_NO_RELEASE;
    return RTR_HOST_OK;
}

//  Writes the owner of custom domain `host` into `app`. Lock held.
static bool
s_custom (rtr_hosts_t *self, const char *host, char app [RTR_APP_MAX])
{
    const char *owner = json_string_value (json_object_get (self->domains, host));
    if (!owner)
        return false;
    snprintf (app, RTR_APP_MAX, "%s", owner);
    return true;
}

rtr_host_t
rtr_hosts_lookup (rtr_hosts_t *self, const char *host, size_t host_len, char app [RTR_APP_MAX])
{
    //  Lower case, without `:port` and one trailing dot; a bracketed IPv6
    //  literal names no app.
    char name [RTR_HOST_MAX + 3];       // `*.` replaces the first label at worst
    size_t len = 0;
    app [0] = 0;                        // also when the name is refused below
    for (; len < host_len && host [len] != ':'; len++) {
        if (len > RTR_HOST_MAX || host [len] == '[' || host [len] == 0)
            return RTR_HOST_UNKNOWN;
        name [len] = (char) tolower ((unsigned char) host [len]);
    }
    if (len < host_len) {               // `:PORT`: 1 to 5 digits, nothing else
        size_t digits = host_len - len - 1;
        if (digits == 0 || digits > 5)
            return RTR_HOST_UNKNOWN;
        for (size_t i = len + 1; i < host_len; i++)
            if (!isdigit ((unsigned char) host [i]))
                return RTR_HOST_UNKNOWN;
    }
    if (len > 0 && name [len - 1] == '.')
        len--;
    if (len == 0 || len > RTR_HOST_MAX)
        return RTR_HOST_UNKNOWN;
    name [len] = 0;
    pthread_rwlock_rdlock (&self->lock);
    bool found = s_custom (self, name, app)
              || s_default_name (name, len, RTR_LOCAL_DOMAIN, app)
              || s_default_name (name, len, self->base_domain, app);
    if (!found) {
        char *dot = strchr (name, '.');
        if (dot && strchr (dot + 1, '.')) {
            //  `*.rest`: at least two labels after the wildcard.
            size_t rest = strlen (dot);
            memmove (name + 1, dot, rest + 1);
            name [0] = '*';
            found = s_custom (self, name, app);
        }
    }
    rtr_host_t result = found ? s_flags (self, app) : RTR_HOST_UNKNOWN;
    pthread_rwlock_unlock (&self->lock);
    if (!found)
        app [0] = 0;
    return result;
}
