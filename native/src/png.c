/* A fast PNG encoder for 8-bit RGBA frames, in the spirit of fpnge.

   Each row gets the filter (None/Sub/Up/Average/Paeth) with the smallest sum of |bytes|. The
   deflate stream is one block with a dynamic Huffman code and no LZ77 search: literals, and runs
   of zero bytes (transparent pixels, flat areas) as matches at distance 1 ("RLE"). The code is
   built from a sample of the rows (every 16th) and limited to 12 bits, so two literals are looked
   up at once in a 64K-entry table and a 64-bit bit buffer takes four of them between flushes.
   Only the span of a row that can differ from zero is filtered, checksummed and tokenised.
   Output is identical with and without AVX2 (SIMD is used for filtering and checksums only). */
#include <stdlib.h>
#include <string.h>

#include "filters.h"
#include "native.h"
#if LS_X86
#include <immintrin.h>
#endif

#define NSYM 286              /* literals 0-255, end of block 256, lengths 257-285 */
#define MAXBITS 12
#define SAMPLE_EVERY 16       /* rows sampled for the Huffman code (8 gave the same sizes, slower) */

typedef struct {
    uint32_t pair[65536];     /* two literals b0 | b1 << 8: their codes (<= 24 bits) | total length << 24 */
    uint32_t run_bits[259];   /* a match of length l at distance 1: code, extra bits, distance code */
    uint8_t run_len[259];
    uint16_t code[NSYM];
    uint8_t len[NSYM];
} tables;

static const uint16_t len_base[29] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
                                      35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
                                      3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static uint8_t len_sym[259];   /* length 3..258 -> index into len_base (symbol - 257) */

void ls_png_init(void) {
    for (int s = 0; s < 29; s++) {
        int hi = s == 28 ? 258 : len_base[s] + (1 << len_extra[s]) - 1;
        if (s == 27) hi = 257;   /* 258 has its own symbol */
        for (int l = len_base[s]; l <= hi && l <= 258; l++) len_sym[l] = (uint8_t)s;
    }
}

/* ------------------------------------------------------------------ Huffman code */
static __thread const uint32_t *sort_f;

static int by_freq(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return sort_f[x] != sort_f[y] ? (sort_f[x] < sort_f[y] ? -1 : 1) : x - y;
}

/* Code lengths for freq (0 = unused), longest at most maxbits: when the optimal code is longer,
   the frequencies are flattened (halved, kept non-zero: the order by frequency stays) and the
   code built again. */
static void huff_lengths(const uint32_t *freq_in, int n, int maxbits, uint8_t *len) {
    uint32_t f[NSYM];
    int sym[NSYM], parent[2 * NSYM], depth[2 * NSYM];
    uint64_t w[2 * NSYM];
    memcpy(f, freq_in, sizeof(uint32_t) * n);
    int m = 0;
    for (int i = 0; i < n; i++) {
        len[i] = 0;
        if (f[i]) sym[m++] = i;
    }
    sort_f = f;
    qsort(sym, (size_t)m, sizeof(int), by_freq);   /* ties by symbol: deterministic */
    if (m == 0) return;
    if (m == 1) {
        len[sym[0]] = 1;
        return;
    }
    for (;;) {
        for (int k = 0; k < m; k++) w[k] = f[sym[k]];
        int leaf = 0, node = m;   /* two queues: sorted leaves, and internal nodes as made */
        for (int k = m; k < 2 * m - 1; k++) {
            int a = (leaf < m && (node >= k || w[leaf] <= w[node])) ? leaf++ : node++;
            int b = (leaf < m && (node >= k || w[leaf] <= w[node])) ? leaf++ : node++;
            w[k] = w[a] + w[b];
            parent[a] = parent[b] = k;
        }
        depth[2 * m - 2] = 0;
        int longest = 0;
        for (int k = 2 * m - 3; k >= 0; k--) {
            depth[k] = depth[parent[k]] + 1;
            if (k < m && depth[k] > longest) longest = depth[k];
        }
        if (longest <= maxbits) {
            for (int k = 0; k < m; k++) len[sym[k]] = (uint8_t)depth[k];
            return;
        }
        for (int k = 0; k < m; k++) f[sym[k]] = (f[sym[k]] >> 1) | 1;
    }
}

