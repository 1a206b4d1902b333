/* The transformed render path in one pass: bilinear resampling of a premultiplied uint16 crop
   (colour * alpha in 0..65025, alpha * 255) and the division back to straight uint8 alpha.

   For destination pixel (x, y) the source point is m . (x, y, 1), pixel centres on integers,
   taps outside the crop are transparent (0). Arithmetic is float32 without fused multiply-add,
   in the same order in both versions, so the AVX2 path and the portable path give identical
   pixels: colour = round(255 * c / a), alpha = round(a / 255), round half to even, and a pixel
   whose alpha rounds to 0 is (0, 0, 0, 0). */
#include <math.h>
#include <string.h>

#include "native.h"
#if LS_X86
#include <immintrin.h>
#endif

typedef struct {
    const uint16_t *src;
    size_t stride;   /* uint16 elements per source row */
    int w, h;
} crop;

/* q in [0, 2^22): adding 2^23 leaves no fraction bits, so the sum is rounded half to even (the
   default mode, like cvtps2dq) without a libm call. */
static inline uint8_t to_u8(float q) {
    int v = (int)((q + 8388608.0f) - 8388608.0f);
    return (uint8_t)(v > 255 ? 255 : v);
}

/* floor for |x| < 2^23 (source points are within a few thousand pixels), without a libm call */
static inline float floor_small(float x) {
    float t = (float)(int)x;
    return t > x ? t - 1.0f : t;
}

static inline void unpremultiply(const float r[4], uint8_t *o) {
    float d = r[3] > 1.0f ? r[3] : 1.0f;
    uint8_t a = to_u8((r[3] * 255.0f) / 65025.0f);
    if (!a) {
        memset(o, 0, 4);
        return;
    }
    for (int c = 0; c < 3; c++) o[c] = to_u8((r[c] * 255.0f) / d);
    o[3] = a;
}

/* One pixel from its source point, any taps outside the crop read as 0. */
static void pixel(const crop *s, float sx, float sy, uint8_t *o) {
    if (!(sx > -2.0f && sx < (float)s->w + 1.0f && sy > -2.0f && sy < (float)s->h + 1.0f)) {   /* far outside */
        memset(o, 0, 4);
        return;
    }
    float fx0 = floor_small(sx), fy0 = floor_small(sy);
    int ix = (int)fx0, iy = (int)fy0;
    if (ix < -1 || ix >= s->w || iy < -1 || iy >= s->h) {
        memset(o, 0, 4);
        return;
    }
    float fx = sx - fx0, fy = sy - fy0, gx = 1.0f - fx, gy = 1.0f - fy;
    float w00 = gx * gy, w01 = fx * gy, w10 = gx * fy, w11 = fx * fy;
    static const uint16_t none[4] = {0, 0, 0, 0};
    const uint16_t *t[4];   /* (ix, iy), (ix + 1, iy), (ix, iy + 1), (ix + 1, iy + 1) */
    for (int k = 0; k < 4; k++) {
        int x = ix + (k & 1), y = iy + (k >> 1);
        t[k] = (x >= 0 && x < s->w && y >= 0 && y < s->h) ? s->src + (size_t)y * s->stride + (size_t)x * 4 : none;
    }
    float r[4];
    for (int c = 0; c < 4; c++)
        r[c] = (w00 * (float)t[0][c] + w10 * (float)t[2][c]) + (w01 * (float)t[1][c] + w11 * (float)t[3][c]);
    unpremultiply(r, o);
}

/* A pixel whose four taps are inside, in the compiler's 4-float vectors (SSE2, NEON): the same
   operations in the same order as pixel() and the AVX2 path, so the same result. */
typedef float v4f __attribute__((vector_size(16)));
typedef uint16_t v4u16 __attribute__((vector_size(8)));
typedef int32_t v4i __attribute__((vector_size(16)));

static inline v4f taps(const uint16_t *p) {
    v4u16 v;
    memcpy(&v, p, 8);
    return __builtin_convertvector(v, v4f);
}

static void pixel_inside(const crop *s, float sx, float sy, float fx0, float fy0, uint8_t *o) {
    int ix = (int)fx0, iy = (int)fy0;
    float fx = sx - fx0, fy = sy - fy0, gx = 1.0f - fx, gy = 1.0f - fy;
    float w00 = gx * gy, w01 = fx * gy, w10 = gx * fy, w11 = fx * fy;
    const uint16_t *p = s->src + (size_t)iy * s->stride + (size_t)ix * 4;
    v4f r = (taps(p) * w00 + taps(p + s->stride) * w10) + (taps(p + 4) * w01 + taps(p + s->stride + 4) * w11);
    float a = r[3] > 1.0f ? r[3] : 1.0f;
    v4f q = (r * 255.0f) / (v4f){a, a, a, 65025.0f};
    q = (q + 8388608.0f) - 8388608.0f;   /* half to even, as in to_u8 */
    v4i v = __builtin_convertvector(q, v4i);
    v4i over = v > 255;
    v = (v & ~over) | (255 & over);
    int keep = -(v[3] != 0);             /* alpha 0: (0, 0, 0, 0); no branches to mispredict */
    for (int c = 0; c < 4; c++) o[c] = (uint8_t)(v[c] & keep);
}

