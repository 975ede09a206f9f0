/* ni_tls.c — TLS handshake dissection: the record layer (RFC 8446 §5.1,
 * RFC 5246 §6.2), ClientHello (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2) with
 * server_name (RFC 6066 §3), ALPN (RFC 7301 §3.1), signature_algorithms
 * (RFC 8446 §4.2.3) and supported_versions (RFC 8446 §4.2.1), ServerHello
 * (RFC 8446 §4.1.3), GREASE (RFC 8701) and the JA4 fingerprint (ni_ja4.c).
 *
 * The stream parser is stateless: each call starts again at the first byte
 * of the direction, collects the first handshake message from as many
 * records as it spans (bounded by NI_TLS_HELLO_MAX) and answers NEED_MORE
 * until it is complete.  SSLv2-compatible ClientHellos (RFC 5246 Appendix
 * E.2) are recognised and given up on (only their version is kept).
 * Strings go to the session's arena; a full arena leaves the field unset. */
#include "dissect/ni_tls.h"
#include "dissect/ni_ja4.h"
#include "dissect/ni_x509.h"
#include "core/ni_arena.h"
#include "core/ni_cursor.h"
#include "core/ni_limits.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/x509.h>

#define TLS_RECORD_MAX (16384u + 2048u)  /* RFC 5246 §6.2.3 TLSCiphertext bound */
#define CT_HANDSHAKE 22

const char *ni_tls_version_name(uint16_t v)
{
    switch (v) {
    case 0x0002: return "SSLv2";
    case 0x0300: return "SSLv3";
    case 0x0301: return "TLSv1.0";
    case 0x0302: return "TLSv1.1";
    case 0x0303: return "TLSv1.2";
    case 0x0304: return "TLSv1.3";
    case 0xfeff: return "DTLSv1.0";
    case 0xfefd: return "DTLSv1.2";
    case 0xfefc: return "DTLSv1.3";
    default:
        if ((v >> 8) == 0x7f) return "TLSv1.3 (draft)";   /* IETF drafts 0x7fNN */
        if ((v >> 8) == 0xfb) return "TLSv1.3 (Fizz)";    /* Facebook Fizz drafts 0xfbNN */
        return NULL;
    }
}

/* An SSLv2-compatible ClientHello: 2-byte header with the top bit set,
 * msg_type 1, version 0x0002 or 3.x, spec lengths consistent. */
static int sslv2_hello(const uint8_t *p, size_t n, uint16_t *version)
{
    ni_cursor c;
    ni_cur_init(&c, p, n);
    uint8_t b0 = ni_cur_u8(&c);
    if (c.bad || !(b0 & 0x80)) return 0;
    if (n < 11) return -1;                     /* undecided: need more */
    size_t len = ((size_t)(b0 & 0x7f) << 8) | ni_cur_u8(&c);
    uint8_t type = ni_cur_u8(&c);
    uint16_t v = ni_cur_u16(&c);
    size_t cs = ni_cur_u16(&c), sid = ni_cur_u16(&c), ch = ni_cur_u16(&c);
    if (type != 1 || !(v == 0x0002 || (v >> 8) == 3)) return 0;
    if (cs == 0 || cs % 3 || ch < 16 || ch > 32 || (sid != 0 && sid != 16 && sid != 32)) return 0;
    if (9 + cs + sid + ch != len) return 0;
    *version = v;
    return 1;
}

bool ni_tls_probe(const uint8_t *p, size_t n)
{
    if (n == 0) return false;
    ni_cursor c;
    ni_cur_init(&c, p, n);
    uint8_t type = ni_cur_u8(&c);
    uint16_t v;
    if (type & 0x80) return sslv2_hello(p, n, &v) == 1;
    if (type != CT_HANDSHAKE) return false;
    if (n >= 2 && ni_cur_u8(&c) != 3) return false;
    if (n >= 3 && ni_cur_u8(&c) > 4) return false;
    if (n >= 5) {
        size_t len = ni_cur_u16(&c);
        if (len == 0 || len > TLS_RECORD_MAX) return false;
    }
    if (n >= 6) {
        uint8_t hs = ni_cur_u8(&c);
        if (hs == 0 || hs > 24) return false;     /* handshake type */
    }
    return true;
}

