/* ni_stored.c — stored sessions reader (see ni_stored.h).  One JSON object
 * a line, parsed with jansson; field names and forms are those ni_out
 * writes (RFC 3339 times with microseconds, addresses as text, TCP flags as
 * letters, TLS versions as names). */
#include "ingest/ni_stored.h"
#include "core/ni_kinds.h"
#include "core/ni_arena.h"
#include "core/ni_limits.h"
#include "core/ni_time.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct ni_stored {
    FILE *f;
    bool own;
    char path[512];
    unsigned line;
    char *buf;
    ni_arena *arena;
};

bool ni_stored_probe(const char *path)
{
    if (!strcmp(path, "-")) return false;
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    int c;
    while ((c = fgetc(f)) == ' ' || c == '\n' || c == '\r' || c == '\t') {}
    fclose(f);
    return c == '{';
}

ni_stored *ni_stored_open(const char *path, ni_error *err)
{
    ni_stored *st = calloc(1, sizeof *st);
    if (!st) { ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path); return NULL; }
    snprintf(st->path, sizeof st->path, "%s", path);
    st->own = strcmp(path, "-") != 0;
    st->f = st->own ? fopen(path, "rb") : stdin;
    st->buf = malloc(NI_LINE_MAX * 4);
    st->arena = ni_arena_new(NI_SESSION_ARENA_MAX * 2);
    if (!st->f || !st->buf || !st->arena) {
        ni_error_set(err, st->f ? NI_ERR_NOMEM : NI_ERR_NOTFOUND, "%s: %s", path, st->f ? "out of memory" : strerror(errno));
        ni_stored_close(st);
        return NULL;
    }
    return st;
}

ni_stored *ni_stored_open_stream(FILE *f, const char *name, ni_error *err)
{
    ni_stored *st = calloc(1, sizeof *st);
    if (!st) { fclose(f); ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", name); return NULL; }
    snprintf(st->path, sizeof st->path, "%s", name);
    st->own = true;
    st->f = f;
    st->buf = malloc(NI_LINE_MAX * 4);
    st->arena = ni_arena_new(NI_SESSION_ARENA_MAX * 2);
    if (!st->buf || !st->arena) {
        ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", name);
        ni_stored_close(st);
        return NULL;
    }
    return st;
}

void ni_stored_close(ni_stored *st)
{
    if (!st) return;
    if (st->f && st->own) fclose(st->f);
    free(st->buf);
    ni_arena_free(st->arena);
    free(st);
}

static const char *str(ni_stored *st, const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) ? ni_arena_strdup(st->arena, json_string_value(v)) : NULL;
}

static uint64_t num(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_integer(v) && json_integer_value(v) >= 0 ? (uint64_t)json_integer_value(v) : 0;
}

static ni_strlist *strlist(ni_stored *st, const json_t *a)
{
    ni_strlist *head = NULL, **tail = &head;
    for (size_t i = 0; i < json_array_size(a); i++) {
        const json_t *v = json_array_get(a, i);
        if (!json_is_string(v)) continue;
        ni_strlist *l = ni_arena_alloc(st->arena, sizeof *l);
        if (!l) break;
        l->s = ni_arena_strdup(st->arena, json_string_value(v));
        *tail = l;
        tail = &l->next;
    }
    return head;
}

static uint8_t flags(const char *s)
{
    static const char letters[] = "FSRPAUEC";   /* bit order: FIN SYN RST PSH ACK URG ECE CWR */
    uint8_t f = 0;
    for (; s && *s; s++) {
        const char *p = strchr(letters, *s);
        if (p) f |= (uint8_t)(1u << (p - letters));
    }
    return f;
}

static uint16_t tls_code(const char *name)
{
    static const struct { const char *n; uint16_t v; } t[] = {
        { "SSLv2", 0x0002 }, { "SSLv3", 0x0300 }, { "TLSv1.0", 0x0301 }, { "TLSv1.1", 0x0302 },
        { "TLSv1.2", 0x0303 }, { "TLSv1.3", 0x0304 }, { "DTLSv1.0", 0xfeff }, { "DTLSv1.2", 0xfefd },
        { "DTLSv1.3", 0xfefc },
        { "TLSv1.3 (draft)", 0x7f1c }, { "TLSv1.3 (Fizz)", 0xfb1a },     /* one code of each family */
    };
    for (size_t i = 0; name && i < sizeof t / sizeof t[0]; i++) if (!strcmp(name, t[i].n)) return t[i].v;
    if (name && !strncmp(name, "0x", 2) && strlen(name) == 6 && strspn(name + 2, "0123456789abcdef") == 4)
        return (uint16_t)strtoul(name + 2, NULL, 16);     /* a version without a name, as ni_out writes it */
    return 0;
}

