/* ni_source.c — capture sources: pcap (tcpdump.org "pcap" file format) and
 * pcapng (draft-ietf-opsawg-pcapng) files read through libpcap, from a path or
 * standard input, optionally gzip (RFC 1952, via zlib) or zstd (RFC 8878, via
 * libzstd's streaming API) compressed.
 *
 * Layers, bottom up, all owned by one ni_source (no globals, so any number
 * of sources can be open at once):
 *   raw      read(2) on the file descriptor; the first bytes are peeked to
 *            recognise the compression by magic (never by file name) and are
 *            replayed from `rpeek` before further reads.  Bytes read are
 *            counted for progress.
 *   decoded  gzip / zstd / identity decoding of the raw bytes.  The first
 *            decoded bytes are peeked again (`dpeek`) to check for a pcap or
 *            pcapng magic before libpcap sees them, and replayed.
 *   FILE*    fopencookie over `decoded`, handed to
 *            pcap_fopen_offline_with_tstamp_precision (microseconds), which
 *            owns it from then on (pcap_close fcloses it).  An uncompressed
 *            regular file skips the cookie: libpcap gets a FILE* of its own
 *            on a dup of the descriptor, rewound after the peeks.
 * A decoding error is kept on the source and reported instead of libpcap's
 * generic read error.  An uncompressed pcap or pcapng file in this
 * machine's byte order has its records read from a window of the file
 * instead, exactly as libpcap would return them, until one is not clean (see
 * "direct reading"). */
#include "ingest/ni_source.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define RAW_PEEK   6            /* longest compression magic we recognise (xz) */
#define DEC_PEEK   4            /* pcap / pcapng magic */
#define INBUF_SIZE (64u * 1024)
#define FILE_BUF   (1024u * 1024)

typedef enum comp { COMP_NONE, COMP_GZIP, COMP_ZSTD } comp;

struct ni_source {
    char *path;                 /* owned copy of the name given to open */
    int fd;                     /* owned unless it is stdin */
    bool is_stdin;
    uint64_t done, total;       /* raw bytes read; file size (0 unknown) */

    uint8_t rpeek[RAW_PEEK];    /* raw peek, replayed first */
    size_t rpeek_len, rpeek_pos;
    bool raw_eof;

    comp kind;
    uint8_t *in;                /* compressed input buffer (INBUF_SIZE) */
    size_t in_len, in_pos;
    z_stream zs;
    bool zs_live, z_member_end;
    ZSTD_DStream *zd;
    size_t zstd_last;           /* last ZSTD_decompressStream hint: 0 = frame complete */
    bool dec_eof;
    char dec_err[160];          /* decoding or read failure, "" if none */
    ni_err dec_code;

    uint8_t dpeek[DEC_PEEK];    /* decoded peek, replayed first */
    size_t dpeek_len, dpeek_pos;

    pcap_t *pc;                 /* owns the cookie FILE* once opened */
    bool direct;                /* pc reads a FILE* on a dup of fd, not the cookie */
    bool classic;               /* a pcap file (not pcapng): its seconds are unsigned */
    bool classic_us;            /* ... with microseconds */
    /* direct reading (below): records read from a window of fd */
    bool direct_rd;
    bool ng;                    /* pcapng: blocks (else classic pcap records) */
    bool nano;                  /* classic pcap: nanosecond time stamps (scaled down to µs) */
    uint8_t ng_if[64];          /* pcapng: per interface of the section, NG_IF_* */
    uint32_t ng_nif;            /* interfaces in ng_if */
    uint32_t ng_visits;         /* blocks libpcap read before direct reading resumed */
    uint64_t moff, msize;       /* next record's offset; the file's size */
    uint32_t msnap;             /* the header's snapshot length */
    const uint8_t *win;         /* the window: bytes [woff, woff + wlen) of the file */
    uint8_t *wbuf;              /* its buffer (NI_READ_WIN + MAP_SNAP_MAX + 16 bytes) */
    uint64_t woff;
    size_t wlen;
    int linktype;
    bool failed;                /* a read error was reported; stays failed */
    char failmsg[NI_ERRMSG_MAX];
    ni_err failcode;
};

/* ---- raw layer ---------------------------------------------------------- */

/* Reads up to n raw bytes; returns the count, 0 at end of file, -1 on error
 * (errno set). */
static ssize_t raw_read(ni_source *s, uint8_t *buf, size_t n)
{
    if (s->rpeek_pos < s->rpeek_len) {
        size_t k = s->rpeek_len - s->rpeek_pos;
        if (k > n) k = n;
        memcpy(buf, s->rpeek + s->rpeek_pos, k);
        s->rpeek_pos += k;
        return (ssize_t)k;
    }
    if (s->raw_eof) return 0;
    for (;;) {
        ssize_t r = read(s->fd, buf, n);
        if (r < 0 && errno == EINTR) continue;
        if (r == 0) s->raw_eof = true;
        if (r > 0) s->done += (uint64_t)r;
        return r;
    }
}

