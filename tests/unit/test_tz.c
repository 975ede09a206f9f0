/* test_tz.c — unit tests of lib/analyze/ni_tz against the system tz
 * database: Asia/Pyongyang's 2015-2018 UTC+08:30 period, a DST zone through
 * its footer rule (far-future dates), weekdays, and bad names. */
#include "ni_test.h"
#include "analyze/ni_tz.h"
#include "core/ni_time.h"

static int64_t at(const char *s) { int64_t us = 0; ni_time_parse(s, &us); return us; }

TEST(pyongyang_history)
{
    ni_error err = {0};
    ni_tz *tz = ni_tz_load("Asia/Pyongyang", &err);
    CHECK(tz != NULL);
    if (!tz) return;
    CHECK_INT(ni_tz_offset(tz, at("2015-08-14T12:00:00Z")), 9 * 3600);
    CHECK_INT(ni_tz_offset(tz, at("2015-08-15T12:00:00Z")), 8 * 3600 + 1800);
    CHECK_INT(ni_tz_offset(tz, at("2018-05-04T12:00:00Z")), 8 * 3600 + 1800);
    CHECK_INT(ni_tz_offset(tz, at("2018-05-05T12:00:00Z")), 9 * 3600);
    CHECK_INT(ni_tz_offset(tz, at("2024-02-20T00:00:00Z")), 9 * 3600);
    ni_localtime lt;
    ni_tz_local(tz, at("2017-01-01T15:29:00Z"), &lt);  /* 23:59 local, Sunday */
    CHECK_INT(lt.hour, 23); CHECK_INT(lt.minute, 59); CHECK_INT(lt.weekday, 6);
    ni_tz_local(tz, at("2017-01-01T15:30:00Z"), &lt);  /* Monday 00:00 */
    CHECK_INT(lt.day, 2); CHECK_INT(lt.hour, 0); CHECK_INT(lt.weekday, 0);
    ni_tz_free(tz);
}

TEST(dst_rule_far_future)
{
    ni_error err = {0};
    ni_tz *tz = ni_tz_load("Europe/Berlin", &err);
    CHECK(tz != NULL);
    if (!tz) return;
    CHECK_INT(ni_tz_offset(tz, at("2021-07-01T00:00:00Z")), 7200);
    CHECK_INT(ni_tz_offset(tz, at("2021-12-01T00:00:00Z")), 3600);
    /* 2050: beyond the transitions of slim files; the footer rule decides.
     * EU DST 2050 starts Sunday 27 March 01:00 UTC. */
    CHECK_INT(ni_tz_offset(tz, at("2050-03-27T00:59:59Z")), 3600);
    CHECK_INT(ni_tz_offset(tz, at("2050-03-27T01:00:00Z")), 7200);
    CHECK_INT(ni_tz_offset(tz, at("2050-10-30T00:59:59Z")), 7200);
    CHECK_INT(ni_tz_offset(tz, at("2050-10-30T01:00:00Z")), 3600);
    ni_tz_free(tz);
}

TEST(southern_hemisphere)
{
    ni_error err = {0};
    ni_tz *tz = ni_tz_load("Australia/Sydney", &err);
    CHECK(tz != NULL);
    if (!tz) return;
    CHECK_INT(ni_tz_offset(tz, at("2060-01-15T00:00:00Z")), 11 * 3600);
    CHECK_INT(ni_tz_offset(tz, at("2060-07-15T00:00:00Z")), 10 * 3600);
    ni_tz_free(tz);
}

TEST(utc_and_errors)
{
    ni_error err = {0};
    ni_tz *tz = ni_tz_load("UTC", &err);
    CHECK(tz != NULL);
    if (tz) { CHECK_INT(ni_tz_offset(tz, at("2020-06-01T00:00:00Z")), 0); ni_tz_free(tz); }
    CHECK(ni_tz_load("Mars/Olympus", &err) == NULL);
    CHECK(strstr(err.msg, "Mars/Olympus") != NULL);
    CHECK(ni_tz_load("../../etc/passwd", &err) == NULL);
    CHECK_INT(err.code, NI_ERR_ARG);
}

RUN(T(pyongyang_history), T(dst_rule_far_future), T(southern_hemisphere), T(utc_and_errors))
