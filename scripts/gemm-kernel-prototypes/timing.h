// Shared by every prototype: a monotonic timer in seconds and a comparator of doubles for qsort
// (medians of repeated timings).
#ifndef PROTOTYPE_TIMING_H
#define PROTOTYPE_TIMING_H
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }
#endif
