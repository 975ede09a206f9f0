/* ni_curl.c — libcurl loaded on first use (see ni_curl.h). */
#include "ingest/ni_curl.h"

#include <dlfcn.h>
#include <string.h>

ni_err ni_curl_open(ni_curl *api, const char *what, ni_error *err)
{
    memset(api, 0, sizeof *api);
    /* the soname of libcurl 7.16 and later (Debian: libcurl4), else the
     * development link */
    static const char *const names[] = { "libcurl.so.4", "libcurl.so" };
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !api->dl; i++)
        api->dl = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!api->dl) {
        const char *m = dlerror();
        return ni_error_set(err, NI_ERR_UNSUPPORTED, "%s: libcurl not available: %s", what, m ? m : "not found");
    }
    static const struct { const char *name; size_t off; } fns[] = {
#define F(field, sym) { sym, offsetof(ni_curl, field) }
        F(easy_init, "curl_easy_init"), F(easy_cleanup, "curl_easy_cleanup"), F(easy_reset, "curl_easy_reset"),
        F(easy_setopt, "curl_easy_setopt"), F(easy_perform, "curl_easy_perform"),
        F(easy_getinfo, "curl_easy_getinfo"), F(easy_strerror, "curl_easy_strerror"),
        F(easy_pause, "curl_easy_pause"), F(multi_init, "curl_multi_init"),
        F(multi_add_handle, "curl_multi_add_handle"), F(multi_remove_handle, "curl_multi_remove_handle"),
        F(multi_perform, "curl_multi_perform"), F(multi_info_read, "curl_multi_info_read"),
        F(multi_wait, "curl_multi_wait"), F(multi_cleanup, "curl_multi_cleanup"),
#undef F
    };
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        void *f = dlsym(api->dl, fns[i].name);
        if (!f) {
            ni_error_set(err, NI_ERR_UNSUPPORTED, "%s: libcurl not available: no %s", what, fns[i].name);
            ni_curl_close(api);
            return NI_ERR_UNSUPPORTED;
        }
        /* POSIX: a function pointer may be stored from dlsym's object pointer */
        memcpy((char *)api + fns[i].off, &f, sizeof f);
    }
    return NI_OK;
}

void ni_curl_close(ni_curl *api)
{
    if (api && api->dl) dlclose(api->dl);
    if (api) memset(api, 0, sizeof *api);
}
