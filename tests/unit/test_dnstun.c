/* test_dnstun.c — the DNS-tunnel aggregation (lib/analyze/ni_dnstun) and the
 * Public Suffix List rules it groups names by (lib/analyze/ni_psl): suffixes
 * (normal, wildcard and exception rules, unregistered top-level labels,
 * names that are suffixes, the fallback), entropy, the flag and its
 * indicators, what is not counted, the exact bound and the estimate past
 * it, merging. */
#include "ni_test.h"

#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "analyze/ni_dnstun.h"
#include "analyze/ni_psl.h"
#include "core/ni_arena.h"
#include "core/ni_limits.h"

static ni_psl *test_list(void)
{
    char path[] = "/tmp/ni-test-psl-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return NULL;
    static const char text[] = "// a comment\n\ncom\nuk\nco.uk\nCK-skip\n*.ck\n!www.ck\njp\n*.kawasaki.jp\n"
                               "!city.kawasaki.jp\narpa\nin-addr.arpa\n   // indented comment\norg  trailing words\n";
    ssize_t w = write(fd, text, sizeof text - 1);
    close(fd);
    ni_error err;
    ni_psl *p = w == (ssize_t)(sizeof text - 1) ? ni_psl_load(path, &err) : NULL;
    unlink(path);
    return p;
}

TEST(psl_suffixes)
{
    ni_psl *p = test_list();
    CHECK(p != NULL);
    if (!p) return;
    CHECK_INT(ni_psl_rules(p), 12);
    static const struct { const char *name, *suffix; size_t left; } rows[] = {
        { "www.example.com", "example.com", 3 },
        { "a.b.example.co.uk", "example.co.uk", 3 },
        { "example.co.uk", "example.co.uk", 0 },
        { "co.uk", "co.uk", 0 },                       /* itself a public suffix */
        { "uk", "uk", 0 },
        { "x.y.foo.ck", "y.foo.ck", 1 },               /* *.ck: foo.ck is a public suffix */
        { "foo.ck", "foo.ck", 0 },
        { "a.www.ck", "www.ck", 1 },                   /* !www.ck */
        { "www.ck", "www.ck", 0 },
        { "a.b.city.kawasaki.jp", "city.kawasaki.jp", 3 },
        { "a.b.other.kawasaki.jp", "b.other.kawasaki.jp", 1 },
        { "q1.q2.t.corp", "t.corp", 5 },               /* no rule: last two labels */
        { "abc.corp", "corp", 3 },                     /* two labels, no rule: the top label */
        { "vaaaakardli.pirate.sea", "pirate.sea", 11 },
        { "wpad", "wpad", 0 },
        { "host.example.org", "example.org", 4 },
        { "www.example.com.", "example.com.", 3 },     /* absolute form */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        size_t left = 99;
        const char *s = ni_psl_suffix(p, rows[i].name, &left);
        CHECK_STR(s, rows[i].suffix);
        CHECK_INT(left, rows[i].left);
    }
    /* without a list: the last two labels */
    size_t left;
    CHECK_STR(ni_psl_suffix(NULL, "a.b.example.co.uk", &left), "co.uk");
    CHECK_INT(left, 11);
    CHECK_STR(ni_psl_suffix(NULL, "wpad", &left), "wpad");
    CHECK_INT(left, 0);
    ni_psl_free(p);
    /* a file that is not there, a file without rules */
    ni_error err;
    CHECK(ni_psl_load("/nonexistent/psl.dat", &err) == NULL);
    CHECK_INT(err.code, NI_ERR_NOTFOUND);
    CHECK(ni_psl_load("/dev/null", &err) == NULL);
    CHECK_INT(err.code, NI_ERR_FORMAT);
}

