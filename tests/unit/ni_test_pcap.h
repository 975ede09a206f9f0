/* ni_test_pcap.h — a minimal capture walker for unit tests that check
 * dissectors against real captures: libpcap reads the file (pcap or pcapng),
 * and each TCP/UDP packet over IPv4/IPv6 (Ethernet with VLAN tags, BSD
 * loopback, raw IP, Linux cooked) is handed to a callback with its
 * endpoints and payload.  Also: reading an nDPI result file's flow lines.
 * Test-only code: it is not the project's decoder and does no reassembly. */
#ifndef NI_TEST_PCAP_H
#define NI_TEST_PCAP_H

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "netintel/netintel.h"

typedef struct tp_pkt {
    uint8_t proto;                  /* 6 or 17 */
    ni_addr src, dst;
    uint16_t sport, dport;
    uint32_t seq;                   /* TCP only */
    uint8_t tcp_flags;
    const uint8_t *payload;
    size_t len;
} tp_pkt;

typedef void (*tp_cb)(void *ctx, const tp_pkt *pk);

static inline uint16_t tp_be16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t tp_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline void tp_ip(const uint8_t *p, size_t n, tp_cb cb, void *ctx)
{
    tp_pkt pk;
    memset(&pk, 0, sizeof pk);
    size_t hl;
    uint8_t proto;
    if (n >= 20 && (p[0] >> 4) == 4) {
        hl = (size_t)(p[0] & 15) * 4;
        size_t tot = tp_be16(p + 2);
        if (hl < 20 || tot < hl) return;
        if (tot > n) tot = n;                    /* snapped capture */
        if (tp_be16(p + 6) & 0x1fff) return;     /* non-first fragment */
        n = tot;
        proto = p[9];
        pk.src.family = pk.dst.family = 4;
        memcpy(pk.src.b, p + 12, 4); memcpy(pk.dst.b, p + 16, 4);
    } else if (n >= 40 && (p[0] >> 4) == 6) {
        size_t pl = tp_be16(p + 4);
        if (40 + pl < n) n = 40 + pl;
        hl = 40;
        proto = p[6];
        pk.src.family = pk.dst.family = 6;
        memcpy(pk.src.b, p + 8, 16); memcpy(pk.dst.b, p + 24, 16);
    } else return;
    if (hl > n) return;
    p += hl; n -= hl;
    pk.proto = proto;
    if (proto == 6 && n >= 20) {
        size_t th = (size_t)(p[12] >> 4) * 4;
        if (th < 20 || th > n) return;
        pk.sport = tp_be16(p); pk.dport = tp_be16(p + 2);
        pk.seq = tp_be32(p + 4);
        pk.tcp_flags = p[13];
        pk.payload = p + th; pk.len = n - th;
    } else if (proto == 17 && n >= 8) {
        pk.sport = tp_be16(p); pk.dport = tp_be16(p + 2);
        pk.payload = p + 8; pk.len = n - 8;
    } else return;
    cb(ctx, &pk);
}

/* Returns the number of packets read, or -1 if the file cannot be opened. */
static inline long tp_walk(const char *path, tp_cb cb, void *ctx)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(path, errbuf);
    if (!pc) return -1;
    int dlt = pcap_datalink(pc);
    struct pcap_pkthdr *h;
    const u_char *d;
    long count = 0;
    while (pcap_next_ex(pc, &h, &d) == 1) {
        size_t n = h->caplen, off = 0;
        count++;
        if (dlt == DLT_EN10MB) {
            if (n < 14) continue;
            uint16_t et = tp_be16(d + 12);
            off = 14;
            while ((et == 0x8100 || et == 0x88a8) && n >= off + 4) { et = tp_be16(d + off + 2); off += 4; }
            if (et != 0x0800 && et != 0x86dd) continue;
        } else if (dlt == DLT_NULL || dlt == DLT_LOOP) off = 4;
        else if (dlt == DLT_LINUX_SLL) off = 16;
        else if (dlt == DLT_RAW || dlt == 12) off = 0;
        else continue;
        if (n <= off) continue;
        tp_ip(d + off, n - off, cb, ctx);
    }
    pcap_close(pc);
    return count;
}

