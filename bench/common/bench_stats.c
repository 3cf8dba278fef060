//  bcm_stats - time, sleeping, percentiles and CPU totals for the benchmarks
//
//  See bench_stats.h.

#include "bench_stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

double
bcm_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

uint64_t
bcm_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

void
bcm_sleep_ms (long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep (&ts, NULL);
}

static int
s_cmp_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

void
bcm_sort (double *values, size_t count)
{
    qsort (values, count, sizeof *values, s_cmp_double);
}

double
bcm_percentile (const double *values, size_t count, double p)
{
    if (count == 0)
        return 0;
    size_t rank = (size_t) ((p * (double) count + 99.999) / 100.0);
    return values [(rank ? rank : 1) - 1];
}

double
bcm_self_cpu (void)
{
    struct rusage ru;
    getrusage (RUSAGE_SELF, &ru);
    return (double) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec)
         + (double) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double
bcm_machine_busy (void)
{
    unsigned long long v [8] = { 0 };
    FILE *file = fopen ("/proc/stat", "r");
    if (file) {
        if (fscanf (file, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v [0], &v [1], &v [2],
                    &v [3], &v [4], &v [5], &v [6], &v [7]) != 8)
            memset (v, 0, sizeof v);
        fclose (file);
    }
    //  user nice system idle iowait irq softirq steal: all but idle, iowait.
    return (double) (v [0] + v [1] + v [2] + v [5] + v [6] + v [7]) / (double) sysconf (_SC_CLK_TCK);
}