/* One record of the record layer (RFC 8446 §5.1): content type, legacy
 * version (major byte kept), length, and the part of the fragment present
 * in the buffer (avail <= len).  False when fewer than 5 bytes are left. */
typedef struct tls_record {
    uint8_t type, major;
    size_t len, avail;
    const uint8_t *frag;
} tls_record;

static bool next_record(ni_cursor *c, tls_record *r)
{
    if (ni_cur_left(c) < 5) return false;
    r->type = ni_cur_u8(c);
    r->major = ni_cur_u8(c);
    ni_cur_skip(c, 1);
    r->len = ni_cur_u16(c);
    r->avail = ni_cur_left(c) < r->len ? ni_cur_left(c) : r->len;
    r->frag = ni_cur_bytes(c, r->avail);
    return !c->bad;
}

/* ---- ClientHello ------------------------------------------------------- */

static void add_alpn(ni_session *s, ni_strlist ***tail, unsigned *count, const uint8_t *v, size_t n)
{
    if (!s->arena || n == 0 || *count >= NI_ALPN_MAX) return;
    ni_strlist *e = ni_arena_alloc(s->arena, sizeof *e);
    if (!e) return;
    e->s = ni_arena_strndup(s->arena, (const char *)v, n);
    if (!e->s) return;                       /* the entry is lost with the arena space */
    **tail = e;
    *tail = &e->next;
    (*count)++;
}

/* Transport parameters: Chrome's google_user_agent (0x3129) holds its UA. */
static void quic_params(ni_session *s, ni_cursor *d)
{
    while (ni_cur_left(d) >= 2) {
        uint64_t id = ni_cur_varint(d), len = ni_cur_varint(d);
        if (d->bad || len > ni_cur_left(d)) return;
        const uint8_t *v = ni_cur_bytes(d, (size_t)len);
        if (id == 0x3129 && len && !s->quic_user_agent && s->arena)
            s->quic_user_agent = ni_arena_strndup(s->arena, (const char *)v,
                                                  len > NI_HTTP_FIELD_MAX ? NI_HTTP_FIELD_MAX : (size_t)len);
    }
}

