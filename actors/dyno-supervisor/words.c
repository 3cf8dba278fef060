//  words - the wording of the dyno-supervisor's own log lines
//
//  See words.h.

#include "words.h"

#include <ctype.h>
#include <stdio.h>

void
sup_words_seconds (int64_t ms, char out [SUP_WORDS_MAX])
{
    if (ms % 1000 == 0)
        snprintf (out, SUP_WORDS_MAX, "%lld second%s", (long long) (ms / 1000), ms == 1000 ? "" : "s");
    else
        snprintf (out, SUP_WORDS_MAX, "%g seconds", (double) ms / 1000.0);
}

void
sup_words_mem (int64_t bytes, int64_t quota_mb, char out [SUP_WORDS_MAX])
{
    double mb = (double) bytes / (1024.0 * 1024.0);
    double pct = quota_mb > 0 ? mb * 100.0 / (double) quota_mb : 0.0;
    snprintf (out, SUP_WORDS_MAX, "Process running mem=%.0fM(%.1f%%)", mb, pct);
}

void
sup_words_type (const char *type, char out [SUP_WORDS_MAX])
{
    snprintf (out, SUP_WORDS_MAX, "%s", type);
    out [0] = (char) toupper ((unsigned char) out [0]);
}
