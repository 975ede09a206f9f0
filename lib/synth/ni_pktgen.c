/* ni_pktgen.c — packet and payload builders for synthetic captures (see
 * ni_pktgen.h).  All multi-byte fields are written big-endian; checksums are
 * the Internet checksum (RFC 1071) over the pseudo-header and segment. */
#include "synth/ni_pktgen.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSS 1400

struct ni_pktgen {
    pcap_t *dead;
    pcap_dumper_t *d;
    FILE *f;
    uint64_t bytes;
    uint16_t ip_id;
};

ni_pktgen *ni_pktgen_open(const char *path, ni_error *err)
{
    ni_pktgen *g = calloc(1, sizeof *g);
    if (!g) { ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path); return NULL; }
    g->dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535, PCAP_TSTAMP_PRECISION_MICRO);
    if (g->dead) g->d = pcap_dump_open(g->dead, path);
    if (!g->d) {
        ni_error_set(err, NI_ERR_IO, "%s: cannot write: %s", path, g->dead ? pcap_geterr(g->dead) : "libpcap");
        if (g->dead) pcap_close(g->dead);
        free(g);
        return NULL;
    }
    return g;
}

ni_err ni_pktgen_close(ni_pktgen *g, ni_error *err)
{
    if (!g) return NI_OK;
    int bad = pcap_dump_flush(g->d) != 0 || ferror(pcap_dump_file(g->d));   /* an earlier fwrite may have failed */
    pcap_dump_close(g->d);
    pcap_close(g->dead);
    free(g);
    return bad ? ni_error_set(err, NI_ERR_IO, "capture: write failed") : NI_OK;
}

uint64_t ni_pktgen_bytes(const ni_pktgen *g) { return g->bytes; }

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v; }

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2) sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1) sum += (uint32_t)(p[n - 1] << 8);
    return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Writes one frame: Ethernet + IP + L4 header (l4, l4len, checksum offset) + payload. */
static void emit(ni_pktgen *g, ni_conv *cv, int dir, const uint8_t *l4h, size_t l4hlen, size_t csum_off,
                 const uint8_t *pl, size_t pn)
{
    static const uint8_t mac_c[6] = {0x02, 0, 0, 0, 0, 1}, mac_s[6] = {0x02, 0, 0, 0, 0, 2};
    uint8_t frame[14 + 40 + 60 + MSS + 64];
    const ni_addr *src = dir ? &cv->s : &cv->c, *dst = dir ? &cv->c : &cv->s;
    int v6 = src->family == 6;
    size_t iphl = v6 ? 40 : 20, l4len = l4hlen + pn;
    if (pn > MSS + 64) return;
    memcpy(frame, dir ? mac_s : mac_c, 6);
    memcpy(frame + 6, dir ? mac_c : mac_s, 6);
    put16(frame + 12, v6 ? 0x86dd : 0x0800);
    uint8_t *ip = frame + 14;
    memset(ip, 0, iphl);
    if (v6) {
        ip[0] = 0x60;
        put16(ip + 4, (uint16_t)l4len);
        ip[6] = cv->proto; ip[7] = 64;
        memcpy(ip + 8, src->b, 16);
        memcpy(ip + 24, dst->b, 16);
    } else {
        ip[0] = 0x45;
        put16(ip + 2, (uint16_t)(iphl + l4len));
        put16(ip + 4, g->ip_id++);
        ip[6] = 0x40; /* DF */
        ip[8] = 64; ip[9] = cv->proto;
        memcpy(ip + 12, src->b, 4);
        memcpy(ip + 16, dst->b, 4);
        put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
    }
    uint8_t *l4 = ip + iphl;
    memcpy(l4, l4h, l4hlen);
    if (pn) memcpy(l4 + l4hlen, pl, pn);
    /* pseudo-header checksum */
    uint32_t sum = 0;
    uint8_t ph[40];
    if (v6) {
        memcpy(ph, src->b, 16); memcpy(ph + 16, dst->b, 16);
        put32(ph + 32, (uint32_t)l4len); ph[36] = ph[37] = ph[38] = 0; ph[39] = cv->proto;
        sum = csum_add(0, ph, 40);
    } else {
        memcpy(ph, src->b, 4); memcpy(ph + 4, dst->b, 4);
        ph[8] = 0; ph[9] = cv->proto; put16(ph + 10, (uint16_t)l4len);
        sum = csum_add(0, ph, 12);
    }
    uint16_t c = csum_fold(csum_add(sum, l4, l4len));
    if (cv->proto == 17 && c == 0) c = 0xffff;
    put16(l4 + csum_off, c);

    size_t flen = 14 + iphl + l4len;
    struct pcap_pkthdr h;
    h.ts.tv_sec = (time_t)(cv->t / 1000000);
    h.ts.tv_usec = (suseconds_t)(cv->t % 1000000);
    h.caplen = h.len = (bpf_u_int32)flen;
    pcap_dump((u_char *)g->d, &h, frame);
    g->bytes += flen + 16;
    uint64_t ipb = iphl + l4len;
    if (dir) { cv->s2c_packets++; cv->s2c_bytes += ipb; } else { cv->c2s_packets++; cv->c2s_bytes += ipb; }
    cv->last = cv->t;
    cv->t += 1000 + (int64_t)(pn / 10); /* ~1 ms between packets */
}