static ni_tls_result client_hello(ni_session *s, ni_cursor *c, bool quic, ni_ja4_cache *cache)
{
    uint16_t legacy = ni_cur_u16(c);
    ni_cur_skip(c, 32);                              /* random */
    uint8_t sid = ni_cur_u8(c);
    if (sid > 32) return NI_TLS_MALFORMED;
    ni_cur_skip(c, sid);
    uint16_t cs_len = ni_cur_u16(c);
    if (cs_len & 1) return NI_TLS_MALFORMED;
    ni_cursor cs = ni_cur_sub(c, cs_len);
    uint8_t comp = ni_cur_u8(c);
    ni_cur_skip(c, comp);
    if (c->bad) return NI_TLS_MALFORMED;
    ni_cursor ext = {0};
    bool has_ext = ni_cur_left(c) >= 2;
    if (has_ext) {
        uint16_t el = ni_cur_u16(c);
        ext = ni_cur_sub(c, el);
        if (c->bad) return NI_TLS_MALFORMED;
    }

    /* One block for the decoded lists: everything fits in len/2 values; on
     * the stack for the usual sizes. */
    enum { STACK_VALUES = 512 };
    uint16_t sbuf[STACK_VALUES];
    size_t cap = cs_len / 2 + (has_ext ? ext.len / 2 : 0) + 1;
    uint16_t *blk = cap <= STACK_VALUES ? sbuf : malloc(cap * sizeof *blk);
    if (!blk) return NI_TLS_DONE;                    /* no memory: give up on this hello */
    uint16_t *ciphers = blk;
    size_t nci = ni_cur_left(&cs) / 2;
    const uint8_t *cv = ni_cur_bytes(&cs, nci * 2);  /* a whole sub-cursor: present */
    for (size_t i = 0; i < nci; i++) ciphers[i] = (uint16_t)(cv[2 * i] << 8 | cv[2 * i + 1]);

    uint16_t *exts = ciphers + nci, *sig = NULL;
    size_t nex = 0, nsig = 0;
    const uint8_t *alpn0 = NULL;
    size_t alpn0_len = 0;
    bool has_sni = false, bad = false;
    const uint8_t *sni = NULL;
    size_t sni_len = 0;
    uint16_t best = 0;
    ni_cursor alpn_list = {0};
    bool has_alpn = false;

    /* pass 1: extension types (the signature list goes after them), read
     * straight from the bytes of the (whole) extensions block */
    if (has_ext) {
        const uint8_t *q = ni_cur_ptr(&ext);
        size_t left = ni_cur_left(&ext), off = 0;
        while (left - off >= 4) {
            exts[nex++] = (uint16_t)(q[off] << 8 | q[off + 1]);
            size_t len = (size_t)(q[off + 2] << 8 | q[off + 3]);
            off += 4;
            if (len > left - off) { bad = true; break; }   /* runs past the block */
            off += len;
        }
        if (off != left) bad = true;                      /* a truncated header at the end */
    }
    sig = exts + nex;

    while (!bad && has_ext && ni_cur_left(&ext) >= 4) {
        uint16_t type = ni_cur_u16(&ext);
        uint16_t len = ni_cur_u16(&ext);
        ni_cursor d = ni_cur_sub(&ext, len);
        switch (type) {
        case 0x0000: {                               /* server_name, RFC 6066 §3 */
            has_sni = true;
            ni_cursor l = ni_cur_sub(&d, ni_cur_u16(&d));
            while (!sni && ni_cur_left(&l) >= 3) {
                uint8_t nt = ni_cur_u8(&l);
                uint16_t nl = ni_cur_u16(&l);
                const uint8_t *name = ni_cur_bytes(&l, nl);
                if (name && nt == 0 && nl > 0) { sni = name; sni_len = nl; }
            }
            break;
        }
        case 0x0010: {                               /* ALPN, RFC 7301 §3.1 */
            alpn_list = ni_cur_sub(&d, ni_cur_u16(&d));
            has_alpn = !alpn_list.bad;
            if (has_alpn && ni_cur_left(&alpn_list) >= 1) {
                ni_cursor a = alpn_list;
                uint8_t l = ni_cur_u8(&a);
                const uint8_t *v = ni_cur_bytes(&a, l);
                if (v) { alpn0 = v; alpn0_len = l; }
            }
            break;
        }
        case 0x000d: {                               /* signature_algorithms */
            ni_cursor l = ni_cur_sub(&d, ni_cur_u16(&d));
            size_t k = ni_cur_left(&l) / 2, room = cap - (size_t)(sig + nsig - blk);
            if (k > room) k = room;
            const uint8_t *q = ni_cur_bytes(&l, k * 2);
            for (size_t i = 0; q && i < k; i++) sig[nsig++] = (uint16_t)(q[2 * i] << 8 | q[2 * i + 1]);
            break;
        }
        case 0x0039: case 0xffa5:                    /* quic_transport_parameters (RFC 9000 §18; draft) */
            if (quic) quic_params(s, &d);
            break;
        case 0x002b: {                               /* supported_versions (client form) */
            ni_cursor l = ni_cur_sub(&d, ni_cur_u8(&d));
            while (ni_cur_left(&l) >= 2) {
                uint16_t v = ni_cur_u16(&l);
                if (!ni_tls_is_grease(v) && v > best) best = v;
            }
            break;
        }
        default: break;
        }
    }
    if (ext.bad) bad = true;

    if (bad) { if (blk != sbuf) free(blk); return NI_TLS_MALFORMED; }

    uint16_t version = best ? best : legacy;
    s->tls_client_version = version;
    if (s->arena) {
        if (!s->sni && sni) s->sni = ni_arena_strndup(s->arena, (const char *)sni, sni_len);
        if (!s->alpn && has_alpn) {
            ni_strlist **tail = &s->alpn;
            unsigned count = 0;
            while (ni_cur_left(&alpn_list) >= 1) {
                uint8_t l = ni_cur_u8(&alpn_list);
                const uint8_t *v = ni_cur_bytes(&alpn_list, l);
                if (!v) break;
                add_alpn(s, &tail, &count, v, l);
            }
        }
        if (!s->ja4) {
            ni_ja4_input in = {
                .proto = quic ? 'q' : 't', .version = version, .has_sni = has_sni,
                .ciphers = ciphers, .n_ciphers = nci, .exts = exts, .n_exts = nex,
                .sigalgs = sig, .n_sigalgs = nsig, .alpn = alpn0, .alpn_len = alpn0_len,
            };
            char fp[NI_JA4_STRLEN];
            if (ni_ja4_compute_cached(&in, cache, fp)) s->ja4 = ni_arena_strdup(s->arena, fp);
        }
    }
    if (quic) s->quic = true;
    if (blk != sbuf) free(blk);
    return NI_TLS_DONE;
}

