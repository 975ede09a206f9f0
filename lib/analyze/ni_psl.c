/* ni_psl.c — Public Suffix List rules and the suffix of a DNS name (see
 * ni_psl.h; algorithm: https://publicsuffix.org/list/, "Formal algorithm"). */
#include "analyze/ni_psl.h"
#include "core/ni_limits.h"
#include "core/ni_map.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The kinds of rule a name may have (bits of its value in rules). */
enum { R_NORMAL = 1, R_WILD = 2, R_EXCEPT = 4 };

struct ni_psl {
    ni_map *rules;      /* name → its kinds: "co.uk" R_NORMAL, "ck" R_WILD (for "*.ck"),
                           "www.ck" R_EXCEPT (for "!www.ck"); one look-up per candidate */
    size_t n;           /* rules (a name with two kinds is two) */
};

ni_psl *ni_psl_load(const char *path, ni_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f) { ni_error_set(err, NI_ERR_NOTFOUND, "%s: %s", path, strerror(errno)); return NULL; }
    ni_psl *p = calloc(1, sizeof *p);
    char *line = malloc(NI_LINE_MAX);
    if (p && !(p->rules = ni_map_new(NI_PSL_RULES_MAX))) { free(p); p = NULL; }
    if (!p || !line) {
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
        unsigned kind = R_NORMAL;
        if (s[0] == '!') { kind = R_EXCEPT; s++; }
        else if (!strncmp(s, "*.", 2)) { kind = R_WILD; s += 2; }
        size_t kl = 0;                                  /* at most 290 bytes, lower case */
        for (; kl < 290 && s[kl]; kl++) key[kl] = s[kl] >= 'A' && s[kl] <= 'Z' ? (char)(s[kl] - 'A' + 'a') : s[kl];
        key[kl] = 0;
        if (p->n >= NI_PSL_RULES_MAX) break;                   /* at the cap: what was read */
        void **slot = ni_map_slot(p->rules, key);              /* one look-up (inserting 0) */
        if (!slot) break;
        uintptr_t had = (uintptr_t)*slot;
        if (had & kind) continue;
        *slot = (void *)(had | kind);
        p->n++;
    }
    bool bad = ferror(f);
    fclose(f);
    free(line);
    if (bad || !p->n) {
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

size_t ni_psl_rules(const ni_psl *p) { return p ? p->n : 0; }

/* The kinds of rule for the name s of cl bytes (NUL-terminated). */
static unsigned kinds(const ni_psl *p, const char *s, size_t cl)
{
    if (cl > 297) return 0;             /* longer than any rule (kept to 290 bytes) */
    return (unsigned)(uintptr_t)ni_map_get(p->rules, s);
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
        /* the candidates are the name's suffixes: NUL-terminated in name
         * itself unless the name ends in dots, else in a copy */
        char copy[NI_DNS_NAME_MAX + 1];
        const char *base = name;
        if (name[len] && len <= NI_DNS_NAME_MAX) { memcpy(copy, name, len); copy[len] = 0; base = copy; }
        const char *s = name, *prev = NULL;
        for (; k; k--) {
            size_t cl = len - (size_t)(s - name);
            if (cl <= NI_DNS_NAME_MAX) {
                const char *c = base + (s - name);
                char tmp[NI_DNS_NAME_MAX + 1];
                if (base == name && name[len]) { memcpy(tmp, s, cl); tmp[cl] = 0; c = tmp; }   /* very long */
                unsigned r = kinds(psl, c, cl);
                if (r & R_EXCEPT) { best = k - 1; exception = true; break; }
                if (k > best && (r & R_NORMAL)) best = k;
                if (prev && k + 1 > best && (r & R_WILD)) best = k + 1;
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
