/* ni_world.h — the embedding API's synthetic worlds (lib/api/ni_world.c).
 * Its declarations are public and live in include/netintel/synth.h
 * (included by netintel/netintel.h). */
#ifndef NI_WORLD_H
#define NI_WORLD_H

#include "netintel/netintel.h"

#endif