static uint8_t end_reason(const char *e)
{
    static const char *const names[] = { [NI_END_FIN] = "fin", [NI_END_RST] = "rst", [NI_END_IDLE] = "idle",
        [NI_END_ACTIVE] = "active", [NI_END_EVICTED] = "evicted", [NI_END_EOF] = "eof" };
    for (uint8_t i = 1; e && i < sizeof names / sizeof names[0]; i++) if (!strcmp(e, names[i])) return i;
    return NI_END_NONE;
}

static ni_direction direction(const char *d)
{
    if (!d) return NI_DIRECTION_UNKNOWN;
    if (!strcmp(d, "outbound")) return NI_DIRECTION_OUTBOUND;
    if (!strcmp(d, "inbound")) return NI_DIRECTION_INBOUND;
    if (!strcmp(d, "internal")) return NI_DIRECTION_INTERNAL;
    if (!strcmp(d, "transit")) return NI_DIRECTION_TRANSIT;
    return NI_DIRECTION_UNKNOWN;
}

static uint8_t proto(const char *p)
{
    if (!p) return 0;
    if (!strcmp(p, "tcp")) return 6;
    if (!strcmp(p, "udp")) return 17;
    if (!strcmp(p, "icmp")) return 1;
    if (!strcmp(p, "icmp6")) return 58;
    char *end;
    long v = strtol(p, &end, 10);
    return *end || v < 0 || v > 255 ? 0 : (uint8_t)v;
}

