/* test_out.c — the session writers (JSON Lines field contract; CSV: RFC 4180
 * quoting, every JSON Lines field, formula-injection quoting, UTF-8 repair)
 * and output files (ni_file: atomic replace, symlinks followed, devices,
 * FIFOs and sockets written through, errors as codes). */
#include "ni_test.h"
#include "output/ni_out.h"
#include "core/ni_arena.h"
#include "core/ni_file.h"
#include "core/ni_json.h"
#include "core/ni_limits.h"
#include "core/ni_time.h"
#include "ingest/ni_stored.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <dirent.h>
#include <signal.h>

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
    /* arrays and objects are JSON text in one cell */
    CHECK(strstr(row, ",\"[{\"\"method\"\":\"\"GET\"\",\"\"host\"\":\"\"a.example\"\",\"\"path\"\":\"\"/p,q\"\",") != NULL);
    CHECK(strstr(row, ",\"[\"\"h2\"\",\"\"http/1.1\"\"]\",") != NULL);
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
    /* every value against the letters picked one by one */
    for (unsigned v = 0; v < 256; v++) {
        static const char letters[] = "SAPFRUEC";
        static const uint8_t bits[] = { 0x02, 0x10, 0x08, 0x01, 0x04, 0x20, 0x40, 0x80 };
        char want[9], *w = want;
        for (int i = 0; i < 8; i++) if (v & bits[i]) *w++ = letters[i];
        *w = 0;
        memset(fb, 'x', sizeof fb);
        CHECK_STR(ni_out_tcp_flags((uint8_t)v, fb), want);
    }
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
    CHECK(ni_file_open(&f, bad, &err) == NI_ERR_OUTPUT);
    CHECK(strstr(err.msg, bad) == err.msg);
    CHECK(ni_file_write_all(path, "x", 1, &err) == NI_OK);
    unlink(path);
    rmdir(dir);
}

/* A file larger than the writeback step (8 MiB; writeback started as it is
 * written) reads back whole, in order; an abort after that step still
 * leaves the previous file. */
TEST(atomic_file_past_writeback_step)
{
    char dir[] = "/tmp/ni_test_out_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/big.jsonl", dir);
    ni_error err = { 0 };
    ni_file f;
    enum { CHUNK = 100003, N = 200 };               /* ~19 MiB, odd-sized writes */
    static unsigned char buf[CHUNK];
    CHECK(ni_file_open(&f, path, &err) == NI_OK);
    for (int i = 0; i < N; i++) {
        for (int k = 0; k < CHUNK; k++) buf[k] = (unsigned char)(i * 31 + k);
        CHECK(ni_file_write(&f, buf, CHUNK, &err) == NI_OK);
    }
    CHECK(ni_file_commit(&f, &err) == NI_OK);
    FILE *fp = fopen(path, "rb");
    CHECK(fp != NULL);
    int bad = 0;
    for (int i = 0; fp && i < N; i++) {
        if (fread(buf, 1, CHUNK, fp) != CHUNK) { bad++; break; }
        for (int k = 0; k < CHUNK; k++) if (buf[k] != (unsigned char)(i * 31 + k)) { bad++; break; }
    }
    CHECK(fp && fgetc(fp) == EOF);
    if (fp) fclose(fp);
    CHECK_INT(bad, 0);
    CHECK(ni_file_open(&f, path, &err) == NI_OK);
    for (int i = 0; i < N; i++) CHECK(ni_file_write(&f, "x", 1, &err) == NI_OK && ni_file_write(&f, buf, CHUNK, &err) == NI_OK);
    ni_file_abort(&f);
    struct stat st;
    CHECK(stat(path, &st) == 0 && st.st_size == (off_t)CHUNK * N);
    CHECK_INT(dir_entries(dir), 1);
    unlink(path);
    rmdir(dir);
}


/* ---- CSV against JSON Lines ------------------------------------------------ */

/* Splits one CSV record (RFC 4180, CRLF-terminated) into cells; returns the
 * number of cells (at most max); cells point into buf. */
static int csv_split(const char *line, char *buf, size_t cap, char **cells, int max)
{
    int n = 0;
    size_t o = 0;
    const char *p = line;
    for (;;) {
        if (n == max || o + 1 >= cap) return -1;
        cells[n++] = buf + o;
        if (*p == '"') {
            p++;
            for (;;) {
                if (!*p) return -1;
                if (*p == '"' && p[1] == '"') { buf[o++] = '"'; p += 2; continue; }
                if (*p == '"') { p++; break; }
                buf[o++] = *p++;
                if (o + 1 >= cap) return -1;
            }
        } else {
            while (*p && *p != ',' && !(*p == '\r' && p[1] == '\n')) { buf[o++] = *p++; if (o + 1 >= cap) return -1; }
        }
        buf[o++] = 0;
        if (*p == ',') { p++; continue; }
        return n;
    }
}

static int col_of(char **hdr, int n, const char *name)
{
    for (int i = 0; i < n; i++) if (!strcmp(hdr[i], name)) return i;
    return -1;
}

