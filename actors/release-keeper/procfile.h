//  procfile - Procfile and buildpack `bin/release` parsing, UTF-8 checks
//
//  Pure functions, no state, no I/O: the build runner (builder.c) reads the
//  files and hands their bytes here; the fuzz target drives them directly.
//
//  Procfile rules (Heroku's): one `name: command` per line; names
//  [A-Za-z0-9_-]+ (at most REL_PROC_NAME_MAX bytes); blank lines and lines
//  starting with `#` are ignored; spaces around names and commands are
//  trimmed; CRLF line ends are accepted. Anything else is refused with the
//  line number and the line's text.
//
//  `bin/release` output: YAML (libyaml), whose top-level mapping's
//  `default_process_types` mapping gives the types, block or flow style:
//      ---
//      default_process_types:
//        web: bundle exec puma
//      (or: default_process_types: {web: bundle exec puma})
//  Pairs that break the Procfile's rules (name, a one-line non-empty
//  command) are skipped; YAML that does not parse gives no types.

#ifndef REL_PROCFILE_H
#define REL_PROCFILE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define REL_PROCFILE_MAX     (64 * 1024)    // bytes of a Procfile, at most
#define REL_PROC_TYPES_MAX   100            // process types, at most
#define REL_PROC_NAME_MAX    63             // bytes of a process type name
#define REL_PROCFILE_WHY_MAX 256            // bytes of a refusal, with NUL

//  Parses a Procfile's bytes. Returns an object of name -> command (caller
//  owns result; empty when the file declares no types), or NULL with a
//  one-line reason in `why` (`Procfile line 3: 'web' is not 'name: command'`).
json_t *rel_procfile_parse (const char *text, size_t len, char why [REL_PROCFILE_WHY_MAX]);

//  True when `name` (`len` bytes) is a valid process type name.
bool rel_proc_name_valid (const char *name, size_t len);

//  The default_process_types of `bin/release` output. Never NULL: an object
//  of name -> command, empty when there are none. Caller owns result.
json_t *rel_release_types_parse (const char *text, size_t len);

//  How many leading bytes of `s` are valid UTF-8 (no NUL). Equals `len`
//  when all of it is.
size_t rel_utf8_valid_prefix (const char *s, size_t len);

//  Copies `len` bytes of `s` into `out` (at least len + 1 bytes), every
//  byte that is not part of valid UTF-8 (and NUL) replaced with '?'.
void rel_utf8_clean (const char *s, size_t len, char *out);

#endif
