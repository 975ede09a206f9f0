/* ni_out.c — sessions as JSON Lines and CSV (RFC 8259, RFC 4180); the field
 * names and order are the contract written down in docs/sessions.md. */
#include "output/ni_out.h"

#include <stdio.h>
#include <string.h>
#include <stddef.h>

#include "core/ni_json.h"
#include "core/ni_limits.h"
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
    SF(ua_os_detail), SF(ua_device_source),
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

/* ---- one walk over the fields, two writers --------------------------------
 * session_fields() names every field in the JSON Lines order; an emitter
 * writes them as JSON (absent values omitted), as a CSV row (absent values
 * empty, arrays and objects as JSON text in one cell) or as the CSV header
 * row (the names).  So CSV has every field JSON Lines has, by construction. */
typedef enum emit_mode { EMIT_JSON, EMIT_CSV, EMIT_HEADER, EMIT_VISIT } emit_mode;

typedef struct emitter {
    emit_mode mode;
    ni_json *j;         /* EMIT_JSON */
    ni_buf *b;          /* EMIT_CSV / EMIT_HEADER: the row */
    ni_buf *tmp;        /* EMIT_CSV: scratch for a cell */
    int n;              /* cells written in the row */
    ni_out_field_fn fn; /* EMIT_VISIT: the visitor (tmp: scratch) */
    void *ud;
    bool schema;        /* EMIT_VISIT over no session: names and kinds only */
} emitter;

/* EMIT_VISIT: one field to the visitor. */
static void visit(emitter *e, const char *key, ni_out_kind kind, bool present, const char *text, uint64_t num)
{
    ni_out_field f = { key, kind, present && !e->schema, text, num };
    e->fn(e->ud, &f);
}

/* EMIT_VISIT: a string as JSON Lines has it (invalid UTF-8 → U+FFFD). */
static void visit_str(emitter *e, const char *key, const char *v)
{
    if (!v || e->schema) { visit(e, key, NI_OUT_STR, false, NULL, 0); return; }
    const unsigned char *u = (const unsigned char *)v;
    size_t n = strlen(v), i = 0, l;
    while (i < n && (l = ni_utf8_len(u + i, n - i))) i += l;
    if (i < n) {
        ni_buf_clear(e->tmp);
        for (i = 0; i < n;) {
            if ((l = ni_utf8_len(u + i, n - i))) { ni_buf_add(e->tmp, v + i, l); i += l; }
            else { ni_buf_adds(e->tmp, "\xEF\xBF\xBD"); i++; }
        }
        v = ni_buf_str(e->tmp);
    }
    visit(e, key, NI_OUT_STR, true, v, 0);
}

static void csv_sep(emitter *e) { if (e->n++) ni_buf_addc(e->b, ','); }

/* A number as a spreadsheet reads one: [+-]digits[.digits][e[+-]digits]. */
static bool csv_is_number(const char *v)
{
    const char *p = v;
    if (*p == '+' || *p == '-') p++;
    size_t d = 0;
    while (*p >= '0' && *p <= '9') { p++; d++; }
    if (*p == '.') { p++; while (*p >= '0' && *p <= '9') { p++; d++; } }
    if (!d) return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!(*p >= '0' && *p <= '9')) return false;
        while (*p >= '0' && *p <= '9') p++;
    }
    return *p == 0;
}

/* One CSV cell (RFC 4180 §2.5-2.7): invalid UTF-8 bytes become U+FFFD as in
 * JSON Lines; a value a spreadsheet would run as a formula (first character
 * = + - @ TAB CR, and not a number) gets a leading single quote (OWASP CSV
 * injection); quoted when it holds a comma, quote, CR or LF. */
static void csv_cell(emitter *e, const char *v)
{
    csv_sep(e);
    if (!v) return;
    ni_buf *t = e->tmp;
    ni_buf_clear(t);
    if (strchr("=+-@\t\r", v[0]) && v[0] && !csv_is_number(v)) ni_buf_addc(t, '\'');
    const unsigned char *u = (const unsigned char *)v;
    size_t n = strlen(v);
    for (size_t i = 0; i < n;) {
        size_t l = ni_utf8_len(u + i, n - i);
        if (l) { ni_buf_add(t, v + i, l); i += l; }
        else { ni_buf_adds(t, "\xEF\xBF\xBD"); i++; }
    }
    const char *c = ni_buf_str(t);
    if (!strpbrk(c, ",\"\r\n")) { ni_buf_adds(e->b, c); return; }
    ni_buf_addc(e->b, '"');
    for (const char *p = c; *p; p++) {
        if (*p == '"') ni_buf_addc(e->b, '"');
        ni_buf_addc(e->b, *p);
    }
    ni_buf_addc(e->b, '"');
}

