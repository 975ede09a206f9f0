/* ni_collect.c — UDP sockets and captures feeding a flow-export decoder
 * (see ni_collect.h).  Linux: recvmmsg(2) batches, SO_RXQ_OVFL drop counts,
 * IPV6_V6ONLY so that an IPv6 and an IPv4 socket can share a port. */
#include "ingest/ni_collect.h"
#include "core/ni_time.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "core/ni_arena.h"
#include "core/ni_cursor.h"
#include "core/ni_limits.h"
#include "decode/ni_decode.h"
#include "ingest/ni_source.h"

#define DGRAM_MAX 65536u

typedef struct sock {
    int fd;
    uint16_t port;
    char spec[128];
    uint32_t drops;             /* last SO_RXQ_OVFL value */
} sock;

struct ni_collect {
    ni_netflow *nf;
    sock s[NI_COLLECT_LISTEN_MAX];
    size_t ns;
    ni_collect_stats st;
    ni_collect_warn warn;
    void *warn_ud;
    uint8_t *bufs;              /* NI_COLLECT_BATCH × DGRAM_MAX */
    /* context of the datagram being decoded, for warnings */
    const char *where;
    uint64_t packet_no;
    const ni_addr *from;
};

static void cwarn(ni_collect *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cwarn(ni_collect *c, const char *fmt, ...)
{
    if (!c->warn) return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->warn(c->warn_ud, msg);
}

/* decoder warning → "<where>: [packet N, ]from A: <msg>" */
static void decoder_warn(void *ud, const char *msg)
{
    ni_collect *c = ud;
    char a[NI_ADDR_STRLEN];
    if (c->packet_no)
        cwarn(c, "%s: packet %llu from %s: %s", c->where ? c->where : "?", (unsigned long long)c->packet_no,
              c->from ? ni_addr_format(c->from, a) : "?", msg);
    else
        cwarn(c, "%s: from %s: %s", c->where ? c->where : "?", c->from ? ni_addr_format(c->from, a) : "?", msg);
}

ni_collect *ni_collect_new(ni_netflow *nf, ni_error *err)
{
    ni_collect *c = calloc(1, sizeof *c);
    if (!c) { ni_error_set(err, NI_ERR_NOMEM, "collector: out of memory"); return NULL; }
    c->nf = nf;
    ni_netflow_set_warn(nf, decoder_warn, c);
    return c;
}

void ni_collect_free(ni_collect *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->ns; i++) close(c->s[i].fd);
    ni_netflow_set_warn(c->nf, NULL, NULL);
    free(c->bufs);
    free(c);
}

void ni_collect_set_warn(ni_collect *c, ni_collect_warn fn, void *ud) { c->warn = fn; c->warn_ud = ud; }
size_t ni_collect_sockets(const ni_collect *c) { return c->ns; }
uint16_t ni_collect_port(const ni_collect *c, size_t i) { return i < c->ns ? c->s[i].port : 0; }
const ni_collect_stats *ni_collect_stats_get(const ni_collect *c) { return &c->st; }

/* "udp://HOST:PORT" → host, port text */
static bool split_spec(const char *spec, char *host, size_t hmax, char *port, size_t pmax)
{
    if (strncmp(spec, "udp://", 6)) return false;
    const char *h = spec + 6, *colon;
    size_t hl;
    if (*h == '[') {
        const char *e = strchr(h, ']');
        if (!e || e[1] != ':') return false;
        hl = (size_t)(e - h - 1);
        h++;
        colon = e + 1;
    } else {
        colon = strrchr(h, ':');
        if (!colon) return false;
        hl = (size_t)(colon - h);
    }
    size_t pl = strlen(colon + 1);
    if (!hl || hl >= hmax || !pl || pl >= pmax) return false;
    memcpy(host, h, hl);
    host[hl] = 0;
    memcpy(port, colon + 1, pl + 1);
    for (const char *p = port; *p; p++) if (*p < '0' || *p > '9') return false;
    return strtoul(port, NULL, 10) <= 65535;
}

