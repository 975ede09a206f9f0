/* netintel.h — the public API of libnetintel.
 *
 * The one record that flows through netintel is the *session* (ni_session):
 * a bidirectional flow with its initiator, times, counters and the evidence
 * learned about it (HTTP, TLS, DNS), then its enrichment (GeoIP, ASN, parsed
 * User-Agent, service, VPN provider).  Everything else in the library either
 * produces sessions (sources, decode, flow table, dissectors) or consumes them
 * (enrichment, analyses, outputs).
 *
 * Conventions (see docs/ARCHITECTURE.md): the library holds no global state,
 * never prints to stdout and never exits; functions return ni_err codes and
 * keep a message on the context that failed.  Lifetimes use _init/_release
 * for embedded structs and _new/_free for heap objects.
 */
#ifndef NETINTEL_H
#define NETINTEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version (semantic versioning) and its API version: the
 * API version grows when a declaration here changes incompatibly; it is the
 * shared library's soname (libnetintel.so.<API version>). */
#define NETINTEL_VERSION "0.2.0"
#define NETINTEL_API_VERSION 1
#define NI_VERSION NETINTEL_VERSION
/* The version of the library actually linked (may differ from the header's). */
const char *ni_version(void);

/* ---- errors ------------------------------------------------------------ */
/* Codes are only ever appended, never renumbered. */
typedef enum ni_err {
    NI_OK = 0,
    NI_ERR_NOMEM,       /* out of memory */
    NI_ERR_IO,          /* read/write failure (errno kept in the message) */
    NI_ERR_NOTFOUND,    /* file or item does not exist */
    NI_ERR_FORMAT,      /* input is not in the expected format */
    NI_ERR_TRUNCATED,   /* input ends in the middle of a record */
    NI_ERR_UNSUPPORTED, /* valid input that netintel does not handle */
    NI_ERR_ARG,         /* bad argument (option value, CIDR, ...) */
    NI_ERR_LIMIT,       /* a configured limit was reached */
    NI_ERR_DATA,        /* a data file (catalogue, database) is missing or corrupt */
    NI_ERR_OUTPUT,      /* an output could not be written (disk full, unwritable folder...) */
    NI_ERR_PIPE,        /* the reader of an output pipe went away (EPIPE) */
    NI_ERR_INTERRUPTED, /* stopped on request (a signal) before the input's end */
    NI_ERR__COUNT
} ni_err;

/* Static, never NULL. */
const char *ni_strerror(ni_err e);

/* Where a failing call leaves its code and a one-line message naming the
 * file or argument and the problem ("trace.pcap: unsupported link type 147").
 * Functions that can fail take a `ni_error *` (which may be NULL). */
#define NI_ERRMSG_MAX 512
typedef struct ni_error {
    ni_err code;
    char msg[NI_ERRMSG_MAX];
} ni_error;

