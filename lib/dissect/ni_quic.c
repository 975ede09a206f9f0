/* ni_quic.c — the client's QUIC Initial packets: long header (RFC 9000
 * §17.2, §17.2.2), Initial secrets from the client's Destination Connection
 * ID by HKDF (RFC 9001 §5.2, RFC 8446 §7.1 HKDF-Expand-Label), header
 * protection removal with AES-128-ECB (RFC 9001 §5.4), payload decryption
 * with AES-128-GCM (RFC 9001 §5.3), the frames allowed in Initial packets
 * (RFC 9000 §19: PADDING, PING, ACK, CRYPTO, CONNECTION_CLOSE) and CRYPTO
 * reassembly by offset across coalesced packets and datagrams (bounded by
 * NI_TLS_HELLO_MAX).  Versions: 1, 2 (RFC 9369: its own salt, "quicv2"
 * labels, Initial type 1), IETF drafts 21-34 and Facebook mvfst (0xfaceb001
 * with the draft-22 salt, 0xfaceb002/0xfaceb00e with the draft-27 salt).
 * Google QUIC Q024-Q046 carries its CHLO in plaintext: its SNI and UAID tags
 * are read.
 * Cryptography is OpenSSL's libcrypto (HMAC-SHA256, EVP AES). */
#include "dissect/ni_quic.h"
#include "dissect/ni_tls.h"
#include "core/ni_arena.h"
#include "core/ni_cursor.h"
#include "core/ni_limits.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define QUIC_CID_MAX 20
#define QUIC_CHUNK   4096u     /* CRYPTO buffer growth step */

struct ni_quic_state {
    bool done;
    bool have_first;                   /* keys of the first Initial's DCID */
    ni_quic_keys first;
    uint8_t first_dcid[QUIC_CID_MAX];
    uint8_t first_dcid_len;
    uint32_t version;
    uint8_t *buf, *have;               /* CRYPTO bytes and their bitmap */
    size_t cap;                        /* bytes allocated in buf */
};

/* ---- versions ---------------------------------------------------------- */
static const uint8_t salt_v1[20] = {       /* RFC 9001 §5.2 (also drafts 33-34) */
    0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
    0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a };
static const uint8_t salt_v2[20] = {       /* RFC 9369 §3.3.1 */
    0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
    0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9 };
static const uint8_t salt_d29[20] = {      /* draft-ietf-quic-tls-29..32 */
    0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,
    0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99 };
static const uint8_t salt_d23[20] = {      /* draft-ietf-quic-tls-23..28 */
    0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7,
    0xd2, 0x43, 0x2b, 0xb4, 0x63, 0x65, 0xbe, 0xf9, 0xf5, 0x02 };
static const uint8_t salt_d22[20] = {      /* draft-ietf-quic-tls-21..22 */
    0x7f, 0xbc, 0xdb, 0x0e, 0x7c, 0x66, 0xbb, 0xe9, 0x19, 0x3a,
    0x96, 0xcd, 0x21, 0x51, 0x9e, 0xbd, 0x7a, 0x02, 0x64, 0x4a };

#define QUIC_V2 0x6b3343cfu

static const uint8_t *version_salt(uint32_t v)
{
    if (v == 1 || v == 0xff000021u || v == 0xff000022u) return salt_v1;
    if (v == QUIC_V2) return salt_v2;
    if (v >= 0xff00001du && v <= 0xff000020u) return salt_d29;
    if ((v >= 0xff000017u && v <= 0xff00001cu) || v == 0xfaceb002u || v == 0xfaceb00eu) return salt_d23;
    if (v == 0xff000015u || v == 0xff000016u || v == 0xfaceb001u) return salt_d22;
    return NULL;
}

/* Google QUIC with a plaintext CHLO: Q024..Q046 ("Q0" + two digits). */
static bool gquic_plain(uint32_t v)
{
    if ((v >> 16) != 0x5130) return false;
    unsigned d1 = (v >> 8) & 0xff, d2 = v & 0xff;
    if (d1 < '0' || d1 > '9' || d2 < '0' || d2 > '9') return false;
    unsigned num = (d1 - '0') * 10 + (d2 - '0');
    return num >= 24 && num <= 46;
}

static uint32_t be32_at(const ni_cursor *c, size_t at)
{
    return ((uint32_t)ni_cur_at(c, at) << 24) | ((uint32_t)ni_cur_at(c, at + 1) << 16) |
           ((uint32_t)ni_cur_at(c, at + 2) << 8) | ni_cur_at(c, at + 3);
}

