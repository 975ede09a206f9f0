/* ni_time.c — RFC 3339 formatting and parsing of UTC microsecond timestamps,
 * with civil-date arithmetic (H. Hinnant's days_from_civil algorithm), so no
 * call depends on the process time zone; and the monotonic and real clocks. */
#include "core/ni_time.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t ni_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void ni_civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t yy = (int64_t)yoe + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

static void split(int64_t us, int64_t *days, int64_t *sod, int64_t *frac)
{
    int64_t secs = us / 1000000, f = us % 1000000;
    if (f < 0) { f += 1000000; secs--; }
    int64_t dd = secs / 86400, s = secs % 86400;
    if (s < 0) { s += 86400; dd--; }
    *days = dd; *sod = s; *frac = f;
}

/* Two decimal digits of v < 100, from a table of the pairs. */
static const char pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";
static inline char *two(char *p, unsigned v)
{
    memcpy(p, pairs + 2 * v, 2);
    return p + 2;
}

char *ni_time_rfc3339_us_to(int64_t us, char *buf)
{
    int64_t days, sod, frac; int y; unsigned m, d;
    split(us, &days, &sod, &frac);
    ni_civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) {
        int n = snprintf(buf, NI_TIME_STRLEN, "%04d-%02u-%02uT%02d:%02d:%02d.%06dZ", y, m, d,
                         (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60), (int)frac);
        return buf + (n < 0 ? 0 : n >= NI_TIME_STRLEN ? NI_TIME_STRLEN - 1 : n);
    }
    /* the hot path (two per session record): no printf */
    unsigned s = (unsigned)sod, f = (unsigned)frac;
    char *p = two(buf, (unsigned)y / 100); p = two(p, (unsigned)y % 100);
    *p++ = '-'; p = two(p, m); *p++ = '-'; p = two(p, d);
    *p++ = 'T'; p = two(p, s / 3600); *p++ = ':';
    p = two(p, s / 60 % 60); *p++ = ':'; p = two(p, s % 60);
    *p++ = '.'; p = two(p, f / 10000); p = two(p, f / 100 % 100); p = two(p, f % 100);
    *p++ = 'Z'; *p = 0;
    return p;
}

char *ni_time_rfc3339_us_memo_to(ni_time_memo *m, int64_t us, char *buf)
{
    int64_t sec = us / 1000000, f = us % 1000000;
    if (f < 0) { f += 1000000; sec--; }
    if (!m->valid || sec != m->sec) {
        char *end = ni_time_rfc3339_us_to(us, buf);
        /* 27 bytes: a four-character year, so the second's text is the
         * first 20 (the same for every time in that second) */
        if (end - buf == 27) { memcpy(m->text, buf, 20); m->sec = sec; m->valid = true; }
        return end;
    }
    memcpy(buf, m->text, 20);
    unsigned fu = (unsigned)f;
    char *p = two(buf + 20, fu / 10000); p = two(p, fu / 100 % 100); p = two(p, fu % 100);
    *p++ = 'Z'; *p = 0;
    return p;
}

const char *ni_time_rfc3339_us(int64_t us, char *buf)
{
    ni_time_rfc3339_us_to(us, buf);
    return buf;
}

const char *ni_time_rfc3339(int64_t us, char *buf)
{
    int64_t days, sod, frac; int y; unsigned m, d;
    split(us, &days, &sod, &frac);
    ni_civil_from_days(days, &y, &m, &d);
    snprintf(buf, NI_TIME_STRLEN, "%04d-%02u-%02uT%02d:%02d:%02dZ", y, m, d,
             (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60));
    return buf;
}

static int num(const char **p, int digits, int *out)
{
    int v = 0;
    for (int i = 0; i < digits; i++) {
        if (!isdigit((unsigned char)**p)) return -1;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    *out = v;
    return 0;
}

ni_err ni_time_parse(const char *s, int64_t *us)
{
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, se = 0, off = 0;
    int64_t frac = 0;
    if (num(&p, 4, &y) || *p++ != '-' || num(&p, 2, &mo) || *p++ != '-' || num(&p, 2, &d))
        return NI_ERR_ARG;
    if (mo < 1 || mo > 12 || d < 1 || d > 31) return NI_ERR_ARG;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (num(&p, 2, &h) || *p++ != ':' || num(&p, 2, &mi)) return NI_ERR_ARG;
        if (*p == ':') {
            p++;
            if (num(&p, 2, &se)) return NI_ERR_ARG;
            if (*p == '.') {
                p++;
                int n = 0;
                while (isdigit((unsigned char)*p)) {
                    if (n < 6) { frac = frac * 10 + (*p - '0'); n++; }
                    p++;
                }
                if (n == 0) return NI_ERR_ARG;
                while (n++ < 6) frac *= 10;
            }
        }
        if (h > 23 || mi > 59 || se > 60) return NI_ERR_ARG;
        if (*p == 'Z' || *p == 'z') p++;
        else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, oh, om;
            if (num(&p, 2, &oh) || *p++ != ':' || num(&p, 2, &om)) return NI_ERR_ARG;
            off = sign * (oh * 60 + om);
        }
    }
    if (*p) return NI_ERR_ARG;
    int64_t days = ni_days_from_civil(y, (unsigned)mo, (unsigned)d);
    *us = ((days * 86400 + h * 3600 + mi * 60 + se) - (int64_t)off * 60) * 1000000 + frac;
    return NI_OK;
}

static int64_t clock_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t ni_clock_mono_us(void) { return clock_us(CLOCK_MONOTONIC); }
int64_t ni_clock_wall_us(void) { return clock_us(CLOCK_REALTIME); }