/* Fills buf with up to n bytes, retrying short reads (pipes). */
static ssize_t raw_read_full(ni_source *s, uint8_t *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = raw_read(s, buf + got, n - got);
        if (r < 0) return -1;
        if (r == 0) break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* Makes compressed input available; returns false at end of input or on a
 * read error (which is recorded). */
static bool fill_input(ni_source *s)
{
    if (s->in_pos < s->in_len) return true;
    ssize_t r = raw_read(s, s->in, INBUF_SIZE);
    if (r < 0) {
        s->dec_code = NI_ERR_IO;
        snprintf(s->dec_err, sizeof s->dec_err, "read error: %s", strerror(errno));
        return false;
    }
    s->in_len = (size_t)r;
    s->in_pos = 0;
    return r > 0;
}

/* ---- decoded layer ------------------------------------------------------ */

static ssize_t dec_fail(ni_source *s, ni_err code, const char *fmt, const char *detail)
{
    s->dec_code = code;
    snprintf(s->dec_err, sizeof s->dec_err, fmt, detail);
    return -1;
}

static ssize_t gzip_read(ni_source *s, uint8_t *buf, size_t n)
{
    for (;;) {
        if (s->z_member_end) {
            /* RFC 1952 section 2.2: a file is a series of members.  Another
             * member follows only if its magic does; anything else after the
             * last member is ignored, as gzip(1) does. */
            bool more = fill_input(s);
            if (s->dec_err[0]) return -1;
            if (!more || s->in[s->in_pos] != 0x1f) { s->dec_eof = true; return 0; }
            if (inflateReset(&s->zs) != Z_OK)
                return dec_fail(s, NI_ERR_FORMAT, "corrupt gzip stream (%s)", "reset");
            s->z_member_end = false;
        }
        bool have = fill_input(s);
        if (s->dec_err[0]) return -1;
        /* Without new input inflate may still flush output it holds. */
        s->zs.next_in = have ? s->in + s->in_pos : s->in;
        s->zs.avail_in = have ? (uInt)(s->in_len - s->in_pos) : 0;
        s->zs.next_out = buf;
        s->zs.avail_out = (uInt)(n > UINT32_MAX ? UINT32_MAX : n);
        int rc = inflate(&s->zs, Z_NO_FLUSH);
        if (have) s->in_pos = s->in_len - s->zs.avail_in;
        size_t out = (size_t)(s->zs.next_out - buf);
        if (rc == Z_STREAM_END) s->z_member_end = true;
        else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            /* hand out what was decoded before the damage; the next call fails */
            dec_fail(s, NI_ERR_FORMAT, "corrupt gzip stream (%s)",
                     s->zs.msg ? s->zs.msg : zError(rc));
            return out > 0 ? (ssize_t)out : -1;
        }
        if (out > 0) return (ssize_t)out;
        if (!have && !s->z_member_end)
            return dec_fail(s, NI_ERR_FORMAT, "corrupt gzip stream (%s)",
                            "unexpected end of compressed data");
    }
}

static ssize_t zstd_read(ni_source *s, uint8_t *buf, size_t n)
{
    for (;;) {
        bool have = fill_input(s);
        if (s->dec_err[0]) return -1;
        if (!have && s->zstd_last == 0) { s->dec_eof = true; return 0; }
        /* Without new input the decoder may still flush output it holds. */
        ZSTD_inBuffer zin = { s->in, have ? s->in_len : 0, have ? s->in_pos : 0 };
        ZSTD_outBuffer zout = { buf, n, 0 };
        size_t rc = ZSTD_decompressStream(s->zd, &zout, &zin);
        if (ZSTD_isError(rc))
            return dec_fail(s, NI_ERR_FORMAT, "corrupt zstd stream (%s)", ZSTD_getErrorName(rc));
        if (have) s->in_pos = zin.pos;
        if (have || zout.pos > 0) s->zstd_last = rc;
        if (zout.pos > 0) return (ssize_t)zout.pos;
        if (!have)
            return dec_fail(s, NI_ERR_FORMAT, "corrupt zstd stream (%s)",
                            "unexpected end of compressed data");
    }
}

static ssize_t dec_read(ni_source *s, uint8_t *buf, size_t n)
{
    if (s->dpeek_pos < s->dpeek_len) {
        size_t k = s->dpeek_len - s->dpeek_pos;
        if (k > n) k = n;
        memcpy(buf, s->dpeek + s->dpeek_pos, k);
        s->dpeek_pos += k;
        return (ssize_t)k;
    }
    if (n == 0) return 0;
    if (s->dec_err[0]) return -1;
    if (s->dec_eof) return 0;
    switch (s->kind) {
    case COMP_GZIP: return gzip_read(s, buf, n);
    case COMP_ZSTD: return zstd_read(s, buf, n);
    default: {
        ssize_t r = raw_read(s, buf, n);
        if (r < 0) {
            s->dec_code = NI_ERR_IO;
            snprintf(s->dec_err, sizeof s->dec_err, "read error: %s", strerror(errno));
        }
        return r;
    }
    }
}

