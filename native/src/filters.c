/* PNG row filters (None, Sub, Up, Average, Paeth) for 4 bytes per pixel, all five at once, with
   the cost of each (sum of |byte| read as signed: the usual heuristic). Filtering needs only the
   raw rows, so it vectorises without a serial dependency. The AVX2 and portable versions give
   identical bytes and costs. */
#include <string.h>

#include "filters.h"
#if LS_X86
#include <immintrin.h>
#endif

static inline uint32_t absb(uint8_t v) { return v < 128 ? v : 256u - v; }

static inline uint8_t paeth(int a, int b, int c) {   /* written to compile without branches */
    int pa = b > c ? b - c : c - b, pb = a > c ? a - c : c - a;
    int pc = a + b - 2 * c;
    pc = pc < 0 ? -pc : pc;
    int bc = pb <= pc ? b : c;
    return (uint8_t)(pa <= pb && pa <= pc ? a : bc);
}

static inline void filter_byte(int a, int b, int c, int x, size_t i, uint8_t *const out[5], uint64_t cost[5]) {
    uint8_t f0 = (uint8_t)x, f1 = (uint8_t)(x - a), f2 = (uint8_t)(x - b);
    uint8_t f3 = (uint8_t)(x - ((a + b) >> 1)), f4 = (uint8_t)(x - paeth(a, b, c));
    out[0][i] = f0; out[1][i] = f1; out[2][i] = f2; out[3][i] = f3; out[4][i] = f4;
    cost[0] += absb(f0); cost[1] += absb(f1); cost[2] += absb(f2); cost[3] += absb(f3); cost[4] += absb(f4);
}

static void filter_bytes(const uint8_t *cur, const uint8_t *prev, size_t from, size_t to,
                         uint8_t *const out[5], uint64_t cost[5]) {
    size_t i = from;
    for (; i < to && i < 4; i++) filter_byte(0, prev[i], 0, cur[i], i, out, cost);   /* no pixel to the left */
    uint8_t *o0 = out[0], *o1 = out[1], *o2 = out[2], *o3 = out[3], *o4 = out[4];
    uint64_t c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0;
    for (; i < to; i++) {
        int a = cur[i - 4], b = prev[i], c = prev[i - 4], x = cur[i];
        uint8_t f1 = (uint8_t)(x - a), f2 = (uint8_t)(x - b), f3 = (uint8_t)(x - ((a + b) >> 1));
        uint8_t f4 = (uint8_t)(x - paeth(a, b, c));
        o0[i] = (uint8_t)x; o1[i] = f1; o2[i] = f2; o3[i] = f3; o4[i] = f4;
        c0 += absb((uint8_t)x); c1 += absb(f1); c2 += absb(f2); c3 += absb(f3); c4 += absb(f4);
    }
    cost[0] += c0; cost[1] += c1; cost[2] += c2; cost[3] += c3; cost[4] += c4;
}

/* The portable path in 16-byte vectors of the compiler (GCC/Clang vector extensions: SSE2 on any
   x86-64, NEON on ARM), the same arithmetic as the AVX2 path below. */
typedef uint8_t v16 __attribute__((vector_size(16)));
typedef uint16_t v16w __attribute__((vector_size(32)));

static inline v16 vload(const uint8_t *p) { v16 v; memcpy(&v, p, 16); return v; }
static inline v16 vsel(v16 m, v16 x, v16 y) { return (x & m) | (y & ~m); }
static inline v16 vmax(v16 x, v16 y) { return vsel((v16)(x > y), x, y); }
static inline v16 vmin(v16 x, v16 y) { return vsel((v16)(x < y), x, y); }
static inline v16 vabsdiff(v16 x, v16 y) { return vmax(x, y) - vmin(x, y); }

static inline v16 vpaeth(v16 a, v16 b, v16 c) {
    v16 pa = vabsdiff(b, c), pb = vabsdiff(a, c);
    v16 same = ~((v16)(b >= c) ^ (v16)(a >= c));
    v16 sum = pa + pb;
    sum |= (v16)(sum < pa);   /* saturate at 255 */
    v16 pc = vsel(same, sum, vabsdiff(pa, pb));
    v16 take_a = (v16)(pa <= pb) & (v16)(pa <= pc);
    return vsel(take_a, a, vsel((v16)(pb <= pc), b, c));
}

