/* ni_target.c — the target space: --target specs (CIDRs, @file, presets
 * from data/targets/<name>.tsv, country:/asn: through a resolver) into a
 * longest-prefix set, and session direction (see ni_target.h). */
#include "session/ni_target.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/ni_limits.h"
#include "core/ni_prefix.h"

struct ni_target {
    ni_prefix_set *set;
    bool defined;
    char *tz;
    char *data_dir;
    ni_target_resolver resolver;
    void *resolver_ud;
};

static char *dupstr(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

ni_target *ni_target_new(void)
{
    ni_target *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->set = ni_prefix_new();
    if (!t->set) { free(t); return NULL; }
    return t;
}

void ni_target_free(ni_target *t)
{
    if (!t) return;
    ni_prefix_free(t->set);
    free(t->tz);
    free(t->data_dir);
    free(t);
}

void ni_target_set_resolver(ni_target *t, ni_target_resolver fn, void *ud)
{
    t->resolver = fn;
    t->resolver_ud = ud;
}

ni_err ni_target_set_data_dir(ni_target *t, const char *dir)
{
    char *d = dupstr(dir);
    if (!d) return NI_ERR_NOMEM;
    free(t->data_dir);
    t->data_dir = d;
    return NI_OK;
}

ni_err ni_target_add_prefix(ni_target *t, const ni_addr *a, unsigned len)
{
    t->defined = true;
    return ni_prefix_add(t->set, a, len, t);
}

ni_err ni_target_add_net(void *ud, const ni_addr *a, unsigned len) { return ni_target_add_prefix(ud, a, len); }

bool ni_target_defined(const ni_target *t) { return t && t->defined; }
size_t ni_target_count(const ni_target *t) { return t ? ni_prefix_count(t->set) : 0; }
const char *ni_target_timezone(const ni_target *t) { return t ? t->tz : NULL; }

bool ni_target_contains(const ni_target *t, const ni_addr *a)
{
    void *v;
    return t && ni_prefix_lookup(t->set, a, &v, NULL) == 1;
}

ni_direction ni_target_direction(const ni_target *t, const ni_addr *client, const ni_addr *server)
{
    if (!ni_target_defined(t)) return NI_DIRECTION_UNKNOWN;
    bool c = ni_target_contains(t, client), s = ni_target_contains(t, server);
    if (c && s) return NI_DIRECTION_INTERNAL;
    if (c) return NI_DIRECTION_OUTBOUND;
    if (s) return NI_DIRECTION_INBOUND;
    return NI_DIRECTION_TRANSIT;
}


/* ---- files -------------------------------------------------------------- */
static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = 0;
    return s;
}

/* Reads prefixes from path, one a line (first field; '#' comments; a first
 * row "prefix<TAB>..." is the TSV header).  With
 * want_tz, a "# timezone: X" header sets the target's zone if none yet. */
static ni_err resolve(ni_target *t, const char *item, const char *kind, const char *value, ni_error *err);

/* A line of a target file: a prefix, or country:CC / asn:N (combined in a
 * preset or @file like on the command line). */
static ni_err load_file(ni_target *t, const char *item, const char *path, bool want_tz,
                        ni_error *err)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        int e = errno;
        return ni_error_set(err, e == ENOENT ? NI_ERR_NOTFOUND : NI_ERR_IO,
                            "--target: '%s': %s: %s", item, path, strerror(e));
    }
    struct stat st;
    if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(fp);
        return ni_error_set(err, NI_ERR_ARG, "--target: '%s': %s: is a directory", item, path);
    }
    char *line = malloc(NI_LINE_MAX + 2);
    if (!line) { fclose(fp); return ni_error_set(err, NI_ERR_NOMEM, "--target: out of memory"); }
    ni_err r = NI_OK;
    unsigned lineno = 0, seen_row = 0;
    t->defined = true;
    while (fgets(line, NI_LINE_MAX + 2, fp)) {
        lineno++;
        size_t len = strlen(line);
        if (len > NI_LINE_MAX) {
            r = ni_error_set(err, NI_ERR_DATA, "--target: '%s': %s:%u: line too long", item, path, lineno);
            break;
        }
        char *hash = strchr(line, '#');
        if (hash) {
            if (want_tz && !t->tz) {
                char *c = trim(hash + 1);
                if (!strncmp(c, "timezone:", 9)) {
                    t->tz = dupstr(trim(c + 9));
                    if (!t->tz) { r = ni_error_set(err, NI_ERR_NOMEM, "--target: out of memory"); break; }
                }
            }
            *hash = 0;
        }
        char *p = trim(line);
        if (!*p) continue;
        p[strcspn(p, " \t")] = 0;               /* first field: the prefix */
        if (!seen_row++ && !strcmp(p, "prefix")) continue;     /* the TSV header */
        if (!strncasecmp(p, "country:", 8) || !strncasecmp(p, "asn:", 4)) {
            bool c = !strncasecmp(p, "country:", 8);
            ni_error sub = { 0 };
            if (resolve(t, p, c ? "country" : "asn", p + (c ? 8 : 4), &sub)) {
                const char *m = sub.msg;
                if (!strncmp(m, "--target: ", 10)) m += 10;   /* the item's own message, without the prefix */
                r = ni_error_set(err, sub.code ? sub.code : NI_ERR_DATA, "--target: '%s': %s:%u: %s", item, path,
                                 lineno, m);
                break;
            }
            continue;
        }
        ni_addr a; unsigned plen;
        if (ni_prefix_parse(p, &a, &plen) != NI_OK) {
            r = ni_error_set(err, NI_ERR_DATA, "--target: '%s': %s:%u: '%s' is not a CIDR prefix",
                             item, path, lineno, p);
            break;
        }
        ni_err e = ni_prefix_add(t->set, &a, plen, t);
        if (e) {
            r = ni_error_set(err, e, "--target: '%s': %s:%u: %s", item, path, lineno,
                             e == NI_ERR_LIMIT ? "too many prefixes" : ni_strerror(e));
            break;
        }
    }
    if (!r && ferror(fp))
        r = ni_error_set(err, NI_ERR_IO, "--target: '%s': %s: read error", item, path);
    free(line);
    fclose(fp);
    return r;
}

