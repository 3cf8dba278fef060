//  dnd paths - data directory, credentials file, API token and local CA
//
//  Owns no state.

#include "dynod.h"
#include "../router/localca.h"

#include <stdlib.h>
#include <string.h>

static char *
s_xdg (const char *var, const char *fallback, const char *leaf)
{
    const char *base = getenv (var);
    if (base && *base)
        return act_sprintf ("%s/%s", base, leaf);
    const char *home = getenv ("HOME");
    return act_sprintf ("%s/%s/%s", home && *home ? home : "/root", fallback, leaf);
}

char *
dnd_default_data_dir (void)
{
    return s_xdg ("XDG_DATA_HOME", ".local/share", "dynod");
}

char *
dnd_credentials_path (void)
{
    return s_xdg ("XDG_CONFIG_HOME", ".config", "dynod/credentials");
}

int
dnd_local_ca (const char *data, char **dir_p, char *err, size_t err_len)
{
    char *dir = act_sprintf ("%s/ca", data);
    bool created = false;
    int rc = rtr_localca_ensure (dir, &created, err, err_len);
    char *root = act_sprintf ("%s/root.pem", dir);
    char *copy = s_xdg ("XDG_CONFIG_HOME", ".config", "dynod/ca.pem");
    char *pem = NULL, *old = NULL;
    size_t len = 0, old_len = 0;
    if (rc == 0 && (rc = act_read_file (root, &pem, &len)) != 0)
        snprintf (err, err_len, "cannot read '%s': %s", root, act_strerror (rc));
    //  Written again only when it differs (a new data directory, a lost copy).
    if (rc == 0 && (act_read_file (copy, &old, &old_len) != 0 || old_len != len
                    || memcmp (old, pem, len) != 0)) {
        char *config = act_strdup (copy);
        *strrchr (config, '/') = 0;
        rc = act_mkdir_p (config, 0700);
        if (rc == 0)
            rc = act_write_file (copy, pem, len, 0644);
        if (rc)
            snprintf (err, err_len, "cannot write '%s': %s", copy, act_strerror (rc));
        free (config);
    }
    free (old);
    free (pem);
    free (copy);
    free (root);
    if (rc)
        free (dir);
    else
        *dir_p = dir;
    return rc;
}

char *
dnd_broker_endpoint (void)
{
    const char *env = getenv ("DYNOD_BROKER");
    if (env && *env)
        return act_strdup (env);
    char *path = dnd_credentials_path ();
    json_t *creds = json_load_file (path, 0, NULL);
    free (path);
    json_t *broker = json_object_get (creds, "broker");
    char *endpoint = act_strdup (json_is_string (broker) ? json_string_value (broker)
                                                         : "tcp://127.0.0.1:7700");
    json_decref (creds);
    return endpoint;
}

int
dnd_token_load (const char *data_dir, bool create, char **token_p)
{
    char *path = act_sprintf ("%s/api-token", data_dir);
    char *text = NULL;
    int rc = act_read_file (path, &text, NULL);
    if (rc == 0) {
        text [strcspn (text, "\r\n")] = 0;
        *token_p = text;
    }
    else if (create) {
        act_rng_t rng;
        act_rng_init (&rng, act_seed_from_os ());
        char token [33];
        act_rng_id (&rng, token);
        rc = act_mkdir_p (data_dir, 0700);
        if (rc == 0)
            rc = act_write_file (path, token, 32, 0600);
        if (rc == 0)
            *token_p = act_strdup (token);
    }
    free (path);
    return rc;
}

char *
dnd_token_for (const char *data_dir)
{
    const char *env = getenv ("DYNOD_API_TOKEN");
    if (env && *env)
        return act_strdup (env);
    char *token = NULL;
    if (data_dir && dnd_token_load (data_dir, false, &token) == 0)
        return token;
    return NULL;
}
