/* ni_source.h — reading captures: pcap and pcapng files through libpcap, from
 * a path or "-" (standard input), with .gz and .zst files decompressed as a
 * stream (zlib / libzstd behind fopencookie, no temporary files).  A source
 * hands out frames one at a time with their link type and timestamp.
 * Errors name the file and the problem: "x.pcap: not a pcap or pcapng capture",
 * "x.pcap: truncated in the middle of a packet record". */
#ifndef NI_SOURCE_H
#define NI_SOURCE_H

#include <stdint.h>
#include "netintel/netintel.h"

typedef struct ni_source ni_source;

typedef struct ni_frame {
    int linktype;           /* pcap LINKTYPE_* of this frame */
    int64_t ts_us;          /* µs since epoch, UTC (nanosecond captures rounded down) */
    uint32_t caplen, wirelen;
    const uint8_t *data;    /* valid until the next ni_source_next / close */
} ni_frame;

/* Opens path ("-" = stdin).  On failure returns NULL and fills err with
 * "<path>: <problem>" (missing, a directory, unreadable, not a capture,
 * empty, corrupt compression...). */
ni_source *ni_source_open(const char *path, ni_error *err);

/* Next frame: returns 1 and fills *f, 0 at clean end of file, -1 on an error
 * (err says "<path>: <problem>"; frames already returned stay valid results). */
int ni_source_next(ni_source *src, ni_frame *f, ni_error *err);

/* Keeps only the frames that the BPF expression (pcap-filter(7)) accepts,
 * compiled by libpcap for this capture's link type (call it before the
 * first ni_source_next).  NI_ERR_ARG: "<path>: filter 'EXPR': <libpcap's
 * message>". */
ni_err ni_source_set_filter(ni_source *src, const char *expr, ni_error *err);
/* Whether libpcap compiles expr for Ethernet frames: NI_OK, or NI_ERR_ARG
 * with "filter 'EXPR': <libpcap's message>". */
ni_err ni_source_check_filter(const char *expr, ni_error *err);

/* Link type of the first interface (pcap: the file's). */
int ni_source_linktype(const ni_source *src);
const char *ni_source_path(const ni_source *src);
/* Bytes of the (compressed) input consumed so far and the total size when
 * known (regular files), for progress display; total is 0 when unknown. */
void ni_source_progress(const ni_source *src, uint64_t *done, uint64_t *total);
void ni_source_close(ni_source *src);

#endif
