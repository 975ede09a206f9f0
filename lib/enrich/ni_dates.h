/* ni_dates.h — release dates and lifecycles:
 *   browsers  uap-core family + version → release date, through data/browsers.tsv
 *             (family → @mdn/browser-compat-data browser key) and the "browsers"
 *             object of browser-compat-data's data.json (releases[v].release_date);
 *   devices   model code ("SM-S928B", "iPhone15,2") → maker, marketing name,
 *             release date, from data/devices.tsv (longest pattern wins);
 *   OS        uap-core OS family + version → release and end-of-support dates,
 *             from data/os.tsv;
 *   final builds  the last build of a browser for an old OS (Chrome
 *             49.0.2623.112 on XP/Vista...), from data/final-builds.tsv.
 * Dates are "YYYY-MM-DD" strings.
 *
 * Ownership: every returned pointer (structs and strings) is owned by the
 * ni_dates object and stays valid until ni_dates_free().  Lookups only read. */
#ifndef NI_DATES_H
#define NI_DATES_H

#include <stdbool.h>
#include "netintel/netintel.h"

typedef struct ni_dates ni_dates;

typedef struct ni_browser_release {
    const char *bcd_key;     /* "chrome", "safari_ios", ... */
    const char *version;     /* the browser-compat-data release matched ("49", "17.4") */
    const char *date;        /* its release date */
} ni_browser_release;

typedef struct ni_device_info {
    const char *maker;       /* "Samsung" */
    const char *pattern;     /* the matching row ("SM-S928*") */
    const char *name;        /* "Galaxy S24 Ultra" */
    const char *release;     /* "2024-01-31" */
    const char *source;
} ni_device_info;

typedef struct ni_os_info {
    const char *family;      /* uap-core OS family: "Windows", "Mac OS X", "iOS", "Android" */
    const char *version;     /* "XP", "10", "14", "10.15" */
    const char *name;        /* "Windows XP", "macOS Catalina" */
    const char *release;     /* "2001-10-25" */
    const char *end_of_support; /* NULL while supported (or unknown) */
    const char *source;
} ni_os_info;

typedef struct ni_final_build {
    const char *browser;     /* uap-core family: "Chrome" */
    const char *os, *os_version;   /* "Windows", "XP" */
    const char *final;       /* "49.0.2623.112" */
    bool major_only;         /* User-Agents carry only the major ("Firefox/52.0") */
    const char *source;
} ni_final_build;

ni_dates *ni_dates_new(void);
void ni_dates_free(ni_dates *d);

/* Loads <data_dir>/browsers.tsv, <data_dir>/devices.tsv, <data_dir>/os.tsv,
 * <data_dir>/final-builds.tsv (after os.tsv: its OS rows must be there) and
 * <data_dir>/ext/node_modules/@mdn/browser-compat-data/data.json.  Errors:
 * NI_ERR_DATA with one line naming the file ("data/os.tsv:12: bad date ..."). */
ni_err ni_dates_load(ni_dates *d, const char *data_dir, ni_error *err);
/* The same, one file at a time. */
ni_err ni_dates_load_browser_map(ni_dates *d, const char *browsers_tsv, ni_error *err);
ni_err ni_dates_load_bcd(ni_dates *d, const char *data_json, ni_error *err);
ni_err ni_dates_load_devices(ni_dates *d, const char *devices_tsv, ni_error *err);
ni_err ni_dates_load_os(ni_dates *d, const char *os_tsv, ni_error *err);
ni_err ni_dates_load_final_builds(ni_dates *d, const char *final_builds_tsv, ni_error *err);

/* Release of browser `family` (uap-core name, e.g. "Chrome Mobile") at
 * `version` ("49.0.2623.112" or "49"): tries the full version, then drops
 * trailing components ("49.0.2623", "49.0", "49").  Returns 1 and fills
 * *out, or 0 (unknown family, version below the row's min_major, no dated
 * release). */
int ni_dates_browser(const ni_dates *d, const char *family, const char *version,
                     ni_browser_release *out);

/* Device by model code (case-insensitive): an exact row wins, then the
 * longest "PREFIX*" row.  NULL when none matches. */
const ni_device_info *ni_dates_device(const ni_dates *d, const char *model);

/* OS by family (case-insensitive) and version ("10.15.7" tries "10.15.7",
 * "10.15", "10").  NULL when unknown. */
const ni_os_info *ni_dates_os(const ni_dates *d, const char *family, const char *version);

/* The final build of browser `family` (uap-core name, case-insensitive) for
 * OS `os` at `os_version` ("XP", "7", "8.1"; "10.6.8" tries "10.6.8",
 * "10.6", "10"), or NULL when that OS still gets new builds of it (or the
 * table does not say). */
const ni_final_build *ni_dates_final_build(const ni_dates *d, const char *family, const char *os,
                                           const char *os_version);

/* Is browser `family` at `version` (as the User-Agent gives it:
 * "49.0.2623.112", "52.0") the final build for that OS?  1 when it equals
 * the row's build (for major-only rows: has its major), 0 otherwise or when
 * no row applies.  *row (if not NULL) gets the row, even when the answer is
 * 0 (an older build on an OS whose browser updates ended). */
int ni_dates_is_final_build(const ni_dates *d, const char *family, const char *version, const char *os,
                            const char *os_version, const ni_final_build **row);

/* Counts of loaded rows (for checks and reports). */
size_t ni_dates_browser_releases(const ni_dates *d);
size_t ni_dates_device_rows(const ni_dates *d);
size_t ni_dates_os_rows(const ni_dates *d);
size_t ni_dates_final_build_rows(const ni_dates *d);

#endif
