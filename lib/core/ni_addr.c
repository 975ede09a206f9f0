/* ni_addr.c — IP address text form (RFC 5952 via inet_ntop), parsing and
 * ordering; plus the small shared helpers on the session record. */
#include "netintel/netintel.h"

#include <arpa/inet.h>
#include <string.h>

/* The decimal text of each byte value in 4 bytes: the digits, NUL-padded,
 * and their count in the last byte.  An IPv4 address is formatted with one
 * 4-byte copy per byte (what follows the digits is overwritten by the next
 * dot or the final NUL). */
static const char dec_byte[256][4] = {
    "0\0\0\1", "1\0\0\1", "2\0\0\1", "3\0\0\1", "4\0\0\1", "5\0\0\1", "6\0\0\1", "7\0\0\1", "8\0\0\1", "9\0\0\1", "10\0\2", "11\0\2",
    "12\0\2", "13\0\2", "14\0\2", "15\0\2", "16\0\2", "17\0\2", "18\0\2", "19\0\2", "20\0\2", "21\0\2", "22\0\2", "23\0\2",
    "24\0\2", "25\0\2", "26\0\2", "27\0\2", "28\0\2", "29\0\2", "30\0\2", "31\0\2", "32\0\2", "33\0\2", "34\0\2", "35\0\2",
    "36\0\2", "37\0\2", "38\0\2", "39\0\2", "40\0\2", "41\0\2", "42\0\2", "43\0\2", "44\0\2", "45\0\2", "46\0\2", "47\0\2",
    "48\0\2", "49\0\2", "50\0\2", "51\0\2", "52\0\2", "53\0\2", "54\0\2", "55\0\2", "56\0\2", "57\0\2", "58\0\2", "59\0\2",
    "60\0\2", "61\0\2", "62\0\2", "63\0\2", "64\0\2", "65\0\2", "66\0\2", "67\0\2", "68\0\2", "69\0\2", "70\0\2", "71\0\2",
    "72\0\2", "73\0\2", "74\0\2", "75\0\2", "76\0\2", "77\0\2", "78\0\2", "79\0\2", "80\0\2", "81\0\2", "82\0\2", "83\0\2",
    "84\0\2", "85\0\2", "86\0\2", "87\0\2", "88\0\2", "89\0\2", "90\0\2", "91\0\2", "92\0\2", "93\0\2", "94\0\2", "95\0\2",
    "96\0\2", "97\0\2", "98\0\2", "99\0\2", "100\3", "101\3", "102\3", "103\3", "104\3", "105\3", "106\3", "107\3",
    "108\3", "109\3", "110\3", "111\3", "112\3", "113\3", "114\3", "115\3", "116\3", "117\3", "118\3", "119\3",
    "120\3", "121\3", "122\3", "123\3", "124\3", "125\3", "126\3", "127\3", "128\3", "129\3", "130\3", "131\3",
    "132\3", "133\3", "134\3", "135\3", "136\3", "137\3", "138\3", "139\3", "140\3", "141\3", "142\3", "143\3",
    "144\3", "145\3", "146\3", "147\3", "148\3", "149\3", "150\3", "151\3", "152\3", "153\3", "154\3", "155\3",
    "156\3", "157\3", "158\3", "159\3", "160\3", "161\3", "162\3", "163\3", "164\3", "165\3", "166\3", "167\3",
    "168\3", "169\3", "170\3", "171\3", "172\3", "173\3", "174\3", "175\3", "176\3", "177\3", "178\3", "179\3",
    "180\3", "181\3", "182\3", "183\3", "184\3", "185\3", "186\3", "187\3", "188\3", "189\3", "190\3", "191\3",
    "192\3", "193\3", "194\3", "195\3", "196\3", "197\3", "198\3", "199\3", "200\3", "201\3", "202\3", "203\3",
    "204\3", "205\3", "206\3", "207\3", "208\3", "209\3", "210\3", "211\3", "212\3", "213\3", "214\3", "215\3",
    "216\3", "217\3", "218\3", "219\3", "220\3", "221\3", "222\3", "223\3", "224\3", "225\3", "226\3", "227\3",
    "228\3", "229\3", "230\3", "231\3", "232\3", "233\3", "234\3", "235\3", "236\3", "237\3", "238\3", "239\3",
    "240\3", "241\3", "242\3", "243\3", "244\3", "245\3", "246\3", "247\3", "248\3", "249\3", "250\3", "251\3",
    "252\3", "253\3", "254\3", "255\3",
};

const char *ni_addr_format(const ni_addr *a, char *buf)
{
    buf[0] = 0;
    if (a->family == 4) {   /* hot (two per session record): no printf, unlike glibc's inet_ntop */
        char *p = buf;
        for (int i = 0; i < 4; i++) {
            const char *t = dec_byte[a->b[i]];
            memcpy(p, t, 4);
            p += t[3];
            *p++ = '.';
        }
        p[-1] = 0;
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