ni_err ni_collect_listen(ni_collect *c, const char *spec, ni_error *err)
{
    char host[256], port[8];
    if (c->ns >= NI_COLLECT_LISTEN_MAX)
        return ni_error_set(err, NI_ERR_LIMIT, "%s: at most %u listening sockets", spec, NI_COLLECT_LISTEN_MAX);
    if (!split_spec(spec, host, sizeof host, port, sizeof port))
        return ni_error_set(err, NI_ERR_ARG, "%s: expected udp://HOST:PORT (IPv6 as udp://[ADDR]:PORT)", spec);
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int g = getaddrinfo(host, port, &hints, &ai);
    if (g || !ai) return ni_error_set(err, NI_ERR_ARG, "%s: %s", spec, gai_strerror(g));
    int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        int e = errno;
        freeaddrinfo(ai);
        return ni_error_set(err, NI_ERR_IO, "%s: socket: %s", spec, strerror(e));
    }
    int one = 1, rcv = (int)NI_COLLECT_RCVBUF;
    if (ai->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);    /* the kernel caps it at rmem_max */
#ifdef SO_RXQ_OVFL
    setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
#endif
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        int e = errno;
        close(fd);
        freeaddrinfo(ai);
        return ni_error_set(err, NI_ERR_IO, "%s: bind: %s", spec, strerror(e));
    }
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    uint16_t bound = 0;
    if (!getsockname(fd, (struct sockaddr *)&ss, &sl))
        bound = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                         : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    sock *s = &c->s[c->ns++];
    memset(s, 0, sizeof *s);
    s->fd = fd;
    s->port = bound;
    snprintf(s->spec, sizeof s->spec, "%s", spec);
    return NI_OK;
}

static void sockaddr_to_addr(const struct sockaddr_storage *ss, ni_addr *a)
{
    memset(a, 0, sizeof *a);
    if (ss->ss_family == AF_INET) {
        a->family = 4;
        memcpy(a->b, &((const struct sockaddr_in *)ss)->sin_addr, 4);
    } else if (ss->ss_family == AF_INET6) {
        const uint8_t *b = (const uint8_t *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
        static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
        if (!memcmp(b, mapped, 12)) { a->family = 4; memcpy(a->b, b + 12, 4); }
        else { a->family = 6; memcpy(a->b, b, 16); }
    }
}

/* Reads every datagram socket s holds now.  Returns the decoder's error. */
static ni_err drain(ni_collect *c, sock *s, ni_error *err)
{
    enum { B = NI_COLLECT_BATCH };
    struct mmsghdr m[B];
    struct iovec iov[B];
    struct sockaddr_storage from[B];
    char ctl[B][CMSG_SPACE(sizeof(uint32_t))];
    for (;;) {
        memset(m, 0, sizeof m);
        for (unsigned i = 0; i < B; i++) {
            iov[i].iov_base = c->bufs + (size_t)i * DGRAM_MAX;
            iov[i].iov_len = DGRAM_MAX;
            m[i].msg_hdr.msg_iov = &iov[i];
            m[i].msg_hdr.msg_iovlen = 1;
            m[i].msg_hdr.msg_name = &from[i];
            m[i].msg_hdr.msg_namelen = sizeof from[i];
            m[i].msg_hdr.msg_control = ctl[i];
            m[i].msg_hdr.msg_controllen = sizeof ctl[i];
        }
        int n = recvmmsg(s->fd, m, B, MSG_DONTWAIT, NULL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return NI_OK;
            if (errno == EINTR) continue;
            c->st.recv_errors++;
            return NI_OK;
        }
        if (n == 0) return NI_OK;
        int64_t t = ni_clock_wall_us();
        for (int i = 0; i < n; i++) {
            struct msghdr *h = &m[i].msg_hdr;
            for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR(h, cm)) {
#ifdef SO_RXQ_OVFL
                if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_RXQ_OVFL &&
                    cm->cmsg_len >= CMSG_LEN(sizeof(uint32_t))) {
                    uint32_t d;
                    memcpy(&d, CMSG_DATA(cm), sizeof d);
                    if (d != s->drops) { c->st.kernel_drops += (uint32_t)(d - s->drops); s->drops = d; }
                }
#endif
            }
            size_t len = m[i].msg_len;
            if (h->msg_flags & MSG_TRUNC) c->st.oversized++;
            if (len > DGRAM_MAX) len = DGRAM_MAX;
            c->st.datagrams++;
            c->st.bytes += len;
            ni_addr a;
            sockaddr_to_addr(&from[i], &a);
            c->where = s->spec;
            c->packet_no = 0;
            c->from = &a;
            ni_err rc = ni_netflow_datagram(c->nf, &a, (const uint8_t *)iov[i].iov_base, len, t, err);
            c->from = NULL;
            if (rc) return rc;
        }
        if (n < B) return NI_OK;
    }
}

