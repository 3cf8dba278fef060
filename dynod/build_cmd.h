//  build_cmd - `dynod build`, the hidden subcommand that runs one build
//
//  See build_cmd.c. Declared apart from dynod.h so the subcommand stays
//  with the deploy code it belongs to.

#ifndef DND_BUILD_CMD_H
#define DND_BUILD_CMD_H

//  Runs one build; argv[0] is the subcommand name. Returns the exit code.
int dnd_cmd_build (int argc, char **argv);

#endif
