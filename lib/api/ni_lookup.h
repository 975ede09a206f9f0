/* ni_lookup.h — the embedding API's look-ups as JSON and the data versions
 * (lib/api/ni_lookup.c).  Its declarations are public and live in
 * include/netintel/lookup.h (included by netintel/netintel.h). */
#ifndef NI_LOOKUP_H
#define NI_LOOKUP_H

#include "netintel/netintel.h"

#endif
