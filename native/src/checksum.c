/* CRC-32 (PNG chunks) and Adler-32 (zlib stream): a portable version and an x86 one
   (carry-less multiply folding for the CRC, AVX2 sums for Adler). Both give the same values. */
#include <string.h>

#include "native.h"
#if LS_X86
#include <immintrin.h>
#endif

static uint32_t crc_table[8][256];   /* [k][b]: byte b followed by k zero bytes ("slicing by 8") */

void ls_crc_init(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[0][n] = c;
    }
    for (int k = 1; k < 8; k++)
        for (int n = 0; n < 256; n++) crc_table[k][n] = (crc_table[k - 1][n] >> 8) ^ crc_table[0][crc_table[k - 1][n] & 0xff];
}

/* c is the running (inverted) register */
static uint32_t crc_bytes(uint32_t c, const uint8_t *p, size_t n) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    for (; n >= 8; n -= 8, p += 8) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + 4, 4);
        lo ^= c;
        c = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^ crc_table[5][(lo >> 16) & 0xff] ^
            crc_table[4][lo >> 24] ^ crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
            crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
    }
#endif
    while (n--) c = crc_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    return c;
}

#if LS_X86
/* Folding with carry-less multiplication: four 128-bit lanes folded over 64 bytes at a time,
   then to one lane, then a Barrett reduction to 32 bits (constants for the reflected
   polynomial 0xEDB88320: x^(4*128+32) mod P, x^(4*128-32) mod P, ... and mu). */
LS_AVX2 static uint32_t crc_clmul(uint32_t c, const uint8_t *p, size_t n) {
    if (n < 64) return crc_bytes(c, p, n);
    const __m128i k12 = _mm_set_epi64x(0x1c6e41596LL, 0x154442bd4LL);
    const __m128i k34 = _mm_set_epi64x(0x0ccaa009eLL, 0x1751997d0LL);
    const __m128i k5 = _mm_set_epi64x(0, 0x163cd6124LL);
    const __m128i mu = _mm_set_epi64x(0x1f7011641LL, 0x1db710641LL);
    const __m128i low32 = _mm_setr_epi32(-1, 0, -1, 0);
    __m128i x1 = _mm_loadu_si128((const __m128i *)p), x2 = _mm_loadu_si128((const __m128i *)(p + 16));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(p + 32)), x4 = _mm_loadu_si128((const __m128i *)(p + 48));
    x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)c));
    p += 64;
    n -= 64;
#define FOLD(x, k, next) do { __m128i lo_ = _mm_clmulepi64_si128(x, k, 0x00); \
        x = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x11), lo_), next); } while (0)
    while (n >= 64) {
        FOLD(x1, k12, _mm_loadu_si128((const __m128i *)p));
        FOLD(x2, k12, _mm_loadu_si128((const __m128i *)(p + 16)));
        FOLD(x3, k12, _mm_loadu_si128((const __m128i *)(p + 32)));
        FOLD(x4, k12, _mm_loadu_si128((const __m128i *)(p + 48)));
        p += 64;
        n -= 64;
    }
    FOLD(x1, k34, x2);
    FOLD(x1, k34, x3);
    FOLD(x1, k34, x4);
    while (n >= 16) {
        FOLD(x1, k34, _mm_loadu_si128((const __m128i *)p));
        p += 16;
        n -= 16;
    }
#undef FOLD
    __m128i t = _mm_clmulepi64_si128(x1, k34, 0x10);           /* 128 -> 64 bits */
    x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), t);
    t = _mm_srli_si128(x1, 4);                                    /* 64 -> 32 bits */
    x1 = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x1, low32), k5, 0x00), t);
    t = _mm_clmulepi64_si128(_mm_and_si128(x1, low32), mu, 0x10); /* Barrett reduction */
    t = _mm_clmulepi64_si128(_mm_and_si128(t, low32), mu, 0x00);
    c = (uint32_t)_mm_extract_epi32(_mm_xor_si128(x1, t), 1);
    return crc_bytes(c, p, n);
}
#endif

uint32_t ls_crc32(uint32_t crc, const uint8_t *p, size_t n, int simd) {
#if LS_X86
    if (simd) return ~crc_clmul(~crc, p, n);
#endif
    (void)simd;
    return ~crc_bytes(~crc, p, n);
}

#define ADLER_MOD 65521u

static uint32_t adler_bytes(uint32_t adler, const uint8_t *p, size_t n) {
    uint32_t s1 = adler & 0xffff, s2 = adler >> 16;
    while (n) {
        size_t k = n < 5552 ? n : 5552;   /* the most bytes before s2 could overflow 32 bits */
        n -= k;
        while (k--) {
            s1 += *p++;
            s2 += s1;
        }
        s1 %= ADLER_MOD;
        s2 %= ADLER_MOD;
    }
    return s1 | s2 << 16;
}

#if LS_X86
LS_AVX2 static uint64_t hsum32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    uint32_t a[4];
    _mm_storeu_si128((__m128i *)a, s);
    return (uint64_t)a[0] + a[1] + a[2] + a[3];
}

/* Per 32-byte block: s1 grows by the byte sum, s2 by 32 * s1 plus the bytes weighted 32..1. */
LS_AVX2 static uint32_t adler_avx2(uint32_t adler, const uint8_t *p, size_t n) {
    uint64_t s1 = adler & 0xffff, s2 = adler >> 16;
    const __m256i zero = _mm256_setzero_si256(), ones = _mm256_set1_epi16(1);
    const __m256i weights = _mm256_setr_epi8(32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17,
                                             16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1);
    while (n >= 32) {
        size_t blocks = n / 32 < 128 ? n / 32 : 128;   /* lanes stay far from 32-bit overflow */
        __m256i vs1 = zero, vs2 = zero, prefix = zero;
        for (size_t b = 0; b < blocks; b++, p += 32) {
            __m256i v = _mm256_loadu_si256((const __m256i *)p);
            prefix = _mm256_add_epi32(prefix, vs1);
            vs1 = _mm256_add_epi32(vs1, _mm256_sad_epu8(v, zero));
            vs2 = _mm256_add_epi32(vs2, _mm256_madd_epi16(_mm256_maddubs_epi16(v, weights), ones));
        }
        n -= blocks * 32;
        s2 = (s2 + s1 * blocks * 32 + 32 * hsum32(prefix) + hsum32(vs2)) % ADLER_MOD;
        s1 = (s1 + hsum32(vs1)) % ADLER_MOD;
    }
    return adler_bytes((uint32_t)(s1 | s2 << 16), p, n);
}
#endif

/* Adler-32 after n more zero bytes: s1 stays, s2 grows by n * s1. */
uint32_t ls_adler32_zeros(uint32_t adler, size_t n) {
    uint64_t s1 = adler & 0xffff, s2 = adler >> 16;
    s2 = (s2 + s1 * (n % ADLER_MOD)) % ADLER_MOD;
    return (uint32_t)(s1 | s2 << 16);
}

uint32_t ls_adler32(uint32_t adler, const uint8_t *p, size_t n, int simd) {
#if LS_X86
    if (simd) return adler_avx2(adler, p, n);
#endif
    (void)simd;
    return adler_bytes(adler, p, n);
}

int ls_has_avx2(void) {
#if LS_X86
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("pclmul");
#else
    return 0;
#endif
}
