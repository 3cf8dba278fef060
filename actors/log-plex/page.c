//  page - the browser log page, embedded in the binary

#include "page.h"

#include <string.h>

const lpx_page_file_t *
lpx_page_find (const char *name)
{
    for (size_t i = 0; i < lpx_page_file_count; i++)
        if (strcmp (lpx_page_files [i].name, name) == 0)
            return &lpx_page_files [i];
    return NULL;
}

const char *
lpx_page_type (const lpx_page_file_t *file)
{
    const char *dot = strrchr (file->name, '.');
    if (dot && strcmp (dot, ".html") == 0)
        return "text/html; charset=utf-8";
    if (dot && strcmp (dot, ".js") == 0)
        return "text/javascript; charset=utf-8";
    if (dot && strcmp (dot, ".css") == 0)
        return "text/css; charset=utf-8";
    return "application/octet-stream";
}
