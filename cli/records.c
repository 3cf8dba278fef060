//  records - which app a directory belongs to
//
//  ${XDG_CONFIG_HOME:-$HOME/.config}/dynod/apps.json is an object: absolute
//  directory -> app name, mode 0600. apps:create records the app for the
//  current directory; apps:destroy forgets it; app commands run in that
//  directory or below find it.

#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECORDS_FILE       "apps.json"
#define RECORDS_DIR_MODE   0700
#define RECORDS_FILE_MODE  0600

//  ${XDG_CONFIG_HOME:-$HOME/.config}/dynod; caller owns result.
static char *
s_config_dir (void)
{
    const char *base = getenv ("XDG_CONFIG_HOME");
    if (base && *base)
        return act_sprintf ("%s/dynod", base);
    const char *home = getenv ("HOME");
    return act_sprintf ("%s/.config/dynod", home ? home : "/root");
}

//  The records; an empty object when there are none. Caller owns result.
static json_t *
s_load (void)
{
    char *dir = s_config_dir ();
    char *path = act_sprintf ("%s/%s", dir, RECORDS_FILE);
    json_t *records = json_load_file (path, 0, NULL);
    free (path);
    free (dir);
    if (!json_is_object (records)) {
        json_decref (records);
        records = json_object ();
    }
    return records;
}

//  Writes the records back (0600, atomically). Returns 0 or -errno.
static int
s_save (const json_t *records)
{
    char *dir = s_config_dir ();
    int rc = act_mkdir_p (dir, RECORDS_DIR_MODE);
    if (rc == 0) {
        char *path = act_sprintf ("%s/%s", dir, RECORDS_FILE);
        char *text = json_dumps (records, JSON_INDENT (2) | JSON_SORT_KEYS);
        rc = act_write_file (path, text, strlen (text), RECORDS_FILE_MODE);
        free (text);
        free (path);
    }
    free (dir);
    return rc;
}

char *
cli_records_find (const char *cwd)
{
    json_t *records = s_load ();
    char *dir = act_strdup (cwd);
    char *app = NULL;
    for (;;) {
        json_t *name = json_object_get (records, dir);
        if (json_is_string (name)) {
            app = act_strdup (json_string_value (name));
            break;
        }
        char *slash = strrchr (dir, '/');
        if (!slash || dir [1] == 0)
            break;
        //  "/a" goes up to "/", "/a/b" to "/a".
        slash [slash == dir ? 1 : 0] = 0;
    }
    free (dir);
    json_decref (records);
    return app;
}

int
cli_records_set (const char *dir, const char *app)
{
    json_t *records = s_load ();
    json_object_set_new (records, dir, json_string (app));
    int rc = s_save (records);
    json_decref (records);
    return rc;
}

void
cli_records_forget (const char *app)
{
    json_t *records = s_load ();
    const char *dir;
    json_t *name, *tmp;
    bool changed = false;
    json_object_foreach_safe (records, tmp, dir, name)
        if (json_is_string (name) && strcmp (json_string_value (name), app) == 0) {
            json_object_del (records, dir);
            changed = true;
        }
    if (changed)
        s_save (records);
    json_decref (records);
}