TEST(entropy)
{
    CHECK(fabs(ni_dnstun_entropy("aaaa", 4)) < 1e-9);
    CHECK(fabs(ni_dnstun_entropy("abcd", 4) - 2.0) < 1e-9);
    CHECK(fabs(ni_dnstun_entropy("a.b", 3) - 1.0) < 1e-9);
    CHECK(fabs(ni_dnstun_entropy("", 0)) < 1e-9);
    CHECK(fabs(ni_dnstun_entropy("aabb", 4) - 1.0) < 1e-9);
}

/* ---- sessions with DNS transactions ---- */
typedef struct sess { ni_session s; ni_dns_txn t[64]; char names[64][128]; } sess;

static void sess_init(sess *x, const char *client, uint16_t server_port, int64_t t0)
{
    memset(x, 0, sizeof *x);
    ni_addr_parse(client, &x->s.client);
    ni_addr_parse("192.0.2.53", &x->s.server);
    x->s.proto = 17;
    x->s.client_port = 40000;
    x->s.server_port = server_port;
    x->s.first_us = t0;
    x->s.last_us = t0 + 1000000;
}

static void sess_q(sess *x, const char *name, const char *qtype)
{
    unsigned i = x->s.dns_count;
    if (i >= 64) return;
    snprintf(x->names[i], sizeof x->names[i], "%s", name);
    x->t[i].query = x->names[i];
    x->t[i].qtype = qtype;
    x->t[i].ttl = -1;
    if (i) x->t[i - 1].next = &x->t[i];
    x->s.dns = &x->t[0];
    x->s.dns_tail = &x->t[i];
    x->s.dns_count++;
}

/* A base32 label of len characters from a counter (deterministic, varied). */
static void b32(char *out, size_t len, uint64_t seed)
{
    static const char a[] = "abcdefghijklmnopqrstuvwxyz234567";
    uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
    for (size_t i = 0; i < len; i++) {
        x ^= x >> 33; x *= 0xff51afd7ed558ccdull; x ^= x >> 29;
        out[i] = a[x & 31];
    }
    out[len] = 0;
}

/* n tunnel queries in sessions of up to 64 from client, labels of len. */
static void add_tunnel(ni_dnstun *t, const char *client, unsigned n, size_t len, const char *qtype,
                       const char *suffix, uint64_t seed, uint64_t *refused, uint64_t *oom)
{
    sess *x = malloc(sizeof *x);
    unsigned done = 0;
    while (done < n) {
        sess_init(x, client, 53, 1700000000000000ll + done);
        for (unsigned k = 0; k < 64 && done < n; k++, done++) {
            char label[64], name[128];
            b32(label, len, seed + done);
            snprintf(name, sizeof name, "%s.%s", label, suffix);
            sess_q(x, name, qtype);
        }
        ni_dnstun_add(t, &x->s, refused, oom);
    }
    free(x);
}