/* Canonical codes, bit-reversed: deflate sends Huffman codes most significant bit first. */
static void huff_codes(const uint8_t *len, int n, uint16_t *code) {
    int count[16] = {0}, next[16];
    for (int i = 0; i < n; i++) count[len[i]]++;
    count[0] = 0;
    int c = 0;
    for (int b = 1; b < 16; b++) {
        c = (c + count[b - 1]) << 1;
        next[b] = c;
    }
    for (int i = 0; i < n; i++) {
        if (!len[i]) continue;
        uint32_t v = (uint32_t)next[len[i]]++, r = 0;
        for (int k = 0; k < len[i]; k++) r |= ((v >> k) & 1) << (len[i] - 1 - k);
        code[i] = (uint16_t)r;
    }
}

static void pairs_portable(tables *t) {
    for (uint32_t b1 = 0; b1 < 256; b1++) {
        uint32_t c1 = t->code[b1], l1 = t->len[b1];
        uint32_t *row = t->pair + (b1 << 8);
        for (uint32_t b0 = 0; b0 < 256; b0++)
            row[b0] = (t->code[b0] | c1 << t->len[b0]) | (t->len[b0] + l1) << 24;
    }
}

#if LS_X86
LS_AVX2 static void pairs_avx2(tables *t) {
    uint32_t code[256], len[256];
    for (int b = 0; b < 256; b++) {
        code[b] = t->code[b];
        len[b] = t->len[b];
    }
    for (uint32_t b1 = 0; b1 < 256; b1++) {
        __m256i c1 = _mm256_set1_epi32((int)t->code[b1]), l1 = _mm256_set1_epi32(t->len[b1]);
        uint32_t *row = t->pair + (b1 << 8);
        for (int b0 = 0; b0 < 256; b0 += 8) {
            __m256i c0 = _mm256_loadu_si256((const __m256i *)(code + b0));
            __m256i l0 = _mm256_loadu_si256((const __m256i *)(len + b0));
            __m256i v = _mm256_or_si256(c0, _mm256_sllv_epi32(c1, l0));
            v = _mm256_or_si256(v, _mm256_slli_epi32(_mm256_add_epi32(l0, l1), 24));
            _mm256_storeu_si256((__m256i *)(row + b0), v);
        }
    }
}
#endif

static void build_pairs(tables *t, int simd) {
#if LS_X86
    if (simd) {
        pairs_avx2(t);
        return;
    }
#endif
    (void)simd;
    pairs_portable(t);
}

static void build_tables(tables *t, const uint32_t *freq, int simd) {
    huff_lengths(freq, NSYM, MAXBITS, t->len);
    huff_codes(t->len, NSYM, t->code);
    build_pairs(t, simd);
    for (int l = 3; l <= 258; l++) {
        int s = len_sym[l], sym = 257 + s;
        uint32_t bits = t->code[sym] | (uint32_t)(l - len_base[s]) << t->len[sym];
        t->run_bits[l] = bits;   /* then distance code 0 (distance 1): the one-bit code "0" */
        t->run_len[l] = (uint8_t)(t->len[sym] + len_extra[s] + 1);
    }
}

/* ------------------------------------------------------------------ bit output */
typedef struct {
    uint8_t *out;
    uint64_t bits;
    unsigned nbits;   /* kept <= 63: at most 7 after a flush, plus at most 56 */
} bitw;

static inline __attribute__((always_inline)) void put(bitw *w, uint64_t v, unsigned n) {
    w->bits |= v << w->nbits;
    w->nbits += n;
}

static inline __attribute__((always_inline)) void flush(bitw *w) {
    uint64_t b = w->bits;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    b = __builtin_bswap64(b);
#endif
    unsigned nb = w->nbits;
    memcpy(w->out, &b, 8);
    w->out += nb >> 3;
    w->bits >>= nb & ~7u;   /* the whole bytes just stored: one step after nbits, on the critical path */
    w->nbits = nb & 7;
}

/* ------------------------------------------------------------------ tokens */
typedef struct {
    uint64_t run;      /* zero bytes seen and not yet sent */
    int last_zero;     /* the last byte sent was 0 (a distance-1 match may copy it) */
} rle;

/* Where symbols go: a bit writer (emit), or symbol counts (count: the Huffman code's statistics).
   Everything below is inlined into two loops, so the bit writer lives in registers. */