int ni_stored_next(ni_stored *st, ni_session *s, ni_error *err)
{
    for (;;) {
        if (!fgets(st->buf, (int)(NI_LINE_MAX * 4), st->f)) {
            if (ferror(st->f)) { ni_error_set(err, NI_ERR_IO, "%s: read error", st->path); return -1; }
            return 0;
        }
        st->line++;
        size_t n = strlen(st->buf);
        if (n && st->buf[n - 1] != '\n' && !feof(st->f)) {
            ni_error_set(err, NI_ERR_FORMAT, "%s:%u: line too long", st->path, st->line);
            return -1;
        }
        if (strspn(st->buf, " \t\r\n") == n) continue;
        json_error_t je;
        json_t *o = json_loads(st->buf, 0, &je);
        if (!json_is_object(o)) {
            json_decref(o);
            ni_error_set(err, NI_ERR_FORMAT, "%s:%u: not a session record (%s)", st->path, st->line,
                         o ? "not an object" : je.text);
            return -1;
        }
        ni_arena_reset(st->arena);
        memset(s, 0, sizeof *s);
        s->arena = st->arena;
        const char *first = json_string_value(json_object_get(o, "first"));
        const char *last = json_string_value(json_object_get(o, "last"));
        const char *client = json_string_value(json_object_get(o, "client"));
        const char *server = json_string_value(json_object_get(o, "server"));
        if (!first || !last || !client || !server || ni_time_parse(first, &s->first_us) ||
            ni_time_parse(last, &s->last_us) || ni_addr_parse(client, &s->client) ||
            ni_addr_parse(server, &s->server)) {
            json_decref(o);
            ni_error_set(err, NI_ERR_FORMAT, "%s:%u: a session needs first, last, client and server", st->path, st->line);
            return -1;
        }
        s->proto = proto(json_string_value(json_object_get(o, "proto")));
        s->client_port = (uint16_t)num(o, "client_port");
        s->server_port = (uint16_t)num(o, "server_port");
        s->direction = direction(json_string_value(json_object_get(o, "direction")));
        s->c2s_packets = num(o, "c2s_packets"); s->c2s_bytes = num(o, "c2s_bytes");
        s->s2c_packets = num(o, "s2c_packets"); s->s2c_bytes = num(o, "s2c_bytes");
        s->vlan = (uint16_t)num(o, "vlan");
        s->end_reason = end_reason(json_string_value(json_object_get(o, "end")));
        const json_t *tf = json_object_get(o, "tcp_flags");
        s->c2s_tcp_flags = flags(json_string_value(json_object_get(tf, "c2s")));
        s->s2c_tcp_flags = flags(json_string_value(json_object_get(tf, "s2c")));
        const json_t *http = json_object_get(o, "http");
        bool http_ua = false;
        for (size_t i = 0; i < json_array_size(http) && i < NI_HTTP_REQUESTS_MAX; i++) {
            const json_t *h = json_array_get(http, i);
            ni_http_req *r = ni_arena_alloc(st->arena, sizeof *r);
            if (!r) break;
            r->method = str(st, h, "method"); r->host = str(st, h, "host"); r->path = str(st, h, "path");
            r->user_agent = str(st, h, "user_agent");
            r->ch_ua = str(st, h, "sec_ch_ua"); r->ch_ua_platform = str(st, h, "sec_ch_ua_platform");
            r->ch_ua_platform_version = str(st, h, "sec_ch_ua_platform_version");
            r->ch_ua_model = str(st, h, "sec_ch_ua_model");
            if (r->user_agent) http_ua = true;
            if (s->http_tail) s->http_tail->next = r; else s->http = r;
            s->http_tail = r;
            s->http_count++;
        }
        if (!http_ua) s->quic_user_agent = str(st, o, "user_agent");
        s->sni = str(st, o, "sni");
        s->alpn = strlist(st, json_object_get(o, "alpn"));
        s->tls_client_version = tls_code(json_string_value(json_object_get(o, "tls_client_version")));
        s->tls_version = tls_code(json_string_value(json_object_get(o, "tls_version")));
        const char *cipher = json_string_value(json_object_get(o, "tls_cipher"));
        if (cipher) s->tls_cipher = (uint16_t)strtoul(cipher, NULL, 16);
        s->ja4 = str(st, o, "ja4");
        s->tls_cert_subject = str(st, o, "cert_subject");
        s->tls_cert_issuer = str(st, o, "cert_issuer");
        s->quic = json_is_true(json_object_get(o, "quic"));
        s->dns_query = str(st, o, "dns_query");
        s->dns_answers = strlist(st, json_object_get(o, "dns_answers"));
        s->dns_name = str(st, o, "dns_name");
        const json_t *dns = json_object_get(o, "dns");
        for (size_t i = 0; i < json_array_size(dns) && i < NI_DNS_TRANSACTIONS_MAX; i++) {
            const json_t *d = json_array_get(dns, i);
            if (!json_is_object(d)) continue;
            ni_dns_txn *t = ni_arena_alloc(st->arena, sizeof *t);
            if (!t) break;
            t->query = str(st, d, "query");
            t->qtype = str(st, d, "qtype");
            t->rcode = str(st, d, "rcode");
            t->answers = strlist(st, json_object_get(d, "answers"));
            const json_t *ttl = json_object_get(d, "ttl");
            t->ttl = json_is_integer(ttl) && json_integer_value(ttl) >= 0 ? (int64_t)json_integer_value(ttl) : -1;
            t->queried = true;
            if (s->dns_tail) s->dns_tail->next = t; else s->dns = t;
            s->dns_tail = t;
            s->dns_count++;
        }
        s->dns_dropped = (uint32_t)num(o, "dns_dropped");
        s->source = str(st, o, "source");
        s->sampled = (uint32_t)num(o, "sampled");
        s->proxy = ni_proxy_kind_parse(json_string_value(json_object_get(o, "proxy")));
        s->proxy_dest = str(st, o, "proxy_dest");
        s->tcp_fingerprint = str(st, o, "tcp_fingerprint");     /* tcp_os is recomputed */
        s->tcp_window = (uint16_t)num(o, "tcp_window");
        s->cert_names = strlist(st, json_object_get(o, "cert_names"));
        /* packet-level verdicts that enrichment cannot recompute */
        s->ndpi_protocol = str(st, o, "ndpi_protocol");
        const char *ev = json_string_value(json_object_get(o, "vpn_evidence"));
        if (ni_evidence_parse(ev) == NI_EVIDENCE_TUNNEL)
            s->tunnel = ni_tunnel_proto_parse(json_string_value(json_object_get(o, "vpn_protocol")));
        json_decref(o);
        return 1;
    }
}
