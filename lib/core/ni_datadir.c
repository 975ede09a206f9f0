/* ni_datadir.c — locating the data directory (see ni_datadir.h). */
#include "core/ni_datadir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

ni_err ni_data_dir(char *buf, size_t n)
{
    const char *env = getenv("NETINTEL_DATA");
    if (env && *env) {
        if ((size_t)snprintf(buf, n, "%s", env) >= n) return NI_ERR_LIMIT;
        return NI_OK;
    }
    char exe[4096];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (k > 0) {
        exe[k] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            if ((size_t)snprintf(buf, n, "%s/../data", exe) < n && is_dir(buf)) return NI_OK;
            /* installed: PREFIX/bin/netintel → PREFIX/share/netintel */
            if ((size_t)snprintf(buf, n, "%s/../share/netintel", exe) < n && is_dir(buf)) return NI_OK;
        }
    }
    if (is_dir("data") && (size_t)snprintf(buf, n, "data") < n) return NI_OK;
#ifdef NI_SOURCE_DATA
    if (is_dir(NI_SOURCE_DATA) && (size_t)snprintf(buf, n, "%s", NI_SOURCE_DATA) < n) return NI_OK;
#endif
    return NI_ERR_NOTFOUND;
}
