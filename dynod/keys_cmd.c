//  dnd keys - `dynod keys`: CURVE key pairs, the broker's allow-list, and
//  the host identity and CURVE set-up that up, broker and actor share
//
//      dynod keys [--data DIR | --out FILE]    create the pair if missing,
//                                              print its public key
//      dynod keys allow KEY --host NAME [--actors a,b] [--data DIR]
//      dynod keys revoke KEY [--data DIR]
//      dynod keys list [--data DIR]
//
//  Files: DIR/keys/host.key (0600: `public=`, `secret=` lines), DIR/keys/
//  allowed (0600, broker/allow.h; a running broker re-reads it when it
//  changes), DIR/host-id (0600, 32 hex characters). Changes to the
//  allow-list are made under an flock on DIR/keys/allowed.lock and written
//  whole (a new file renamed over the old), so the broker never reads half
//  a list. Secret keys are never printed.

#include "dynod.h"
#include "../broker/allow.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

typedef struct {
    char *data;                 // owned
    const char *out;            // --out FILE, borrowed from argv
    const char *host;           // --host, borrowed
    const char *actors;         // --actors, borrowed
    const char *key;            // the operand, borrowed
} keys_args_t;

char *
dnd_host_key_path (const char *data)
{
    return act_sprintf ("%s/keys/host.key", data);
}

int
dnd_host_id (const char *data, char out [DND_HOST_ID_LEN + 1])
{
    char *path = act_sprintf ("%s/host-id", data);
    char *text = NULL;
    size_t len = 0;
    int rc = act_read_file (path, &text, &len);
    if (rc == 0) {
        len = strcspn (text, "\r\n");
        if (len != DND_HOST_ID_LEN || strspn (text, "0123456789abcdef") < DND_HOST_ID_LEN)
            rc = ACT_EPROTO;
        else
            snprintf (out, DND_HOST_ID_LEN + 1, "%.*s", DND_HOST_ID_LEN, text);
    }
    else if (rc == -ENOENT) {
        act_rng_t rng;
        act_rng_init (&rng, act_seed_from_os ());
        snprintf (out, DND_HOST_ID_LEN + 1, "%016llx%016llx", (unsigned long long) act_rng_next (&rng),
                  (unsigned long long) act_rng_next (&rng));
        rc = act_mkdir_p (data, 0700);
        if (rc == 0)
            rc = act_write_file (path, out, DND_HOST_ID_LEN, 0600);
    }
    free (text);
    free (path);
    return rc;
}

int
dnd_curve_for (const char *who, const char *endpoint, const char *data, const char *broker_key,
               act_curve_t *curve, bool *use)
{
    memset (curve, 0, sizeof *curve);
    if (!broker_key || !*broker_key)
        broker_key = getenv ("DYNOD_BROKER_KEY");
    *use = !act_endpoint_is_loopback (endpoint) || (broker_key && *broker_key);
    if (!*use)
        return 0;
    if (!broker_key || !*broker_key) {
        fprintf (stderr, "dynod %s: %s is not loopback, so it takes CURVE: pass --broker-key KEY "
                 "or set DYNOD_BROKER_KEY (the broker's `dynod keys`)\n", who, endpoint);
        return DND_EXIT_USAGE;
    }
    if (!act_key_valid (broker_key)) {
        fprintf (stderr, "dynod %s: the broker key is not a CURVE public key (40 Z85 characters)\n", who);
        return DND_EXIT_USAGE;
    }
    curve->server_key = broker_key;
    char *path = dnd_host_key_path (data);
    int rc = act_keypair_load (path, &curve->pair);
    if (rc == -ENOENT)
        fprintf (stderr, "dynod %s: no host key '%s': run `dynod keys --data %s` first\n", who, path, data);
    else if (rc)
        fprintf (stderr, "dynod %s: cannot use the host key '%s': %s\n", who, path,
                 rc == ACT_EPROTO ? "not a key file (public=, secret= lines)" : act_strerror (rc));
    free (path);
    return rc ? DND_EXIT_USAGE : 0;
}

// ---------------------------------------------------------------------------
//  The allow-list, changed under its lock

typedef int (keys_edit_fn) (brk_allow_t *list, const keys_args_t *args);