static ni_session full(ni_arena *arena)
{
    static ni_http_req r2 = { "POST", "b.example", "/y", "Mozilla/5.0 (X11)", "\"Chromium\";v=\"120\"",
                              "\"Linux\"", NULL, NULL, NULL };
    static ni_http_req r1 = { "GET", "a.example", "/p,q", NULL, NULL, NULL, NULL, NULL, &r2 };
    static ni_strlist alpn2 = { "http/1.1", NULL }, alpn1 = { "h2", &alpn2 };
    static ni_strlist ans2 = { "2001:db8::1", NULL }, ans1 = { "192.0.2.1", &ans2 };
    ni_session s = base();
    s.arena = arena;
    s.http = &r1; s.http_tail = &r2; s.http_count = 2;
    s.sni = "www.example.com"; s.alpn = &alpn1;
    s.tls_client_version = 0x0303; s.tls_version = 0x0304; s.tls_cipher = 0x1301;
    s.ja4 = "t13d1516h2_8daaf6152771_02713d6af862";
    s.tls_cert_subject = "CN=www.example.com,O=Example"; s.tls_cert_issuer = "CN=Example CA";
    s.quic = true; s.vlan = 7;
    s.dns_query = "example.org"; s.dns_answers = &ans1; s.dns_name = "learned.example";
    s.client_country = "KP"; s.server_country = "US"; s.client_continent = "Asia";
    s.server_continent = "North America"; s.client_asn = 131279; s.server_asn = 15133;
    s.client_as_org = "Star JV"; s.server_as_org = "Edgecast";
    s.ua_browser = "Chrome"; s.ua_browser_version = "120"; s.ua_os = "Linux"; s.ua_os_version = "6";
    s.ua_maker = "Google"; s.ua_model = "Pixel 7"; s.ua_form_factor = "phone"; s.ua_kind = NI_UA_KIND_BROWSER;
    s.windows_version = "11"; s.ua_reduced = true;
    s.service = "Example"; s.category = "web"; s.service_evidence = NI_EVIDENCE_SNI;
    s.vpn_provider = "ExampleVPN"; s.vpn_protocol = NI_TUN_WIREGUARD; s.vpn_evidence = NI_EVIDENCE_ENDPOINT;
    s.ndpi_protocol = "TLS";
    s.ua_os_detail = "Ubuntu 22.04"; s.ua_device_source = "uap-core";
    s.source = "ipfix"; s.sampled = 4;
    static ni_strlist ans = { "192.0.2.9", NULL };
    static ni_dns_txn txn = { "dns.example", "AAAA", "SERVFAIL", &ans, 5, 9, true, NULL };
    s.dns = s.dns_tail = &txn; s.dns_count = 1; s.dns_dropped = 2;
    s.proxy = NI_PROXY_SOCKS5; s.proxy_dest = "example.org:443";
    s.tcp_fingerprint = "4:64+0:0:1460:mss*44,7:mss,sok,ts,nop,ws:df,id+:0"; s.tcp_window = 64240;
    s.tcp_os = "Linux"; s.tcp_os_detail = "2.2.x-3.x";
    static ni_strlist san2 = { "192.0.2.10", NULL }, san1 = { "*.example.com", &san2 };
    s.cert_names = &san1;
    return s;
}

/* Every top-level JSON Lines field is a CSV column holding the same value
 * (strings as they are, numbers as digits, arrays as compact JSON text,
 * tcp_flags as tcp_flags_c2s / tcp_flags_s2c), and nothing else. */
TEST(csv_has_every_jsonl_field)
{
    ni_arena *arena = ni_arena_new(4096);
    ni_session s = full(arena);
    ni_buf j, c;
    ni_buf_init(&j, 1 << 16); ni_buf_init(&c, 1 << 16);
    ni_out_session(&j, NI_OUT_JSONL, &s);
    ni_out_begin(&c, NI_OUT_CSV);
    size_t hlen = c.len;
    ni_out_session(&c, NI_OUT_CSV, &s);
    static char hb[8192], rb[8192];
    char *hdr[128], *row[128];
    int nh = csv_split(ni_buf_str(&c), hb, sizeof hb, hdr, 128);
    int nr = csv_split(ni_buf_str(&c) + hlen, rb, sizeof rb, row, 128);
    CHECK(nh > 50);
    CHECK_INT(nr, nh);
    json_error_t je;
    json_t *o = json_loads(ni_buf_str(&j), 0, &je);
    CHECK(o != NULL);
    const char *key;
    json_t *v;
    int seen = 0;
    json_object_foreach(o, key, v) {
        if (!strcmp(key, "tcp_flags")) {
            int a = col_of(hdr, nh, "tcp_flags_c2s"), b = col_of(hdr, nh, "tcp_flags_s2c");
            CHECK(a >= 0 && b >= 0);
            if (a >= 0 && b >= 0) {
                CHECK_STR(row[a], json_string_value(json_object_get(v, "c2s")));
                CHECK_STR(row[b], json_string_value(json_object_get(v, "s2c")));
            }
            seen += 2;
            continue;
        }
        int k = col_of(hdr, nh, key);
        if (k < 0) { fprintf(stderr, "  CSV lacks the column %s\n", key); CHECK(0); continue; }
        seen++;
        char num[32];
        char *dump = NULL;
        const char *want = NULL;
        if (json_is_string(v)) want = json_string_value(v);
        else if (json_is_integer(v)) { snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v)); want = num; }
        else if (json_is_true(v)) want = "true";
        else want = dump = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (strcmp(row[k], want)) { fprintf(stderr, "  column %s: '%s', JSON '%s'\n", key, row[k], want); CHECK(0); }
        free(dump);
    }
    CHECK_INT(seen, nh);        /* the full session fills every column */
    json_decref(o);
    ni_buf_release(&j); ni_buf_release(&c);
    ni_arena_free(arena);
}

/* The JSON record built from the field walk (ni_out_fields: the generic copy
 * of the walk, which the header and the stores use). */
typedef struct walk_rec { ni_buf b; int n; } walk_rec;
static void walk_json(void *ud, const ni_out_field *f)
{
    walk_rec *r = ud;
    if (!f->present) return;
    if (r->n++) ni_buf_addc(&r->b, ',');
    ni_json_escape(&r->b, f->name, strlen(f->name));
    ni_buf_addc(&r->b, ':');
    if (f->kind == NI_OUT_STR) ni_json_escape(&r->b, f->text, strlen(f->text));
    else if (f->kind == NI_OUT_UINT) ni_buf_printf(&r->b, "%llu", (unsigned long long)f->num);
    else if (f->kind == NI_OUT_TRUE) ni_buf_adds(&r->b, "true");
    else ni_buf_adds(&r->b, f->text);
}

