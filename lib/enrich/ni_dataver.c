/* ni_dataver.c — data versions for `netintel --version` (see ni_dataver.h). */
#include "enrich/ni_dataver.h"

#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "core/ni_datadir.h"
#include "enrich/ni_geo.h"

/* "version" of <dir>/ext/node_modules/<pkg>/package.json into out ("" if none). */
static void package_version(const char *dir, const char *pkg, char *out, size_t n)
{
    char path[1200];
    out[0] = 0;
    if ((size_t)snprintf(path, sizeof path, "%s/ext/node_modules/%s/package.json", dir, pkg) >= sizeof path)
        return;
    json_t *root = json_load_file(path, 0, NULL);
    const char *v = root ? json_string_value(json_object_get(root, "version")) : NULL;
    if (v) snprintf(out, n, "%s", v);
    json_decref(root);
}

ni_err ni_data_versions_get(const char *data_dir, const char *geoip_path,
                            ni_data_versions *v, ni_error *err)
{
    memset(v, 0, sizeof *v);
    if (data_dir) snprintf(v->data_dir, sizeof v->data_dir, "%s", data_dir);
    else if (ni_data_dir(v->data_dir, sizeof v->data_dir) != NI_OK) v->data_dir[0] = 0;
    char real[PATH_MAX];
    if (v->data_dir[0] && realpath(v->data_dir, real) && strlen(real) < sizeof v->data_dir)
        memcpy(v->data_dir, real, strlen(real) + 1);
    if (v->data_dir[0]) {
        package_version(v->data_dir, "uap-core", v->uap_core, sizeof v->uap_core);
        package_version(v->data_dir, "@mdn/browser-compat-data", v->browser_compat, sizeof v->browser_compat);
        package_version(v->data_dir, "@ip-location-db/geo-whois-asn-country-mmdb", v->geoip_package,
                        sizeof v->geoip_package);
        package_version(v->data_dir, "@ip-location-db/asn", v->asn_package, sizeof v->asn_package);
    }
    ni_error e = { 0 };
    if (ni_geo_resolve_path(geoip_path, v->data_dir[0] ? v->data_dir : NULL, v->geoip_path,
                            sizeof v->geoip_path, &e) != NI_OK) {
        v->geoip_path[0] = 0;
        return NI_OK;
    }
    ni_geo *g = ni_geo_open(v->geoip_path, NI_GEO_NO_VERIFY, &e);
    if (!g) {
        if (e.code == NI_ERR_NOMEM) return ni_error_set(err, NI_ERR_NOMEM, "out of memory");
        return NI_OK;
    }
    const char *type = ni_geo_database_type(g);
    snprintf(v->geoip_type, sizeof v->geoip_type, "%s", type ? type : "");
    v->geoip_build_epoch = ni_geo_build_epoch(g);
    ni_geo_free(g);
    return NI_OK;
}
