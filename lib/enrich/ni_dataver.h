/* ni_dataver.h — which versions of its data a netintel run would use (for
 * `netintel --version`): the data directory, the npm data packages' versions
 * (uap-core, @mdn/browser-compat-data, @ip-location-db) read from their
 * package.json, and the GeoIP database that would be opened with its
 * metadata build date.  Nothing is verified or loaded beyond that. */
#ifndef NI_DATAVER_H
#define NI_DATAVER_H

#include <stdint.h>
#include "netintel/netintel.h"

#define NI_DATAVER_STR 64

typedef struct ni_data_versions {
    char data_dir[1024];                /* "" when none was found */
    char uap_core[NI_DATAVER_STR];      /* "" when the package is missing */
    char browser_compat[NI_DATAVER_STR];
    char geoip_package[NI_DATAVER_STR];
    char asn_package[NI_DATAVER_STR];
    char geoip_path[1024];              /* "" when no database was found */
    char geoip_type[NI_DATAVER_STR];    /* metadata database_type */
    uint64_t geoip_build_epoch;         /* metadata build_epoch, 0 unknown */
} ni_data_versions;

/* Fills v.  data_dir NULL: ni_data_dir(); geoip_path NULL: the default
 * resolution (ni_geo_resolve_path).  Missing pieces are left empty; the
 * return is NI_OK unless memory ran out. */
ni_err ni_data_versions_get(const char *data_dir, const char *geoip_path,
                            ni_data_versions *v, ni_error *err);

#endif
