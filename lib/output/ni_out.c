/* ni_out.c — sessions as JSON Lines and CSV (RFC 8259, RFC 4180); the field
 * names and order are the contract written down in docs/sessions.md. */
#include "output/ni_out.h"

#include <stdio.h>
#include <string.h>

#include "core/ni_json.h"
#include "core/ni_time.h"
#include "dissect/ni_tls.h"

ni_err ni_out_format_parse(const char *name, ni_out_format *fmt)
{
    if (!strcmp(name, "jsonl") || !strcmp(name, "json")) { *fmt = NI_OUT_JSONL; return NI_OK; }
    if (!strcmp(name, "csv")) { *fmt = NI_OUT_CSV; return NI_OK; }
    return NI_ERR_ARG;
}

const char *ni_out_proto_name(uint8_t proto, char buf[4])
{
    switch (proto) {
    case 6: return "tcp";
    case 17: return "udp";
    case 1: return "icmp";
    case 58: return "icmp6";
    default: snprintf(buf, 4, "%u", proto); return buf;
    }
}

const char *ni_out_end_name(uint8_t reason)
{
    switch (reason) {
    case NI_END_FIN: return "fin";
    case NI_END_RST: return "rst";
    case NI_END_IDLE: return "idle";
    case NI_END_ACTIVE: return "active";
    case NI_END_EVICTED: return "evicted";
    case NI_END_EOF: return "eof";
    default: return NULL;
    }
}

const char *ni_out_tcp_flags(uint8_t flags, char buf[9])
{
    static const struct { uint8_t bit; char c; } order[] = {
        { 0x02, 'S' }, { 0x10, 'A' }, { 0x08, 'P' }, { 0x01, 'F' },
        { 0x04, 'R' }, { 0x20, 'U' }, { 0x40, 'E' }, { 0x80, 'C' },
    };
    size_t k = 0;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (flags & order[i].bit) buf[k++] = order[i].c;
    buf[k] = 0;
    return buf;
}

static bool has_ports(uint8_t proto) { return proto == 6 || proto == 17 || proto == 132; }

static const char *first_host(const ni_session *s)
{
    for (const ni_http_req *r = s->http; r; r = r->next)
        if (r->host && *r->host) return r->host;
    return NULL;
}

/* TLS version text: the negotiated one, else what the client offered. */
static const char *tls_text(uint16_t v, char buf[8])
{
    if (!v) return NULL;
    const char *n = ni_tls_version_name(v);
    if (n) return n;
    snprintf(buf, 8, "0x%04x", v);
    return buf;
}

/* String fields, and the category enums written through their name tables. */
enum { F_STR, F_EVIDENCE, F_TUNNEL, F_UA_KIND };
typedef struct strfield { const char *name; size_t off; int type; } strfield;
#define SF(f) { #f, offsetof(ni_session, f), F_STR }
#define SE(f, t) { #f, offsetof(ni_session, f), t }
static const strfield enrich_str[] = {
    SF(client_country), SF(server_country), SF(client_continent), SF(server_continent),
    SF(client_as_org), SF(server_as_org),
    SF(ua_browser), SF(ua_browser_version), SF(ua_os), SF(ua_os_version),
    SF(ua_maker), SF(ua_model), SF(ua_form_factor), SE(ua_kind, F_UA_KIND), SF(windows_version),
    SF(service), SF(category), SE(service_evidence, F_EVIDENCE),
    SF(vpn_provider), SE(vpn_protocol, F_TUNNEL), SE(vpn_evidence, F_EVIDENCE), SF(ndpi_protocol),
};
static const char *field_str(const ni_session *s, const strfield *f)
{
    const char *at = (const char *)s + f->off;
    const char *v = f->type == F_EVIDENCE ? ni_evidence_name(*(const ni_evidence *)(const void *)at)
                  : f->type == F_TUNNEL ? ni_tunnel_proto_name(*(const ni_tunnel_proto *)(const void *)at)
                  : f->type == F_UA_KIND ? ni_ua_kind_name(*(const ni_ua_kind *)(const void *)at)
                  : *(const char *const *)(const void *)at;
    return v && *v ? v : NULL;
}

