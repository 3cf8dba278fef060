//  words - the wording of the dyno-supervisor's own log lines
//
//  Owns: the text of every `dynod[web.1]` line, worded as Heroku's dyno
//  manager words it (docs/dynos.md lists them; heroku.md sections 1.1,
//  1.4, 1.5 and 1.7 are the reference). The fixed texts are macros; the
//  two with figures in them are formatted here. Pure.

#ifndef SUP_WORDS_H
#define SUP_WORDS_H

#include <stddef.h>
#include <stdint.h>

#define SUP_SAY_STATE       "State changed from %s to %s"
#define SUP_SAY_STARTING    "Starting process with command `%s`"
#define SUP_SAY_EXITED      "Process exited with status %d"
#define SUP_SAY_SIGTERM     "Stopping all processes with SIGTERM"
#define SUP_SAY_SIGKILL     "Stopping process with SIGKILL"
#define SUP_SAY_CYCLING     "Cycling"
#define SUP_SAY_START_FAIL  "Error starting process: %s"
#define SUP_SAY_R10         "Error R10 (Boot timeout) -> %s process failed to bind to $PORT within %s of launch"
#define SUP_SAY_R10_HEALTH  "Error R10 (Boot timeout) -> %s process failed to pass its health check on %s within %s of launch"
#define SUP_SAY_R12         "Error R12 (Exit timeout) -> Process failed to exit within %s of SIGTERM"
#define SUP_SAY_R14         "Error R14 (Memory quota exceeded)"
#define SUP_SAY_R15         "Error R15 (Memory quota vastly exceeded)"
#define SUP_SAY_HUP         "Client connection closed. Sending SIGHUP to all processes"
#define SUP_SAY_R16         "Error R16 (Detached)"

#define SUP_WORDS_MAX       128         // bytes of a formatted figure, with NUL

//  "60 seconds", "1 second", "0.5 seconds" for `ms` into out.
void sup_words_seconds (int64_t ms, char out [SUP_WORDS_MAX]);

//  "Process running mem=600M(117.2%)": `bytes` used against a quota of
//  `quota_mb` MB (M = MiB, as the quota).
void sup_words_mem (int64_t bytes, int64_t quota_mb, char out [SUP_WORDS_MAX]);

//  "Web" for "web", else the type as it is, for R10's "Web process ...".
void sup_words_type (const char *type, char out [SUP_WORDS_MAX]);

#endif
