/* ni_input.h — the one source interface: open / next / stats / close over
 * every kind of input netintel reads.  A source yields items of one of two
 * kinds: frames (packets, which go through decode, the flow table and the
 * evidence producers) or finished sessions (stored sessions today; flow
 * records, Zeek logs, SQLite or ClickHouse rows tomorrow), which go straight
 * to enrichment and the sinks.  The stages after a source never know which
 * source an item came from.
 *
 * Sources are registered in one table (ni_input.c), tried in order: the
 * first whose probe accepts the input reads it; the capture reader (pcap,
 * pcapng, .gz/.zst, "-" for standard input) is the fallback; a live
 * capture from a network interface (ni_live) is never recognised by
 * content, only chosen by the options (live).  To add a
 * source: write its reader module, give it a probe/open/next/stats/close
 * (copy the stored-sessions entry) and list it before the fallback. */
#ifndef NI_INPUT_H
#define NI_INPUT_H

#include <stdbool.h>
#include <stdint.h>
#include "netintel/netintel.h"
#include "ingest/ni_source.h"
#include "ingest/ni_live.h"
#include "ingest/ni_chsrc.h"

/* NI_ITEM_TICK: no item, only time passing (tick_us, wall clock): a live
 * source returns one when nothing arrived for a while, so that idle
 * timeouts advance and a stop request is seen without traffic. */
typedef enum ni_item_kind { NI_ITEM_FRAME = 1, NI_ITEM_SESSION, NI_ITEM_TICK } ni_item_kind;

/* One item; what it points to is valid until the next ni_input_next/close. */
typedef struct ni_item {
    ni_item_kind kind;
    ni_frame frame;             /* NI_ITEM_FRAME */
    ni_session *session;        /* NI_ITEM_SESSION: evidence and counters; the
                                   caller may fill direction and enrichment
                                   (strings in session->arena) */
    int64_t tick_us;            /* NI_ITEM_TICK: µs since the epoch, now */
} ni_item;

typedef struct ni_input_progress {
    uint64_t done, total;       /* input bytes consumed / size (0 = unknown), for progress */
    /* a live capture: the kernel's counters (pcap_stats) so far */
    bool live;
    uint64_t received, dropped, if_dropped;
} ni_input_progress;

struct ni_input_options;

/* A source kind: how to recognise and read one input. */
typedef struct ni_source_ops {
    const char *name;
    bool (*probe)(const char *path);            /* NULL: the fallback */
    void *(*open)(const char *path, ni_error *err);
    /* 1 and *it filled, 0 at the clean end, -1 on an error ("<path>: <problem>";
     * the items already returned stay valid results) */
    int (*next)(void *src, ni_item *it, ni_error *err);
    void (*stats)(const void *src, ni_input_progress *st);
    void (*close)(void *src);
    const char *(*path)(const void *src);       /* the name in messages; NULL: as given */
    /* instead of open when set: a source that needs the options (live) */
    void *(*open_opts)(const char *path, const struct ni_input_options *o, ni_error *err);
} ni_source_ops;

typedef struct ni_input ni_input;

/* How inputs are opened; all zero: recognised by content, unfiltered. */
typedef struct ni_input_options {
    const char *filter;         /* a BPF expression (pcap-filter(7)) applied to the frames of
                                   captures; an input of another kind is refused */
    bool flows;                 /* read every input as a capture of flow export datagrams
                                   (the "flows" source), whatever its content */
    bool live;                  /* every input is a network interface to capture from
                                   (the "live" source: ni_live.h), with these settings
                                   (its filter is the one above) */
    ni_live_config live_cfg;
    ni_ch_pushdown pushdown;    /* what a database source may filter at the server (the
                                   profile's target ranges and window; all zero: nothing) */
} ni_input_options;

/* Opens path with the first source whose probe accepts it.  NULL + err
 * ("<path>: <problem>") on failure. */
ni_input *ni_input_open(const char *path, ni_error *err);
/* The same with options (o NULL: none).  With a filter, an input that is
 * not a packet capture is NI_ERR_UNSUPPORTED ("<path>: a packet filter
 * applies to packet captures, not to <kind>"); a filter libpcap cannot
 * compile for the capture's link type is NI_ERR_ARG. */
ni_input *ni_input_open_opts(const char *path, const ni_input_options *o, ni_error *err);
/* Whether libpcap compiles expr (for Ethernet frames): NI_OK, or NI_ERR_ARG
 * with "filter 'EXPR': <libpcap's message>". */
ni_err ni_input_check_filter(const char *expr, ni_error *err);
int ni_input_next(ni_input *in, ni_item *it, ni_error *err);
void ni_input_stats(const ni_input *in, ni_input_progress *st);
const char *ni_input_path(const ni_input *in);
/* The name of the source reading it ("capture", "sessions"). */
const char *ni_input_kind(const ni_input *in);
void ni_input_close(ni_input *in);

#endif
