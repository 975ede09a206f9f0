/* test_zeek.c — the Zeek log reader (lib/ingest/ni_zeek): header-driven TSV
 * (separators, escapes, unset/empty markers), JSON lines, the uid join with
 * http/ssl/dns/quic/x509/software, sessions from protocol rows alone,
 * rotation order, gzip, and bad input counted with a "file:line" message. */
#include "ni_test.h"
#include "ingest/ni_zeek.h"
#include "core/ni_arena.h"
#include "core/ni_time.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static char dir[64];

static void mkdir_tmp(void)
{
    snprintf(dir, sizeof dir, "/tmp/ni-test-zeek-XXXXXX");
    if (!mkdtemp(dir)) { perror("mkdtemp"); exit(1); }
}

static void rm_tmp(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) {}
}

static void put(const char *name, const char *text)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    size_t n = strlen(text);
    if (strlen(name) > 3 && !strcmp(name + strlen(name) - 3, ".gz")) {
        gzFile g = gzopen(p, "wb");
        gzwrite(g, text, (unsigned)n);
        gzclose(g);
        return;
    }
    FILE *f = fopen(p, "wb");
    fwrite(text, 1, n, f);
    fclose(f);
}

static const char *path(const char *name)
{
    static char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

#define HDR(sep, set, empty, unset, pathname) \
    "#separator " sep "\n#set_separator" SEPC set "\n#empty_field" SEPC empty "\n#unset_field" SEPC unset \
    "\n#path" SEPC pathname "\n"

/* Reads every session of path into a small table (copies of what we check). */
typedef struct got {
    char client[NI_ADDR_STRLEN], server[NI_ADDR_STRLEN];
    unsigned cport, sport, proto;
    int64_t first, last;
    uint64_t c2s_p, c2s_b, s2c_p, s2c_b;
    unsigned c2s_f, s2c_f;
    char host0[64], path0[64], ua[128], sni[64], query[64], subject[64], answers[128], source[8];
    char dns[256];          /* "query|qtype|rcode|answer,answer|ttl;" per transaction, "-" = absent */
    unsigned nhttp, tlsv;
    bool quic;
} got;

static int read_all(const char *p, got *g, int max, int *rc_end, char *errmsg, ni_zeek_stats *stats)
{
    ni_error err = {0};
    ni_zeek *z = ni_zeek_open(p, &err);
    if (!z) { if (errmsg) snprintf(errmsg, NI_ERRMSG_MAX, "%s", err.msg); *rc_end = -2; return 0; }
    ni_session s;
    int n = 0, r;
    while ((r = ni_zeek_next(z, &s, &err)) > 0) {
        if (n < max) {
            got *x = &g[n];
            memset(x, 0, sizeof *x);
            ni_addr_format(&s.client, x->client);
            ni_addr_format(&s.server, x->server);
            x->cport = s.client_port; x->sport = s.server_port; x->proto = s.proto;
            x->first = s.first_us; x->last = s.last_us;
            x->c2s_p = s.c2s_packets; x->c2s_b = s.c2s_bytes; x->s2c_p = s.s2c_packets; x->s2c_b = s.s2c_bytes;
            x->c2s_f = s.c2s_tcp_flags; x->s2c_f = s.s2c_tcp_flags;
            x->nhttp = s.http_count;
            if (s.http) {
                snprintf(x->host0, sizeof x->host0, "%s", s.http->host ? s.http->host : "");
                snprintf(x->path0, sizeof x->path0, "%s", s.http->path ? s.http->path : "");
            }
            const char *ua = ni_session_user_agent(&s);
            snprintf(x->ua, sizeof x->ua, "%s", ua ? ua : "");
            snprintf(x->sni, sizeof x->sni, "%s", s.sni ? s.sni : "");
            snprintf(x->query, sizeof x->query, "%s", s.dns_query ? s.dns_query : "");
            snprintf(x->subject, sizeof x->subject, "%s", s.tls_cert_subject ? s.tls_cert_subject : "");
            snprintf(x->source, sizeof x->source, "%s", s.source ? s.source : "");
            for (const ni_strlist *l = s.dns_answers; l; l = l->next) {
                strncat(x->answers, l->s, sizeof x->answers - strlen(x->answers) - 2);
                strcat(x->answers, ";");
            }
            for (const ni_dns_txn *t = s.dns; t; t = t->next) {
                char one[160], ans[96] = "", ttl[24] = "-";
                for (const ni_strlist *l = t->answers; l; l = l->next)
                    snprintf(ans + strlen(ans), sizeof ans - strlen(ans), "%s%s", ans[0] ? "," : "", l->s);
                if (t->ttl >= 0) snprintf(ttl, sizeof ttl, "%lld", (long long)t->ttl);
                snprintf(one, sizeof one, "%s|%s|%s|%s|%s;", t->query ? t->query : "-", t->qtype ? t->qtype : "-",
                         t->rcode ? t->rcode : "-", ans, ttl);
                strncat(x->dns, one, sizeof x->dns - strlen(x->dns) - 1);
            }
            x->tlsv = s.tls_version;
            x->quic = s.quic;
            /* the per-session arena is usable by enrichment */
            CHECK(s.arena && ni_arena_strdup(s.arena, "x") != NULL);
        }
        n++;
    }
    *rc_end = r;
    if (errmsg) snprintf(errmsg, NI_ERRMSG_MAX, "%s", r < 0 ? err.msg : "");
    if (stats) *stats = *ni_zeek_stats_get(z);
    ni_zeek_close(z);
    return n;
}

#define SEPC "\t"
static const char conn_tsv[] =
    HDR("\\x09", ",", "(empty)", "-", "conn")
    "#open\t2024-01-01-00-00-00\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tstring\tcount\tcount\tcount\tcount\tset[string]\n"
    "1704067200.000001\tC1\t10.0.0.1\t50000\t93.184.216.34\t80\ttcp\thttp\t1.5\t100\t200\tSF\tShADadFf\t5\t400\t4\t900\t(empty)\n"
    "1704067201.5\tC2\t10.0.0.1\t50001\t93.184.216.34\t443\ttcp\tssl\t-\t-\t-\tS0\tS\t1\t60\t0\t0\t-\n"
    "1704067202.000000\tC3\tfe80::1\t128\tfe80::2\t0\ticmp\t-\t0.25\t-\t-\tOTH\t-\t2\t208\t2\t208\t-\n"
    "1704067203.000000\tC4\t10.0.0.1\t50002\t8.8.8.8\t53\tudp\tdns\t0.01\t-\t-\tSF\tDd\t1\t60\t1\t100\t-\n"
    "#close\t2024-01-01-01-00-00\n";
static const char http_tsv[] =
    HDR("\\x09", ",", "(empty)", "-", "http")
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\ttrans_depth\tmethod\thost\turi\tuser_agent\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tcount\tstring\tstring\tstring\tstring\n"
    "1704067200.2\tC1\t10.0.0.1\t50000\t93.184.216.34\t80\t2\tGET\tExample.COM:8080\t/second\tcurl/8.0\n"
    "1704067200.1\tC1\t10.0.0.1\t50000\t93.184.216.34\t80\t1\tGET\tExample.COM:8080\t/first\\x09tab\tcurl/8.0\n";
static const char ssl_tsv[] =
    HDR("\\x09", ",", "(empty)", "-", "ssl")
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tversion\tserver_name\tcert_chain_fuids\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tstring\tstring\tvector[string]\n"
    "1704067201.6\tC2\t10.0.0.1\t50001\t93.184.216.34\t443\tTLSv12\twww.example.com\tFa,Fb\n";
static const char x509_tsv[] =
    HDR("\\x09", ",", "(empty)", "-", "x509")
    "#fields\tts\tid\tcertificate.subject\tcertificate.issuer\n"
    "#types\ttime\tstring\tstring\tstring\n"
    "1704067201.7\tFb\tCN=CA\tCN=Root\n"
    "1704067201.7\tFa\tCN=www.example.com\\x2cO=Example\tCN=CA\n";
static const char dns_tsv[] =
    HDR("\\x09", ",", "(empty)", "-", "dns")
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tqtype_name\tanswers\trcode_name\tTTLs\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tstring\tvector[string]\tstring\tvector[interval]\n"
    "1704067203.0\tC4\t10.0.0.1\t50002\t8.8.8.8\t53\tudp\texample.com\tA\twww.example.com,93.184.216.34,TXT 3 abc\tNOERROR\t60.000000,30.5,10.000000\n"
    "1704067209.0\tC9\t10.0.0.9\t40000\t8.8.4.4\t53\tudp\tlonely.example\tquery-65280\t(empty)\t-\t-\n"
    "1704067210.0\tC9\t10.0.0.9\t40000\t8.8.4.4\t53\tudp\tsecond.example\t*\tptr.example\trcode-12\t3600.000000\n"
    /* a value that is literally the unset or empty marker is written escaped */
    "1704067211.0\tC10\t10.0.0.10\t40001\t8.8.4.4\t53\tudp\t\\x2d\tA\t\\x28empty)\tNOERROR\t(empty)\n";
#undef SEPC

TEST(tsv_join)
{
    mkdir_tmp();
    put("conn.log", conn_tsv);
    put("http.log", http_tsv);
    put("ssl.log", ssl_tsv);
    put("x509.log", x509_tsv);
    put("dns.log", dns_tsv);
    put("notes.txt", "not a log\n");
    got g[8];
    int rc;
    char msg[NI_ERRMSG_MAX];
    ni_zeek_stats st;
    int n = read_all(dir, g, 8, &rc, msg, &st);
    CHECK_INT(n, 6);
    CHECK_INT(rc, 0);
    CHECK_STR(msg, "");
    /* conn row 1 + two http rows, sorted by trans_depth, Host cleaned */
    CHECK_STR(g[0].client, "10.0.0.1"); CHECK_INT(g[0].cport, 50000);
    CHECK_STR(g[0].server, "93.184.216.34"); CHECK_INT(g[0].sport, 80); CHECK_INT(g[0].proto, 6);
    CHECK_INT(g[0].first, 1704067200000001ll); CHECK_INT(g[0].last, 1704067201500001ll);
    CHECK_INT(g[0].c2s_p, 5); CHECK_INT(g[0].c2s_b, 400); CHECK_INT(g[0].s2c_p, 4); CHECK_INT(g[0].s2c_b, 900);
    CHECK_INT(g[0].c2s_f, 1 | 2 | 16); CHECK_INT(g[0].s2c_f, 1 | 2 | 16);    /* S A D F / h a d f */
    CHECK_INT(g[0].nhttp, 2);
    CHECK_STR(g[0].host0, "example.com");
    CHECK_STR(g[0].path0, "/first\ttab");
    CHECK_STR(g[0].ua, "curl/8.0");
    CHECK_STR(g[0].source, "zeek");
    /* ssl + x509 through cert_chain_fuids: the first is the server's */
    CHECK_STR(g[1].sni, "www.example.com");
    CHECK_INT(g[1].tlsv, 0x0303);
    CHECK_STR(g[1].subject, "CN=www.example.com,O=Example");
    CHECK_INT(g[1].first, 1704067201500000ll); CHECK_INT(g[1].last, g[1].first);  /* duration unset */
    CHECK_INT(g[1].c2s_f, 2); CHECK_INT(g[1].s2c_f, 0);
    /* ICMP over IPv6: protocol 58, no ports */
    CHECK_INT(g[2].proto, 58); CHECK_INT(g[2].cport, 0); CHECK_INT(g[2].sport, 0);
    CHECK_INT(g[2].last - g[2].first, 250000);
    /* dns: query, A/AAAA and CNAME answers only */
    CHECK_STR(g[3].query, "example.com");
    CHECK_STR(g[3].answers, "www.example.com;93.184.216.34;");
    /* dns: one transaction per row; TXT without Zeek's prefix; ttl the smallest */
    CHECK_STR(g[3].dns, "example.com|A|NOERROR|www.example.com,93.184.216.34,abc|10;");
    CHECK_STR(g[4].dns, "lonely.example|TYPE65280|-||-;second.example|ANY|RCODE12|ptr.example|3600;");
    CHECK_STR(g[5].dns, "-|A|NOERROR|(empty)|-;");
    /* a dns uid without a conn row: a session from the id fields, no counters */
    CHECK_STR(g[4].client, "10.0.0.9"); CHECK_STR(g[4].server, "8.8.4.4"); CHECK_INT(g[4].proto, 17);
    CHECK_STR(g[4].query, "lonely.example");
    CHECK_STR(g[4].answers, "");
    CHECK_INT(g[4].first, 1704067209000000ll); CHECK_INT(g[4].last, 1704067210000000ll);
    CHECK_INT(g[4].c2s_p + g[4].s2c_p + g[4].c2s_b + g[4].s2c_b, 0);
    CHECK_STR(g[5].query, "-");
    CHECK_STR(g[5].answers, "(empty);");
    CHECK_INT(st.orphans, 2);
    CHECK_INT(st.joined, 4);      /* 2 http + 1 ssl + 1 dns (C4); the C9 rows are not joined */
    CHECK_INT(st.ignored_files, 1);
    CHECK_INT(st.files, 5);
    CHECK_INT(st.problems, 0);
    rm_tmp();
}

/* Another separator, set separator and markers, declared by the header. */
TEST(tsv_custom_header)
{
    mkdir_tmp();
#define SEPC "|"
    put("dns.log", HDR("\\x7c", ";", "EMPTY", "NONE", "dns")
        "#fields|ts|uid|id.orig_h|id.orig_p|id.resp_h|id.resp_p|proto|query|qtype_name|answers\n"
        "#types|time|string|addr|port|addr|port|enum|string|string|vector[string]\n"
        "1.000000|D1|10.1.1.1|5353|10.1.1.2|53|udp|a\\x7cb.example|A|1.2.3.4;a\\x3bb.example\n"
        "2.000000|D2|10.1.1.1|5354|10.1.1.2|53|NONE|EMPTY|A|EMPTY\n");
#undef SEPC
    got g[4];
    int rc;
    int n = read_all(path("dns.log"), g, 4, &rc, NULL, NULL);
    CHECK_INT(n, 2);
    CHECK_INT(rc, 0);
    CHECK_STR(g[0].query, "a|b.example");
    CHECK_STR(g[0].answers, "1.2.3.4;a;b.example;");
    CHECK_INT(g[0].first, 1000000);
    CHECK_INT(g[1].proto, 17);           /* proto unset: DNS is taken to be UDP */
    CHECK_STR(g[1].query, "");           /* (empty) query: absent */
    rm_tmp();
}

/* Zeek's JSON writer: flat dotted keys or nested records, ISO 8601 or epoch times. */
TEST(json_lines)
{
    mkdir_tmp();
    put("conn.log.gz",
        "{\"ts\":1704067200.25,\"uid\":\"J1\",\"id.orig_h\":\"192.0.2.1\",\"id.orig_p\":1234,"
        "\"id.resp_h\":\"198.51.100.7\",\"id.resp_p\":443,\"proto\":\"udp\",\"duration\":2.5,"
        "\"orig_pkts\":3,\"orig_ip_bytes\":3000,\"resp_pkts\":2,\"resp_ip_bytes\":2000}\n"
        "\n"
        "{\"ts\":\"2024-01-01T00:00:05.000000Z\",\"uid\":\"J2\",\"id\":{\"orig_h\":\"192.0.2.1\",\"orig_p\":1235,"
        "\"resp_h\":\"198.51.100.8\",\"resp_p\":80},\"proto\":\"tcp\"}\n");
    put("quic.log", "{\"ts\":1704067200.3,\"uid\":\"J1\",\"id.orig_h\":\"192.0.2.1\",\"id.orig_p\":1234,"
        "\"id.resp_h\":\"198.51.100.7\",\"id.resp_p\":443,\"version\":\"1\",\"server_name\":\"q.example\"}\n");
    put("ssl.log", "{\"ts\":1704067200.3,\"uid\":\"J1\",\"id.orig_h\":\"192.0.2.1\",\"id.orig_p\":1234,"
        "\"id.resp_h\":\"198.51.100.7\",\"id.resp_p\":443,\"version\":\"TLSv13\",\"ja4\":\"q13d0310h3_55b375c5d22e_cd85d2d88918\"}\n");
    put("software.log", "{\"ts\":1704067200.3,\"host\":\"192.0.2.1\",\"software_type\":\"HTTP::BROWSER\","
        "\"unparsed_version\":\"Mozilla/5.0 Test\"}\n");
    put("http.log", "{\"ts\":1704067205.1,\"uid\":\"J2\",\"id.orig_h\":\"192.0.2.1\",\"id.orig_p\":1235,"
        "\"id.resp_h\":\"198.51.100.8\",\"id.resp_p\":80,\"trans_depth\":1,\"method\":\"GET\",\"host\":\"h.example\",\"uri\":\"/\"}\n");
    CHECK(ni_zeek_probe(dir));
    CHECK(ni_zeek_probe(path("conn.log.gz")));
    got g[4];
    int rc;
    int n = read_all(dir, g, 4, &rc, NULL, NULL);
    CHECK_INT(n, 2);
    CHECK_INT(rc, 0);
    CHECK_INT(g[0].proto, 17);
    CHECK_INT(g[0].first, 1704067200250000ll); CHECK_INT(g[0].last, 1704067202750000ll);
    CHECK_INT(g[0].c2s_b, 3000); CHECK_INT(g[0].s2c_p, 2);
    CHECK(g[0].quic);
    CHECK_STR(g[0].sni, "q.example");      /* from quic.log: ssl.log has no server_name here */
    CHECK_INT(g[0].tlsv, 0x0304);
    CHECK_STR(g[0].ua, "");                 /* software.log UAs only fill HTTP sessions without one */
    CHECK_STR(g[1].server, "198.51.100.8"); CHECK_INT(g[1].sport, 80);
    CHECK_INT(g[1].first, 1704067205000000ll);
    CHECK_STR(g[1].host0, "h.example");
    CHECK_STR(g[1].ua, "Mozilla/5.0 Test");
    rm_tmp();
}

/* Rotated names: groups in time order, the current logs last. */
TEST(rotation_order)
{
    mkdir_tmp();
#define SEPC "\t"
#define CONN(ts, port) HDR("\\x09", ",", "(empty)", "-", "conn") \
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n" \
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\n" ts "\tU\t10.0.0.1\t" port "\t10.0.0.2\t80\ttcp\n"
    put("conn.log", CONN("30", "3"));
    put("conn.2024-01-02-00-00-00.log.gz", CONN("20", "2"));
    put("conn.2024-01-01-00-00-00.log.gz", CONN("10", "1"));
    /* the same uid in another interval is another connection */
    put("http.2024-01-01-00-00-00.log", HDR("\\x09", ",", "(empty)", "-", "http")
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\ttrans_depth\thost\n"
        "#types\ttime\tstring\taddr\tport\taddr\tport\tcount\tstring\n"
        "10\tU\t10.0.0.1\t1\t10.0.0.2\t80\t1\tday-one.example\n");
    /* Zeek logs a certificate once, when first seen: an earlier interval's
     * x509.log still names the certificate of a later ssl.log row */
    put("x509.2024-01-01-00-00-00.log", HDR("\\x09", ",", "(empty)", "-", "x509")
        "#fields\tts\tfingerprint\tcertificate.subject\tcertificate.issuer\n"
        "#types\ttime\tstring\tstring\tstring\n"
        "10\tf1\tCN=kept.example\tCN=CA\n");
    put("ssl.log", HDR("\\x09", ",", "(empty)", "-", "ssl")
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tserver_name\tcert_chain_fps\n"
        "#types\ttime\tstring\taddr\tport\taddr\tport\tstring\tvector[string]\n"
        "30\tU\t10.0.0.1\t3\t10.0.0.2\t80\tkept.example\tf1,f2\n");
#undef CONN
#undef SEPC
    got g[4];
    int rc;
    int n = read_all(dir, g, 4, &rc, NULL, NULL);
    CHECK_INT(n, 3);
    CHECK_INT(g[0].cport, 1); CHECK_INT(g[1].cport, 2); CHECK_INT(g[2].cport, 3);
    CHECK_STR(g[0].host0, "day-one.example");
    CHECK_STR(g[1].host0, ""); CHECK_STR(g[2].host0, "");
    CHECK_STR(g[0].subject, ""); CHECK_STR(g[1].subject, "");
    CHECK_STR(g[2].sni, "kept.example"); CHECK_STR(g[2].subject, "CN=kept.example");
    rm_tmp();
}

/* Bad input: counted, the first problem named with file and line, reported
 * once after every good session; nothing else stops the reader. */
TEST(bad_input)
{
    static const struct { const char *name, *text, *msg; int sessions; } cases[] = {
        { "fields.log", "#separator \\x09\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n"
          "1\tA\t10.0.0.1\t1\t10.0.0.2\t2\ttcp\n1\tB\t10.0.0.1\n1\tC\t10.0.0.1\t1\t10.0.0.2\t2\ttcp\textra\n"
          "1\tD\t10.0.0.1\t1\t10.0.0.2\t2\ttcp\n", "fields.log:5: 3 fields, the header has 7 (2 problems in all)", 2 },
        { "types.log", "#separator \\x09\n#path\tconn\n#fields\tts\tuid\n#types\ttime\n1\tA\n", "types.log:4: #types has 1 columns, #fields 2", 0 },
        { "early.log", "#separator \\x09\n#path\tconn\n1\tA\n", "early.log:3: a row before the #fields header", 0 },
        { "sep.log", "#separator \n#path\tconn\n", "sep.log:1: bad #separator", 0 },
        { "addr.log", "#separator \\x09\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.resp_h\n1\tA\tnot-an-address\t10.0.0.2\n"
          "x\tB\t10.0.0.1\t10.0.0.2\n", "addr.log:4: a connection needs id.orig_h and id.resp_h addresses", 1 },
        { "json.log", "{\"ts\":1,\"uid\":\"A\",\"id.orig_h\":\"10.0.0.1\",\"id.resp_h\":\"10.0.0.2\",\"_path\":\"conn\"}\n[1,2]\n{\"ts\":\n",
          "json.log:2: not a JSON object (another JSON value) (2 problems in all)", 1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mkdir_tmp();
        put(cases[i].name, cases[i].text);
        got g[4];
        int rc;
        char msg[NI_ERRMSG_MAX];
        int n = read_all(path(cases[i].name), g, 4, &rc, msg, NULL);
        CHECK_INT(n, cases[i].sessions);
        CHECK_INT(rc, -1);
        const char *m = strstr(msg, cases[i].name);
        CHECK_STR(m, cases[i].msg);
        rm_tmp();
    }
    /* a masked time stamp is a bad value: counted, the session kept, no error */
    mkdir_tmp();
    put("conn.log", "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.resp_h\tproto\tduration\n"
        "XXXXXXXXXX.XXXXXX\tA\t10.0.0.1\t10.0.0.2\tudp\t0.5\n");
    got g[2];
    int rc;
    ni_zeek_stats st;
    CHECK_INT(read_all(dir, g, 2, &rc, NULL, &st), 1);
    CHECK_INT(rc, 0);
    CHECK_INT(st.bad_values, 1);
    CHECK_INT(g[0].last - g[0].first, 500000);
    /* times past the year 9999 (RFC 3339's four digits) are bad values too */
    put("conn.log", "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.resp_h\tproto\tduration\n"
        "253402300800.0\tA\t10.0.0.1\t10.0.0.2\tudp\t0.5\n"
        "253402300799.0\tB\t10.0.0.1\t10.0.0.2\tudp\t2.5\n");
    CHECK_INT(read_all(dir, g, 2, &rc, NULL, &st), 2);
    CHECK_INT(st.bad_values, 1);
    CHECK_INT(g[0].first, 0); CHECK_INT(g[0].last, 500000);
    CHECK_INT(g[1].first, 253402300799000000ll); CHECK_INT(g[1].last, g[1].first);
    /* an over-long line is skipped with bounded memory */
    size_t big = 300u * 1024;
    char *t = malloc(big + 512);
    int k = snprintf(t, 512, "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.resp_h\tproto\n");
    memset(t + k, 'x', big);
    snprintf(t + k + big, 512, "\n1\tB\t10.0.0.1\t10.0.0.2\ttcp\n");
    put("conn.log", t);
    free(t);
    char msg[NI_ERRMSG_MAX];
    CHECK_INT(read_all(dir, g, 2, &rc, msg, &st), 1);
    CHECK_INT(rc, -1);
    CHECK_INT(st.long_lines, 1);
    CHECK(strstr(msg, "conn.log:3: line longer than") != NULL);
    rm_tmp();
}

TEST(probe_and_open_errors)
{
    mkdir_tmp();
    put("sessions.jsonl", "{\"first\":\"2024-01-01T00:00:00.000000Z\",\"client\":\"10.0.0.1\",\"ts\":1}\n");
    put("weird.log", "#separator \\x09\n#path\tweird\n#fields\tts\tname\n1\tx\n");
    put("cap.pcap", "\xd4\xc3\xb2\xa1\x02\x00\x04\x00");
    CHECK(!ni_zeek_probe(path("sessions.jsonl")));
    CHECK(!ni_zeek_probe(path("cap.pcap")));
    CHECK(!ni_zeek_probe(path("weird.log")));   /* a Zeek log, but not one sessions come from */
    CHECK(!ni_zeek_probe(dir));
    CHECK(!ni_zeek_probe(path("missing")));
    CHECK(!ni_zeek_probe("-"));
    ni_error err = {0};
    CHECK(ni_zeek_open(dir, &err) == NULL);
    CHECK(strstr(err.msg, "no Zeek conn") != NULL && strstr(err.msg, dir) != NULL);
    CHECK(ni_zeek_open(path("missing"), &err) == NULL);
    CHECK(strstr(err.msg, "missing: No such file") != NULL);
    put("ssl.log", "#separator \\x09\n#path\tssl\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tserver_name\n"
        "1\tA\t10.0.0.1\t1\t10.0.0.2\t443\ts.example\n");
    CHECK(ni_zeek_probe(dir));
    CHECK(ni_zeek_probe(path("ssl.log")));
    /* progress: bytes of the Zeek logs (not of the other files), all read at the end */
    struct stat sb;
    CHECK(stat(path("ssl.log"), &sb) == 0);
    ni_zeek *z = ni_zeek_open(dir, &err);
    CHECK(z != NULL);
    if (z) {
        uint64_t done, total;
        ni_zeek_progress(z, &done, &total);
        CHECK_INT(done, 0);
        CHECK_INT(total, sb.st_size);
        ni_session s;
        int n = 0;
        while (ni_zeek_next(z, &s, &err) > 0) n++;
        CHECK_INT(n, 1);
        ni_zeek_progress(z, &done, &total);
        CHECK_INT(done, sb.st_size);
        CHECK_INT(total, sb.st_size);
        ni_zeek_close(z);
    }
    rm_tmp();
}

/* The join's bounds: rows beyond are dropped, counted, and reported once;
 * the sessions are still all there. */
TEST(join_bounds)
{
    mkdir_tmp();
    put("http.log", "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\ttrans_depth\thost\n"
        "1\tA\t10.0.0.1\t1\t10.0.0.2\t80\t1\ta.example\n"
        "2\tB\t10.0.0.1\t2\t10.0.0.2\t80\t1\tb.example\n"
        "3\tC\t10.0.0.1\t3\t10.0.0.2\t80\t1\tc.example\n"
        "4\tA\t10.0.0.1\t1\t10.0.0.2\t80\t2\ta2.example\n");
    static const struct { size_t uids, bytes; int sessions; uint64_t dropped; } rows[] = {
        { 0, 0, 3, 0 },         /* the default bounds hold everything */
        { 2, 0, 2, 1 },         /* two connections: C is dropped */
        { 0, 64, 0, 4 },        /* 64 bytes: not even one connection's record */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ni_error err = {0};
        ni_zeek *z = ni_zeek_open(dir, &err);
        CHECK(z != NULL);
        if (!z) continue;
        ni_zeek_set_bounds(z, rows[i].uids, rows[i].bytes);
        ni_session s;
        int n = 0, r;
        while ((r = ni_zeek_next(z, &s, &err)) > 0) n++;
        CHECK_INT(n, rows[i].sessions);
        CHECK_INT(ni_zeek_stats_get(z)->dropped, rows[i].dropped);
        CHECK_INT(r, rows[i].dropped ? -1 : 0);
        if (rows[i].dropped) CHECK(strstr(err.msg, "http.log:") && strstr(err.msg, "evidence dropped"));
        ni_zeek_close(z);
    }
    rm_tmp();
}

int main(void)
{
    static const ni_test_case cases[] = {
        T(tsv_join), T(tsv_custom_header), T(json_lines), T(rotation_order), T(bad_input), T(probe_and_open_errors),
        T(join_bounds),
    };
    return ni_test_main("test_zeek", cases, sizeof cases / sizeof cases[0]);
}
