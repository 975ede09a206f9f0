/* ni_tz.c — TZif reader and UTC→local conversion (see ni_tz.h).
 * Format: RFC 8536.  Version 1 data blocks are skipped in favour of the
 * 64-bit version 2+ block; the footer's POSIX TZ string ("KST-9",
 * "CET-1CEST,M3.5.0,M10.5.0/3") gives the rule after the last transition. */
#include "analyze/ni_tz.h"
#include "core/ni_cursor.h"
#include "core/ni_time.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NI_TZ_FILE_MAX (256 * 1024)
#define NI_TZ_TRANS_MAX 4096

typedef struct rule_date {
    char kind;          /* 'M' month/week/day, 'J' julian 1..365, 'D' zero-based day */
    int m, w, d, n;
    int32_t secs;       /* time of day of the change, local (may be negative or > 24h) */
} rule_date;

struct ni_tz {
    char name[64];
    size_t ntrans;
    int64_t *trans;         /* transition instants, seconds */
    int32_t *trans_off;     /* offset in force from trans[i] */
    int32_t first_off;      /* before the first transition */
    /* footer rule */
    int has_rule;
    int32_t std_off, dst_off; /* seconds east of UTC */
    int has_dst;
    rule_date start, end;
};

static ni_err load_file(const char *path, uint8_t **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return errno == ENOENT ? NI_ERR_NOTFOUND : NI_ERR_IO;
    uint8_t *b = malloc(NI_TZ_FILE_MAX);
    if (!b) { fclose(f); return NI_ERR_NOMEM; }
    size_t n = fread(b, 1, NI_TZ_FILE_MAX, f);
    fclose(f);
    *buf = b; *len = n;
    return NI_OK;
}

/* --- POSIX TZ string (footer) ------------------------------------------ */
static const char *parse_name(const char *p)
{
    if (*p == '<') { while (*p && *p != '>') p++; return *p ? p + 1 : NULL; }
    const char *s = p;
    while (isalpha((unsigned char)*p)) p++;
    return p - s >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]] → seconds */
static const char *parse_hms(const char *p, int32_t *out)
{
    int sign = 1;
    if (*p == '+' || *p == '-') sign = *p++ == '-' ? -1 : 1;
    if (!isdigit((unsigned char)*p)) return NULL;
    long h = strtol(p, (char **)&p, 10), m = 0, s = 0;
    if (*p == ':') { p++; m = strtol(p, (char **)&p, 10); if (*p == ':') { p++; s = strtol(p, (char **)&p, 10); } }
    if (h > 167 || m > 59 || s > 59) return NULL;
    *out = (int32_t)(sign * (h * 3600 + m * 60 + s));
    return p;
}

static const char *parse_rule_date(const char *p, rule_date *r)
{
    r->secs = 7200;
    if (*p == 'M') {
        r->kind = 'M';
        p++;
        r->m = (int)strtol(p, (char **)&p, 10);
        if (*p++ != '.') return NULL;
        r->w = (int)strtol(p, (char **)&p, 10);
        if (*p++ != '.') return NULL;
        r->d = (int)strtol(p, (char **)&p, 10);
        if (r->m < 1 || r->m > 12 || r->w < 1 || r->w > 5 || r->d < 0 || r->d > 6) return NULL;
    } else if (*p == 'J') {
        r->kind = 'J'; p++;
        r->n = (int)strtol(p, (char **)&p, 10);
        if (r->n < 1 || r->n > 365) return NULL;
    } else if (isdigit((unsigned char)*p)) {
        r->kind = 'D';
        r->n = (int)strtol(p, (char **)&p, 10);
        if (r->n > 365) return NULL;
    } else return NULL;
    if (*p == '/') { p = parse_hms(p + 1, &r->secs); if (!p) return NULL; }
    return p;
}

static int parse_footer(ni_tz *tz, const char *s)
{
    const char *p = parse_name(s);
    int32_t off;
    if (!p || !(p = parse_hms(p, &off))) return -1;
    tz->std_off = -off; /* POSIX offsets are west-positive */
    tz->has_rule = 1;
    if (!*p) return 0;
    p = parse_name(p);
    if (!p) return -1;
    tz->dst_off = tz->std_off + 3600;
    if (*p && *p != ',') { if (!(p = parse_hms(p, &off))) return -1; tz->dst_off = -off; }
    if (*p != ',') return *p ? -1 : 0;
    if (!(p = parse_rule_date(p + 1, &tz->start)) || *p != ',') return -1;
    if (!(p = parse_rule_date(p + 1, &tz->end)) || *p) return -1;
    tz->has_dst = 1;
    return 0;
}