/* JSON Lines records come from a copy of the field walk specialised for
 * them (the mode folded in); it writes what the generic walk gives, for a
 * minimal session, a full one, other protocols, a time before 1970 and
 * records whose first and last share a second or not. */
TEST(json_record_matches_field_walk)
{
    ni_arena *arena = ni_arena_new(4096);
    ni_session v[6];
    v[0] = base();
    v[1] = full(arena);
    v[2] = base(); v[2].proto = 17; v[2].c2s_tcp_flags = v[2].s2c_tcp_flags = 0; v[2].dns_query = "a\"b.example";
    v[3] = base(); v[3].proto = 47; v[3].first_us = -1500000; v[3].last_us = -1000001;
    v[4] = base(); v[4].last_us = v[4].first_us + 999998;    /* same second */
    v[5] = full(arena); v[5].first_us = v[5].last_us = 253402300800000000ll;   /* year 10000 */
    /* and every name the records take from netintel's tables, which JSON
     * copies without the escaper (e_plain) */
    for (unsigned k = 0; k < 0x10000; k++) {
        ni_session t = base();
        t.proto = (uint8_t)k;
        t.direction = (ni_direction)(k % 8);
        t.end_reason = (uint8_t)(k % 16);
        t.tls_version = (uint16_t)k;
        t.tls_client_version = (uint16_t)(k * 7919u);
        t.tls_cipher = (uint16_t)(k * 31u);
        t.ua_kind = (ni_ua_kind)(k % (NI_UA_KIND__COUNT + 1));
        t.service_evidence = (ni_evidence)(k % (NI_EVIDENCE__COUNT + 1));
        t.vpn_evidence = (ni_evidence)((k / 3) % (NI_EVIDENCE__COUNT + 1));
        t.vpn_protocol = (ni_tunnel_proto)(k % (NI_TUN__COUNT + 1));
        t.proxy = (ni_proxy_kind)(k % (NI_PROXY__COUNT + 1));
        ni_buf a;
        walk_rec w = { .n = 0 };
        ni_buf_init(&a, 1 << 16); ni_buf_init(&w.b, 1 << 16);
        ni_out_session(&a, NI_OUT_JSONL, &t);
        ni_buf_addc(&w.b, '{');
        ni_out_fields(&t, walk_json, &w);
        ni_buf_add(&w.b, "}\n", 2);
        if (strcmp(ni_buf_str(&a), ni_buf_str(&w.b))) { CHECK_STR(ni_buf_str(&a), ni_buf_str(&w.b)); break; }
        ni_buf_release(&a); ni_buf_release(&w.b);
    }
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        ni_buf a;
        walk_rec w = { .n = 0 };
        ni_buf_init(&a, 1 << 16); ni_buf_init(&w.b, 1 << 16);
        ni_out_session(&a, NI_OUT_JSONL, &v[i]);
        ni_buf_addc(&w.b, '{');
        ni_out_fields(&v[i], walk_json, &w);
        ni_buf_add(&w.b, "}\n", 2);
        CHECK(w.n > 10);
        CHECK_STR(ni_buf_str(&a), ni_buf_str(&w.b));
        ni_buf_release(&a); ni_buf_release(&w.b);
    }
    ni_arena_free(arena);
}

/* Cells from the traffic: formula injection (OWASP: a leading = + - @ TAB CR
 * gets a single quote unless the cell is a number) and invalid UTF-8 (each
 * bad byte becomes U+FFFD, as in JSON Lines). */
TEST(csv_hostile_cells)
{
    static const struct { const char *in, *cell; } cases[] = {
        { "=HYPERLINK(\"http://x.invalid\",\"y\")", "'=HYPERLINK(\"http://x.invalid\",\"y\")" },
        { "@SUM(A1:A9)", "'@SUM(A1:A9)" },
        { "+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0" },
        { "-2+3", "'-2+3" },
        { "\t=1", "'\t=1" },
        { "\r=1", "'\r=1" },
        { "-12", "-12" },               /* numbers stay numbers */
        { "+3.5", "+3.5" },
        { "-1e5", "-1e5" },
        { "-", "'-" },
        { "a=b", "a=b" },               /* only the first character counts */
        { "ok.example", "ok.example" },
        { "bad\xff" "byte", "bad\xEF\xBF\xBD" "byte" },
        { "\xC0\xAF", "\xEF\xBF\xBD\xEF\xBF\xBD" },      /* overlong '/' */
        { "\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" },  /* a surrogate */
        { "caf\xC3\xA9", "caf\xC3\xA9" },                /* valid UTF-8 kept */
        { "=\xff", "'=\xEF\xBF\xBD" },
    };
    ni_buf h; ni_buf_init(&h, 1 << 16);
    ni_out_begin(&h, NI_OUT_CSV);
    static char hb[8192], rb[8192];
    char *hdr[128], *row[128];
    int nh = csv_split(ni_buf_str(&h), hb, sizeof hb, hdr, 128);
    int ks = col_of(hdr, nh, "sni"), ku = col_of(hdr, nh, "user_agent");
    CHECK(ks >= 0 && ku >= 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0] && ks >= 0 && ku >= 0; i++) {
        ni_session s = base();
        ni_http_req r = { "GET", "h", "/", cases[i].in, NULL, NULL, NULL, NULL, NULL };
        s.http = &r;
        s.sni = cases[i].in;
        ni_buf b; ni_buf_init(&b, 1 << 16);
        ni_out_session(&b, NI_OUT_CSV, &s);
        int nr = csv_split(ni_buf_str(&b), rb, sizeof rb, row, 128);
        CHECK_INT(nr, nh);
        if (nr == nh) {
            CHECK_STR(row[ks], cases[i].cell);
            CHECK_STR(row[ku], cases[i].cell);
        }
        /* JSON Lines repairs the same bytes the same way */
        ni_buf_clear(&b);
        ni_out_session(&b, NI_OUT_JSONL, &s);
        json_t *o = json_loads(ni_buf_str(&b), 0, NULL);
        CHECK(o != NULL);
        const char *js = json_string_value(json_object_get(o, "sni"));
        const char *cell = cases[i].cell;
        if (cell[0] == '\'' && cases[i].in[0] != '\'') cell++;
        CHECK_STR(js, cell);
        json_decref(o);
        ni_buf_release(&b);
    }
    ni_buf_release(&h);
}

