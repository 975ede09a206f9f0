/* ni_dns.c — DNS message parser (RFC 1035 §4.1, §4.1.4; RFC 3596).  See
 * ni_dns.h for the text form of names and what reaches the session. */
#include "dissect/ni_dns.h"
#include "core/ni_str.h"

#include <stdio.h>
#include <string.h>

#include "core/ni_arena.h"
#include "core/ni_cursor.h"

enum { T_A = 1, T_CNAME = 5, T_AAAA = 28 };

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
    for (unsigned i = 0; i < info->qdcount; i++) {   /* question section (§4.1.2) */
        int l = ni_dns_name(p, n, c.off, name, sizeof name, &next);
        if (l < 0) return l == -2 ? NI_ERR_TRUNCATED : NI_ERR_FORMAT;
        cur_seek(&c, next);
        uint16_t qtype = ni_cur_u16(&c);
        ni_cur_u16(&c);                              /* qclass */
        if (c.bad) return NI_ERR_TRUNCATED;
        if (i == 0) {
            memcpy(info->qname, name, (size_t)l + 1);
            info->qtype = qtype;
            if (!s->dns_query && l > 0 && s->arena)
                s->dns_query = ni_arena_strdup(s->arena, name);
        }
    }
    if (!info->response) return NI_OK;

    for (unsigned i = 0; i < info->ancount; i++) {   /* answer section (§4.1.3) */
        int l = ni_dns_name(p, n, c.off, name, sizeof name, &next);
        if (l < 0) return l == -2 ? NI_ERR_TRUNCATED : NI_ERR_FORMAT;
        if (i == 0 && info->qdcount == 0 && l > 0) {
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
        if (c.bad) return NI_ERR_TRUNCATED;
        if ((type == T_A && rdlen == 4) || (type == T_AAAA && rdlen == 16)) {
            ni_addr a;
            memset(&a, 0, sizeof a);
            a.family = type == T_A ? 4 : 6;
            memcpy(a.b, ni_cur_bytes(&rd, rdlen), rdlen);
            char text[NI_ADDR_STRLEN];
            add_answer(s, ni_addr_format(&a, text));
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
        }
    }
    return NI_OK;
}