/* Sets err (if non-NULL) and returns code. */
ni_err ni_error_set(ni_error *err, ni_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- addresses --------------------------------------------------------- */
typedef struct ni_addr {
    uint8_t family;     /* 4, 6, or 0 = none */
    uint8_t b[16];      /* network order; IPv4 uses b[0..3], rest zero */
} ni_addr;

#define NI_ADDR_STRLEN 46
/* Writes the textual form (RFC 5952 for IPv6) into buf[NI_ADDR_STRLEN]. */
const char *ni_addr_format(const ni_addr *a, char *buf);
/* Parses dotted IPv4 or IPv6 text; returns NI_OK or NI_ERR_ARG. */
ni_err ni_addr_parse(const char *s, ni_addr *out);
int ni_addr_cmp(const ni_addr *a, const ni_addr *b);

/* ---- the session ------------------------------------------------------- */
typedef enum ni_direction {
    NI_DIRECTION_UNKNOWN = 0, /* no target given */
    NI_DIRECTION_OUTBOUND,    /* client in target, server outside */
    NI_DIRECTION_INBOUND,     /* client outside, server in target */
    NI_DIRECTION_INTERNAL,    /* both in target */
    NI_DIRECTION_TRANSIT      /* neither in target */
} ni_direction;

const char *ni_direction_name(ni_direction d);

/* Categories carried by a session are enums; their text (the JSON Lines
 * values of docs/sessions.md) lives in one name table each (lib/core/ni_kinds),
 * used only where sessions are read or written.  The _name functions return
 * NULL for the _NONE value and for values out of range. */

/* What a service or VPN attribution rests on. */
typedef enum ni_evidence {
    NI_EVIDENCE_NONE = 0,
    NI_EVIDENCE_SNI,          /* "sni": the TLS/QUIC server name */
    NI_EVIDENCE_HTTP_HOST,    /* "http_host" */
    NI_EVIDENCE_DNS_NAME,     /* "dns_name": learned from an earlier DNS answer */
    NI_EVIDENCE_IP,           /* "ip": the server address (prefix) */
    NI_EVIDENCE_TUNNEL,       /* "tunnel": a tunnel protocol seen on the session */
    NI_EVIDENCE_ENDPOINT,     /* "endpoint": the server is a provider's server */
    NI_EVIDENCE_SITE,         /* "site": the provider's web site, API or a DNS lookup */
    NI_EVIDENCE__COUNT
} ni_evidence;
const char *ni_evidence_name(ni_evidence e);

/* Tunnel / VPN protocols (recognised from packets, or named by nDPI). */
typedef enum ni_tunnel_proto {
    NI_TUN_NONE = 0, NI_TUN_OPENVPN, NI_TUN_WIREGUARD, NI_TUN_IPSEC, NI_TUN_L2TP,
    NI_TUN_PPTP, NI_TUN_GRE, NI_TUN_SSTP, NI_TUN_ANYCONNECT, NI_TUN_TINC,
    NI_TUN_SOFTETHER, NI_TUN_TOR, NI_TUN__COUNT
} ni_tunnel_proto;
const char *ni_tunnel_proto_name(ni_tunnel_proto t);

/* The kind of agent a User-Agent belongs to (data/ua-agents.tsv). */
typedef enum ni_ua_kind {
    NI_UA_KIND_NONE = 0, NI_UA_KIND_BROWSER, NI_UA_KIND_APP, NI_UA_KIND_SYSTEM,
    NI_UA_KIND_BOT, NI_UA_KIND_TOOL, NI_UA_KIND_OTHER, NI_UA_KIND__COUNT
} ni_ua_kind;
const char *ni_ua_kind_name(ni_ua_kind k);

/* A proxy preamble seen before the session's payload in the same TCP
 * stream: a SOCKS4/4a (SOCKS 4A: socks4) or SOCKS5 (RFC 1928) request, or
 * an HTTP CONNECT (RFC 9110 §9.3.6). */
typedef enum ni_proxy_kind {
    NI_PROXY_NONE = 0, NI_PROXY_SOCKS4, NI_PROXY_SOCKS5, NI_PROXY_HTTP_CONNECT, NI_PROXY__COUNT
} ni_proxy_kind;
const char *ni_proxy_kind_name(ni_proxy_kind k);

/* One HTTP/1.x request seen on the session (client → server). */
typedef struct ni_http_req {
    const char *method;
    const char *host;
    const char *path;
    const char *user_agent;
    const char *ch_ua;                  /* Sec-CH-UA */
    const char *ch_ua_platform;         /* Sec-CH-UA-Platform */
    const char *ch_ua_platform_version; /* Sec-CH-UA-Platform-Version */
    const char *ch_ua_model;            /* Sec-CH-UA-Model */
    struct ni_http_req *next;
} ni_http_req;

/* A singly linked list of strings (DNS answers, ALPN values). */
typedef struct ni_strlist {
    const char *s;
    struct ni_strlist *next;
} ni_strlist;

/* One DNS transaction seen on the session: a query and its response,
 * paired by message id and question name (docs/sessions.md `dns`).  A query
 * without a response has rcode NULL; a response seen without its query is
 * listed too (queried false). */
typedef struct ni_dns_txn {
    const char *query;                  /* question name (text form of ni_dns.h) */
    const char *qtype;                  /* mnemonic: "A", "TXT", "NULL", "TYPE65"...; NULL if unknown */
    const char *rcode;                  /* "NOERROR", "NXDOMAIN"...; NULL = no response seen */
    ni_strlist *answers;                /* answer data as text, in order */
    int64_t ttl;                        /* smallest TTL of the answers; -1 = none */
    uint16_t id;                        /* message id (pairing only, not written) */
    bool queried;                       /* the query itself was seen */
    struct ni_dns_txn *next;
} ni_dns_txn;

typedef struct ni_arena ni_arena;

/* The session record.  All strings are owned by the session's arena (or are
 * static / owned by a catalogue that outlives every session) and are NULL
 * when absent.  Field names follow the JSON Lines contract of `sessions`. */
typedef struct ni_session {
    /* identity and counters (issue 2) */
    int64_t first_us, last_us;          /* microseconds since the epoch, UTC */
    uint8_t proto;                      /* IP protocol number (6 tcp, 17 udp...) */
    ni_addr client, server;
    uint16_t client_port, server_port;
    ni_direction direction;
    uint64_t c2s_packets, c2s_bytes;    /* bytes = IP-layer length */
    uint64_t s2c_packets, s2c_bytes;
    uint8_t c2s_tcp_flags, s2c_tcp_flags; /* OR of TCP flags seen per direction */
    uint8_t end_reason;                 /* ni_end_reason */
    uint16_t vlan;                      /* outermost VLAN id, 0 = none */
    const char *source;                 /* not from packets: "zeek" (sensor logs), "netflow5",
                                           "netflow9", "ipfix" (flow records); NULL = packets */
    uint32_t sampled;                   /* counts scaled by this sampling interval (estimates); 0 = exact */

    /* evidence */
    ni_http_req *http, *http_tail;      /* requests in order */
    unsigned http_count;
    const char *sni;
    ni_strlist *alpn;                   /* ClientHello ALPN offer, in order */
    uint16_t tls_client_version;        /* highest version the client offers */
    uint16_t tls_version;               /* negotiated (ServerHello), else 0 */
    uint16_t tls_cipher;                /* ServerHello cipher suite, 0 = none */
    const char *ja4;
    const char *tls_cert_subject;       /* server certificate (TLS <= 1.2), RFC 2253 text */
    const char *tls_cert_issuer;
    bool quic;                          /* the TLS evidence came from QUIC */
    const char *quic_user_agent;        /* gQUIC UAID tag / google_user_agent parameter */
    const char *dns_query;
    ni_strlist *dns_answers;            /* A/AAAA addresses and CNAME targets */
    const char *dns_name;               /* learned from an earlier DNS answer */
    ni_dns_txn *dns, *dns_tail;         /* DNS transactions in order (NI_DNS_TRANSACTIONS_MAX) */
    unsigned dns_count;
    uint32_t dns_dropped;               /* DNS messages whose transaction was not kept (limits) */
    ni_tunnel_proto tunnel;             /* tunnel protocol seen (packets, SSTP/AnyConnect requests) */
    ni_proxy_kind proxy;                /* proxy preamble before the payload */
    const char *proxy_dest;             /* what the client asked the proxy for: "host:port" */

    /* enrichment (issue 3); filled by lib/enrich, NULL/0 when unknown */
    const char *client_country, *server_country;     /* ISO 3166-1 alpha-2 */
    const char *client_continent, *server_continent;
    uint32_t client_asn, server_asn;
    const char *client_as_org, *server_as_org;
    const char *ua_browser, *ua_browser_version;
    const char *ua_os, *ua_os_version;
    const char *ua_maker, *ua_model, *ua_form_factor;
    ni_ua_kind ua_kind;
    const char *windows_version;
    const char *ua_os_detail;           /* Linux: the distribution ("Ubuntu 22.04") */
    const char *ua_device_source;       /* which database named the device: "uap-core", "device-detector" */
    bool ua_reduced;                    /* a reduced UA: its OS version and model are placeholders */
    const char *service, *category;
    ni_evidence service_evidence;       /* sni, http_host, dns_name or ip */
    const char *vpn_provider;
    ni_tunnel_proto vpn_protocol;       /* the tunnel evidence, else nDPI's protocol */
    ni_evidence vpn_evidence;           /* tunnel, endpoint or site */
    const char *ndpi_protocol;

    ni_arena *arena;                    /* owns the strings above */

    /* TCP/IP fingerprint (issue 12): evidence, then its meaning (lib/enrich) */
    const char *tcp_fingerprint;        /* the client's SYN in p0f's signature syntax (raw_sig) */
    uint16_t tcp_window;                /* that SYN's window (the fingerprint may write it as mss*N) */
    const char *tcp_os, *tcp_os_detail; /* OS family ("Linux") and p0f's label ("3.11 and newer") */

    /* server certificate's subjectAltName (issue 10): dNSName entries
     * lower-cased, iPAddress entries as text, in order (NI_CERT_NAMES_MAX) */
    ni_strlist *cert_names;
} ni_session;

typedef enum ni_end_reason {
    NI_END_NONE = 0,
    NI_END_FIN,       /* TCP closed with FIN both ways */
    NI_END_RST,       /* TCP reset */
    NI_END_IDLE,      /* idle timeout */
    NI_END_ACTIVE,    /* active timeout (long session split) */
    NI_END_EVICTED,   /* flow table full: oldest idle flow emitted */
    NI_END_EOF        /* end of input */
} ni_end_reason;

/* The best name of a session: SNI, else the first HTTP Host, else the DNS
 * query (for DNS sessions), else the DNS-learned name; NULL if none. */
const char *ni_session_name(const ni_session *s);

/* The session's User-Agent: the first HTTP request's that has one, else the
 * one its QUIC handshake carried; NULL if none. */
const char *ni_session_user_agent(const ni_session *s);

/* ---- run statistics ---------------------------------------------------- */
typedef struct ni_stats {
    uint64_t packets, bytes;            /* as read from the sources */
    uint64_t ip_packets;
    uint64_t sessions;                  /* emitted */
    uint64_t malformed;                 /* headers that contradict themselves */
    uint64_t truncated;                 /* captured shorter than headers need */
    uint64_t unsupported;               /* link types / protocols not handled */
    uint64_t fragments;                 /* non-first IP fragments */
    uint64_t non_ip;                    /* ARP, LLDP, ... */
    uint64_t evicted;                   /* flows emitted early: table full */
    uint64_t reasm_dropped;             /* stream bytes beyond reassembly limits */
    uint64_t http_requests, tls_hellos, dns_messages, quic_initials;
    uint64_t dissect_errors;            /* application bytes that did not parse */
    /* a live capture (options.live): the kernel's counters (pcap_stats), summed
       over the interfaces read; all 0 for files */
    uint64_t capture_received;          /* frames the kernel passed the filter (ps_recv) */
    uint64_t capture_dropped;           /* dropped: no room in the buffer (ps_drop) */
    uint64_t capture_if_dropped;        /* dropped by the interface or driver (ps_ifdrop) */
} ni_stats;

#ifdef __cplusplus
}
#endif
/* The embedding API: runs, profiles, reports, look-ups; outputs; look-ups
 * as JSON and data versions; the flow collector; synthetic worlds. */
#include "run.h"
#include "output.h"
#include "lookup.h"
#include "collect.h"
#include "synth.h"

#endif