/* ---- ServerHello ------------------------------------------------------- */

static ni_tls_result server_hello(ni_session *s, ni_cursor *c)
{
    uint16_t legacy = ni_cur_u16(c);
    ni_cur_skip(c, 32);
    uint8_t sid = ni_cur_u8(c);
    if (sid > 32) return NI_TLS_MALFORMED;
    ni_cur_skip(c, sid);
    uint16_t cipher = ni_cur_u16(c);
    ni_cur_skip(c, 1);                               /* compression method */
    if (c->bad) return NI_TLS_MALFORMED;
    uint16_t version = legacy;
    if (ni_cur_left(c) >= 2) {
        ni_cursor ext = ni_cur_sub(c, ni_cur_u16(c));
        while (ni_cur_left(&ext) >= 4) {
            uint16_t type = ni_cur_u16(&ext);
            ni_cursor d = ni_cur_sub(&ext, ni_cur_u16(&ext));
            if (type == 0x002b && ni_cur_left(&d) >= 2) version = ni_cur_u16(&d);
        }
        if (ext.bad || c->bad) return NI_TLS_MALFORMED;
    }
    s->tls_version = version;
    s->tls_cipher = cipher;
    return NI_TLS_DONE;
}

ni_tls_result ni_tls_parse_handshake(ni_session *s, const uint8_t *msg, size_t n, bool quic)
{
    return ni_tls_parse_handshake_ex(s, msg, n, quic, NULL);
}

ni_tls_result ni_tls_parse_handshake_ex(ni_session *s, const uint8_t *msg, size_t n, bool quic, ni_ja4_cache *cache)
{
    ni_cursor c;
    ni_cur_init(&c, msg, n);
    uint8_t type = ni_cur_u8(&c);
    uint32_t len = ni_cur_u24(&c);
    ni_cursor body = ni_cur_sub(&c, len);
    if (body.bad) return NI_TLS_MALFORMED;
    if (type == 1) return client_hello(s, &body, quic, cache);
    if (type == 2) return server_hello(s, &body);
    return NI_TLS_DONE;                              /* another message: nothing to learn */
}

/* ---- record layer ------------------------------------------------------ */

/* ---- server flight: ServerHello, then Certificate (TLS <= 1.2) ----------- */

/* Subject or issuer as RFC 2253 text ("CN=x,O=y,C=US"), in the arena. */
static const char *name_text(ni_session *s, X509_NAME *nm)
{
    if (!nm || !s->arena) return NULL;
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio) return NULL;
    const char *out = NULL;
    if (X509_NAME_print_ex(bio, nm, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        char *data;
        long len = BIO_get_mem_data(bio, &data);
        if (len > 0) out = ni_arena_strndup(s->arena, data, (size_t)(len > 512 ? 512 : len));
    }
    BIO_free(bio);
    return out;
}

/* A Name (RFC 5280 §4.1.2.4) as RFC 2253 text, decoded by OpenSSL's
 * d2i_X509_NAME from its own DER bytes. */
static const char *der_name(ni_session *s, const uint8_t *der, size_t n)
{
    char text[512];
    size_t k = ni_x509_name(der, n, text, sizeof text);     /* the common names, without OpenSSL */
    if (k) return s->arena ? ni_arena_strndup(s->arena, text, k) : NULL;
    const unsigned char *q = der;
    X509_NAME *nm = d2i_X509_NAME(NULL, &q, (long)n);
    if (!nm) return NULL;
    const char *t = name_text(s, nm);
    X509_NAME_free(nm);
    return t;
}