static void filter_row_portable(const uint8_t *cur, const uint8_t *prev, size_t n, uint8_t *const out[5],
                                uint64_t cost[5]) {
    size_t head = n < 4 ? n : 4, i = head;
    filter_bytes(cur, prev, 0, head, out, cost);
    while (i + 16 <= n) {
        v16w acc[5] = {{0}, {0}, {0}, {0}, {0}};   /* 16-bit sums: at most 255 vectors before they could wrap */
        for (int k = 0; k < 255 && i + 16 <= n; k++, i += 16) {
            v16 x = vload(cur + i), a = vload(cur + i - 4), b = vload(prev + i), c = vload(prev + i - 4);
            v16 f[5] = {x, x - a, x - b, x - ((a & b) + ((a ^ b) >> 1)), x - vpaeth(a, b, c)};
            for (int j = 0; j < 5; j++) {
                memcpy(out[j] + i, &f[j], 16);
                acc[j] += __builtin_convertvector(vmin(f[j], -f[j]), v16w);   /* |byte| read as signed */
            }
        }
        for (int j = 0; j < 5; j++)
            for (int l = 0; l < 16; l++) cost[j] += acc[j][l];
    }
    filter_bytes(cur, prev, i, n, out, cost);
}

static void swap_rb_portable(uint8_t *row, size_t n) {
    for (size_t i = 0; i + 4 <= n; i += 4) {
        uint8_t t = row[i];
        row[i] = row[i + 2];
        row[i + 2] = t;
    }
}

#if LS_X86
LS_AVX2 static inline __m256i cost_of(__m256i v) {
    return _mm256_sad_epu8(_mm256_abs_epi8(v), _mm256_setzero_si256());
}

/* x <= y, unsigned bytes */
LS_AVX2 static inline __m256i le_u8(__m256i x, __m256i y) { return _mm256_cmpeq_epi8(_mm256_min_epu8(x, y), x); }

LS_AVX2 static inline __m256i absdiff_u8(__m256i x, __m256i y) {
    return _mm256_sub_epi8(_mm256_max_epu8(x, y), _mm256_min_epu8(x, y));
}

/* Paeth in bytes: pa = |b-c|, pb = |a-c| fit; pc = |(a-c)+(b-c)| is pa+pb when the two differences
   have the same sign (saturating at 255 keeps every comparison's outcome) else |pa-pb|. */
LS_AVX2 static inline __m256i paeth_avx2(__m256i a, __m256i b, __m256i c) {
    __m256i pa = absdiff_u8(b, c), pb = absdiff_u8(a, c);
    __m256i b_ge = le_u8(c, b), a_ge = le_u8(c, a);
    __m256i same = _mm256_cmpeq_epi8(b_ge, a_ge);
    __m256i pc = _mm256_blendv_epi8(absdiff_u8(pa, pb), _mm256_adds_epu8(pa, pb), same);
    __m256i take_a = _mm256_and_si256(le_u8(pa, pb), le_u8(pa, pc));
    __m256i pred = _mm256_blendv_epi8(c, b, le_u8(pb, pc));
    return _mm256_blendv_epi8(pred, a, take_a);
}

/* The five filters of the 32 bytes at j; costs added to acc (of the bytes `keep` selects, if masked). */
LS_AVX2 static inline __attribute__((always_inline)) void filter_vec(const uint8_t *cur, const uint8_t *prev,
                                                                     size_t j, uint8_t *const out[5], __m256i keep,
                                                                     const int masked, __m256i acc[5]) {
    __m256i x = _mm256_loadu_si256((const __m256i *)(cur + j));
    __m256i a = _mm256_loadu_si256((const __m256i *)(cur + j - 4));
    __m256i b = _mm256_loadu_si256((const __m256i *)(prev + j));
    __m256i c = _mm256_loadu_si256((const __m256i *)(prev + j - 4));
    __m256i avg = _mm256_sub_epi8(_mm256_avg_epu8(a, b), _mm256_and_si256(_mm256_xor_si256(a, b), _mm256_set1_epi8(1)));
    __m256i f[5] = {x, _mm256_sub_epi8(x, a), _mm256_sub_epi8(x, b), _mm256_sub_epi8(x, avg),
                    _mm256_sub_epi8(x, paeth_avx2(a, b, c))};
    for (int k = 0; k < 5; k++) {
        _mm256_storeu_si256((__m256i *)(out[k] + j), f[k]);
        acc[k] = _mm256_add_epi64(acc[k], cost_of(masked ? _mm256_and_si256(f[k], keep) : f[k]));
    }
}