ni_err ni_collect_run(ni_collect *c, const volatile sig_atomic_t *stop, int64_t duration_us, ni_error *err)
{
    if (!c->bufs && !(c->bufs = malloc((size_t)NI_COLLECT_BATCH * DGRAM_MAX)))
        return ni_error_set(err, NI_ERR_NOMEM, "collector: out of memory");
    struct pollfd pf[NI_COLLECT_LISTEN_MAX];
    for (size_t i = 0; i < c->ns; i++) { pf[i].fd = c->s[i].fd; pf[i].events = POLLIN; }
    int64_t start = ni_clock_mono_us(), last_expire = start;
    ni_err rc = NI_OK;
    while (!(stop && *stop)) {
        int64_t t = ni_clock_mono_us();
        if (duration_us > 0 && t - start >= duration_us) break;
        int wait_ms = 1000;
        if (duration_us > 0) {
            int64_t left = (start + duration_us - t + 999) / 1000;
            if (left < wait_ms) wait_ms = (int)left;
        }
        int n = poll(pf, (nfds_t)c->ns, wait_ms);
        if (n < 0 && errno != EINTR) {
            int e = errno;
            return ni_error_set(err, NI_ERR_IO, "collector: poll: %s", strerror(e));
        }
        for (size_t i = 0; n > 0 && i < c->ns; i++)
            if (pf[i].revents & (POLLIN | POLLERR))
                if ((rc = drain(c, &c->s[i], err))) return rc;
        if (ni_clock_mono_us() - last_expire >= 1000000) {
            last_expire = ni_clock_mono_us();
            if ((rc = ni_netflow_expire(c->nf, ni_clock_wall_us(), err))) return rc;
        }
    }
    /* stopping: whatever the sockets already hold is decoded too */
    for (size_t i = 0; i < c->ns; i++)
        if ((rc = drain(c, &c->s[i], err))) return rc;
    return NI_OK;
}

ni_err ni_collect_read(ni_collect *c, const char *path, ni_error *err)
{
    ni_source *src = ni_source_open(path, err);
    if (!src) return err ? err->code : NI_ERR_IO;
    ni_stats dst;
    memset(&dst, 0, sizeof dst);
    ni_frame f;
    ni_packet p;
    int r;
    ni_err rc = NI_OK;
    uint64_t no = 0;
    while ((r = ni_source_next(src, &f, err)) == 1) {
        no++;
        c->st.capture_frames++;
        if (ni_decode_frame(f.linktype, f.data, f.caplen, f.ts_us, &p, &dst) != NI_DECODE_OK || p.proto != 17) {
            c->st.capture_not_udp++;
            continue;
        }
        if (p.payload_len < p.payload_wire_len) c->st.capture_cut++;
        c->st.datagrams++;
        c->st.bytes += p.payload_len;
        c->where = path;
        c->packet_no = no;
        c->from = &p.src;
        rc = ni_netflow_datagram(c->nf, &p.src, p.payload, p.payload_len, p.ts_us, err);
        c->from = NULL;
        c->packet_no = 0;
        if (rc) break;
    }
    if (r < 0 && !rc) rc = err ? err->code : NI_ERR_FORMAT;
    ni_source_close(src);
    return rc;
}

/* ---- a capture of export datagrams as a session source (ni_input) ---------------- */
/* The first frames of a capture tell: every IP frame among them is UDP and
 * its payload a consistent NetFlow v5/v9 or IPFIX header. */
#define PROBE_FRAMES 16

/* A NetFlow v5/v9 or IPFIX header whose counts, lengths, export time
 * (after 2000) and first set agree with the datagram. */
static bool export_header(const uint8_t *p, size_t len)
{
    ni_cursor c;
    ni_cur_init(&c, p, len);
    uint16_t v = ni_cur_u16(&c), n = ni_cur_u16(&c);
    if (v == 5) {
        ni_cur_skip(&c, 4);
        uint32_t secs = ni_cur_u32(&c);
        return !c.bad && n >= 1 && n <= 30 && len == 24 + 48u * n && secs > 946684800u;
    }
    size_t hdr = v == 9 ? 20 : 16;
    if (v == 9) ni_cur_skip(&c, 4);
    else if (v != 10 || n != len) return false;
    uint32_t secs = ni_cur_u32(&c);
    ni_cur_skip(&c, hdr - c.off);
    uint16_t set = ni_cur_u16(&c), slen = ni_cur_u16(&c);
    if (c.bad || secs <= 946684800u || slen < 4 || slen > len - hdr) return false;
    return v == 9 ? (set <= 1 || set >= 256) : (set == 2 || set == 3 || set >= 256);
}