/* One subjectAltName entry as text into the session's cert_names: a
 * dNSName lower-cased (printable ASCII only), an iPAddress in its usual
 * text form; anything else is skipped. */
static void add_cert_name(ni_session *s, ni_strlist ***tail, unsigned *count, uint8_t tag, ni_cursor *v)
{
    char text[NI_DNS_NAME_MAX + 1];
    size_t n = ni_cur_left(v);
    const uint8_t *b = ni_cur_bytes(v, n);
    if (!b || !s->arena || *count >= NI_CERT_NAMES_MAX) return;
    if (tag == 0x82) {                                   /* [2] dNSName, IA5String */
        if (n == 0 || n > NI_DNS_NAME_MAX) return;
        for (size_t i = 0; i < n; i++) {
            if (b[i] <= 0x20 || b[i] >= 0x7f) return;
            text[i] = (char)(b[i] >= 'A' && b[i] <= 'Z' ? b[i] + ('a' - 'A') : b[i]);
        }
        text[n] = 0;
    } else if (tag == 0x87 && (n == 4 || n == 16)) {     /* [7] iPAddress */
        ni_addr a;
        memset(&a, 0, sizeof a);
        a.family = n == 4 ? 4 : 6;
        memcpy(a.b, b, n);
        ni_addr_format(&a, text);                        /* NI_ADDR_STRLEN <= sizeof text */
    } else {
        return;
    }
    ni_strlist *e = ni_arena_alloc(s->arena, sizeof *e);
    if (!e) return;
    e->s = ni_arena_strdup(s->arena, text);
    if (!e->s) return;
    **tail = e;
    *tail = &e->next;
    (*count)++;
}

/* Extensions ([3] EXPLICIT SEQUENCE OF Extension, RFC 5280 §4.1.2.9): the
 * subjectAltName's (§4.2.1.6, OID 2.5.29.17) GeneralNames into cert_names. */
static void cert_extensions(ni_session *s, ni_cursor *ext)
{
    static const uint8_t san_oid[] = { 0x55, 0x1d, 0x11 };
    ni_cursor seq, e, v;
    uint8_t tag;
    if (!ni_cur_der(ext, &tag, &seq) || tag != 0x30) return;
    while (ni_cur_left(&seq)) {
        if (!ni_cur_der(&seq, &tag, &e) || tag != 0x30) return;      /* Extension */
        if (!ni_cur_der(&e, &tag, &v) || tag != 0x06) return;        /* extnID */
        if (ni_cur_left(&v) != sizeof san_oid || memcmp(ni_cur_ptr(&v), san_oid, sizeof san_oid)) continue;
        if (!ni_cur_der(&e, &tag, &v)) return;
        if (tag == 0x01 && !ni_cur_der(&e, &tag, &v)) return;         /* critical */
        if (tag != 0x04) return;                                      /* extnValue */
        ni_cursor names, name;
        if (!ni_cur_der(&v, &tag, &names) || tag != 0x30) return;     /* GeneralNames */
        ni_strlist **tail = &s->cert_names;
        unsigned count = 0;
        while (*tail) { tail = &(*tail)->next; count++; }
        while (ni_cur_left(&names) && count < NI_CERT_NAMES_MAX) {
            if (!ni_cur_der(&names, &tag, &name)) return;
            add_cert_name(s, &tail, &count, tag, &name);
        }
        return;
    }
}

/* Certificate message body (RFC 5246 §7.4.2): the end-entity certificate's
 * issuer, subject and subjectAltName names.  The TBSCertificate is walked
 * TLV by TLV (RFC 5280 §4.1: [0] version, serialNumber, signature, issuer,
 * validity, subject, subjectPublicKeyInfo, [1] [2] unique ids, [3]
 * extensions); decoding the whole certificate would make OpenSSL decode its
 * public key, far too costly per session. */