TEST(flag_and_indicators)
{
    uint64_t refused = 0, oom = 0;
    ni_dnstun *t = ni_dnstun_new(1000, NULL);
    CHECK(t != NULL);
    if (!t) return;
    /* iodine-like: 150 distinct 52-character base32 labels under t.example, NULL queries */
    add_tunnel(t, "10.1.1.1", 150, 52, "NULL", "t.example", 1, &refused, &oom);
    /* dnscat-like but short-ish: 60 names of 24 characters, A queries */
    add_tunnel(t, "10.1.1.2", 60, 24, "A", "c2.example.net", 1000, &refused, &oom);
    /* ordinary browsing: many lookups, few short names; reverse lookups;
     * mDNS; one client below the name threshold */
    sess *x = malloc(sizeof *x);
    static const char *const common[] = { "www.example.com", "api.example.com", "cdn.example.com",
                                          "mail.example.com", "www.example.org" };
    for (int r = 0; r < 40; r++) {
        sess_init(x, "10.1.1.3", 53, 1700000000000000ll + r);
        for (int k = 0; k < 5; k++) sess_q(x, common[k], "A");
        for (int k = 0; k < 10; k++) {
            char name[128];
            snprintf(name, sizeof name, "%d.%d.%d.10.in-addr.arpa", r, k, r + k);
            sess_q(x, name, "PTR");
        }
        ni_dnstun_add(t, &x->s, &refused, &oom);
    }
    sess_init(x, "10.1.1.4", 5353, 1700000000000000ll);
    for (int k = 0; k < 60; k++) {
        char label[64], name[128];
        b32(label, 40, 5000u + (unsigned)k);
        snprintf(name, sizeof name, "%s.local.example", label);
        sess_q(x, name, "TXT");
    }
    ni_dnstun_add(t, &x->s, &refused, &oom);
    free(x);
    add_tunnel(t, "10.1.1.5", NI_DNSTUN_NAMES_MIN - 1, 52, "TXT", "few.example", 7, &refused, &oom);

    ni_dnstun_row *r;
    size_t n = ni_dnstun_rows(t, &r);
    CHECK_INT(n, 2);
    if (n == 2) {
        CHECK(!strncmp(r[0].client, "10.1.1.1\t", 9));
        CHECK_STR(r[0].suffix, "t.example");
        CHECK_INT(r[0].names, 150);
        CHECK(!r[0].estimated);
        CHECK_INT(r[0].queries, 150);
        CHECK_INT(r[0].sessions, 3);
        CHECK(fabs(r[0].mean_length - 52) < 1e-9);
        CHECK(r[0].mean_entropy > 4.2 && r[0].mean_entropy <= 5.0);
        CHECK_INT(r[0].nqtypes, 1);
        CHECK_STR(r[0].qtypes[0].qtype, "NULL");
        CHECK_INT(r[0].indicators, 7);
        CHECK(fabs(r[0].probability - 0.95) < 1e-9);
        CHECK_INT(r[0].first_us, 1700000000000000ll);
        CHECK_STR(r[1].suffix, "example.net");
        CHECK_INT(r[1].names, 60);
        CHECK_INT(r[1].indicators, 1);          /* random-looking, but A queries and not long */
        CHECK(fabs(r[1].probability - 0.65) < 1e-9);
    }
    free(r);
    CHECK_INT(refused, 0);
    CHECK_INT(oom, 0);
    CHECK_STR(ni_dnstun_rule(t), "last two labels");
    ni_dnstun_free(t);
    /* with the system's list (when the publicsuffix package is installed) */
    FILE *f = fopen(NI_PSL_PATH, "r");
    if (f) {
        fclose(f);
        t = ni_dnstun_new(10, NI_PSL_PATH);
        CHECK_STR(ni_dnstun_rule(t), "public suffix list");
        add_tunnel(t, "10.1.1.9", 60, 30, "TXT", "x.tunnel.example.co.uk", 3, &refused, &oom);
        n = ni_dnstun_rows(t, &r);
        CHECK_INT(n, 1);
        if (n) CHECK_STR(r[0].suffix, "example.co.uk");
        free(r);
        ni_dnstun_free(t);
    }
}