static void e_name(emitter *e, const char *key)
{
    csv_sep(e);
    ni_buf_adds(e->b, key);
}

/* A string; NULL = absent. */
static void e_str(emitter *e, const char *key, const char *v)
{
    if (e->mode == EMIT_VISIT) visit_str(e, key, v);
    else if (e->mode == EMIT_HEADER) e_name(e, key);
    else if (e->mode == EMIT_JSON) ni_json_kstr_opt(e->j, key, v);
    else csv_cell(e, v);
}

static void e_uint(emitter *e, const char *key, uint64_t v, bool present)
{
    if (e->mode == EMIT_VISIT) { visit(e, key, NI_OUT_UINT, present, NULL, v); return; }
    if (e->mode == EMIT_HEADER) { e_name(e, key); return; }
    if (e->mode == EMIT_JSON) { if (present) ni_json_kuint(e->j, key, v); return; }
    csv_sep(e);
    if (!present) return;
    char d[24], *p = d + sizeof d;
    do { *--p = (char)('0' + v % 10); v /= 10; } while (v);
    ni_buf_add(e->b, p, (size_t)(d + sizeof d - p));
}

/* A flag written only when true ("true" in CSV, empty otherwise). */
static void e_true(emitter *e, const char *key, bool v)
{
    if (e->mode == EMIT_VISIT) visit(e, key, NI_OUT_TRUE, v, NULL, 0);
    else if (e->mode == EMIT_HEADER) e_name(e, key);
    else if (e->mode == EMIT_JSON) { if (v) ni_json_kbool(e->j, key, true); }
    else csv_cell(e, v ? "true" : NULL);
}

/* A JSON array or object value, written by fn: in place (JSON), as JSON text
 * in one cell (CSV).  present false = absent. */
typedef void (*json_value_fn)(ni_json *j, const ni_session *s);
static void e_json(emitter *e, const char *key, bool present, json_value_fn fn, const ni_session *s)
{
    if (e->mode == EMIT_HEADER) { e_name(e, key); return; }
    if (e->mode == EMIT_JSON) {
        if (!present) return;
        ni_json_key(e->j, key);
        fn(e->j, s);
        return;
    }
    if (e->mode == EMIT_VISIT && (!present || e->schema)) { visit(e, key, NI_OUT_JSON, false, NULL, 0); return; }
    if (!present) { csv_cell(e, NULL); return; }
    ni_buf cell;
    ni_buf_init(&cell, 1u << 20);
    ni_json j;
    ni_json_init(&j, &cell, 0);
    fn(&j, s);
    if (e->mode == EMIT_VISIT) visit(e, key, NI_OUT_JSON, !cell.err, cell.err ? NULL : ni_buf_str(&cell), 0);
    else csv_cell(e, cell.err ? NULL : ni_buf_str(&cell));
    ni_buf_release(&cell);
}

static void strlist_json(ni_json *j, const ni_strlist *l)
{
    ni_json_arr_begin(j);
    for (; l; l = l->next) ni_json_str(j, l->s ? l->s : "");
    ni_json_arr_end(j);
}
static void alpn_json(ni_json *j, const ni_session *s) { strlist_json(j, s->alpn); }
static void answers_json(ni_json *j, const ni_session *s) { strlist_json(j, s->dns_answers); }
static void cert_names_json(ni_json *j, const ni_session *s) { strlist_json(j, s->cert_names); }

