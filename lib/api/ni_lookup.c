/* ni_lookup.c — the look-ups of the embedding API (include/netintel/lookup.h,
 * docs/API.md): the data versions (enrich/ni_dataver), an address or a
 * domain as one JSON line (through the run's enrichment, ni_run_lookup),
 * and User-Agents as one JSON line each — uap-core's own parse (a parser of
 * its own, for the cache, prefilter and counters of `lookup --ua`) beside
 * the ua_* fields the enrichment gives a session, so that both say the same.
 * JSON is written with core/ni_json. */
#include "api/ni_lookup.h"
#include "api/ni_run.h"
#include "core/ni_arena.h"
#include "core/ni_buf.h"
#include "core/ni_datadir.h"
#include "core/ni_json.h"
#include "core/ni_limits.h"
#include "enrich/ni_dataver.h"
#include "enrich/ni_enrich.h"
#include "enrich/ni_ua.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(NI_UA_LOOKUP_CACHE_DEFAULT == NI_UA_CACHE_DEFAULT, "the public default cache is the parser's");
_Static_assert(NI_UA_LOOKUP_LINE_MAX == NI_LINE_MAX, "the public line limit is the library's");
_Static_assert(sizeof ((ni_data_info *)0)->data_dir == sizeof ((ni_data_versions *)0)->data_dir, "data_dir");
_Static_assert(sizeof ((ni_data_info *)0)->geoip_path == sizeof ((ni_data_versions *)0)->geoip_path, "geoip_path");
_Static_assert(sizeof ((ni_data_info *)0)->uap_core == NI_DATAVER_STR, "version strings");

/* ---- data versions ------------------------------------------------------------ */
ni_err ni_data_info_get(const char *data_dir, const char *geoip_path, ni_data_info *out, ni_error *err)
{
    ni_data_versions v;
    memset(out, 0, sizeof *out);
    ni_err e = ni_data_versions_get(data_dir, geoip_path, &v, err);
    if (e) return e;
    memcpy(out->data_dir, v.data_dir, sizeof out->data_dir);
    memcpy(out->uap_core, v.uap_core, sizeof out->uap_core);
    memcpy(out->browser_compat, v.browser_compat, sizeof out->browser_compat);
    memcpy(out->geoip_package, v.geoip_package, sizeof out->geoip_package);
    memcpy(out->asn_package, v.asn_package, sizeof out->asn_package);
    memcpy(out->geoip_path, v.geoip_path, sizeof out->geoip_path);
    memcpy(out->geoip_type, v.geoip_type, sizeof out->geoip_type);
    out->geoip_build_epoch = v.geoip_build_epoch;
    return NI_OK;
}

/* ---- an address or a domain ------------------------------------------------------ */
ni_err ni_run_lookup_json(ni_run *r, const char *text, const char **line, size_t *len, ni_error *err)
{
    ni_session s;
    ni_error e2 = { 0 };
    ni_err e = ni_run_lookup(r, text, &s, &e2);
    if (e == NI_ERR_ARG)
        return ni_error_set(err, e, "'%s': neither an IP address nor a domain name", text ? text : "");
    if (e) {
        if (err) *err = e2;
        return e;
    }
    ni_buf *out = ni_run_lookup_buf(r);
    ni_addr a;
    bool is_addr = ni_addr_parse(text, &a) == NI_OK;
    ni_json j;
    ni_buf_clear(out);
    ni_json_init(&j, out, 0);
    ni_json_obj_begin(&j);
    ni_json_kstr(&j, "query", text);
    ni_json_kstr(&j, "type", is_addr ? "address" : "domain");
    if (is_addr) {
        ni_json_kstr(&j, "country", s.server_country);
        ni_json_kstr(&j, "continent", s.server_continent);
        ni_json_key(&j, "asn");
        if (s.server_asn) ni_json_uint(&j, s.server_asn); else ni_json_null(&j);
        ni_json_kstr(&j, "as_org", s.server_as_org && *s.server_as_org ? s.server_as_org : NULL);
    }
    ni_json_kstr(&j, "service", s.service);
    ni_json_kstr(&j, "category", s.category);
    ni_json_kstr(&j, "vpn_provider", s.vpn_provider);
    ni_json_kstr(&j, "vpn_evidence", ni_evidence_name(s.vpn_evidence));
    ni_json_obj_end(&j);
    ni_buf_addc(out, '\n');
    if (out->err) return ni_error_set(err, NI_ERR_LIMIT, "'%s': the record is too large", text);
    *line = ni_buf_str(out);
    *len = out->len;
    return NI_OK;
}

