#ifndef LIPSYNC_FILTERS_H
#define LIPSYNC_FILTERS_H
#include "native.h"

/* All five PNG filters of one row of n bytes (4 bytes per pixel) into out[0..4], with their costs. */
void ls_filter_row(const uint8_t *cur, const uint8_t *prev, size_t n, uint8_t *const out[5], uint64_t cost[5],
                   int simd);
/* [lo, hi): the pixels of a row of n bytes that are not all zero (lo == hi == 0: none). */
void ls_row_span(const uint8_t *r, size_t n, size_t *lo, size_t *hi, int simd);
/* RGBA <-> BGRA in place (n a multiple of 4). */
void ls_swap_rb(uint8_t *row, size_t n, int simd);
#endif
