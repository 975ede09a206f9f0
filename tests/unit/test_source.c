/* test_source.c — unit tests of lib/ingest/ni_source: pcap and pcapng from
 * the corpus (frame counts, lengths and timestamps checked against a small
 * independent record walker written here, and against tshark when
 * installed), gzip and zstd compression recognised by magic bytes whatever
 * the file name (compressed at test time with the gzip/zstd tools), standard
 * input through a pipe, several sources open at once, progress counters,
 * every bad input with its one-line message, and direct reading (classic,
 * nanosecond and pcapng files of crafted blocks) against libpcap reading
 * the same bytes gzip-compressed. */
#include "ni_test.h"
#include "ingest/ni_source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define CORPUS "tests/corpus/ndpi/pcap/"

static char tmpdir[256];

static const char *tmp_path(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static int sh(const char *fmt, const char *a, const char *b)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, fmt, a, b);
    return system(cmd);
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)n + 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) { free(p); p = NULL; }
    fclose(f);
    *len = (size_t)n;
    return p;
}

static void spit(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(p, 1, n, f);
    fclose(f);
}

/* ---- an independent walker for classic pcap and pcapng (little-endian,
 * microsecond) written from the formats' descriptions, to check libpcap's
 * output through ni_source ---------------------------------------------- */
typedef struct walk {
    long frames;
    uint64_t caplen_sum, wirelen_sum;
    int64_t first_us, last_us;
    int linktype;
} walk;

static uint32_t le32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static void walk_add(walk *w, int64_t ts, uint32_t cap, uint32_t wire)
{
    if (w->frames == 0) w->first_us = ts;
    w->last_us = ts;
    w->frames++;
    w->caplen_sum += cap;
    w->wirelen_sum += wire;
}

static bool walk_file(const char *path, walk *w)
{
    memset(w, 0, sizeof *w);
    size_t n;
    uint8_t *p = slurp(path, &n);
    if (!p || n < 24) { free(p); return false; }
    bool ok = true;
    if (le32(p) == 0xa1b2c3d4) {
        w->linktype = (int)le32(p + 20);
        for (size_t off = 24; off + 16 <= n;) {
            uint32_t cap = le32(p + off + 8);
            walk_add(w, (int64_t)le32(p + off) * 1000000 + le32(p + off + 4), cap, le32(p + off + 12));
            off += 16 + cap;
        }
    } else if (le32(p) == 0x0a0d0d0a) {
        int64_t tsres[64];          /* per interface; power-of-ten if_tsresol only */
        size_t nif = 0;
        for (size_t off = 0; off + 12 <= n;) {
            uint32_t type = le32(p + off), blen = le32(p + off + 4);
            if (blen < 12 || off + blen > n) { ok = false; break; }
            if (type == 1 && w->linktype == 0) w->linktype = le16(p + off + 8);
            if (type == 1) {        /* look for if_tsresol (option 9) */
                if (nif == 64) { ok = false; break; }
                tsres[nif++] = 1000000;
                for (size_t o = off + 16; o + 4 <= off + blen - 4;) {
                    uint16_t code = le16(p + o), olen = le16(p + o + 2);
                    if (code == 0) break;
                    if (code == 9 && olen == 1) {
                        uint8_t r = p[o + 4];
                        if (r & 0x80) ok = false;
                        tsres[nif - 1] = 1;
                        for (int i = 0; i < (r & 0x7f); i++) tsres[nif - 1] *= 10;
                    }
                    o += 4 + ((olen + 3u) & ~3u);
                }
            }
            if (type == 6) {
                uint32_t ifid = le32(p + off + 8);
                if (ifid >= nif) { ok = false; break; }
                int64_t res = tsres[ifid];
                uint64_t t = ((uint64_t)le32(p + off + 12) << 32) | le32(p + off + 16);
                int64_t us = res == 1000000 ? (int64_t)t
                           : res > 1000000 ? (int64_t)(t / (uint64_t)(res / 1000000))
                           : (int64_t)t * (1000000 / res);
                walk_add(w, us, le32(p + off + 20), le32(p + off + 24));
            }
            if (type == 3 || type == 2) ok = false;     /* not expected in the corpus */
            off += blen;
        }
    } else {
        ok = false;
    }
    free(p);
    return ok;
}

static bool drain(const char *path, walk *w, ni_error *e, int *rc)
{
    memset(w, 0, sizeof *w);
    ni_source *s = ni_source_open(path, e);
    if (!s) return false;
    w->linktype = ni_source_linktype(s);
    ni_frame f;
    int r;
    while ((r = ni_source_next(s, &f, e)) == 1) walk_add(w, f.ts_us, f.caplen, f.wirelen);
    *rc = r;
    ni_source_close(s);
    return true;
}

static void check_same_as_walker(const char *path)
{
    walk a, b;
    ni_error e = { 0 };
    int rc = 99;
    CHECK(walk_file(path, &a));
    CHECK(drain(path, &b, &e, &rc));
    CHECK_INT(rc, 0);
    CHECK(a.frames > 0);
    CHECK_INT(b.frames, a.frames);
    CHECK_INT(b.caplen_sum, a.caplen_sum);
    CHECK_INT(b.wirelen_sum, a.wirelen_sum);
    CHECK_INT(b.first_us, a.first_us);
    CHECK_INT(b.last_us, a.last_us);
    CHECK_INT(b.linktype, a.linktype);
    if (a.frames != b.frames) fprintf(stderr, "  (in %s)\n", path);
}

/* frame count per tshark, -1 if tshark is not installed */
static long tshark_count(const char *path)
{
    if (system("command -v tshark >/dev/null 2>&1") != 0) return -1;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "tshark -r '%s' -T fields -e frame.number 2>/dev/null | wc -l", path);
    FILE *p = popen(cmd, "r");
    long n = -1;
    if (p) { if (fscanf(p, "%ld", &n) != 1) n = -1; pclose(p); }
    return n;
}

