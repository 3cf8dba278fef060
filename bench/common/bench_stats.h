//  bcm_stats - time, sleeping, percentiles and CPU totals for the benchmarks
//
//  Owns nothing: plain functions over the monotonic clock, getrusage and
//  /proc/stat, shared by bench/broker, bench/releases and bench/logs. Link
//  bench/common/*.o into a benchmark and include this header.
//
//  Usage:
//      double t0 = bcm_now ();
//      ...
//      bcm_sort (samples, count);
//      double p99 = bcm_percentile (samples, count, 99);
//
//  Thread-safe: no state.

#ifndef BCM_STATS_H
#define BCM_STATS_H

#include <stddef.h>
#include <stdint.h>

//  Monotonic clock in seconds / nanoseconds.
double bcm_now (void);
uint64_t bcm_now_ns (void);
void bcm_sleep_ms (long ms);
//  Sorts doubles ascending.
void bcm_sort (double *values, size_t count);
//  The value at percentile `p` (0..100) of sorted `values` (nearest rank);
//  0 when `count` is 0.
double bcm_percentile (const double *values, size_t count, double p);
//  CPU seconds (user + system) this process used so far.
double bcm_self_cpu (void);
//  Busy CPU seconds of the whole machine so far, all CPUs (/proc/stat: all
//  but idle and iowait); 0 when it cannot be read.
double bcm_machine_busy (void);

#endif
