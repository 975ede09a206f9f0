/* ni_producer.c — the table of evidence producers (see ni_producer.h).
 * To add one: write its module with a `const ni_producer ni_<name>_producer`
 * (copy ni_tunnel's: state, on_packet, on_finish) and list it here. */
#include "dissect/ni_producer.h"
#include "dissect/ni_dissect.h"
#include "dissect/ni_ndpi.h"
#include "dissect/ni_tcpfp.h"
#include "dissect/ni_tunnel.h"

const ni_producer *const ni_producers[] = {
    &ni_dissect_producer,   /* content: HTTP, TLS, DNS, QUIC (stream and datagrams) */
    &ni_tunnel_producer,    /* VPN tunnel protocols (packets) */
    &ni_ndpi_producer,      /* nDPI's verdict (packets), when enabled */
    &ni_tcpfp_producer,     /* the client SYN's TCP/IP fingerprint (packets) */
    NULL,
};
