/* ni_proxy.c — SOCKS 4/4A, SOCKS 5 (RFC 1928, RFC 1929) and HTTP CONNECT
 * (RFC 9110 §9.3.6, response syntax RFC 9112 §4) preambles: see ni_proxy.h.
 *
 * SOCKS 4 request: VN=4, CD (1 CONNECT, 2 BIND), DSTPORT, DSTIP, USERID,
 * NUL; SOCKS 4A: DSTIP 0.0.0.x (x != 0), then the host name and NUL.
 * Reply: VN=0, CD (90 granted), 6 bytes.
 * SOCKS 5 greeting: VER=5, NMETHODS, METHODS; selection: VER, METHOD
 * (0xff: none acceptable); RFC 1929: VER=1, ULEN, UNAME, PLEN, PASSWD /
 * VER=1, STATUS (0 success); request: VER, CMD, RSV=0, ATYP (1 IPv4, 3
 * name, 4 IPv6), DST.ADDR, DST.PORT; reply: VER, REP (0 succeeded), RSV,
 * ATYP, BND.ADDR, BND.PORT. */
#include "dissect/ni_proxy.h"

#include <stdio.h>
#include <string.h>

#include "core/ni_cursor.h"
#include "core/ni_limits.h"

#define SOCKS4_ID_MAX 255u        /* USERID / 4A host name bytes before the NUL */
#define SOCKS5_METHODS_MAX 16u    /* methods offered (clients offer a handful) */

static bool printable(uint8_t c) { return c > 0x20 && c < 0x7f; }

/* A NUL-terminated field of at most max bytes (printable unless any_bytes).
 * 1 = complete (*len its length without the NUL), 0 = malformed, -1 = more. */
static int nul_field(ni_cursor *c, size_t max, bool any_bytes, const uint8_t **v, size_t *len)
{
    const uint8_t *start = ni_cur_ptr(c);
    size_t left = ni_cur_left(c);
    for (size_t i = 0; i < left; i++) {
        if (start[i] == 0) { *v = start; *len = i; ni_cur_skip(c, i + 1); return 1; }
        if (i >= max || (!any_bytes && !printable(start[i]))) return 0;
    }
    return left > max ? 0 : -1;
}

static void dest_name(char *dest, size_t cap, const uint8_t *name, size_t len, uint16_t port)
{
    snprintf(dest, cap, "%.*s:%u", (int)len, (const char *)name, (unsigned)port);
}

static void dest_addr(char *dest, size_t cap, int family, const uint8_t *b, uint16_t port)
{
    ni_addr a;
    memset(&a, 0, sizeof a);
    a.family = (uint8_t)family;
    memcpy(a.b, b, family == 4 ? 4 : 16);
    char t[NI_ADDR_STRLEN];
    ni_addr_format(&a, t);
    if (family == 6) snprintf(dest, cap, "[%s]:%u", t, (unsigned)port);
    else snprintf(dest, cap, "%s:%u", t, (unsigned)port);
}

/* ---- SOCKS 4 / 4A ---------------------------------------------------------- */

static ni_proxy_result socks4_client(const uint8_t *p, size_t n, char *dest, size_t cap, size_t *used)
{
    ni_cursor c;
    ni_cur_init(&c, p, n);
    if (n < 8) return NI_PROXY_NEED_MORE;
    ni_cur_skip(&c, 1);
    uint8_t cd = ni_cur_u8(&c);
    if (cd != 1 && cd != 2) return NI_PROXY_NOT;
    uint16_t port = ni_cur_u16(&c);
    const uint8_t *ip = ni_cur_bytes(&c, 4);
    const uint8_t *v;
    size_t len;
    int r = nul_field(&c, SOCKS4_ID_MAX, false, &v, &len);
    if (r <= 0) return r < 0 ? NI_PROXY_NEED_MORE : NI_PROXY_NOT;
    if (ip[0] == 0 && ip[1] == 0 && ip[2] == 0 && ip[3] != 0) {      /* 4A: a name follows */
        r = nul_field(&c, SOCKS4_ID_MAX, false, &v, &len);
        if (r <= 0) return r < 0 ? NI_PROXY_NEED_MORE : NI_PROXY_NOT;
        if (len == 0) return NI_PROXY_NOT;
        dest_name(dest, cap, v, len, port);
    } else {
        dest_addr(dest, cap, 4, ip, port);
    }
    *used = c.off;
    return NI_PROXY_DONE;
}