static bool is_preset_name(const char *s)
{
    if (!*s) return false;
    for (; *s; s++)
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_' || *s == '-'))
            return false;
    return true;
}

static ni_err load_preset(ni_target *t, const char *name, ni_error *err)
{
    char dir[4096], path[4400];
    if (t->data_dir) snprintf(dir, sizeof dir, "%s", t->data_dir);
    else if (ni_data_dir(dir, sizeof dir) != NI_OK)
        return ni_error_set(err, NI_ERR_DATA,
                            "--target: '%s': no data directory (set NETINTEL_DATA)", name);
    snprintf(path, sizeof path, "%s/targets/%s.tsv", dir, name);
    if (access(path, F_OK) != 0)
        return ni_error_set(err, NI_ERR_ARG,
                            "--target: '%s': not a CIDR, @file, country:CC, asn:N or known preset "
                            "(no targets/%s.tsv in the data directory)", name, name);
    return load_file(t, name, path, true, err);
}

static ni_err resolve(ni_target *t, const char *item, const char *kind, const char *value,
                      ni_error *err)
{
    char v[32];
    if (!strcmp(kind, "country")) {
        if (strlen(value) != 2 || !isalpha((unsigned char)value[0]) || !isalpha((unsigned char)value[1]))
            return ni_error_set(err, NI_ERR_ARG, "--target: '%s': a country is two letters (ISO 3166-1)", item);
        v[0] = (char)toupper((unsigned char)value[0]);
        v[1] = (char)toupper((unsigned char)value[1]);
        v[2] = 0;
    } else {
        const char *d = value;
        if (!strncasecmp(d, "as", 2)) d += 2;
        char *end;
        errno = 0;
        unsigned long n = strtoul(d, &end, 10);
        if (!*d || *end || errno || n == 0 || n > 4294967295ul || !isdigit((unsigned char)*d))
            return ni_error_set(err, NI_ERR_ARG, "--target: '%s': an ASN is a number from 1 to 4294967295", item);
        snprintf(v, sizeof v, "%lu", n);
    }
    if (!t->resolver)
        return ni_error_set(err, NI_ERR_UNSUPPORTED,
                            "--target: '%s': %s targets need the GeoIP/ASN databases, which this "
                            "build cannot resolve yet", item, kind);
    ni_error sub = { 0 };
    t->defined = true;
    ni_err r = t->resolver(t->resolver_ud, kind, v, t, &sub);
    if (r) return ni_error_set(err, r, "--target: '%s': %s", item, sub.msg[0] ? sub.msg : ni_strerror(r));
    return NI_OK;
}

static ni_err add_item(ni_target *t, char *item, ni_error *err)
{
    if (!*item) return ni_error_set(err, NI_ERR_ARG, "--target: '': empty item");
    if (item[0] == '@') {
        if (!item[1]) return ni_error_set(err, NI_ERR_ARG, "--target: '%s': no file name after '@'", item);
        return load_file(t, item, item + 1, false, err);
    }
    if (!strncasecmp(item, "country:", 8)) return resolve(t, item, "country", item + 8, err);
    if (!strncasecmp(item, "asn:", 4)) return resolve(t, item, "asn", item + 4, err);
    if (strpbrk(item, ".:/") || isdigit((unsigned char)item[0])) {
        ni_addr a; unsigned len;
        if (ni_prefix_parse(item, &a, &len) != NI_OK)
            return ni_error_set(err, NI_ERR_ARG, "--target: '%s': not a valid IPv4/IPv6 CIDR prefix", item);
        ni_err e = ni_target_add_prefix(t, &a, len);
        if (e) return ni_error_set(err, e, "--target: '%s': %s", item,
                                   e == NI_ERR_LIMIT ? "too many prefixes" : ni_strerror(e));
        return NI_OK;
    }
    if (is_preset_name(item)) return load_preset(t, item, err);
    return ni_error_set(err, NI_ERR_ARG,
                        "--target: '%s': not a CIDR, @file, country:CC, asn:N or preset name", item);
}

ni_err ni_target_add_spec(ni_target *t, const char *spec, ni_error *err)
{
    char *copy = dupstr(spec);
    if (!copy) return ni_error_set(err, NI_ERR_NOMEM, "--target: out of memory");
    ni_err r = NI_OK;
    char *p = copy;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma) *comma = 0;
        if ((r = add_item(t, trim(p), err)) != NI_OK) break;
        if (!comma) break;
        p = comma + 1;
    }
    free(copy);
    return r;
}

typedef struct walk_ud { void (*fn)(void *, const ni_addr *, unsigned); void *ud; } walk_ud;
static void walk_one(void *ud, const ni_addr *a, unsigned len, void *value)
{
    (void)value;
    const walk_ud *w = ud;
    w->fn(w->ud, a, len);
}

void ni_target_walk(const ni_target *t, void (*fn)(void *ud, const ni_addr *a, unsigned len), void *ud)
{
    walk_ud w = { fn, ud };
    if (t && t->set) ni_prefix_walk(t->set, walk_one, &w);
}