void ni_conv_init(ni_conv *cv, const ni_addr *c, uint16_t cport, const ni_addr *s, uint16_t sport,
                  uint8_t proto, int64_t t, uint32_t seed)
{
    memset(cv, 0, sizeof *cv);
    cv->c = *c; cv->s = *s; cv->cport = cport; cv->sport = sport; cv->proto = proto; cv->t = t;
    cv->cseq = seed * 2654435761u;
    cv->sseq = (seed ^ 0x5bd1e995u) * 2246822519u;
}

static void tcp_seg(ni_pktgen *g, ni_conv *cv, int dir, uint8_t flags, const uint8_t *p, size_t n)
{
    uint8_t h[20] = {0};
    put16(h, dir ? cv->sport : cv->cport);
    put16(h + 2, dir ? cv->cport : cv->sport);
    put32(h + 4, dir ? cv->sseq : cv->cseq);
    put32(h + 8, (flags & 0x10) ? (dir ? cv->cseq : cv->sseq) : 0);
    h[12] = 5 << 4;
    h[13] = flags;
    put16(h + 14, 64240);
    emit(g, cv, dir, h, 20, 16, p, n);
    uint32_t adv = (uint32_t)n + ((flags & 0x03) ? 1 : 0); /* SYN and FIN take one sequence number */
    if (dir) cv->sseq += adv; else cv->cseq += adv;
}

void ni_conv_tcp_open(ni_pktgen *g, ni_conv *cv)
{
    tcp_seg(g, cv, 0, 0x02, NULL, 0);
    tcp_seg(g, cv, 1, 0x12, NULL, 0);
    tcp_seg(g, cv, 0, 0x10, NULL, 0);
}

void ni_conv_tcp_data(ni_pktgen *g, ni_conv *cv, int dir, const uint8_t *p, size_t n)
{
    for (size_t off = 0; off < n; off += MSS) {
        size_t k = n - off < MSS ? n - off : MSS;
        tcp_seg(g, cv, dir, 0x18, p + off, k);
        tcp_seg(g, cv, !dir, 0x10, NULL, 0);
    }
}

void ni_conv_tcp_send(ni_pktgen *g, ni_conv *cv, int dir, const uint8_t *p, size_t n)
{
    unsigned segs = 0;
    for (size_t off = 0; off < n; off += MSS) {
        size_t k = n - off < MSS ? n - off : MSS;
        tcp_seg(g, cv, dir, off + k >= n ? 0x18 : 0x10, p + off, k);
        segs++;
        if (segs % 2 == 0 || off + k >= n) tcp_seg(g, cv, !dir, 0x10, NULL, 0);   /* delayed ACK */
    }
}

void ni_conv_tcp_close(ni_pktgen *g, ni_conv *cv)
{
    tcp_seg(g, cv, 0, 0x11, NULL, 0);
    tcp_seg(g, cv, 1, 0x11, NULL, 0);
    tcp_seg(g, cv, 0, 0x10, NULL, 0);
}

void ni_conv_udp(ni_pktgen *g, ni_conv *cv, int dir, const uint8_t *p, size_t n)
{
    uint8_t h[8] = {0};
    put16(h, dir ? cv->sport : cv->cport);
    put16(h + 2, dir ? cv->cport : cv->sport);
    put16(h + 4, (uint16_t)(8 + n));
    emit(g, cv, dir, h, 8, 6, p, n);
}