/* fopencookie callbacks.  libpcap owns the FILE; closing it leaves the
 * source (freed by ni_source_close) alone. */
static ssize_t cookie_read(void *cookie, char *buf, size_t n)
{
    ni_source *s = cookie;
    ssize_t r = dec_read(s, (uint8_t *)buf, n);
    if (r < 0) errno = EIO;
    return r;
}

static int cookie_close(void *cookie)
{
    (void)cookie;
    return 0;
}

/* ---- open / read / close ------------------------------------------------ */

static bool is_capture_magic(const uint8_t *m)
{
    static const uint8_t magics[][4] = {
        { 0xa1, 0xb2, 0xc3, 0xd4 }, { 0xd4, 0xc3, 0xb2, 0xa1 },  /* pcap, µs */
        { 0xa1, 0xb2, 0x3c, 0x4d }, { 0x4d, 0x3c, 0xb2, 0xa1 },  /* pcap, ns */
        { 0xa1, 0xb2, 0xcd, 0x34 }, { 0x34, 0xcd, 0xb2, 0xa1 },  /* Kuznetzov pcap */
        { 0x0a, 0x0d, 0x0d, 0x0a },                              /* pcapng SHB */
    };
    for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++)
        if (memcmp(m, magics[i], 4) == 0) return true;
    return false;
}

/* Turns libpcap's wording into ours; returns the error code. */
static ni_err map_pcap_error(const char *path, const char *pmsg, bool at_open, ni_error *err)
{
    if (strstr(pmsg, "different from the type of the first interface"))
        return ni_error_set(err, NI_ERR_UNSUPPORTED,
                            "%s: pcapng interfaces have different link types (%s)", path, pmsg);
    if (strstr(pmsg, "snapshot length") && strstr(pmsg, "first interface"))
        return ni_error_set(err, NI_ERR_UNSUPPORTED,
                            "%s: pcapng interfaces have different snapshot lengths (%s)", path, pmsg);
    if (strstr(pmsg, "truncated")) {
        if (at_open)
            return ni_error_set(err, NI_ERR_TRUNCATED, "%s: truncated capture file header", path);
        return ni_error_set(err, NI_ERR_TRUNCATED,
                            "%s: truncated in the middle of a packet record", path);
    }
    if (strstr(pmsg, "unknown file format"))
        return ni_error_set(err, NI_ERR_FORMAT, "%s: not a pcap or pcapng capture", path);
    return ni_error_set(err, NI_ERR_FORMAT, "%s: corrupt capture (%s)", path, pmsg);
}

static void source_free(ni_source *s)
{
    if (!s) return;
    free(s->wbuf);
    if (s->pc) pcap_close(s->pc);
    if (s->zs_live) inflateEnd(&s->zs);
    if (s->zd) ZSTD_freeDStream(s->zd);
    free(s->in);
    if (s->fd >= 0 && !s->is_stdin) close(s->fd);
    free(s->path);
    free(s);
}

/* Fills err with "<path>: <what>", frees s, returns NULL. */
static ni_source *fail(ni_source *s, ni_error *err, ni_err code, const char *what)
{
    ni_error_set(err, code, "%s: %s", s->path, what);
    source_free(s);
    return NULL;
}

/* ---- direct reading ---------------------------------------------------------
 * An uncompressed classic pcap file in this machine's byte order, with
 * microsecond timestamps, version 2.4, a snapshot length libpcap keeps as
 * is (1..262144) and a link type whose number libpcap hands back unchanged,
 * is read by netintel instead of through libpcap (whose per-packet work,
 * with stdio's copies, is ~500 instructions): a record is returned exactly
 * as libpcap would return it.  Anything else about a record — a caplen
 * above the snapshot length or above its wire length, a record cut short by
 * the end of the file — hands the rest of the file to libpcap at that
 * record (its FILE* is moved there), so such files get libpcap's handling
 * and messages.  libpcap keeps the header checks, link types, filters and
 * every other format.
 * The same holds for a nanosecond pcap file (its time stamps divided by
 * 1000, as libpcap does when asked for microseconds) and for a pcapng file
 * in this machine's byte order whose first interface (the one libpcap read
 * when it opened the file) has a link type as above, micro- or nanosecond
 * time stamps and no time offset: its Enhanced Packet Blocks on that
 * interface are read directly, the blocks libpcap ignores (name
 * resolution, statistics, secrets, custom, unknown) skipped after the same
 * checks libpcap makes of every block (length, multiple of 4, trailer); a
 * block of any other kind (an interface's, a Simple or obsolete Packet
 * Block) or one that is not clean is read by libpcap instead, from that
 * block to the next packet (a "visit": its FILE* moved there), so its state
 * is what it would have been had it read every block itself; direct reading
 * resumes after that packet, knowing the interfaces libpcap learnt (an
 * interface with other time stamps is libpcap's to read, one visit a
 * packet).  A new section, an error, or more than NG_VISITS_MAX visits
 * leave the rest of the file to libpcap.
 * The file is read with pread(2) into one window of NI_READ_WIN bytes
 * (256 KiB: it stays in the CPU's cache between the kernel's copy and the
 * decoder), refilled from the next record when a record does not fit.  A
 * window mapped from the file was measured slower (populating and unmapping
 * 4 MiB windows, whose unmapping interrupts the other threads of a -j run
 * to flush their TLBs) and would fault if the file were cut while in use; a
 * file cut short while being read is simply an end that libpcap reports. */