static void http_json(ni_json *j, const ni_session *s)
{
    ni_json_arr_begin(j);
    for (const ni_http_req *r = s->http; r; r = r->next) {
        ni_json_obj_begin(j);
        ni_json_kstr_opt(j, "method", r->method);
        ni_json_kstr_opt(j, "host", r->host);
        ni_json_kstr_opt(j, "path", r->path);
        ni_json_kstr_opt(j, "user_agent", r->user_agent);
        ni_json_kstr_opt(j, "sec_ch_ua", r->ch_ua);
        ni_json_kstr_opt(j, "sec_ch_ua_platform", r->ch_ua_platform);
        ni_json_kstr_opt(j, "sec_ch_ua_platform_version", r->ch_ua_platform_version);
        ni_json_kstr_opt(j, "sec_ch_ua_model", r->ch_ua_model);
        ni_json_obj_end(j);
    }
    ni_json_arr_end(j);
}

/* dns: one object per transaction, absent members omitted. */
static void dns_json(ni_json *j, const ni_session *s)
{
    ni_json_arr_begin(j);
    for (const ni_dns_txn *t = s->dns; t; t = t->next) {
        ni_json_obj_begin(j);
        ni_json_kstr_opt(j, "query", t->query);
        ni_json_kstr_opt(j, "qtype", t->qtype);
        ni_json_kstr_opt(j, "rcode", t->rcode);
        if (t->answers) { ni_json_key(j, "answers"); strlist_json(j, t->answers); }
        if (t->ttl >= 0) ni_json_kuint(j, "ttl", (uint64_t)t->ttl);
        ni_json_obj_end(j);
    }
    ni_json_arr_end(j);
}

static void tcp_flags_json(ni_json *j, const ni_session *s)
{
    char fb[9];
    ni_json_obj_begin(j);
    ni_json_kstr(j, "c2s", ni_out_tcp_flags(s->c2s_tcp_flags, fb));
    ni_json_kstr(j, "s2c", ni_out_tcp_flags(s->s2c_tcp_flags, fb));
    ni_json_obj_end(j);
}

/* tcp_flags: an object in JSON, two cells (tcp_flags_c2s, tcp_flags_s2c) in CSV. */
static void e_tcp_flags(emitter *e, const ni_session *s)
{
    char fb[9];
    bool tcp = s->proto == 6;
    if (e->mode == EMIT_VISIT) { e_json(e, "tcp_flags", tcp, tcp_flags_json, s); return; }
    if (e->mode == EMIT_HEADER) { e_name(e, "tcp_flags_c2s"); e_name(e, "tcp_flags_s2c"); return; }
    if (e->mode == EMIT_CSV) {
        csv_cell(e, tcp ? ni_out_tcp_flags(s->c2s_tcp_flags, fb) : NULL);
        csv_cell(e, tcp ? ni_out_tcp_flags(s->s2c_tcp_flags, fb) : NULL);
        return;
    }
    if (!tcp) return;
    ni_json_key(e->j, "tcp_flags");
    ni_json_obj_begin(e->j);
    ni_json_kstr(e->j, "c2s", ni_out_tcp_flags(s->c2s_tcp_flags, fb));
    ni_json_kstr(e->j, "s2c", ni_out_tcp_flags(s->s2c_tcp_flags, fb));
    ni_json_obj_end(e->j);
}

