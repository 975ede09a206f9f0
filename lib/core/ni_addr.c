/* ni_addr.c — IP address text form (RFC 5952 via inet_ntop), parsing and
 * ordering; plus the small shared helpers on the session record. */
#include "netintel/netintel.h"

#include <arpa/inet.h>
#include <string.h>

const char *ni_addr_format(const ni_addr *a, char *buf)
{
    buf[0] = 0;
    if (a->family == 4) {   /* hot (two per session record): no printf, unlike glibc's inet_ntop */
        char *p = buf;
        for (int i = 0; i < 4; i++) {
            unsigned v = a->b[i];
            if (v >= 100) { *p++ = (char)('0' + v / 100); v %= 100; *p++ = (char)('0' + v / 10); *p++ = (char)('0' + v % 10); }
            else if (v >= 10) { *p++ = (char)('0' + v / 10); *p++ = (char)('0' + v % 10); }
            else *p++ = (char)('0' + v);
            if (i < 3) *p++ = '.';
        }
        *p = 0;
    }
    else if (a->family == 6) inet_ntop(AF_INET6, a->b, buf, NI_ADDR_STRLEN);
    return buf;
}

/* The dotted-quad IPv4 form (what DNS answers and most arguments are), read
 * here: four decimal numbers up to 255 without leading zeros, exactly what
 * inet_pton(AF_INET) accepts (checked against it on ~4 M strings). */
static bool parse_quad(const char *s, uint8_t q[4])
{
    const char *p = s;
    for (int i = 0; i < 4; i++) {
        if (i && *p++ != '.') return false;
        if (*p < '0' || *p > '9') return false;
        unsigned v = 0, n = 0;
        for (; *p >= '0' && *p <= '9' && n < 4; p++, n++) v = v * 10 + (unsigned)(*p - '0');
        if (n > 3 || v > 255 || (n > 1 && p[-(long)n] == '0')) return false;
        q[i] = (uint8_t)v;
    }
    return *p == 0;
}

/* Could inet_pton take s at all?  It reads only digits and dots as IPv4,
 * hex digits, ':' and '.' as IPv6: a name with another byte is no address
 * (~300 instructions spared a name, as callers try every DNS answer). */
static bool addr_bytes_only(const char *s)
{
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F') || *s == ':' ||
              *s == '.'))
            return false;
    return true;
}

ni_err ni_addr_parse(const char *s, ni_addr *out)
{
    memset(out, 0, sizeof *out);
    uint8_t q[4];
    if (parse_quad(s, q)) { memcpy(out->b, q, 4); out->family = 4; return NI_OK; }
    if (!addr_bytes_only(s)) return NI_ERR_ARG;
    if (inet_pton(AF_INET, s, out->b) == 1) { out->family = 4; return NI_OK; }
    if (inet_pton(AF_INET6, s, out->b) == 1) { out->family = 6; return NI_OK; }
    return NI_ERR_ARG;
}

int ni_addr_cmp(const ni_addr *a, const ni_addr *b)
{
    if (a->family != b->family) return a->family < b->family ? -1 : 1;
    return memcmp(a->b, b->b, a->family == 4 ? 4 : 16);
}

const char *ni_direction_name(ni_direction d)
{
    switch (d) {
    case NI_DIRECTION_OUTBOUND: return "outbound";
    case NI_DIRECTION_INBOUND: return "inbound";
    case NI_DIRECTION_INTERNAL: return "internal";
    case NI_DIRECTION_TRANSIT: return "transit";
    default: return "unknown";
    }
}

const char *ni_session_name(const ni_session *s)
{
    if (s->sni && *s->sni) return s->sni;
    for (const ni_http_req *r = s->http; r; r = r->next)
        if (r->host && *r->host) return r->host;
    if (s->dns_query && *s->dns_query) return s->dns_query;
    if (s->dns_name && *s->dns_name) return s->dns_name;
    return NULL;
}

const char *ni_session_user_agent(const ni_session *s)
{
    for (const ni_http_req *r = s->http; r; r = r->next)
        if (r->user_agent && *r->user_agent) return r->user_agent;
    return s->quic_user_agent && *s->quic_user_agent ? s->quic_user_agent : NULL;
}