typedef struct {
    const tables *t;
    uint32_t *freq;
} sink;

#define INLINE static inline __attribute__((always_inline))

INLINE void lit(const sink *s, bitw *w, const int counting, uint8_t b) {
    if (counting) {
        s->freq[b]++;
        return;
    }
    put(w, s->t->code[b], s->t->len[b]);
    flush(w);
}

INLINE void send_run(const sink *s, bitw *w, const int counting, rle *st) {
    uint64_t r = st->run;
    if (!r) return;
    st->run = 0;
    if (!st->last_zero) {
        lit(s, w, counting, 0);
        r--;
    }
    while (r >= 3) {
        uint32_t l = r > 258 ? 258 : (uint32_t)r;
        if (r - l != 0 && r - l < 3) l = (uint32_t)r - 3;   /* leave at least 3 for the next match */
        if (counting) {
            s->freq[257 + len_sym[l]]++;
        } else {
            put(w, s->t->run_bits[l], s->t->run_len[l]);
            flush(w);
        }
        r -= l;
    }
    while (r--) lit(s, w, counting, 0);
    st->last_zero = 1;
}

static inline uint64_t load64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/* Literals and zero runs of n bytes, 8 at a time: a run starts at an all-zero 8-byte word (zeros
   elsewhere go out as literals: cheaper than checking every byte) and may continue across rows. */
INLINE void tokens(const sink *s, bitw *wp, rle *st, const uint8_t *p, size_t n, const int counting) {
    bitw w = *wp;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v = load64(p + i);
        if (v == 0) {
            st->run += 8;
            continue;
        }
        unsigned k = 0;
        if (st->run) {   /* a run ends: its zeros at the start of this word belong to it */
            k = (unsigned)__builtin_ctzll(v) >> 3;
            st->run += k;
            send_run(s, &w, counting, st);
        }
        if (k == 0) {    /* the common case: eight literals, as four pairs */
            if (counting) {
                for (int j = 0; j < 8; j++) s->freq[p[i + j]]++;
            } else {
                const uint32_t *pair = s->t->pair;
                uint32_t e0 = pair[v & 0xffff], e1 = pair[(v >> 16) & 0xffff];
                uint32_t e2 = pair[(v >> 32) & 0xffff], e3 = pair[v >> 48];
                put(&w, (e0 & 0xffffff) | (uint64_t)(e1 & 0xffffff) << (e0 >> 24), (e0 >> 24) + (e1 >> 24));
                flush(&w);
                put(&w, (e2 & 0xffffff) | (uint64_t)(e3 & 0xffffff) << (e2 >> 24), (e2 >> 24) + (e3 >> 24));
                flush(&w);
            }
        } else {
            for (; k < 8; k++) lit(s, &w, counting, p[i + k]);
        }
        st->last_zero = p[i + 7] == 0;
    }
    for (; i < n; i++) {
        if (!p[i]) {
            st->run++;
        } else {
            send_run(s, &w, counting, st);
            lit(s, &w, counting, p[i]);
            st->last_zero = 0;
        }
    }
    *wp = w;
}


/* ------------------------------------------------------------------ the dynamic block header */
static void write_header(bitw *w, const tables *t) {
    static const uint8_t order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
    uint8_t lens[NSYM + 2];
    memcpy(lens, t->len, NSYM);
    lens[NSYM] = lens[NSYM + 1] = 1;   /* two distance codes of one bit: a complete code; only 0 is used */
    uint32_t cl_freq[19] = {0};
    for (int i = 0; i < NSYM + 2; i++) cl_freq[lens[i]]++;
    uint8_t cl_len[19];
    uint16_t cl_code[19];
    huff_lengths(cl_freq, 19, 7, cl_len);
    huff_codes(cl_len, 19, cl_code);
    int hclen = 19;
    while (hclen > 4 && !cl_len[order[hclen - 1]]) hclen--;
    put(w, 1 | 2 << 1, 3);            /* final block, dynamic Huffman */
    put(w, NSYM - 257, 5);
    put(w, 2 - 1, 5);
    put(w, (uint64_t)(hclen - 4), 4);
    flush(w);
    for (int i = 0; i < hclen; i++) {
        put(w, cl_len[order[i]], 3);
        flush(w);
    }
    for (int i = 0; i < NSYM + 2; i++) {
        put(w, cl_code[lens[i]], cl_len[lens[i]]);
        flush(w);
    }
}

