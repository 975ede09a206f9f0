/* ni_ndpi.h — nDPI (libndpi, Debian 4.2) as a second opinion on each
 * session's application protocol, and the fallback name for sessions that
 * netintel's own dissectors could not name.  nDPI sees the first packets of a
 * flow (at most NI_NDPI_PACKETS_MAX) as IP packets; its per-flow state is
 * allocated lazily, freed as soon as detection ends, and the number of live
 * states is capped (NI_NDPI_FLOWS_MAX) so memory stays bounded.  The verdict
 * lands in ni_session.ndpi_protocol as nDPI names it ("TLS.Facebook",
 * "OpenVPN", "DNS.Google", or "Unknown"). */
#ifndef NI_NDPI_H
#define NI_NDPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "netintel/netintel.h"
#include "dissect/ni_producer.h"

typedef struct ni_ndpi ni_ndpi;
typedef struct ni_ndpi_flow ni_ndpi_flow;

/* New detection module with every protocol enabled.  NULL + err on failure. */
ni_ndpi *ni_ndpi_new(ni_error *err);
/* The same, its module made when first needed (a parallel run's reader
 * lane, whose DNS flows rarely need nDPI); a module that cannot be made
 * then examines nothing.  NULL + err on OOM. */
ni_ndpi *ni_ndpi_new_lazy(ni_error *err);
void ni_ndpi_free(ni_ndpi *nd);

/* Feeds one packet of a flow, l3 = IP header, len = captured bytes from it.
 * *fl is created on first use (NULL stays NULL if the live-state cap is
 * reached).  Returns true when nDPI needs no more packets of this flow. */
bool ni_ndpi_packet(ni_ndpi *nd, ni_ndpi_flow **fl, const uint8_t *l3, size_t len, int64_t ts_us);

/* Ends detection (nDPI's give-up guess included when it found nothing),
 * writes the name into s->ndpi_protocol (s->arena) and frees *fl. */
void ni_ndpi_finish(ni_ndpi *nd, ni_ndpi_flow **fl, ni_session *s);

/* Frees *fl without a verdict. */
void ni_ndpi_drop(ni_ndpi *nd, ni_ndpi_flow **fl);

/* nDPI as an evidence producer (ni_producer.c), enabled by
 * ni_producer_opts.ndpi.  nDPI fills gaps: it is asked only about sessions
 * that netintel's own evidence leaves unnamed, or for the detections only it
 * makes.  Not asked: sessions the dissectors recognised as HTTP or DNS, and
 * TLS or QUIC sessions with a server name (SNI, else the name an earlier DNS
 * answer gave the server address), unless that name or the
 * server address could be one of nDPI's VPN/proxy signatures (a protocol of
 * its VPN category in its host or address lists — the protocols of
 * data/ndpi-vpn.tsv —, or a Tor-shaped "www.<label>.<tld>" name).  A session
 * named by an earlier DNS answer is shown to nDPI from its first payload on,
 * once its protocol is known; another session's packets without payload
 * (TCP's handshake) are held (copies, a few per flow, for a bounded number of
 * flows) until the gate decides, then given to nDPI in order, or dropped
 * unseen when it is not asked: nDPI sees the same packets as without holding,
 * and never allocates for the sessions the first payload names.  Asked sessions get nDPI's verdict in
 * s->ndpi_protocol ("Unknown" included), the others none: the count of
 * sessions with an ndpi_protocol is the count nDPI examined. */
extern const ni_producer ni_ndpi_producer;

/* Counters: flows given to nDPI, flows skipped because of the cap. */
void ni_ndpi_counts(const ni_ndpi *nd, uint64_t *flows, uint64_t *skipped);

/* Is NAME (as nDPI names a protocol: "Tor", "OpenVPN") one of nDPI's VPN
 * category, so that the gate above keeps asking about it? */
bool ni_ndpi_vpn_name(ni_ndpi *nd, const char *name);
/* Does this nDPI know a protocol of that name? */
bool ni_ndpi_knows(ni_ndpi *nd, const char *name);

#endif