/* Every field, in the order of docs/sessions.md.  s is NULL for the header. */
static void session_fields(emitter *e, const ni_session *s)
{
    static const ni_session none;
    if (!s) s = &none;
    char t[NI_TIME_STRLEN], a[NI_ADDR_STRLEN], pb[4], vb[8];
    bool ports = has_ports(s->proto);
    e_str(e, "first", ni_time_rfc3339_us(s->first_us, t));
    e_str(e, "last", ni_time_rfc3339_us(s->last_us, t));
    e_str(e, "proto", ni_out_proto_name(s->proto, pb));
    e_str(e, "client", ni_addr_format(&s->client, a));
    e_uint(e, "client_port", s->client_port, ports);
    e_str(e, "server", ni_addr_format(&s->server, a));
    e_uint(e, "server_port", s->server_port, ports);
    e_str(e, "direction", ni_direction_name(s->direction));
    e_uint(e, "c2s_packets", s->c2s_packets, true);
    e_uint(e, "c2s_bytes", s->c2s_bytes, true);
    e_uint(e, "s2c_packets", s->s2c_packets, true);
    e_uint(e, "s2c_bytes", s->s2c_bytes, true);
    e_str(e, "http_host", first_host(s));
    e_str(e, "user_agent", ni_session_user_agent(s));
    e_json(e, "http", s->http != NULL, http_json, s);
    e_str(e, "sni", s->sni && *s->sni ? s->sni : NULL);
    e_json(e, "alpn", s->alpn != NULL, alpn_json, s);
    e_str(e, "tls_version", tls_text(s->tls_version ? s->tls_version : s->tls_client_version, vb));
    e_str(e, "ja4", s->ja4);
    e_str(e, "dns_query", s->dns_query);
    e_json(e, "dns_answers", s->dns_answers != NULL, answers_json, s);
    e_str(e, "dns_name", s->dns_name);
    e_str(e, "name", ni_session_name(s));
    /* extras */
    e_str(e, "tls_client_version", tls_text(s->tls_client_version, vb));
    if (s->tls_cipher) snprintf(vb, sizeof vb, "0x%04x", s->tls_cipher);
    e_str(e, "tls_cipher", s->tls_cipher ? vb : NULL);
    e_str(e, "cert_subject", s->tls_cert_subject);
    e_str(e, "cert_issuer", s->tls_cert_issuer);
    e_true(e, "quic", s->quic);
    e_tcp_flags(e, s);
    e_str(e, "end", ni_out_end_name(s->end_reason));
    e_uint(e, "vlan", s->vlan, s->vlan != 0);
    for (size_t i = 0; i < sizeof enrich_str / sizeof enrich_str[0]; i++) {
        e_str(e, enrich_str[i].name, field_str(s, &enrich_str[i]));
        if (enrich_str[i].off == offsetof(ni_session, windows_version)) e_true(e, "ua_reduced", s->ua_reduced);
        if (i == 3) {   /* the ASNs sit after the continents */
            e_uint(e, "client_asn", s->client_asn, s->client_asn != 0);
            e_uint(e, "server_asn", s->server_asn, s->server_asn != 0);
        }
    }
    e_str(e, "source", s->source);     /* absent for packet captures */
    e_uint(e, "sampled", s->sampled, s->sampled != 0);
    e_json(e, "dns", s->dns != NULL, dns_json, s);
    e_uint(e, "dns_dropped", s->dns_dropped, s->dns_dropped != 0);
    e_str(e, "proxy", ni_proxy_kind_name(s->proxy));
    e_str(e, "proxy_dest", s->proxy_dest);
    /* TCP/IP fingerprint (issue 12) */
    e_str(e, "tcp_fingerprint", s->tcp_fingerprint);
    e_uint(e, "tcp_window", s->tcp_window, s->tcp_fingerprint != NULL);
    e_str(e, "tcp_os", s->tcp_os);
    e_str(e, "tcp_os_detail", s->tcp_os_detail);
    /* certificate subjectAltName (issue 10) */
    e_json(e, "cert_names", s->cert_names != NULL, cert_names_json, s);
}

static void session_json(ni_buf *b, const ni_session *s)
{
    ni_json j;
    ni_json_init(&j, b, 0);
    emitter e = { EMIT_JSON, &j, NULL, NULL, 0, NULL, NULL, false };
    ni_json_obj_begin(&j);
    session_fields(&e, s);
    ni_json_obj_end(&j);
    ni_buf_addc(b, '\n');
}

static void session_csv(ni_buf *b, const ni_session *s)
{
    ni_buf tmp;
    ni_buf_init(&tmp, 4u << 20);
    emitter e = { s ? EMIT_CSV : EMIT_HEADER, NULL, b, &tmp, 0, NULL, NULL, false };
    session_fields(&e, s);
    ni_buf_adds(b, "\r\n");
    ni_buf_release(&tmp);
}

void ni_out_fields(const ni_session *s, ni_out_field_fn fn, void *ud)
{
    ni_buf tmp;
    ni_buf_init(&tmp, NI_SESSION_RECORD_MAX);
    emitter e = { EMIT_VISIT, NULL, NULL, &tmp, 0, fn, ud, s == NULL };
    session_fields(&e, s);
    ni_buf_release(&tmp);
}

void ni_out_begin(ni_buf *b, ni_out_format fmt)
{
    if (fmt == NI_OUT_CSV) session_csv(b, NULL);
}

void ni_out_session(ni_buf *b, ni_out_format fmt, const ni_session *s)
{
    if (fmt == NI_OUT_CSV) session_csv(b, s);
    else session_json(b, s);
}
