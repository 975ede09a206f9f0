/* ni_country.c — the ISO 3166-1 country table (data/countries.tsv), indexed
 * directly by the two letters of the alpha-2 code (26 × 26 slots). */
#include "enrich/ni_country.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enrich/ni_tsv.h"

struct ni_countries {
    ni_country_info *slot[26 * 26];
    size_t count;
};

static const char *const continents[] = {
    "Africa", "Antarctica", "Asia", "Europe", "North America", "Oceania", "South America"
};

static int code_index(const char *code)
{
    if (!code || !isalpha((unsigned char)code[0]) || !isalpha((unsigned char)code[1]) || code[2])
        return -1;
    return (toupper((unsigned char)code[0]) - 'A') * 26 + (toupper((unsigned char)code[1]) - 'A');
}

static bool upper_n(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < 'A' || s[i] > 'Z') return false;
    return s[n] == 0;
}

static const char *canon_continent(const char *s)
{
    for (size_t i = 0; i < sizeof continents / sizeof continents[0]; i++)
        if (!strcmp(s, continents[i])) return continents[i];
    return NULL;
}

void ni_countries_free(ni_countries *c)
{
    if (!c) return;
    for (size_t i = 0; i < 26 * 26; i++) {
        ni_country_info *ci = c->slot[i];
        if (!ci) continue;
        free((char *)ci->name);
        free((char *)ci->subregion);
        free((char *)ci->source);
        free(ci);
    }
    free(c);
}

ni_countries *ni_countries_load_file(const char *path, ni_error *err)
{
    ni_tsv t;
    if (ni_tsv_open(&t, path, err)) return NULL;
    int c2 = ni_tsv_need(&t, "alpha2", err), c3 = c2 < 0 ? -1 : ni_tsv_need(&t, "alpha3", err);
    int cn = c3 < 0 ? -1 : ni_tsv_need(&t, "name", err);
    int cc = cn < 0 ? -1 : ni_tsv_need(&t, "continent", err);
    int cs = cc < 0 ? -1 : ni_tsv_need(&t, "subregion", err);
    int cm = cs < 0 ? -1 : ni_tsv_need(&t, "m49", err);
    int csrc = cm < 0 ? -1 : ni_tsv_need(&t, "source", err);
    if (csrc < 0) { ni_tsv_close(&t); return NULL; }
    ni_countries *c = calloc(1, sizeof *c);
    if (!c) { ni_tsv_close(&t); ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path); return NULL; }
    int r;
    while ((r = ni_tsv_next(&t, err)) > 0) {
        const char *a2 = ni_tsv_field(&t, c2), *a3 = ni_tsv_field(&t, c3);
        const char *name = ni_tsv_field(&t, cn), *cont = ni_tsv_field(&t, cc);
        const char *sub = ni_tsv_field(&t, cs), *m49 = ni_tsv_field(&t, cm), *src = ni_tsv_field(&t, csrc);
        const char *bad = NULL;
        if (!upper_n(a2, 2)) bad = "alpha2 is not two upper-case letters";
        else if (!upper_n(a3, 3)) bad = "alpha3 is not three upper-case letters";
        else if (!*name) bad = "empty name";
        else if (!canon_continent(cont)) bad = "unknown continent";
        else if (*m49 && !(strlen(m49) == 3 && isdigit((unsigned char)m49[0]) &&
                           isdigit((unsigned char)m49[1]) && isdigit((unsigned char)m49[2])))
            bad = "m49 is not three digits";
        else if (!*src) bad = "empty source";
        else if (c->slot[code_index(a2)]) bad = "duplicate alpha2";
        if (bad) {
            ni_tsv_error(&t, err, "%s ('%s')", bad, a2);
            r = -1;
            break;
        }
        ni_country_info *ci = calloc(1, sizeof *ci);
        if (ci) {
            memcpy(ci->alpha2, a2, 3);
            memcpy(ci->alpha3, a3, 4);
            ci->continent = canon_continent(cont);
            ci->m49 = *m49 ? (unsigned)strtoul(m49, NULL, 10) : 0;
            ci->name = strdup(name);
            ci->subregion = strdup(sub);
            ci->source = strdup(src);
        }
        if (!ci || !ci->name || !ci->subregion || !ci->source) {
            if (ci) { free((char *)ci->name); free((char *)ci->subregion); free((char *)ci->source); free(ci); }
            ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path);
            r = -1;
            break;
        }
        c->slot[code_index(a2)] = ci;
        c->count++;
    }
    ni_tsv_close(&t);
    if (r < 0) { ni_countries_free(c); return NULL; }
    if (!c->count) {
        ni_countries_free(c);
        ni_error_set(err, NI_ERR_DATA, "%s: no countries", path);
        return NULL;
    }
    return c;
}

ni_countries *ni_countries_load(const char *data_dir, ni_error *err)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/countries.tsv", data_dir ? data_dir : "data") >= sizeof path) {
        ni_error_set(err, NI_ERR_ARG, "%s: data directory path too long", data_dir);
        return NULL;
    }
    return ni_countries_load_file(path, err);
}

const ni_country_info *ni_countries_get(const ni_countries *c, const char *code)
{
    int i = code_index(code);
    return c && i >= 0 ? c->slot[i] : NULL;
}

size_t ni_countries_count(const ni_countries *c) { return c ? c->count : 0; }

void ni_countries_each(const ni_countries *c, void (*fn)(void *ud, const ni_country_info *ci), void *ud)
{
    if (!c) return;
    for (size_t i = 0; i < 26 * 26; i++)
        if (c->slot[i]) fn(ud, c->slot[i]);
}