/* ---- output paths ------------------------------------------------------------ */

static char *slurp(const char *path, char *buf, size_t cap)
{
    buf[0] = 0;
    FILE *fp = fopen(path, "r");
    if (!fp) return buf;
    size_t n = fread(buf, 1, cap - 1, fp);
    buf[n] = 0;
    fclose(fp);
    return buf;
}

static bool no_temp_in(const char *dir)
{
    DIR *dp = opendir(dir);
    if (!dp) return false;
    struct dirent *e;
    bool ok = true;
    while ((e = readdir(dp))) if (strstr(e->d_name, ".tmp-")) ok = false;
    closedir(dp);
    return ok;
}

/* Regular files, new paths and symlinks (to a file, dangling, chained,
 * relative) are replaced atomically at the link's final target; the links
 * stay links. */
TEST(file_paths_regular_and_links)
{
    char dir[] = "/tmp/ni_test_paths_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char sub[300];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    mkdir(sub, 0755);
    static const struct {
        const char *name, *setup, *write_to, *check, *links;   /* setup: "file", "link:T", "none" */
    } cases[] = {
        { "new path", "none", "a", "a", NULL },
        { "regular file", "file", "b", "b", NULL },
        { "link to file", "link:c.real", "c", "c.real", "c" },
        { "dangling link", "link:d.real", "d", "d.real", "d" },
        { "link in sub to ../", "link:../e.real", "sub/e", "e.real", "sub/e" },
        { "absolute chain", "chain", "f", "f.real", "f" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char p[400], chk[400], buf[64];
        snprintf(p, sizeof p, "%s/%s", dir, cases[i].write_to);
        snprintf(chk, sizeof chk, "%s/%s", dir, cases[i].check);
        if (!strcmp(cases[i].setup, "file")) {
            FILE *fp = fopen(p, "w"); if (fp) { fputs("old\n", fp); fclose(fp); }
        } else if (!strncmp(cases[i].setup, "link:", 5)) {
            CHECK(symlink(cases[i].setup + 5, p) == 0);
            if (!strcmp(cases[i].name, "link to file")) { FILE *fp = fopen(chk, "w"); if (fp) { fputs("old\n", fp); fclose(fp); } }
        } else if (!strcmp(cases[i].setup, "chain")) {
            char mid[400];
            snprintf(mid, sizeof mid, "%s/f.mid", dir);
            CHECK(symlink(chk, mid) == 0);                /* f -> f.mid -> /abs/f.real */
            CHECK(symlink("f.mid", p) == 0);
        }
        ni_error err = { 0 };
        ni_file f;
        CHECK(ni_file_open(&f, p, &err) == NI_OK);
        CHECK_INT(f.kind, NI_FILE_ATOMIC);
        CHECK(ni_file_write(&f, "new\n", 4, &err) == NI_OK);
        CHECK(ni_file_commit(&f, &err) == NI_OK);
        if (strcmp(slurp(chk, buf, sizeof buf), "new\n")) { fprintf(stderr, "  case '%s'\n", cases[i].name); CHECK(0); }
        if (cases[i].links) {
            char l[400];
            struct stat st;
            snprintf(l, sizeof l, "%s/%s", dir, cases[i].links);
            CHECK(lstat(l, &st) == 0 && S_ISLNK(st.st_mode));
        }
    }
    CHECK(no_temp_in(dir) && no_temp_in(sub));
    /* a directory is refused, as an output error */
    ni_error err = { 0 };
    ni_file f;
    CHECK(ni_file_open(&f, sub, &err) == NI_ERR_OUTPUT);
    CHECK(strstr(err.msg, "is a directory") != NULL);
    /* an unwritable folder is an output error naming the path */
    char bad[400];
    snprintf(bad, sizeof bad, "%s/missing/x", dir);
    CHECK(ni_file_write_all(bad, "x", 1, &err) == NI_ERR_OUTPUT);
    CHECK(strncmp(err.msg, bad, strlen(bad)) == 0);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

/* Paths that exist and are not regular files are written through, never
 * replaced: /dev/null, a device node made with mknod (root only), a FIFO, a
 * listening socket; /dev/full fails on commit with an output error. */
TEST(file_paths_written_through)
{
    char dir[] = "/tmp/ni_test_thru_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    ni_error err = { 0 };
    ni_file f;
    struct stat st;
    /* /dev/null */
    CHECK(ni_file_open(&f, "/dev/null", &err) == NI_OK);
    CHECK_INT(f.kind, NI_FILE_THROUGH);
    CHECK(ni_file_write(&f, "x\n", 2, &err) == NI_OK);
    CHECK(ni_file_commit(&f, &err) == NI_OK);
    CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));
    /* /dev/full: the failure is an output failure naming the path */
    if (access("/dev/full", W_OK) == 0) {
        CHECK(ni_file_open(&f, "/dev/full", &err) == NI_OK);
        ni_file_write(&f, "x\n", 2, &err);
        CHECK(ni_file_commit(&f, &err) == NI_ERR_OUTPUT);
        CHECK(strstr(err.msg, "/dev/full") == err.msg);
        CHECK(stat("/dev/full", &st) == 0 && S_ISCHR(st.st_mode));
    }
    /* a character device made with mknod (the same device as /dev/null) */
    char node[300];
    snprintf(node, sizeof node, "%s/null", dir);
    if (geteuid() == 0 && mknod(node, S_IFCHR | 0666, makedev(1, 3)) == 0) {
        CHECK(ni_file_write_all(node, "x\n", 2, &err) == NI_OK);
        CHECK(stat(node, &st) == 0 && S_ISCHR(st.st_mode));
        /* and through a symlink to it */
        char l[320];
        snprintf(l, sizeof l, "%s/null-link", dir);
        CHECK(symlink(node, l) == 0);
        CHECK(ni_file_write_all(l, "x\n", 2, &err) == NI_OK);
        CHECK(stat(node, &st) == 0 && S_ISCHR(st.st_mode));
        CHECK(lstat(l, &st) == 0 && S_ISLNK(st.st_mode));
    } else {
        printf("test_out: skipped the mknod case (not root)\n");
    }
    /* a FIFO: a child reads what was written */
    char fifo[300], got[64];
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    CHECK(mkfifo(fifo, 0600) == 0);
    int pfd[2];
    CHECK(pipe(pfd) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        int fd = open(fifo, O_RDONLY);
        char b[64];
        ssize_t n, t = 0;
        while (fd >= 0 && (n = read(fd, b + t, sizeof b - 1 - (size_t)t)) > 0) t += n;
        if (write(pfd[1], b, (size_t)t) < 0) _exit(1);
        _exit(0);
    }
    close(pfd[1]);
    CHECK(ni_file_write_all(fifo, "through\n", 8, &err) == NI_OK);
    ssize_t n = read(pfd[0], got, sizeof got - 1);
    got[n > 0 ? n : 0] = 0;
    close(pfd[0]);
    waitpid(pid, NULL, 0);
    CHECK_STR(got, "through\n");
    CHECK(stat(fifo, &st) == 0 && S_ISFIFO(st.st_mode));
    /* a listening socket is connected to */
    char sock[300];
    snprintf(sock, sizeof sock, "%s/sock", dir);
    int ls = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, sock, strlen(sock) + 1);
    CHECK(ls >= 0 && bind(ls, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(ls, 1) == 0);
    CHECK(ni_file_open(&f, sock, &err) == NI_OK);
    CHECK_INT(f.kind, NI_FILE_THROUGH);
    int as = accept(ls, NULL, NULL);
    CHECK(ni_file_write(&f, "sock\n", 5, &err) == NI_OK);
    CHECK(ni_file_commit(&f, &err) == NI_OK);
    n = as >= 0 ? read(as, got, sizeof got - 1) : -1;
    got[n > 0 ? n : 0] = 0;
    CHECK_STR(got, "sock\n");
    if (as >= 0) close(as);
    close(ls);
    CHECK(stat(sock, &st) == 0 && S_ISSOCK(st.st_mode));
    /* a pipe whose reader went away: NI_ERR_PIPE, not an output error */
    CHECK(pipe(pfd) == 0);
    close(pfd[0]);
    void (*old)(int) = signal(SIGPIPE, SIG_IGN);
    char dev[64];
    snprintf(dev, sizeof dev, "/dev/fd/%d", pfd[1]);
    if (ni_file_open(&f, dev, &err) == NI_OK) {
        ni_file_write(&f, "x", 1, &err);
        CHECK(ni_file_commit(&f, &err) == NI_ERR_PIPE);
    }
    signal(SIGPIPE, old);
    close(pfd[1]);
    CHECK(no_temp_in(dir));
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

/* dns: one object per transaction, absent members omitted, after every
 * older field; CSV: its JSON text in one cell; stored sessions read it back
 * (written again, the line is the same). */
TEST(json_dns_transactions_round_trip)
{
    ni_session s = base();
    s.proto = 17; s.client_port = 40000; s.server_port = 53;
    s.end_reason = NI_END_NONE;      /* not read back by stored sessions */
    s.c2s_tcp_flags = s.s2c_tcp_flags = 0;
    ni_strlist a2 = { "192.0.2.1", NULL }, a1 = { "edge.example.net", &a2 }, t1 = { "v=spf1 -all", NULL };
    ni_dns_txn d3 = { "c.example", "TYPE65280", NULL, NULL, -1, 3, true, NULL };
    ni_dns_txn d2 = { "b.example", "TXT", "NXDOMAIN", &t1, 0, 2, true, &d3 };
    ni_dns_txn d1 = { "a.example", "A", "NOERROR", &a1, 300, 1, true, &d2 };
    s.dns = &d1; s.dns_tail = &d3; s.dns_count = 3; s.dns_dropped = 7;
    s.dns_query = "a.example";
    s.source = "zeek";
    ni_strlist n2 = { "192.0.2.5", NULL }, n1 = { "*.vpn.example", &n2 };
    s.cert_names = &n1;             /* the last field: certificate subjectAltName */
    ni_buf b; ni_buf_init(&b, 1 << 16);
    ni_out_session(&b, NI_OUT_JSONL, &s);
    const char *o = ni_buf_str(&b);
    const char *want = "\"source\":\"zeek\",\"dns\":[{\"query\":\"a.example\",\"qtype\":\"A\",\"rcode\":\"NOERROR\","
                       "\"answers\":[\"edge.example.net\",\"192.0.2.1\"],\"ttl\":300},"
                       "{\"query\":\"b.example\",\"qtype\":\"TXT\",\"rcode\":\"NXDOMAIN\",\"answers\":[\"v=spf1 -all\"],\"ttl\":0},"
                       "{\"query\":\"c.example\",\"qtype\":\"TYPE65280\"}],\"dns_dropped\":7,"
                       "\"cert_names\":[\"*.vpn.example\",\"192.0.2.5\"]}\n";
    CHECK(strstr(o, want) != NULL);
    if (!strstr(o, want)) fprintf(stderr, "  got %s\n", o);

    char path[] = "/tmp/ni-test-out-dns-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK(write(fd, o, strlen(o)) == (ssize_t)strlen(o));
        close(fd);
        ni_error err;
        ni_stored *st = ni_stored_open(path, &err);
        CHECK(st != NULL);
        ni_session r;
        if (st && ni_stored_next(st, &r, &err) == 1) {
            CHECK_INT(r.dns_count, 3);
            CHECK_INT(r.dns_dropped, 7);
            CHECK_STR(r.dns_tail ? r.dns_tail->query : NULL, "c.example");
            CHECK_STR(r.cert_names && r.cert_names->next ? r.cert_names->next->s : NULL, "192.0.2.5");
            CHECK(r.dns_tail && r.dns_tail->rcode == NULL && r.dns_tail->ttl == -1);
            ni_buf b2; ni_buf_init(&b2, 1 << 16);
            ni_out_session(&b2, NI_OUT_JSONL, &r);
            CHECK_STR(ni_buf_str(&b2), o);
            ni_buf_release(&b2);
        } else {
            CHECK(0);
        }
        ni_stored_close(st);
        unlink(path);
    }
    /* CSV: the dns cell holds the same JSON text */
    ni_buf_clear(&b);
    ni_out_session(&b, NI_OUT_CSV, &s);
    CHECK(strstr(ni_buf_str(&b), ",zeek,,\"[{\"\"query\"\":\"\"a.example\"\",\"\"qtype\"\":\"\"A\"\"") != NULL);
    CHECK(strstr(ni_buf_str(&b), "\"\"qtype\"\":\"\"TYPE65280\"\"}]\",7,") != NULL);   /* then dns_dropped */
    ni_buf_release(&b);
}

