/* ni_datadir.h — where netintel's data lives (catalogues, presets,
 * scenarios, and the installed npm data under ext/): $NETINTEL_DATA, else
 * ../data beside the executable (/proc/self/exe: build/netintel → data/),
 * else ../share/netintel beside it (an installed PREFIX/bin/netintel), else ./data, else the source tree's data/ compiled in (NI_SOURCE_DATA). */
#ifndef NI_DATADIR_H
#define NI_DATADIR_H

#include <stddef.h>
#include "netintel/netintel.h"

/* Writes the directory into buf; NI_ERR_NOTFOUND if none exists. */
ni_err ni_data_dir(char *buf, size_t n);

#endif
