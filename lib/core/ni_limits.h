/* ni_limits.h — every limit that bounds netintel's memory and work, in one
 * place (as SQLite's sqliteLimit.h).  Hostile or huge input must never make
 * memory grow without bound: each growing structure checks one of these.
 * Values marked "default" can be changed at run time through options. */
#ifndef NI_LIMITS_H
#define NI_LIMITS_H

/* Flow table */
#define NI_FLOWS_MAX_DEFAULT      131072u  /* live flows; option --max-flows */
#define NI_FLOW_IDLE_TCP_US       (300ll * 1000000)  /* default TCP idle timeout */
#define NI_FLOW_IDLE_UDP_US       (60ll * 1000000)   /* default UDP/other idle timeout */
#define NI_FLOW_ACTIVE_US         (1800ll * 1000000) /* default active timeout */
#define NI_FLOW_CLOSED_LINGER_US  (5ll * 1000000)    /* kept after FIN/RST for late packets */
#define NI_FLOWS_HALF_OPEN_DIV    8u  /* half-open TCP flows (bare SYNs, no reply or payload yet) kept:
                                         at most max_flows / 8; past it the oldest is evicted */

/* Parallel runs (-j N, lib/session/ni_engine.c): the W worker lanes and the
 * reader's own lane split max_flows and stream_total_max by their shares of
 * the flows (the reader at least a quarter of a worker's); between the
 * threads: */
#define NI_THREADS_MAX            64u   /* CPUs of -j, worker lanes (= NETINTEL_THREADS_MAX) */
#define NI_PAR_BATCH_PKTS         1024u /* packets handed to the workers at once: the
                                           batches in flight (~2 MB) stay in the shared
                                           cache, with a quarter of 256's hand-overs
                                           (256: -j 2 wall 8-12 % longer) */