bool ni_collect_probe(const char *path)
{
    struct stat sb;     /* pipes and terminals cannot be read twice */
    if (!strcmp(path, "-") || stat(path, &sb) || !S_ISREG(sb.st_mode)) return false;
    ni_source *src = ni_source_open(path, NULL);
    if (!src) return false;
    ni_stats st;
    memset(&st, 0, sizeof st);
    ni_frame f;
    ni_packet p;
    unsigned exports = 0, others = 0;
    for (unsigned i = 0; i < PROBE_FRAMES && ni_source_next(src, &f, NULL) == 1; i++) {
        if (ni_decode_frame(f.linktype, f.data, f.caplen, f.ts_us, &p, &st) != NI_DECODE_OK) continue;
        if (p.proto == 17 && p.payload_len == p.payload_wire_len && export_header(p.payload, p.payload_len)) exports++;
        else others++;
    }
    ni_source_close(src);
    return exports > 0 && others == 0;
}

typedef struct flowsrc {
    ni_source *src;
    ni_netflow *nf;
    ni_session *q;              /* sessions decoded, not yet handed out (a ring) */
    size_t qhead, qn, qcap;
    ni_session cur;
    ni_arena *arena;
    ni_stats dst;
    bool eof;
} flowsrc;

static ni_err flowsrc_push(void *ud, ni_session *s, ni_error *err)
{
    flowsrc *x = ud;
    if (x->qn == x->qcap) {
        size_t nc = x->qcap ? x->qcap * 2 : 64;
        ni_session *nq = malloc(nc * sizeof *nq);
        if (!nq) return ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", ni_source_path(x->src));
        for (size_t i = 0; i < x->qn; i++) nq[i] = x->q[(x->qhead + i) % x->qcap];
        free(x->q);
        x->q = nq;
        x->qcap = nc;
        x->qhead = 0;
    }
    ni_session *d = &x->q[(x->qhead + x->qn++) % x->qcap];
    *d = *s;                    /* flow sessions hold no strings but the static source name */
    d->arena = NULL;
    return NI_OK;
}

void *ni_collect_source_open(const char *path, ni_error *err)
{
    flowsrc *x = calloc(1, sizeof *x);
    if (!x) { ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path); return NULL; }
    if (!(x->arena = ni_arena_new(NI_SESSION_ARENA_MAX)) || !(x->nf = ni_netflow_new(NULL, err)) ||
        !(x->src = ni_source_open(path, err))) {
        if (!x->arena) ni_error_set(err, NI_ERR_NOMEM, "%s: out of memory", path);
        ni_collect_source_close(x);
        return NULL;
    }
    ni_netflow_set_sink(x->nf, flowsrc_push, x);
    return x;
}

int ni_collect_source_next(void *src, ni_item *it, ni_error *err)
{
    flowsrc *x = src;
    while (!x->qn) {
        if (x->eof) {
            int r = ni_netflow_finish_one(x->nf, err);
            if (r <= 0) return r;
            continue;
        }
        ni_frame f;
        ni_packet p;
        int r = ni_source_next(x->src, &f, err);
        if (r < 0) return -1;
        if (r == 0) { x->eof = true; continue; }
        if (ni_decode_frame(f.linktype, f.data, f.caplen, f.ts_us, &p, &x->dst) != NI_DECODE_OK || p.proto != 17)
            continue;
        if (ni_netflow_datagram(x->nf, &p.src, p.payload, p.payload_len, p.ts_us, err)) return -1;
    }
    ni_arena_reset(x->arena);
    x->cur = x->q[x->qhead];
    x->cur.arena = x->arena;
    x->qhead = (x->qhead + 1) % x->qcap;
    x->qn--;
    it->kind = NI_ITEM_SESSION;
    it->session = &x->cur;
    return 1;
}

void ni_collect_source_stats(const void *src, ni_input_progress *st)
{
    const flowsrc *x = src;
    ni_source_progress(x->src, &st->done, &st->total);
}

const char *ni_collect_source_path(const void *src) { return ni_source_path(((const flowsrc *)src)->src); }

void ni_collect_source_close(void *src)
{
    flowsrc *x = src;
    if (!x) return;
    ni_source_close(x->src);
    ni_netflow_free(x->nf);
    ni_arena_free(x->arena);
    free(x->q);
    free(x);
}