static const char *const corpus_files[] = {
    "dns.pcap", "ultrasurf.pcap", "http_ipv6.pcap", "openvpn-tlscrypt.pcap",
    "tor.pcap", "http.pcapng", "sites.pcapng", "ah.pcapng", "quic-mvfst-27.pcapng",
    "tls_ech.pcapng",
};

TEST(corpus_pcap_and_pcapng)
{
    for (size_t i = 0; i < sizeof corpus_files / sizeof *corpus_files; i++) {
        char path[512];
        snprintf(path, sizeof path, CORPUS "%s", corpus_files[i]);
        check_same_as_walker(path);
        long t = tshark_count(path);
        if (t >= 0) {
            walk b; ni_error e; int rc;
            CHECK(drain(path, &b, &e, &rc));
            CHECK_INT(b.frames, t);
        }
    }
}

/* Reads s1 and s2 side by side until either ends or fails (their last
 * results in *r1, *r2): the frames read in both (*n) and how many of them
 * differ in length, time or bytes. */
static long walk_both(ni_source *s1, ni_error *e1, ni_source *s2, ni_error *e2, long *n, int *r1, int *r2)
{
    long diff = 0;
    ni_frame f1, f2;
    for (;;) {
        *r1 = ni_source_next(s1, &f1, e1);
        *r2 = ni_source_next(s2, &f2, e2);
        if (*r1 != 1 || *r2 != 1) return diff;
        ++*n;
        if (f1.caplen != f2.caplen || f1.wirelen != f2.wirelen || f1.ts_us != f2.ts_us ||
            memcmp(f1.data, f2.data, f1.caplen) != 0) diff++;
    }
}

/* frames of a and b identical, byte for byte */
static void check_same_frames(const char *a, const char *b)
{
    ni_error e1 = { 0 }, e2 = { 0 };
    ni_source *s1 = ni_source_open(a, &e1), *s2 = ni_source_open(b, &e2);
    CHECK(s1 != NULL);
    CHECK(s2 != NULL);
    if (!s1 || !s2) {
        fprintf(stderr, "  %s / %s\n", e1.msg, e2.msg);
        if (s1) ni_source_close(s1);
        if (s2) ni_source_close(s2);
        return;
    }
    CHECK_INT(ni_source_linktype(s1), ni_source_linktype(s2));
    long n = 0;
    int r1, r2;
    long diff = walk_both(s1, &e1, s2, &e2, &n, &r1, &r2);
    CHECK_INT(r1, 0);
    CHECK_INT(r2, 0);
    CHECK(n > 0);
    CHECK_INT(diff, 0);
    uint64_t done, total;
    ni_source_progress(s2, &done, &total);
    struct stat st;
    if (strcmp(b, "-") != 0 && stat(b, &st) == 0) {
        CHECK_INT(total, st.st_size);
        CHECK_INT(done, st.st_size);
    }
    ni_source_close(s1);
    ni_source_close(s2);
}

TEST(gzip_and_zstd_by_magic)
{
    const char *files[] = { CORPUS "tor.pcap", CORPUS "sites.pcapng" };
    for (size_t i = 0; i < 2; i++) {
        /* names that lie about the content: detection must use magic bytes */
        const char *gz = tmp_path("looks-plain.pcap"), *zs = tmp_path("looks-gzip.gz");
        CHECK_INT(sh("gzip -c '%s' > '%s'", files[i], gz), 0);
        CHECK_INT(sh("zstd -q -c '%s' > '%s'", files[i], zs), 0);
        check_same_frames(files[i], gz);
        check_same_frames(files[i], zs);
        /* multi-member gzip and multi-frame zstd: split, compress, concatenate */
        CHECK_INT(sh("head -c 30000 '%s' | gzip -c > '%s'", files[i], gz), 0);
        CHECK_INT(sh("tail -c +30001 '%s' | gzip -c >> '%s'", files[i], gz), 0);
        CHECK_INT(sh("head -c 30000 '%s' | zstd -q -c > '%s'", files[i], zs), 0);
        CHECK_INT(sh("tail -c +30001 '%s' | zstd -q -c >> '%s'", files[i], zs), 0);
        check_same_frames(files[i], gz);
        check_same_frames(files[i], zs);
    }
}

/* Runs check_same_frames(ref, "-") with stdin fed through a pipe by a child
 * process writing the bytes of file. */
static void check_stdin(const char *ref, const char *file)
{
    size_t n;
    uint8_t *bytes = slurp(file, &n);
    CHECK(bytes != NULL);
    if (!bytes) return;
    int fds[2];
    CHECK_INT(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        size_t off = 0;
        while (off < n) {       /* small writes: short reads on the other side */
            size_t k = n - off < 1000 ? n - off : 1000;
            ssize_t w = write(fds[1], bytes + off, k);
            if (w <= 0) _exit(1);
            off += (size_t)w;
        }
        _exit(0);
    }
    close(fds[1]);
    int saved = dup(STDIN_FILENO);
    dup2(fds[0], STDIN_FILENO);
    close(fds[0]);
    check_same_frames(ref, "-");
    dup2(saved, STDIN_FILENO);
    close(saved);
    int status;
    waitpid(pid, &status, 0);
    free(bytes);
}

TEST(stdin_pipe)
{
    check_stdin(CORPUS "dns.pcap", CORPUS "dns.pcap");
    const char *zs = tmp_path("stdin.zst");
    CHECK_INT(sh("zstd -q -c '%s' > '%s'", CORPUS "http.pcapng", zs), 0);
    check_stdin(CORPUS "http.pcapng", zs);
}