static int
s_edit_allow (const keys_args_t *args, keys_edit_fn *fn)
{
    char *dir = act_sprintf ("%s/keys", args->data);
    char *path = act_sprintf ("%s/allowed", dir);
    char *lock = act_sprintf ("%s/allowed.lock", dir);
    int code = DND_EXIT_FAIL, fd = -1;
    int rc = act_mkdir_p (dir, 0700);
    if (rc == 0 && ((fd = open (lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 || flock (fd, LOCK_EX)))
        rc = -errno;
    if (rc)
        fprintf (stderr, "dynod keys: cannot lock '%s': %s\n", lock, act_strerror (rc));
    char err [300];
    brk_allow_t *list = rc ? NULL : brk_allow_load (path, err, sizeof err);
    if (!rc && !list)
        fprintf (stderr, "dynod keys: %s; fix or remove the file first\n", err);
    if (list && (code = fn (list, args)) == DND_EXIT_OK) {
        char *text = brk_allow_format (list);
        rc = act_write_file (path, text, strlen (text), 0600);
        free (text);
        if (rc) {
            fprintf (stderr, "dynod keys: cannot write '%s': %s\n", path, act_strerror (rc));
            code = DND_EXIT_FAIL;
        }
    }
    brk_allow_destroy (&list);
    if (fd >= 0)
        close (fd);
    free (lock);
    free (path);
    free (dir);
    return code;
}

static int
s_allow_one (brk_allow_t *list, const keys_args_t *args)
{
    char copy [BRK_ALLOW_ACTORS_MAX];
    snprintf (copy, sizeof copy, "%s", args->actors ? args->actors : "");
    char *save = NULL;
    for (char *t = strtok_r (copy, ",", &save); t; t = strtok_r (NULL, ",", &save))
        if (!dnd_actor_find (t)) {
            fprintf (stderr, "dynod keys allow: no actor named '%.64s'\n", t);
            return DND_EXIT_USAGE;
        }
    char err [200];
    int rc = brk_allow_put (list, args->key, args->host, args->actors, err, sizeof err);
    if (rc) {
        fprintf (stderr, "dynod keys allow: %s\n", err);
        return rc == -EINVAL ? DND_EXIT_USAGE : DND_EXIT_FAIL;
    }
    return DND_EXIT_OK;
}

static int
s_revoke_one (brk_allow_t *list, const keys_args_t *args)
{
    if (brk_allow_remove (list, args->key) == 0)
        return DND_EXIT_OK;
    fprintf (stderr, "dynod keys revoke: that key is not on the allow-list\n");
    return DND_EXIT_FAIL;
}

static int s_allow (const keys_args_t *args) { return s_edit_allow (args, s_allow_one); }
static int s_revoke (const keys_args_t *args) { return s_edit_allow (args, s_revoke_one); }

static int
s_list (const keys_args_t *args)
{
    char *path = act_sprintf ("%s/keys/allowed", args->data);
    char err [300];
    brk_allow_t *list = brk_allow_load (path, err, sizeof err);
    free (path);
    if (!list) {
        fprintf (stderr, "dynod keys list: %s\n", err);
        return DND_EXIT_FAIL;
    }
    char *text = brk_allow_format (list);
    fputs (text, stdout);
    free (text);
    brk_allow_destroy (&list);
    return DND_EXIT_OK;
}

//  `dynod keys`: the host's (or --out's) pair, created if missing.
static int
s_show (const keys_args_t *args)
{
    char *path = args->out ? act_strdup (args->out) : dnd_host_key_path (args->data);
    act_keypair_t pair;
    bool created = false;
    int rc = act_keypair_ensure (path, &pair, &created);
    if (rc)
        fprintf (stderr, "dynod keys: cannot %s '%s': %s\n", created ? "create" : "read", path,
                 rc == ACT_EPROTO ? "not a key file (public=, secret= lines)" : act_strerror (rc));
    else
        printf ("%s\n", pair.public_key);
    act_keypair_wipe (&pair);
    free (path);
    return rc ? DND_EXIT_FAIL : DND_EXIT_OK;
}

// ---------------------------------------------------------------------------
//  Arguments

static const char s_usage [] =
    "usage: dynod keys [--data DIR | --out FILE]\n"
    "       dynod keys allow KEY --host NAME [--actors a,b] [--data DIR]\n"
    "       dynod keys revoke KEY [--data DIR]\n"
    "       dynod keys list [--data DIR]\n"
    "Without a subcommand: creates DIR/keys/host.key (or FILE; 0600) unless it exists and\n"
    "prints its public key. `allow` lets KEY connect to the broker's CURVE endpoint (--listen)\n"
    "and register the actors listed, from host NAME only (no --actors: clients only);\n"
    "`revoke` removes it, and the broker drops its live connections. The running broker\n"
    "re-reads DIR/keys/allowed when it changes.\n";

//  Parses options after the subcommand (argv[0]). `sub` is NULL for the
//  bare command. Returns -1 to go on, or an exit code.
static int
s_parse (keys_args_t *args, int argc, char **argv, const char *sub)
{
    static const struct option opts [] = {
        { "data", required_argument, NULL, 'd' },
        { "out", required_argument, NULL, 'o' },
        { "host", required_argument, NULL, 'H' },
        { "actors", required_argument, NULL, 'a' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool takes_key = sub && strcmp (sub, "list") != 0;
    //  Z85 keys may start with '-' (about one in 85): a key right after the
    //  subcommand is taken before getopt could read it as an option.
    char *shifted [argc + 1];
    if (takes_key && argc > 1 && act_key_valid (argv [1])) {
        args->key = argv [1];
        shifted [0] = argv [0];
        for (int i = 2; i <= argc; i++)
            shifted [i - 1] = argv [i];
        argv = shifted;
        argc--;
    }
    int c;
    optind = 0;
    while ((c = getopt_long (argc, argv, "d:o:H:a:h", opts, NULL)) != -1) {
        switch (c) {
            case 'd': free (args->data); args->data = act_strdup (optarg); break;
            case 'o': args->out = optarg; break;
            case 'H': args->host = optarg; break;
            case 'a': args->actors = optarg; break;
            case 'h': fputs (s_usage, stdout); return DND_EXIT_OK;
            default: return DND_EXIT_USAGE;
        }
    }
    bool ok = argc - optind == (takes_key && !args->key ? 1 : 0)
           && (!args->out || !sub) && (!args->host || (sub && strcmp (sub, "allow") == 0))
           && (!args->actors || args->host) && (!sub || strcmp (sub, "allow") != 0 || args->host);
    if (!ok) {
        fprintf (stderr, "dynod keys: bad arguments (see dynod keys --help)\n");
        return DND_EXIT_USAGE;
    }
    if (takes_key && !args->key && !act_key_valid (argv [optind])) {
        fprintf (stderr, "dynod keys %s: not a CURVE public key (40 Z85 characters)\n", sub);
        return DND_EXIT_USAGE;
    }
    if (takes_key && !args->key)
        args->key = argv [optind];
    if (!args->data)
        args->data = dnd_default_data_dir ();
    return -1;
}

//  The subcommands; NULL names the bare `dynod keys`.
static const struct {
    const char *name;
    int (*fn) (const keys_args_t *args);
} s_subcommands [] = {
    { NULL,     s_show },
    { "allow",  s_allow },
    { "revoke", s_revoke },
    { "list",   s_list },
};

int
dnd_cmd_keys (int argc, char **argv)
{
    const char *sub = argc > 1 && argv [1][0] != '-' ? argv [1] : NULL;
    size_t i = 0, count = sizeof s_subcommands / sizeof s_subcommands [0];
    while (i < count && (sub ? !s_subcommands [i].name || strcmp (s_subcommands [i].name, sub) != 0
                             : s_subcommands [i].name != NULL))
        i++;
    if (i == count) {
        fprintf (stderr, "dynod keys: unknown subcommand '%s' (see dynod keys --help)\n", sub);
        return DND_EXIT_USAGE;
    }
    //  getopt names argv[0] in its messages: make it `dynod keys allow`.
    char *name = sub ? act_sprintf ("dynod keys %s", sub) : NULL;
    if (sub)
        argv [1] = name;
    keys_args_t args = { 0 };
    int code = s_parse (&args, sub ? argc - 1 : argc, sub ? argv + 1 : argv, sub);
    if (code < 0)
        code = s_subcommands [i].fn (&args);
    if (sub)
        argv [1] = (char *) sub;
    free (name);
    free (args.data);
    return code;
}
