/* fuzz_source.c — libFuzzer target for lib/ingest/ni_source: the input bytes
 * are written to an in-memory file (memfd) that is opened by its
 * /proc/self/fd path like any capture — plain, gzip or zstd, pcap or pcapng
 * — and drained, every frame also going through the decoder.  Checks that a
 * failure always comes with a one-line "<path>: <problem>" message.  Then
 * the same bytes gzip-compressed are read beside the plain file: the plain
 * one is read directly (ni_source.c, "direct reading") as long as its
 * records are clean, the compressed one through libpcap all along, and both
 * must give the same frames, the same end and the same problem. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>
#include "ingest/ni_source.h"
#include "decode/ni_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_msg(const ni_error *e, const char *path)
{
    size_t pl = strlen(path);
    if (strncmp(e->msg, path, pl) != 0 || strncmp(e->msg + pl, ": ", 2) != 0) abort();
    if (strchr(e->msg, '\n')) abort();
    if (e->code == NI_OK) abort();
}

/* An in-memory file holding n bytes; its path in path (64 bytes); -1 on failure. */
static int mem_file(const uint8_t *p, size_t n, char *path)
{
    int fd = memfd_create("fuzz_source", MFD_CLOEXEC);
    if (fd < 0) return -1;
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, p + off, n - off);
        if (w <= 0) { close(fd); return -1; }
        off += (size_t)w;
    }
    snprintf(path, 64, "/proc/self/fd/%d", fd);
    return fd;
}

/* The input gzip-compressed (malloc'd; NULL on failure). */
static uint8_t *gzip_of(const uint8_t *data, size_t size, size_t *out)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) return NULL;
    size_t cap = deflateBound(&z, (uLong)size) + 32;
    uint8_t *buf = malloc(cap);
    if (!buf) { deflateEnd(&z); return NULL; }
    z.next_in = (Bytef *)(uintptr_t)data;
    z.avail_in = (uInt)size;
    z.next_out = buf;
    z.avail_out = (uInt)cap;
    int r = deflate(&z, Z_FINISH);
    *out = cap - z.avail_out;
    deflateEnd(&z);
    if (r != Z_STREAM_END) { free(buf); return NULL; }
    return buf;
}

/* The plain file read directly against its gzip-compressed copy read by
 * libpcap: the same frames, then the same end. */
static void same_as_libpcap(const uint8_t *data, size_t size)
{
    size_t gzn;
    uint8_t *gz = gzip_of(data, size, &gzn);
    if (!gz) return;
    char p1[64], p2[64];
    int fd1 = mem_file(data, size, p1), fd2 = mem_file(gz, gzn, p2);
    free(gz);
    ni_error e1, e2;
    memset(&e1, 0, sizeof e1);
    memset(&e2, 0, sizeof e2);
    ni_source *s1 = fd1 >= 0 ? ni_source_open(p1, &e1) : NULL;
    ni_source *s2 = fd2 >= 0 ? ni_source_open(p2, &e2) : NULL;
    if (s1 && s2) {
        if (ni_source_linktype(s1) != ni_source_linktype(s2)) abort();
        ni_frame f1, f2;
        for (long n = 0; n < 1000000; n++) {
            int r1 = ni_source_next(s1, &f1, &e1), r2 = ni_source_next(s2, &f2, &e2);
            if (r1 != r2) abort();
            if (r1 != 1) {
                if (r1 < 0) {
                    const char *m1 = strstr(e1.msg, ": "), *m2 = strstr(e2.msg, ": ");
                    if (!m1 || !m2 || strcmp(m1, m2) != 0 || e1.code != e2.code) abort();
                }
                break;
            }
            if (f1.caplen != f2.caplen || f1.wirelen != f2.wirelen || f1.ts_us != f2.ts_us ||
                f1.linktype != f2.linktype || (f1.caplen && memcmp(f1.data, f2.data, f1.caplen) != 0))
                abort();
        }
    }
    if (s1) ni_source_close(s1);
    if (s2) ni_source_close(s2);
    if (fd1 >= 0) close(fd1);
    if (fd2 >= 0) close(fd2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = mem_file(data, size, path);
    if (fd < 0) return 0;
    ni_error e;
    memset(&e, 0, sizeof e);
    ni_source *s = ni_source_open(path, &e);
    if (!s) {
        check_msg(&e, path);
    } else {
        ni_frame f;
        ni_stats st;
        memset(&st, 0, sizeof st);
        int r;
        long frames = 0;
        while ((r = ni_source_next(s, &f, &e)) == 1) {
            if (f.caplen > 0 && !f.data) abort();
            ni_packet pk;
            ni_decode_frame(f.linktype, f.data, f.caplen, f.ts_us, &pk, &st);
            if (++frames > 1000000) break;
        }
        if (r < 0) check_msg(&e, path);
        uint64_t done, total;
        ni_source_progress(s, &done, &total);
        if (total != size || done > total) abort();
        ni_source_close(s);
    }
    close(fd);
    same_as_libpcap(data, size);
    return 0;
}