TEST(records_near_the_cap)
{
    /* the writers reserve the worst case per field and, when that does not
     * fit under the buffer's cap, append the field piece by piece: a record
     * is the same bytes whatever the cap, and fails only when it is longer */
    ni_session s = base();
    ni_http_req r1 = { "GET", "a.example", "/x\x01\xff", "Mozilla/5.0 (X11; Linux x86_64)", NULL, NULL, NULL, NULL, NULL };
    s.http = &r1; s.http_tail = &r1; s.http_count = 1;
    ni_strlist an2 = { "2001:db8::1", NULL }, an1 = { "a,\"b\"", &an2 };
    ni_dns_txn t = { "q.example", "AAAA", "NOERROR", &an1, 300, 0, true, NULL };
    s.dns = &t; s.dns_answers = &an1;
    ni_strlist alpn = { "h2", NULL };
    s.alpn = &alpn;
    s.sni = "s\u00e9.example\"quoted\"";
    s.tls_cipher = 0xc02f; s.tls_version = 0x0304;
    s.client_as_org = "Star, Joint Venture"; s.client_asn = 131279; s.server_asn = 4294967295u;
    s.c2s_bytes = UINT64_MAX; s.vlan = 7; s.quic = true;
    s.ua_kind = NI_UA_KIND_BROWSER; s.service_evidence = NI_EVIDENCE_SNI;
    for (int fmt = 0; fmt < 2; fmt++) {
        ni_out_format f = fmt ? NI_OUT_CSV : NI_OUT_JSONL;
        ni_buf big; ni_buf_init(&big, 1 << 20);
        ni_out_session(&big, f, &s);
        CHECK_INT(big.err, NI_OK);
        size_t len = big.len;
        unsigned wrong = 0;
        for (size_t cap = len - 64; cap <= len + 6 * 64; cap++) {
            ni_buf b; ni_buf_init(&b, cap);
            ni_out_session(&b, f, &s);
            if (cap < len ? b.err == NI_OK : (b.err != NI_OK || b.len != len || memcmp(b.p, big.p, len))) wrong++;
            ni_buf_release(&b);
        }
        CHECK_INT(wrong, 0);
        ni_buf_release(&big);
    }
}