TEST(several_sources_at_once)
{
    const char *gz = tmp_path("multi.gz");
    CHECK_INT(sh("gzip -c '%s' > '%s'", CORPUS "ultrasurf.pcap", gz), 0);
    ni_error e;
    ni_source *a = ni_source_open(CORPUS "ultrasurf.pcap", &e);
    ni_source *b = ni_source_open(gz, &e);
    ni_source *c = ni_source_open(CORPUS "http.pcapng", &e);
    CHECK(a && b && c);
    if (!a || !b || !c) return;
    CHECK_STR(ni_source_path(b), gz);
    ni_frame fa, fb, fc;
    long same = 0, n = 0, nc = 0;
    /* interleave: any shared state between sources would break equality */
    while (ni_source_next(a, &fa, &e) == 1) {
        if (nc >= 0 && ni_source_next(c, &fc, &e) == 1) nc++;
        else nc = -nc - 1;
        if (ni_source_next(b, &fb, &e) != 1) break;
        n++;
        if (fa.caplen == fb.caplen && fa.ts_us == fb.ts_us && memcmp(fa.data, fb.data, fa.caplen) == 0) same++;
    }
    CHECK_INT(ni_source_next(b, &fb, &e), 0);
    walk w;
    CHECK(walk_file(CORPUS "ultrasurf.pcap", &w));
    CHECK_INT(n, w.frames);
    CHECK_INT(same, n);
    walk wc;
    CHECK(walk_file(CORPUS "http.pcapng", &wc));
    CHECK_INT(nc < 0 ? -nc - 1 : nc, wc.frames);
    ni_source_close(a);
    ni_source_close(b);
    ni_source_close(c);
}

/* ---- crafted captures --------------------------------------------------- */

static void put32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24); }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }

/* Classic pcap with nframes records of 60 bytes each (data = record index). */
static size_t make_pcap(uint8_t *buf, uint32_t magic, uint32_t linktype, int nframes)
{
    put32(buf, magic);
    put16(buf + 4, 2); put16(buf + 6, 4);
    put32(buf + 8, 0); put32(buf + 12, 0);
    put32(buf + 16, 65535); put32(buf + 20, linktype);
    size_t off = 24;
    for (int i = 0; i < nframes; i++) {
        put32(buf + off, 1700000000u + (uint32_t)i);
        put32(buf + off + 4, magic == 0xa1b23c4d ? 123456789u : 654321u);
        put32(buf + off + 8, 60); put32(buf + off + 12, 60);
        memset(buf + off + 16, i, 60);
        off += 16 + 60;
    }
    return off;
}

static size_t pcapng_block(uint8_t *buf, uint32_t type, const uint8_t *body, uint32_t blen)
{
    uint32_t total = 12 + ((blen + 3) & ~3u);
    put32(buf, type); put32(buf + 4, total);
    memset(buf + 8, 0, total - 12);
    memcpy(buf + 8, body, blen);
    put32(buf + total - 4, total);
    return total;
}

static size_t pcapng_idb(uint8_t *buf, uint16_t linktype)
{
    uint8_t b[8] = { 0 };
    put16(b, linktype); put32(b + 4, 65535);
    return pcapng_block(buf, 1, b, 8);
}

static size_t pcapng_epb(uint8_t *buf, uint32_t ifid, uint64_t ts)
{
    uint8_t b[20 + 40] = { 0 };
    put32(b, ifid); put32(b + 4, (uint32_t)(ts >> 32)); put32(b + 8, (uint32_t)ts);
    put32(b + 12, 40); put32(b + 16, 40);
    memset(b + 20, 0x45, 40);
    return pcapng_block(buf, 6, b, sizeof b);
}

static size_t pcapng_shb(uint8_t *buf)
{
    uint8_t b[16];
    put32(b, 0x1A2B3C4D); put16(b + 4, 1); put16(b + 6, 0);
    memset(b + 8, 0xff, 8);
    return pcapng_block(buf, 0x0A0D0D0A, b, 16);
}

/* Opens path expecting failure with this code and message. */
static void expect_open_error(const char *path, ni_err code, const char *problem)
{
    ni_error e = { 0 };
    ni_source *s = ni_source_open(path, &e);
    CHECK(s == NULL);
    if (s) { ni_source_close(s); return; }
    char want[1024];
    snprintf(want, sizeof want, "%s: %s", path, problem);
    CHECK_INT(e.code, code);
    CHECK_STR(e.msg, want);
    CHECK(strchr(e.msg, '\n') == NULL);
}

/* Opens path, drains it, expecting `frames` good frames then an error. */
static void expect_read_error(const char *path, long frames, ni_err code, const char *problem)
{
    ni_error e = { 0 };
    ni_source *s = ni_source_open(path, &e);
    CHECK(s != NULL);
    if (!s) { fprintf(stderr, "  open: %s\n", e.msg); return; }
    ni_frame f;
    long n = 0;
    int r;
    while ((r = ni_source_next(s, &f, &e)) == 1) n++;
    CHECK_INT(r, -1);
    CHECK_INT(n, frames);
    CHECK_INT(e.code, code);
    if (problem) {
        char want[1024];
        snprintf(want, sizeof want, "%s: %s", path, problem);
        CHECK_STR(e.msg, want);
    }
    CHECK(strncmp(e.msg, path, strlen(path)) == 0);
    /* the error is sticky */
    ni_error e2 = { 0 };
    CHECK_INT(ni_source_next(s, &f, &e2), -1);
    CHECK_STR(e2.msg, e.msg);
    ni_source_close(s);
}