/* Instant (UTC seconds) of a rule change in `year`, given the offset in
 * force before it. */
static int64_t rule_instant(const rule_date *r, int year, int32_t off_before)
{
    int64_t day;
    if (r->kind == 'M') {
        int64_t first = ni_days_from_civil(year, (unsigned)r->m, 1);
        int wd = (int)(((first % 7) + 11) % 7); /* 1970-01-01 was Thursday: 0=Sunday */
        int64_t d = first + ((r->d - wd + 7) % 7) + 7 * (r->w - 1);
        unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        int64_t last = first + mdays[r->m - 1] + (r->m == 2 && leap) - 1;
        while (d > last) d -= 7;
        day = d;
    } else if (r->kind == 'J') {
        int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        int n = r->n;
        if (leap && n >= 60) n++;
        day = ni_days_from_civil(year, 1, 1) + n - 1;
    } else {
        day = ni_days_from_civil(year, 1, 1) + r->n;
    }
    return day * 86400 + r->secs - off_before;
}

static int32_t rule_offset(const ni_tz *tz, int64_t t)
{
    if (!tz->has_dst) return tz->std_off;
    int y; unsigned m, d;
    int64_t days = t / 86400 - (t % 86400 < 0);
    ni_civil_from_days(days, &y, &m, &d);
    int64_t s = rule_instant(&tz->start, y, tz->std_off);
    int64_t e = rule_instant(&tz->end, y, tz->dst_off);
    if (s < e) return (t >= s && t < e) ? tz->dst_off : tz->std_off;
    return (t >= e && t < s) ? tz->std_off : tz->dst_off; /* southern hemisphere */
}

/* --- TZif ---------------------------------------------------------------- */
static int parse_tzif(ni_tz *tz, const uint8_t *b, size_t n)
{
    ni_cursor c; ni_cur_init(&c, b, n);
    for (int pass = 0; pass < 2; pass++) {
        const uint8_t *magic = ni_cur_bytes(&c, 4);
        if (!magic || memcmp(magic, "TZif", 4)) return -1;
        uint8_t ver = ni_cur_u8(&c);
        ni_cur_skip(&c, 15);
        uint32_t isutcnt = ni_cur_u32(&c), isstdcnt = ni_cur_u32(&c), leapcnt = ni_cur_u32(&c);
        uint32_t timecnt = ni_cur_u32(&c), typecnt = ni_cur_u32(&c), charcnt = ni_cur_u32(&c);
        if (c.bad || typecnt == 0 || typecnt > 256 || timecnt > NI_TZ_TRANS_MAX) return -1;
        size_t tsz = pass == 0 ? 4 : 8;
        if (pass == 0 && ver >= '2') {  /* skip the v1 block */
            size_t skip = timecnt * 5 + typecnt * 6 + charcnt + leapcnt * 8 + isstdcnt + isutcnt;
            if (!ni_cur_skip(&c, skip)) return -1;
            continue;
        }
        ni_cursor tc = ni_cur_sub(&c, timecnt * tsz);
        ni_cursor ic = ni_cur_sub(&c, timecnt);
        ni_cursor yc = ni_cur_sub(&c, typecnt * 6);
        if (!ni_cur_skip(&c, charcnt + leapcnt * (tsz + 4) + isstdcnt + isutcnt)) return -1;
        int32_t offs[256]; int dst[256];
        for (uint32_t i = 0; i < typecnt; i++) {
            offs[i] = (int32_t)ni_cur_u32(&yc);
            dst[i] = ni_cur_u8(&yc);
            ni_cur_u8(&yc);
        }
        tz->trans = calloc(timecnt ? timecnt : 1, sizeof *tz->trans);
        tz->trans_off = calloc(timecnt ? timecnt : 1, sizeof *tz->trans_off);
        if (!tz->trans || !tz->trans_off) return -1;
        /* offset before the first transition: first non-DST type (RFC 8536 §3.2) */
        tz->first_off = offs[0];
        for (uint32_t i = 0; i < typecnt; i++) if (!dst[i]) { tz->first_off = offs[i]; break; }
        for (uint32_t i = 0; i < timecnt; i++) {
            int64_t t = tsz == 4 ? (int64_t)(int32_t)ni_cur_u32(&tc)
                                 : (int64_t)(((uint64_t)ni_cur_u32(&tc) << 32) | ni_cur_u32(&tc));
            uint8_t idx = ni_cur_u8(&ic);
            if (idx >= typecnt) return -1;
            if (i && t <= tz->trans[i - 1]) return -1;
            tz->trans[i] = t;
            tz->trans_off[i] = offs[idx];
        }
        if (tc.bad || ic.bad || yc.bad) return -1;
        tz->ntrans = timecnt;
        if (pass == 1 || ver < '2') {
            /* footer: "\n<TZ string>\n" */
            if (ver >= '2' && ni_cur_left(&c) >= 2 && ni_cur_u8(&c) == '\n') {
                const uint8_t *f = ni_cur_ptr(&c);
                size_t left = ni_cur_left(&c);
                const uint8_t *nl = memchr(f, '\n', left);
                if (nl && nl - f > 0 && nl - f < 128) {
                    char rule[128];
                    memcpy(rule, f, (size_t)(nl - f));
                    rule[nl - f] = 0;
                    if (parse_footer(tz, rule)) return -1;
                }
            }
            return 0;
        }
    }
    return 0;
}

