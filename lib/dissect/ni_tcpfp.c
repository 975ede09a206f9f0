/* ni_tcpfp.c — the client SYN's TCP/IP fingerprint in p0f 3's signature
 * syntax (see ni_tcpfp.h).
 *
 * Follows: RFC 791 (IPv4 header: TOS/ECN bits, DF and the reserved flag,
 * identification), RFC 8200 (IPv6 flow label, traffic class), RFC 9293
 * (TCP header, options kinds 0 EOL, 1 NOP, 2 MSS), RFC 7323 (3 window scale,
 * 8 timestamps), RFC 2018 (4 SACK permitted, 5 SACK), RFC 3168 (ECN: ECE,
 * CWR; RFC 3540 NS), and p0f 3.09b's README for what each signature field
 * and quirk means and how an observed packet is written (distance guess,
 * window as a multiple of MSS or MTU, EOL padding, "bad" options).
 *
 * Every byte is read through ni_cursor; a malformed option ends the option
 * walk with the quirk `bad`, as in p0f. */
#include "dissect/ni_tcpfp.h"
#include "core/ni_arena.h"
#include "core/ni_cursor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_EOL = 0, OPT_NOP = 1, OPT_MSS = 2, OPT_WS = 3, OPT_SOK = 4, OPT_SACK = 5, OPT_TS = 8 };
enum { TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_PSH = 0x08, TCP_ACK = 0x10, TCP_URG = 0x20,
       TCP_ECE = 0x40, TCP_CWR = 0x80 };
#define MAX_DIST 35             /* p0f: farthest distance believed for a TTL */

/* The TCP options of a SYN: o holds exactly the option bytes. */
static void parse_options(ni_cursor *o, ni_tcpfp_syn *out)
{
    while (ni_cur_left(o) && out->opt_cnt < NI_TCPFP_OPTS_MAX) {
        uint8_t kind = ni_cur_u8(o);
        out->opt_layout[out->opt_cnt++] = kind;
        size_t left = ni_cur_left(o);
        switch (kind) {
        case OPT_EOL: {
            /* the rest is padding; non-zero padding before the last byte is "opt+" */
            out->opt_eol_pad = (uint8_t)left;
            size_t i = 0;
            while (i < left && ni_cur_at(o, o->off + i) == 0) i++;
            if (i + 1 < left) out->quirks |= NI_TCPQ_OPT_EOL_NZ;
            ni_cur_skip(o, left);
            break;
        }
        case OPT_NOP:
            break;
        case OPT_MSS:
            if (left < 3) goto bad;
            if (ni_cur_u8(o) != 4) out->quirks |= NI_TCPQ_OPT_BAD;
            out->mss = ni_cur_u16(o);
            break;
        case OPT_WS:
            if (left < 2) goto bad;
            if (ni_cur_u8(o) != 3) out->quirks |= NI_TCPQ_OPT_BAD;
            out->wscale = ni_cur_u8(o);
            if (out->wscale > 14) out->quirks |= NI_TCPQ_OPT_EXWS;
            break;
        case OPT_SOK:
            if (left < 1) goto bad;
            if (ni_cur_u8(o) != 2) out->quirks |= NI_TCPQ_OPT_BAD;
            break;
        case OPT_TS: {
            if (left < 9) goto bad;
            if (ni_cur_u8(o) != 10) out->quirks |= NI_TCPQ_OPT_BAD;
            out->ts1 = ni_cur_u32(o);
            uint32_t ts2 = ni_cur_u32(o);
            if (!out->ts1) out->quirks |= NI_TCPQ_OPT_ZERO_TS1;
            if (ts2) out->quirks |= NI_TCPQ_OPT_NZ_TS2;     /* only SYNs are read */
            break;
        }
        default: {
            /* SACK (10..34 bytes) and unknown options (2..40) by their length */
            if (left < 1) goto bad;
            uint8_t len = ni_cur_u8(o);
            uint8_t lo = kind == OPT_SACK ? 10 : 2, hi = kind == OPT_SACK ? 34 : 40;
            if (len < lo || len > hi || (size_t)len - 1 > left) goto bad;
            ni_cur_skip(o, (size_t)len - 2);
            break;
        }
        }
        if (o->bad) goto bad;
    }
    if (ni_cur_left(o) == 0) return;
bad:
    out->quirks |= NI_TCPQ_OPT_BAD;
}