/* ------------------------------------------------------------------ output buffer */
typedef struct {
    uint8_t *p;
    size_t cap;
} obuf;

/* Room for `need` more bytes after `used`; returns 0 when out of memory. */
static int reserve(obuf *o, size_t used, size_t need) {
    if (used + need + 16 <= o->cap) return 1;
    size_t cap = o->cap * 2 > used + need + 16 ? o->cap * 2 : used + need + 16;
    uint8_t *p = realloc(o->p, cap);
    if (!p) return 0;
    o->p = p;
    o->cap = cap;
    return 1;
}

static void be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static size_t chunk(uint8_t *p, const char *type, const uint8_t *data, uint32_t n, int simd) {
    be32(p, n);
    memcpy(p + 4, type, 4);
    if (n) memmove(p + 8, data, n);
    be32(p + 8 + n, ls_crc32(0, p + 4, n + 4, simd));
    return 12 + (size_t)n;
}

/* Where a row can differ from zero after filtering: both rows' non-zero pixels, plus one pixel
   (Sub, Average and Paeth read the pixel to the left). Outside it every filter gives 0, so only
   this span is filtered, checksummed and tokenised: transparent margins cost almost nothing. */
typedef struct {
    size_t lo, hi;
} span;

static span filtered_span(span cur, span prev, size_t n) {
    if (cur.lo == cur.hi) cur = prev;
    if (prev.lo == prev.hi) prev = cur;
    if (cur.lo == cur.hi) return cur;
    span s = {cur.lo < prev.lo ? cur.lo : prev.lo, (cur.hi > prev.hi ? cur.hi : prev.hi) + 4};
    if (s.hi > n) s.hi = n;
    return s;
}

static span row_span(const uint8_t *row, size_t n, int simd) {
    span s;
    ls_row_span(row, n, &s.lo, &s.hi, simd);
    return s;
}

/* The cheapest filter over the span (bytes before it are 0 in both rows, as filtering assumes at a
   row start); its bytes are at rows[best] + 1 + sp.lo. A transparent span is filter None. */
static int best_filter(const uint8_t *cur, const uint8_t *prev, span sp, uint8_t *const rows[5], int swap_rb,
                       int simd) {
    if (sp.lo == sp.hi) return 0;
    uint8_t *data[5];
    uint64_t cost[5];
    for (int k = 0; k < 5; k++) data[k] = rows[k] + 1 + sp.lo;
    ls_filter_row(cur + sp.lo, prev + sp.lo, sp.hi - sp.lo, data, cost, simd);
    int best = 0;
    for (int k = 1; k < 5; k++)
        if (cost[k] < cost[best]) best = k;
    if (swap_rb) ls_swap_rb(data[best], sp.hi - sp.lo, simd);
    return best;
}

/* One row of the stream: filter byte, zeros before the span, the span, zeros after it. */
INLINE void row_tokens(const sink *s, bitw *w, rle *st, int ftype, const uint8_t *data, span sp, size_t n,
                       const int counting) {
    uint8_t fb = (uint8_t)ftype;
    tokens(s, w, st, &fb, 1, counting);
    st->run += sp.lo;
    tokens(s, w, st, data + sp.lo, sp.hi - sp.lo, counting);
    st->run += n - sp.hi;
}