static void json_strlist(ni_json *j, const char *key, const ni_strlist *l)
{
    if (!l) return;
    ni_json_key(j, key);
    ni_json_arr_begin(j);
    for (; l; l = l->next) ni_json_str(j, l->s ? l->s : "");
    ni_json_arr_end(j);
}

static void session_json(ni_buf *b, const ni_session *s)
{
    char t[NI_TIME_STRLEN], a[NI_ADDR_STRLEN], pb[4], vb[8], fb[9];
    ni_json j;
    ni_json_init(&j, b, 0);
    ni_json_obj_begin(&j);
    ni_json_kstr(&j, "first", ni_time_rfc3339_us(s->first_us, t));
    ni_json_kstr(&j, "last", ni_time_rfc3339_us(s->last_us, t));
    ni_json_kstr(&j, "proto", ni_out_proto_name(s->proto, pb));
    ni_json_kstr(&j, "client", ni_addr_format(&s->client, a));
    if (has_ports(s->proto)) ni_json_kuint(&j, "client_port", s->client_port);
    ni_json_kstr(&j, "server", ni_addr_format(&s->server, a));
    if (has_ports(s->proto)) ni_json_kuint(&j, "server_port", s->server_port);
    ni_json_kstr(&j, "direction", ni_direction_name(s->direction));
    ni_json_kuint(&j, "c2s_packets", s->c2s_packets);
    ni_json_kuint(&j, "c2s_bytes", s->c2s_bytes);
    ni_json_kuint(&j, "s2c_packets", s->s2c_packets);
    ni_json_kuint(&j, "s2c_bytes", s->s2c_bytes);
    ni_json_kstr_opt(&j, "http_host", first_host(s));
    ni_json_kstr_opt(&j, "user_agent", ni_session_user_agent(s));
    if (s->http) {
        ni_json_key(&j, "http");
        ni_json_arr_begin(&j);
        for (const ni_http_req *r = s->http; r; r = r->next) {
            ni_json_obj_begin(&j);
            ni_json_kstr_opt(&j, "method", r->method);
            ni_json_kstr_opt(&j, "host", r->host);
            ni_json_kstr_opt(&j, "path", r->path);
            ni_json_kstr_opt(&j, "user_agent", r->user_agent);
            ni_json_kstr_opt(&j, "sec_ch_ua", r->ch_ua);
            ni_json_kstr_opt(&j, "sec_ch_ua_platform", r->ch_ua_platform);
            ni_json_kstr_opt(&j, "sec_ch_ua_platform_version", r->ch_ua_platform_version);
            ni_json_kstr_opt(&j, "sec_ch_ua_model", r->ch_ua_model);
            ni_json_obj_end(&j);
        }
        ni_json_arr_end(&j);
    }
    ni_json_kstr_opt(&j, "sni", s->sni && *s->sni ? s->sni : NULL);
    json_strlist(&j, "alpn", s->alpn);
    ni_json_kstr_opt(&j, "tls_version", tls_text(s->tls_version ? s->tls_version
                                                                : s->tls_client_version, vb));
    ni_json_kstr_opt(&j, "ja4", s->ja4);
    ni_json_kstr_opt(&j, "dns_query", s->dns_query);
    json_strlist(&j, "dns_answers", s->dns_answers);
    ni_json_kstr_opt(&j, "dns_name", s->dns_name);
    ni_json_kstr_opt(&j, "name", ni_session_name(s));
    /* extras */
    ni_json_kstr_opt(&j, "tls_client_version", tls_text(s->tls_client_version, vb));
    if (s->tls_cipher) {
        snprintf(vb, sizeof vb, "0x%04x", s->tls_cipher);
        ni_json_kstr(&j, "tls_cipher", vb);
    }
    ni_json_kstr_opt(&j, "cert_subject", s->tls_cert_subject);
    ni_json_kstr_opt(&j, "cert_issuer", s->tls_cert_issuer);
    if (s->quic) ni_json_kbool(&j, "quic", true);
    if (s->proto == 6) {
        ni_json_key(&j, "tcp_flags");
        ni_json_obj_begin(&j);
        ni_json_kstr(&j, "c2s", ni_out_tcp_flags(s->c2s_tcp_flags, fb));
        ni_json_kstr(&j, "s2c", ni_out_tcp_flags(s->s2c_tcp_flags, fb));
        ni_json_obj_end(&j);
    }
    ni_json_kstr_opt(&j, "end", ni_out_end_name(s->end_reason));
    if (s->vlan) ni_json_kuint(&j, "vlan", s->vlan);
    ni_json_kstr_opt(&j, "source", s->source);
    if (s->sampled) ni_json_kuint(&j, "sampled", s->sampled);
    for (size_t i = 0; i < sizeof enrich_str / sizeof enrich_str[0]; i++) {
        ni_json_kstr_opt(&j, enrich_str[i].name, field_str(s, &enrich_str[i]));
        if (!strcmp(enrich_str[i].name, "windows_version") && s->ua_reduced) ni_json_kbool(&j, "ua_reduced", true);
        if (i == 3) {   /* the ASNs sit after the continents */
            if (s->client_asn) ni_json_kuint(&j, "client_asn", s->client_asn);
            if (s->server_asn) ni_json_kuint(&j, "server_asn", s->server_asn);
        }
    }
    ni_json_obj_end(&j);
    ni_buf_addc(b, '\n');
}

