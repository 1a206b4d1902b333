/* Shared declarations of the project's C extension (see native/README.md). */
#ifndef LIPSYNC_NATIVE_H
#define LIPSYNC_NATIVE_H

#include <stddef.h>
#include <stdint.h>

#if (defined(__x86_64__) || defined(__i386__)) && !defined(LS_PORTABLE_ONLY)   /* -DLS_PORTABLE_ONLY: the non-x86 build */
#define LS_X86 1
#define LS_AVX2 __attribute__((target("avx2,bmi,bmi2,pclmul,sse4.1")))
#else
#define LS_X86 0
#endif

/* Raised when the version of the sources changes the bytes or pixels they produce. */
#define LS_NATIVE_VERSION "1"

int ls_has_avx2(void);
/* Tables the encoder and the CRC share; call once before anything else. */
void ls_png_init(void);
void ls_crc_init(void);

/* PNG: RGBA (or BGRA with swap_rb) 8-bit rows -> a complete PNG file in *out (malloc'd).
   Returns the PNG's length, or 0 when memory ran out. */
size_t ls_encode_png(const uint8_t *pixels, size_t row_stride, uint32_t width, uint32_t height,
                     int swap_rb, int simd, uint8_t **out);

uint32_t ls_crc32(uint32_t crc, const uint8_t *p, size_t n, int simd);
uint32_t ls_adler32(uint32_t adler, const uint8_t *p, size_t n, int simd);
uint32_t ls_adler32_zeros(uint32_t adler, size_t n);

/* Bilinear warp of a premultiplied uint16 RGBA crop into straight uint8 RGBA (see warp.c). */
void ls_warp_unpremultiply(const uint16_t *src, size_t src_stride, int src_w, int src_h,
                           uint8_t *dst, size_t dst_stride, int dst_w, int dst_h,
                           const double m[6], int simd);

#endif
