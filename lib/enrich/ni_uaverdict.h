/* ni_uaverdict.h — netintel's own verdicts on a User-Agent, on top of the
 * uap-core parse (ni_ua.h): the device maker normalised (Xiaomi for XiaoMi,
 * Redmi and POCO models, Honor for Honor-branded Huawei models...), the
 * model code, the form factor (mobile, tablet, desktop, console, tv, bot,
 * other), the kind of agent (browser, app, system, bot, tool, other), the
 * OS family netintel reports (uap-core's, except HarmonyOS, consoles and
 * Linux distributions: ua-agents.tsv "os" rows), the Windows version, and
 * whether the UA is a *reduced* one (Chrome's User-Agent Reduction:
 * "Android 10; K", frozen "Windows NT 10.0" / "Mac OS X 10_15_7" platforms
 * and "Chrome/N.0.0.0" versions) that carries no model or real version.
 * Client hints (Sec-CH-UA-Platform, -Platform-Version, -Model; WICG
 * User-Agent Client Hints) refine the answer when present.
 *
 * The device: uap-core's device when it names a real one; where uap-core
 * gives a generic device (brand Generic*, none) the second database,
 * node-device-detector's (ni_devdet.h), decides brand, model and type, and
 * the verdict says which one did (device_source).  Makers are normalised by
 * ua-makers.tsv either way.
 *
 * Windows version ("XP", "Vista", "7", "8", "8.1", "10/11", "10", "11",
 * "undetermined"): from "Windows NT x.y" (ua-windows.tsv) on a Windows host
 * (not a console, not a phone); every NT version is real except the frozen
 * "Windows NT 10.0" of a reduced Chrome/Edge 107..109, which is
 * "undetermined" (it may be Windows 7 to 11), while Chrome/Edge >= 110 runs
 * only on Windows 10 or later: "10/11" (ua-agents.tsv "windows" rows).  The
 * Sec-CH-UA-Platform-Version hint gives "10", "11", "7", "8" or "8.1".
 *
 * The facts are data, not code (loaded from the data directory):
 *   ua-makers.tsv   maker  ← conditions       (first matching row wins)
 *   ua-agents.tsv   field, value ← conditions (kind, form_factor, reduced,
 *                   os, windows)
 *   ua-windows.tsv  "Windows NT x.y" → Windows release name
 *   ext/node_modules/node-device-detector/regexes  the second device database
 * Conditions are "term & term & ..." where a term is TYPE:TEXT, optionally
 * negated with a leading '!':
 *   prefix:T   the UA starts with T        has:T   the UA contains T
 *   ihas:T     ... ignoring ASCII case     browser:T / os:T / device:T
 *   brand:T    uap family/brand equals T (ignoring case)
 *   model:T    the uap model starts with T (ignoring case)
 *   maker:T    the normalised maker is T  kind:T   the kind decided so far
 *   hint:T     the Sec-CH-UA-Platform hint equals T
 *   re:R       the UA matches the PCRE2 regex R
 *   modelre:R  the uap model matches R
 *   ddtype:T   device-detector's device type equals T (it decided the device)
 *   source:T   the device verdict's source ("uap-core", "device-detector")
 *   any        always true
 * brand: and model: test device-detector's brand and model when it decided
 * the device. */
#ifndef NI_UAVERDICT_H
#define NI_UAVERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include "netintel/netintel.h"
#include "enrich/ni_ua.h"
#include "enrich/ni_devdet.h"

typedef struct ni_uav ni_uav;

/* Client hints as sent (quoted or not); any may be NULL. */
typedef struct ni_uav_hints {
    const char *platform;           /* Sec-CH-UA-Platform: "Windows" */
    const char *platform_version;   /* Sec-CH-UA-Platform-Version: "15.0.0" */
    const char *model;              /* Sec-CH-UA-Model: "Pixel 7" */
} ni_uav_hints;

#define NI_UAV_MODEL_MAX 64

typedef struct ni_uav_verdict {
    const ni_ua_result *ua;         /* the uap-core parse (owned by the ni_ua parser) */
    const char *maker;              /* NULL when unknown */
    const char *model;              /* model code; NULL when unknown or a placeholder */
    const char *form_factor;        /* mobile tablet desktop console tv bot other */
    const char *kind;               /* browser app system bot tool other */
    const char *windows_version;    /* "XP", "7", "10/11", "11", "undetermined"...; NULL when not a Windows host */
    bool reduced;                   /* a reduced UA: no model, no real OS/browser version */
    const char *device_source;      /* "uap-core", "device-detector"; NULL when no maker/model */
    const char *os;                 /* OS family reported: uap-core's or its replacement; NULL for "Other" */
    bool os_replaced;               /* os is not uap-core's family (its version does not apply) */
    const char *os_detail;          /* for Linux: the distribution and version ("Ubuntu 22.04") */
    char model_buf[NI_UAV_MODEL_MAX]; /* storage for a model taken from a hint */
    char os_detail_buf[NI_UAV_MODEL_MAX];
    char dd_model_buf[NI_UAV_MODEL_MAX + NI_DEVDET_FIELD_MAX]; /* "POCO F3": sub-brand and model */
    ni_devdet_result dd;            /* device-detector's answer when it was asked */
} ni_uav_verdict;

/* Loads ua-makers.tsv, ua-agents.tsv and ua-windows.tsv from data_dir and
 * node-device-detector's database from data_dir/ext/node_modules/.
 * NULL with err set when a file is missing or a row is malformed (file:line). */
ni_uav *ni_uav_load(const char *data_dir, ni_error *err);
void ni_uav_free(ni_uav *v);

/* Decides the verdict for ua[0..len) already parsed into r.  Strings in out
 * are owned by v, by r, or by out itself (model_buf): out is valid while v
 * lives and r is valid.  h may be NULL. */
void ni_uav_decide(const ni_uav *v, const char *ua, size_t len, const ni_ua_result *r,
                   const ni_uav_hints *h, ni_uav_verdict *out);

/* One thread's scratch for the verdicts of v (which must outlive it): the
 * match data of its regex conditions and the device database's matcher
 * (ni_devdet_matcher), made once instead of per User-Agent.  Not to be
 * shared between threads.  NULL on OOM. */
typedef struct ni_uav_scratch ni_uav_scratch;
ni_uav_scratch *ni_uav_scratch_new(const ni_uav *v, ni_error *err);
void ni_uav_scratch_free(ni_uav_scratch *s);

/* ni_uav_decide with s's scratch (NULL, or made for other verdicts: a
 * scratch per call, as ni_uav_decide).  The same verdicts. */
void ni_uav_decide_in(const ni_uav *v, ni_uav_scratch *s, const char *ua, size_t len, const ni_ua_result *r,
                      const ni_uav_hints *h, ni_uav_verdict *out);

/* The device-detector database loaded with v (for release years). */
const ni_devdet *ni_uav_devdet(const ni_uav *v);

/* Parses with p, then decides: everything about one User-Agent.  out->ua is
 * valid until the next parse on p. */
void ni_uav_parse(const ni_uav *v, ni_ua *p, const char *ua, size_t len,
                  const ni_uav_hints *h, ni_uav_verdict *out);
/* The same with s's scratch (ni_uav_decide_in): what a thread parsing many
 * User-Agents calls. */
void ni_uav_parse_in(const ni_uav *v, ni_uav_scratch *s, ni_ua *p, const char *ua, size_t len,
                     const ni_uav_hints *h, ni_uav_verdict *out);

#endif