TEST(csv_cells_every_length)
{
    /* the plain-cell check (16 / 8 / 4 bytes at a time, overlapping tails):
     * a comma, quote, CR, LF or non-ASCII byte at any position of a cell of
     * any length up to 40 is seen; times before year 0 get the formula quote */
    static const char specials[] = { 'x', ',', '"', '\r', '\n', '\xff' };
    unsigned wrong = 0;
    for (size_t n = 1; n <= 40; n++)
        for (size_t pos = 0; pos < n; pos++)
            for (size_t k = 0; k < sizeof specials; k++) {
                char v[48], want[128];
                for (size_t i = 0; i < n; i++) v[i] = (char)('a' + i % 26);
                v[pos] = specials[k];
                v[n] = 0;
                ni_session s = base();
                s.sni = v;
                ni_buf b; ni_buf_init(&b, 1 << 16);
                ni_out_session(&b, NI_OUT_CSV, &s);
                /* the row holds the cell as it should be, between commas */
                size_t w = 0;
                bool quote = strchr(",\"\r\n", specials[k]) != NULL;
                want[w++] = ',';
                if (quote) want[w++] = '"';
                if (v[0] == '\r') want[w++] = '\'';      /* the formula rule */
                for (size_t i = 0; i < n; i++) {
                    if (v[i] == '\xff') { memcpy(want + w, "\xEF\xBF\xBD", 3); w += 3; continue; }
                    want[w++] = v[i];
                    if (v[i] == '"') want[w++] = '"';
                }
                if (quote) want[w++] = '"';
                want[w++] = ',';
                want[w] = 0;
                if (!strstr(ni_buf_str(&b), want)) wrong++;
                ni_buf_release(&b);
            }
    CHECK_INT(wrong, 0);
    ni_session s = base();
    s.first_us = ni_days_from_civil(-1, 12, 31) * 86400000000LL + 1000000;
    ni_buf b; ni_buf_init(&b, 1 << 16);
    ni_out_session(&b, NI_OUT_CSV, &s);
    const char *csv = "'-001-12-31T00:00:01.000000Z,2023-11-14T22:13:21.500000Z,tcp,";
    CHECK(!strncmp(ni_buf_str(&b), csv, strlen(csv)));
    ni_buf_clear(&b);
    ni_out_session(&b, NI_OUT_JSONL, &s);
    const char *json = "{\"first\":\"-001-12-31T00:00:01.000000Z\",\"last\":\"2023-11-14T22:13:21.500000Z\",";
    CHECK(!strncmp(ni_buf_str(&b), json, strlen(json)));
    ni_buf_release(&b);
}