/* Version of a Google QUIC packet (either header form), 0 if not one. */
static uint32_t gquic_version(const ni_cursor *c)
{
    size_t n = c->len;
    uint8_t b0 = ni_cur_at(c, 0);
    if (n >= 5 && (b0 & 0x80) && ni_cur_at(c, 1) == 'Q' && ni_cur_at(c, 2) == '0') return be32_at(c, 1);  /* Q046+ */
    if (n >= 13 && !(b0 & 0x80) && (b0 & 0x01) && (b0 & 0x08) && ni_cur_at(c, 9) == 'Q' && ni_cur_at(c, 10) == '0')
        return be32_at(c, 9);                                                                          /* public header */
    return 0;
}

bool ni_quic_probe(const uint8_t *p, size_t n)
{
    if (n < 7) return false;
    ni_cursor c;
    ni_cur_init(&c, p, n);
    if (gquic_version(&c)) return true;
    uint8_t b0 = ni_cur_at(&c, 0);
    if (!(b0 & 0x80)) return false;
    uint32_t v = be32_at(&c, 1);
    if (!version_salt(v)) return false;
    unsigned type = (b0 >> 4) & 3;
    return type == (v == QUIC_V2 ? 1u : 0u) && ni_cur_at(&c, 5) <= QUIC_CID_MAX;
}

/* ---- keys -------------------------------------------------------------- */

/* HKDF-Expand-Label(secret, label, "", len) with one HMAC block (len <= 32). */
static bool expand_label(const uint8_t secret[32], const char *label, uint8_t *out, size_t len)
{
    uint8_t info[2 + 1 + 6 + 32 + 1 + 1];
    size_t ll = strlen(label), i = 0;
    if (ll > 32 || len > 32) return false;
    info[i++] = 0; info[i++] = (uint8_t)len;
    info[i++] = (uint8_t)(6 + ll);
    memcpy(info + i, "tls13 ", 6); i += 6;
    memcpy(info + i, label, ll); i += ll;
    info[i++] = 0;                     /* empty context */
    info[i++] = 1;                     /* T(1) counter */
    uint8_t t[EVP_MAX_MD_SIZE];
    unsigned tl = 0;
    if (!HMAC(EVP_sha256(), secret, 32, info, i, t, &tl) || tl < len) return false;
    memcpy(out, t, len);
    return true;
}

bool ni_quic_client_keys(uint32_t version, const uint8_t *dcid, size_t dcid_len, ni_quic_keys *k)
{
    const uint8_t *salt = version_salt(version);
    if (!salt || dcid_len > QUIC_CID_MAX) return false;
    uint8_t initial[EVP_MAX_MD_SIZE], client[32];
    unsigned il = 0;
    static const uint8_t empty = 0;
    if (!HMAC(EVP_sha256(), salt, 20, dcid_len ? dcid : &empty, dcid_len, initial, &il) || il != 32)
        return false;
    bool v2 = version == QUIC_V2;
    return expand_label(initial, "client in", client, 32) &&
           expand_label(client, v2 ? "quicv2 key" : "quic key", k->key, 16) &&
           expand_label(client, v2 ? "quicv2 iv" : "quic iv", k->iv, 12) &&
           expand_label(client, v2 ? "quicv2 hp" : "quic hp", k->hp, 16);
}

/* ---- packet protection ------------------------------------------------- */

/* Removes header protection and decrypts one Initial packet pkt[0..len)
 * whose packet number starts at pn_off.  On success the plaintext is in
 * out (at most len bytes) and its length returned; -1 on failure. */
static long unprotect(EVP_CIPHER_CTX *cx, const ni_quic_keys *k, const uint8_t *pkt, size_t len,
                      size_t pn_off, uint8_t *scratch, uint8_t *out)
{
    if (pn_off + 4 + 16 > len || len - pn_off < 4 + 16 + 1) return -1;
    uint8_t mask[32];
    int ml = 0, fl = 0;
    if (!EVP_EncryptInit_ex(cx, EVP_aes_128_ecb(), NULL, k->hp, NULL)) return -1;
    EVP_CIPHER_CTX_set_padding(cx, 0);
    if (!EVP_EncryptUpdate(cx, mask, &ml, pkt + pn_off + 4, 16) || ml != 16) return -1;
    memcpy(scratch, pkt, pn_off + 4);
    scratch[0] ^= mask[0] & 0x0f;
    size_t pn_len = (scratch[0] & 3) + 1u;
    uint8_t nonce[12];
    memcpy(nonce, k->iv, 12);
    for (size_t i = 0; i < pn_len; i++) {
        scratch[pn_off + i] ^= mask[1 + i];
        nonce[12 - pn_len + i] ^= scratch[pn_off + i];
    }
    size_t hdr = pn_off + pn_len;
    if (len < hdr + 16) return -1;
    size_t clen = len - hdr - 16;
    int ol = 0;
    if (!EVP_DecryptInit_ex(cx, EVP_aes_128_gcm(), NULL, NULL, NULL) ||
        !EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) ||
        !EVP_DecryptInit_ex(cx, NULL, NULL, k->key, nonce) ||
        !EVP_DecryptUpdate(cx, NULL, &ol, scratch, (int)hdr) ||
        !EVP_DecryptUpdate(cx, out, &ol, pkt + hdr, (int)clen) ||
        !EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_SET_TAG, 16, (void *)(pkt + len - 16)) ||
        EVP_DecryptFinal_ex(cx, out + ol, &fl) <= 0)
        return -1;
    return (long)ol + fl;
}

