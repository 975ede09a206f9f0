/* test_out.c — the session writers (JSON Lines field contract, CSV quoting
 * and fixed columns) and atomic output files (ni_file). */
#include "ni_test.h"
#include "output/ni_out.h"
#include "core/ni_arena.h"
#include "core/ni_file.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

static ni_session base(void)
{
    ni_session s;
    memset(&s, 0, sizeof s);
    s.first_us = 1700000000000001ll;             /* 2023-11-14T22:13:20.000001Z */
    s.last_us = 1700000001500000ll;
    s.proto = 6;
    ni_addr_parse("175.45.176.10", &s.client);
    ni_addr_parse("93.184.216.34", &s.server);
    s.client_port = 51000; s.server_port = 443;
    s.direction = NI_DIRECTION_OUTBOUND;
    s.c2s_packets = 5; s.c2s_bytes = 700; s.s2c_packets = 4; s.s2c_bytes = 5000;
    s.c2s_tcp_flags = 0x02 | 0x10 | 0x08 | 0x01; s.s2c_tcp_flags = 0x02 | 0x10 | 0x04;
    s.end_reason = NI_END_RST;
    return s;
}

TEST(json_minimal_omits_absent)
{
    ni_session s = base();
    ni_buf b; ni_buf_init(&b, 1 << 16);
    ni_out_session(&b, NI_OUT_JSONL, &s);
    CHECK_STR(ni_buf_str(&b),
        "{\"first\":\"2023-11-14T22:13:20.000001Z\",\"last\":\"2023-11-14T22:13:21.500000Z\","
        "\"proto\":\"tcp\",\"client\":\"175.45.176.10\",\"client_port\":51000,"
        "\"server\":\"93.184.216.34\",\"server_port\":443,\"direction\":\"outbound\","
        "\"c2s_packets\":5,\"c2s_bytes\":700,\"s2c_packets\":4,\"s2c_bytes\":5000,"
        "\"tcp_flags\":{\"c2s\":\"SAPF\",\"s2c\":\"SAR\"},\"end\":\"rst\"}\n");
    ni_buf_release(&b);
}

TEST(json_full_field_order)
{
    ni_session s = base();
    s.arena = ni_arena_new(4096);
    ni_http_req r1 = { "GET", "a.example", "/x", NULL, NULL, NULL, NULL, NULL, NULL };
    ni_http_req r2 = { "POST", "b.example", "/y\"q", "Mozilla/5.0", "\"Chromium\";v=\"120\"",
                       "\"Android\"", "\"13.0.0\"", "\"Pixel 7\"", NULL };
    r1.next = &r2;
    s.http = &r1; s.http_tail = &r2; s.http_count = 2;
    ni_strlist alpn2 = { "http/1.1", NULL }, alpn1 = { "h2", &alpn2 };
    s.alpn = &alpn1;
    s.sni = "www.example.com";
    s.tls_client_version = 0x0303; s.tls_version = 0x0304; s.tls_cipher = 0x1301;
    s.ja4 = "t13d1516h2_8daaf6152771_02713d6af862";
    s.quic = true;
    s.vlan = 100;
    s.client_country = "KP"; s.server_country = "US"; s.client_asn = 131279; s.server_asn = 15133;
    s.ndpi_protocol = "TLS.Google";
    ni_buf b; ni_buf_init(&b, 1 << 16);
    ni_out_session(&b, NI_OUT_JSONL, &s);
    const char *o = ni_buf_str(&b);
    const char *order[] = {
        "\"first\"", "\"last\"", "\"proto\"", "\"client\"", "\"client_port\"", "\"server\"",
        "\"server_port\"", "\"direction\"", "\"c2s_packets\"", "\"c2s_bytes\"", "\"s2c_packets\"",
        "\"s2c_bytes\"", "\"http_host\":\"a.example\"", "\"user_agent\":\"Mozilla/5.0\"",
        "\"http\":[{\"method\":\"GET\",\"host\":\"a.example\",\"path\":\"/x\"},"
        "{\"method\":\"POST\",\"host\":\"b.example\",\"path\":\"/y\\\"q\",\"user_agent\":\"Mozilla/5.0\","
        "\"sec_ch_ua\":\"\\\"Chromium\\\";v=\\\"120\\\"\",\"sec_ch_ua_platform\":\"\\\"Android\\\"\","
        "\"sec_ch_ua_platform_version\":\"\\\"13.0.0\\\"\",\"sec_ch_ua_model\":\"\\\"Pixel 7\\\"\"}]",
        "\"sni\":\"www.example.com\"", "\"alpn\":[\"h2\",\"http/1.1\"]", "\"tls_version\":\"TLSv1.3\"",
        "\"ja4\":\"t13d1516h2_8daaf6152771_02713d6af862\"", "\"name\":\"www.example.com\"",
        "\"tls_client_version\":\"TLSv1.2\"", "\"tls_cipher\":\"0x1301\"", "\"quic\":true",
        "\"tcp_flags\"", "\"end\":\"rst\"", "\"vlan\":100", "\"client_country\":\"KP\"",
        "\"server_country\":\"US\"", "\"client_asn\":131279", "\"server_asn\":15133",
        "\"ndpi_protocol\":\"TLS.Google\"}\n",
    };
    const char *at = o;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        const char *p = strstr(at, order[i]);
        if (!p) { fprintf(stderr, "  missing or out of order: %s\n", order[i]); CHECK(0); break; }
        at = p + strlen(order[i]);
    }
    CHECK(strstr(o, "dns_") == NULL);
    CHECK_INT(strchr(o, '\n') - o, (long long)strlen(o) - 1);   /* one line */
    ni_buf_release(&b);
    ni_arena_free(s.arena);
}