/* Bytes are handed to the system a chunk (NI_OUTPUT_CHUNK) at a time:
 * small writes wait in the buffer, ni_file_flush hands them over (a reader
 * of a pipe sees them before commit), a writer may format straight into
 * ni_file_buf and drop a failed record with ni_buf_truncate; an abort of
 * what is written through still delivers what was written. */
TEST(file_chunks_and_direct_buffer)
{
    char dir[] = "/tmp/ni_test_chunk_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/out.jsonl", dir);
    ni_error err = { 0 };
    ni_file f;
    struct stat st;
    CHECK(ni_file_open(&f, path, &err) == NI_OK);
    CHECK(ni_file_write(&f, "a\n", 2, &err) == NI_OK);
    ni_buf *b = ni_file_buf(&f);
    ni_buf_adds(b, "b\n");
    CHECK(ni_file_wrote(&f, &err) == NI_OK);
    size_t mark = b->len;
    ni_buf_adds(b, "dropped\n");                /* a record that failed half-way */
    ni_buf_truncate(b, mark);
    CHECK(ni_file_wrote(&f, &err) == NI_OK);
    CHECK(stat(f.tmp, &st) == 0 && st.st_size == 0);            /* still gathered */
    static char big[NI_OUTPUT_CHUNK + 3];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\n';
    CHECK(ni_file_write(&f, big, sizeof big, &err) == NI_OK);   /* a chunk or more: handed over */
    CHECK(stat(f.tmp, &st) == 0 && st.st_size == (off_t)(4 + sizeof big));
    for (int i = 0; i < 3; i++) {                               /* formatted straight in, past a chunk */
        b = ni_file_buf(&f);
        CHECK(ni_buf_reserve(b, NI_OUTPUT_CHUNK / 2) == NI_OK);
        memset(b->p + b->len, 'a' + i, NI_OUTPUT_CHUNK / 2 - 1);
        b->p[b->len + NI_OUTPUT_CHUNK / 2 - 1] = '\n';
        ni_buf_commit(b, b->p + b->len + NI_OUTPUT_CHUNK / 2);
        CHECK(ni_file_wrote(&f, &err) == NI_OK);
    }
    CHECK(ni_file_write(&f, "c\n", 2, &err) == NI_OK);
    CHECK(ni_file_flush(&f, &err) == NI_OK);
    size_t total = 4 + sizeof big + 3 * (NI_OUTPUT_CHUNK / 2) + 2;
    CHECK(stat(f.tmp, &st) == 0 && st.st_size == (off_t)total);
    CHECK(access(path, F_OK) != 0);                             /* flushed, not yet in place */
    CHECK(ni_file_commit(&f, &err) == NI_OK);
    char *got = malloc(total + 1);
    FILE *fp = fopen(path, "rb");
    size_t n = fp && got ? fread(got, 1, total + 1, fp) : 0;
    if (fp) fclose(fp);
    CHECK_INT(n, total);
    if (got && n == total) {
        CHECK(!memcmp(got, "a\nb\n", 4) && !memcmp(got + 4, big, sizeof big));
        size_t o = 4 + sizeof big;
        for (int i = 0; i < 3; i++, o += NI_OUTPUT_CHUNK / 2)
            CHECK(got[o] == 'a' + i && got[o + NI_OUTPUT_CHUNK / 2 - 2] == 'a' + i && got[o + NI_OUTPUT_CHUNK / 2 - 1] == '\n');
        CHECK(!memcmp(got + o, "c\n", 2));
    }
    free(got);
    unlink(path);
    /* a pipe: ni_file_flush delivers before commit; an abort delivers the rest */
    int pfd[2];
    CHECK(pipe(pfd) == 0);
    char dev[64], rd[64];
    snprintf(dev, sizeof dev, "/dev/fd/%d", pfd[1]);
    CHECK(ni_file_open(&f, dev, &err) == NI_OK);
    CHECK_INT(f.kind, NI_FILE_THROUGH);
    CHECK(ni_file_write(&f, "live\n", 5, &err) == NI_OK);
    CHECK(ni_file_flush(&f, &err) == NI_OK);
    ssize_t r = read(pfd[0], rd, sizeof rd - 1);
    rd[r > 0 ? r : 0] = 0;
    CHECK_STR(rd, "live\n");
    CHECK(ni_file_write(&f, "rest\n", 5, &err) == NI_OK);
    ni_file_abort(&f);
    r = read(pfd[0], rd, sizeof rd - 1);
    rd[r > 0 ? r : 0] = 0;
    CHECK_STR(rd, "rest\n");
    close(pfd[0]);
    close(pfd[1]);
    rmdir(dir);
}

/* The API's session writer: a record longer than NI_SESSION_RECORD_MAX is
 * an error and leaves nothing behind; the records around it are written
 * whole, in order (formatted straight into the output's buffer). */