/* ---- CRYPTO reassembly ------------------------------------------------- */

static bool varint(ni_cursor *c, uint64_t *v)
{
    *v = ni_cur_varint(c);
    return !c->bad;
}

static void crypto_data(ni_quic_state *st, uint64_t off, const uint8_t *d, size_t n)
{
    if (off >= NI_TLS_HELLO_MAX || n == 0) return;
    if (n > NI_TLS_HELLO_MAX - off) n = (size_t)(NI_TLS_HELLO_MAX - off);
    size_t end = (size_t)off + n;
    if (end > st->cap) {
        size_t nc = (end + QUIC_CHUNK - 1) / QUIC_CHUNK * QUIC_CHUNK;
        if (nc > NI_TLS_HELLO_MAX) nc = NI_TLS_HELLO_MAX;
        uint8_t *nb = realloc(st->buf, nc);
        if (!nb) return;
        st->buf = nb;
        uint8_t *nh = realloc(st->have, nc / 8 + 1);
        if (!nh) return;
        memset(nh + (st->cap ? st->cap / 8 + 1 : 0), 0, nc / 8 + 1 - (st->cap ? st->cap / 8 + 1 : 0));
        st->have = nh;
        st->cap = nc;
    }
    memcpy(st->buf + off, d, n);
    for (size_t i = (size_t)off; i < end; i++) st->have[i >> 3] |= (uint8_t)(1u << (i & 7));
}

static bool have_range(const ni_quic_state *st, size_t end)
{
    if (end > st->cap) return false;
    for (size_t i = 0; i < end; i++)
        if (!(st->have[i >> 3] & (1u << (i & 7)))) return false;
    return true;
}

/* Walks the frames of a decrypted Initial payload; false on
 * CONNECTION_CLOSE (the handshake is over). */
static bool frames(ni_quic_state *st, const uint8_t *p, size_t n)
{
    ni_cursor c;
    ni_cur_init(&c, p, n);
    while (ni_cur_left(&c) > 0) {
        uint64_t type, a, b, cnt;
        if (!varint(&c, &type)) return true;
        switch (type) {
        case 0x00: case 0x01: break;                     /* PADDING, PING */
        case 0x02: case 0x03:                            /* ACK */
            if (!varint(&c, &a) || !varint(&c, &a) || !varint(&c, &cnt) || !varint(&c, &a)) return true;
            for (uint64_t i = 0; i < cnt && !c.bad; i++) { varint(&c, &a); varint(&c, &b); }
            if (type == 0x03) { varint(&c, &a); varint(&c, &a); varint(&c, &a); }
            if (c.bad) return true;
            break;
        case 0x06: {                                     /* CRYPTO */
            if (!varint(&c, &a) || !varint(&c, &b) || b > ni_cur_left(&c)) return true;
            const uint8_t *d = ni_cur_bytes(&c, (size_t)b);
            crypto_data(st, a, d, (size_t)b);
            break;
        }
        case 0x1c: case 0x1d:                            /* CONNECTION_CLOSE */
            return false;
        default:
            return true;                                 /* not allowed in Initial: stop here */
        }
    }
    return true;
}

/* ---- Google QUIC CHLO -------------------------------------------------- */

/* Finds a plaintext CHLO message and copies its SNI and UAID (User-Agent)
 * tags into the session. */
static void gquic_chlo(ni_session *s, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 8 <= n; i++) {
        if (memcmp(p + i, "CHLO", 4) != 0) continue;
        ni_cursor c;
        ni_cur_init(&c, p + i + 4, n - i - 4);
        uint16_t lo = ni_cur_u8(&c), hi = ni_cur_u8(&c);
        uint16_t tags = (uint16_t)(lo | (hi << 8));   /* little-endian */
        ni_cur_skip(&c, 2);
        if (tags == 0 || tags > 128 || !ni_cur_has(&c, (size_t)tags * 8)) continue;
        ni_cursor tab = ni_cur_sub(&c, (size_t)tags * 8);
        const uint8_t *base = ni_cur_ptr(&c);
        size_t avail = ni_cur_left(&c);
        uint32_t prev = 0;
        for (unsigned t = 0; t < tags; t++) {
            const uint8_t *tag = ni_cur_bytes(&tab, 4);
            uint32_t end = ni_cur_u32_le(&tab);
            if (!tag || end < prev || end > avail) return;
            if (!memcmp(tag, "SNI\0", 4) && end > prev && !s->sni && s->arena)
                s->sni = ni_arena_strndup(s->arena, (const char *)base + prev, end - prev);
            if (!memcmp(tag, "UAID", 4) && end > prev && !s->quic_user_agent && s->arena)
                s->quic_user_agent = ni_arena_strndup(s->arena, (const char *)base + prev,
                                                      end - prev > NI_HTTP_FIELD_MAX ? NI_HTTP_FIELD_MAX : end - prev);
            prev = end;
        }
        return;
    }
}

