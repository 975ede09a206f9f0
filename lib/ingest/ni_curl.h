/* ni_curl.h — libcurl loaded when a ClickHouse connection is first made
 * (dlopen of libcurl.so.4), not linked: libcurl and the ~30 libraries it
 * needs (TLS, Kerberos, LDAP, SSH, IDN...) cost every run ~10 M instructions
 * and ~450 page faults at start, and only `clickhouse://` inputs and outputs
 * use it.  Each user holds its own table (ni_curl_open / ni_curl_close; the
 * dynamic loader counts the references): no global state.
 *
 * The functions are libcurl's own (https://curl.se/libcurl/c/), called
 * through the table: api->easy_setopt(h, CURLOPT_URL, url). */
#ifndef NI_CURL_H
#define NI_CURL_H

#include <curl/curl.h>
#include "netintel/netintel.h"

typedef struct ni_curl {
    void *dl;                                   /* the dlopen handle */
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *h);
    void (*easy_reset)(CURL *h);
    CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
    CURLcode (*easy_perform)(CURL *h);
    CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
    const char *(*easy_strerror)(CURLcode c);
    CURLcode (*easy_pause)(CURL *h, int bitmask);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_add_handle)(CURLM *m, CURL *h);
    CURLMcode (*multi_remove_handle)(CURLM *m, CURL *h);
    CURLMcode (*multi_perform)(CURLM *m, int *running);
    CURLMsg *(*multi_info_read)(CURLM *m, int *left);
    CURLMcode (*multi_wait)(CURLM *m, struct curl_waitfd *extra, unsigned n, int timeout_ms, int *ret);
    CURLMcode (*multi_cleanup)(CURLM *m);
} ni_curl;

/* Loads libcurl into *api (what = the name for the message, e.g. the URL).
 * NI_ERR_UNSUPPORTED "WHAT: libcurl not available: ..." when it cannot be
 * loaded or lacks a function. */
ni_err ni_curl_open(ni_curl *api, const char *what, ni_error *err);
/* Releases it (an api never opened, zeroed: nothing). */
void ni_curl_close(ni_curl *api);

#endif
