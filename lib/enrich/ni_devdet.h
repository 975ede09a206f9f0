/* ni_devdet.h — the second device database: Matomo device-detector's device
 * rules as shipped by the npm package node-device-detector 2.2.7 (MIT;
 * regexes/device/ (one .js per list), regexes/vendorfragments.js and the release years of
 * regexes/device-info/device.js), reimplemented in C with PCRE2.  netintel
 * consults it only where uap-core gives a generic device or none
 * (ni_uaverdict.c); uap-core stays first for browser and OS.
 *
 * The matching rules, as node-device-detector 2.2.7 applies them in
 * DeviceDetector#parseDevice (index.js, parser/device-abstract-parser.js,
 * parser/helper.js):
 *   - every pattern P is searched (unanchored, ASCII case-insensitive) as
 *     `(?:^|[^A-Z0-9_-]|[^A-Z0-9-]_|sprd-|MZ-)(?:P)` after "++" → "+";
 *   - a User-Agent with the reduced Android form ("Android 1x; K)" followed
 *     by " AppleWebKit", not Telegram) and no Sec-CH-UA-Model hint has no
 *     device; so has a desktop one ("Windows NT", "X11; Linux x86_64", none
 *     of the mobile/TV/console exclusions);
 *   - the lists are tried in this order, the first giving an answer wins:
 *     televisions (only with an "HbbTV/x.y" or "SmartTvA/x.y" fragment;
 *     type tv when the rule has none), shell_tv (only with a "... Shell
 *     xxxxxx" or "tclwebkit" fragment; type tv), notebooks (only with
 *     "FBMD/"; type desktop), consoles, car_browsers, cameras,
 *     portable_media_player, mobiles;
 *   - within a list brands are tried in JavaScript object order (keys that
 *     are array indexes first, ascending, then file order); a brand whose
 *     regex matches decides: its first matching model rule gives model (with
 *     $1..$n filled in, '_' → ' ', a final " TD" dropped, "Build" → none),
 *     and may override type and brand; brand "Unknown" is none;
 *   - "Apple" on a User-Agent that says "Android " is a fake: no device;
 *   - no brand yet: vendorfragments.js (pattern + "[^a-z0-9]+") names it.
 * Types are device-detector's: smartphone, tablet, phablet, feature phone,
 * desktop, console, tv, car browser, camera, portable media player, smart
 * display, smart speaker, wearable, peripheral.
 *
 * Start-up: every regex is compiled at load the first time a set of data
 * files is seen; when the same files (by identity, core/ni_verified.h) were
 * compiled whole by an earlier run, each regex is compiled on first use
 * instead (most are never used: the literal prefilter rules them out).
 *
 * The object is safe to share between threads: apart from that lazy
 * compilation (published atomically), it is immutable after loading. */
#ifndef NI_DEVDET_H
#define NI_DEVDET_H

#include <stdbool.h>
#include <stddef.h>
#include "netintel/netintel.h"

typedef struct ni_devdet ni_devdet;

#define NI_DEVDET_FIELD_MAX 96

/* The database's answer; empty strings when absent. */
typedef struct ni_devdet_result {
    char brand[NI_DEVDET_FIELD_MAX];   /* "Xiaomi" */
    char model[NI_DEVDET_FIELD_MAX];   /* "Redmi Note 12 Pro" */
    char type[24];                     /* "smartphone" */
} ni_devdet_result;

/* Loads the lists under <regexes_dir>/device/, vendorfragments.js and
 * device-info/device.js (node-device-detector's regexes/ folder).  NULL with
 * err set naming the file and the problem (missing, not JSON, a regex PCRE2
 * cannot compile). */
ni_devdet *ni_devdet_load(const char *regexes_dir, ni_error *err);
void ni_devdet_free(ni_devdet *d);

/* Rules loaded: brand rules and model rules over all lists. */
size_t ni_devdet_brands(const ni_devdet *d);
size_t ni_devdet_models(const ni_devdet *d);

/* Parses ua[0..len) (cut at NI_UA_LEN_MAX).  hint_model and
 * hint_platform_version are the Sec-CH-UA-Model / -Platform-Version client
 * hints (unquoted, or NULL), used as device-detector uses them.  Fills out
 * and returns true when the database names a brand or a model. */
bool ni_devdet_parse(const ni_devdet *d, const char *ua, size_t len, const char *hint_model,
                     const char *hint_platform_version, ni_devdet_result *out);

/* The same, with the literal prefilter on or off (results are identical;
 * off is for checking that). */
bool ni_devdet_parse_ex(const ni_devdet *d, const char *ua, size_t len, const char *hint_model,
                        const char *hint_platform_version, bool prefilter, ni_devdet_result *out);
/* One thread's scratch for ni_devdet_match over d (which must outlive it):
 * match data, a match context and the prefilter's candidate sets, made once
 * instead of per User-Agent.  Not to be shared between threads.  NULL on
 * OOM. */
typedef struct ni_devdet_matcher ni_devdet_matcher;
ni_devdet_matcher *ni_devdet_matcher_new(const ni_devdet *d, ni_error *err);
void ni_devdet_matcher_free(ni_devdet_matcher *mt);

/* ni_devdet_parse_ex with mt's scratch (a matcher made for another
 * database, or NULL, falls back to a scratch of its own). */
bool ni_devdet_match(const ni_devdet *d, ni_devdet_matcher *mt, const char *ua, size_t len, const char *hint_model,
                     const char *hint_platform_version, bool prefilter, ni_devdet_result *out);

/* Brand and vendor patterns without a literal the prefilter can use. */
size_t ni_devdet_unfiltered(const ni_devdet *d);

/* The release of a device from device-info/device.js (brand and model as
 * ni_devdet_parse gives them, or a model code it lists as an alias): "2016"
 * or "2018-05", or NULL when unknown.  Owned by d. */
const char *ni_devdet_release(const ni_devdet *d, const char *brand, const char *model);

#endif