bool ni_tcpfp_parse(const uint8_t *l3, size_t caplen, size_t wire_len, ni_tcpfp_syn *out)
{
    memset(out, 0, sizeof *out);
    if (!l3) return false;
    ni_cursor c;
    ni_cur_init(&c, l3, caplen);
    uint8_t vb = ni_cur_at(&c, 0);
    size_t hl;
    if ((vb >> 4) == 4) {                       /* RFC 791 section 3.1 */
        hl = (vb & 0x0fu) * 4u;
        ni_cur_skip(&c, 1);
        uint8_t tos = ni_cur_u8(&c);
        ni_cur_skip(&c, 2);                     /* total length: wire_len */
        uint16_t id = ni_cur_u16(&c);
        uint16_t frag = ni_cur_u16(&c);
        out->ttl = ni_cur_u8(&c);
        uint8_t proto = ni_cur_u8(&c);
        if (c.bad || hl < 20 || proto != 6) return false;
        if (frag & 0x3fff) return false;       /* MF or an offset: a fragment */
        out->ip_ver = 4;
        out->ip_opt_len = (uint8_t)(hl - 20);
        if (tos & 0x03) out->quirks |= NI_TCPQ_ECN;
        if (frag & 0x8000) out->quirks |= NI_TCPQ_NZ_MBZ;
        if (frag & 0x4000) { out->quirks |= NI_TCPQ_DF; if (id) out->quirks |= NI_TCPQ_NZ_ID; }
        else if (!id) out->quirks |= NI_TCPQ_ZERO_ID;
    } else if ((vb >> 4) == 6) {                /* RFC 8200 section 3 */
        uint32_t vtf = ni_cur_u32(&c);
        ni_cur_skip(&c, 2);                     /* payload length: wire_len */
        uint8_t nxt = ni_cur_u8(&c);
        out->ttl = ni_cur_u8(&c);
        if (c.bad || nxt != 6) return false;    /* extension headers: not fingerprinted, as p0f */
        hl = 40;
        out->ip_ver = 6;
        if (vtf & 0xfffff) out->quirks |= NI_TCPQ_FLOW;
        if ((vtf >> 20) & 0x03) out->quirks |= NI_TCPQ_ECN;
    } else {
        return false;
    }
    ni_cursor t;
    ni_cur_init(&t, l3, caplen);
    if (!ni_cur_skip(&t, hl)) return false;
    ni_cur_skip(&t, 4);                         /* ports */
    uint32_t seq = ni_cur_u32(&t);
    uint32_t ack = ni_cur_u32(&t);
    uint8_t doff_rsvd = ni_cur_u8(&t);
    uint8_t flags = ni_cur_u8(&t);
    out->win = ni_cur_u16(&t);
    ni_cur_skip(&t, 2);                         /* checksum */
    uint16_t urg = ni_cur_u16(&t);
    if (t.bad) return false;
    if ((flags & (TCP_SYN | TCP_ACK | TCP_FIN | TCP_RST)) != TCP_SYN) return false;
    size_t doff = (size_t)(doff_rsvd >> 4) * 4u;
    if (doff < 20 || hl + doff > wire_len) return false;
    out->tot_hdr = (uint32_t)(hl + doff);
    out->payload = wire_len > hl + doff;
    if ((flags & (TCP_ECE | TCP_CWR)) || (doff_rsvd & 0x01)) out->quirks |= NI_TCPQ_ECN;
    if (!seq) out->quirks |= NI_TCPQ_ZERO_SEQ;
    if (ack) out->quirks |= NI_TCPQ_NZ_ACK;     /* ACK is clear on a SYN */
    if (flags & TCP_URG) out->quirks |= NI_TCPQ_URG;
    else if (urg) out->quirks |= NI_TCPQ_NZ_URG;
    if (flags & TCP_PSH) out->quirks |= NI_TCPQ_PUSH;
    /* options: the captured part of the header after the fixed 20 bytes; a
     * header cut by the snap length reads as malformed options */
    size_t optlen = doff - 20, have = ni_cur_left(&t);
    ni_cursor o = ni_cur_sub(&t, have < optlen ? have : optlen);
    parse_options(&o, out);
    if (have < optlen) out->quirks |= NI_TCPQ_OPT_BAD;
    return true;
}

