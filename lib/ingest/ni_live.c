/* ni_live.c — live capture from a network interface (see ni_live.h), through
 * libpcap's pcap_create / pcap_set_snaplen / pcap_set_buffer_size /
 * pcap_set_timeout / pcap_activate (pcap(3PCAP)), read in non-blocking mode
 * with poll(2) on pcap_get_selectable_fd: a wait never lasts longer than
 * NI_LIVE_TICK_MS, and a signal ends it at once (poll is never restarted
 * after a handler, SA_RESTART or not), so the caller sees its stop flag
 * within that time whether packets arrive or not. */
#include "ingest/ni_live.h"
#include "core/ni_time.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define COUNTER_EVERY 65536     /* frames between two reads of the kernel's counters */

struct ni_live {
    char *name;
    pcap_t *pc;
    int fd;                     /* pcap_get_selectable_fd */
    int linktype;
    ni_live_config cfg;
    uint64_t frames;            /* handed out */
    int64_t last_tick_us;       /* wall clock of the last tick (or of the frame that made one due) */
    bool tick_due;              /* frames kept coming: a tick before the next frame */
    int64_t end_mono_us;        /* --duration: the end on the monotonic clock, 0 none */
    /* the kernel's 32-bit counters followed into 64-bit totals */
    uint64_t tot[3];
    uint32_t last[3];
    bool have_stats;
};

/* The kernel's counters now; false when libpcap cannot tell. */
static bool read_stats(const ni_live *l, uint32_t now[3])
{
    struct pcap_stat ps;
    if (pcap_stats(l->pc, &ps) != 0) return false;
    now[0] = ps.ps_recv;
    now[1] = ps.ps_drop;
    now[2] = ps.ps_ifdrop;
    return true;
}

/* Adds what the counters moved by since the last read (modulo 2^32). */
static void follow_stats(ni_live *l)
{
    uint32_t now[3];
    if (!read_stats(l, now)) return;
    for (int i = 0; i < 3; i++) {
        if (l->have_stats) l->tot[i] += (uint32_t)(now[i] - l->last[i]);
        else l->tot[i] = now[i];
        l->last[i] = now[i];
    }
    l->have_stats = true;
}

bool ni_live_counters(const ni_live *l, uint64_t *received, uint64_t *dropped, uint64_t *if_dropped)
{
    uint32_t now[3];
    uint64_t v[3];
    if (!read_stats(l, now)) {
        if (!l->have_stats) return false;
        memcpy(v, l->tot, sizeof v);
    } else {
        for (int i = 0; i < 3; i++) v[i] = l->have_stats ? l->tot[i] + (uint32_t)(now[i] - l->last[i]) : now[i];
    }
    if (received) *received = v[0];
    if (dropped) *dropped = v[1];
    if (if_dropped) *if_dropped = v[2];
    return true;
}

static void live_free(ni_live *l)
{
    if (!l) return;
    if (l->pc) pcap_close(l->pc);
    free(l->name);
    free(l);
}

/* "<iface>: <what>", frees l, returns NULL. */
static ni_live *fail(ni_live *l, ni_error *err, ni_err code, const char *what, const char *detail)
{
    if (detail && *detail) ni_error_set(err, code, "%s: %s (%s)", l->name, what, detail);
    else ni_error_set(err, code, "%s: %s", l->name, what);
    live_free(l);
    return NULL;
}

