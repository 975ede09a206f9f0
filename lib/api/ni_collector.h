/* ni_collector.h — the embedding API's flow collector
 * (lib/api/ni_collector.c).  Its declarations are public and live in
 * include/netintel/collect.h (included by netintel/netintel.h). */
#ifndef NI_COLLECTOR_H
#define NI_COLLECTOR_H

#include "netintel/netintel.h"

#endif
