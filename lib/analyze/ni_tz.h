/* ni_tz.h — local time from the tz database, with its history: reads a
 * compiled zone file (TZif, RFC 8536) from /usr/share/zoneinfo (or
 * $TZDIR) and converts UTC instants to local civil time, using the file's
 * transitions and, past the last one, its POSIX TZ footer rule (RFC 8536
 * §3.3).  No process-wide TZ/setenv: each ni_tz is an independent object, so
 * Asia/Pyongyang's UTC+08:30 of 2015-08-15 .. 2018-05-04 comes out right. */
#ifndef NI_TZ_H
#define NI_TZ_H

#include <stdint.h>
#include "netintel/netintel.h"

typedef struct ni_tz ni_tz;

/* Loads zone `name` ("Asia/Pyongyang", "UTC").  NULL + err ("--tz 'X':
 * unknown time zone") when the zone does not exist or its file is corrupt. */
ni_tz *ni_tz_load(const char *name, ni_error *err);
void ni_tz_free(ni_tz *tz);
const char *ni_tz_name(const ni_tz *tz);

/* UTC offset in seconds in force at the instant `us` (µs since epoch). */
int32_t ni_tz_offset(const ni_tz *tz, int64_t us);

typedef struct ni_localtime {
    int year, month, day;   /* civil date */
    int hour, minute, second;
    int weekday;            /* 0 = Monday ... 6 = Sunday (ISO 8601) */
    int32_t offset;         /* seconds east of UTC */
} ni_localtime;

void ni_tz_local(const ni_tz *tz, int64_t us, ni_localtime *out);

#endif