/* ---- SOCKS 5 --------------------------------------------------------------- */

static bool socks5_method(uint8_t m) { return m <= 0x09 || (m >= 0x80 && m <= 0xfe); }

/* An address (ATYP, DST.ADDR, DST.PORT).  1 = read (dest written when
 * dest != NULL), 0 = malformed, -1 = more. */
static int socks5_addr(ni_cursor *c, char *dest, size_t cap)
{
    if (ni_cur_left(c) < 1) return -1;
    uint8_t atyp = ni_cur_u8(c);
    size_t alen;
    if (atyp == 1) alen = 4;
    else if (atyp == 4) alen = 16;
    else if (atyp == 3) {
        if (ni_cur_left(c) < 1) return -1;
        alen = ni_cur_u8(c);
        if (alen == 0) return 0;
    } else return 0;
    if (ni_cur_left(c) < alen + 2) return -1;
    const uint8_t *a = ni_cur_bytes(c, alen);
    uint16_t port = ni_cur_u16(c);
    if (atyp == 3)
        for (size_t i = 0; i < alen; i++) if (!printable(a[i])) return 0;
    if (dest) {
        if (atyp == 3) dest_name(dest, cap, a, alen, port);
        else dest_addr(dest, cap, atyp == 1 ? 4 : 6, a, port);
    }
    return 1;
}

static ni_proxy_result socks5_client(const uint8_t *p, size_t n, char *dest, size_t cap, size_t *used)
{
    ni_cursor c;
    ni_cur_init(&c, p, n);
    if (n < 2) return NI_PROXY_NEED_MORE;
    ni_cur_skip(&c, 1);
    uint8_t nm = ni_cur_u8(&c);
    if (nm == 0 || nm > SOCKS5_METHODS_MAX) return NI_PROXY_NOT;
    if (ni_cur_left(&c) < nm) return NI_PROXY_NEED_MORE;
    const uint8_t *m = ni_cur_bytes(&c, nm);
    bool offers_password = false;
    for (size_t i = 0; i < nm; i++) {
        if (!socks5_method(m[i])) return NI_PROXY_NOT;
        if (m[i] == 2) offers_password = true;
    }
    if (ni_cur_left(&c) < 1) return NI_PROXY_NEED_MORE;
    if (ni_cur_at(&c, c.off) == 1 && offers_password) {     /* RFC 1929 sub-negotiation */
        ni_cur_skip(&c, 1);
        if (ni_cur_left(&c) < 1) return NI_PROXY_NEED_MORE;
        uint8_t ul = ni_cur_u8(&c);
        if (ul == 0) return NI_PROXY_NOT;
        if (ni_cur_left(&c) < (size_t)ul + 1) return NI_PROXY_NEED_MORE;
        ni_cur_skip(&c, ul);
        uint8_t pl = ni_cur_u8(&c);
        if (ni_cur_left(&c) < pl) return NI_PROXY_NEED_MORE;
        ni_cur_skip(&c, pl);
        if (ni_cur_left(&c) < 1) return NI_PROXY_NEED_MORE;
    }
    if (ni_cur_left(&c) < 3) return NI_PROXY_NEED_MORE;
    uint8_t ver = ni_cur_u8(&c), cmd = ni_cur_u8(&c), rsv = ni_cur_u8(&c);
    if (ver != 5 || cmd < 1 || cmd > 3 || rsv != 0) return NI_PROXY_NOT;
    int r = socks5_addr(&c, dest, cap);
    if (r <= 0) return r < 0 ? NI_PROXY_NEED_MORE : NI_PROXY_NOT;
    *used = c.off;
    return NI_PROXY_DONE;
}

/* ---- the client side ------------------------------------------------------- */