/* ---- formatting (p0f's raw_sig) ------------------------------------------ */

/* Hops to the next of the usual initial TTLs. */
static unsigned guess_dist(unsigned ttl)
{
    if (ttl <= 32) return 32 - ttl;
    if (ttl <= 64) return 64 - ttl;
    if (ttl <= 128) return 128 - ttl;
    return 255 - ttl;
}

/* The window as a multiple of the MSS (mtu = false) or of an MTU (true),
 * trying the divisors in p0f's order; 0 when it is none. */
static unsigned win_multi(const ni_tcpfp_syn *s, bool *mtu)
{
    uint32_t win = s->win;
    int32_t mss = s->mss;
    if (!win || mss < 100) return 0;
    struct { int32_t div; bool mtu; bool when; } d[] = {
        { mss, false, true },
        { mss - 12, false, s->ts1 != 0 },           /* timestamps take 12 bytes */
        { 1500 - 40, false, true }, { 1500 - 40 - 12, false, true },
        { 1500 - 60, false, s->ip_ver == 6 }, { 1500 - 60 - 12, false, s->ip_ver == 6 },
        { mss + 40, true, true }, { mss + (int32_t)s->tot_hdr, true, true },
        { mss + 60, true, s->ip_ver == 6 }, { 1500, true, true },
    };
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++)
        if (d[i].when && d[i].div > 0 && win % (uint32_t)d[i].div == 0) {
            *mtu = d[i].mtu;
            return win / (uint32_t)d[i].div;
        }
    return 0;
}

/* The signature is built by hand, not with snprintf (it is formatted for
 * every SYN): the result is the same text, truncated to n - 1 bytes. */
typedef struct fpout { char *buf; size_t n, k; } fpout;

static void fp_str(fpout *o, const char *s)
{
    while (*s && o->k + 1 < o->n) o->buf[o->k++] = *s++;
    o->buf[o->k] = 0;
}

static void fp_uint(fpout *o, unsigned v)
{
    char d[12], *p = d + sizeof d;
    *--p = 0;
    do { *--p = (char)('0' + v % 10); v /= 10; } while (v);
    fp_str(o, p);
}

void ni_tcpfp_format(const ni_tcpfp_syn *s, char *buf, size_t n)
{
    static const char *const qn[] = { "df", "id+", "id-", "ecn", "0+", "flow", "seq-", "ack+", "ack-",
                                      "uptr+", "urgf+", "pushf+", "ts1-", "ts2+", "opt+", "exws", "bad" };
    if (!n) return;
    fpout o = { buf, n, 0 };
    buf[0] = 0;
    unsigned dist = guess_dist(s->ttl);
    fp_uint(&o, s->ip_ver); fp_str(&o, ":"); fp_uint(&o, s->ttl); fp_str(&o, "+");
    if (dist > MAX_DIST) fp_str(&o, "?");
    else fp_uint(&o, dist);
    fp_str(&o, ":"); fp_uint(&o, s->ip_opt_len); fp_str(&o, ":");
    fp_uint(&o, s->mss); fp_str(&o, ":");
    bool mtu = false;
    unsigned m = win_multi(s, &mtu);
    if (m) { fp_str(&o, mtu ? "mtu*" : "mss*"); fp_uint(&o, m); }
    else fp_uint(&o, s->win);
    fp_str(&o, ","); fp_uint(&o, s->wscale); fp_str(&o, ":");
    for (unsigned i = 0; i < s->opt_cnt; i++) {
        if (i) fp_str(&o, ",");
        switch (s->opt_layout[i]) {
        case OPT_EOL: fp_str(&o, "eol+"); fp_uint(&o, s->opt_eol_pad); break;
        case OPT_NOP: fp_str(&o, "nop"); break;
        case OPT_MSS: fp_str(&o, "mss"); break;
        case OPT_WS: fp_str(&o, "ws"); break;
        case OPT_SOK: fp_str(&o, "sok"); break;
        case OPT_SACK: fp_str(&o, "sack"); break;
        case OPT_TS: fp_str(&o, "ts"); break;
        default: fp_str(&o, "?"); fp_uint(&o, s->opt_layout[i]); break;
        }
    }
    fp_str(&o, ":");
    bool first = true;
    for (unsigned i = 0; i < sizeof qn / sizeof qn[0]; i++)
        if (s->quirks & (1u << i)) { if (!first) fp_str(&o, ","); fp_str(&o, qn[i]); first = false; }
    fp_str(&o, ":");
    fp_str(&o, s->payload ? "+" : "0");
}