/* ---- User-Agents ------------------------------------------------------------------- */
struct ni_ua_lookup {
    ni_ua_db *db;
    ni_ua *parser;              /* uap-core's own parse: the "uap" object and the counters */
    ni_enrich *en;              /* the ua_* fields, as sessions get them */
    ni_enrich_lookups lk;
    ni_arena *arena;
    ni_buf ua;                  /* the User-Agent, NUL-terminated for the enrichment */
    ni_buf out;
};

void ni_ua_lookup_free(ni_ua_lookup *q)
{
    if (!q) return;
    ni_buf_release(&q->out);
    ni_buf_release(&q->ua);
    ni_arena_free(q->arena);
    ni_enrich_free(q->en);
    ni_ua_free(q->parser);
    ni_ua_db_free(q->db);
    free(q);
}

ni_ua_lookup *ni_ua_lookup_new(const char *data_dir, size_t cache, bool prefilter, ni_error *err)
{
    char dir[PATH_MAX], yaml[PATH_MAX + 64];
    if (data_dir) {
        if ((size_t)snprintf(dir, sizeof dir, "%s", data_dir) >= sizeof dir) {
            ni_error_set(err, NI_ERR_ARG, "data directory: path too long");
            return NULL;
        }
    } else if (ni_data_dir(dir, sizeof dir) != NI_OK) {
        ni_error_set(err, NI_ERR_NOTFOUND, "no data directory (set NETINTEL_DATA or use --data)");
        return NULL;
    }
    snprintf(yaml, sizeof yaml, "%s/ext/node_modules/uap-core/regexes.yaml", dir);
    ni_ua_lookup *q = calloc(1, sizeof *q);
    if (!q) { ni_error_set(err, NI_ERR_NOMEM, "out of memory"); return NULL; }
    ni_buf_init(&q->out, 1u << 20);
    ni_buf_init(&q->ua, 1u << 20);
    ni_enrich_config ec = { dir, NULL, NULL, true };
    if (!(q->db = ni_ua_db_load(yaml, err))) {
        if (err && err->code == NI_ERR_NOTFOUND) {
            size_t n = strlen(err->msg);
            snprintf(err->msg + n, sizeof err->msg - n, " (run scripts/install-deps)");
        }
        ni_ua_lookup_free(q);
        return NULL;
    }
    if (!(q->parser = ni_ua_new(q->db, cache, err)) || !(q->en = ni_enrich_new(&ec, err)) ||
        !(q->arena = ni_arena_new(NI_SESSION_ARENA_MAX))) {
        if (err && !err->code) ni_error_set(err, NI_ERR_NOMEM, "out of memory");
        ni_ua_lookup_free(q);
        return NULL;
    }
    ni_ua_set_prefilter(q->parser, prefilter);
    if (ni_enrich_ua_parser(q->en)) ni_ua_set_prefilter(ni_enrich_ua_parser(q->en), prefilter);
    q->lk = ni_enrich_profile_lookups(q->en);
    return q;
}

static void write_agent(ni_json *j, const char *key, const ni_ua_agent *a)
{
    ni_json_key(j, key);
    ni_json_obj_begin(j);
    ni_json_kstr(j, "family", a->family);
    ni_json_kstr(j, "major", a->major);
    ni_json_kstr(j, "minor", a->minor);
    ni_json_kstr(j, "patch", a->patch);
    ni_json_kstr(j, "patch_minor", a->patch_minor);
    ni_json_obj_end(j);
}