TEST(crafted_good_files)
{
    uint8_t buf[4096];
    /* nanosecond pcap: timestamps rounded down to µs */
    size_t n = make_pcap(buf, 0xa1b23c4d, 1, 3);
    const char *p = tmp_path("ns.pcap");
    spit(p, buf, n);
    ni_error e;
    ni_source *s = ni_source_open(p, &e);
    CHECK(s != NULL);
    if (s) {
        ni_frame f;
        CHECK_INT(ni_source_next(s, &f, &e), 1);
        CHECK_INT(f.ts_us, 1700000000ll * 1000000 + 123456);
        CHECK_INT(f.caplen, 60);
        CHECK_INT(f.linktype, 1);
        CHECK_INT(f.data[0], 0);
        CHECK_INT(ni_source_next(s, &f, &e), 1);
        CHECK_INT(f.data[59], 1);
        CHECK_INT(ni_source_next(s, &f, &e), 1);
        CHECK_INT(ni_source_next(s, &f, &e), 0);
        ni_source_close(s);
    }
    /* LINKTYPE_RAW is reported as 101 (libpcap's DLT_RAW is 12 here) */
    n = make_pcap(buf, 0xa1b2c3d4, 101, 1);
    spit(p, buf, n);
    s = ni_source_open(p, &e);
    CHECK(s != NULL);
    if (s) {
        CHECK_INT(ni_source_linktype(s), 101);
        ni_frame f;
        CHECK_INT(ni_source_next(s, &f, &e), 1);
        CHECK_INT(f.linktype, 101);
        CHECK_INT(f.ts_us, 1700000000ll * 1000000 + 654321);
        ni_source_close(s);
    }
    /* pcapng, two interfaces of the same link type */
    n = pcapng_shb(buf);
    n += pcapng_idb(buf + n, 228);
    n += pcapng_idb(buf + n, 228);
    n += pcapng_epb(buf + n, 0, 1700000000000001ull);
    n += pcapng_epb(buf + n, 1, 1700000000000002ull);
    spit(p, buf, n);
    walk w;
    int rc;
    CHECK(drain(p, &w, &e, &rc));
    CHECK_INT(rc, 0);
    CHECK_INT(w.frames, 2);
    CHECK_INT(w.linktype, 228);
    CHECK_INT(w.last_us, 1700000000000002ll);
}

TEST(bad_inputs)
{
    uint8_t buf[4096];
    char path[512];

    snprintf(path, sizeof path, "%s/no-such-file.pcap", tmpdir);
    expect_open_error(path, NI_ERR_NOTFOUND, "no such file");
    expect_open_error(tmpdir, NI_ERR_ARG, "is a directory");

    const char *p = tmp_path("empty.pcap");
    spit(p, "", 0);
    expect_open_error(p, NI_ERR_FORMAT, "empty file");

    p = tmp_path("text.pcap");
    spit(p, "hello, this is text\n", 20);
    expect_open_error(p, NI_ERR_FORMAT, "not a pcap or pcapng capture");
    spit(p, "ab", 2);
    expect_open_error(p, NI_ERR_FORMAT, "not a pcap or pcapng capture");

    /* valid magic, header cut short */
    size_t n = make_pcap(buf, 0xa1b2c3d4, 1, 2);
    p = tmp_path("hdr.pcap");
    spit(p, buf, 10);
    expect_open_error(p, NI_ERR_TRUNCATED, "truncated capture file header");

    /* cut in the middle of the second record: first frame stays valid */
    p = tmp_path("cut.pcap");
    spit(p, buf, n - 20);
    expect_read_error(p, 1, NI_ERR_TRUNCATED, "truncated in the middle of a packet record");
    /* cut inside the second record header */
    spit(p, buf, 24 + 76 + 7);
    expect_read_error(p, 1, NI_ERR_TRUNCATED, "truncated in the middle of a packet record");
    /* a truncated pcapng too */
    size_t m = pcapng_shb(buf);
    m += pcapng_idb(buf + m, 1);
    m += pcapng_epb(buf + m, 0, 1);
    m += pcapng_epb(buf + m, 0, 2);
    p = tmp_path("cut.pcapng");
    spit(p, buf, m - 30);
    expect_read_error(p, 1, NI_ERR_TRUNCATED, "truncated in the middle of a packet record");

    /* pcapng whose second interface has another link type */
    m = pcapng_shb(buf);
    m += pcapng_idb(buf + m, 1);
    m += pcapng_epb(buf + m, 0, 1);
    m += pcapng_idb(buf + m, 113);
    m += pcapng_epb(buf + m, 1, 2);
    p = tmp_path("mixed.pcapng");
    spit(p, buf, m);
    expect_read_error(p, 1, NI_ERR_UNSUPPORTED, NULL);
    {
        ni_error e;
        ni_source *s = ni_source_open(p, &e);
        ni_frame f;
        if (s) {
            while (ni_source_next(s, &f, &e) == 1) {}
            CHECK(strstr(e.msg, "pcapng interfaces have different link types") != NULL);
            ni_source_close(s);
        }
    }

    /* unsupported compressors are named */
    p = tmp_path("x.pcap");
    spit(p, "\xfd" "7zXZ\0\0\0\0", 10);
    expect_open_error(p, NI_ERR_UNSUPPORTED, "xz compression is not supported (use gzip or zstd)");
}