/* ---- the producer (ni_producer.h) ------------------------------------------ */

typedef struct tcpfp_state { uint8_t packets; } tcpfp_state;

/* The producer's context: the signatures already formatted, by the fields
 * they come from (the same few client stacks send most SYNs).  The key is
 * the parsed SYN with ts1 reduced to whether it is zero, the only use the
 * formatting makes of it; a hit compares the whole key, so the text is the
 * one formatting would write.  Direct-mapped, replaced on collision: a
 * crafted collision only costs the formatting, so the slot hash is a fast
 * unkeyed one. */
#define FP_CACHE_SLOTS 256
typedef struct fp_slot { bool used; ni_tcpfp_syn key; char sig[NI_TCPFP_STRLEN]; } fp_slot;
typedef struct fp_cache { fp_slot slot[FP_CACHE_SLOTS]; } fp_cache;

static void *prod_ctx_new(const ni_producer_opts *o, ni_stats *st, ni_error *err)
{
    (void)o; (void)st;
    fp_cache *c = calloc(1, sizeof *c);
    if (!c) ni_error_set(err, NI_ERR_NOMEM, "SYN fingerprints: out of memory");
    return c;
}

static void prod_ctx_free(void *ctx) { free(ctx); }

static fp_slot *fp_find(fp_cache *c, const ni_tcpfp_syn *k, bool *hit)
{
    const unsigned char *b = (const unsigned char *)k;
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    size_t i = 0;
    for (; i + 8 <= sizeof *k; i += 8) {
        uint64_t w;
        memcpy(&w, b + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 29;
    }
    for (; i < sizeof *k; i++) h = (h ^ b[i]) * 0x100000001b3ULL;
    fp_slot *sl = &c->slot[(h >> 32) % FP_CACHE_SLOTS];
    *hit = sl->used && !memcmp(&sl->key, k, sizeof *k);
    return sl;
}

static bool prod_packet(void *ctx, void *state, ni_pflow *f, int dir, const ni_packet *p)
{
    tcpfp_state *st = state;
    ni_session *s = f->s;
    if (s->proto != 6) return true;
    if (dir == 0 && (p->tcp_flags & (TCP_SYN | TCP_ACK | TCP_FIN | TCP_RST)) == TCP_SYN) {
        ni_tcpfp_syn syn;
        if (ni_tcpfp_parse(p->l3, p->l3_caplen, p->ip_len, &syn)) {
            s->tcp_window = syn.win;
            syn.ts1 = syn.ts1 != 0;                 /* the key: what the text depends on */
            bool hit = false;
            fp_slot *sl = ctx ? fp_find(ctx, &syn, &hit) : NULL;
            if (!hit) {
                char sig[NI_TCPFP_STRLEN];
                ni_tcpfp_format(&syn, sig, sizeof sig);
                s->tcp_fingerprint = ni_arena_strdup(s->arena, sig);
                if (sl) { sl->used = true; memcpy(&sl->key, &syn, sizeof syn); memcpy(sl->sig, sig, sizeof sig); }
            } else {
                s->tcp_fingerprint = ni_arena_strdup(s->arena, sl->sig);
            }
        }
        return true;
    }
    /* the client's first packet was not a SYN (seen mid-way): no fingerprint */
    return dir == 0 || ++st->packets >= 4;
}

const ni_producer ni_tcpfp_producer = {
    .name = "tcpfp", .state_size = sizeof(tcpfp_state),
    .ctx_new = prod_ctx_new, .ctx_free = prod_ctx_free,
    .on_packet = prod_packet,
};
