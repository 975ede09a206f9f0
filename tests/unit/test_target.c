/* test_target.c — --target specs (CIDRs, @file, presets, country:/asn:
 * through a resolver), their error messages, and session direction. */
#include "ni_test.h"
#include "session/ni_target.h"

#include <stdlib.h>
#include <fcntl.h>
#include <unistd.h>

static ni_addr ip(const char *s)
{
    ni_addr a;
    ni_addr_parse(s, &a);
    return a;
}

TEST(cidrs_and_direction)
{
    ni_target *t = ni_target_new();
    ni_error err = { 0 };
    ni_addr in = ip("10.1.2.3"), out = ip("8.8.8.8"), in6 = ip("2001:db8::5");
    CHECK_INT(ni_target_direction(t, &in, &out), NI_DIRECTION_UNKNOWN);   /* no spec yet */
    CHECK(ni_target_add_spec(t, "10.0.0.0/8, 2001:db8::/32", &err) == NI_OK);
    CHECK(ni_target_add_spec(t, "192.0.2.7", &err) == NI_OK);          /* repeatable, bare address */
    CHECK_INT(ni_target_count(t), 3);
    CHECK_INT(ni_target_direction(t, &in, &out), NI_DIRECTION_OUTBOUND);
    CHECK_INT(ni_target_direction(t, &out, &in6), NI_DIRECTION_INBOUND);
    CHECK_INT(ni_target_direction(t, &in, &in6), NI_DIRECTION_INTERNAL);
    ni_addr o2 = ip("1.1.1.1"), b = ip("192.0.2.7"), b2 = ip("192.0.2.8");
    CHECK_INT(ni_target_direction(t, &out, &o2), NI_DIRECTION_TRANSIT);
    CHECK(ni_target_contains(t, &b));
    CHECK(!ni_target_contains(t, &b2));
    CHECK(ni_target_timezone(t) == NULL);
    CHECK_INT(ni_target_direction(NULL, &in, &out), NI_DIRECTION_UNKNOWN);
    ni_target_free(t);
}

TEST(bad_specs_name_the_item)
{
    const char *bad[] = { "10.0.0.0/33", "300.1.1.1", "Not A Preset!", "nosuchpreset", "", "10.0.0.0/8,,10.1.0.0/16",
                          "@", "@/nonexistent/file.txt", "country:KOR", "asn:abc", "asn:0", "country:KP",
                          "asn:131279", "10.0.0.0/8,bogus/8" };
    const char *want[] = { "'10.0.0.0/33'", "'300.1.1.1'", "'Not A Preset!'", "'nosuchpreset'", "''",
                           "''", "'@'", "'@/nonexistent/file.txt'", "'country:KOR'", "'asn:abc'",
                           "'asn:0'", "'country:KP'", "'asn:131279'", "'bogus/8'" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ni_target *t = ni_target_new();
        ni_target_set_data_dir(t, "data");
        ni_error err = { 0 };
        ni_err r = ni_target_add_spec(t, bad[i], &err);
        CHECK(r != NI_OK);
        CHECK(strncmp(err.msg, "--target: ", 10) == 0);
        if (!strstr(err.msg, want[i])) { fprintf(stderr, "  message: %s\n", err.msg); CHECK(0); }
        ni_target_free(t);
    }
    /* without a resolver, country/asn say what is missing */
    ni_target *t = ni_target_new();
    ni_error err = { 0 };
    CHECK(ni_target_add_spec(t, "country:KP", &err) != NI_OK);
    CHECK(strstr(err.msg, "GeoIP") != NULL);
    ni_target_free(t);
}

static ni_err fake_resolver(void *ud, const char *kind, const char *value, ni_target *t,
                            ni_error *err)
{
    int *calls = ud;
    (*calls)++;
    ni_addr a;
    if (!strcmp(kind, "country") && !strcmp(value, "KP")) {
        ni_addr_parse("175.45.176.0", &a);
        return ni_target_add_prefix(t, &a, 22);
    }
    if (!strcmp(kind, "asn") && !strcmp(value, "131279")) {
        ni_addr_parse("175.45.178.0", &a);
        return ni_target_add_prefix(t, &a, 24);
    }
    return ni_error_set(err, NI_ERR_NOTFOUND, "no prefixes for %s %s", kind, value);
}

