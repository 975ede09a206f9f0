/* ni_dns.c — DNS message parser (RFC 1035 §4.1, §4.1.4; RFC 3596).  See
 * ni_dns.h for the text form of names and what reaches the session. */
#include "dissect/ni_dns.h"
#include "core/ni_str.h"

#include <stdio.h>
#include <string.h>

#include "core/ni_arena.h"
#include "core/ni_cursor.h"

enum { T_A = 1, T_NS = 2, T_CNAME = 5, T_PTR = 12, T_MX = 15, T_TXT = 16, T_AAAA = 28, T_SRV = 33, T_DNAME = 39 };

bool ni_dns_plausible(const uint8_t *p, size_t n)
{
    ni_cursor c;
    ni_cur_init(&c, p, n);
    ni_cur_u16(&c);                                  /* id */
    uint16_t flags = ni_cur_u16(&c);
    uint32_t qd = ni_cur_u16(&c), an = ni_cur_u16(&c), ns = ni_cur_u16(&c), ar = ni_cur_u16(&c);
    if (c.bad) return false;
    unsigned opcode = (flags >> 11) & 15;
    if (opcode == 3 || opcode > 6) return false;
    if (qd + an + ns + ar == 0 || qd > 64) return false;
    return qd * 5 + (an + ns + ar) * 11 <= n - 12;
}

/* Moves the cursor to an absolute offset (bounds-checked). */
static bool cur_seek(ni_cursor *c, size_t off)
{
    if (off > c->len) { c->bad = true; return false; }
    c->off = off;
    return true;
}

static bool put(char *out, size_t cap, size_t *o, char ch)
{
    if (*o + 1 >= cap) return false;
    out[(*o)++] = ch;
    return true;
}

/* A label byte as written in a name: lower-cased (ASCII letters), or 0
 * when it is written as a \DDD escape (not printable ASCII, '.', '\\'). */
static const uint8_t label_char[256] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x00, 0x2f,
    0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
    0x40, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
    0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x5b, 0x00, 0x5d, 0x5e, 0x5f,
    0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
    0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

int ni_dns_name(const uint8_t *msg, size_t n, size_t off, char *out, size_t cap, size_t *next)
{
    ni_cursor c;
    ni_cur_init(&c, msg, n);
    if (cap == 0) return -1;
    out[0] = 0;
    if (!cur_seek(&c, off) || off >= n) return -2;
    size_t o = 0, wire = 1, labels = 0;
    unsigned jumps = 0;
    bool next_set = false;
    for (;;) {
        uint8_t len = ni_cur_u8(&c);
        if (c.bad) return -2;
        if ((len & 0xc0) == 0xc0) {                  /* pointer (§4.1.4) */
            uint8_t lo = ni_cur_u8(&c);
            if (c.bad) return -2;
            if (!next_set) { *next = c.off; next_set = true; }
            if (++jumps > NI_DNS_POINTERS_MAX) return -1;
            if (!cur_seek(&c, ((size_t)(len & 0x3f) << 8) | lo) || c.off >= n) return -1;
            continue;
        }
        if (len & 0xc0) return -1;                   /* extended label types */
        if (len == 0) break;
        wire += (size_t)len + 1;
        if (wire > NI_DNS_NAME_MAX || ++labels > NI_DNS_LABELS_MAX) return -1;
        const uint8_t *l = ni_cur_bytes(&c, len);
        if (!l) return -2;
        if (o + 1 + 4 * (size_t)len < cap) {         /* room for the worst case: unchecked */
            char *w = out + o;
            if (o) *w++ = '.';
            for (const uint8_t *q = l, *end = l + len; q < end; q++) {
                uint8_t b = *q, m = label_char[b];
                if (m) {
                    *w++ = (char)m;
                } else {
                    w[0] = '\\';
                    w[1] = (char)('0' + b / 100);
                    w[2] = (char)('0' + b / 10 % 10);
                    w[3] = (char)('0' + b % 10);
                    w += 4;
                }
            }
            o = (size_t)(w - out);
            continue;
        }
        if (o && !put(out, cap, &o, '.')) return -1;
        for (size_t i = 0; i < len; i++) {
            uint8_t b = l[i];
            b = (uint8_t)ni_ascii_lower((char)b);
            if (b < 0x21 || b > 0x7e || b == '.' || b == '\\') {
                char esc[5];
                snprintf(esc, sizeof esc, "\\%03u", (unsigned)b);
                for (int k = 0; k < 4; k++)
                    if (!put(out, cap, &o, esc[k])) return -1;
            } else if (!put(out, cap, &o, (char)b)) {
                return -1;
            }
        }
    }
    if (!next_set) *next = c.off;
    out[o] = 0;
    return (int)o;
}

