/* ni_kinds.c — name tables of the session's categories (see ni_kinds.h). */
#include "core/ni_kinds.h"

#include <string.h>

static const char *const evidence_names[NI_EVIDENCE__COUNT] = {
    [NI_EVIDENCE_SNI] = "sni", [NI_EVIDENCE_HTTP_HOST] = "http_host", [NI_EVIDENCE_DNS_NAME] = "dns_name",
    [NI_EVIDENCE_IP] = "ip", [NI_EVIDENCE_TUNNEL] = "tunnel", [NI_EVIDENCE_ENDPOINT] = "endpoint",
    [NI_EVIDENCE_SITE] = "site",
};

static const char *const tunnel_names[NI_TUN__COUNT] = {
    [NI_TUN_OPENVPN] = "OpenVPN", [NI_TUN_WIREGUARD] = "WireGuard", [NI_TUN_IPSEC] = "IPsec",
    [NI_TUN_L2TP] = "L2TP", [NI_TUN_PPTP] = "PPTP", [NI_TUN_GRE] = "GRE",
    [NI_TUN_SSTP] = "SSTP", [NI_TUN_ANYCONNECT] = "AnyConnect", [NI_TUN_TINC] = "tinc",
    [NI_TUN_SOFTETHER] = "SoftEther", [NI_TUN_TOR] = "Tor",
};

static const char *const ua_kind_names[NI_UA_KIND__COUNT] = {
    [NI_UA_KIND_BROWSER] = "browser", [NI_UA_KIND_APP] = "app", [NI_UA_KIND_SYSTEM] = "system",
    [NI_UA_KIND_BOT] = "bot", [NI_UA_KIND_TOOL] = "tool", [NI_UA_KIND_OTHER] = "other",
};

static const char *const proxy_names[NI_PROXY__COUNT] = {
    [NI_PROXY_SOCKS4] = "socks4", [NI_PROXY_SOCKS5] = "socks5", [NI_PROXY_HTTP_CONNECT] = "http-connect",
};

static const char *name_of(const char *const *t, int n, int v) { return v > 0 && v < n ? t[v] : NULL; }

static int parse(const char *const *t, int n, const char *s)
{
    if (!s) return 0;
    for (int i = 1; i < n; i++) if (t[i] && !strcmp(t[i], s)) return i;
    return 0;
}

const char *ni_evidence_name(ni_evidence e) { return name_of(evidence_names, NI_EVIDENCE__COUNT, (int)e); }
const char *ni_tunnel_proto_name(ni_tunnel_proto t) { return name_of(tunnel_names, NI_TUN__COUNT, (int)t); }
const char *ni_ua_kind_name(ni_ua_kind k) { return name_of(ua_kind_names, NI_UA_KIND__COUNT, (int)k); }
const char *ni_proxy_kind_name(ni_proxy_kind k) { return name_of(proxy_names, NI_PROXY__COUNT, (int)k); }

ni_evidence ni_evidence_parse(const char *s) { return (ni_evidence)parse(evidence_names, NI_EVIDENCE__COUNT, s); }
ni_tunnel_proto ni_tunnel_proto_parse(const char *s) { return (ni_tunnel_proto)parse(tunnel_names, NI_TUN__COUNT, s); }
ni_ua_kind ni_ua_kind_parse(const char *s) { return (ni_ua_kind)parse(ua_kind_names, NI_UA_KIND__COUNT, s); }
ni_proxy_kind ni_proxy_kind_parse(const char *s) { return (ni_proxy_kind)parse(proxy_names, NI_PROXY__COUNT, s); }