static void row_portable(const crop *s, uint8_t *o, int w, float bx, float by, float m0, float m3,
                         ptrdiff_t ahead) {
    for (int x = 0; x < w; x++) {
        float sx = (float)x * m0 + bx, sy = (float)x * m3 + by;
        if (sx >= 0.0f && sy >= 0.0f && sx < (float)(s->w - 1) && sy < (float)(s->h - 1)) {
            float fx0 = floor_small(sx), fy0 = floor_small(sy);
            if ((x & 7) == 0) {   /* the lines two rows below, as in the AVX2 path */
                uintptr_t at = (uintptr_t)(s->src + (size_t)fy0 * s->stride + (size_t)fx0 * 4) + (uintptr_t)ahead;
                __builtin_prefetch((const void *)at);
                __builtin_prefetch((const void *)(at + s->stride * 2));
            }
            pixel_inside(s, sx, sy, fx0, fy0, o + 4 * x);
        } else {
            pixel(s, sx, sy, o + 4 * x);
        }
    }
}

#if LS_X86
/* Two pixels whose four taps are inside: [p00 | p01] and [p10 | p11] as floats, times the weights
   [w00 | w01] and [w10 | w11] of each pixel (picked from registers: a reload of just-stored
   weights would stall on store forwarding). */
LS_AVX2 static inline __m256 weighted(const crop *s, const uint16_t *p, __m256 wt, __m256 wb) {
    __m256 top = _mm256_cvtepi32_ps(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)));
    __m256 bot = _mm256_cvtepi32_ps(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(p + s->stride))));
    return _mm256_add_ps(_mm256_mul_ps(top, wt), _mm256_mul_ps(bot, wb));
}

LS_AVX2 static inline __m256i two_pixels(__m256 r0, __m256 r1) {
    /* per pixel: (w00 p00 + w10 p10) + (w01 p01 + w11 p11) */
    __m256 lo = _mm256_permute2f128_ps(r0, r1, 0x20), hi = _mm256_permute2f128_ps(r0, r1, 0x31);
    __m256 r = _mm256_add_ps(lo, hi);
    __m256 alpha = _mm256_permute_ps(r, 0xff);
    __m256 den = _mm256_blend_ps(_mm256_max_ps(alpha, _mm256_set1_ps(1.0f)), _mm256_set1_ps(65025.0f), 0x88);
    return _mm256_cvtps_epi32(_mm256_div_ps(_mm256_mul_ps(r, _mm256_set1_ps(255.0f)), den));
}

/* `ahead`: bytes from a source point to where the same x maps two rows below. Walking a rotated
   crop along a slanted line defeats the hardware prefetcher (a few cache lines per source row),
   and the crop (4 MB at 720x720) is not in cache: fetching the lines two rows ahead made this
   kernel 3x faster. */