static void certificate(ni_session *s, ni_cursor *c)
{
    ni_cursor list = ni_cur_sub(c, ni_cur_u24(c));
    uint32_t len = ni_cur_u24(&list);
    const uint8_t *der = ni_cur_bytes(&list, len);
    if (!der || len == 0) return;
    ni_cursor d, cert, tbs, v;
    ni_cur_init(&d, der, len);
    uint8_t tag;
    if (!ni_cur_der(&d, &tag, &cert) || tag != 0x30) return;         /* Certificate */
    if (!ni_cur_der(&cert, &tag, &tbs) || tag != 0x30) return;       /* TBSCertificate */
    const uint8_t *start = ni_cur_ptr(&tbs);
    if (!ni_cur_der(&tbs, &tag, &v)) return;
    if (tag == 0xa0) { start = ni_cur_ptr(&tbs); if (!ni_cur_der(&tbs, &tag, &v)) return; }  /* version */
    if (tag != 0x02) return;                                          /* serialNumber */
    if (!ni_cur_der(&tbs, &tag, &v) || tag != 0x30) return;          /* signature */
    start = ni_cur_ptr(&tbs);
    if (!ni_cur_der(&tbs, &tag, &v) || tag != 0x30) return;          /* issuer */
    const uint8_t *issuer = start;
    size_t issuer_len = (size_t)(ni_cur_ptr(&tbs) - start);
    if (!ni_cur_der(&tbs, &tag, &v) || tag != 0x30) return;          /* validity */
    start = ni_cur_ptr(&tbs);
    if (!ni_cur_der(&tbs, &tag, &v) || tag != 0x30) return;          /* subject */
    s->tls_cert_issuer = der_name(s, issuer, issuer_len);
    s->tls_cert_subject = der_name(s, start, (size_t)(ni_cur_ptr(&tbs) - start));
    if (!ni_cur_der(&tbs, &tag, &v) || tag != 0x30) return;          /* subjectPublicKeyInfo */
    while (ni_cur_left(&tbs)) {                                       /* [1], [2] unique ids, [3] extensions */
        if (!ni_cur_der(&tbs, &tag, &v)) return;
        if (tag == 0xa3) { cert_extensions(s, &v); return; }
    }
}

/* The server's handshake messages from the start of its stream: they may
 * share records or span them.  Returns NEED_MORE until the ServerHello and,
 * below TLS 1.3, the Certificate have arrived. */
static ni_tls_result server_flight(ni_session *s, const uint8_t *p, size_t n)
{
    /* The handshake bytes: read in place while they come from one record,
     * copied together (buf) once a second record adds to them. */
    const uint8_t *hs = NULL;
    uint8_t *buf = NULL;
    size_t have = 0;
    bool ended = false;                      /* a non-handshake record follows */
    ni_cursor rc;
    ni_cur_init(&rc, p, n);
    tls_record r;
    for (bool first = true; next_record(&rc, &r); first = false) {
        if (r.type != CT_HANDSHAKE) { ended = true; break; }
        if (r.major != 3 || r.len == 0 || r.len > TLS_RECORD_MAX) { free(buf); return first ? NI_TLS_MALFORMED : NI_TLS_DONE; }
        size_t avail = r.avail;
        if (have + avail > NI_TLS_HELLO_MAX) avail = NI_TLS_HELLO_MAX - have;
        if (first) hs = r.frag;
        else {
            if (!buf) {
                if (!(buf = malloc(NI_TLS_HELLO_MAX))) return NI_TLS_DONE;
                memcpy(buf, hs, have);
                hs = buf;
            }
            memcpy(buf + have, r.frag, avail);
        }
        have += avail;
        if (avail < r.len) break;
    }
    ni_tls_result res = NI_TLS_NEED_MORE;
    ni_cursor c;
    ni_cur_init(&c, hs, have);
    bool hello = false;
    while (ni_cur_left(&c) >= 4 && res == NI_TLS_NEED_MORE) {
        ni_cursor h = c;                                  /* the message header, peeked */
        uint8_t type = ni_cur_u8(&h);
        size_t len = ni_cur_u24(&h);
        if (len > NI_TLS_HELLO_MAX) { res = NI_TLS_MALFORMED; break; }
        if (ni_cur_left(&c) < 4 + len) break;           /* incomplete message */
        ni_cur_skip(&c, 4);
        ni_cursor body = ni_cur_sub(&c, len);
        if (type == 2) {
            res = server_hello(s, &body);
            hello = true;
            if (res == NI_TLS_DONE && s->tls_version < 0x0304) res = NI_TLS_NEED_MORE;
        } else if (type == 11 && hello) {
            certificate(s, &body);
            res = NI_TLS_DONE;
        } else if (!hello) {
            res = NI_TLS_DONE;                           /* not a server flight */
        } else if (type == 14 || type == 12 || type == 13) {
            res = NI_TLS_DONE;                           /* no certificate sent */
        }
    }
    if (res == NI_TLS_NEED_MORE && (ended || have >= NI_TLS_HELLO_MAX))
        res = hello ? NI_TLS_DONE : NI_TLS_MALFORMED;
    free(buf);
    return res;
}