#define NI_PAR_BATCH_BYTES        (2u * 1024 * 1024) /* their IP bytes, at most */
#define NI_PAR_BATCHES            4u    /* batches in flight */
#define NI_PAR_QUEUE_SOFT         512u  /* finished sessions a lane queues for the merge
                                           before it waits (a lane's burst may pass it):
                                           merged sooner, they are still in the cache
                                           (4096: peak RSS 8.5 MiB higher, 1-3 % slower) */
#define NI_PAR_IDLE_STREAK        32u   /* batches in a row the reader had to wait for,
                                           after which the workers leave their sessions'
                                           enrichment (lane hooks) to the merge, which the
                                           idle reader runs: traffic of one tiny session a
                                           packet (a flood) */

/* TCP/IP fingerprints (lib/enrich/ni_tcpos.c): p0f.fp and data/tcp-os.tsv */
#define NI_TCPOS_SIGS_MAX         8192u         /* signatures, labels and family rows, each */
#define NI_TCPOS_FILE_MAX         (4u * 1024 * 1024) /* bytes of a p0f.fp */

/* Evidence producers registered (lib/dissect/ni_producer.c) */
#define NI_PRODUCERS_MAX          16u

/* Per-session memory */
#define NI_SESSION_ARENA_MAX      (64u * 1024)  /* strings of one session (blocks grow as used) */
#define NI_HTTP_REQUESTS_MAX      64u           /* requests recorded per session */
#define NI_DNS_ANSWERS_MAX        32u           /* answers recorded per message */
#define NI_ALPN_MAX               16u
#define NI_DNS_TRANSACTIONS_MAX   256u          /* DNS transactions recorded per session (`dns`) */
#define NI_DNS_ARENA_RESERVE      (8u * 1024)   /* arena bytes DNS transactions leave to other evidence */
#define NI_DNS_TXT_MAX            255u          /* bytes of one TXT answer kept as text */

/* Stream reassembly (first bytes of each TCP direction) */
#define NI_STREAM_BUF_MAX         (24u * 1024)  /* contiguous bytes kept per direction */
#define NI_STREAM_OOO_SEGS_MAX    16u           /* out-of-order segments held per direction */
#define NI_STREAM_OOO_BYTES_MAX   (32u * 1024)  /* out-of-order bytes held per direction */
#define NI_STREAM_TOTAL_MAX       (32u * 1024 * 1024) /* all reassembly buffers together */
#define NI_STREAM_INSPECT_MAX     (256u * 1024) /* stream bytes looked at per direction */

/* Protocol fields */
#define NI_HTTP_HEADER_MAX        (16u * 1024)  /* request line + headers */
#define NI_HTTP_FIELD_MAX         2048u         /* one kept header value */
#define NI_DNS_NAME_MAX           255u          /* RFC 1035 2.3.4 */
#define NI_DNS_LABELS_MAX         128u
#define NI_DNS_POINTERS_MAX       32u           /* compression pointers followed per name */
#define NI_TLS_HELLO_MAX          (64u * 1024)  /* ClientHello across records */
#define NI_CERT_NAMES_MAX         32u           /* subjectAltName entries kept per certificate */

/* DNS address→name cache */
#define NI_DNSCACHE_ENTRIES_MAX   65536u
#define NI_DNSCACHE_AGE_MAX_US    (3600ll * 1000000) /* entries older are ignored */
#define NI_DNSCACHE_TTL_GRACE_US  (300ll * 1000000)  /* an answer is used 5 minutes past its TTL */

/* VPN endpoints learned from DNS answers (lib/enrich/ni_vpnlearn) */
#define NI_VPNLEARN_ENTRIES_MAX   65536u
#define NI_VPNLEARN_SKEW_US       (2ll * 1000000)    /* a session may start this much before the answer */

/* Packet decoding (lib/decode): nesting bounds against hostile frames */
#define NI_DECODE_VLAN_MAX        8u            /* stacked 802.1Q/802.1ad tags */
#define NI_DECODE_MPLS_MAX        8u            /* MPLS label stack entries */
#define NI_DECODE_IPV6_EXT_MAX    16u           /* IPv6 extension headers per packet */

/* Inputs */
#define NI_INPUTS_MAX             4096u
#define NI_TARGET_PREFIXES_MAX    1000000u
#define NI_LINE_MAX               65536u        /* one line of a data file */

/* Zeek logs (lib/ingest/ni_zeek) */
#define NI_ZEEK_LINE_MAX          (256u * 1024) /* one log line (longer lines are skipped, counted) */
#define NI_ZEEK_FIELDS_MAX        512u          /* columns of one log */
#define NI_ZEEK_ITEMS_MAX         1024u         /* set/vector items read from one row */
#define NI_ZEEK_FILES_MAX         65536u        /* log files of one directory input */
#define NI_ZEEK_UIDS_MAX          4000000u      /* connections with protocol rows held for the join */
#define NI_ZEEK_GROUP_BYTES_MAX   (512u * 1024 * 1024) /* protocol evidence held for one rotation interval */
#define NI_ZEEK_KEPT_MAX          1000000u      /* certificates, and browsers per host, kept across intervals */
#define NI_ZEEK_KEPT_BYTES_MAX    (128u * 1024 * 1024) /* their strings */

/* Catalogues (data/<name>.tsv) */
#define NI_CATALOG_ROWS_MAX       1000000u      /* rows of one catalogue */
#define NI_CATALOG_BYTES_MAX      (64u * 1024 * 1024) /* strings and entries of one catalogue */
#define NI_CATALOG_MEMO           4096u         /* host names whose catalogue matches a thread keeps (2-way) */
#define NI_CATALOG_MEMO_NAME      63u           /* longest name kept there (longer: looked up each time) */

/* User-Agent parsing (lib/enrich/ni_ua) */
#define NI_UA_LEN_MAX             4096u         /* bytes of one User-Agent parsed */
#define NI_UA_FIELD_MAX           512u          /* one parsed field (family, model...) */
#define NI_UA_CACHE_DEFAULT       8192u         /* cached results per parser */
#define NI_TCPOS_CACHE            4096u         /* SYN fingerprints whose stack OS is remembered */
#define NI_TCPOS_KEY_MAX          512u          /* longest fingerprint + window cached (longer: matched each time) */
#define NI_UA_MATCH_LIMIT         1000000u      /* PCRE2 match limit per regex try */

/* GeoIP / ASN databases (lib/enrich/ni_geo, ni_asn) */
#define NI_MMDB_META_SEARCH       (128u * 1024) /* bytes at the end searched for the metadata marker */
#define NI_MMDB_META_ITEMS_MAX    4096u         /* values in the metadata map */
#define NI_MMDB_DEPTH_MAX         32u           /* map/array nesting in metadata */
#define NI_MMDB_RECORD_ITEMS_MAX  65536u        /* decoded items of one data record */
#define NI_ASN_RANGES_MAX         8000000u      /* ranges of one ASN table (per family) */
#define NI_ASN_ORG_MAX            1024u         /* bytes of one organisation name */
#define NI_ASN_POOL_MAX           (256u * 1024 * 1024) /* organisation names of one table */
#define NI_GEO_CACHE              8192u         /* addresses whose geography enrichment keeps (direct-mapped) */

/* Flow export (lib/ingest/ni_netflow, ni_collect): NetFlow v5/v9, IPFIX */
#define NI_NETFLOW_DOMAINS_MAX         1024u   /* (exporter, version, observation domain) kept */
#define NI_NETFLOW_TEMPLATES_PER_EXPORTER 1024u /* templates of one exporter address, all domains */
#define NI_NETFLOW_TEMPLATE_FIELDS_MAX 256u    /* fields of one template */
#define NI_NETFLOW_TEMPLATE_BYTES_MAX  (16u * 1024 * 1024) /* all templates together */
#define NI_NETFLOW_TEMPLATE_TTL_US     (1800ll * 1000000)  /* default: unrefreshed templates expire */
#define NI_NETFLOW_PENDING_MAX         131072u /* unpaired records waiting for their reverse */
#define NI_NETFLOW_PAIR_US             (120ll * 1000000)   /* default pairing window */
#define NI_NETFLOW_SAMPLING_MAX        1000000u /* a larger sampling interval is not believed */
#define NI_COLLECT_LISTEN_MAX          16u     /* --listen sockets */
#define NI_COLLECT_RCVBUF              (16u * 1024 * 1024) /* receive buffer asked per socket */
#define NI_COLLECT_BATCH               64u     /* datagrams read per system call */

/* Profile aggregator (lib/analyze/ni_profile): a refused insertion is
 * counted and reported in report.json "limits" (profile exits 1) */
#define NI_PROFILE_NAMES_MAX      200000u       /* (reported in limits.names.cap; no longer refuses:
                                                   sections keep their busiest names instead) */