/* Appends v to the session's answers unless present or the list is full. */
static void add_answer(ni_session *s, const char *v)
{
    if (!s->arena || !v[0]) return;
    unsigned count = 0;
    ni_strlist **tail = &s->dns_answers;
    for (ni_strlist *l = s->dns_answers; l; l = l->next) {
        if (strcmp(l->s, v) == 0) return;
        count++;
        tail = &l->next;
    }
    if (count >= NI_DNS_ANSWERS_MAX) return;
    ni_strlist *e = ni_arena_alloc(s->arena, sizeof *e);
    char *str = e ? ni_arena_strdup(s->arena, v) : NULL;
    if (!str) return;
    e->s = str;
    e->next = NULL;
    *tail = e;
}

/* ---- mnemonics ----------------------------------------------------------- */
/* RR types (IANA "Resource Record (RR) TYPEs"; RFC 1035 §3.2.2, RFC 3596,
 * RFC 2782, RFC 4034, RFC 9460...); an unlisted type is "TYPEnnn" (RFC 3597 §5). */
static const struct { uint16_t v; const char *n; } qtypes[] = {
    { 1, "A" }, { 2, "NS" }, { 3, "MD" }, { 4, "MF" }, { 5, "CNAME" }, { 6, "SOA" },
    { 7, "MB" }, { 8, "MG" }, { 9, "MR" }, { 10, "NULL" }, { 11, "WKS" }, { 12, "PTR" },
    { 13, "HINFO" }, { 14, "MINFO" }, { 15, "MX" }, { 16, "TXT" }, { 17, "RP" },
    { 18, "AFSDB" }, { 19, "X25" }, { 20, "ISDN" }, { 21, "RT" }, { 22, "NSAP" },
    { 23, "NSAP-PTR" }, { 24, "SIG" }, { 25, "KEY" }, { 26, "PX" }, { 27, "GPOS" },
    { 28, "AAAA" }, { 29, "LOC" }, { 30, "NXT" }, { 31, "EID" }, { 32, "NIMLOC" },
    { 33, "SRV" }, { 34, "ATMA" }, { 35, "NAPTR" }, { 36, "KX" }, { 37, "CERT" },
    { 38, "A6" }, { 39, "DNAME" }, { 40, "SINK" }, { 41, "OPT" }, { 42, "APL" },
    { 43, "DS" }, { 44, "SSHFP" }, { 45, "IPSECKEY" }, { 46, "RRSIG" }, { 47, "NSEC" },
    { 48, "DNSKEY" }, { 49, "DHCID" }, { 50, "NSEC3" }, { 51, "NSEC3PARAM" },
    { 52, "TLSA" }, { 53, "SMIMEA" }, { 55, "HIP" }, { 59, "CDS" }, { 60, "CDNSKEY" },
    { 61, "OPENPGPKEY" }, { 62, "CSYNC" }, { 63, "ZONEMD" }, { 64, "SVCB" },
    { 65, "HTTPS" }, { 99, "SPF" }, { 249, "TKEY" }, { 250, "TSIG" }, { 251, "IXFR" },
    { 252, "AXFR" }, { 253, "MAILB" }, { 254, "MAILA" }, { 255, "ANY" }, { 256, "URI" },
    { 257, "CAA" },
};

const char *ni_dns_qtype_name(uint16_t t, char buf[12])
{
    for (size_t i = 0; i < sizeof qtypes / sizeof qtypes[0]; i++)
        if (qtypes[i].v == t) return qtypes[i].n;
    snprintf(buf, 12, "TYPE%u", (unsigned)t);
    return buf;
}

/* RCODEs of the header (RFC 1035 §4.1.1, RFC 2136, RFC 8490; IANA "DNS
 * RCODEs"); 12-15 are unassigned: "RCODE12". */
const char *ni_dns_rcode_name(uint8_t rcode, char buf[12])
{
    static const char *const names[] = {
        "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN",
        "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", "DSOTYPENI",
    };
    if (rcode < sizeof names / sizeof names[0]) return names[rcode];
    snprintf(buf, 12, "RCODE%u", (unsigned)rcode);
    return buf;
}

/* ---- transactions --------------------------------------------------------- */
/* A static mnemonic, or a copy in the arena for TYPEnnn / RCODEnn. */
static const char *mnemonic(ni_session *s, const char *n, const char *buf)
{
    return n == buf ? ni_arena_strdup(s->arena, buf) : n;
}

/* May one more transaction be kept?  Counted as dropped when not. */
static bool txn_room(ni_session *s)
{
    if (!s->arena) return false;
    if (s->dns_count >= NI_DNS_TRANSACTIONS_MAX ||
        ni_arena_used(s->arena) + NI_DNS_ARENA_RESERVE > NI_SESSION_ARENA_MAX) {
        s->dns_dropped++;
        return false;
    }
    return true;
}