/* ---- payloads ------------------------------------------------------------ */
static uint32_t rnd(uint32_t *s) { *s = *s * 1664525u + 1013904223u; return *s >> 8; }

void ni_gen_random(ni_buf *b, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) ni_buf_addc(b, (char)rnd(&seed));
}

static void add16(ni_buf *b, uint16_t v) { ni_buf_addc(b, (char)(v >> 8)); ni_buf_addc(b, (char)v); }
static void set16(ni_buf *b, size_t at, size_t v) { b->p[at] = (char)(v >> 8); b->p[at + 1] = (char)v; }
static void set24(ni_buf *b, size_t at, size_t v) { b->p[at] = (char)(v >> 16); b->p[at + 1] = (char)(v >> 8); b->p[at + 2] = (char)v; }

void ni_gen_client_hello(ni_buf *b, const char *sni, const char *alpn, uint32_t seed)
{
    static const uint16_t ciphers[] = { 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9,
                                        0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035 };
    size_t rec = b->len;
    ni_buf_add(b, "\x16\x03\x01\0\0", 5);
    size_t hs = b->len;
    ni_buf_add(b, "\x01\0\0\0", 4);
    add16(b, 0x0303);
    ni_gen_random(b, 32, seed);
    ni_buf_addc(b, 32);
    ni_gen_random(b, 32, seed ^ 0x9e3779b9u);
    add16(b, sizeof ciphers);
    for (size_t i = 0; i < sizeof ciphers / sizeof ciphers[0]; i++) add16(b, ciphers[i]);
    ni_buf_add(b, "\x01\x00", 2);
    size_t ext = b->len;
    add16(b, 0);
    if (sni) {
        size_t n = strlen(sni);
        add16(b, 0x0000); add16(b, (uint16_t)(n + 5)); add16(b, (uint16_t)(n + 3));
        ni_buf_addc(b, 0); add16(b, (uint16_t)n); ni_buf_add(b, sni, n);
    }
    add16(b, 0x0017); add16(b, 0);                                  /* extended_master_secret */
    add16(b, 0xff01); add16(b, 1); ni_buf_addc(b, 0);               /* renegotiation_info */
    add16(b, 0x000a); add16(b, 8); add16(b, 6); add16(b, 0x001d); add16(b, 0x0017); add16(b, 0x0018);
    add16(b, 0x000b); add16(b, 2); ni_buf_addc(b, 1); ni_buf_addc(b, 0);
    if (alpn) {
        size_t n = strlen(alpn);
        add16(b, 0x0010); add16(b, (uint16_t)(n + 3)); add16(b, (uint16_t)(n + 1));
        ni_buf_addc(b, (char)n); ni_buf_add(b, alpn, n);
    }
    add16(b, 0x000d); add16(b, 10); add16(b, 8);                    /* signature_algorithms */
    add16(b, 0x0403); add16(b, 0x0804); add16(b, 0x0401); add16(b, 0x0503);
    add16(b, 0x0033); add16(b, 38); add16(b, 36); add16(b, 0x001d); add16(b, 32);  /* key_share x25519 */
    ni_gen_random(b, 32, seed ^ 0x85ebca6bu);
    add16(b, 0x002b); add16(b, 5); ni_buf_addc(b, 4); add16(b, 0x0304); add16(b, 0x0303);
    add16(b, 0x002d); add16(b, 2); ni_buf_addc(b, 1); ni_buf_addc(b, 1);
    if (b->err) return;
    set16(b, ext, b->len - ext - 2);
    set24(b, hs + 1, b->len - hs - 4);
    set16(b, rec + 3, b->len - rec - 5);
}

void ni_gen_server_hello(ni_buf *b, uint32_t seed, size_t encrypted)
{
    size_t rec = b->len;
    ni_buf_add(b, "\x16\x03\x03\0\0", 5);
    size_t hs = b->len;
    ni_buf_add(b, "\x02\0\0\0", 4);
    add16(b, 0x0303);
    ni_gen_random(b, 32, seed);
    ni_buf_addc(b, 32);
    ni_gen_random(b, 32, seed ^ 7);
    add16(b, 0x1301);
    ni_buf_addc(b, 0);
    add16(b, 46);
    add16(b, 0x002b); add16(b, 2); add16(b, 0x0304);
    add16(b, 0x0033); add16(b, 36); add16(b, 0x001d); add16(b, 32);
    ni_gen_random(b, 32, seed ^ 11);
    if (b->err) return;
    set24(b, hs + 1, b->len - hs - 4);
    set16(b, rec + 3, b->len - rec - 5);
    /* then change_cipher_spec and the opaque records (encrypted extensions,
     * certificate chain, verify, finished) */
    ni_buf_add(b, "\x14\x03\x03\x00\x01\x01", 6);
    ni_gen_tls_appdata(b, encrypted ? encrypted : 1024, seed ^ 13);
}

