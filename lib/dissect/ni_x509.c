/* ni_x509.c — RFC 2253 text of a DER Name (see ni_x509.h).  Output rules
 * follow OpenSSL's do_name_ex/do_buf with XN_FLAG_RFC2253 minus ESC_MSB:
 * RDNs last first, "," between RDNs and "+" inside a multi-valued one, short
 * names, strings converted to UTF-8, then ,+"\<>; escaped with a backslash
 * anywhere, '#' and ' ' at the start and ' ' at the end likewise, control
 * characters as \XX; bytes >= 0x80 written as they are. */
#include "dissect/ni_x509.h"
#include "core/ni_cursor.h"

#include <string.h>

typedef struct oidname { uint8_t len; uint8_t der[11]; const char *sn; } oidname;

static const oidname names[] = {
    { 3, {0x55, 0x04, 0x03}, "CN" }, { 3, {0x55, 0x04, 0x06}, "C" }, { 3, {0x55, 0x04, 0x07}, "L" },
    { 3, {0x55, 0x04, 0x08}, "ST" }, { 3, {0x55, 0x04, 0x0a}, "O" }, { 3, {0x55, 0x04, 0x0b}, "OU" },
    { 3, {0x55, 0x04, 0x05}, "serialNumber" }, { 3, {0x55, 0x04, 0x09}, "street" },
    { 3, {0x55, 0x04, 0x11}, "postalCode" }, { 3, {0x55, 0x04, 0x0f}, "businessCategory" },
    { 3, {0x55, 0x04, 0x29}, "name" }, { 3, {0x55, 0x04, 0x2a}, "GN" }, { 3, {0x55, 0x04, 0x04}, "SN" },
    { 3, {0x55, 0x04, 0x0c}, "title" }, { 3, {0x55, 0x04, 0x2b}, "initials" },
    { 3, {0x55, 0x04, 0x2e}, "dnQualifier" }, { 3, {0x55, 0x04, 0x41}, "pseudonym" },
    { 3, {0x55, 0x04, 0x0d}, "description" }, { 3, {0x55, 0x04, 0x61}, "organizationIdentifier" },
    { 9, {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01}, "emailAddress" },
    { 10, {0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19}, "DC" },
    { 10, {0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01}, "UID" },
    { 11, {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x3c, 0x02, 0x01, 0x03}, "jurisdictionC" },
    { 11, {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x3c, 0x02, 0x01, 0x02}, "jurisdictionST" },
    { 11, {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x3c, 0x02, 0x01, 0x01}, "jurisdictionL" },
};

#define AVA_MAX 32

typedef struct ava {
    const char *sn;
    uint8_t type;
    const uint8_t *v;
    size_t n;
    unsigned set;           /* index of its RDN */
} ava;

typedef struct out { char *p; size_t len, cap; bool full; } out;

static void put(out *o, char ch)
{
    if (o->len + 1 >= o->cap) { o->full = true; return; }
    o->p[o->len++] = ch;
}

static void puts_(out *o, const char *s) { while (*s) put(o, *s++); }

/* One character (as UTF-8 bytes b[0..k)) with the escapes; first/last tell
 * its place in the value. */
static void put_char(out *o, uint32_t cp, bool first, bool last)
{
    static const char hx[] = "0123456789ABCDEF";
    if (cp < 0x80) {
        char ch = (char)cp;
        if ((ch && strchr(",+\"\\<>;", ch)) || (first && (ch == '#' || ch == ' ')) || (last && ch == ' ')) {
            put(o, '\\'); put(o, ch);
        } else if (cp < 0x20 || cp == 0x7f) {
            put(o, '\\'); put(o, hx[cp >> 4]); put(o, hx[cp & 15]);
        } else {
            put(o, ch);
        }
        return;
    }
    if (cp < 0x800) { put(o, (char)(0xc0 | cp >> 6)); put(o, (char)(0x80 | (cp & 0x3f))); }
    else if (cp < 0x10000) {
        put(o, (char)(0xe0 | cp >> 12)); put(o, (char)(0x80 | ((cp >> 6) & 0x3f))); put(o, (char)(0x80 | (cp & 0x3f)));
    } else {
        put(o, (char)(0xf0 | cp >> 18)); put(o, (char)(0x80 | ((cp >> 12) & 0x3f)));
        put(o, (char)(0x80 | ((cp >> 6) & 0x3f))); put(o, (char)(0x80 | (cp & 0x3f)));
    }
}