#ifndef NI_READ_WIN
#define NI_READ_WIN (256u << 10)
#endif
#define MAP_SNAP_MAX 262144u

static inline uint32_t le32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);               /* little-endian: one load on this host */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}

static bool known_linktype(uint32_t lt, int dlt_as_linktype)
{
    static const uint32_t linktypes[] = { 0, 1, 101, 108, 113, 228, 229, 276 };
    for (size_t i = 0; i < sizeof linktypes / sizeof linktypes[0]; i++)
        if (lt == linktypes[i]) return (int)lt == dlt_as_linktype;
    return false;
}

#define NG_SHB 0x0a0d0d0au
#define NG_IDB 1u
#define NG_PB  2u
#define NG_SPB 3u
#define NG_EPB 6u
#define NG_BLOCK_MAX (NI_READ_WIN + MAP_SNAP_MAX)   /* larger blocks go to libpcap */
#define NG_VISITS_MAX 64u     /* each costs libpcap's refill of its stdio buffer */
enum { NG_IF_LIBPCAP, NG_IF_US, NG_IF_NS };          /* an interface's time stamps */

/* libpcap's checks of every block, its total length n from its header:
 * at least 12 bytes, a multiple of 4, within the avail bytes at b, the
 * trailer's length the same. */
static inline bool ng_clean(const uint8_t *b, uint32_t n, uint64_t avail)
{
    return n >= 12 && n % 4 == 0 && n <= avail && le32(b + n - 4) == n;
}

/* The pcapng block at off if it passes ng_clean and fits the window; NULL
 * otherwise.  *len: its total length. */
static const uint8_t *direct_at(ni_source *s, uint64_t off, size_t n);
static const uint8_t *ng_block(ni_source *s, uint64_t off, uint32_t *len)
{
    if (s->msize - off < 12) return NULL;
    const uint8_t *b = direct_at(s, off, 8);
    if (!b) return NULL;
    uint32_t n = le32(b + 4);
    if (n < 12 || n > NG_BLOCK_MAX || n > s->msize - off || !(b = direct_at(s, off, n)) ||
        !ng_clean(b, n, n))
        return NULL;
    *len = n;
    return b;
}

/* How an interface's packets are read (NG_IF_*), from its IDB b (n bytes,
 * which passed ng_block's checks and libpcap's): directly when its time
 * stamps are micro- or nanoseconds without an offset. */
static uint8_t ng_if_kind(const uint8_t *b, uint32_t n)
{
    if (n < 20) return NG_IF_LIBPCAP;
    uint8_t kind = NG_IF_US;
    for (uint32_t o = 16; o + 4 <= n - 4;) {          /* options: if_tsresol (9), if_tsoffset (14) */
        uint16_t code = (uint16_t)(b[o] | b[o + 1] << 8), olen = (uint16_t)(b[o + 2] | b[o + 3] << 8);
        if (code == 0) break;
        if ((uint64_t)o + 4 + olen > n - 4) return NG_IF_LIBPCAP;
        if (code == 9) {
            if (olen != 1 || (b[o + 4] != 6 && b[o + 4] != 9)) return NG_IF_LIBPCAP;
            kind = b[o + 4] == 9 ? NG_IF_NS : NG_IF_US;
        }
        if (code == 14) return NG_IF_LIBPCAP;          /* a time offset: libpcap's arithmetic */
        o += 4 + ((olen + 3u) & ~3u);
    }
    return kind;
}

/* pcapng: the section header and the blocks up to the first interface's,
 * as libpcap read them when it opened the file; direct reading starts
 * after them when that interface's time stamps and link type allow. */
static void ng_start(ni_source *s)
{
    uint32_t n;
    const uint8_t *b = ng_block(s, 0, &n);
    /* byte-order magic of this machine (little-endian), version 1 */
    if (!b || n < 28 || le32(b + 8) != 0x1a2b3c4du || (b[12] | b[13] << 8) != 1) return;
    uint64_t off = n;
    for (;;) {
        if (!(b = ng_block(s, off, &n))) return;
        uint32_t type = le32(b);
        if (type == NG_IDB) break;
        if (type == NG_SHB || type == NG_EPB || type == NG_SPB || type == NG_PB) return;
        off += n;
    }
    uint8_t kind = ng_if_kind(b, n);
    if (kind == NG_IF_LIBPCAP || !known_linktype((uint32_t)(b[8] | b[9] << 8), s->linktype)) return;
    off += n;
    FILE *fp = pcap_file(s->pc);
    int snap = pcap_snapshot(s->pc);
    if (!fp || ftello(fp) != (off_t)off || snap < 1 || (uint32_t)snap > MAP_SNAP_MAX) return;
    s->direct_rd = true;
    s->ng = true;
    s->ng_if[0] = kind;
    s->ng_nif = 1;
    s->moff = off;
    s->msnap = (uint32_t)snap;
}