void ni_gen_tls_appdata(ni_buf *b, size_t n, uint32_t seed)
{
    while (n > 0) {
        size_t k = n < 16384 ? n : 16384;
        ni_buf_add(b, "\x17\x03\x03", 3);
        add16(b, (uint16_t)k);
        ni_gen_random(b, k, seed);
        seed = seed * 2654435761u + 1;
        n -= k;
    }
}

void ni_gen_http_request(ni_buf *b, const char *method, const char *host, const char *path, const char *ua,
                         const char *platform_version)
{
    ni_buf_printf(b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path, host);
    if (ua) ni_buf_printf(b, "User-Agent: %s\r\n", ua);
    if (platform_version) ni_buf_printf(b, "Sec-CH-UA-Platform: \"Windows\"\r\nSec-CH-UA-Platform-Version: \"%s\"\r\n",
                                        platform_version);
    ni_buf_adds(b, "Accept: */*\r\nConnection: keep-alive\r\n\r\n");
}

static void dns_name(ni_buf *b, const char *name)
{
    while (*name) {
        const char *dot = strchr(name, '.');
        size_t n = dot ? (size_t)(dot - name) : strlen(name);
        if (n > 63) n = 63;
        ni_buf_addc(b, (char)n);
        ni_buf_add(b, name, n);
        name += n + (dot ? 1 : 0);
        if (!dot) break;
    }
    ni_buf_addc(b, 0);
}

void ni_gen_dns_query(ni_buf *b, uint16_t id, const char *name)
{
    add16(b, id); add16(b, 0x0100); add16(b, 1); add16(b, 0); add16(b, 0); add16(b, 0);
    dns_name(b, name);
    add16(b, 1); add16(b, 1);
}

void ni_gen_dns_response(ni_buf *b, uint16_t id, const char *name, const ni_addr *ans)
{
    add16(b, id); add16(b, 0x8180); add16(b, 1); add16(b, 1); add16(b, 0); add16(b, 0);
    dns_name(b, name);
    uint16_t type = ans->family == 6 ? 28 : 1;
    add16(b, type); add16(b, 1);
    add16(b, 0xc00c); add16(b, type); add16(b, 1);
    add16(b, 0); add16(b, 300);
    add16(b, ans->family == 6 ? 16 : 4);
    ni_buf_add(b, ans->b, ans->family == 6 ? 16 : 4);
}

static void add64(ni_buf *b, uint64_t v) { for (int i = 7; i >= 0; i--) ni_buf_addc(b, (char)(v >> (8 * i))); }

void ni_gen_openvpn_reset(ni_buf *b, int server, uint64_t own, uint64_t peer, uint32_t seed)
{
    ni_buf_addc(b, (char)((server ? 8 : 7) << 3));
    add64(b, own);
    if (server) {       /* ack array with one packet id, then the client's session id */
        ni_buf_addc(b, 1);
        ni_buf_add(b, "\0\0\0\0", 4);
        add64(b, peer);
    } else {
        ni_buf_addc(b, 0);
    }
    ni_buf_add(b, "\0\0\0\0", 4); /* message packet id */
    ni_gen_random(b, 20, seed);
}

static void add32le(ni_buf *b, uint32_t v) { for (int i = 0; i < 4; i++) ni_buf_addc(b, (char)(v >> (8 * i))); }

void ni_gen_wireguard(ni_buf *b, int type, uint32_t sender, uint32_t receiver, uint32_t seed)
{
    ni_buf_addc(b, (char)type);
    ni_buf_add(b, "\0\0\0", 3);
    if (type == 1) { add32le(b, sender); ni_gen_random(b, 140, seed); }
    else if (type == 2) { add32le(b, sender); add32le(b, receiver); ni_gen_random(b, 80, seed); }
    else { add32le(b, receiver); ni_gen_random(b, 8 + 16 * (1 + seed % 40), seed); }
}