TEST(bad_compressed)
{
    const char *src = CORPUS "tor.pcap";
    walk w;
    CHECK(walk_file(src, &w));
    const char *gz = tmp_path("bad.gz"), *zs = tmp_path("bad.zst");
    size_t n;
    uint8_t *b;

    /* truncated streams: some frames, then the error (not a clean EOF) */
    CHECK_INT(sh("gzip -c '%s' | head -c 20000 > '%s'", src, gz), 0);
    CHECK_INT(sh("zstd -q -c '%s' | head -c 20000 > '%s'", src, zs), 0);
    {
        ni_error e;
        ni_source *s = ni_source_open(gz, &e);
        long k = 0;
        ni_frame f;
        if (s) {
            while (ni_source_next(s, &f, &e) == 1) k++;
            CHECK(k > 0 && k < w.frames);
            char want[600];
            snprintf(want, sizeof want, "%s: corrupt gzip stream (unexpected end of compressed data)", gz);
            CHECK_STR(e.msg, want);
            ni_source_close(s);
        }
        s = ni_source_open(zs, &e);
        k = 0;
        if (s) {
            while (ni_source_next(s, &f, &e) == 1) k++;
            CHECK(k > 0 && k < w.frames);
            char want[600];
            snprintf(want, sizeof want, "%s: corrupt zstd stream (unexpected end of compressed data)", zs);
            CHECK_STR(e.msg, want);
            ni_source_close(s);
        }
    }

    /* corrupted bytes in the middle of the stream */
    CHECK_INT(sh("gzip -c '%s' > '%s'", src, gz), 0);
    b = slurp(gz, &n);
    CHECK(b && n > 5000);
    if (b) {
        for (size_t i = 3000; i < 3100; i++) b[i] ^= 0x5a;
        spit(gz, b, n);
        free(b);
        ni_error e;
        ni_source *s = ni_source_open(gz, &e);
        CHECK(s != NULL);
        if (s) {
            ni_frame f;
            int r;
            while ((r = ni_source_next(s, &f, &e)) == 1) {}
            CHECK_INT(r, -1);
            CHECK(strstr(e.msg, ": corrupt gzip stream (") != NULL);
            ni_source_close(s);
        }
    }
    CHECK_INT(sh("zstd -q -c '%s' > '%s'", src, zs), 0);
    b = slurp(zs, &n);
    CHECK(b && n > 5000);
    if (b) {
        for (size_t i = 3000; i < 3100; i++) b[i] ^= 0x5a;
        spit(zs, b, n);
        free(b);
        /* damaged literals may decode to garbage that only the frame
         * checksum would catch: libpcap then sees a nonsense record first */
        ni_error e;
        ni_source *s = ni_source_open(zs, &e);
        if (s) {
            ni_frame f;
            int r;
            while ((r = ni_source_next(s, &f, &e)) == 1) {}
            CHECK_INT(r, -1);
            ni_source_close(s);
        }
        CHECK(strstr(e.msg, ": corrupt zstd stream (") != NULL || strstr(e.msg, ": corrupt capture (") != NULL);
    }
    /* damaged frame checksum (zstd(1) writes one): detected by libzstd */
    CHECK_INT(sh("zstd -q -c '%s' > '%s'", src, zs), 0);
    b = slurp(zs, &n);
    if (b) {
        b[n - 1] ^= 0xff;
        spit(zs, b, n);
        free(b);
        ni_error e;
        ni_source *s = ni_source_open(zs, &e);
        CHECK(s != NULL);
        if (s) {
            ni_frame f;
            int r;
            long k = 0;
            while ((r = ni_source_next(s, &f, &e)) == 1) k++;
            CHECK_INT(r, -1);
            CHECK(k > 0 && k < w.frames);
            CHECK(strstr(e.msg, ": corrupt zstd stream (") != NULL);
            ni_source_close(s);
        }
    }
    /* garbage right after a gzip header: error at open */
    spit(gz, "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xff\xff\xff\xff\xff\xff", 16);
    {
        ni_error e;
        CHECK(ni_source_open(gz, &e) == NULL);
        CHECK(strstr(e.msg, ": corrupt gzip stream (") != NULL);
    }
    /* compressed empty content */
    CHECK_INT(sh("printf '' | gzip -c > '%s'%s", gz, ""), 0);
    expect_open_error(gz, NI_ERR_FORMAT, "empty after decompression");
    CHECK_INT(sh("printf 'not a capture at all' | zstd -q -c > '%s'%s", zs, ""), 0);
    expect_open_error(zs, NI_ERR_FORMAT, "not a pcap or pcapng capture");
}

TEST(permission_denied)
{
    size_t n;
    uint8_t *b = slurp(CORPUS "dns.pcap", &n);
    const char *p = tmp_path("secret.pcap");
    spit(p, b, n);
    free(b);
    CHECK_INT(chmod(p, 0), 0);
    /* root reads anything: check from a child that drops to nobody */
    int fds[2];
    CHECK_INT(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        if (geteuid() == 0) {
            chmod(tmpdir, 0755);
            if (setgid(65534) != 0 || setuid(65534) != 0) _exit(3);
        }
        ni_error e = { 0 };
        ni_source *s = ni_source_open(p, &e);
        if (s) _exit(2);
        if (write(fds[1], &e, sizeof e) != (ssize_t)sizeof e) _exit(4);
        _exit(0);
    }
    close(fds[1]);
    ni_error e = { 0 };
    ssize_t got = read(fds[0], &e, sizeof e);
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_INT(got, sizeof e);
    char want[600];
    snprintf(want, sizeof want, "%s: permission denied", p);
    CHECK_STR(e.msg, want);
    CHECK_INT(e.code, NI_ERR_IO);
}

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ni-test-source-XXXXXX");
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); exit(1); }
    /* tests run from the repository root (make check); find the corpus */
    if (access(CORPUS "dns.pcap", R_OK) != 0) {
        fprintf(stderr, "corpus not found at %s (run from the repository root)\n", CORPUS);
    }
}

/* Mapped reading (ni_source.c) against libpcap's own: the same file plain
 * (read from the mapped window) and gzip-compressed (read through libpcap):
 * the same frames, the same end and the same message after the path.  The
 * file is larger than the window, its records of varied sizes cross window
 * edges, and a record that is not clean hands the rest over to libpcap:
 * caplen above the snapshot length (libpcap cuts it), caplen above the wire
 * length, caplen above libpcap's maximum (an error), a record cut short. */
