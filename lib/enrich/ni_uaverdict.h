/* ni_uaverdict.h — netintel's own verdicts on a User-Agent, on top of the
 * uap-core parse (ni_ua.h): the device maker normalised (Xiaomi for XiaoMi,
 * Redmi and POCO models, Honor for Honor-branded Huawei models...), the
 * model code, the form factor (mobile, tablet, desktop, console, tv, bot,
 * other), the kind of agent (browser, app, system, bot, tool, other), the
 * Windows version, and whether the UA is a *reduced* one (Chrome's User-Agent
 * Reduction: "Android 10; K", frozen "Windows NT 10.0" / "Mac OS X 10_15_7"
 * platforms and "Chrome/N.0.0.0" versions) that carries no model or real
 * version.  Client hints (Sec-CH-UA-Platform, -Platform-Version, -Model;
 * WICG User-Agent Client Hints) refine the answer when present.
 *
 * The facts are data, not code (loaded from the data directory):
 *   ua-makers.tsv   maker  ← conditions       (first matching row wins)
 *   ua-agents.tsv   field, value ← conditions (kind, form_factor, reduced)
 *   ua-windows.tsv  "Windows NT x.y" → Windows release name
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
 *   any        always true */
#ifndef NI_UAVERDICT_H
#define NI_UAVERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include "netintel/netintel.h"
#include "enrich/ni_ua.h"

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
    const char *windows_version;    /* "XP", "7", "10/11", "11"...; NULL when not a Windows host */
    bool reduced;                   /* a reduced UA: no model, no real OS/browser version */
    char model_buf[NI_UAV_MODEL_MAX]; /* storage for a model taken from a hint */
} ni_uav_verdict;

/* Loads ua-makers.tsv, ua-agents.tsv and ua-windows.tsv from data_dir.
 * NULL with err set when a file is missing or a row is malformed (file:line). */
ni_uav *ni_uav_load(const char *data_dir, ni_error *err);
void ni_uav_free(ni_uav *v);

/* Decides the verdict for ua[0..len) already parsed into r.  Strings in out
 * are owned by v, by r, or by out itself (model_buf): out is valid while v
 * lives and r is valid.  h may be NULL. */
void ni_uav_decide(const ni_uav *v, const char *ua, size_t len, const ni_ua_result *r,
                   const ni_uav_hints *h, ni_uav_verdict *out);

/* Parses with p, then decides: everything about one User-Agent.  out->ua is
 * valid until the next parse on p. */
void ni_uav_parse(const ni_uav *v, ni_ua *p, const char *ua, size_t len,
                  const ni_uav_hints *h, ni_uav_verdict *out);

#endif