TEST(resolver_for_country_and_asn)
{
    ni_target *t = ni_target_new();
    int calls = 0;
    ni_target_set_resolver(t, fake_resolver, &calls);
    ni_error err = { 0 };
    CHECK(ni_target_add_spec(t, "country:kp", &err) == NI_OK);       /* case-insensitive */
    CHECK(ni_target_add_spec(t, "asn:AS131279", &err) == NI_OK);
    CHECK_INT(calls, 2);
    ni_addr a = ip("175.45.177.1");
    CHECK(ni_target_contains(t, &a));
    CHECK(ni_target_add_spec(t, "country:ZZ", &err) == NI_ERR_NOTFOUND);
    CHECK_STR(err.msg, "--target: 'country:ZZ': no prefixes for country ZZ");
    ni_target_free(t);
}

TEST(file_combines_prefixes_and_asn)
{
    char path[] = "/tmp/ni-target-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fputs("# a preset may combine\n210.52.109.0/24\tsource\nasn:131279\tsource\n", f);
    fclose(f);
    ni_target *t = ni_target_new();
    int calls = 0;
    ni_target_set_resolver(t, fake_resolver, &calls);
    ni_error err = { 0 };
    char spec[64];
    snprintf(spec, sizeof spec, "@%s", path);
    CHECK_INT(ni_target_add_spec(t, spec, &err), NI_OK);
    CHECK_INT(calls, 1);
    ni_addr a = ip("175.45.178.9"), b = ip("210.52.109.1"), c = ip("175.45.176.1");
    CHECK(ni_target_contains(t, &a));
    CHECK(ni_target_contains(t, &b));
    CHECK(!ni_target_contains(t, &c));
    f = fopen(path, "w");
    fputs("asn:999\n", f);
    fclose(f);
    CHECK(ni_target_add_spec(t, spec, &err) == NI_ERR_NOTFOUND);
    CHECK(strstr(err.msg, ":1: 'asn:999': no prefixes for asn 999") != NULL);
    ni_target_free(t);
    unlink(path);
}

TEST(file_with_comments)
{
    char path[] = "/tmp/ni_target_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    const char *body = "# my hosts\n\n198.51.100.0/24   # lab\n  2001:db8:1::/48\tnote\n";
    CHECK(write(fd, body, strlen(body)) == (ssize_t)strlen(body));
    close(fd);
    ni_target *t = ni_target_new();
    ni_error err = { 0 };
    char spec[64];
    snprintf(spec, sizeof spec, "@%s", path);
    CHECK(ni_target_add_spec(t, spec, &err) == NI_OK);
    CHECK_INT(ni_target_count(t), 2);
    ni_addr a = ip("2001:db8:1:ffff::1"), b = ip("2001:db8:2::1");
    CHECK(ni_target_contains(t, &a));
    CHECK(!ni_target_contains(t, &b));
    ni_target_free(t);
    /* a bad line names the file and line */
    fd = open(path, O_WRONLY | O_TRUNC);
    const char *bad = "198.51.100.0/24\nnot-a-prefix\n";
    CHECK(write(fd, bad, strlen(bad)) == (ssize_t)strlen(bad));
    close(fd);
    t = ni_target_new();
    CHECK(ni_target_add_spec(t, spec, &err) == NI_ERR_DATA);
    CHECK(strstr(err.msg, ":2: 'not-a-prefix' is not a CIDR prefix") != NULL);
    ni_target_free(t);
    unlink(path);
}

TEST(preset_kp_from_data_dir)
{
    /* the shipped preset, found through NETINTEL_DATA like the CLI does */
    setenv("NETINTEL_DATA", "data", 1);
    ni_target *t = ni_target_new();
    ni_error err = { 0 };
    CHECK(ni_target_add_spec(t, "kp", &err) == NI_OK);
    if (err.msg[0]) fprintf(stderr, "  %s\n", err.msg);
    CHECK_INT(ni_target_count(t), 3);
    CHECK_STR(ni_target_timezone(t), "Asia/Pyongyang");
    const char *inside[] = { "175.45.176.1", "175.45.179.254", "210.52.109.9", "77.94.35.200" };
    const char *outside[] = { "175.45.180.1", "210.52.108.255", "77.94.36.1", "8.8.8.8" };
    for (int i = 0; i < 4; i++) {
        ni_addr a = ip(inside[i]), b = ip(outside[i]);
        CHECK(ni_target_contains(t, &a));
        CHECK(!ni_target_contains(t, &b));
    }
    char dir[256];
    CHECK(ni_data_dir(dir, sizeof dir) == NI_OK);
    CHECK_STR(dir, "data");
    unsetenv("NETINTEL_DATA");
    ni_target_free(t);
}

RUN(T(cidrs_and_direction), T(bad_specs_name_the_item), T(resolver_for_country_and_asn), T(file_combines_prefixes_and_asn),
    T(file_with_comments), T(preset_kp_from_data_dir))