static void check_mapped_case(int kind)
{
    enum { N = 9000, SNAP = 1600 };
    size_t cap = 24 + (size_t)N * (16 + 2100) + 64, off = 24;
    uint8_t *b = calloc(1, cap);
    if (!b) return;
    put32(b, 0xa1b2c3d4); put16(b + 4, 2); put16(b + 6, 4);
    put32(b + 16, SNAP); put32(b + 20, 1);
    for (int i = 0; i < N; i++) {
        uint32_t n = 60 + (uint32_t)(i * 37) % 1500, wire = n;
        if (i == 7000 && kind == 1) n = wire = 2000;             /* above the snapshot length */
        if (i == 7000 && kind == 2) wire = n - 1;                /* above the wire length */
        if (i == 7000 && kind == 3) n = wire = 300000;           /* above libpcap's maximum */
        put32(b + off, 1700000000u + (uint32_t)i); put32(b + off + 4, (uint32_t)i * 97 % 1000000);
        put32(b + off + 8, n); put32(b + off + 12, wire);
        if (kind == 3 && i == 7000) { off += 16; break; }
        for (uint32_t k = 0; k < n; k++) b[off + 16 + k] = (uint8_t)(i + k);
        off += 16 + n;
    }
    if (kind == 4) off -= 700;                                   /* the last record cut short */
    const char *plain = tmp_path("mapped.pcap"), *gz = tmp_path("mapped-gz.pcap");
    spit(plain, b, off);
    free(b);
    CHECK_INT(sh("gzip -c '%s' > '%s'", plain, gz), 0);
    ni_error e1 = { 0 }, e2 = { 0 };
    ni_source *s1 = ni_source_open(plain, &e1), *s2 = ni_source_open(gz, &e2);
    CHECK(s1 && s2);
    if (!s1 || !s2) { if (s1) ni_source_close(s1); if (s2) ni_source_close(s2); return; }
    long n = 0;
    int r1, r2;
    long diff = walk_both(s1, &e1, s2, &e2, &n, &r1, &r2);
    CHECK_INT(r1, r2);
    CHECK_INT(diff, 0);
    CHECK(n >= (kind == 3 ? 7000 : N - 1));
    if (r1 < 0 && r2 < 0) {
        const char *m1 = strstr(e1.msg, ": "), *m2 = strstr(e2.msg, ": ");
        CHECK(m1 && m2);
        if (m1 && m2) CHECK_STR(m1, m2);
        CHECK_INT(e1.code, e2.code);
    }
    ni_source_close(s1);
    ni_source_close(s2);
    unlink(plain);
    unlink(gz);
}

TEST(mapped_reading)
{
    for (int kind = 0; kind <= 4; kind++) check_mapped_case(kind);
}

/* A file cut short by another process while it is read (past the window
 * in use): no fault; libpcap takes over and reports the cut record. */
TEST(mapped_file_cut_short)
{
    enum { N = 9000 };
    size_t off = 24;
    uint8_t *b = calloc(1, 24 + (size_t)N * 1600);
    if (!b) return;
    put32(b, 0xa1b2c3d4); put16(b + 4, 2); put16(b + 6, 4);
    put32(b + 16, 65535); put32(b + 20, 1);
    for (int i = 0; i < N; i++) {
        uint32_t n = 60 + (uint32_t)(i * 37) % 1500;
        put32(b + off, 1700000000u + (uint32_t)i); put32(b + off + 4, 0);
        put32(b + off + 8, n); put32(b + off + 12, n);
        off += 16 + n;
    }
    const char *plain = tmp_path("cut.pcap");
    spit(plain, b, off);
    free(b);
    CHECK(off > 6000000);
    ni_error e = { 0 };
    ni_source *s = ni_source_open(plain, &e);
    CHECK(s != NULL);
    if (!s) return;
    ni_frame f;
    long n = 0;
    int r;
    while (n < 100 && (r = ni_source_next(s, &f, &e)) == 1) n++;
    CHECK(truncate(plain, 6000001) == 0);
    while ((r = ni_source_next(s, &f, &e)) == 1) n++;
    CHECK_INT(r, -1);
    CHECK(strstr(e.msg, "truncated") != NULL);
    CHECK(n > 100 && n < N);
    ni_source_close(s);
    unlink(plain);
}

/* ---- direct reading of nanosecond pcap and pcapng, against libpcap ------
 * Each crafted file is read plain (directly, as long as its blocks are
 * clean) and gzip-compressed (through libpcap all along): the same frames,
 * the same end, the same message after the path. */

/* the file being built; ends[k]: where the k-th packet block ends */
typedef struct grow { uint8_t *p; size_t n, cap; size_t ends[8000]; size_t npk; } grow;

static uint8_t *grow_at(grow *g, size_t n)
{
    if (g->n + n > g->cap) {
        size_t c = g->cap ? g->cap : 1 << 16;
        while (c < g->n + n) c *= 2;
        uint8_t *q = realloc(g->p, c);
        if (!q) abort();
        g->p = q;
        g->cap = c;
    }
    uint8_t *at = g->p + g->n;
    memset(at, 0, n);
    g->n += n;
    return at;
}

/* A block of this type: body (blen bytes, zero-padded to 4), total length
 * and trailer as given (0: the right one). */
static void ng_put(grow *g, uint32_t type, const uint8_t *body, uint32_t blen, uint32_t total, uint32_t trailer)
{
    uint32_t right = 12 + ((blen + 3) & ~3u);
    uint8_t *b = grow_at(g, right);
    pcapng_block(b, type, body, blen);
    if (total) put32(b + 4, total);
    if (trailer) put32(b + right - 4, trailer);
}

/* An IDB: link type 1, snapshot length snap, if_tsresol tsres (0: none),
 * an if_tsoffset when offset, and an interface name. */
static void ng_idb(grow *g, uint32_t snap, int tsres, bool offset)
{
    uint8_t b[64] = { 0 };
    uint32_t n = 8;
    put16(b, 1); put32(b + 4, snap);
    put16(b + n, 2); put16(b + n + 2, 5); memcpy(b + n + 4, "eth0", 5); n += 12;
    if (tsres) { put16(b + n, 9); put16(b + n + 2, 1); b[n + 4] = (uint8_t)tsres; n += 8; }
    if (offset) { put16(b + n, 14); put16(b + n + 2, 8); put32(b + n + 4, 100); n += 12; }
    n += 4;                                         /* opt_endofopt */
    ng_put(g, 1, b, n, 0, 0);
}

