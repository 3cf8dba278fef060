//  hosts - which app a request's Host names, and the app's routing flags
//
//  Written by the actor thread (from `route.app` events), read by the HTTP
//  worker threads; every call takes the module's lock for a short copy.
//  Knows the default names `APP.localhost` and `APP.<base domain>` (base
//  domain from DYNOD_BASE_DOMAIN, none by default) and every app's custom
//  domains, each owned by one app.

#ifndef RTR_HOSTS_H
#define RTR_HOSTS_H

#include <jansson.h>
#include <stddef.h>

typedef struct rtr_hosts rtr_hosts_t;

#define RTR_APP_MAX     64      // bytes of an app name, with NUL

typedef enum {
    RTR_HOST_UNKNOWN,           // no app has this name: 404, no log line
    RTR_HOST_OK,                // route to app's web dynos
    RTR_HOST_MAINTENANCE,       // 503 maintenance page, at=info code=H80
    RTR_HOST_NO_RELEASE,        // 503, H81 (the app was never deployed)
} rtr_host_t;

//  `base_domain` may be NULL (copied). Caller owns result.
rtr_hosts_t *rtr_hosts_new (const char *base_domain);
void rtr_hosts_destroy (rtr_hosts_t **self_p);

//  Applies one `route.app` body (borrowed).
void rtr_hosts_apply (rtr_hosts_t *self, const json_t *route_app);

//  Resolves a Host header value (`host_len` bytes, any case, an optional
//  `:port`) into the app's name, written to `app`. A default name
//  (`APP.localhost`) of an app no `route.app` told of yet resolves to
//  RTR_HOST_OK with its name, so the routing table has the last word.
rtr_host_t rtr_hosts_lookup (rtr_hosts_t *self, const char *host, size_t host_len,
                             char app [RTR_APP_MAX]);

#endif