static void direct_start(ni_source *s)
{
    uint8_t h[24];
    struct stat st;
    if (pread(s->fd, h, sizeof h, 0) != (ssize_t)sizeof h || fstat(s->fd, &st) != 0 || !S_ISREG(st.st_mode))
        return;
    s->msize = (uint64_t)st.st_size;
    uint32_t magic = le32(h), snap = le32(h + 16), lt = le32(h + 20);
    if (magic == NG_SHB) { ng_start(s); return; }
    uint16_t vmaj = (uint16_t)(h[4] | h[5] << 8), vmin = (uint16_t)(h[6] | h[7] << 8);
    if ((magic != 0xa1b2c3d4u && magic != 0xa1b23c4du) || vmaj != 2 || vmin != 4 || snap == 0 ||
        snap > MAP_SNAP_MAX || !known_linktype(lt, s->linktype))
        return;
    s->direct_rd = true;
    s->nano = magic == 0xa1b23c4du;
    s->moff = sizeof h;
    s->msnap = snap;
}

/* Hands the file to libpcap from the next record on. */
static void direct_stop(ni_source *s)
{
    s->direct_rd = false;
    s->win = NULL; s->wlen = 0;
    FILE *fp = pcap_file(s->pc);
    if (!fp || fseeko(fp, (off_t)s->moff, SEEK_SET) != 0) {
        s->failed = true;
        s->failcode = NI_ERR_IO;
        snprintf(s->failmsg, sizeof s->failmsg, "%s: %s", s->path, strerror(errno ? errno : EIO));
    }
}

/* Bytes [off, off + n) of the file in the window (n <= NI_READ_WIN +
 * MAP_SNAP_MAX + 16); NULL when they cannot be read (an error, or a file
 * cut short since it was opened). */