static void ng_shb(grow *g)
{
    uint8_t b[32] = { 0 };
    put32(b, 0x1A2B3C4D); put16(b + 4, 1); put16(b + 6, 0);
    memset(b + 8, 0xff, 8);
    put16(b + 16, 4); put16(b + 18, 6); memcpy(b + 20, "x86_64", 6);   /* shb_os */
    ng_put(g, 0x0A0D0D0A, b, 28, 0, 0);
}

/* An EPB: caplen bytes of data (wire length wire), a comment option when
 * comment. */
static void ng_epb(grow *g, uint32_t ifid, uint64_t ts, uint32_t caplen, uint32_t wire, bool comment, int seed)
{
    static uint8_t b[20 + 4000 + 32];
    uint32_t n = 20 + ((caplen + 3) & ~3u);
    memset(b, 0, sizeof b);
    put32(b, ifid); put32(b + 4, (uint32_t)(ts >> 32)); put32(b + 8, (uint32_t)ts);
    put32(b + 12, caplen); put32(b + 16, wire);
    for (uint32_t k = 0; k < caplen && k < 4000; k++) b[20 + k] = (uint8_t)(seed + k);
    if (caplen > 4000) n = 20 + 4000;
    if (comment) { put16(b + n, 1); put16(b + n + 2, 7); memcpy(b + n + 4, "comment", 7); n += 12; put16(b + n, 0); put16(b + n + 2, 0); n += 4; }
    ng_put(g, 6, b, n, 0, 0);
    if (g->npk < 8000) g->ends[g->npk++] = g->n;
}

/* probe: after this many frames (0: none), reading must be direct: its
 * progress is where that frame's record ends (probe_end) — libpcap's
 * buffered reading is ahead by its buffer. */
static void same_as_libpcap(const char *name, const uint8_t *data, size_t n, long min_frames, long probe,
                            uint64_t probe_end)
{
    const char *plain = tmp_path(name);
    char gz[600];
    snprintf(gz, sizeof gz, "%s.gz", plain);
    spit(plain, data, n);
    CHECK_INT(sh("gzip -c '%s' > '%s'", plain, gz), 0);
    ni_error e1 = { 0 }, e2 = { 0 };
    ni_source *s1 = ni_source_open(plain, &e1), *s2 = ni_source_open(gz, &e2);
    CHECK(s1 && s2);
    if (!s1 || !s2) {
        fprintf(stderr, "  %s: %s / %s\n", name, e1.msg, e2.msg);
        if (s1) ni_source_close(s1);
        if (s2) ni_source_close(s2);
        return;
    }
    long frames = 0;
    int r1, r2;
    long diff = walk_both(s1, &e1, s2, &e2, &frames, &r1, &r2);
    CHECK_INT(r1, r2);
    CHECK_INT(diff, 0);
    CHECK(frames >= min_frames);
    if (r1 < 0 && r2 < 0) {
        const char *m1 = strstr(e1.msg, ": "), *m2 = strstr(e2.msg, ": ");
        CHECK(m1 && m2);
        if (m1 && m2) CHECK_STR(m1, m2);
        CHECK_INT(e1.code, e2.code);
    }
    if (r1 != r2 || diff || frames < min_frames) fprintf(stderr, "  (%s: %ld frames, %d / %d, %s / %s)\n", name, frames, r1, r2, e1.msg, e2.msg);
    ni_source_close(s1);
    ni_source_close(s2);
    if (probe) {
        ni_error e = { 0 };
        ni_source *s = ni_source_open(plain, &e);
        CHECK(s != NULL);
        if (!s) return;
        ni_frame f;
        uint64_t done, total;
        long k = 0;
        while (k < probe && ni_source_next(s, &f, &e) == 1) k++;
        ni_source_progress(s, &done, &total);
        CHECK_INT(k, probe);
        CHECK_INT(done, probe_end);
        if (done != probe_end) fprintf(stderr, "  (%s: not read directly at frame %ld)\n", name, probe);
        ni_source_close(s);
    }
    unlink(plain);
    unlink(gz);
}

