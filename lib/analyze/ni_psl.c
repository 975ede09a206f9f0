/* ni_psl.c — Public Suffix List rules and the suffix of a DNS name (see
 * ni_psl.h; algorithm: https://publicsuffix.org/list/, "Formal algorithm"). */
#include "analyze/ni_psl.h"
#include "core/ni_limits.h"
#include "core/ni_map.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ni_psl {
    ni_map *rules;      /* "n:co.uk", "w:ck" (for "*.ck"), "x:www.ck" (for "!www.ck") */
};

ni_psl *ni_psl_load(const char *path, ni_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f) { ni_error_set(err, NI_ERR_NOTFOUND, "%s: %s", path, strerror(errno)); return NULL; }
    ni_psl *p = calloc(1, sizeof *p);
    char *line = malloc(NI_LINE_MAX);
    if (!p || !line || !(p->rules = ni_map_new(NI_PSL_RULES_MAX))) {
        fclose(f); free(line); ni_psl_free(p);
        ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path);
        return NULL;
    }
    while (fgets(line, (int)NI_LINE_MAX, f)) {
        /* a rule is the first word of its line; "//" starts a comment */
        char *s = line + strspn(line, " \t");
        s[strcspn(s, " \t\r\n")] = 0;
        if (!*s || !strncmp(s, "//", 2)) continue;
        char key[300];
        if (s[0] == '!') snprintf(key, sizeof key, "x:%.290s", s + 1);
        else if (!strncmp(s, "*.", 2)) snprintf(key, sizeof key, "w:%.290s", s + 2);
        else snprintf(key, sizeof key, "n:%.290s", s);
        for (char *c = key + 2; *c; c++) if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
        if (ni_map_put(p->rules, key, p) != NI_OK) break;      /* at the cap: what was read */
    }
    bool bad = ferror(f);
    fclose(f);
    free(line);
    if (bad || !ni_map_count(p->rules)) {
        ni_error_set(err, NI_ERR_FORMAT, "%s: %s", path, bad ? "read error" : "no public suffix rule");
        ni_psl_free(p);
        return NULL;
    }
    return p;
}

void ni_psl_free(ni_psl *p)
{
    if (!p) return;
    ni_map_free(p->rules, NULL);
    free(p);
}

size_t ni_psl_rules(const ni_psl *p) { return p ? ni_map_count(p->rules) : 0; }

static bool has(const ni_psl *p, char kind, const char *s)
{
    char key[300];
    int n = snprintf(key, sizeof key, "%c:%s", kind, s);
    return n > 0 && (size_t)n < sizeof key && ni_map_get(p->rules, key) != NULL;
}

/* Pointer to the start of the last k labels of name (name when it has
 * k labels or fewer). */
static const char *last_labels(const char *name, size_t len, unsigned k)
{
    for (size_t i = len; i-- > 0;)
        if (name[i] == '.' && --k == 0) return name + i + 1;
    return name;
}

const char *ni_psl_suffix(const ni_psl *psl, const char *name, size_t *left_len)
{
    size_t len = strlen(name);
    while (len && name[len - 1] == '.') len--;          /* absolute form */
    unsigned labels = len ? 1 : 0;
    for (size_t i = 0; i < len; i++) labels += name[i] == '.';
    const char *suf;
    if (!psl) {
        suf = last_labels(name, len, 2);
    } else {
        /* the prevailing rule's label count: suffixes tried from the left */
        unsigned best = 0, k = labels;
        bool exception = false;
        const char *s = name, *prev = NULL;
        for (; k; k--) {
            size_t cl = len - (size_t)(s - name);
            char cand[NI_DNS_NAME_MAX + 1];
            if (cl <= NI_DNS_NAME_MAX) {
                memcpy(cand, s, cl);
                cand[cl] = 0;
                if (has(psl, 'x', cand)) { best = k - 1; exception = true; break; }
                if (k > best && has(psl, 'n', cand)) best = k;
                if (prev && k + 1 > best && has(psl, 'w', cand)) best = k + 1;
            }
            const char *dot = memchr(s, '.', cl);
            if (!dot) break;
            prev = s;
            s = dot + 1;
        }
        if (!best && !exception) {
            /* no rule: a top-level label nobody registers under */
            suf = last_labels(name, len, labels >= 3 ? 2 : 1);
        } else if (best >= labels) {
            suf = name;                                  /* the name is a public suffix */
        } else {
            suf = last_labels(name, len, best + 1);
        }
    }
    if (left_len) *left_len = suf > name ? (size_t)(suf - name) - 1 : 0;
    return suf;
}