/* "addr:port" as nDPI writes it (IPv6 in brackets). */
static inline void tp_endpoint(const ni_addr *a, uint16_t port, char *out, size_t cap)
{
    char b[NI_ADDR_STRLEN];
    ni_addr_format(a, b);
    if (a->family == 6) snprintf(out, cap, "[%s]:%u", b, port);
    else snprintf(out, cap, "%s:%u", b, port);
}

/* Does an endpoint written "addr:port" / "[addr]:port" name a and port?
 * (compared as addresses: nDPI's IPv6 text is not always RFC 5952's) */
static inline bool tp_endpoint_eq(const char *text, const ni_addr *a, uint16_t port)
{
    char buf[80];
    const char *colon = strrchr(text, ':');
    if (!colon || (size_t)(colon - text) >= sizeof buf) return false;
    size_t n = (size_t)(colon - text);
    if (text[0] == '[' && n >= 2 && text[n - 1] == ']') { memcpy(buf, text + 1, n - 2); buf[n - 2] = 0; }
    else { memcpy(buf, text, n); buf[n] = 0; }
    ni_addr x;
    if (ni_addr_parse(buf, &x) != NI_OK) return false;
    return ni_addr_cmp(&x, a) == 0 && strtol(colon + 1, NULL, 10) == port;
}

/* ---- nDPI result files ---- */
typedef struct tp_expect {
    char l4[8];
    char a[80], b[80];              /* endpoints as written */
    char proto[64], sni[256], ja4[64], alpn[512], tlsver[16], qver[32];
    bool has_sni, has_ja4, has_alpn;
} tp_expect;

/* Copies the value of "[key: value]" from line into out; false if absent. */
static inline bool tp_field(const char *line, const char *key, char *out, size_t cap)
{
    const char *k = strstr(line, key);
    if (!k) return false;
    k += strlen(key);
    const char *e = strchr(k, ']');
    if (!e) return false;
    size_t n = (size_t)(e - k);
    if (n >= cap) n = cap - 1;
    memcpy(out, k, n);
    out[n] = 0;
    return true;
}

/* Reads the flow lines of an nDPI .out file; returns a malloc'd array. */
static inline tp_expect *tp_read_expect(const char *path, size_t *count)
{
    FILE *f = fopen(path, "r");
    *count = 0;
    if (!f) return NULL;
    size_t cap = 0;
    tp_expect *v = NULL;
    char *line = NULL;
    size_t lc = 0;
    while (getline(&line, &lc, f) > 0) {
        char l4[8], a[80], arrow[8], b[80];
        int num;
        if (line[0] != '\t' || sscanf(line, "\t%d\t%7s %79s %7s %79s", &num, l4, a, arrow, b) != 5) continue;
        if (strcmp(l4, "TCP") && strcmp(l4, "UDP")) continue;
        if (*count == cap) {
            cap = cap ? cap * 2 : 64;
            tp_expect *nv = realloc(v, cap * sizeof *v);
            if (!nv) break;
            v = nv;
        }
        tp_expect *e = &v[(*count)++];
        memset(e, 0, sizeof *e);
        snprintf(e->l4, sizeof e->l4, "%s", l4);
        snprintf(e->a, sizeof e->a, "%s", a);
        snprintf(e->b, sizeof e->b, "%s", b);
        tp_field(line, "[proto: ", e->proto, sizeof e->proto);
        tp_field(line, "[QUIC ver: ", e->qver, sizeof e->qver);
        e->has_sni = tp_field(line, "[Hostname/SNI: ", e->sni, sizeof e->sni);
        e->has_ja4 = tp_field(line, "[JA4: ", e->ja4, sizeof e->ja4);
        e->has_alpn = tp_field(line, "[(Advertised) ALPNs: ", e->alpn, sizeof e->alpn);
        const char *t = strstr(line, "][TLSv1");
        if (t) tp_field(t, "][", e->tlsver, sizeof e->tlsver);
    }
    free(line);
    fclose(f);
    return v;
}

#endif