/* ---- CSV ---------------------------------------------------------------- */
static const char *const csv_cols[] = {
    "first", "last", "proto", "client", "client_port", "server", "server_port", "direction",
    "c2s_packets", "c2s_bytes", "s2c_packets", "s2c_bytes", "http_host", "user_agent", "http",
    "sni", "alpn", "tls_version", "ja4", "dns_query", "dns_answers", "dns_name", "name",
    "tls_client_version", "tls_cipher", "quic", "tcp_flags_c2s", "tcp_flags_s2c", "end", "vlan",
    "client_country", "server_country", "client_continent", "server_continent",
    "client_asn", "server_asn", "client_as_org", "server_as_org",
    "ua_browser", "ua_browser_version", "ua_os", "ua_os_version", "ua_maker", "ua_model",
    "ua_form_factor", "ua_kind", "windows_version", "service", "category", "service_evidence",
    "vpn_provider", "vpn_protocol", "vpn_evidence", "ndpi_protocol",
};

typedef struct csvrow { ni_buf *b; int n; } csvrow;

static void csv_sep(csvrow *r) { if (r->n++) ni_buf_addc(r->b, ','); }

/* One cell from a piece list: quoted per RFC 4180 §2.6 when needed. */
static void csv_cell(csvrow *r, const char *v)
{
    csv_sep(r);
    if (!v) return;
    if (!strpbrk(v, ",\"\r\n")) { ni_buf_adds(r->b, v); return; }
    ni_buf_addc(r->b, '"');
    for (const char *p = v; *p; p++) {
        if (*p == '"') ni_buf_addc(r->b, '"');
        ni_buf_addc(r->b, *p);
    }
    ni_buf_addc(r->b, '"');
}

static void csv_uint(csvrow *r, uint64_t v, bool present)
{
    csv_sep(r);
    if (present) ni_buf_printf(r->b, "%llu", (unsigned long long)v);
}

/* Joins pieces with ';' into tmp, then writes one cell. */
static void csv_list(csvrow *r, ni_buf *tmp, const ni_strlist *l)
{
    ni_buf_clear(tmp);
    for (const ni_strlist *x = l; x; x = x->next) {
        if (x != l) ni_buf_addc(tmp, ';');
        ni_buf_adds(tmp, x->s ? x->s : "");
    }
    csv_cell(r, l ? ni_buf_str(tmp) : NULL);
}

