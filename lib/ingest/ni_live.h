/* ni_live.h — live capture from a network interface through libpcap
 * (pcap_create / pcap_activate, pcap(3PCAP)): a source like a capture file,
 * except that it has no end of its own.  It ends cleanly after --count
 * packets or --duration seconds (0 from ni_live_next), and while nothing
 * arrives it returns "ticks" (the wall-clock time now) at least every
 * NI_LIVE_TICK_MS, so that the caller can advance its idle timeouts and
 * notice a stop request (a signal interrupts the wait at once).
 *
 * The handle is opened and activated by ni_live_open (the part that needs
 * privileges: CAP_NET_RAW); reading needs none, so the caller may drop them
 * in between.  The kernel's counters (pcap_stats: received, dropped by the
 * buffer, dropped by the interface) are read by ni_live_counters. */
#ifndef NI_LIVE_H
#define NI_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "netintel/netintel.h"
#include "ingest/ni_source.h"

#define NI_LIVE_SNAPLEN_DEFAULT 262144      /* libpcap's (and tcpdump's) default */
#define NI_LIVE_TICK_MS 200                 /* longest wait without returning */
#define NI_LIVE_TIMEOUT_MS 100              /* packet buffer timeout (pcap_set_timeout) */

typedef struct ni_live_config {
    int snaplen;                /* bytes kept of each frame; 0: NI_LIVE_SNAPLEN_DEFAULT */
    size_t buffer;              /* kernel buffer in bytes; 0: libpcap's default (2 MiB) */
    uint64_t count;             /* end after this many frames (after the filter); 0: no limit */
    int64_t duration_us;        /* end this long after activation; 0: no limit */
    const char *filter;         /* BPF expression, NULL none */
} ni_live_config;

typedef struct ni_live ni_live;

/* Opens and activates the interface (promiscuous mode, the snap length and
 * buffer asked, non-blocking) and sets the filter.  NULL + err
 * "<iface>: <problem>": NI_ERR_NOTFOUND (no such device), NI_ERR_IO
 * (permission denied: "capturing needs root or CAP_NET_RAW", interface
 * down...), NI_ERR_ARG (a filter libpcap cannot compile). */
ni_live *ni_live_open(const char *iface, const ni_live_config *cfg, ni_error *err);

/* 1: a frame in *f; 2: a tick, *now_us = the time (µs since the epoch) the
 * capture has surely reached: the wall clock less the buffer timeout when
 * idle, the last frame's time stamp when frames keep coming; nothing else; 0: the end (--count reached, --duration over);
 * -1: an error (err: "<iface>: <problem>", e.g. the interface went away). */
int ni_live_next(ni_live *l, ni_frame *f, int64_t *now_us, ni_error *err);

/* pcap_stats: frames the kernel received (ps_recv), dropped for lack of
 * buffer space (ps_drop), dropped by the interface or driver (ps_ifdrop;
 * 0 when unknown), as 64-bit totals (libpcap's 32-bit counters are
 * followed across their wrap: ni_live_next reads them often enough).
 * false when libpcap cannot tell. */
bool ni_live_counters(const ni_live *l, uint64_t *received, uint64_t *dropped, uint64_t *if_dropped);
const char *ni_live_name(const ni_live *l);
void ni_live_close(ni_live *l);

#endif