static ni_dns_txn *txn_new(ni_session *s, uint16_t id, const char *qname, uint16_t qtype, bool queried)
{
    if (!txn_room(s)) return NULL;
    ni_dns_txn *t = ni_arena_alloc(s->arena, sizeof *t);
    char tb[12];
    const char *q = t ? ni_arena_strdup(s->arena, qname) : NULL;
    if (!q) { s->dns_dropped++; return NULL; }
    t->query = q;
    t->qtype = qtype ? mnemonic(s, ni_dns_qtype_name(qtype, tb), tb) : NULL;
    t->ttl = -1;
    t->id = id;
    t->queried = queried;
    if (s->dns_tail) s->dns_tail->next = t; else s->dns = t;
    s->dns_tail = t;
    s->dns_count++;
    return t;
}

/* The oldest transaction with this id and name; open = without a response
 * yet (NULL when there is none). */
static ni_dns_txn *txn_find(ni_session *s, uint16_t id, const char *qname, bool open)
{
    for (ni_dns_txn *t = s->dns; t; t = t->next)
        if (t->id == id && (t->rcode == NULL) == open && !strcmp(t->query, qname)) return t;
    return NULL;
}

/* A query: a new transaction, unless it repeats one still unanswered
 * (a retransmission, same id and name). */
static void txn_query(ni_session *s, uint16_t id, const char *qname, uint16_t qtype)
{
    ni_dns_txn *t = txn_find(s, id, qname, true);
    if (t) { t->queried = true; return; }
    txn_new(s, id, qname, qtype, true);
}

/* A response: completes the oldest open transaction with its id and name;
 * a response seen without its query gets its own transaction; a repeated
 * response to an answered query (same id and name, none open) is not
 * recorded again.  NULL: nothing to fill. */
static ni_dns_txn *txn_response(ni_session *s, uint16_t id, const char *qname, uint16_t qtype, uint8_t rcode)
{
    ni_dns_txn *t = txn_find(s, id, qname, true);
    if (!t) {
        if (txn_find(s, id, qname, false)) return NULL;
        t = txn_new(s, id, qname, qtype, false);
        if (!t) return NULL;
    }
    char rb[12];
    t->rcode = mnemonic(s, ni_dns_rcode_name(rcode, rb), rb);
    if (!t->rcode) t->rcode = "RCODE?";           /* arena full: the response was still seen */
    if (!t->qtype && qtype) {
        char tb[12];
        t->qtype = mnemonic(s, ni_dns_qtype_name(qtype, tb), tb);
    }
    return t;
}

static void txn_answer(ni_session *s, ni_dns_txn *t, const char *v)
{
    if (!t || !v[0]) return;
    unsigned count = 0;
    ni_strlist **tail = &t->answers;
    for (ni_strlist *l = t->answers; l; l = l->next) { count++; tail = &l->next; }
    if (count >= NI_DNS_ANSWERS_MAX) return;
    ni_strlist *e = ni_arena_alloc(s->arena, sizeof *e);
    char *str = e ? ni_arena_strdup(s->arena, v) : NULL;
    if (!str) return;
    e->s = str;
    *tail = e;
}

/* TXT rdata (RFC 1035 §3.3.14): the character-strings joined, bytes outside
 * 0x20-0x7e and '\' escaped as \DDD, at most NI_DNS_TXT_MAX bytes read. */
static void txt_text(ni_cursor rd, char *out, size_t cap)
{
    size_t o = 0, read = 0;
    out[0] = 0;
    while (ni_cur_left(&rd) && read < NI_DNS_TXT_MAX) {
        uint8_t len = ni_cur_u8(&rd);
        const uint8_t *b = ni_cur_bytes(&rd, len);
        if (!b) break;
        for (size_t i = 0; i < len && read < NI_DNS_TXT_MAX; i++, read++) {
            if (b[i] < 0x20 || b[i] > 0x7e || b[i] == '\\') {
                if (o + 5 >= cap) { out[o] = 0; return; }
                snprintf(out + o, 5, "\\%03u", (unsigned)b[i]);
                o += 4;
            } else {
                if (o + 2 >= cap) { out[o] = 0; return; }
                out[o++] = (char)b[i];
            }
        }
    }
    out[o] = 0;
}