static int valid_name(const char *s)
{
    if (!*s || strlen(s) >= 64 || s[0] == '/' || strstr(s, "..")) return 0;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("/_+-", *p)) return 0;
    return 1;
}

ni_tz *ni_tz_load(const char *name, ni_error *err)
{
    if (!valid_name(name)) {
        ni_error_set(err, NI_ERR_ARG, "--tz '%s': not a time zone name", name);
        return NULL;
    }
    ni_tz *tz = calloc(1, sizeof *tz);
    if (!tz) { ni_error_set(err, NI_ERR_NOMEM, "time zone: out of memory"); return NULL; }
    snprintf(tz->name, sizeof tz->name, "%s", name);
    if (!strcmp(name, "UTC") || !strcmp(name, "Etc/UTC")) { tz->has_rule = 1; return tz; }
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
    uint8_t *buf = NULL; size_t len = 0;
    ni_err e = load_file(path, &buf, &len);
    if (e) {
        free(tz);
        ni_error_set(err, e == NI_ERR_NOTFOUND ? NI_ERR_ARG : e, "--tz '%s': unknown time zone (%s)",
                     name, e == NI_ERR_NOTFOUND ? "no such zone in the tz database" : ni_strerror(e));
        return NULL;
    }
    int r = parse_tzif(tz, buf, len);
    free(buf);
    if (r) {
        ni_tz_free(tz);
        ni_error_set(err, NI_ERR_DATA, "%s: not a valid tz database file", path);
        return NULL;
    }
    return tz;
}

void ni_tz_free(ni_tz *tz)
{
    if (!tz) return;
    free(tz->trans);
    free(tz->trans_off);
    free(tz);
}

const char *ni_tz_name(const ni_tz *tz) { return tz->name; }

int32_t ni_tz_offset(const ni_tz *tz, int64_t us)
{
    int64_t t = us / 1000000 - (us % 1000000 < 0);
    if (tz->ntrans == 0 || t < tz->trans[0])
        return tz->ntrans == 0 && tz->has_rule ? rule_offset(tz, t) : tz->first_off;
    if (t >= tz->trans[tz->ntrans - 1] && tz->has_rule) {
        /* the last transition's offset holds until the rule's first change */
        if (!tz->has_dst) return tz->std_off;
        return rule_offset(tz, t);
    }
    size_t lo = 0, hi = tz->ntrans; /* last i with trans[i] <= t */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (tz->trans[mid] <= t) lo = mid; else hi = mid;
    }
    return tz->trans_off[lo];
}

void ni_tz_local(const ni_tz *tz, int64_t us, ni_localtime *out)
{
    int32_t off = ni_tz_offset(tz, us);
    int64_t t = us / 1000000 - (us % 1000000 < 0) + off;
    int64_t days = t / 86400, sod = t % 86400;
    if (sod < 0) { sod += 86400; days--; }
    int y; unsigned m, d;
    ni_civil_from_days(days, &y, &m, &d);
    out->year = y; out->month = (int)m; out->day = (int)d;
    out->hour = (int)(sod / 3600); out->minute = (int)(sod / 60 % 60); out->second = (int)(sod % 60);
    out->weekday = (int)(((days % 7) + 10) % 7); /* 1970-01-01 was a Thursday (3) */
    out->offset = off;
}