LS_AVX2 static void row_avx2(const crop *s, uint8_t *o, int w, float bx, float by, float m0, float m3,
                            ptrdiff_t ahead) {
    const __m256 step = _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    const __m256i inner_w = _mm256_set1_epi32(s->w - 2), inner_h = _mm256_set1_epi32(s->h - 2);
    const __m256i minus1 = _mm256_set1_epi32(-1);
    const __m256i last_x = _mm256_set1_epi32(s->w - 1), last_y = _mm256_set1_epi32(s->h - 1);
    int32_t off[8];
    int x = 0;
    for (; x + 8 <= w; x += 8) {
        __m256 xs = _mm256_add_ps(_mm256_set1_ps((float)x), step);
        __m256 sx = _mm256_add_ps(_mm256_mul_ps(xs, _mm256_set1_ps(m0)), _mm256_set1_ps(bx));
        __m256 sy = _mm256_add_ps(_mm256_mul_ps(xs, _mm256_set1_ps(m3)), _mm256_set1_ps(by));
        __m256 fx0 = _mm256_floor_ps(sx), fy0 = _mm256_floor_ps(sy);
        __m256i ix = _mm256_cvttps_epi32(fx0), iy = _mm256_cvttps_epi32(fy0);
        __m256i out = _mm256_or_si256(_mm256_or_si256(_mm256_cmpgt_epi32(minus1, ix), _mm256_cmpgt_epi32(ix, last_x)),
                                      _mm256_or_si256(_mm256_cmpgt_epi32(minus1, iy), _mm256_cmpgt_epi32(iy, last_y)));
        if (_mm256_movemask_ps(_mm256_castsi256_ps(out)) == 0xff) {   /* all eight fully outside */
            memset(o + 4 * x, 0, 32);
            continue;
        }
        __m256i in = _mm256_and_si256(
            _mm256_and_si256(_mm256_cmpgt_epi32(ix, minus1), _mm256_cmpgt_epi32(iy, minus1)),
            _mm256_andnot_si256(_mm256_or_si256(_mm256_cmpgt_epi32(ix, inner_w), _mm256_cmpgt_epi32(iy, inner_h)),
                                minus1));
        if (_mm256_movemask_ps(_mm256_castsi256_ps(in)) != 0xff) {   /* some taps outside: one by one */
            float sxs[8], sys[8];
            _mm256_storeu_ps(sxs, sx);
            _mm256_storeu_ps(sys, sy);
            for (int k = 0; k < 8; k++) pixel(s, sxs[k], sys[k], o + 4 * (x + k));
            continue;
        }
        __m256 fx = _mm256_sub_ps(sx, fx0), fy = _mm256_sub_ps(sy, fy0);
        __m256 gx = _mm256_sub_ps(_mm256_set1_ps(1.0f), fx), gy = _mm256_sub_ps(_mm256_set1_ps(1.0f), fy);
        __m256 w00 = _mm256_mul_ps(gx, gy), w01 = _mm256_mul_ps(fx, gy);
        __m256 w10 = _mm256_mul_ps(gx, fy), w11 = _mm256_mul_ps(fx, fy);
        /* pixel j's [w00 x4 | w01 x4]: from (w00, w01) interleaved, lanes 0 1 4 5 in lo, 2 3 6 7 in hi */
        __m256 t_lo = _mm256_unpacklo_ps(w00, w01), t_hi = _mm256_unpackhi_ps(w00, w01);
        __m256 b_lo = _mm256_unpacklo_ps(w10, w11), b_hi = _mm256_unpackhi_ps(w10, w11);
        __m256i addr = _mm256_add_epi32(_mm256_mullo_epi32(iy, _mm256_set1_epi32((int)s->stride)),
                                        _mm256_slli_epi32(ix, 2));
        _mm256_storeu_si256((__m256i *)off, addr);
        uintptr_t pf0 = (uintptr_t)(s->src + off[0]) + (uintptr_t)ahead;
        uintptr_t pf7 = (uintptr_t)(s->src + off[7]) + (uintptr_t)ahead;
        _mm_prefetch((const char *)pf0, _MM_HINT_T0);   /* a prefetch never faults, even outside the crop */
        _mm_prefetch((const char *)(pf0 + s->stride * 2), _MM_HINT_T0);
        _mm_prefetch((const char *)pf7, _MM_HINT_T0);
        _mm_prefetch((const char *)(pf7 + s->stride * 2), _MM_HINT_T0);
        const __m256i i0 = _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1), i1 = _mm256_setr_epi32(2, 2, 2, 2, 3, 3, 3, 3);
        const __m256i i2 = _mm256_setr_epi32(4, 4, 4, 4, 5, 5, 5, 5), i3 = _mm256_setr_epi32(6, 6, 6, 6, 7, 7, 7, 7);
#define PX(j, T, B, idx) weighted(s, s->src + off[j], _mm256_permutevar8x32_ps(T, idx), _mm256_permutevar8x32_ps(B, idx))
        __m256i q0 = two_pixels(PX(0, t_lo, b_lo, i0), PX(1, t_lo, b_lo, i1));
        __m256i q1 = two_pixels(PX(2, t_hi, b_hi, i0), PX(3, t_hi, b_hi, i1));
        __m256i q2 = two_pixels(PX(4, t_lo, b_lo, i2), PX(5, t_lo, b_lo, i3));
        __m256i q3 = two_pixels(PX(6, t_hi, b_hi, i2), PX(7, t_hi, b_hi, i3));
#undef PX
        __m256i b = _mm256_packus_epi16(_mm256_packus_epi32(q0, q1), _mm256_packus_epi32(q2, q3));
        b = _mm256_permutevar8x32_epi32(b, perm);
        __m256i clear = _mm256_cmpeq_epi32(_mm256_srli_epi32(b, 24), _mm256_setzero_si256());
        _mm256_storeu_si256((__m256i *)(o + 4 * x), _mm256_andnot_si256(clear, b));
    }
    for (; x < w; x++) pixel(s, (float)x * m0 + bx, (float)x * m3 + by, o + 4 * x);
}
#endif

void ls_warp_unpremultiply(const uint16_t *src, size_t src_stride, int src_w, int src_h, uint8_t *dst,
                           size_t dst_stride, int dst_w, int dst_h, const double m[6], int simd) {
    crop s = {src, src_stride, src_w, src_h};
    float m0 = (float)m[0], m3 = (float)m[3];
    ptrdiff_t ahead = ((ptrdiff_t)lrint(2 * m[4]) * (ptrdiff_t)src_stride + (ptrdiff_t)lrint(2 * m[1]) * 4) * 2;
    for (int y = 0; y < dst_h; y++) {
        float bx = (float)(m[1] * y + m[2]), by = (float)(m[4] * y + m[5]);
        uint8_t *o = dst + (size_t)y * dst_stride;
#if LS_X86
        if (simd) {
            row_avx2(&s, o, dst_w, bx, by, m0, m3, ahead);
            continue;
        }
#endif
        (void)simd;
        row_portable(&s, o, dst_w, bx, by, m0, m3, ahead);
    }
}
