/* test_prefix.c — unit tests of lib/core/ni_prefix: CIDR parsing, IPv4 and
 * IPv6 longest match, IPv4-mapped addresses, replacement, walk order, limits,
 * and a randomised comparison against a brute-force linear matcher. */
#include "ni_test.h"
#include "core/ni_prefix.h"
#include <stdlib.h>

static ni_addr A(const char *s)
{
    ni_addr a;
    if (ni_addr_parse(s, &a) != NI_OK) memset(&a, 0, sizeof a);
    return a;
}

static ni_err add(ni_prefix_set *ps, const char *cidr, void *v)
{
    ni_addr a; unsigned len;
    ni_err e = ni_prefix_parse(cidr, &a, &len);
    if (e != NI_OK) return e;
    return ni_prefix_add(ps, &a, len, v);
}

/* The value's tag, or "-" when nothing matches. */
static const char *look(const ni_prefix_set *ps, const char *addr, unsigned *len)
{
    ni_addr a = A(addr);
    void *v = NULL;
    if (!ni_prefix_lookup(ps, &a, &v, len)) return "-";
    return v;
}

TEST(parse)
{
    ni_addr a; unsigned len = 99;
    CHECK_INT(ni_prefix_parse("10.1.2.3/8", &a, &len), NI_OK);
    CHECK_INT(a.family, 4); CHECK_INT(len, 8); CHECK_INT(a.b[1], 1);
    CHECK_INT(ni_prefix_parse("2001:db8::/32", &a, &len), NI_OK);
    CHECK_INT(a.family, 6); CHECK_INT(len, 32);
    CHECK_INT(ni_prefix_parse("192.0.2.7", &a, &len), NI_OK);
    CHECK_INT(len, 32);
    CHECK_INT(ni_prefix_parse("::1", &a, &len), NI_OK);
    CHECK_INT(len, 128);
    CHECK_INT(ni_prefix_parse("10.0.0.0/33", &a, &len), NI_ERR_ARG);
    CHECK_INT(ni_prefix_parse("::/129", &a, &len), NI_ERR_ARG);
    CHECK_INT(ni_prefix_parse("10.0.0.0/", &a, &len), NI_ERR_ARG);
    CHECK_INT(ni_prefix_parse("10.0.0.0/-1", &a, &len), NI_ERR_ARG);
    CHECK_INT(ni_prefix_parse("10.0.0.0/ 8", &a, &len), NI_ERR_ARG);
    CHECK_INT(ni_prefix_parse("10.0.0.0/8x", &a, &len), NI_ERR_ARG);
    CHECK_INT(ni_prefix_parse("10.0.0.0/99999999999999999999", &a, &len), NI_ERR_ARG);
    CHECK_INT(ni_prefix_parse("/8", &a, &len), NI_ERR_ARG);
    CHECK_INT(ni_prefix_parse("300.0.0.0/8", &a, &len), NI_ERR_ARG);
    CHECK_INT(ni_prefix_parse("host.example/8", &a, &len), NI_ERR_ARG);
    CHECK_INT(ni_prefix_parse("", &a, &len), NI_ERR_ARG);
}

