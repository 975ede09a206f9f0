/* ni_sslvpn.h — corporate SSL-VPN gateways (data/sslvpn.tsv): which product
 * (Fortinet SSL-VPN, Palo Alto GlobalProtect, Pulse Connect Secure, Cisco
 * AnyConnect, Citrix Gateway, SoftEther VPN, ...) a session's evidence names.
 * Evidence read: the paths of the session's HTTP requests (row type "path":
 * a prefix, optionally "METHOD /prefix"), nDPI's label (type "ndpi": either
 * part of "Master.App"), and the tunnel protocol the producers saw (type
 * "tunnel").  The table is small (tens of rows): paths are compared with
 * each row in file order, the first matching row wins.
 *
 * Ownership: the table owns every string it returns; they stay valid until
 * ni_sslvpn_free().  Lookups only read. */
#ifndef NI_SSLVPN_H
#define NI_SSLVPN_H

#include "netintel/netintel.h"

typedef struct ni_sslvpn ni_sslvpn;

/* Loads path (columns type, match, product, source).  NULL with err set
 * ("path:LINE: problem", NI_ERR_DATA; NI_ERR_NOMEM). */
ni_sslvpn *ni_sslvpn_load(const char *path, ni_error *err);
void ni_sslvpn_free(ni_sslvpn *t);

/* The product the session's evidence names, or NULL. */
const char *ni_sslvpn_match(const ni_sslvpn *t, const ni_session *s);

/* Rows loaded. */
size_t ni_sslvpn_rows(const ni_sslvpn *t);

#endif