TEST(json_dns_udp_and_other_protocols)
{
    ni_session s = base();
    s.proto = 17; s.client_port = 40000; s.server_port = 53; s.end_reason = NI_END_IDLE;
    s.direction = NI_DIRECTION_UNKNOWN;
    ni_strlist a2 = { "2001:db8::1", NULL }, a1 = { "192.0.2.1", &a2 };
    s.dns_query = "example.org"; s.dns_answers = &a1;
    ni_buf b; ni_buf_init(&b, 1 << 16);
    ni_out_session(&b, NI_OUT_JSONL, &s);
    const char *o = ni_buf_str(&b);
    CHECK(strstr(o, "\"proto\":\"udp\"") != NULL);
    CHECK(strstr(o, "\"direction\":\"unknown\"") != NULL);
    CHECK(strstr(o, "\"dns_query\":\"example.org\",\"dns_answers\":[\"192.0.2.1\",\"2001:db8::1\"],"
                    "\"name\":\"example.org\"") != NULL);
    CHECK(strstr(o, "tcp_flags") == NULL);
    ni_buf_clear(&b);
    s.proto = 47; s.dns_query = NULL; s.dns_answers = NULL;
    ni_out_session(&b, NI_OUT_JSONL, &s);
    o = ni_buf_str(&b);
    CHECK(strstr(o, "\"proto\":\"47\"") != NULL);
    CHECK(strstr(o, "client_port") == NULL);     /* no ports for GRE */
    ni_buf_clear(&b);
    s.proto = 58;
    ni_out_session(&b, NI_OUT_JSONL, &s);
    CHECK(strstr(ni_buf_str(&b), "\"proto\":\"icmp6\"") != NULL);
    ni_buf_release(&b);
}