/* Decodes the value into code points; false when it is not a supported
 * string or not valid in its encoding. */
static bool put_value(out *o, const ava *a)
{
    uint32_t cps[1024];
    size_t n = 0;
    const uint8_t *v = a->v;
    switch (a->type) {
    case 0x13: case 0x16: case 0x1a: case 0x12:      /* Printable, IA5, Visible, Numeric */
        for (size_t i = 0; i < a->n; i++) {
            if (v[i] >= 0x80 || n >= 1024) return false;
            cps[n++] = v[i];
        }
        break;
    case 0x0c:                                       /* UTF8String */
        for (size_t i = 0; i < a->n;) {
            uint8_t c = v[i];
            uint32_t cp; size_t k;
            if (c < 0x80) { cp = c; k = 1; }
            else if ((c & 0xe0) == 0xc0) { cp = c & 0x1f; k = 2; }
            else if ((c & 0xf0) == 0xe0) { cp = c & 0x0f; k = 3; }
            else if ((c & 0xf8) == 0xf0) { cp = c & 0x07; k = 4; }
            else return false;
            if (i + k > a->n || n >= 1024) return false;
            for (size_t j = 1; j < k; j++) {
                if ((v[i + j] & 0xc0) != 0x80) return false;
                cp = cp << 6 | (v[i + j] & 0x3f);
            }
            if ((k == 2 && cp < 0x80) || (k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000) ||
                cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return false;
            cps[n++] = cp;
            i += k;
        }
        break;
    case 0x1e:                                       /* BMPString: UCS-2 big-endian */
        if (a->n & 1) return false;
        for (size_t i = 0; i < a->n; i += 2) {
            uint32_t cp = (uint32_t)v[i] << 8 | v[i + 1];
            if ((cp >= 0xd800 && cp <= 0xdfff) || n >= 1024) return false;
            cps[n++] = cp;
        }
        break;
    default:
        return false;
    }
    for (size_t i = 0; i < n; i++) put_char(o, cps[i], i == 0, i + 1 == n);
    return true;
}

size_t ni_x509_name(const uint8_t *der, size_t n, char *buf, size_t cap)
{
    if (!cap) return 0;
    buf[0] = 0;
    ni_cursor c;
    ni_cur_init(&c, der, n);
    uint8_t tag;
    ni_cursor name;
    if (!ni_cur_der(&c, &tag, &name) || tag != 0x30 || ni_cur_left(&c)) return 0;
    ava avas[AVA_MAX];
    size_t na = 0;
    unsigned set = 0;
    while (ni_cur_left(&name)) {
        ni_cursor rdn;
        if (!ni_cur_der(&name, &tag, &rdn) || tag != 0x31) return 0;
        while (ni_cur_left(&rdn)) {
            ni_cursor atv, oid, val;
            uint8_t vt;
            if (!ni_cur_der(&rdn, &tag, &atv) || tag != 0x30) return 0;
            if (!ni_cur_der(&atv, &tag, &oid) || tag != 0x06) return 0;
            if (!ni_cur_der(&atv, &vt, &val) || ni_cur_left(&atv)) return 0;
            const oidname *on = NULL;
            for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
                if (names[i].len == oid.len && !memcmp(names[i].der, oid.p, oid.len)) { on = &names[i]; break; }
            if (!on || na >= AVA_MAX) return 0;
            avas[na++] = (ava){ on->sn, vt, val.p, val.len, set };
        }
        set++;
    }
    out o = { buf, 0, cap, false };
    for (size_t i = na; i-- > 0;) {
        if (i + 1 < na) put(&o, avas[i].set == avas[i + 1].set ? '+' : ',');
        puts_(&o, avas[i].sn);
        put(&o, '=');
        if (!put_value(&o, &avas[i])) return 0;
    }
    if (o.full) return 0;
    buf[o.len] = 0;
    return o.len;
}