ni_err ni_dns_parse(ni_session *s, const uint8_t *p, size_t n, ni_dns_info *info)
{
    info->id = 0;
    info->response = false;
    info->opcode = info->rcode = 0;
    info->qdcount = info->ancount = 0;
    info->qname[0] = 0;
    info->qtype = 0;
    info->naddr = 0;
    ni_cursor c;
    ni_cur_init(&c, p, n);
    info->id = ni_cur_u16(&c);
    uint16_t flags = ni_cur_u16(&c);
    info->qdcount = ni_cur_u16(&c);
    info->ancount = ni_cur_u16(&c);
    ni_cur_u16(&c);                                  /* nscount */
    ni_cur_u16(&c);                                  /* arcount */
    if (c.bad) return NI_ERR_TRUNCATED;
    info->response = (flags >> 15) & 1;
    info->opcode = (uint8_t)((flags >> 11) & 15);
    info->rcode = (uint8_t)(flags & 15);

    char name[NI_DNS_TEXT_MAX];
    size_t next;
    ni_err status = NI_OK;
    for (unsigned i = 0; i < info->qdcount; i++) {   /* question section (§4.1.2) */
        int l = ni_dns_name(p, n, c.off, name, sizeof name, &next);
        if (l < 0) { status = l == -2 ? NI_ERR_TRUNCATED : NI_ERR_FORMAT; break; }
        cur_seek(&c, next);
        uint16_t qtype = ni_cur_u16(&c);
        ni_cur_u16(&c);                              /* qclass */
        if (c.bad) { status = NI_ERR_TRUNCATED; break; }
        if (i == 0) {
            memcpy(info->qname, name, (size_t)l + 1);
            info->qtype = qtype;
        }
    }
    if (info->qname[0] && !s->dns_query && s->arena)
        s->dns_query = ni_arena_strdup(s->arena, info->qname);
    if (!info->response) {
        if (info->qname[0]) txn_query(s, info->id, info->qname, info->qtype);
        return status;
    }
    ni_dns_txn *t = info->qname[0] ? txn_response(s, info->id, info->qname, info->qtype, info->rcode) : NULL;
    if (status != NI_OK) return status;

    for (unsigned i = 0; i < info->ancount; i++) {   /* answer section (§4.1.3) */
        int l = ni_dns_name(p, n, c.off, name, sizeof name, &next);
        if (l < 0) return l == -2 ? NI_ERR_TRUNCATED : NI_ERR_FORMAT;
        bool owner_as_query = i == 0 && info->qdcount == 0 && l > 0;
        if (owner_as_query) {
            /* no question (mDNS announcements, RFC 6762 §6): the first
             * answer's owner name stands for it, as Zeek's dns.log does */
            memcpy(info->qname, name, (size_t)l + 1);
            if (!s->dns_query && s->arena) s->dns_query = ni_arena_strdup(s->arena, name);
        }
        cur_seek(&c, next);
        uint16_t type = ni_cur_u16(&c);
        ni_cur_u16(&c);                              /* class (mDNS: cache-flush bit) */
        uint32_t ttl = ni_cur_u32(&c);
        uint16_t rdlen = ni_cur_u16(&c);
        size_t rdoff = c.off;
        ni_cursor rd = ni_cur_sub(&c, rdlen);
        if (owner_as_query && !c.bad) t = txn_response(s, info->id, info->qname, type, info->rcode);
        if (c.bad) return NI_ERR_TRUNCATED;
        if (t && (t->ttl < 0 || ttl < t->ttl)) t->ttl = ttl;
        if ((type == T_A && rdlen == 4) || (type == T_AAAA && rdlen == 16)) {
            ni_addr a;
            memset(&a, 0, sizeof a);
            a.family = type == T_A ? 4 : 6;
            memcpy(a.b, ni_cur_bytes(&rd, rdlen), rdlen);
            char text[NI_ADDR_STRLEN];
            add_answer(s, ni_addr_format(&a, text));
            txn_answer(s, t, text);
            if (info->naddr < NI_DNS_ANSWERS_MAX) {
                info->addr[info->naddr] = a;
                info->ttl[info->naddr] = ttl;
                info->naddr++;
            }
        } else if (type == T_CNAME) {
            size_t after;
            if (ni_dns_name(p, rdoff + rdlen, rdoff, name, sizeof name, &after) < 0)
                return NI_ERR_FORMAT;
            add_answer(s, name);
            txn_answer(s, t, name);
        } else if (t && (type == T_NS || type == T_PTR || type == T_DNAME)) {
            size_t after;
            if (ni_dns_name(p, rdoff + rdlen, rdoff, name, sizeof name, &after) >= 0)
                txn_answer(s, t, name);
        } else if (t && type == T_MX) {              /* preference, exchange: the exchange */
            size_t after;
            if (rdlen > 2 && ni_dns_name(p, rdoff + rdlen, rdoff + 2, name, sizeof name, &after) >= 0)
                txn_answer(s, t, name);
        } else if (t && type == T_SRV) {             /* priority, weight, port, target */
            size_t after;
            if (rdlen > 6 && ni_dns_name(p, rdoff + rdlen, rdoff + 6, name, sizeof name, &after) >= 0)
                txn_answer(s, t, name);
        } else if (t && type == T_TXT) {
            char text[4 * NI_DNS_TXT_MAX + 1];
            txt_text(rd, text, sizeof text);
            txn_answer(s, t, text);
        }
    }
    return NI_OK;
}