static bool starts(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

static int csv_fields(const char *line, size_t n)
{
    int f = 1; bool q = false;
    for (size_t i = 0; i < n; i++) {
        if (line[i] == '"') q = !q;
        else if (line[i] == ',' && !q) f++;
    }
    return f;
}

TEST(csv_header_quoting_and_columns)
{
    ni_session s = base();
    ni_http_req r1 = { "GET", "a.example", "/p,q", "Agent \"X\", 1.0", NULL, NULL, NULL, NULL, NULL };
    s.http = &r1;
    ni_strlist alpn2 = { "http/1.1", NULL }, alpn1 = { "h2", &alpn2 };
    s.alpn = &alpn1;
    ni_buf b; ni_buf_init(&b, 1 << 16);
    ni_out_begin(&b, NI_OUT_CSV);
    const char *h = ni_buf_str(&b);
    CHECK(starts(h, "first,last,proto,client,client_port,server,server_port,direction,"));
    size_t hlen = strlen(h);
    CHECK(hlen > 2 && h[hlen - 2] == '\r' && h[hlen - 1] == '\n');
    int cols = csv_fields(h, hlen - 2);
    CHECK(cols > 40);
    ni_buf_clear(&b);
    ni_out_session(&b, NI_OUT_CSV, &s);
    const char *row = ni_buf_str(&b);
    size_t rlen = strlen(row);
    CHECK_INT(csv_fields(row, rlen - 2), cols);
    CHECK(strstr(row, ",\"Agent \"\"X\"\", 1.0\",") != NULL);   /* RFC 4180 doubled quotes */
    CHECK(strstr(row, ",\"GET a.example /p,q\",") != NULL);
    CHECK(strstr(row, ",h2;http/1.1,") != NULL);
    CHECK(starts(row, "2023-11-14T22:13:20.000001Z,2023-11-14T22:13:21.500000Z,tcp,175.45.176.10,51000,"));
    ni_buf_release(&b);
    ni_out_format fmt;
    CHECK(ni_out_format_parse("csv", &fmt) == NI_OK && fmt == NI_OUT_CSV);
    CHECK(ni_out_format_parse("jsonl", &fmt) == NI_OK && fmt == NI_OUT_JSONL);
    CHECK(ni_out_format_parse("xml", &fmt) == NI_ERR_ARG);
}

TEST(flag_and_reason_names)
{
    char fb[9];
    CHECK_STR(ni_out_tcp_flags(0xff, fb), "SAPFRUEC");
    CHECK_STR(ni_out_tcp_flags(0, fb), "");
    CHECK_STR(ni_out_end_name(NI_END_EVICTED), "evicted");
    CHECK(ni_out_end_name(NI_END_NONE) == NULL);
}

static int dir_entries(const char *d)
{
    int n = 0;
    DIR *dp = opendir(d);
    if (!dp) return -1;
    struct dirent *e;
    while ((e = readdir(dp))) if (e->d_name[0] != '.' || (e->d_name[1] && strcmp(e->d_name, ".."))) n++;
    closedir(dp);
    return n;
}

TEST(atomic_file_commit_and_abort)
{
    char dir[] = "/tmp/ni_test_out_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256], buf[64];
    snprintf(path, sizeof path, "%s/out.jsonl", dir);
    ni_error err = { 0 };
    ni_file f;
    CHECK(ni_file_open(&f, path, &err) == NI_OK);
    CHECK(access(path, F_OK) != 0);              /* not visible before commit */
    CHECK_INT(dir_entries(dir), 1);               /* only the temporary file */
    CHECK(ni_file_write(&f, "hello\n", 6, &err) == NI_OK);
    CHECK(ni_file_commit(&f, &err) == NI_OK);
    FILE *fp = fopen(path, "r");
    CHECK(fp != NULL);
    if (fp) { size_t n = fread(buf, 1, sizeof buf, fp); buf[n] = 0; fclose(fp); }
    CHECK_STR(buf, "hello\n");
    CHECK_INT(dir_entries(dir), 1);               /* no temporary left */
    /* abort keeps the previous file and leaves no temporary */
    CHECK(ni_file_open(&f, path, &err) == NI_OK);
    CHECK(ni_file_write(&f, "other\n", 6, &err) == NI_OK);
    ni_file_abort(&f);
    fp = fopen(path, "r");
    if (fp) { size_t n = fread(buf, 1, sizeof buf, fp); buf[n] = 0; fclose(fp); }
    CHECK_STR(buf, "hello\n");
    CHECK_INT(dir_entries(dir), 1);
    /* errors name the path */
    char bad[300];
    snprintf(bad, sizeof bad, "%s/no/such/dir/x.json", dir);
    CHECK(ni_file_open(&f, bad, &err) == NI_ERR_NOTFOUND);
    CHECK(strstr(err.msg, bad) == err.msg);
    CHECK(ni_file_write_all(path, "x", 1, &err) == NI_OK);
    unlink(path);
    rmdir(dir);
}

RUN(T(json_minimal_omits_absent), T(json_full_field_order), T(json_dns_udp_and_other_protocols),
    T(csv_header_quoting_and_columns), T(flag_and_reason_names), T(atomic_file_commit_and_abort))
