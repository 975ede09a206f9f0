/* fuzz_source.c — libFuzzer target for lib/ingest/ni_source: the input bytes
 * are written to an in-memory file (memfd) that is opened by its
 * /proc/self/fd path like any capture — plain, gzip or zstd, pcap or pcapng
 * — and drained, every frame also going through the decoder.  Checks that a
 * failure always comes with a one-line "<path>: <problem>" message. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz_source", MFD_CLOEXEC);
    if (fd < 0) return 0;
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0) { close(fd); return 0; }
        off += (size_t)w;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
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
    return 0;
}
