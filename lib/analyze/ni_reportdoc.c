/* ni_reportdoc.c — report.json reader and checker (see ni_reportdoc.h).
 * The check walks the document and the description (ni_reportdef) side by
 * side and stops at the first difference, naming its path the way a reader
 * would write it: `services[3].evidence.sni`. */
#include "analyze/ni_reportdoc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_LEN 512

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE: case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

static void expected(char *buf, size_t n, unsigned types)
{
    static const struct { unsigned t; const char *name; } names[] = {
        { NI_RD_OBJ, "an object" }, { NI_RD_ARR, "an array" }, { NI_RD_STR, "a string" },
        { NI_RD_INT, "an integer" }, { NI_RD_NUM, "a number" }, { NI_RD_BOOL, "a boolean" }, { NI_RD_NULL, "null" },
    };
    size_t o = 0;
    buf[0] = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && o < n; i++)
        if (types & names[i].t) o += (size_t)snprintf(buf + o, n - o, "%s%s", o ? " or " : "", names[i].name);
}

static int type_ok(const json_t *v, unsigned types)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return !!(types & NI_RD_OBJ);
    case JSON_ARRAY: return !!(types & NI_RD_ARR);
    case JSON_STRING: return !!(types & NI_RD_STR);
    case JSON_INTEGER: return !!(types & (NI_RD_INT | NI_RD_NUM));
    case JSON_REAL: return !!(types & NI_RD_NUM);
    case JSON_TRUE: case JSON_FALSE: return !!(types & NI_RD_BOOL);
    default: return !!(types & NI_RD_NULL);
    }
}

static int digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

/* YYYY-MM-DD, YYYY-MM, RFC 3339 instant in UTC ("...Z") */
static int format_ok(const char *s, int fmt)
{
    size_t n = strlen(s);
    int date = n >= 10 && digits(s, 4) && s[4] == '-' && digits(s + 5, 2) && s[7] == '-' && digits(s + 8, 2);
    switch (fmt) {
    case NI_RD_FMT_DATE: return n == 10 && date;
    case NI_RD_FMT_MONTH:
        return n == 7 && digits(s, 4) && s[4] == '-' && digits(s + 5, 2) &&
               ((s[5] == '0' && s[6] >= '1') || (s[5] == '1' && s[6] <= '2'));
    case NI_RD_FMT_TIME:
        return n >= 20 && date && (s[10] == 'T' || s[10] == 't') && digits(s + 11, 2) && s[13] == ':' &&
               digits(s + 14, 2) && s[16] == ':' && digits(s + 17, 2) && s[n - 1] == 'Z';
    default: return 1;
    }
}

typedef struct walk {
    const char *name;
    ni_error *err;
    char path[PATH_MAX_LEN];
} walk;

static ni_err fail(walk *w, const char *fmt, const char *a, const char *b)
{
    char what[256];
    snprintf(what, sizeof what, fmt, a ? a : "", b ? b : "");
    return ni_error_set(w->err, NI_ERR_FORMAT, "%s: report.json key `%s` %s", w->name, w->path[0] ? w->path : "(document)", what);
}

/* The path of a key: w->path cut at plen, then ".name" (or "name" at the
 * top), or "[i]"; cut to the buffer as snprintf would (the walk visits
 * every key, so no printf here). */
static void path_key(walk *w, size_t plen, const char *name)
{
    char *d = w->path + plen;
    size_t room = sizeof w->path - plen - 1, n = 0;
    if (plen && n < room) d[n++] = '.';
    for (const char *c = name; *c && n < room; c++) d[n++] = *c;
    d[n] = 0;
}

static void path_index(walk *w, size_t plen, size_t i)
{
    char num[32];
    size_t k = 0;
    num[k++] = ']';
    do { num[k++] = (char)('0' + i % 10); i /= 10; } while (i);
    num[k++] = '[';
    char *d = w->path + plen;
    size_t room = sizeof w->path - plen - 1, n = 0;
    while (k && n < room) d[n++] = num[--k];
    d[n] = 0;
}

