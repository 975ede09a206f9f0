/* ni_output.h — the embedding API's outputs (lib/api/ni_output.c).  Its
 * declarations are public and live in include/netintel/output.h (included
 * by netintel/netintel.h). */
#ifndef NI_OUTPUT_H
#define NI_OUTPUT_H

#include "netintel/netintel.h"

#endif