static const uint8_t *direct_at(ni_source *s, uint64_t off, size_t n)
{
    if (s->win && off >= s->woff && off + n <= s->woff + s->wlen) return s->win + (off - s->woff);
    s->win = NULL;
    if (!s->wbuf && !(s->wbuf = malloc(NI_READ_WIN + MAP_SNAP_MAX + 16))) return NULL;
    uint64_t len = NI_READ_WIN > n ? NI_READ_WIN : n;
    if (len > s->msize - off) len = s->msize - off;
    if (n > len) return NULL;
    size_t got = 0;
    while (got < len) {
        ssize_t r = pread(s->fd, s->wbuf + got, (size_t)len - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    if (got < n) return NULL;       /* cut short since it was opened: libpcap reports it */
    s->win = s->wbuf; s->woff = off; s->wlen = got;
    return s->win;
}

/* A classic record libpcap would return as it is: caplen within the
 * snapshot length and the wire length; in a nanosecond file, a fraction
 * below one second (libpcap's scaling of others is its own). */
static inline bool rec_clean(const ni_source *s, const uint8_t *h, uint32_t caplen, uint32_t len)
{
    return caplen <= s->msnap && caplen <= len && (!s->nano || le32(h + 4) < 1000000000u);
}

/* The frame of the clean record at h (its 16-byte header, then caplen
 * bytes); moves past it.  Always 1. */
static inline int direct_frame(ni_source *s, ni_frame *f, const uint8_t *h, uint32_t caplen, uint32_t len)
{
    f->linktype = s->linktype;
    f->ts_us = (int64_t)le32(h) * 1000000 + (int64_t)(s->nano ? le32(h + 4) / 1000 : le32(h + 4));
    f->caplen = caplen;
    f->wirelen = len;
    f->data = h + 16;
    s->moff += 16 + (uint64_t)caplen;
    return 1;
}

/* ni_source_next's direct case: 1 a frame, 0 end of file, -1 handed over
 * to libpcap (or failed). */
static int direct_next(ni_source *s, ni_frame *f)
{
    if (s->moff == s->msize) return 0;
    const uint8_t *h = s->msize - s->moff >= 16 ? direct_at(s, s->moff, 16) : NULL;
    uint32_t caplen = h ? le32(h + 8) : 0, len = h ? le32(h + 12) : 0;
    if (!h || !rec_clean(s, h, caplen, len) || s->msize - s->moff - 16 < caplen ||
        !(h = direct_at(s, s->moff, 16 + (size_t)caplen))) {
        direct_stop(s);
        return -1;
    }
    return direct_frame(s, f, h, caplen, len);
}

/* The frame of the Enhanced Packet Block at b (n bytes, which passed
 * ng_block's checks) if libpcap would return it as it is: on an interface
 * read directly, caplen within the block, the snapshot length and the wire
 * length, a time stamp below 2^62; moves past it.  0 if not clean. */
static inline int ng_epb(ni_source *s, ni_frame *f, const uint8_t *b, uint32_t n)
{
    uint32_t ifid = n >= 32 ? le32(b + 8) : UINT32_MAX;
    if (ifid >= s->ng_nif || s->ng_if[ifid] == NG_IF_LIBPCAP) return 0;
    uint64_t t = (uint64_t)le32(b + 12) << 32 | le32(b + 16);
    uint32_t caplen = le32(b + 20), len = le32(b + 24);
    if (caplen > s->msnap || caplen > len || caplen > n - 32 || t >> 62) return 0;
    f->linktype = s->linktype;
    f->ts_us = (int64_t)(s->ng_if[ifid] == NG_IF_NS ? t / 1000 : t);
    f->caplen = caplen;
    f->wirelen = len;
    f->data = b + 28;
    s->moff += n;
    return 1;
}

/* direct_next for pcapng: skips the blocks libpcap ignores; anything else
 * than a clean Enhanced Packet Block hands the file over at that block
 * (for a visit, see source_next). */
static int ng_next(ni_source *s, ni_frame *f)
{
    for (;;) {
        if (s->moff == s->msize) return 0;
        uint32_t n;
        const uint8_t *b = ng_block(s, s->moff, &n);
        if (!b) break;
        uint32_t type = le32(b);
        if (type == NG_EPB) {
            if (ng_epb(s, f, b, n)) return 1;
            break;
        }
        if (type == NG_SHB || type == NG_IDB || type == NG_SPB || type == NG_PB) break;
        s->moff += n;
    }
    direct_stop(s);
    return -1;
}

ni_source *ni_source_open(const char *path, ni_error *err)
{
    if (!path) {
        ni_error_set(err, NI_ERR_ARG, "(null): no capture path given");
        return NULL;
    }
    ni_source *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path);
        return NULL;
    }
    s->fd = -1;
    s->linktype = -1;

    struct stat st;
    if (strcmp(path, "-") == 0) {
        s->fd = STDIN_FILENO;
        s->is_stdin = true;
        if (fstat(s->fd, &st) == 0 && S_ISREG(st.st_mode)) s->total = (uint64_t)st.st_size;
    } else {
        if (stat(path, &st) != 0) {
            int e = errno;
            return fail(s, err, e == ENOENT || e == ENOTDIR ? NI_ERR_NOTFOUND : NI_ERR_IO, e == ENOENT || e == ENOTDIR ? "no such file" : strerror(e));
        }
        if (S_ISDIR(st.st_mode)) return fail(s, err, NI_ERR_ARG, "is a directory");
        s->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (s->fd < 0) {
            int e = errno;
            return fail(s, err, e == ENOENT ? NI_ERR_NOTFOUND : NI_ERR_IO,
                        e == EACCES ? "permission denied" : strerror(e));
        }
        if (fstat(s->fd, &st) == 0 && S_ISREG(st.st_mode)) {
            s->total = (uint64_t)st.st_size;
            if (st.st_size == 0) return fail(s, err, NI_ERR_FORMAT, "empty file");
        }
    }

    /* Compression by magic bytes. */
    ssize_t r = raw_read_full(s, s->rpeek, RAW_PEEK);
    if (r < 0) return fail(s, err, NI_ERR_IO, strerror(errno));
    s->rpeek_len = (size_t)r;
    if (r == 0) return fail(s, err, NI_ERR_FORMAT, "empty file");
    const uint8_t *m = s->rpeek;
    if (r >= 2 && m[0] == 0x1f && m[1] == 0x8b) {
        s->kind = COMP_GZIP;
        if (inflateInit2(&s->zs, 16 + MAX_WBITS) != Z_OK)
            return fail(s, err, NI_ERR_NOMEM, "cannot initialise zlib");
        s->zs_live = true;
    } else if (r >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) {
        s->kind = COMP_ZSTD;
        s->zd = ZSTD_createDStream();
        if (!s->zd || ZSTD_isError(ZSTD_initDStream(s->zd)))
            return fail(s, err, NI_ERR_NOMEM, "cannot initialise libzstd");
    } else if (r >= 6 && memcmp(m, "\xfd" "7zXZ\0", 6) == 0) {
        return fail(s, err, NI_ERR_UNSUPPORTED, "xz compression is not supported (use gzip or zstd)");
    } else if (r >= 3 && memcmp(m, "BZh", 3) == 0) {
        return fail(s, err, NI_ERR_UNSUPPORTED, "bzip2 compression is not supported (use gzip or zstd)");
    } else if (r >= 4 && memcmp(m, "\x04\x22\x4d\x18", 4) == 0) {
        return fail(s, err, NI_ERR_UNSUPPORTED, "lz4 compression is not supported (use gzip or zstd)");
    }
    if (s->kind != COMP_NONE && !(s->in = malloc(INBUF_SIZE)))
        return fail(s, err, NI_ERR_NOMEM, "out of memory");

    /* The (decoded) content must start with a capture magic. */
    size_t got = 0;
    while (got < DEC_PEEK) {
        ssize_t k = dec_read(s, s->dpeek + got, DEC_PEEK - got);
        if (k < 0) return fail(s, err, s->dec_code, s->dec_err);
        if (k == 0) break;
        got += (size_t)k;
    }
    s->dpeek_len = got;
    if (got == 0)
        return fail(s, err, NI_ERR_FORMAT,
                    s->kind == COMP_NONE ? "empty file" : "empty after decompression");
    if (got < DEC_PEEK || !is_capture_magic(s->dpeek))
        return fail(s, err, NI_ERR_FORMAT, "not a pcap or pcapng capture");
    s->classic = s->dpeek[0] != 0x0a;
    s->classic_us = s->classic && s->dpeek[1] != 0x3c && s->dpeek[2] != 0x3c;   /* not ns */

    /* An uncompressed regular file goes to libpcap as a plain FILE* on it
     * (rewound; a dup of the descriptor, so the offset is shared and gives
     * the progress): stdio's own read path, without the cookie's per-call
     * layers (about 0.5 µs a packet less).  Anything else through the
     * cookie. */
    FILE *fp = NULL;
    struct stat rst;
    if (s->kind == COMP_NONE && !s->is_stdin && fstat(s->fd, &rst) == 0 && S_ISREG(rst.st_mode) &&
        lseek(s->fd, 0, SEEK_SET) == 0) {
        int fd2 = dup(s->fd);
        if (fd2 >= 0 && !(fp = fdopen(fd2, "r"))) close(fd2);
        if (fp) s->direct = true;
        else if (lseek(s->fd, (off_t)(s->rpeek_len), SEEK_SET) != (off_t)s->rpeek_len)
            return fail(s, err, NI_ERR_IO, strerror(errno));
    }
    static const cookie_io_functions_t io = { .read = cookie_read, .close = cookie_close };
    if (!fp) fp = fopencookie(s, "r", io);
    if (!fp) return fail(s, err, NI_ERR_NOMEM, "out of memory");
    setvbuf(fp, NULL, _IOFBF, FILE_BUF);
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    s->pc = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
    if (!s->pc) {
        fclose(fp);                     /* libpcap does not take it on failure */
        if (s->dec_err[0]) return fail(s, err, s->dec_code, s->dec_err);
        map_pcap_error(s->path, ebuf, true, err);
        source_free(s);
        return NULL;
    }
    /* libpcap hands out DLT_ values; the frame contract is LINKTYPE_. */
    int dlt = pcap_datalink(s->pc);
    s->linktype = dlt == DLT_RAW ? 101 : dlt;
    if (s->direct) direct_start(s);
    return s;
}

