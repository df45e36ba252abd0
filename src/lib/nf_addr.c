/* nf_addr.c - IP address and prefix parsing (inet_pton underneath). */
#include "nf_addr.h"
#include "nf_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

int nf_ip_parse(const char *s, struct nf_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (strchr(s, ':') != NULL) {
		if (inet_pton(AF_INET6, s, ip->v6) != 1)
			return -EINVAL;
		ip->family = 6;
		return 0;
	}
	if (inet_pton(AF_INET, s, &ip->v4) != 1)
		return -EINVAL;
	ip->v4 = ntohl(ip->v4);
	ip->family = 4;
	return 0;
}

int nf_prefix_parse(const char *s, bool lax, struct nf_prefix *pfx,
		    struct nf_ip *host)
{
	char buf[64], *slash;
	uint64_t len;
	struct nf_ip ip;
	unsigned max, i;
	bool hostbits = false;

	if (strlen(s) >= sizeof(buf)) {
		nf_set_error("'%s' is not a prefix", s);
		return -EINVAL;
	}
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash == NULL) {
		nf_set_error("'%s' is not a prefix (ADDRESS/LENGTH)", s);
		return -EINVAL;
	}
	*slash = '\0';
	if (nf_ip_parse(buf, &ip) < 0) {
		nf_set_error("'%s' is not an IPv4 or IPv6 address", buf);
		return -EINVAL;
	}
	max = ip.family == 4 ? 32 : 128;
	if (nf_parse_u64(slash + 1, 0, max, 0, &len) < 0) {
		nf_set_error("prefix length '%s' is not 0..%u", slash + 1, max);
		return -EINVAL;
	}
	if (host != NULL)
		*host = ip;
	pfx->len = (uint8_t)len;
	pfx->addr = ip;
	if (ip.family == 4) {
		hostbits = (ip.v4 & ~nf_mask4(pfx->len)) != 0;
		pfx->addr.v4 &= nf_mask4(pfx->len);
	} else {
		for (i = 0; i < 16; i++) {
			unsigned bits = pfx->len > i * 8 ? pfx->len - i * 8 : 0;
			uint8_t m = bits >= 8 ? 0xff : (uint8_t)(0xff00 >> bits);

			hostbits |= (ip.v6[i] & ~m) != 0;
			pfx->addr.v6[i] &= m;
		}
	}
	if (hostbits && !lax) {
		char b[64];

		nf_set_error("%s has host bits set (did you mean %s?)", s,
			     nf_prefix_str(pfx, b, sizeof(b)));
		return -EINVAL;
	}
	return 0;
}

char *nf_ip_str(const struct nf_ip *ip, char *buf, size_t n)
{
	if (ip->family == 4) {
		uint32_t a = htonl(ip->v4);

		inet_ntop(AF_INET, &a, buf, (socklen_t)n);
	} else if (ip->family == 6) {
		inet_ntop(AF_INET6, ip->v6, buf, (socklen_t)n);
	} else {
		nf_strlcpy(buf, "?", n);
	}
	return buf;
}

char *nf_prefix_str(const struct nf_prefix *p, char *buf, size_t n)
{
	size_t l;

	nf_ip_str(&p->addr, buf, n);
	l = strlen(buf);
	snprintf(buf + l, n - l, "/%u", p->len);
	return buf;
}

bool nf_ip_eq(const struct nf_ip *a, const struct nf_ip *b)
{
	if (a->family != b->family)
		return false;
	return a->family == 4 ? a->v4 == b->v4 : memcmp(a->v6, b->v6, 16) == 0;
}

bool nf_prefix_has(const struct nf_prefix *p, const struct nf_ip *ip)
{
	unsigned i;

	if (p->addr.family != ip->family)
		return false;
	if (ip->family == 4)
		return (ip->v4 & nf_mask4(p->len)) == p->addr.v4;
	for (i = 0; i < 16; i++) {
		unsigned bits = p->len > i * 8 ? p->len - i * 8 : 0;
		uint8_t m = bits >= 8 ? 0xff : (uint8_t)(0xff00 >> bits);

		if ((ip->v6[i] & m) != p->addr.v6[i])
			return false;
	}
	return true;
}