ni_live *ni_live_open(const char *iface, const ni_live_config *cfg, ni_error *err)
{
    if (!iface || !*iface) {
        ni_error_set(err, NI_ERR_ARG, "an empty interface name");
        return NULL;
    }
    ni_live *l = calloc(1, sizeof *l);
    if (!l || !(l->name = strdup(iface))) {
        free(l);
        ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", iface);
        return NULL;
    }
    if (cfg) l->cfg = *cfg;
    l->cfg.filter = NULL;                       /* not kept: used here only */
    if (l->cfg.snaplen <= 0) l->cfg.snaplen = NI_LIVE_SNAPLEN_DEFAULT;
    l->fd = -1;
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    if (!(l->pc = pcap_create(iface, ebuf))) return fail(l, err, NI_ERR_IO, "cannot capture", ebuf);
    pcap_set_snaplen(l->pc, l->cfg.snaplen);
    pcap_set_promisc(l->pc, 1);
    pcap_set_timeout(l->pc, NI_LIVE_TIMEOUT_MS);
    pcap_set_tstamp_precision(l->pc, PCAP_TSTAMP_PRECISION_MICRO);
    if (l->cfg.buffer) {
        if (l->cfg.buffer > (size_t)0x7fffffff) return fail(l, err, NI_ERR_ARG, "buffer larger than 2 GiB", NULL);
        pcap_set_buffer_size(l->pc, (int)l->cfg.buffer);
    }
    int r = pcap_activate(l->pc);
    if (r < 0) {
        const char *m = pcap_geterr(l->pc);
        switch (r) {
        case PCAP_ERROR_NO_SUCH_DEVICE: return fail(l, err, NI_ERR_NOTFOUND, "no such interface", NULL);
        case PCAP_ERROR_PERM_DENIED:
            return fail(l, err, NI_ERR_IO, "permission denied: capturing needs root or CAP_NET_RAW", NULL);
        case PCAP_ERROR_IFACE_NOT_UP: return fail(l, err, NI_ERR_IO, "the interface is down", NULL);
        default: return fail(l, err, NI_ERR_IO, "cannot capture", m);
        }
    }
    /* warnings (PCAP_WARNING_PROMISC_NOTSUP...) leave a working handle */
    int dlt = pcap_datalink(l->pc);
    l->linktype = dlt == DLT_RAW ? 101 : dlt;
    if (cfg && cfg->filter) {
        struct bpf_program prog;
        if (pcap_compile(l->pc, &prog, cfg->filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
            char m[PCAP_ERRBUF_SIZE + 64];
            snprintf(m, sizeof m, "filter '%s': %s", cfg->filter, pcap_geterr(l->pc));
            return fail(l, err, NI_ERR_ARG, m, NULL);
        }
        int k = pcap_setfilter(l->pc, &prog);
        pcap_freecode(&prog);
        if (k != 0) {
            char m[PCAP_ERRBUF_SIZE + 64];
            snprintf(m, sizeof m, "filter '%s': %s", cfg->filter, pcap_geterr(l->pc));
            return fail(l, err, NI_ERR_ARG, m, NULL);
        }
    }
    if (pcap_setnonblock(l->pc, 1, ebuf) != 0) return fail(l, err, NI_ERR_IO, "cannot capture", ebuf);
    if ((l->fd = pcap_get_selectable_fd(l->pc)) < 0)
        return fail(l, err, NI_ERR_UNSUPPORTED, "cannot wait for this interface's packets", NULL);
    if (l->cfg.duration_us > 0) l->end_mono_us = ni_clock_mono_us() + l->cfg.duration_us;
    follow_stats(l);
    return l;
}

int ni_live_next(ni_live *l, ni_frame *f, int64_t *now_us, ni_error *err)
{
    if (l->cfg.count && l->frames >= l->cfg.count) { follow_stats(l); return 0; }
    if (l->tick_due) {
        /* a steady trickle of frames never lets poll time out: ticks are
         * also due by the frames' own time stamps (no clock read per frame) */
        l->tick_due = false;
        follow_stats(l);
        *now_us = l->last_tick_us;              /* that frame's time: no later than any frame to come */
        return 2;
    }
    bool waited = false;
    for (;;) {
        int64_t left_ms = NI_LIVE_TICK_MS;
        if (l->end_mono_us) {
            int64_t left = l->end_mono_us - ni_clock_mono_us();
            if (left <= 0) { follow_stats(l); return 0; }
            if ((left + 999) / 1000 < left_ms) left_ms = (left + 999) / 1000;
        }
        struct pcap_pkthdr *h;
        const u_char *d;
        int r = pcap_next_ex(l->pc, &h, &d);
        if (r == 1) {
            f->linktype = l->linktype;
            f->ts_us = (int64_t)h->ts.tv_sec * 1000000 + (int64_t)h->ts.tv_usec;
            f->caplen = h->caplen;
            f->wirelen = h->len;
            f->data = d;
            if (++l->frames % COUNTER_EVERY == 0) follow_stats(l);
            if (f->ts_us - l->last_tick_us >= NI_LIVE_TICK_MS * 1000) {
                l->tick_due = true;
                l->last_tick_us = f->ts_us;
            }
            return 1;
        }
        if (r < 0 && r != PCAP_ERROR_BREAK) {
            ni_error_set(err, NI_ERR_IO, "%s: capture failed (%s)", l->name, pcap_geterr(l->pc));
            return -1;
        }
        if (waited) break;                      /* one wait without a packet: a tick */
        struct pollfd pf = { l->fd, POLLIN, 0 };
        int n = poll(&pf, 1, (int)left_ms);
        if (n < 0 && errno != EINTR) {
            ni_error_set(err, NI_ERR_IO, "%s: poll: %s", l->name, strerror(errno));
            return -1;
        }
        if (n > 0 && (pf.revents & (POLLERR | POLLNVAL))) {
            ni_error_set(err, NI_ERR_IO, "%s: the interface went away", l->name);
            return -1;
        }
        if (n <= 0) break;                      /* timed out or a signal: a tick */
        waited = true;                          /* readable: read what came, once more */
    }
    follow_stats(l);
    /* frames of the last buffer timeout may still be on their way from the
     * kernel (a block not yet handed over): the time of the tick stays
     * behind them, so that none arrives older than the clock */
    *now_us = l->last_tick_us = ni_clock_wall_us() - NI_LIVE_TIMEOUT_MS * 1000;
    return 2;
}

const char *ni_live_name(const ni_live *l) { return l->name; }
void ni_live_close(ni_live *l) { live_free(l); }