static int pcap_next_frame(ni_source *s, ni_frame *f, ni_error *err);

/* After a visit that began at `from` and left libpcap's FILE* after the
 * packet it returned: the blocks it read, walked again to learn the
 * interfaces; direct reading resumes after the packet unless one of them
 * was a section header (or cannot be walked, or there are more interfaces
 * than ng_if holds). */
static void ng_resume(ni_source *s, uint64_t from)
{
    FILE *fp = pcap_file(s->pc);
    off_t to = fp ? ftello(fp) : -1;
    if (to < 0 || (uint64_t)to <= from || (uint64_t)to > s->msize) return;
    uint32_t nif = s->ng_nif;
    uint8_t kinds[sizeof s->ng_if];
    memcpy(kinds, s->ng_if, sizeof kinds);
    for (uint64_t off = from; off < (uint64_t)to;) {     /* blocks libpcap has checked */
        const uint8_t *b = (uint64_t)to - off >= 12 ? direct_at(s, off, 8) : NULL;
        uint32_t n = b ? le32(b + 4) : 0;
        if (!b || n < 12 || n > (uint64_t)to - off || le32(b) == NG_SHB) return;
        if (le32(b) == NG_IDB) {
            if (nif == sizeof kinds || !(b = ng_block(s, off, &n))) return;
            kinds[nif++] = ng_if_kind(b, n);
        }
        off += n;
    }
    memcpy(s->ng_if, kinds, sizeof kinds);
    s->ng_nif = nif;
    s->moff = (uint64_t)to;
    s->direct_rd = true;
}

/* ni_source_next past its common case (see there). */
static int __attribute__((noinline)) source_next(ni_source *s, ni_frame *f, ni_error *err)
{
    if (s->failed) {
        ni_error_set(err, s->failcode, "%s", s->failmsg);
        return -1;
    }
    if (s->direct_rd) {
        int m = s->ng ? ng_next(s, f) : direct_next(s, f);
        if (m >= 0) return m;
        if (s->failed) {
            ni_error_set(err, s->failcode, "%s", s->failmsg);
            return -1;
        }
        if (s->ng && ++s->ng_visits <= NG_VISITS_MAX) {      /* a visit */
            uint64_t from = s->moff;
            int r = pcap_next_frame(s, f, err);
            if (r == 1) ng_resume(s, from);
            return r;
        }
    }
    return pcap_next_frame(s, f, err);
}