TEST(sink_record_too_large)
{
    char dir[] = "/tmp/ni_test_sink_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/s.jsonl", dir);
    ni_error err = { 0 };
    size_t huge = NI_SESSION_RECORD_MAX + 16;
    char *ua = malloc(huge + 1);
    CHECK(ua != NULL);
    if (!ua) return;
    memset(ua, 'u', huge);
    ua[huge] = 0;
    for (int fmt = 0; fmt < 2; fmt++) {
        ni_output *o = ni_output_open(path, &err);
        ni_sink *k = o ? ni_sink_new(o, fmt ? NI_FORMAT_CSV : NI_FORMAT_JSONL, &err) : NULL;
        CHECK(k != NULL);
        if (!k) { ni_output_abort(o); continue; }
        ni_session s = base(), t = base();
        ni_http_req r = { "GET", "h", "/", ua, NULL, NULL, NULL, NULL, NULL };
        t.http = &r;
        ni_buf one; ni_buf_init(&one, 1 << 16);
        if (fmt) ni_out_begin(&one, NI_OUT_CSV);
        ni_out_session(&one, fmt ? NI_OUT_CSV : NI_OUT_JSONL, &s);
        ni_out_session(&one, fmt ? NI_OUT_CSV : NI_OUT_JSONL, &s);
        unsigned many = 3 * NI_OUTPUT_CHUNK / 300;          /* past a chunk on either side */
        for (unsigned i = 0; i < many; i++) CHECK(ni_sink_session(k, &s, &err) == NI_OK);
        CHECK(ni_sink_session(k, &t, &err) == NI_ERR_OUTPUT);
        CHECK(strstr(err.msg, "too large") != NULL);
        for (unsigned i = 0; i < many; i++) CHECK(ni_sink_session(k, &s, &err) == NI_OK);
        CHECK(ni_sink_end(k, &err) == NI_OK);
        ni_sink_free(k);
        CHECK(ni_output_commit(o, &err) == NI_OK);
        /* the file: the header (CSV), then 2 * many copies of the same record */
        size_t hl = 0;
        if (fmt) { ni_buf h; ni_buf_init(&h, 1 << 16); ni_out_begin(&h, NI_OUT_CSV); hl = h.len; ni_buf_release(&h); }
        size_t rl = (one.len - hl) / 2, want = hl + 2 * many * rl;
        struct stat st;
        CHECK(stat(path, &st) == 0 && st.st_size == (off_t)want);
        FILE *fp = fopen(path, "rb");
        char *got = malloc(want + 1);
        size_t n = fp && got ? fread(got, 1, want + 1, fp) : 0;
        if (fp) fclose(fp);
        CHECK_INT(n, want);
        unsigned bad = 0;
        for (size_t i = 0; got && n == want && i < 2 * many; i++) bad += memcmp(got + hl + i * rl, one.p + hl, rl) != 0;
        CHECK(got && n == want && !memcmp(got, one.p, hl));
        CHECK_INT(bad, 0);
        free(got);
        ni_buf_release(&one);
    }
    free(ua);
    unlink(path);
    rmdir(dir);
}

/* CSV: an array or object is its JSON text in one cell, quoted in place
 * (quotes doubled); one longer than 1 MiB leaves the cell empty. */
TEST(csv_json_cells_large)
{
    size_t len = 600 * 1024;
    char *a = malloc(len + 1);
    CHECK(a != NULL);
    if (!a) return;
    for (size_t i = 0; i < len; i++) a[i] = i % 100 == 7 ? '"' : (char)('a' + i % 26);
    a[len] = 0;
    ni_strlist l2 = { a, NULL }, l1 = { a, &l2 };
    for (int two = 0; two < 2; two++) {
        ni_session s = base();
        s.alpn = two ? &l1 : &l2;
        ni_buf j; ni_buf_init(&j, 16u << 20);
        ni_out_session(&j, NI_OUT_JSONL, &s);
        json_t *o = json_loads(ni_buf_str(&j), 0, NULL);
        char *text = o ? json_dumps(json_object_get(o, "alpn"), JSON_COMPACT) : NULL;
        CHECK(text != NULL);
        ni_buf c; ni_buf_init(&c, 16u << 20);
        ni_out_session(&c, NI_OUT_CSV, &s);
        /* the cell after the user_agent column's: ",," then the alpn cell */
        ni_buf want; ni_buf_init(&want, 16u << 20);
        if (!two && text) {
            ni_buf_addc(&want, '"');
            for (const char *p = text; *p; p++) { if (*p == '"') ni_buf_addc(&want, '"'); ni_buf_addc(&want, *p); }
            ni_buf_addc(&want, '"');
            CHECK(strstr(ni_buf_str(&c), ni_buf_str(&want)) != NULL);
        } else {
            CHECK(strchr(ni_buf_str(&c), '"') == NULL);     /* the cell left empty: no quote anywhere */
        }
        CHECK_INT(c.err, NI_OK);
        free(text);
        json_decref(o);
        ni_buf_release(&want);
        ni_buf_release(&c);
        ni_buf_release(&j);
    }
    free(a);
}

RUN(T(json_record_matches_field_walk), T(csv_cells_every_length), T(records_near_the_cap), T(json_dns_transactions_round_trip), T(json_minimal_omits_absent), T(json_full_field_order), T(json_dns_udp_and_other_protocols),
    T(csv_header_quoting_and_columns), T(flag_and_reason_names), T(atomic_file_commit_and_abort), T(atomic_file_past_writeback_step),
    T(csv_has_every_jsonl_field), T(csv_hostile_cells), T(file_paths_regular_and_links), T(file_paths_written_through),
    T(file_chunks_and_direct_buffer), T(sink_record_too_large), T(csv_json_cells_large))
