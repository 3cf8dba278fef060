//  page - the browser log page, embedded in the binary
//
//  The files of actors/log-plex/page/ (index.html, app.js, style.css) are
//  turned into C arrays at build time by actors/log-plex/page/embed.sh
//  (the Makefile writes $(BUILD)/gen/lpx_page_data.c), so log-plex serves
//  them with no files to install and the page makes no external fetch.

#ifndef LPX_PAGE_H
#define LPX_PAGE_H

#include <stddef.h>

typedef struct {
    const char *name;           // `index.html`
    const unsigned char *data;
    size_t len;
} lpx_page_file_t;

//  Defined by the generated file.
extern const lpx_page_file_t lpx_page_files [];
extern const size_t lpx_page_file_count;

//  The file named `name`, or NULL. Borrowed, static.
const lpx_page_file_t *lpx_page_find (const char *name);
//  Its Content-Type, from the name's extension. Static.
const char *lpx_page_type (const lpx_page_file_t *file);

#endif