/* kind: what happens at the 3000th packet (see the cases below) */
static void check_pcapng_case(int kind)
{
    enum { N = 6000, SNAP = 1600 };
    grow g = { 0 };
    ng_shb(&g);
    int tsres = kind == 1 ? 9 : kind == 9 ? 3 : kind == 15 ? 6 : 0;
    ng_idb(&g, SNAP, tsres, kind == 10);
    if (kind == 17) { ng_idb(&g, SNAP, 9, false); ng_idb(&g, SNAP, 0, false); }   /* as mergecap writes */
    uint64_t unit = kind == 1 ? 1000 : 1;           /* time stamp units per µs */
    for (int i = 0; i < N; i++) {
        uint64_t us = 1700000000000000ull + (uint64_t)i * 1234567u;
        uint32_t cap = 60 + (uint32_t)(i * 37) % 1400, wire = cap + (i % 3 ? 0 : 20);
        uint64_t ts = kind == 9 ? us / 1000 : us * unit;
        if (i % 500 == 250) {                       /* blocks libpcap ignores */
            uint8_t body[40] = { 0 };
            put32(body, 0); put16(body + 4, 0); put16(body + 6, 0);
            ng_put(&g, 5, body, 28, 0, 0);          /* interface statistics */
            ng_put(&g, 4, body, 4, 0, 0);           /* name resolution (empty) */
            ng_put(&g, 0xBAD, body, 12, 0, 0);      /* custom */
            ng_put(&g, 0x80000123u, body, 0, 0, 0); /* unknown */
        }
        if (i == 3000) {
            uint8_t body[4 + 60] = { 0 };
            switch (kind) {
            case 2: ng_idb(&g, SNAP, 0, false); break;                      /* a second interface */
            case 16: ng_idb(&g, SNAP, 3, false); break;                     /* ... in milliseconds */
            case 3: ng_epb(&g, 0, ts, SNAP + 400, SNAP + 400, false, i); break;   /* above snaplen */
            case 4: ng_put(&g, 0x80000123u, body, 16, 30, 0); break;  /* length not a multiple of 4 */
            case 5: ng_put(&g, 0x80000123u, body, 16, 0, 99); break;        /* trailer differs */
            case 7: put32(body, 60); ng_put(&g, 3, body, 4 + 60, 0, 0); g.ends[g.npk++] = g.n; break;  /* simple packet block */
            case 8: ng_shb(&g); ng_idb(&g, SNAP, 0, false); break;          /* a new section */
            case 11: ng_epb(&g, 1, ts, 100, 100, false, i); break;          /* no such interface */
            case 12: ng_epb(&g, 0, ts, 100, 90, false, i); break;           /* caplen above wire */
            case 13: ng_epb(&g, 0, 1ull << 62, 100, 100, false, i); break;  /* time stamp too large */
            case 14: {                                                      /* a large ignored block */
                uint8_t *big = calloc(1, 600000);
                if (big) { ng_put(&g, 0xBAD, big, 600000, 0, 0); free(big); }
                break;
            }
            default: break;
            }
        }
        uint32_t ifid = (kind == 2 || kind == 16) && i > 3000 ? (uint32_t)(i & 1) : kind == 17 ? (uint32_t)(i % 3) : 0;
        uint64_t ts_if = kind == 17 && ifid == 1 ? us * 1000 : kind == 16 && ifid == 1 ? us / 1000 : ts;
        ng_epb(&g, ifid, ts_if, cap, wire, i % 7 == 0, i);
    }
    if (kind == 6) g.n -= 700;                       /* the last block cut short */
    char name[64];
    snprintf(name, sizeof name, "direct-%d.pcapng", kind);
    bool stops = kind == 3 || kind == 4 || kind == 5 || kind == 11;   /* libpcap may fail there */
    /* read directly near the end, after what happened at the 3000th packet
     * (libpcap read it, then direct reading resumed); near the start only,
     * where libpcap keeps the rest: a new section, or more visits than
     * allowed (kind 16: every packet of its millisecond interface) */
    bool late = !stops && kind != 6 && kind != 8 && kind != 9 && kind != 10 && kind != 16;
    bool early = kind == 8 || kind == 16 || kind == 3 || kind == 4 || kind == 5 || kind == 6 || kind == 11;
    long probe = late ? 5500 : early ? 100 : 0;
    same_as_libpcap(name, g.p, g.n, stops ? 3000 : N - 1, probe, probe ? g.ends[probe - 1] : 0);
    free(g.p);
}

TEST(pcapng_direct_reading)
{
    for (int kind = 0; kind <= 17; kind++) check_pcapng_case(kind);
}

/* Classic pcap: seconds past 2^31 (unsigned in the format; libpcap 1.10
 * sign-extends them) and a nanosecond file, clean and with a fraction past
 * 2^31 ns at the 3000th record (libpcap's own arithmetic from there on). */
TEST(pcap_time_stamps_direct_and_libpcap)
{
    for (int kind = 0; kind < 3; kind++) {
        enum { N = 6000 };
        grow g = { 0 };
        uint8_t *h = grow_at(&g, 24);
        put32(h, kind ? 0xa1b23c4d : 0xa1b2c3d4); put16(h + 4, 2); put16(h + 6, 4);
        put32(h + 16, 65535); put32(h + 20, 1);
        for (int i = 0; i < N; i++) {
            uint32_t cap = 60 + (uint32_t)(i * 37) % 1400;
            uint8_t *r = grow_at(&g, 16 + cap);
            put32(r, kind == 0 ? 0x80000000u + (uint32_t)i * 1000u : 1700000000u + (uint32_t)i);
            put32(r + 4, kind == 2 && i == 3000 ? 0xF0000000u : (uint32_t)i * 131071u % 1000000000u);
            put32(r + 8, cap); put32(r + 12, cap);
            for (uint32_t k = 0; k < cap; k++) r[16 + k] = (uint8_t)(i * 3 + k);
            g.ends[g.npk++] = g.n;
        }
        char name[64];
        snprintf(name, sizeof name, "stamps-%d.pcap", kind);
        long probe = kind == 2 ? 100 : 5500;          /* kind 2: libpcap's from the 3000th on */
        same_as_libpcap(name, g.p, g.n, N, probe, g.ends[probe - 1]);
        if (kind == 0) {        /* after 2038, not before 1970 */
            const char *p = tmp_path("stamps-0-again.pcap");
            spit(p, g.p, g.n);
            ni_error e = { 0 };
            ni_source *s = ni_source_open(p, &e);
            CHECK(s != NULL);
            if (s) {
                ni_frame f;
                CHECK_INT(ni_source_next(s, &f, &e), 1);
                CHECK_INT(f.ts_us, 2147483648ll * 1000000);
                ni_source_close(s);
            }
            unlink(p);
        }
        free(g.p);
    }
}

static void teardown(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
}

static const ni_test_case cases[] = {
    T(corpus_pcap_and_pcapng), T(gzip_and_zstd_by_magic), T(stdin_pipe),
    T(several_sources_at_once), T(crafted_good_files), T(bad_inputs),
    T(bad_compressed), T(permission_denied), T(mapped_reading),
    T(mapped_file_cut_short), T(pcapng_direct_reading), T(pcap_time_stamps_direct_and_libpcap),
};

int main(void)
{
    setup();
    int rc = ni_test_main(__FILE__, cases, sizeof cases / sizeof cases[0]);
    teardown();
    return rc;
}