size_t ls_encode_png(const uint8_t *pixels, size_t stride, uint32_t width, uint32_t height, int swap_rb,
                     int simd, uint8_t **out) {
    static __thread tables *tab;   /* 260 KB, reused by every frame this thread encodes */
    size_t n = (size_t)width * 4, size = 0;
    uint8_t *scratch = NULL, *rows[5];
    obuf o = {NULL, 0};
    *out = NULL;
    if (!tab && !(tab = malloc(sizeof(tables)))) return 0;
    scratch = calloc(6, n + 40);
    if (!scratch) return 0;
    const uint8_t *zero_row = scratch + 5 * (n + 40);
    for (int k = 0; k < 5; k++) rows[k] = scratch + k * (n + 40) + 31;   /* row data 32-byte aligned */

    /* 1. the Huffman code, from every SAMPLE_EVERY-th row */
    uint32_t freq[NSYM];
    for (int i = 0; i < NSYM; i++) freq[i] = 1;   /* every symbol gets a code: unsampled rows use them too */
    sink counter = {tab, freq};
    uint32_t every = height >= 8 * SAMPLE_EVERY ? SAMPLE_EVERY : 1;
    bitw none = {NULL, 0, 0};
    for (uint32_t y = 0; y < height; y += every) {
        const uint8_t *cur = pixels + y * stride, *prev = y ? cur - stride : zero_row;
        span sp = filtered_span(row_span(cur, n, simd), y ? row_span(prev, n, simd) : (span){0, 0}, n);
        rle st = {0, 0};
        int f = best_filter(cur, prev, sp, rows, 0, simd);
        row_tokens(&counter, &none, &st, f, rows[f] + 1, sp, n, 1);
        send_run(&counter, NULL, 1, &st);
    }
    build_tables(tab, freq, simd);

    /* 2. signature, IHDR, then the IDAT chunk: zlib header, one dynamic block, Adler-32 */
    /* room for a frame of photo texture at once (pages never touched cost nothing): no regrowth copies */
    if (!reserve(&o, 0, 256 + 2 * n + n / 2 * height)) goto fail;
    static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memcpy(o.p, signature, 8);
    uint8_t ihdr[13];
    be32(ihdr, width);
    be32(ihdr + 4, height);
    ihdr[8] = 8; ihdr[9] = 6; ihdr[10] = ihdr[11] = ihdr[12] = 0;   /* 8-bit RGBA, no interlace */
    size_t idat = 8 + chunk(o.p + 8, "IHDR", ihdr, 13, simd);
    memcpy(o.p + idat + 4, "IDAT", 4);
    o.p[idat + 8] = 0x78;   /* zlib: deflate, 32K window; FCHECK makes 0x7801 a multiple of 31 */
    o.p[idat + 9] = 0x01;
    bitw w = {o.p + idat + 10, 0, 0};
    write_header(&w, tab);
    sink emitter = {tab, NULL};
    rle st = {0, 0};
    uint32_t adler = 1;
    span prev_span = {0, 0};
    for (uint32_t y = 0; y < height; y++) {
        size_t used = (size_t)(w.out - o.p);
        if (!reserve(&o, used, n + n / 2 + (st.run / 258 + 2) * 3 + 64)) goto fail;
        w.out = o.p + used;
        const uint8_t *cur = pixels + y * stride, *prev = y ? cur - stride : zero_row;
        span cur_span = row_span(cur, n, simd), sp = filtered_span(cur_span, prev_span, n);
        prev_span = cur_span;
        int f = best_filter(cur, prev, sp, rows, swap_rb, simd);
        uint8_t fb = (uint8_t)f;
        adler = ls_adler32(adler, &fb, 1, simd);
        adler = ls_adler32_zeros(adler, sp.lo);
        adler = ls_adler32(adler, rows[f] + 1 + sp.lo, sp.hi - sp.lo, simd);
        adler = ls_adler32_zeros(adler, n - sp.hi);
        row_tokens(&emitter, &w, &st, f, rows[f] + 1, sp, n, 0);
    }
    size_t used = (size_t)(w.out - o.p);
    if (!reserve(&o, used, (st.run / 258 + 2) * 3 + 64)) goto fail;
    w.out = o.p + used;
    send_run(&emitter, &w, 0, &st);
    put(&w, tab->code[256], tab->len[256]);   /* end of block */
    put(&w, 0, 7);                             /* pad to a byte */
    flush(&w);
    be32(w.out, adler);
    size_t idat_len = (size_t)(w.out + 4 - (o.p + idat + 8));
    if (idat_len > 0x7fffffffu) goto fail;     /* PNG chunk limit: not reachable at 8192x8192 */
    be32(o.p + idat, (uint32_t)idat_len);
    size = idat + 8 + idat_len;
    be32(o.p + size, ls_crc32(0, o.p + idat + 4, idat_len + 4, simd));
    size += 4;
    size += chunk(o.p + size, "IEND", NULL, 0, simd);
    free(scratch);
    *out = o.p;
    return size;
fail:
    free(scratch);
    free(o.p);
    return 0;
}