ni_err ni_ua_lookup_json(ni_ua_lookup *q, const char *line, size_t n, const char *platform,
                         const char *platform_version, const char *model,
                         const char **text, size_t *len, ni_error *err)
{
    ni_buf_clear(&q->ua);
    if (!line || ni_buf_add(&q->ua, line, n))
        return ni_error_set(err, line ? NI_ERR_LIMIT : NI_ERR_ARG, "User-Agent: %s", line ? "too long" : "NULL");
    line = ni_buf_str(&q->ua);  /* ua[0..n) may not end in a NUL: the enrichment needs one */
    const ni_ua_result *r = ni_ua_parse(q->parser, line, n);
    ni_session s;
    memset(&s, 0, sizeof s);
    s.arena = q->arena;
    ni_enrich_ua(q->en, &s, line, platform, platform_version, model);
    const char *name = NULL, *released = NULL;
    if (s.ua_model && q->lk.device) q->lk.device(q->lk.ud, s.ua_maker, s.ua_model, &name, &released);
    ni_json j;
    ni_buf_clear(&q->out);
    ni_json_init(&j, &q->out, 0);
    ni_json_obj_begin(&j);
    ni_json_key(&j, "user_agent"); ni_json_strn(&j, line, n);
    /* the fields a session carrying this User-Agent has (docs/sessions.md) */
    ni_json_kstr(&j, "ua_browser", s.ua_browser);
    ni_json_kstr(&j, "ua_browser_version", s.ua_browser_version);
    ni_json_kstr(&j, "ua_os", s.ua_os);
    ni_json_kstr(&j, "ua_os_version", s.ua_os_version);
    ni_json_kstr(&j, "ua_os_detail", s.ua_os_detail);
    ni_json_kstr(&j, "ua_maker", s.ua_maker);
    ni_json_kstr(&j, "ua_model", s.ua_model);
    ni_json_kstr(&j, "ua_device_source", s.ua_device_source);
    ni_json_kstr(&j, "ua_form_factor", s.ua_form_factor);
    ni_json_kstr(&j, "ua_kind", s.ua_kind ? ni_ua_kind_name(s.ua_kind) : NULL);
    ni_json_kstr(&j, "windows_version", s.windows_version);
    ni_json_kbool(&j, "ua_reduced", s.ua_reduced);
    /* from data/devices.tsv */
    ni_json_kstr(&j, "model_name", name);
    ni_json_kstr(&j, "model_released", released);
    /* uap-core's parse as its specification defines it */
    ni_json_key(&j, "uap");
    ni_json_obj_begin(&j);
    write_agent(&j, "browser", &r->browser);
    write_agent(&j, "os", &r->os);
    ni_json_key(&j, "device");
    ni_json_obj_begin(&j);
    ni_json_kstr(&j, "family", r->device.family);
    ni_json_kstr(&j, "brand", r->device.brand);
    ni_json_kstr(&j, "model", r->device.model);
    ni_json_obj_end(&j);
    ni_json_obj_end(&j);
    ni_json_obj_end(&j);
    ni_arena_reset(q->arena);
    ni_buf_addc(&q->out, '\n');
    if (q->out.err) return ni_error_set(err, NI_ERR_LIMIT, "output record too large");
    *text = ni_buf_str(&q->out);
    *len = q->out.len;
    return NI_OK;
}

ni_err ni_ua_lookup_stats_json(ni_ua_lookup *q, const char **text, size_t *len, ni_error *err)
{
    ni_ua_stats s;
    ni_ua_get_stats(q->parser, &s);
    ni_json j;
    ni_buf_clear(&q->out);
    ni_json_init(&j, &q->out, 2);
    ni_json_obj_begin(&j);
    ni_json_kuint(&j, "parsed", s.parses);
    ni_json_kuint(&j, "cache_hits", s.cache_hits);
    ni_json_kuint(&j, "regex_tries", s.regex_tries);
    ni_json_kuint(&j, "match_errors", s.match_errors);
    ni_json_kuint(&j, "truncated", s.truncated);
    ni_json_obj_end(&j);
    ni_buf_addc(&q->out, '\n');
    if (q->out.err) return ni_error_set(err, NI_ERR_LIMIT, "statistics too large");
    *text = ni_buf_str(&q->out);
    *len = q->out.len;
    return NI_OK;
}
