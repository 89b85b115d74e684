// Shared by the prototypes that time products with the caches cold (with timing.h's timer and
// comparator): filled buffers and an 8 MB sweep between calls (so a weight does not stay in L2
// from one product to the next, as in the training step). Call cold_init() before flush().
#include <stdlib.h>
#include "timing.h"

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