static ni_err check(walk *w, const json_t *v, const ni_rd_field *f)
{
    char exp[128], buf[64];
    if (!type_ok(v, f->types)) {
        expected(exp, sizeof exp, f->types);
        return fail(w, "is %s, expected %s", type_name(v), exp);
    }
    if (json_is_number(v)) {
        double d = json_number_value(v);
        if (!isfinite(d) || (!isnan(f->min) && d < f->min) || (!isnan(f->max) && d > f->max) ||
            (!isnan(f->min_excl) && d <= f->min_excl)) {
            snprintf(buf, sizeof buf, "%.17g", d);
            return fail(w, "is %s, out of range", buf, NULL);
        }
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (f->values) {
            size_t i = 0;
            while (f->values[i] && strcmp(f->values[i], s)) i++;
            if (!f->values[i]) {
                if (!f->values[1]) return fail(w, "is \"%.60s\", expected \"%s\"", s, f->values[0]);
                return fail(w, "is \"%.60s\", not one of its values", s, NULL);
            }
        }
        if ((int)strlen(s) < f->min_len) return fail(w, "is empty", NULL, NULL);
        if (f->format && !format_ok(s, f->format))
            return fail(w, "is \"%.60s\", %s", s, f->format == NI_RD_FMT_DATE ? "expected a date YYYY-MM-DD" :
                        f->format == NI_RD_FMT_MONTH ? "expected a month YYYY-MM" : "expected an RFC 3339 time in UTC");
    }
    size_t plen = strlen(w->path);
    ni_err e = NI_OK;
    if (json_is_array(v)) {
        size_t n = json_array_size(v);
        if ((f->min_items >= 0 && n < (size_t)f->min_items) || (f->max_items >= 0 && n > (size_t)f->max_items)) {
            char got[32], want[48];
            snprintf(got, sizeof got, "%zu", n);
            if (f->min_items == f->max_items) snprintf(want, sizeof want, "%d", f->min_items);
            else snprintf(want, sizeof want, "%d to %d", f->min_items < 0 ? 0 : f->min_items, f->max_items);
            return fail(w, "has %s items, expected %s", got, want);
        }
        for (size_t i = 0; i < n && !e && f->items; i++) {
            path_index(w, plen, i);
            e = check(w, json_array_get(v, i), f->items);
            if (!e && f->unique)
                for (size_t k = 0; k < i && !e; k++)
                    if (json_equal(json_array_get(v, k), json_array_get(v, i))) e = fail(w, "repeats an earlier item", NULL, NULL);
        }
        w->path[plen] = 0;
        return e;
    }
    if (json_is_object(v) && f->nvariants) {
        /* the form whose first single-valued key has the document's value */
        const char *tag = NULL;
        for (size_t i = 0; i < f->nvariants; i++) {
            const ni_rd_field *u = &f->variants[i];
            for (size_t k = 0; k < u->nprops; k++) {
                const ni_rd_field *p = &u->props[k];
                if (!p->values || p->values[1]) continue;
                const char *got = json_string_value(json_object_get(v, p->name));
                if (got && !strcmp(got, p->values[0])) return check(w, v, u);
                tag = p->name;
                break;
            }
        }
        snprintf(w->path + plen, sizeof w->path - plen, "%s%s", plen ? "." : "", tag ? tag : "");
        e = fail(w, json_object_get(v, tag ? tag : "") ? "has a value of none of its forms" : "missing", NULL, NULL);
        w->path[plen] = 0;
        return e;
    }
    if (json_is_object(v)) {
        const char *k; const json_t *x;
        /* every key of the description: present when required, of its type */
        for (size_t i = 0; i < f->nprops && !e; i++) {
            const ni_rd_field *p = &f->props[i];
            path_key(w, plen, p->name);
            x = json_object_get(v, p->name);
            if (!x) { if (p->required) e = fail(w, "missing", NULL, NULL); }
            else e = check(w, x, p);
        }
        /* every key of the document: described (or a map's) */
        json_object_foreach((json_t *)v, k, x) {
            if (e) break;
            path_key(w, plen, k);
            if (f->is_map) { e = check(w, x, f->items); continue; }
            size_t i = 0;
            while (i < f->nprops && strcmp(f->props[i].name, k)) i++;
            if (i == f->nprops) e = fail(w, "is not part of %s", ni_reportdef_schema, NULL);
        }
        w->path[plen] = 0;
    }
    return e;
}

ni_err ni_reportdoc_check(const json_t *doc, const ni_rd_field *def, const char *name, ni_error *err)
{
    walk w = { name ? name : "report.json", err, "" };
    return check(&w, doc, def);
}

json_t *ni_reportdoc_load(const char *text, size_t len, const char *name, ni_error *err)
{
    if (!name) name = "report.json";
    json_error_t je;
    json_t *r = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!r) {
        /* JSON Lines (the output of `netintel sessions`): a first line that
         * parses alone, then more */
        const char *nl = memchr(text, '\n', len);
        json_t *first = nl ? json_loadb(text, (size_t)(nl - text), 0, NULL) : NULL;
        if (first) {
            json_decref(first);
            ni_error_set(err, NI_ERR_FORMAT, "%s: JSON Lines (one record per line), not a report.json", name);
        } else {
            ni_error_set(err, NI_ERR_FORMAT, "%s: not a report.json: not JSON (line %d: %s)", name, je.line, je.text);
        }
        return NULL;
    }
    const json_t *schema = json_is_object(r) ? json_object_get(r, "schema") : NULL;
    if (!json_is_string(schema) || strncmp(json_string_value(schema), "netintel.profile/", 17)) {
        ni_error_set(err, NI_ERR_FORMAT, "%s: not a report.json (no \"schema\": \"%s\")", name, ni_reportdef_schema);
        json_decref(r);
        return NULL;
    }
    if (strcmp(json_string_value(schema), ni_reportdef_schema)) {
        ni_error_set(err, NI_ERR_FORMAT, "%s: report.json of schema \"%.40s\"; this netintel reads \"%s\"", name,
                     json_string_value(schema), ni_reportdef_schema);
        json_decref(r);
        return NULL;
    }
    if (ni_reportdoc_check(r, &ni_reportdef_root, name, err)) { json_decref(r); return NULL; }
    return r;
}

const json_t *ni_reportdoc_get(const json_t *doc, const char *path)
{
    char key[128];
    const json_t *v = doc;
    while (v && path && *path) {
        size_t n = strcspn(path, ".");
        if (n >= sizeof key) return NULL;
        memcpy(key, path, n);
        key[n] = 0;
        v = json_object_get(v, key);
        path += n + (path[n] == '.');
    }
    return v;
}

long long ni_reportdoc_int(const json_t *doc, const char *path)
{
    const json_t *v = ni_reportdoc_get(doc, path);
    return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

const char *ni_reportdoc_str(const json_t *doc, const char *path)
{
    return json_string_value(ni_reportdoc_get(doc, path));
}