int ni_proxy_probe(const uint8_t *p, size_t n)
{
    if (n == 0) return -1;
    ni_cursor c;
    ni_cur_init(&c, p, n);
    uint8_t v = ni_cur_u8(&c);
    if (v == 4) {
        if (n < 2) return -1;
        uint8_t cd = ni_cur_at(&c, 1);
        if (cd != 1 && cd != 2) return 0;
        if (n < 9) return -1;
        /* DSTPORT 0 and DSTIP 0.0.0.0 are no request */
        if ((ni_cur_at(&c, 2) | ni_cur_at(&c, 3)) == 0) return 0;
        if ((ni_cur_at(&c, 4) | ni_cur_at(&c, 5) | ni_cur_at(&c, 6) | ni_cur_at(&c, 7)) == 0) return 0;
        uint8_t b = ni_cur_at(&c, 8);
        return b == 0 || printable(b) ? 1 : 0;
    }
    if (v == 5) {
        if (n < 2) return -1;
        uint8_t nm = ni_cur_at(&c, 1);
        if (nm == 0 || nm > SOCKS5_METHODS_MAX) return 0;
        if (n < 2u + nm) return -1;
        for (size_t i = 0; i < nm; i++) if (!socks5_method(ni_cur_at(&c, 2 + i))) return 0;
        return 1;
    }
    return 0;
}

ni_proxy_result ni_proxy_client(const uint8_t *p, size_t n, ni_proxy_kind *kind, char *dest, size_t cap,
                                size_t *used)
{
    *used = 0;
    if (cap) dest[0] = 0;
    if (n == 0) return NI_PROXY_NEED_MORE;
    ni_proxy_result r;
    if (p[0] == 4) { *kind = NI_PROXY_SOCKS4; r = socks4_client(p, n, dest, cap, used); }
    else if (p[0] == 5) { *kind = NI_PROXY_SOCKS5; r = socks5_client(p, n, dest, cap, used); }
    else return NI_PROXY_NOT;
    /* a preamble that never completes within the reassembly buffer is none */
    if (r == NI_PROXY_NEED_MORE && n >= NI_STREAM_BUF_MAX) return NI_PROXY_NOT;
    return r;
}

/* ---- the server side ------------------------------------------------------- */

/* One HTTP response head at c: status code and the Content-Length (-1 when
 * none).  1 = complete (cursor past it), 0 = not a response, -1 = more. */
static int http_response(ni_cursor *c, int *status, long long *clen)
{
    size_t left = ni_cur_left(c), lim = left < NI_HTTP_HEADER_MAX ? left : NI_HTTP_HEADER_MAX;
    ni_cursor h;                                  /* the head, read with ni_cur_at */
    ni_cur_init(&h, ni_cur_ptr(c), lim);
    static const char ver[] = "HTTP/1.";
    for (size_t i = 0; i < 7 && i < lim; i++) if (ni_cur_at(&h, i) != (uint8_t)ver[i]) return 0;
    if (lim < 12) return left >= NI_HTTP_HEADER_MAX ? 0 : -1;
    uint8_t d1 = ni_cur_at(&h, 9), d2 = ni_cur_at(&h, 10), d3 = ni_cur_at(&h, 11);
    if (ni_cur_at(&h, 8) != ' ' || d1 < '1' || d1 > '5' || d2 < '0' || d2 > '9' || d3 < '0' || d3 > '9') return 0;
    *status = (d1 - '0') * 100 + (d2 - '0') * 10 + (d3 - '0');
    *clen = -1;
    static const char cl[] = "content-length:";
    size_t i = 0, line = 0;
    for (;;) {                                    /* each line: [line, i) */
        while (i < lim && ni_cur_at(&h, i) != '\n') i++;
        if (i >= lim) return left >= NI_HTTP_HEADER_MAX ? 0 : -1;
        size_t end = i > line && ni_cur_at(&h, i - 1) == '\r' ? i - 1 : i;
        if (end == line) { ni_cur_skip(c, i + 1); return 1; }        /* the empty line */
        bool match = end - line > 15;
        for (size_t j = 0; j < 15 && match; j++) {
            uint8_t b = ni_cur_at(&h, line + j);
            if (b >= 'A' && b <= 'Z') b = (uint8_t)(b + 32);
            match = b == (uint8_t)cl[j];
        }
        if (match) {
            size_t j = line + 15, dn = 0;
            while (j < end && (ni_cur_at(&h, j) == ' ' || ni_cur_at(&h, j) == '\t')) j++;
            long long v = 0;
            for (; j < end && ni_cur_at(&h, j) >= '0' && ni_cur_at(&h, j) <= '9' && dn < 12; j++, dn++)
                v = v * 10 + (ni_cur_at(&h, j) - '0');
            if (dn) *clen = v;
        }
        line = ++i;
    }
}