ni_tls_result ni_tls_parse_stream(ni_session *s, int dir, const uint8_t *p, size_t n)
{
    return ni_tls_parse_stream_ex(s, dir, p, n, NULL);
}

ni_tls_result ni_tls_parse_stream_ex(ni_session *s, int dir, const uint8_t *p, size_t n, ni_ja4_cache *cache)
{
    if (n == 0) return NI_TLS_NEED_MORE;
    ni_cursor c;
    ni_cur_init(&c, p, n);
    uint8_t b0 = ni_cur_u8(&c);
    if (b0 & 0x80) {
        uint16_t v = 0;
        int r = dir == 0 ? sslv2_hello(p, n, &v) : 0;
        if (r < 0) return NI_TLS_NEED_MORE;
        if (r == 0) return NI_TLS_NOT_TLS;
        if (!s->tls_client_version) s->tls_client_version = v;
        return NI_TLS_DONE;                          /* SSLv2 framing: given up cleanly */
    }
    if (dir == 1 && b0 == 21 && (n < 2 || ni_cur_u8(&c) == 3))
        return NI_TLS_DONE;                          /* the server answers with an alert */
    if (!ni_tls_probe(p, n)) return NI_TLS_NOT_TLS;
    if (dir == 1) return server_flight(s, p, n);

    /* Pass 1: walk the records until the first handshake message is
     * complete; a partially received record contributes what is there. */
    ni_cursor h, rc;
    uint8_t hdr[4];
    size_t have = 0, total = 0, nrec = 0, got = 0;
    const uint8_t *first = NULL;
    size_t first_len = 0;
    tls_record r;
    ni_cur_init(&rc, p, n);
    for (;;) {
        if (!next_record(&rc, &r)) return NI_TLS_NEED_MORE;
        if (r.type != CT_HANDSHAKE || r.major != 3 || r.len == 0 || r.len > TLS_RECORD_MAX)
            return nrec == 0 ? NI_TLS_NOT_TLS : NI_TLS_MALFORMED;
        if (nrec == 0) { first = r.frag; first_len = r.avail; }
        nrec++;
        ni_cur_init(&h, r.frag, r.avail);
        while (have < 4 && ni_cur_left(&h)) hdr[have++] = ni_cur_u8(&h);
        if (have == 4 && total == 0) {
            total = 4 + (((size_t)hdr[1] << 16) | ((size_t)hdr[2] << 8) | hdr[3]);
            if (total > NI_TLS_HELLO_MAX) return NI_TLS_MALFORMED;
            if ((dir == 0 && hdr[0] != 1) || (dir == 1 && hdr[0] != 2)) return NI_TLS_DONE;
        }
        got += r.avail;
        if (total && got >= total) break;
        if (r.avail < r.len) return NI_TLS_NEED_MORE;
    }

    if (first_len >= total) return ni_tls_parse_handshake_ex(s, first, total, false, cache);

    /* Pass 2: the message spans records — gather it. */
    uint8_t *buf = malloc(total);
    if (!buf) return NI_TLS_DONE;
    got = 0;
    ni_cur_init(&rc, p, n);
    while (got < total && next_record(&rc, &r)) {
        size_t take = total - got < r.avail ? total - got : r.avail;
        memcpy(buf + got, r.frag, take);
        got += take;
    }
    ni_tls_result res = ni_tls_parse_handshake_ex(s, buf, total, false, cache);
    free(buf);
    return res;

}
