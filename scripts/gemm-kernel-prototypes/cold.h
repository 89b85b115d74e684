// Shared by the prototypes that time products with the caches cold: a timer, a comparator for
// qsort, filled buffers and an 8 MB sweep between calls (so a weight does not stay in L2 from
// one product to the next, as in the training step). Call cold_init() before flush().
#include <stdlib.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }
static float *filled(size_t n) {
    float *p = aligned_alloc(64, (n * 4 + 63) / 64 * 64 + 64);
    for (size_t i = 0; i < n; i++) p[i] = (float)((i * 7919) % 1000) / 1000.f - 0.5f;
    return p;
}
static float *sweep;
static volatile float sink;
static void cold_init(void) { sweep = filled((size_t)2 << 20); }
static void flush(void) {
    float acc = 0;
    for (size_t i = 0; i < ((size_t)2 << 20); i += 16) { acc += sweep[i]; sweep[i] += 1e-9f; }
    sink += acc;
}
