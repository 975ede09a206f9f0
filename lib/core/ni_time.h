/* ni_time.h — timestamps: microseconds since the Unix epoch (UTC) to RFC 3339
 * text and back.  Local time for reports is computed elsewhere from the tz
 * database (lib/analyze), never from a fixed offset. */
#ifndef NI_TIME_H
#define NI_TIME_H

#include <stdbool.h>
#include <stdint.h>
#include "netintel/netintel.h"

/* The clocks, in microseconds: monotonic (intervals, deadlines) and real
 * (the wall clock, since the Unix epoch). */
int64_t ni_clock_mono_us(void);
int64_t ni_clock_wall_us(void);

#define NI_TIME_STRLEN 40
/* "2024-02-03T04:05:06.000007Z" */
const char *ni_time_rfc3339_us(int64_t us, char *buf);
/* The same text at buf (NI_TIME_STRLEN bytes, NUL-terminated); returns its
 * end (the NUL), for writers that copy it on. */
char *ni_time_rfc3339_us_to(int64_t us, char *buf);
/* The last second written by ni_time_rfc3339_us_memo_to, as its text up to
 * the fraction ("2024-02-03T04:05:06."): a time in the same second copies it
 * and writes only the fraction (a session's last packet is mostly in the
 * second of its first).  Kept by the caller (one per record writer);
 * zero-initialised = empty. */
typedef struct ni_time_memo {
    int64_t sec;
    bool valid;
    char text[20];
} ni_time_memo;
/* The text of ni_time_rfc3339_us_to at buf, through the memo m (which it
 * updates); returns its end (the NUL). */
char *ni_time_rfc3339_us_memo_to(ni_time_memo *m, int64_t us, char *buf);
/* "2024-02-03T04:05:06Z" */
const char *ni_time_rfc3339(int64_t us, char *buf);
/* Parses "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.ffffff]]Z" or with ±HH:MM
 * offset; returns NI_OK and *us, or NI_ERR_ARG. */
ni_err ni_time_parse(const char *s, int64_t *us);
/* Days since 1970-01-01 for a civil date (proleptic Gregorian). */
int64_t ni_days_from_civil(int64_t y, unsigned m, unsigned d);
void ni_civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d);

#endif