static ni_proxy_result http_server(const uint8_t *p, size_t n, size_t *used)
{
    ni_cursor c;
    ni_cur_init(&c, p, n);
    for (;;) {
        int status;
        long long clen;
        size_t start = c.off;
        int r = http_response(&c, &status, &clen);
        if (r < 0) return NI_PROXY_NEED_MORE;
        if (r == 0) return NI_PROXY_NOT;
        if (status >= 200 && status < 300) { *used = c.off; return NI_PROXY_DONE; }
        if (status >= 100 && status < 200) continue;            /* interim response */
        /* refused; another CONNECT may follow (after a 407) when the body ends */
        if (clen < 0 || clen > (long long)(NI_STREAM_BUF_MAX / 2)) return NI_PROXY_REFUSED;
        if (ni_cur_left(&c) < (size_t)clen) { *used = start; return NI_PROXY_NEED_MORE; }
        ni_cur_skip(&c, (size_t)clen);
        *used = c.off;
    }
}

ni_proxy_result ni_proxy_server(ni_proxy_kind kind, const uint8_t *p, size_t n, size_t *used)
{
    *used = 0;
    ni_cursor c;
    ni_cur_init(&c, p, n);
    switch (kind) {
    case NI_PROXY_SOCKS4: {
        if (n < 8) return n && p[0] != 0 && p[0] != 4 ? NI_PROXY_NOT : NI_PROXY_NEED_MORE;
        uint8_t vn = ni_cur_u8(&c), cd = ni_cur_u8(&c);
        if (vn != 0 && vn != 4) return NI_PROXY_NOT;
        if (cd != 90) return cd >= 91 && cd <= 93 ? NI_PROXY_REFUSED : NI_PROXY_NOT;
        *used = 8;
        return NI_PROXY_DONE;
    }
    case NI_PROXY_SOCKS5: {
        if (n < 2) return NI_PROXY_NEED_MORE;
        uint8_t ver = ni_cur_u8(&c), m = ni_cur_u8(&c);
        if (ver != 5) return NI_PROXY_NOT;
        if (m == 0xff) return NI_PROXY_REFUSED;
        if (m == 2) {                                            /* RFC 1929 status */
            if (ni_cur_left(&c) < 2) return NI_PROXY_NEED_MORE;
            uint8_t v = ni_cur_u8(&c), st = ni_cur_u8(&c);
            if (v != 1) return NI_PROXY_NOT;
            if (st != 0) return NI_PROXY_REFUSED;
        } else if (m != 0) {
            return NI_PROXY_NOT;                                 /* GSS-API and others: not followed */
        }
        if (ni_cur_left(&c) < 3) return NI_PROXY_NEED_MORE;
        uint8_t v = ni_cur_u8(&c), rep = ni_cur_u8(&c), rsv = ni_cur_u8(&c);
        if (v != 5 || rsv != 0) return NI_PROXY_NOT;
        int r = socks5_addr(&c, NULL, 0);
        if (r < 0) return NI_PROXY_NEED_MORE;
        if (rep != 0) return NI_PROXY_REFUSED;
        if (r == 0) return NI_PROXY_NOT;
        *used = c.off;
        return NI_PROXY_DONE;
    }
    case NI_PROXY_HTTP_CONNECT:
        return http_server(p, n, used);
    default:
        return NI_PROXY_NOT;
    }
}
