/* ni_cursor.h — bounds-checked reads of untrusted bytes (after tcpdump's
 * GET_BE_U_2 accessors).  Every parser reads packet and file bytes only through
 * a cursor: a read past the end sets `bad` and returns zero instead of
 * touching memory, so a truncated field becomes a checked outcome, never an
 * overread.  All integers are big-endian (network order) unless _le. */
#ifndef NI_CURSOR_H
#define NI_CURSOR_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

typedef struct ni_cursor {
    const uint8_t *p;   /* start of the buffer */
    size_t len;         /* its length */
    size_t off;         /* read position */
    bool bad;           /* a read went past the end */
} ni_cursor;

static inline void ni_cur_init(ni_cursor *c, const uint8_t *p, size_t len)
{
    c->p = p; c->len = len; c->off = 0; c->bad = false;
}
static inline size_t ni_cur_left(const ni_cursor *c) { return c->bad ? 0 : c->len - c->off; }
static inline bool ni_cur_has(const ni_cursor *c, size_t n) { return !c->bad && c->len - c->off >= n; }
static inline const uint8_t *ni_cur_ptr(const ni_cursor *c) { return c->p + c->off; }

static inline bool ni_cur_skip(ni_cursor *c, size_t n)
{
    if (!ni_cur_has(c, n)) { c->bad = true; return false; }
    c->off += n; return true;
}
static inline uint8_t ni_cur_u8(ni_cursor *c)
{
    if (!ni_cur_has(c, 1)) { c->bad = true; return 0; }
    return c->p[c->off++];
}
static inline uint16_t ni_cur_u16(ni_cursor *c)
{
    if (!ni_cur_has(c, 2)) { c->bad = true; return 0; }
    uint16_t v = (uint16_t)((c->p[c->off] << 8) | c->p[c->off + 1]);
    c->off += 2; return v;
}
static inline uint32_t ni_cur_u24(ni_cursor *c)
{
    if (!ni_cur_has(c, 3)) { c->bad = true; return 0; }
    uint32_t v = ((uint32_t)c->p[c->off] << 16) | ((uint32_t)c->p[c->off + 1] << 8) | c->p[c->off + 2];
    c->off += 3; return v;
}
static inline uint32_t ni_cur_u32(ni_cursor *c)
{
    if (!ni_cur_has(c, 4)) { c->bad = true; return 0; }
    uint32_t v = ((uint32_t)c->p[c->off] << 24) | ((uint32_t)c->p[c->off + 1] << 16) |
                 ((uint32_t)c->p[c->off + 2] << 8) | c->p[c->off + 3];
    c->off += 4; return v;
}
static inline uint32_t ni_cur_u32_le(ni_cursor *c)
{
    if (!ni_cur_has(c, 4)) { c->bad = true; return 0; }
    uint32_t v = ((uint32_t)c->p[c->off + 3] << 24) | ((uint32_t)c->p[c->off + 2] << 16) |
                 ((uint32_t)c->p[c->off + 1] << 8) | c->p[c->off];
    c->off += 4; return v;
}
/* Returns a pointer to the next n bytes and advances, or NULL (and bad). */
static inline const uint8_t *ni_cur_bytes(ni_cursor *c, size_t n)
{
    if (!ni_cur_has(c, n)) { c->bad = true; return NULL; }
    const uint8_t *r = c->p + c->off; c->off += n; return r;
}
/* A sub-cursor over the next n bytes (advancing this one past them). */
static inline ni_cursor ni_cur_sub(ni_cursor *c, size_t n)
{
    ni_cursor s;
    const uint8_t *b = ni_cur_bytes(c, n);
    ni_cur_init(&s, b ? b : c->p, b ? n : 0);
    if (!b) s.bad = true;
    return s;
}

/* The byte at offset i of the buffer, without moving the cursor; 0 past
 * the end (never an overread).  For formats recognised by bytes at fixed
 * places (magic numbers, opcodes), after a length check. */
static inline uint8_t ni_cur_at(const ni_cursor *c, size_t i) { return i < c->len ? c->p[i] : 0; }

/* A QUIC variable-length integer (RFC 9000 §16): the top two bits of the
 * first byte give the length (1, 2, 4 or 8 bytes).  0 and bad when short. */
static inline uint64_t ni_cur_varint(ni_cursor *c)
{
    uint8_t b = ni_cur_u8(c);
    unsigned extra = (1u << (b >> 6)) - 1;
    uint64_t v = b & 0x3f;
    for (unsigned i = 0; i < extra; i++) v = v << 8 | ni_cur_u8(c);
    return c->bad ? 0 : v;
}

/* One DER TLV (X.690 §8.1): a one-byte tag (no high-tag-number form: none
 * of the structures netintel reads uses one), then the definite length in
 * short form or long form of 1 to NI_DER_LEN_BYTES_MAX bytes; *val becomes a
 * sub-cursor over the contents.  False (and nothing promised about *val) on
 * an indefinite or over-long length or contents past the end. */
#define NI_DER_LEN_BYTES_MAX 4u
static inline bool ni_cur_der(ni_cursor *c, uint8_t *tag, ni_cursor *val)
{
    *tag = ni_cur_u8(c);
    uint8_t l = ni_cur_u8(c);
    size_t n = l;
    if (l & 0x80) {
        unsigned k = l & 0x7fu;
        if (k == 0 || k > NI_DER_LEN_BYTES_MAX) { c->bad = true; return false; }
        n = 0;
        for (unsigned i = 0; i < k; i++) n = n << 8 | ni_cur_u8(c);
    }
    if (c->bad) return false;
    *val = ni_cur_sub(c, n);
    return !c->bad && !val->bad;
}

#endif
