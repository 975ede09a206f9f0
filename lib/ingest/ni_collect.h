/* ni_collect.h — where flow exports come from: UDP sockets a collector
 * listens on (IPv4 and IPv6, large receive buffers, datagrams read in
 * batches) and captures of export datagrams (pcap/pcapng through
 * ni_source + ni_decode).  Each UDP payload goes to a ni_netflow decoder
 * with its exporter's address and its receive time.
 *
 * The queue between the network and the decoder is the socket's receive
 * buffer (NI_COLLECT_RCVBUF asked, bounded by the kernel); what the kernel
 * drops when it is full is counted (Linux SO_RXQ_OVFL).  A run stops when
 * the caller's stop flag is set (by its signal handler: the library installs
 * none) or the duration has passed; it then reads whatever the sockets
 * already hold before returning, so the caller can finish the decoder and
 * lose nothing that was received.
 *
 * Ownership: the collector borrows the decoder, which must outlive it. */
#ifndef NI_COLLECT_H
#define NI_COLLECT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "netintel/netintel.h"
#include "ingest/ni_input.h"
#include "ingest/ni_netflow.h"

typedef struct ni_collect ni_collect;

typedef struct ni_collect_stats {
    uint64_t datagrams, bytes;      /* received */
    uint64_t kernel_drops;          /* dropped by the kernel: receive queue full */
    uint64_t oversized;             /* datagrams larger than the read buffer (cut) */
    uint64_t recv_errors;
    uint64_t capture_frames;        /* --read: frames of the capture */
    uint64_t capture_not_udp;       /* --read: frames that are not UDP (skipped) */
    uint64_t capture_cut;           /* --read: UDP payloads captured shorter than sent */
} ni_collect_stats;

/* "netintel: <where>: <problem>" lines come through this (decoder warnings
 * prefixed with the socket or file, the datagram's source and offset). */
typedef void (*ni_collect_warn)(void *ud, const char *msg);

ni_collect *ni_collect_new(ni_netflow *nf, ni_error *err);
void ni_collect_free(ni_collect *c);
void ni_collect_set_warn(ni_collect *c, ni_collect_warn fn, void *ud);

/* Opens and binds one socket: "udp://HOST:PORT" (HOST an IPv4 address, an
 * IPv6 address in brackets, or a name; PORT 0 = any free port).  Errors:
 * NI_ERR_ARG "udp://x: <problem>", NI_ERR_IO with the system's reason,
 * NI_ERR_LIMIT past NI_COLLECT_LISTEN_MAX sockets. */
ni_err ni_collect_listen(ni_collect *c, const char *spec, ni_error *err);
size_t ni_collect_sockets(const ni_collect *c);
/* The port socket i is bound to (useful after PORT 0). */
uint16_t ni_collect_port(const ni_collect *c, size_t i);

/* Receives until *stop becomes non-zero or duration_us passes (0 = no
 * limit), then drains the sockets.  Returns NI_OK, or the decoder's sink
 * error.  Pending pairs are expired once a second meanwhile; the caller
 * calls ni_netflow_finish afterwards. */
ni_err ni_collect_run(ni_collect *c, const volatile sig_atomic_t *stop, int64_t duration_us, ni_error *err);

/* Reads a capture of export datagrams ("-" = standard input): every UDP
 * payload goes to the decoder with the capture's timestamp.  Errors are the
 * capture's ("<path>: <problem>"), after everything before the damage was
 * decoded; a sink error also stops the read. */
ni_err ni_collect_read(ni_collect *c, const char *path, ni_error *err);

const ni_collect_stats *ni_collect_stats_get(const ni_collect *c);

/* ---- the "flows" source of the one source interface (ingest/ni_input) ----
 * A capture whose first frames (up to 16) are all UDP datagrams with a
 * consistent NetFlow v5/v9 or IPFIX header is read as flow exports: its items
 * are the sessions the decoder makes (default configuration), so `sessions`
 * and `profile` read such captures as they read packets.  Only regular
 * files are probed (standard input, pipes and devices cannot be read twice). */
bool ni_collect_probe(const char *path);
void *ni_collect_source_open(const char *path, ni_error *err);
int ni_collect_source_next(void *src, ni_item *it, ni_error *err);
void ni_collect_source_stats(const void *src, ni_input_progress *st);
const char *ni_collect_source_path(const void *src);
void ni_collect_source_close(void *src);

#endif