TEST(v4_longest)
{
    ni_prefix_set *ps = ni_prefix_new();
    CHECK(ps != NULL);
    CHECK_INT(add(ps, "10.0.0.0/8", "eight"), NI_OK);
    CHECK_INT(add(ps, "10.1.0.0/16", "sixteen"), NI_OK);
    CHECK_INT(add(ps, "10.1.2.0/24", "twentyfour"), NI_OK);
    CHECK_INT(add(ps, "10.1.2.3/32", "host"), NI_OK);
    CHECK_INT(add(ps, "192.168.77.99/20", "hostbits"), NI_OK);   /* host bits ignored */
    unsigned len = 0;
    CHECK_STR(look(ps, "10.9.9.9", &len), "eight"); CHECK_INT(len, 8);
    CHECK_STR(look(ps, "10.1.9.9", &len), "sixteen"); CHECK_INT(len, 16);
    CHECK_STR(look(ps, "10.1.2.4", &len), "twentyfour"); CHECK_INT(len, 24);
    CHECK_STR(look(ps, "10.1.2.3", &len), "host"); CHECK_INT(len, 32);
    CHECK_STR(look(ps, "11.0.0.0", NULL), "-");
    CHECK_STR(look(ps, "9.255.255.255", NULL), "-");
    CHECK_STR(look(ps, "192.168.64.0", NULL), "hostbits");
    CHECK_STR(look(ps, "192.168.79.255", NULL), "hostbits");
    CHECK_STR(look(ps, "192.168.80.0", NULL), "-");
    CHECK_STR(look(ps, "::ffff:10.1.2.3", NULL), "host");       /* mapped */
    CHECK_STR(look(ps, "::a01:203", NULL), "-");                 /* compatible, not mapped */
    CHECK_INT(ni_prefix_count(ps), 5);
    /* A v4 prefix never answers a v6 address outside ::ffff:0:0/96 */
    CHECK_STR(look(ps, "a00::", NULL), "-");
    ni_prefix_free(ps);
}

TEST(default_route_and_replace)
{
    ni_prefix_set *ps = ni_prefix_new();
    CHECK_STR(look(ps, "1.2.3.4", NULL), "-");
    CHECK_INT(add(ps, "0.0.0.0/0", "any4"), NI_OK);
    CHECK_INT(add(ps, "::/0", "any6"), NI_OK);
    CHECK_STR(look(ps, "1.2.3.4", NULL), "any4");
    CHECK_STR(look(ps, "2001:db8::1", NULL), "any6");
    CHECK_STR(look(ps, "::ffff:1.2.3.4", NULL), "any4");  /* v4 rule wins for mapped */
    CHECK_INT(add(ps, "0.0.0.0/0", "again"), NI_OK);      /* replace */
    CHECK_STR(look(ps, "1.2.3.4", NULL), "again");
    CHECK_INT(ni_prefix_count(ps), 2);
    /* A branch node that later gets a value counts once. */
    CHECK_INT(add(ps, "10.0.0.0/16", "a"), NI_OK);
    CHECK_INT(add(ps, "10.0.128.0/17", "b"), NI_OK);
    CHECK_INT(add(ps, "10.1.0.0/16", "c"), NI_OK);        /* creates branch 10.0.0.0/15 */
    CHECK_INT(add(ps, "10.0.0.0/15", "d"), NI_OK);
    CHECK_INT(ni_prefix_count(ps), 6);
    CHECK_STR(look(ps, "10.0.200.1", NULL), "b");
    CHECK_STR(look(ps, "10.1.200.1", NULL), "c");
    CHECK_STR(look(ps, "10.0.1.1", NULL), "a");
    CHECK_INT(add(ps, "10.0.0.0/14", "e"), NI_OK);
    CHECK_STR(look(ps, "10.2.0.1", NULL), "e");
    CHECK_STR(look(ps, "10.4.0.1", NULL), "again");
    /* NULL values are legal values */
    CHECK_INT(add(ps, "172.16.0.0/12", NULL), NI_OK);
    ni_addr a = A("172.16.5.5"); void *v = (void *)1;
    CHECK_INT(ni_prefix_lookup(ps, &a, &v, NULL), 1);
    CHECK(v == NULL);
    ni_prefix_free(ps);
}

