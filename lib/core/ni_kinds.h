/* ni_kinds.h — the name tables of the session's categories (ni_evidence,
 * ni_tunnel_proto, ni_ua_kind, ni_proxy_kind: include/netintel/netintel.h), one table
 * each, and their parsers, for the edges only: readers of stored sessions
 * and of data files turn text into these enums, writers turn them back.
 * Everything in between compares enums, so a misspelt category is an error
 * where it is read, never a silent miscount. */
#ifndef NI_KINDS_H
#define NI_KINDS_H

#include "netintel/netintel.h"

/* Text → value; _NONE for NULL, "" or an unknown name (names match exactly,
 * as written by the _name functions). */
ni_evidence ni_evidence_parse(const char *s);
ni_tunnel_proto ni_tunnel_proto_parse(const char *s);
ni_ua_kind ni_ua_kind_parse(const char *s);
ni_proxy_kind ni_proxy_kind_parse(const char *s);

#endif
