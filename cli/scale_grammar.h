//  scale_grammar - Heroku's ps:scale and ps:type arguments, parsed CLI-side
//
//  `web=3`, `worker+1`, `web-1`, `web=2:standard-2x` (ps:scale) and
//  `web=standard-2x` (a size only, ps:scale and ps:type) become the change
//  maps `ps.scale` carries: `type`, and `op` (`=`, `+`, `-`) with
//  `quantity`, and/or `size`. A type may hold dashes (`my-worker-2` is
//  my-worker minus 2, as Heroku's regex reads it). No I/O: the unit suite
//  links it alone.

#ifndef CLI_SCALE_GRAMMAR_H
#define CLI_SCALE_GRAMMAR_H

#include <jansson.h>
#include <stddef.h>

#define CLI_SCALE_MAX   100     // the largest quantity a change may name

//  Parses one argument. Returns 0 with *change_p set (caller owns it), or
//  -1 with `why` (one line) filled and *change_p NULL.
int cli_scale_parse (const char *arg, json_t **change_p, char *why, size_t len);

#endif
