//  upload - streams an archive to release-keeper (dyno deploy, buildpacks:set)
//
//  upload.start, then upload.chunk messages of at most the chunk size
//  release-keeper named, with at most `window` of them unanswered (so the
//  pipe stays full without flooding anyone), then upload.finish with the
//  size and the SHA-256 computed on the way. A folder is archived while it
//  is sent: libarchive writes tar + gzip (level 1, for speed) straight into
//  the chunk buffer, so nothing is staged on disk and compressing overlaps
//  with sending and storing.

#ifndef CLI_UPLOAD_H
#define CLI_UPLOAD_H

#include "cli.h"

typedef struct cli_upload cli_upload_t;

//  Starts an upload of `purpose` (`source`, `buildpack`) for `app`.
//  Returns the upload (caller owns result), or NULL with *code set to the
//  exit code after printing one line.
cli_upload_t *cli_upload_new (cli_t *cli, const char *app, const char *purpose, int *code);
void cli_upload_destroy (cli_upload_t **self_p);

//  Sends `len` bytes. Returns 0 or an exit code after printing one line.
int cli_upload_write (cli_upload_t *self, const void *data, size_t len);
//  Sends everything `fd` yields until end of file. Returns as above.
int cli_upload_from_fd (cli_upload_t *self, int fd);
//  Sends the folder `dir` as a .tar.gz (entries relative to it, `.git`
//  left out). Returns as above.
int cli_upload_dir (cli_upload_t *self, const char *dir);

//  Sends what is buffered, waits for every chunk's answer, and finishes.
//  Returns 0 with `blob` (65 bytes: sha256 hex) and *size_p set, or an
//  exit code after printing one line.
int cli_upload_finish (cli_upload_t *self, char blob [65], int64_t *size_p);

#endif
