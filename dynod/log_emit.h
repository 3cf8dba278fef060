//  dnd log-emit - send log lines to log-plex as any source (a test tool)
//
//  See log_emit.c for the options and the batching.

#ifndef DND_LOG_EMIT_H
#define DND_LOG_EMIT_H

//  `dynod log-emit`: returns the process exit code.
int dnd_cmd_log_emit (int argc, char **argv);

#endif