TEST(v6_longest)
{
    ni_prefix_set *ps = ni_prefix_new();
    CHECK_INT(add(ps, "2001:db8::/32", "doc"), NI_OK);
    CHECK_INT(add(ps, "2001:db8:abcd::/48", "site"), NI_OK);
    CHECK_INT(add(ps, "2001:db8:abcd:12::/64", "lan"), NI_OK);
    CHECK_INT(add(ps, "2001:db8:abcd:12::1/128", "host"), NI_OK);
    CHECK_INT(add(ps, "2001:db8:abcd:12:8000::/65", "half"), NI_OK);
    unsigned len = 0;
    CHECK_STR(look(ps, "2001:db8:1::1", &len), "doc"); CHECK_INT(len, 32);
    CHECK_STR(look(ps, "2001:db8:abcd:ffff::1", &len), "site"); CHECK_INT(len, 48);
    CHECK_STR(look(ps, "2001:db8:abcd:12::2", &len), "lan"); CHECK_INT(len, 64);
    CHECK_STR(look(ps, "2001:db8:abcd:12::1", &len), "host"); CHECK_INT(len, 128);
    CHECK_STR(look(ps, "2001:db8:abcd:12:8000::1", &len), "half"); CHECK_INT(len, 65);
    CHECK_STR(look(ps, "2001:db9::", NULL), "-");
    CHECK_STR(look(ps, "10.0.0.1", NULL), "-");
    /* Mapped prefix given in v6 form is stored as v4 */
    CHECK_INT(add(ps, "::ffff:198.51.100.0/120", "mapped"), NI_OK);
    CHECK_STR(look(ps, "198.51.100.9", &len), "mapped"); CHECK_INT(len, 24);
    ni_prefix_free(ps);
}

typedef struct { char out[2048]; size_t n; } walk_acc;
static void walk_cb(void *ud, const ni_addr *a, unsigned len, void *value)
{
    walk_acc *w = ud;
    char t[NI_ADDR_STRLEN];
    int k = snprintf(w->out + w->n, sizeof w->out - w->n, "%s/%u=%s ",
                     ni_addr_format(a, t), len, value ? (const char *)value : "null");
    if (k > 0 && (size_t)k < sizeof w->out - w->n) w->n += (size_t)k;
}

TEST(walk_order)
{
    ni_prefix_set *ps = ni_prefix_new();
    const char *in[] = { "2001:db8::/32", "10.1.0.0/16", "192.0.2.0/24", "10.0.0.0/8",
                         "::/0", "10.1.0.0/24", "10.0.0.0/16", "1.0.0.0/8", "fe80::/10" };
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) CHECK_INT(add(ps, in[i], "x"), NI_OK);
    walk_acc w = { .n = 0 };
    w.out[0] = 0;
    ni_prefix_walk(ps, walk_cb, &w);
    CHECK_STR(w.out, "1.0.0.0/8=x 10.0.0.0/8=x 10.0.0.0/16=x 10.1.0.0/16=x 10.1.0.0/24=x "
                     "192.0.2.0/24=x ::/0=x 2001:db8::/32=x fe80::/10=x ");
    ni_prefix_free(ps);
}

TEST(limits)
{
    ni_prefix_set *ps = ni_prefix_new_cap(3);
    ni_addr a = A("10.0.0.0");
    CHECK_INT(ni_prefix_add(ps, &a, 33, "x"), NI_ERR_ARG);
    ni_addr b = A("::");
    CHECK_INT(ni_prefix_add(ps, &b, 129, "x"), NI_ERR_ARG);
    ni_addr none; memset(&none, 0, sizeof none);
    CHECK_INT(ni_prefix_add(ps, &none, 0, "x"), NI_ERR_ARG);
    CHECK_INT(ni_prefix_lookup(ps, &none, NULL, NULL), 0);
    CHECK_INT(add(ps, "10.0.0.0/8", "1"), NI_OK);
    CHECK_INT(add(ps, "10.0.0.0/16", "2"), NI_OK);
    CHECK_INT(add(ps, "11.0.0.0/8", "3"), NI_OK);
    CHECK_INT(add(ps, "12.0.0.0/8", "4"), NI_ERR_LIMIT);      /* new leaf */
    CHECK_INT(add(ps, "10.0.0.0/12", "4"), NI_ERR_LIMIT);     /* new inner prefix */
    CHECK_INT(add(ps, "8.0.0.0/6", "4"), NI_ERR_LIMIT);       /* new ancestor */
    CHECK_INT(add(ps, "10.0.0.0/8", "5"), NI_OK);             /* replacement is fine */
    CHECK_INT(ni_prefix_count(ps), 3);
    CHECK_STR(look(ps, "10.200.0.0", NULL), "5");
    CHECK_STR(look(ps, "12.0.0.1", NULL), "-");
    ni_prefix_free(ps);
    ni_prefix_free(NULL);
}