/* The next frame through libpcap. */
static int pcap_next_frame(ni_source *s, ni_frame *f, ni_error *err)
{
    struct pcap_pkthdr *h;
    const u_char *d;
    int r = pcap_next_ex(s->pc, &h, &d);
    if (r == 1) {
        f->linktype = s->linktype;
        /* A pcap record's seconds (and microseconds) are unsigned 32-bit
         * numbers (draft-ietf-opsawg-pcap); libpcap 1.10 hands them out
         * sign-extended, so a time past 2038 would come out before 1970,
         * and differ from direct reading's.  A pcapng time stamp is 64 bits
         * of any unit: past 2^63 µs it wraps (computed unsigned: no
         * overflow). */
        if (s->classic)
            f->ts_us = (int64_t)(uint32_t)h->ts.tv_sec * 1000000 +
                       (s->classic_us ? (int64_t)(uint32_t)h->ts.tv_usec : (int64_t)h->ts.tv_usec);
        else
            f->ts_us = (int64_t)((uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec);
        f->caplen = h->caplen;
        f->wirelen = h->len;
        f->data = d;
        return 1;
    }
    ni_error tmp;
    if (s->dec_err[0]) {
        ni_error_set(&tmp, s->dec_code, "%s: %s", s->path, s->dec_err);
    } else if (r == PCAP_ERROR_BREAK || r == 0) {
        return 0;                       /* clean end of file */
    } else {
        map_pcap_error(s->path, pcap_geterr(s->pc), false, &tmp);
    }
    s->failed = true;
    s->failcode = tmp.code;
    memcpy(s->failmsg, tmp.msg, sizeof s->failmsg);
    if (err) *err = tmp;
    return -1;
}

int ni_source_next(ni_source *s, ni_frame *f, ni_error *err)
{
    /* The common case of direct reading: a clean record inside the current
     * window (which lies inside the file), read with one bounds check.
     * Anything else (the window's end, the file's end, a record libpcap
     * must judge, every other reader) is source_next's. */
    if (s->direct_rd && s->win && s->moff >= s->woff) {
        uint64_t in = s->moff - s->woff;
        if (s->ng) {
            if (in + 8 <= s->wlen) {
                const uint8_t *b = s->win + in;
                uint32_t n = le32(b + 4);
                if (le32(b) == NG_EPB && ng_clean(b, n, s->wlen - in) && ng_epb(s, f, b, n))
                    return 1;
            }
        } else if (in + 16 <= s->wlen) {
            const uint8_t *h = s->win + in;
            uint32_t caplen = le32(h + 8), len = le32(h + 12);
            if (rec_clean(s, h, caplen, len) && in + 16 + caplen <= s->wlen) {
                return direct_frame(s, f, h, caplen, len);
            }
        }
    }
    return source_next(s, f, err);
}

/* ---- BPF filters (pcap-filter(7)) ------------------------------------------ */
/* libpcap's messages may end in a newline or carry the expression again */
static const char *pcap_msg(pcap_t *pc)
{
    const char *m = pcap_geterr(pc);
    return m && *m ? m : "cannot compile";
}

ni_err ni_source_set_filter(ni_source *s, const char *expr, ni_error *err)
{
    if (s->direct_rd) direct_stop(s);      /* libpcap applies the filter */
    struct bpf_program prog;
    if (pcap_compile(s->pc, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0)
        return ni_error_set(err, NI_ERR_ARG, "%s: filter '%s': %s", s->path, expr, pcap_msg(s->pc));
    int r = pcap_setfilter(s->pc, &prog);
    pcap_freecode(&prog);
    if (r != 0) return ni_error_set(err, NI_ERR_ARG, "%s: filter '%s': %s", s->path, expr, pcap_msg(s->pc));
    return NI_OK;
}

ni_err ni_source_check_filter(const char *expr, ni_error *err)
{
    pcap_t *pc = pcap_open_dead(DLT_EN10MB, 262144);
    if (!pc) return ni_error_set(err, NI_ERR_NOMEM, "filter '%s': out of memory", expr);
    struct bpf_program prog;
    ni_err e = NI_OK;
    if (pcap_compile(pc, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0)
        e = ni_error_set(err, NI_ERR_ARG, "filter '%s': %s", expr, pcap_msg(pc));
    else
        pcap_freecode(&prog);
    pcap_close(pc);
    return e;
}

int ni_source_linktype(const ni_source *s) { return s->linktype; }
const char *ni_source_path(const ni_source *s) { return s->path; }

void ni_source_progress(const ni_source *s, uint64_t *done, uint64_t *total)
{
    if (done) {
        off_t at = s->direct_rd ? (off_t)s->moff : s->direct ? lseek(s->fd, 0, SEEK_CUR) : -1;
        *done = at >= 0 ? (uint64_t)at : s->done;
    }
    if (total) *total = s->total;
}

void ni_source_close(ni_source *s) { source_free(s); }