TEST(estimate_past_the_bound_and_merge)
{
    uint64_t refused = 0, oom = 0;
    ni_dnstun *t = ni_dnstun_new(100, NULL);
    add_tunnel(t, "10.2.2.2", 3000, 30, "TXT", "x.example", 1, &refused, &oom);
    ni_dnstun_row *r;
    size_t n = ni_dnstun_rows(t, &r);
    CHECK_INT(n, 1);
    if (n) {
        CHECK(r[0].estimated);
        /* HyperLogLog at 3000 names: standard error 0.81% */
        CHECK(r[0].names > 2850 && r[0].names < 3150);
        CHECK_INT(r[0].queries, 3000);
    }
    free(r);

    /* merge: two halves with 20 names in common, exact */
    ni_dnstun *a = ni_dnstun_new(100, NULL), *b = ni_dnstun_new(100, NULL);
    add_tunnel(a, "10.3.3.3", 60, 30, "TXT", "m.example", 1, &refused, &oom);
    add_tunnel(b, "10.3.3.3", 60, 30, "TXT", "m.example", 41, &refused, &oom);
    CHECK_INT(ni_dnstun_merge(a, b, &refused), NI_OK);
    n = ni_dnstun_rows(a, &r);
    CHECK_INT(n, 1);
    if (n) { CHECK_INT(r[0].names, 100); CHECK(!r[0].estimated); CHECK_INT(r[0].queries, 120); CHECK_INT(r[0].sessions, 2); }
    free(r);
    /* merging an estimated pair into an exact one: estimated, the union counted */
    CHECK_INT(ni_dnstun_merge(a, t, &refused), NI_OK);
    add_tunnel(a, "10.2.2.2", 100, 30, "TXT", "x.example", 1, &refused, &oom);   /* seen already */
    n = ni_dnstun_rows(a, &r);
    CHECK_INT(n, 2);
    if (n == 2) { CHECK_STR(r[0].suffix, "x.example"); CHECK(r[0].estimated); CHECK(r[0].names > 2850 && r[0].names < 3150); }
    free(r);
    CHECK_INT(refused, 0);
    ni_dnstun_free(a);
    ni_dnstun_free(b);

    /* the pair cap (issue 11): past it the most queried pairs are kept,
     * nothing refused; 3,000 one-query pairs fill a 64-pair table, then a
     * tunnel starts late: it is kept, flagged, its queries exact (it never
     * left), and kept + dropped = total */
    ni_dnstun *c = ni_dnstun_new(64, NULL);
    char sfx[64];
    for (unsigned i = 0; i < 3000; i++) {
        snprintf(sfx, sizeof sfx, "noise%u.example", i);
        add_tunnel(c, "10.4.4.4", 1, 30, "A", sfx, i, &refused, &oom);
    }
    add_tunnel(c, "10.5.5.5", 400, 40, "TXT", "late.example", 7, &refused, &oom);
    CHECK_INT(refused, 0);
    ni_dnstun_stats st;
    ni_dnstun_table(c, &st);
    CHECK_INT(st.cap, 64);
    CHECK_INT(st.kept, 64);
    CHECK(st.evicted >= 3000 - 64);
    CHECK_INT(st.total, 3400);
    n = ni_dnstun_rows(c, &r);
    CHECK_INT(n, 1);
    if (n == 1) {
        CHECK_STR(r[0].suffix, "late.example");
        CHECK_INT(r[0].queries, 400);
        CHECK(r[0].estimated && r[0].names > 388 && r[0].names < 412);   /* past 256: the estimate, 3 sigma */
        CHECK(r[0].queries_error >= 1 && r[0].queries_error <= 3400 / 64 + 1);
    }
    free(r);
    CHECK(st.bound <= 3400 / 64 + 1);
    CHECK(st.total - st.dropped >= 400);
    ni_dnstun_free(c);
    ni_dnstun_free(t);

    /* a session without transactions counts its dns_query */
    ni_dnstun *d = ni_dnstun_new(10, NULL);
    sess *x = malloc(sizeof *x);
    for (unsigned i = 0; i < NI_DNSTUN_NAMES_MIN; i++) {
        char label[64], name[128];
        b32(label, 40, i);
        snprintf(name, sizeof name, "%s.old.example", label);
        sess_init(x, "10.5.5.5", 53, 1700000000000000ll);
        x->s.dns_query = name;
        ni_dnstun_add(d, &x->s, &refused, &oom);
    }
    free(x);
    n = ni_dnstun_rows(d, &r);
    CHECK_INT(n, 1);
    if (n) { CHECK_INT(r[0].sessions, NI_DNSTUN_NAMES_MIN); CHECK_STR(r[0].qtypes[0].qtype, "unknown"); }
    free(r);
    ni_dnstun_free(d);
}

RUN(T(psl_suffixes), T(entropy), T(flag_and_indicators), T(estimate_past_the_bound_and_merge))
