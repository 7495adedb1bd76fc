/* ob_addr.c - which addresses are public: the SSRF guard of ob_opts
 * public_only (ob.c's open-socket callback asks, after name resolution),
 * kept apart because it is pure and unit-tested on its own.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>

#include "ob.h"

static int v4_public(uint32_t a)
{
    /* a in host order; the special-purpose ranges of RFC 6890 and friends */
    static const struct {
        uint32_t net, mask;
    } deny[] = {
        {0x00000000, 0xff000000}, /* 0/8 "this network" */
        {0x0a000000, 0xff000000}, /* 10/8 */
        {0x64400000, 0xffc00000}, /* 100.64/10 carrier-grade NAT */
        {0x7f000000, 0xff000000}, /* 127/8 loopback */
        {0xa9fe0000, 0xffff0000}, /* 169.254/16 link-local (cloud metadata) */
        {0xac100000, 0xfff00000}, /* 172.16/12 */
        {0xc0000000, 0xffffff00}, /* 192.0.0/24 protocol assignments */
        {0xc0a80000, 0xffff0000}, /* 192.168/16 */
        {0xc6120000, 0xfffe0000}, /* 198.18/15 benchmarking */
        {0xe0000000, 0xe0000000}, /* 224/3 multicast, reserved, broadcast */
    };
    for (size_t i = 0; i < sizeof(deny) / sizeof(deny[0]); i++)
        if ((a & deny[i].mask) == deny[i].net)
            return 0;
    return 1;
}

int ob_addr_public(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return v4_public(ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr));
    if (sa->sa_family != AF_INET6)
        return 0;
    const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    const uint8_t *b = a->s6_addr;
    if (IN6_IS_ADDR_V4MAPPED(a)) {
        uint32_t v4 = (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15];
        return v4_public(v4);
    }
    if (IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_V4COMPAT(a))
        return 0;
    if ((b[0] & 0xfe) == 0xfc || b[0] == 0xff) /* fc00::/7 unique local, ff00::/8 multicast */
        return 0;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) /* fe80::/10 link-local */
        return 0;
    return 1;
}