LS_AVX2 static void filter_row_avx2(const uint8_t *cur, const uint8_t *prev, size_t n, uint8_t *const out[5],
                                    uint64_t cost[5]) {
    static const uint8_t tail[64] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                     0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255,
                                     255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
                                     255, 255, 255, 255, 255, 255, 255, 255};
    size_t head = n < 4 ? n : 4;
    filter_bytes(cur, prev, 0, head, out, cost);
    __m256i acc[5] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                      _mm256_setzero_si256(), _mm256_setzero_si256()};
    size_t i = head;
    for (; i + 32 <= n; i += 32) filter_vec(cur, prev, i, out, acc[0], 0, acc);
    if (i < n && n >= 36) {   /* the last bytes: one vector ending at n, costs counted from i only */
        filter_vec(cur, prev, n - 32, out, _mm256_loadu_si256((const __m256i *)(tail + (n - i))), 1, acc);
        i = n;
    }
    for (int k = 0; k < 5; k++) {
        uint64_t lanes[4];
        _mm256_storeu_si256((__m256i *)lanes, acc[k]);
        cost[k] += lanes[0] + lanes[1] + lanes[2] + lanes[3];
    }
    filter_bytes(cur, prev, i, n, out, cost);
}

LS_AVX2 static inline int zero4(const uint8_t *p) {   /* 128 bytes at p all zero */
    __m256i v = _mm256_or_si256(_mm256_or_si256(_mm256_loadu_si256((const __m256i *)p),
                                                _mm256_loadu_si256((const __m256i *)(p + 32))),
                                _mm256_or_si256(_mm256_loadu_si256((const __m256i *)(p + 64)),
                                                _mm256_loadu_si256((const __m256i *)(p + 96))));
    return _mm256_testz_si256(v, v);
}

LS_AVX2 static size_t zero_blocks_from_left(const uint8_t *r, size_t n) {
    size_t a = 0;
    while (a + 128 <= n && zero4(r + a)) a += 128;
    while (a + 32 <= n) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(r + a));
        if (!_mm256_testz_si256(v, v)) break;
        a += 32;
    }
    return a;
}

/* bytes of whole zero blocks at the end, not reaching below `floor` */
LS_AVX2 static size_t zero_blocks_from_right(const uint8_t *r, size_t n, size_t floor) {
    size_t b = n;
    while (b >= floor + 128 && zero4(r + b - 128)) b -= 128;
    while (b >= floor + 32) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(r + b - 32));
        if (!_mm256_testz_si256(v, v)) break;
        b -= 32;
    }
    return n - b;
}

LS_AVX2 static void swap_rb_avx2(uint8_t *row, size_t n) {
    const __m256i order = _mm256_setr_epi8(2, 1, 0, 3, 6, 5, 4, 7, 10, 9, 8, 11, 14, 13, 12, 15,
                                           2, 1, 0, 3, 6, 5, 4, 7, 10, 9, 8, 11, 14, 13, 12, 15);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(row + i));
        _mm256_storeu_si256((__m256i *)(row + i), _mm256_shuffle_epi8(v, order));
    }
    swap_rb_portable(row + i, n - i);
}
#endif

static inline uint64_t word(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* [lo, hi): the pixels of a row that are not (0, 0, 0, 0); lo == hi == 0 for a transparent row. */
void ls_row_span(const uint8_t *r, size_t n, size_t *lo, size_t *hi, int simd) {
    size_t a = 0, b = n;
#if LS_X86
    if (simd) {   /* skip whole 32-byte blocks of zeros from both ends first */
        a = zero_blocks_from_left(r, n);
        b = a < n ? n - zero_blocks_from_right(r, n, a) : n;
    }
#endif
    (void)simd;
    while (a + 8 <= n && word(r + a) == 0) a += 8;
    while (a < n && r[a] == 0) a++;
    if (a == n) {
        *lo = *hi = 0;
        return;
    }
    while (b >= a + 8 && word(r + b - 8) == 0) b -= 8;
    while (r[b - 1] == 0) b--;
    *lo = a & ~(size_t)3;
    *hi = (b + 3) & ~(size_t)3;
}

void ls_filter_row(const uint8_t *cur, const uint8_t *prev, size_t n, uint8_t *const out[5], uint64_t cost[5],
                   int simd) {
    for (int k = 0; k < 5; k++) cost[k] = 0;
#if LS_X86
    if (simd) {
        filter_row_avx2(cur, prev, n, out, cost);
        return;
    }
#endif
    (void)simd;
    filter_row_portable(cur, prev, n, out, cost);
}

void ls_swap_rb(uint8_t *row, size_t n, int simd) {
#if LS_X86
    if (simd) {
        swap_rb_avx2(row, n);
        return;
    }
#endif
    (void)simd;
    swap_rb_portable(row, n);
}