static void session_csv(ni_buf *b, const ni_session *s)
{
    char t[NI_TIME_STRLEN], a[NI_ADDR_STRLEN], pb[4], vb[8], fb[9];
    csvrow r = { b, 0 };
    ni_buf tmp;
    ni_buf_init(&tmp, 1u << 20);
    bool ports = has_ports(s->proto);
    csv_cell(&r, ni_time_rfc3339_us(s->first_us, t));
    csv_cell(&r, ni_time_rfc3339_us(s->last_us, t));
    csv_cell(&r, ni_out_proto_name(s->proto, pb));
    csv_cell(&r, ni_addr_format(&s->client, a));
    csv_uint(&r, s->client_port, ports);
    csv_cell(&r, ni_addr_format(&s->server, a));
    csv_uint(&r, s->server_port, ports);
    csv_cell(&r, ni_direction_name(s->direction));
    csv_uint(&r, s->c2s_packets, true);
    csv_uint(&r, s->c2s_bytes, true);
    csv_uint(&r, s->s2c_packets, true);
    csv_uint(&r, s->s2c_bytes, true);
    csv_cell(&r, first_host(s));
    csv_cell(&r, ni_session_user_agent(s));
    ni_buf_clear(&tmp);                     /* http: "METHOD host path" per request */
    for (const ni_http_req *q = s->http; q; q = q->next) {
        if (q != s->http) ni_buf_addc(&tmp, ';');
        ni_buf_printf(&tmp, "%s %s %s", q->method ? q->method : "", q->host ? q->host : "",
                      q->path ? q->path : "");
    }
    csv_cell(&r, s->http ? ni_buf_str(&tmp) : NULL);
    csv_cell(&r, s->sni && *s->sni ? s->sni : NULL);
    csv_list(&r, &tmp, s->alpn);
    csv_cell(&r, tls_text(s->tls_version ? s->tls_version : s->tls_client_version, vb));
    csv_cell(&r, s->ja4);
    csv_cell(&r, s->dns_query);
    csv_list(&r, &tmp, s->dns_answers);
    csv_cell(&r, s->dns_name);
    csv_cell(&r, ni_session_name(s));
    csv_cell(&r, tls_text(s->tls_client_version, vb));
    if (s->tls_cipher) snprintf(vb, sizeof vb, "0x%04x", s->tls_cipher);
    csv_cell(&r, s->tls_cipher ? vb : NULL);
    csv_cell(&r, s->quic ? "true" : NULL);
    csv_cell(&r, s->proto == 6 ? ni_out_tcp_flags(s->c2s_tcp_flags, fb) : NULL);
    csv_cell(&r, s->proto == 6 ? ni_out_tcp_flags(s->s2c_tcp_flags, fb) : NULL);
    csv_cell(&r, ni_out_end_name(s->end_reason));
    csv_uint(&r, s->vlan, s->vlan != 0);
    for (size_t i = 0; i < sizeof enrich_str / sizeof enrich_str[0]; i++) {
        csv_cell(&r, field_str(s, &enrich_str[i]));
        if (i == 3) {
            csv_uint(&r, s->client_asn, s->client_asn != 0);
            csv_uint(&r, s->server_asn, s->server_asn != 0);
        }
    }
    ni_buf_adds(b, "\r\n");
    ni_buf_release(&tmp);
}

void ni_out_begin(ni_buf *b, ni_out_format fmt)
{
    if (fmt != NI_OUT_CSV) return;
    for (size_t i = 0; i < sizeof csv_cols / sizeof csv_cols[0]; i++) {
        if (i) ni_buf_addc(b, ',');
        ni_buf_adds(b, csv_cols[i]);
    }
    ni_buf_adds(b, "\r\n");
}

void ni_out_session(ni_buf *b, ni_out_format fmt, const ni_session *s)
{
    if (fmt == NI_OUT_CSV) session_csv(b, s);
    else session_json(b, s);
}