/* Random prefixes clustered in a few /8s against a linear scan. */
typedef struct { ni_addr a; unsigned len; } ref_pfx;

static unsigned rnd(unsigned *s) { *s = *s * 1103515245u + 12345u; return *s >> 8; }

static int covers(const ref_pfx *p, const ni_addr *a)
{
    if (p->a.family != a->family) return 0;
    for (unsigned i = 0; i < p->len; i++) {
        unsigned x = (p->a.b[i / 8] >> (7 - i % 8)) & 1, y = (a->b[i / 8] >> (7 - i % 8)) & 1;
        if (x != y) return 0;
    }
    return 1;
}

TEST(random_vs_linear)
{
    enum { NP = 3000, NQ = 20000 };
    ref_pfx *ref = calloc(NP, sizeof *ref);
    ni_prefix_set *ps = ni_prefix_new();
    unsigned seed = 12345;
    int mismatches = 0;
    for (int i = 0; i < NP; i++) {
        ni_addr a; memset(&a, 0, sizeof a);
        int v6 = rnd(&seed) % 3 == 0;
        a.family = v6 ? 6 : 4;
        for (int k = 0; k < (v6 ? 16 : 4); k++) a.b[k] = (uint8_t)rnd(&seed);
        a.b[0] = v6 ? 0x20 : (uint8_t)(10 + rnd(&seed) % 3);
        unsigned len = v6 ? rnd(&seed) % 129 : rnd(&seed) % 33;
        /* reference keeps the masked key, as the set does */
        for (unsigned bit = len; bit < (v6 ? 128u : 32u); bit++)
            a.b[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
        ref[i].a = a; ref[i].len = len;
        CHECK_INT(ni_prefix_add(ps, &a, len, &ref[i]), NI_OK);
    }
    for (int q = 0; q < NQ; q++) {
        ni_addr a; memset(&a, 0, sizeof a);
        int v6 = rnd(&seed) % 3 == 0;
        a.family = v6 ? 6 : 4;
        for (int k = 0; k < (v6 ? 16 : 4); k++) a.b[k] = (uint8_t)rnd(&seed);
        a.b[0] = v6 ? 0x20 : (uint8_t)(10 + rnd(&seed) % 3);
        if (q % 2) {   /* half the queries start inside a known prefix */
            const ref_pfx *p = &ref[rnd(&seed) % NP];
            if (p->a.family == a.family) memcpy(a.b, p->a.b, (p->len + 7) / 8);
        }
        int best = -1;
        for (int i = 0; i < NP; i++)
            if (covers(&ref[i], &a) && (best < 0 || ref[i].len > ref[best].len ||
                (ref[i].len == ref[best].len)))   /* later duplicates replace */
                best = i;
        void *v = NULL; unsigned len = 0;
        int hit = ni_prefix_lookup(ps, &a, &v, &len);
        if (hit != (best >= 0)) mismatches++;
        else if (hit && (len != ref[best].len || v != &ref[best])) mismatches++;
    }
    CHECK_INT(mismatches, 0);
    free(ref);
    ni_prefix_free(ps);
}

RUN(T(parse), T(v4_longest), T(default_route_and_replace), T(v6_longest), T(walk_order),
    T(limits), T(random_vs_linear))