/* ---- datagrams --------------------------------------------------------- */

static void finish(ni_quic_state *st)
{
    st->done = true;
    free(st->buf); free(st->have);
    st->buf = st->have = NULL;
    st->cap = 0;
}

bool ni_quic_datagram(ni_quic_state **stp, ni_session *s, const uint8_t *p, size_t n)
{
    if (!*stp) {
        *stp = calloc(1, sizeof **stp);
        if (!*stp) return true;
    }
    ni_quic_state *st = *stp;
    if (st->done) return true;

    ni_cursor pc;
    ni_cur_init(&pc, p, n);
    uint32_t gv = gquic_version(&pc);
    if (gv) {
        if (gquic_plain(gv)) gquic_chlo(s, p, n);
        finish(st);
        return true;
    }

    EVP_CIPHER_CTX *cx = EVP_CIPHER_CTX_new();
    uint8_t *scratch = malloc(n ? n : 1), *plain = malloc(n ? n : 1);
    if (!cx || !scratch || !plain) { EVP_CIPHER_CTX_free(cx); free(scratch); free(plain); finish(st); return true; }

    size_t off = 0;
    unsigned initials = 0;
    bool closed = false;
    while (n - off >= 7 && !closed) {
        const uint8_t *pk = p + off;
        ni_cursor c;
        ni_cur_init(&c, pk, n - off);
        uint8_t b0 = ni_cur_u8(&c);
        if (!(b0 & 0x80)) break;                         /* short header: 1-RTT */
        uint32_t v = ni_cur_u32(&c);
        if (v == 0 || !version_salt(v)) break;
        uint8_t dl = ni_cur_u8(&c);
        const uint8_t *dcid = ni_cur_bytes(&c, dl);
        uint8_t sl = ni_cur_u8(&c);
        ni_cur_skip(&c, sl);
        if (c.bad || dl > QUIC_CID_MAX || sl > QUIC_CID_MAX) break;
        unsigned type = (b0 >> 4) & 3;
        bool v2 = v == QUIC_V2;
        unsigned t_initial = v2 ? 1 : 0, t_retry = v2 ? 0 : 3;
        if (type == t_retry) break;
        uint64_t tok, len;
        if (type == t_initial && (!varint(&c, &tok) || !ni_cur_skip(&c, (size_t)tok))) break;
        if (!varint(&c, &len) || len > ni_cur_left(&c)) break;
        size_t pn_off = c.off, plen = pn_off + (size_t)len;
        if (type == t_initial) {
            ni_quic_keys k, *use = &k;
            if (st->have_first && st->version == v && dl == st->first_dcid_len && !memcmp(dcid, st->first_dcid, dl))
                use = &st->first;
            else if (!ni_quic_client_keys(v, dcid, dl, &k)) break;
            long pl = unprotect(cx, use, pk, plen, pn_off, scratch, plain);
            if (pl < 0 && use != &st->first && st->have_first && st->version == v)
                pl = unprotect(cx, &st->first, pk, plen, pn_off, scratch, plain);   /* DCID changed after the server's reply */
            if (pl >= 0) {
                if (!st->have_first) {
                    st->have_first = true; st->first = k; st->version = v;
                    memcpy(st->first_dcid, dcid, dl); st->first_dcid_len = dl;
                }
                initials++;
                if (!frames(st, plain, (size_t)pl)) closed = true;
            }
        }
        off += plen;
    }
    EVP_CIPHER_CTX_free(cx);
    free(scratch); free(plain);

    if (initials == 0 && !st->have_first) { finish(st); return true; }   /* nothing we can read */
    if (closed) { finish(st); return true; }
    if (have_range(st, 4)) {
        size_t total = 4 + (((size_t)st->buf[1] << 16) | ((size_t)st->buf[2] << 8) | st->buf[3]);
        if (st->buf[0] != 1 || total > NI_TLS_HELLO_MAX) { finish(st); return true; }
        if (have_range(st, total)) {
            s->quic = true;
            ni_tls_parse_handshake(s, st->buf, total, true);
            finish(st);
            return true;
        }
    }
    if (initials == 0) { finish(st); return true; }      /* the client moved past Initials */
    return false;
}

void ni_quic_state_free(ni_quic_state *st)
{
    if (!st) return;
    free(st->buf); free(st->have);
    free(st);
}