#define NI_PROFILE_ROWS_MAX       1024u         /* names per section (services, sites, models, browsers,
                                                   vendors...): up to it every name with exact figures;
                                                   past it the busiest by sessions (Space-Saving,
                                                   core/ni_topk), the rest counted in limits.rows */
#define NI_PROFILE_DNS_PAIRS_MAX  16384u        /* (client, suffix) pairs of dns_tunnels: the same,
                                                   by queries */
#define NI_PROFILE_HOSTS_MAX      4000000u      /* (reported in limits.hosts.cap; no longer refuses:
                                                   distinct counts turn into estimates instead) */
#define NI_PROFILE_CLIENTS_MAX    4000000u      /* (the same for limits.clients.cap) */
#define NI_PROFILE_DISTINCT_EXACT 1536u         /* every distinct count (hosts, visitors, clients) is
                                                   exact up to this many values, then a HyperLogLog
                                                   estimate (core/ni_hll: 16 KiB, 0.81% error); 1,536
                                                   hashes fill 2,048 slots at 3/4 load, 16 KiB too, so
                                                   no counter ever holds more than 16 KiB */
#define NI_PROFILE_VERSIONS_MAX   1024u         /* versions per OS family, builds per browser version
                                                   (the busiest past it, as sections) */
#define NI_PROFILE_EVIDENCE_MAX   64u           /* evidence items per vendor (and items per host of the
                                                   host view; the busiest past it) */
#define NI_PROFILE_HOST_VIEW_MAX  10000u        /* target hosts of the per-host view (report.json hosts) */
#define NI_PROFILE_MONTHS_MAX     600           /* months of inbound history tested and drawn */
#define NI_PROFILE_DNS_NAMES_EXACT 256u         /* distinct names per (client, suffix) of dns_tunnels
                                                   counted exactly; past it: estimated (ni_hll) */
#define NI_PROFILE_DNS_SKETCHES_MAX 16384u      /* (client, suffix) pairs counted by an estimate
                                                   (16 KiB each: at most 256 MiB in all) */
#define NI_PSL_RULES_MAX          100000u       /* rules read from the Public Suffix List */

/* reports: profile refuses to write a report.json larger than what report
 * and diff read, so every report.json profile writes can be read back */
#define NI_REPORT_JSON_MAX        (256u * 1024 * 1024) /* report.json: written by profile, read by report and diff */
#define NI_REPORT_OUT_MAX         (64u * 1024 * 1024)  /* one rendered report.html / report.md (tables show 50 rows) */
#define NI_SESSION_RECORD_MAX     (4u * 1024 * 1024)   /* one session as a JSON line or CSV row (sessions, the API's ni_sink) */
#define NI_OUTPUT_CHUNK           (256u * 1024)        /* bytes an output file (core/ni_file) gathers before one write(2):
                                                          few system calls, and the kernel's large page-cache folios */
#define NI_OUTPUT_BUF_MAX         (NI_OUTPUT_CHUNK + NI_SESSION_RECORD_MAX) /* that buffer: a chunk and one more record
                                                          formatted straight into it (the API's ni_sink) */
#define NI_SQLITE_BATCH           10000u        /* sessions per SQLite transaction (docs/store.md: a crash keeps whole batches) */
#define NI_SQLITE_BUSY_MS         10000         /* how long a SQLite reader or writer waits for a lock held by another */
#define NI_DIFF_OUT_MAX           (4u * NI_REPORT_JSON_MAX) /* diff JSON or Markdown: one row per changed
                                                           row of two reports, each under 4x a report row */

#endif
